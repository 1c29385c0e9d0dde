"""One action on one stack, as heat's legacy engine runs it.

The resources are walked over the template's dependency graph with one asyncio task per
resource, each started once everything it requires is done (heat's
``DependencyTaskGroup``); a failure stops new resources from starting while those already
running finish; the whole action runs under the stack's timeout (``timeout_mins``, else
``stack_action_timeout``). States, events and status reasons are heat's.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from stacklab.api.client import ServiceCallError
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.orchestration import template as tpl
from stacklab.orchestration.engine.clients import Clients
from stacklab.orchestration.engine.nested import (
    Launcher,
    StackNested,
    plugin_for,
    resolved_type,
)
from stacklab.orchestration.engine.store import (
    ADOPT,
    CHECK,
    COMPLETE,
    CREATE,
    DELETE,
    FAILED,
    IN_PROGRESS,
    INIT,
    RESTORE,
    RESUME,
    ROLLBACK,
    SNAPSHOT,
    SUSPEND,
    UPDATE,
    EngineStore,
    ResourceState,
)
from stacklab.orchestration.resources.base import (
    Nested,
    ResourceFailure,
    ResourcePlugin,
    UpdateReplace,
)
from stacklab.orchestration.resources.properties import check_properties

# heat's [DEFAULT] stack_action_timeout (seconds), used when the stack sets no timeout_mins.
STACK_ACTION_TIMEOUT = 3600.0
# How often a resource paused at a hook looks whether the hook was cleared (heat's
# scheduler steps a waiting task once a second).
HOOK_POLL_INTERVAL = 1.0

# How heat's client plugins name a service's HTTP error (neutronclient's and novaclient's
# exception classes), for the reason an event shows.
HTTP_ERRORS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                409: "Conflict", 413: "OverLimit", 500: "InternalServerError",
                503: "ServiceUnavailable"}


class ActionFailed(Exception):
    """heat's ``ResourceFailure``: ``<error type>: resources.<name>: <message>``."""

    def __init__(self, error: BaseException, resource: str, action: str) -> None:
        self.error_type = _error_type(error)
        self.message = _error_message(error)
        self.resource = resource
        self.action = action
        super().__init__(f"{self.error_type}: resources.{resource}: {self.message}")


def _error_type(error: BaseException) -> str:
    named = getattr(error, "error_type", None)
    if isinstance(named, str) and named:
        return named
    if isinstance(error, ServiceCallError):
        return HTTP_ERRORS.get(error.status, f"HTTP{error.status}")
    if isinstance(error, ResourceFailure):
        return "ResourceInError"
    return type(error).__name__


def _error_message(error: BaseException) -> str:
    if isinstance(error, ServiceCallError):
        return service_message(error.body) or str(error.status)
    if isinstance(error, tpl.StackValidationFailed):
        return error.error_message if not error.path else str(error)
    return str(error)


def service_message(body: Any) -> str:
    """The message inside another service's error body, whatever its format."""
    if isinstance(body, Mapping):
        for key in ("message", "explanation", "faultstring", "detail"):
            if isinstance(body.get(key), str):
                return str(body[key])
        for value in body.values():
            if isinstance(value, Mapping):
                found = service_message(value)
                if found:
                    return found
    return "" if body is None else str(body)


class StackTimeout(Exception):
    pass


@dataclass
class StackSpec:
    """What a stack is made from (what the store keeps, decoded)."""

    template: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)

    def parsed(self) -> tpl.Template:
        env = tpl.Environment.from_dict(self.environment)
        return tpl.parse(self.template, files=self.files, environment=env)


class SecretNotMade(Exception):
    """A resource's signal secret is not made yet (its create has not kept it)."""


class PluginContext:
    """``resources.base.Context`` for one resource of one run."""

    def __init__(self, run: StackRun, res: ResourceState) -> None:
        self._run = run
        self._res = res
        self.stack_id = run.stack_id
        self.stack_name = run.stack_name
        self.project_id = run.project_id
        self.resource_name = res.name
        self.data: MutableMapping[str, str] = res.data
        self.metadata: MutableMapping[str, Any] = res.metadata

    def physical_name(self) -> str:
        name = self.data.get("physical_resource_name")
        if name is None:
            # heat's physical_resource_name: stack and resource names, and a short id.
            suffix = self.random_string(12, "abcdefghijklmnopqrstuvwxyz0123456789")
            name = self.data["physical_resource_name"] = (
                f"{self.stack_name}-{self.resource_name}-{suffix}")
        return name

    def random_string(self, length: int, characters: str) -> str:
        ids = self._run.ids
        return "".join(characters[ids.randint(0, len(characters) - 1)] for _ in range(length))

    def now(self) -> float:
        return self._run.clock.now()

    def timeout_secs(self) -> float:
        return self._run.timeout

    def nested(self) -> Nested:
        return StackNested(self._run, self._res, self.physical_name)

    def update_policy(self) -> Mapping[str, Any]:
        spec = self._run.target
        tmpl = spec.parsed()
        defn = tmpl.resources.get(self.resource_name)
        if defn is None or defn.update_policy is None:
            return {}
        value = defn.update_policy_value(self._run.resolver(spec, tmpl))
        return dict(value) if isinstance(value, Mapping) else {}

    def signal_url(self) -> str:
        secret = self.data.get("signal_secret")
        if secret is None:
            if self._run.launcher is None:
                # A run that only reads (heat-api's resource show) keeps nothing: a secret
                # made here would sign a URL the engine's own secret then refuses.
                raise SecretNotMade(self.resource_name)
            secret = self.data["signal_secret"] = self.random_string(
                32, "abcdefghijklmnopqrstuvwxyz0123456789")
        return self._run.clients.signal_url(self.stack_id, self.resource_name, secret)

    def cfn_url(self) -> str:
        return self._run.clients.cfn_url()

    def keystone_url(self) -> str:
        return self._run.clients.keystone_url()

    async def create_stack_user(self, password: str) -> str:
        return await self._run.clients.create_stack_user(
            self.physical_name(), password, self.project_id)

    async def delete_stack_user(self, user_id: str) -> None:
        await self._run.clients.delete_stack_user(user_id)

    async def call(self, service: str, method: str, path: str, *, json: Any = None,
                   params: Mapping[str, Any] | None = None,
                   microversion: str | None = None) -> Any:
        token = await self._run.token()
        return await self._run.clients.call(token, service, method, path, json=json,
                                            params=params, microversion=microversion)


class StackRun:
    """One action (create, update, delete, ...) on one stack by one engine."""

    def __init__(self, *, store: EngineStore, clients: Clients, clock: Clock, ids: IdSource,
                 stack_id: str, stack_name: str, project_id: str, spec: StackSpec,
                 token: Callable[[], Awaitable[str]], timeout_mins: int | None,
                 disable_rollback: bool, alive: Callable[[], bool] = lambda: True,
                 launcher: Launcher | None = None,
                 notify: Callable[[str], Awaitable[None]] | None = None) -> None:
        self.store = store
        self.clients = clients
        self.clock = clock
        self.ids = ids
        self.stack_id = stack_id
        self.stack_name = stack_name
        self.project_id = project_id
        self.spec = spec
        self._token = token
        self.timeout = (timeout_mins * 60.0) if timeout_mins else STACK_ACTION_TIMEOUT
        self.disable_rollback = disable_rollback
        self.resources: dict[str, ResourceState] = store.resources(stack_id)
        self.attribute_cache: dict[str, Mapping[str, Any] | None] = {}
        self._cached_token: str | None = None
        # Whether the engine running this action still lives: a dead process writes
        # nothing more (its stack stays as it was, IN_PROGRESS).
        self.alive = alive
        self._inner: asyncio.Task[None] | None = None
        self._cancel_requested = False
        # The engine that starts nested stacks' actions (None: this run only reads).
        self.launcher = launcher
        # Sends heat's notification of the stack's state (None: a run that only reads).
        self.notify = notify
        # What an update applies while it runs (new resources' nested stacks are made
        # from its files and environment).
        self.applying: StackSpec | None = None
        # What an update preview found the nested stacks of updated resources would get:
        # resource name -> (nested stack id, its new spec).
        self.nested_updates: dict[str, tuple[str, StackSpec]] = {}
        # The stack's action this run performs (heat's ``stack.action``: pre-create and
        # pre-delete hooks only pause a stack's own CREATE and DELETE).
        self.stack_action: str | None = None
        # What an adopt takes over: resource name -> its entry of the adopt data.
        self.adopting: Mapping[str, Any] = {}

    @property
    def target(self) -> StackSpec:
        return self.applying or self.spec

    def child_run(self, stack_id: str) -> StackRun | None:
        """A run over a nested stack of this one (its attributes read back)."""
        row = self.store.stack(stack_id)
        if row is None or row.deleted_at is not None:
            return None
        return StackRun(store=self.store, clients=self.clients, clock=self.clock,
                        ids=self.ids, stack_id=row.id, stack_name=row.name,
                        project_id=row.project_id,
                        spec=StackSpec(dict(row.template), dict(row.files or {}),
                                       dict(row.environment or {})),
                        token=self.token, timeout_mins=row.timeout_mins,
                        disable_rollback=True, alive=self.alive, launcher=self.launcher)

    def plugin_of(self, res: ResourceState) -> type[ResourcePlugin] | None:
        """The plugin serving a resource, its type found through the environment."""
        try:
            return plugin_for(resolved_type(
                tpl.Environment.from_dict(self.spec.environment), res.type, res.name))
        except tpl.TemplateError:
            return plugin_for(res.type)

    def cancel(self) -> None:
        """heat's cancel_update: the update stops, fails, and rolls back when enabled."""
        self._cancel_requested = True
        if self._inner is not None:
            self._inner.cancel()

    async def token(self) -> str:
        if self._cached_token is None:
            self._cached_token = await self._token()
        return self._cached_token

    # -- resolution --------------------------------------------------------------------

    def parameters(self, spec: StackSpec, tmpl: tpl.Template) -> tpl.Parameters:
        return tmpl.parameters(stack_name=self.stack_name, stack_id=self.stack_id,
                               project_id=self.project_id)

    def resolver(self, spec: StackSpec, tmpl: tpl.Template) -> tpl.StackResolver:
        def ref(name: str) -> str | None:
            if not tmpl.has_resource(name):
                raise KeyError(name)
            res = self.resources.get(name)
            if res is None or res.action == INIT:
                return None
            # heat's get_reference_id: the physical id, else the resource's name.
            return res.physical_id if res.physical_id is not None else res.name

        def attr(name: str, attribute: str | None, *path: Any) -> Any:
            if not tmpl.has_resource(name):
                raise KeyError(name)
            return tpl.attribute_from(self.attribute_cache.get(name), attribute, *path)

        return tpl.StackResolver(self.parameters(spec, tmpl), spec.files, resource_ref=ref,
                                 resource_attr=attr)

    async def load_attributes(self, names: Iterable[str], tmpl: tpl.Template) -> None:
        """Read back the attributes of ``names`` (get_attr is answered from these)."""
        for name in set(names):
            res = self.resources.get(name)
            if res is None or res.action == INIT or (res.status == FAILED
                                                      and res.physical_id is None):
                self.attribute_cache[name] = None
                continue
            plugin = self.plugin_of(res)
            if plugin is None:
                self.attribute_cache[name] = None
                continue
            try:
                values = await plugin().attributes(PluginContext(self, res), res.physical_id,
                                                   res.properties)
            except (ServiceCallError, SecretNotMade):
                values = None
            self.attribute_cache[name] = None if values is None else dict(values)

    def _referenced(self, snippets: Iterable[Any]) -> set[str]:
        names: set[str] = set()
        for snippet in snippets:
            names.update(name for name, _ in tpl.attribute_references(snippet))
        return names

    async def outputs(self, spec: StackSpec) -> dict[str, Any]:
        """Every output resolved now: value, or the error in ``output_error``."""
        tmpl = spec.parsed()
        resolver = self.resolver(spec, tmpl)
        try:
            enabled = tmpl.enabled_outputs(resolver)
        except tpl.TemplateError as error:
            return {name: {"output_key": name, "output_value": None,
                           "description": o.description or "No description given",
                           "output_error": str(error)} for name, o in tmpl.outputs.items()}
        await self.load_attributes(self._referenced(o.value for o in enabled.values()), tmpl)
        out: dict[str, Any] = {}
        for name, output in enabled.items():
            entry: dict[str, Any] = {"output_key": name,
                                     "description": output.description or "No description given"}
            try:
                entry["output_value"] = tpl.resolve(output.value, resolver)
            except (tpl.TemplateError, KeyError, TypeError, ValueError) as error:
                entry["output_value"] = None
                entry["output_error"] = str(error)
            out[name] = entry
        return out

    # -- the walk over the graph ---------------------------------------------------------

    async def walk(self, graph: tpl.Dependencies[str],
                   step: Callable[[str], Coroutine[Any, Any, None]],
                   *, reverse: bool = False) -> None:
        """Run ``step`` for every node once those it waits for are done; the first failure
        is raised once the steps already running have finished."""
        nodes = list(graph.nodes())
        waits = {n: (graph.required_by(n) if reverse else graph.requires(n)) & set(nodes)
                 for n in nodes}
        done: set[str] = set()
        running: dict[asyncio.Task[None], str] = {}
        failure: BaseException | None = None
        try:
            while True:
                if failure is None:
                    for node in nodes:
                        if (node not in done and node not in running.values()
                                and waits[node] <= done):
                            running[asyncio.create_task(step(node))] = node
                if not running:
                    break
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    node = running.pop(task)
                    error = task.exception()
                    if error is not None:
                        failure = failure or error
                    else:
                        done.add(node)
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        if failure is not None:
            raise failure

    async def timed(self, work: Awaitable[None]) -> None:
        """``work`` within the stack's timeout, on the engine's clock."""
        task = asyncio.ensure_future(work)
        timer = asyncio.ensure_future(self.clock.sleep(self.timeout))
        try:
            await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise StackTimeout()
        task.result()

    # -- hooks (breakpoints) -----------------------------------------------------------

    async def break_if_required(self, res: ResourceState, action: str, hook: str) -> None:
        """heat's ``_break_if_required``: a resource whose name the environment gives
        ``hook`` pauses there until a signal ``{"unset_hook": hook}`` clears it. The mark
        is the resource's data (``<hook>: "True"``) in the store, where the engine that
        takes the signal clears it; a failure meanwhile (the stack's timeout, a cancel,
        a delete) clears it too."""
        env = tpl.Environment.from_dict(self.target.environment)
        if hook not in env.hooks_for(res.name):
            return
        res.data[hook] = "True"
        self.store.save_resource(self.stack_id, res)
        self.store.add_event(self.stack_id, res, res.action, res.status,
                             f"{action} paused until Hook {hook} is cleared")
        try:
            while self.store.hook_set(res.id, hook):
                await self.clock.sleep(HOOK_POLL_INTERVAL)
        except asyncio.CancelledError:
            if self.alive():
                self.store.clear_hook(res.id, hook)
                self.store.add_event(self.stack_id, res, res.action, res.status,
                                     "Failure occurred while waiting.")
            raise
        finally:
            res.data.pop(hook, None)

    # -- one resource ------------------------------------------------------------------

    def _state(self, res: ResourceState, action: str, status: str, reason: str,
               properties: dict[str, Any] | None = None) -> None:
        res.action, res.status, res.status_reason = action, status, reason
        res.updated_at = self.store.clock.now()
        self.store.save_resource(self.stack_id, res, event=True, properties=properties)

    def resolved_properties(self, tmpl: tpl.Template, resolver: tpl.StackResolver,
                            defn: tpl.ResourceDefinition,
                            plugin: type[ResourcePlugin]) -> dict[str, Any]:
        raw = defn.properties_value(resolver)
        if getattr(plugin, "ANY_PROPERTIES", False):
            return dict(raw)
        props = check_properties(plugin.PROPERTIES, raw,
                                 path=[tmpl.version.resources_section, defn.name,
                                       "properties"])
        plugin().validate(props)
        return props

    async def _poll(self, check: Callable[[], Awaitable[bool]], interval: float) -> None:
        while not await check():
            await self.clock.sleep(interval)

    async def create_resource(self, tmpl: tpl.Template, resolver: tpl.StackResolver,
                              name: str, action: str = CREATE) -> None:
        defn = tmpl.resources[name]
        rtype = self.resolve_type(tmpl, defn)
        plugin = plugin_for(rtype)
        prior = self.resources.get(name)
        # A resource stored but never made (left INIT at a hook) is made in its own row.
        res = ResourceState(id=prior.id if prior is not None and prior.action == INIT
                            else self.ids.uuid(), name=name, type=defn.type,
                            description=defn.description, created_at=self.store.clock.now(),
                            requires=sorted(defn.required_resource_names()))
        self.resources[name] = res
        # Only the stack's own CREATE: a resource an update makes (or replaces) passed
        # its hook as an update.
        hooked = self.stack_action == CREATE
        if hooked:
            await self.break_if_required(res, CREATE, "pre-create")
        try:
            if plugin is None:
                raise tpl.StackValidationFailed(
                    f"The Resource Type ({defn.type}) could not be found.")
            await self.load_attributes(self._referenced([defn.properties]), tmpl)
            props = self.resolved_properties(tmpl, resolver, defn, plugin)
            res.properties = props
            res.metadata = dict(defn.metadata_value(resolver) or {})
        except Exception as error:
            self._state(res, action, FAILED, str(ActionFailed(error, name, action)))
            raise ActionFailed(error, name, action) from error
        self._state(res, action, IN_PROGRESS, "state changed")
        instance = plugin()
        ctx = PluginContext(self, res)
        try:
            if action == ADOPT:
                given = self._adopted(res)
                res.physical_id = await instance.adopt(ctx, given, props)
                done = instance.adopt_complete
            else:
                res.physical_id = await instance.create(ctx, props)
                done = instance.create_complete
            self.store.save_resource(self.stack_id, res)
            await self._poll(lambda: done(ctx, res.physical_id, props), plugin.POLL_INTERVAL)
        except asyncio.CancelledError:
            if self.alive():
                self._state(res, action, FAILED, f"{action} aborted")
            raise
        except Exception as error:
            failed = ActionFailed(error, name, action)
            self._state(res, action, FAILED, str(failed))
            raise failed from error
        self._state(res, action, COMPLETE, "state changed")
        self.attribute_cache.pop(name, None)
        if hooked:
            await self.break_if_required(res, CREATE, "post-create")

    def _adopted(self, res: ResourceState) -> Mapping[str, Any]:
        """A resource's entry of the adopt data, its resource data and metadata kept
        (heat's ``handle_adopt``: ``data_set`` each, ``metadata_set``)."""
        given = self.adopting.get(res.name)
        if not isinstance(given, Mapping):
            return {}
        kept = given.get("resource_data")
        if isinstance(kept, Mapping):
            res.data.update({str(key): value for key, value in kept.items()})
        if isinstance(given.get("metadata"), Mapping):
            res.metadata = dict(given["metadata"])
        return given

    def resolve_type(self, tmpl: tpl.Template, defn: tpl.ResourceDefinition) -> str:
        return resolved_type(tmpl.environment, defn.type, defn.name)

    async def delete_resource(self, res: ResourceState, policy: str,
                              action: str = DELETE) -> None:
        """Remove one resource (heat's ``Resource.destroy``); ``Retain`` leaves it."""
        if res.action == INIT or (res.action in (CREATE, ROLLBACK) and res.physical_id is None
                                  and res.status == FAILED):
            # Never made: nothing to remove (heat deletes it quietly).
            self.store.drop_resource(res.id)
            self.resources.pop(res.name, None)
            return
        hooked = self.stack_action == DELETE
        if hooked:
            await self.break_if_required(res, DELETE, "pre-delete")
        self._state(res, DELETE, IN_PROGRESS, "state changed")
        plugin = self.plugin_of(res)
        if policy != "Retain" and plugin is not None:
            instance = plugin()
            ctx = PluginContext(self, res)
            try:
                if policy == "Snapshot" and plugin.SNAPSHOT_DELETE:
                    # heat's handle_snapshot_delete: no copy of a resource whose create
                    # or update failed.
                    await instance.delete_with_snapshot(
                        ctx, res.physical_id, res.properties,
                        failed=res.status == FAILED and res.action in (CREATE, UPDATE))
                else:
                    await instance.delete(ctx, res.physical_id, res.properties)
                await self._poll(lambda: instance.delete_complete(ctx, res.physical_id,
                                                                  res.properties),
                                 plugin.POLL_INTERVAL)
            except asyncio.CancelledError:
                if self.alive():
                    self._state(res, DELETE, FAILED, "DELETE aborted")
                raise
            except ServiceCallError as error:
                if error.status != 404:
                    failed = ActionFailed(error, res.name, DELETE)
                    self._state(res, DELETE, FAILED, str(failed))
                    raise failed from error
            except Exception as error:
                failed = ActionFailed(error, res.name, DELETE)
                self._state(res, DELETE, FAILED, str(failed))
                raise failed from error
        self._state(res, DELETE, COMPLETE, "state changed")
        if hooked:
            await self.break_if_required(res, DELETE, "post-delete")
        self.store.drop_resource(res.id)
        if self.resources.get(res.name) is res:
            self.resources.pop(res.name, None)

    def deletion_policy(self, tmpl: tpl.Template | None, name: str) -> str:
        if tmpl is None or name not in tmpl.resources:
            return "Delete"
        try:
            return tmpl.resources[name].deletion_policy_value(self.resolver(self.spec, tmpl))
        except (tpl.TemplateError, ValueError, KeyError):
            return "Delete"

    def stored_graph(self, tmpl: tpl.Template | None) -> tpl.Dependencies[str]:
        """The graph of what the stack holds: each resource with what it required."""
        graph: tpl.Dependencies[str] = tpl.Dependencies()
        for name, res in self.resources.items():
            graph.add(name)
            for dep in res.requires:
                if dep in self.resources:
                    graph.add(name, dep)
        return graph

    # -- actions -----------------------------------------------------------------------

    async def _stack_state(self, action: str, status: str, reason: str, **fields: Any) -> None:
        self.store.set_stack_state(self.stack_id, action, status, reason, **fields)
        if self.notify is not None:  # with its event, as heat's state_set sends it
            await self.notify(self.stack_id)

    async def create(self) -> None:
        """heat's ``Stack.create``: CREATE, then a rollback (delete) when it failed and
        rollback is enabled."""
        self.stack_action = CREATE
        await self._stack_state(CREATE, IN_PROGRESS, "Stack CREATE started")
        status, reason = await self._build(CREATE)
        outputs = await self.outputs(self.spec)
        await self._stack_state(CREATE, status, reason, outputs=outputs,
                          updated_at=None)
        if status == FAILED and not self.disable_rollback:
            await self.delete(ROLLBACK)

    async def adopt(self, data: Mapping[str, Any]) -> None:
        """heat's ``Stack.adopt``: each resource, in dependency order, takes what the
        adopt data names (``handle_adopt``) instead of being made; a failed adopt with
        rollback enabled is rolled back as an abandon (heat's ``delete(action=ROLLBACK,
        abandon=True)``: the stack's rows go, nothing they name is deleted)."""
        given = data.get("resources")
        self.adopting = dict(given) if isinstance(given, Mapping) else {}
        self.stack_action = ADOPT
        await self._stack_state(ADOPT, IN_PROGRESS, "Stack ADOPT started")
        status, reason = await self._build(ADOPT)
        outputs = await self.outputs(self.spec)
        await self._stack_state(ADOPT, status, reason, outputs=outputs, updated_at=None)
        if status == FAILED and not self.disable_rollback:
            await self._stack_state(ROLLBACK, IN_PROGRESS, "Stack ROLLBACK started")
            row = self.store.stack(self.stack_id)
            if row is not None:
                abandon_resources(self.store, row)
            self.resources = {}
            await self._stack_state(ROLLBACK, COMPLETE, "Stack ROLLBACK completed successfully")

    async def _build(self, action: str) -> tuple[str, str]:
        tmpl = self.spec.parsed()
        resolver = self.resolver(self.spec, tmpl)
        try:
            graph = tmpl.dependencies(resolver)

            async def step(name: str) -> None:
                await self.create_resource(tmpl, resolver, name, action)

            await self.timed(self.walk(graph, step))
        except StackTimeout:
            return FAILED, f"{action.title()} timed out"
        except (ActionFailed, tpl.TemplateError) as error:
            return FAILED, f"Resource {action} failed: {error}"
        return COMPLETE, f"Stack {action} completed successfully"

    async def delete(self, action: str = DELETE) -> bool:
        """heat's ``Stack.delete`` (also the rollback of a failed create); the stack's
        snapshots go first (heat's delete_all_snapshots)."""
        self.stack_action = action
        await self._stack_state(action, IN_PROGRESS, f"Stack {action} started")
        for snapshot in self.store.snapshots(self.stack_id):
            try:
                await self.delete_snapshot(snapshot.data)
            except Exception as error:
                # heat's reset_state_on_error: the action fails with the error's words.
                await self._stack_state(action, FAILED, _error_message(error))
                return False
            self.store.drop_snapshot(snapshot.id)
        try:
            tmpl: tpl.Template | None = self.spec.parsed()
        except tpl.TemplateError:
            tmpl = None
        graph = self.stored_graph(tmpl)

        async def step(name: str) -> None:
            res = self.resources.get(name)
            if res is not None:
                await self.delete_resource(res, self.deletion_policy(tmpl, name))

        try:
            await self.timed(self.walk(graph, step, reverse=True))
        except StackTimeout:
            await self._stack_state(action, FAILED, f"{action.title()} timed out")
            return False
        except (ActionFailed, tpl.TemplateError) as error:
            await self._stack_state(action, FAILED, f"Resource {DELETE} failed: {error}")
            return False
        fields: dict[str, Any] = {"outputs": {}}
        if action == DELETE:
            fields["deleted_at"] = self.store.clock.now()
        await self._stack_state(action, COMPLETE, f"Stack {action} completed successfully",
                          **fields)
        return True

    async def update(self, new: StackSpec, *, action: str = UPDATE,
                     cancelled: asyncio.Event | None = None) -> None:
        """heat's legacy ``Stack.update``: new resources made, changed ones updated in
        place or replaced, removed ones deleted; a failure rolls back to the previous
        template when rollback is enabled."""
        old = self.spec
        self.stack_action = action
        await self._stack_state(action, IN_PROGRESS, f"Stack {action} started",
                          updated_at=self.store.clock.now())
        status, reason = COMPLETE, f"Stack {action} completed successfully"
        self._inner = asyncio.ensure_future(self.timed(self._update(old, new, action)))
        self.applying = new
        try:
            await self._inner
        except StackTimeout:
            status, reason = FAILED, "Timed out"
        except asyncio.CancelledError:
            if not self._cancel_requested or action != UPDATE:
                raise
            status, reason = FAILED, "Stack UPDATE cancelled"
        except (ActionFailed, tpl.TemplateError) as error:
            status, reason = FAILED, str(error)
        finally:
            self.applying = None
        self.spec = new
        outputs = await self.outputs(new)
        fields: dict[str, Any] = {"outputs": outputs}
        if status == COMPLETE or action == ROLLBACK:
            fields.update(template=new.template, files=new.files,
                          environment=new.environment)
        await self._stack_state(action, status, reason, **fields)
        if status == FAILED and action == UPDATE and (
                not self.disable_rollback or self._cancel_requested):
            self._inner = None
            await self.update(old, action=ROLLBACK)

    async def _update(self, old: StackSpec, new: StackSpec, action: str) -> None:
        try:
            old_tmpl: tpl.Template | None = old.parsed()
        except tpl.TemplateError:
            old_tmpl = None
        tmpl = new.parsed()
        resolver = self.resolver(new, tmpl)
        graph = tmpl.dependencies(resolver)
        replaced: list[tuple[ResourceState, str]] = []

        async def step(name: str) -> None:
            defn = tmpl.resources[name]
            current = self.resources.get(name)
            if current is None or current.action == INIT:
                await self.create_resource(tmpl, resolver, name, CREATE)
                return
            plugin = plugin_for(self.resolve_type(tmpl, defn))
            if plugin is not None and current.type == defn.type:
                # heat's Resource.update pauses before it looks at what changed.
                await self.break_if_required(current, UPDATE, "pre-update")
            try:
                kind, props, changed = await self.update_plan(tmpl, resolver, name, current)
            except Exception as error:
                failed = ActionFailed(error, name, UPDATE)
                self._state(current, UPDATE, FAILED, str(failed))
                raise failed from error
            if kind != tpl.REPLACED:
                current.requires = sorted(defn.required_resource_names())
            if kind == tpl.UNCHANGED:
                self.store.save_resource(self.stack_id, current)
                return
            if kind == tpl.UPDATED:
                assert plugin is not None
                try:
                    await self._update_in_place(current, plugin, props, changed)
                except UpdateReplace:
                    pass
                else:
                    await self.break_if_required(current, UPDATE, "post-update")
                    return
            policy = self.deletion_policy(old_tmpl, name)
            replaced.append((current, policy))
            await self.create_resource(tmpl, resolver, name, CREATE)

        await self.walk(graph, step)
        # What the new template no longer has, then what was replaced, newest last.
        removed = {n: r for n, r in self.resources.items() if n not in graph}
        if removed:
            old_graph: tpl.Dependencies[str] = tpl.Dependencies()
            for name, res in removed.items():
                old_graph.add(name)
                for dep in res.requires:
                    if dep in removed:
                        old_graph.add(name, dep)

            async def remove(name: str) -> None:
                await self.delete_resource(removed[name], self.deletion_policy(old_tmpl, name))

            await self.walk(old_graph, remove, reverse=True)
        for res, policy in reversed(replaced):
            await self.delete_resource(res, policy)

    async def update_plan(self, tmpl: tpl.Template, resolver: tpl.StackResolver, name: str,
                          current: ResourceState,
                          ) -> tuple[str, dict[str, Any], frozenset[str]]:
        """What an update to ``tmpl`` does with the stack's resource ``name`` (kept by
        it): ``tpl.update_kind``'s verdict, the new properties and those that changed.
        Asked by the update itself and by its preview; a property that does not resolve
        raises."""
        defn = tmpl.resources[name]
        plugin = plugin_for(self.resolve_type(tmpl, defn))
        if (plugin is None or current.type != defn.type or current.status == FAILED
                or current.action == DELETE):
            return tpl.REPLACED, {}, frozenset()
        await self.load_attributes(self._referenced([defn.properties]), tmpl)
        props = self.resolved_properties(tmpl, resolver, defn, plugin)
        schema = plugin.PROPERTIES
        kind, changed = tpl.update_kind(
            current.properties, props, always_update=plugin.NESTED,
            update_allowed=lambda key: key not in schema or schema[key].update_allowed)
        return kind, props, changed

    async def preview_update(self, new: StackSpec) -> dict[str, list[str]]:
        """heat's update preview: the names an update to ``new`` would add, delete,
        replace, update in place and leave unchanged (nothing is changed)."""
        tmpl = new.parsed()
        resolver = self.resolver(new, tmpl)
        wanted = tmpl.enabled_resources(resolver)
        plan: dict[str, list[str]] = {"added": [], "deleted": [], "replaced": [],
                                      "updated": [], "unchanged": []}
        plan["deleted"] = [name for name in self.resources if name not in wanted]
        # In dependency order: what refers to a resource the update would make anew sees
        # it as not made yet (no id, no attributes), as the new stack heat previews does.
        made_anew: dict[str, ResourceState] = {}
        try:
            for name in tmpl.dependencies(resolver).create_order():
                if name not in wanted:
                    continue
                current = self.resources.get(name)
                if current is None or current.action == INIT:
                    plan["added"].append(name)
                    continue
                kind, props, _ = await self.update_plan(tmpl, resolver, name, current)
                plan[kind].append(name)
                if kind == tpl.REPLACED:
                    made_anew[name] = self.resources.pop(name)
                    self.attribute_cache[name] = None
                elif kind == tpl.UPDATED:
                    self._nested_update(new, tmpl, name, current, props)
        finally:
            self.resources.update(made_anew)
        return plan

    def _nested_update(self, new: StackSpec, tmpl: tpl.Template, name: str,
                       current: ResourceState, props: dict[str, Any]) -> None:
        """For a preview: what the update would hand the nested stack of ``name`` (a
        template resource's, a group's), kept in ``nested_updates``."""
        plugin: Any = plugin_for(self.resolve_type(tmpl, tmpl.resources[name]))
        if (plugin is None or not plugin.NESTED or getattr(plugin, "DETACHED", False)
                or current.physical_id is None or not hasattr(plugin, "child")):
            return
        self.applying = new
        try:
            ctx = PluginContext(self, current)
            template, parameters = plugin().child(ctx, props)
            raw, files, env = StackNested(self, current, ctx.physical_name)._spec(
                template, parameters)
        finally:
            self.applying = None
        self.nested_updates[name] = (current.physical_id, StackSpec(raw, files, env))

    async def _update_in_place(self, res: ResourceState, plugin: type[ResourcePlugin],
                               props: dict[str, Any], changed: frozenset[str]) -> None:
        instance = plugin()
        ctx = PluginContext(self, res)
        old = dict(res.properties)
        self._state(res, UPDATE, IN_PROGRESS, "state changed", properties=props)
        try:
            await instance.update(ctx, res.physical_id, old, props, changed)
            await self._poll(lambda: instance.update_complete(ctx, res.physical_id, props),
                             plugin.POLL_INTERVAL)
        except UpdateReplace:
            raise
        except asyncio.CancelledError:
            if self.alive():
                self._state(res, UPDATE, FAILED, "UPDATE aborted")
            raise
        except Exception as error:
            failed = ActionFailed(error, res.name, UPDATE)
            self._state(res, UPDATE, FAILED, str(failed))
            raise failed from error
        res.properties = props
        self._state(res, UPDATE, COMPLETE, "state changed")
        self.attribute_cache.pop(res.name, None)

    async def signal(self, name: str, details: Any) -> None:
        """heat's ``Resource.signal`` for a type that acts on signals (a scaling policy):
        its ``handle_signal`` may ask a group of this stack to scale (``adjust``, polled
        with ``update_complete``); once the group has scaled, the plugin's ``scaled``
        (a cooldown starts) and a SIGNAL event. Nothing asked, or nothing changed, is
        heat's ``NoActionRequired``: no event."""
        res = self.resources.get(name)
        plugin = None if res is None else self.plugin_of(res)
        if res is None or plugin is None:
            return
        instance: Any = plugin()
        ctx = PluginContext(self, res)
        try:
            request = await instance.handle_signal(ctx, res.physical_id, res.properties,
                                                   details)
            if request is None or not await self._adjust(res, request):
                return
            if hasattr(instance, "scaled"):
                await instance.scaled(ctx, res.physical_id, res.properties)
            self.store.save_resource(self.stack_id, res)
        except Exception as error:
            self.store.add_event(self.stack_id, res, "SIGNAL", FAILED,
                                 str(ActionFailed(error, name, "SIGNAL")))
            return
        self.store.add_event(self.stack_id, res, "SIGNAL", res.status, signal_reason(details))

    async def _adjust(self, policy: ResourceState, request: Mapping[str, Any]) -> bool:
        group = next((r for r in self.resources.values()
                      if r.physical_id == request["group"]), None)
        plugin = None if group is None else self.plugin_of(group)
        if group is None or plugin is None or not hasattr(plugin, "adjust"):
            raise ResourceFailure(f'Alarm {policy.name} could not find scaling group named '
                                  f'"{request["group"]}"')
        instance: Any = plugin()
        ctx = PluginContext(self, group)
        if group.status != COMPLETE or not await instance.adjust(
                ctx, group.physical_id, group.properties, request):
            return False
        self.store.save_resource(self.stack_id, group)
        await self.timed(self._poll(lambda: instance.update_complete(
            ctx, group.physical_id, group.properties), plugin.POLL_INTERVAL))
        self.store.save_resource(self.stack_id, group)
        self.attribute_cache.pop(group.name, None)
        outputs = await self.outputs(self.spec)
        self.store.set_stack_state(self.stack_id, *self._current_state(), event=False,
                                   outputs=outputs)
        return True

    def _current_state(self) -> tuple[str, str, str]:
        row = self.store.stack(self.stack_id)
        assert row is not None
        return row.action, row.status, row.status_reason

    async def simple(self, action: str) -> None:
        """SUSPEND, RESUME and CHECK: each resource passes through the action's states
        (suspend in reverse order); the lab's types have nothing more to do for them."""
        self.stack_action = action
        await self._stack_state(action, IN_PROGRESS, f"Stack {action} started")
        graph = self.stored_graph(None)

        async def step(name: str) -> None:
            res = self.resources[name]
            self._state(res, action, IN_PROGRESS, "state changed")
            self._state(res, action, COMPLETE, "state changed")

        try:
            await self.timed(self.walk(graph, step, reverse=action == SUSPEND))
        except StackTimeout:
            await self._stack_state(action, FAILED, f"{action.title()} timed out")
            return
        await self._stack_state(action, COMPLETE, f"Stack {action} completed successfully")


    # -- snapshots (heat's legacy Stack.snapshot, delete_snapshot, restore) -------------

    async def snapshot(self, snapshot_id: str) -> None:
        """Each resource through SNAPSHOT in dependency order (its plugin's ``snapshot``
        polled to its end); the snapshot's data (the stack as abandon shows it, with the
        resources' data) and status saved before the stack's state ends, as heat's
        ``save_snapshot_func``."""
        await self._stack_state(SNAPSHOT, IN_PROGRESS, "Stack SNAPSHOT started",
                          updated_at=self.store.clock.now())
        graph = self.stored_graph(None)

        async def step(name: str) -> None:
            res = self.resources[name]
            self._state(res, SNAPSHOT, IN_PROGRESS, "state changed")
            plugin = self.plugin_of(res)
            if plugin is not None:
                instance = plugin()
                ctx = PluginContext(self, res)
                try:
                    await instance.snapshot(ctx, res.physical_id, res.properties)
                    await self._poll(lambda: instance.snapshot_complete(
                        ctx, res.physical_id, res.properties), plugin.POLL_INTERVAL)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    failed = ActionFailed(error, name, SNAPSHOT)
                    self._state(res, SNAPSHOT, FAILED, str(failed))
                    raise failed from error
            self._state(res, SNAPSHOT, COMPLETE, "state changed")

        status, reason = COMPLETE, f"Stack {SNAPSHOT} completed successfully"
        try:
            await self.timed(self.walk(graph, step))
        except StackTimeout:
            status, reason = FAILED, f"{SNAPSHOT.title()} timed out"
        except (ActionFailed, tpl.TemplateError) as error:
            status, reason = FAILED, f"Resource {SNAPSHOT} failed: {error}"
        row = self.store.stack(self.stack_id)
        assert row is not None
        data = abandon_data(row, self.resources)
        data["status"] = status
        self.store.set_snapshot(snapshot_id, data=data, status=status, status_reason=reason)
        await self._stack_state(SNAPSHOT, status, reason)

    async def delete_snapshot(self, data: Mapping[str, Any] | None) -> None:
        """What a snapshot made (backups, images) removed, each by its type's plugin."""
        for name, saved in ((data or {}).get("resources") or {}).items():
            plugin = plugin_for(str(saved.get("type")))
            if plugin is None or not saved.get("resource_data"):
                continue
            res = ResourceState(id="", name=name, type=str(saved["type"]),
                                physical_id=saved.get("resource_id"),
                                data=dict(saved["resource_data"]))
            await plugin().delete_snapshot(PluginContext(self, res), res.data)

    async def restore_spec(self, data: Mapping[str, Any]) -> StackSpec:
        """heat's ``restore_data``: the snapshot's template, each resource whose type
        restores (``restore_properties``: a volume from its backup, a server from its
        image) given the properties that do it, resolved now."""
        template = copy.deepcopy(dict(data["template"]))
        spec = StackSpec(template, dict(data.get("files") or {}),
                         dict(data.get("environment") or {}))
        tmpl = spec.parsed()
        resolver = self.resolver(spec, tmpl)
        saved = data.get("resources") or {}
        section = template.get(tmpl.version.resources_section) or {}
        for name, defn in tmpl.enabled_resources(resolver).items():
            plugin = plugin_for(self.resolve_type(tmpl, defn))
            resource_data = (saved.get(name) or {}).get("resource_data")
            if plugin is None or not resource_data:
                continue
            await self.load_attributes(self._referenced([defn.properties]), tmpl)
            props = self.resolved_properties(tmpl, resolver, defn, plugin)
            restored = plugin().restore_properties(props, resource_data)
            if restored is not None and isinstance(section.get(name), dict):
                key = "Properties" if "Properties" in section[name] or (
                    tmpl.version.resources_section == "Resources") else "properties"
                section[name][key] = restored
        return StackSpec(template, spec.files, spec.environment)

    async def restore(self, data: Mapping[str, Any]) -> None:
        """heat's legacy ``Stack.restore``: an update (action RESTORE) to the snapshot's
        template as ``restore_spec`` makes it."""
        try:
            spec = await self.restore_spec(data)
        except Exception as error:
            await self._stack_state(RESTORE, FAILED, f"Resource {RESTORE} failed: {error}")
            return
        await self.update(spec, action=RESTORE)


def abandon(store: EngineStore, row: Any) -> dict[str, Any]:
    """heat's abandon of a stack: its ``prepare_abandon`` data, then the stack and its
    resources' rows gone with nothing they name deleted. A resource over a nested stack
    shows as the nested stack's own data (heat's ``StackResource.prepare_abandon``), and
    that stack is abandoned with it (heat's ``handle_delete`` with ``abandon_in_progress``
    abandons it over RPC)."""
    data = abandon_resources(store, row)
    store.set_stack_state(row.id, "ABANDON", COMPLETE, "Stack ABANDON completed successfully",
                          event=False, deleted_at=store.clock.now())
    return data


def abandon_resources(store: EngineStore, row: Any) -> dict[str, Any]:
    """``abandon`` but the stack's own row kept (its state is the caller's)."""
    resources = store.resources(row.id)
    data = abandon_data(row, resources)
    for name, res in resources.items():
        nested = store.stack(res.physical_id) if res.physical_id else None
        if nested is not None and nested.parent_id == row.id and nested.deleted_at is None:
            data["resources"][name] = abandon(store, nested)
        store.drop_resource(res.id)
    return data


def abandon_data(row: Any, resources: Mapping[str, ResourceState]) -> dict[str, Any]:
    """A stack as heat's ``prepare_abandon`` shows it (abandon's answer, a snapshot's
    data): its definition, state and each resource with its resource data."""
    return {
        "id": row.id, "name": row.name, "action": row.action, "status": row.status,
        "template": row.template, "files": row.files,
        "environment": tpl.Environment.from_dict(row.environment).user_dict(),
        "project_id": row.project_id, "stack_user_project_id": row.project_id,
        "tags": row.tags,
        "resources": {name: {"name": name, "type": r.type, "action": r.action,
                             "status": r.status, "resource_id": r.physical_id,
                             "metadata": r.metadata, "resource_data": r.data}
                      for name, r in resources.items()}}


ACTIONS = (CREATE, UPDATE, DELETE, ROLLBACK, SUSPEND, RESUME, CHECK, SNAPSHOT, RESTORE)


def signal_reason(details: Any) -> str:
    """How heat's SIGNAL event names what a signal carried."""
    if details is None:
        return "No signal details provided"
    if isinstance(details, str):
        return details
    if isinstance(details, Mapping):
        if all(k in details for k in ("previous", "current", "reason")):
            return (f"alarm state changed from {details['previous']} to "
                    f"{details['current']} ({details['reason']})")
        if "state" in details:
            return f"alarm state changed to {details['state']}"
    return "Unknown"


def mark_failed(store: EngineStore, stack_id: str, reason: str) -> None:
    """heat's legacy ``reset_stack_status``: the stack and its resources left IN_PROGRESS
    by an engine that went down are FAILED, with ``reason``."""
    row = store.stack(stack_id)
    if row is None or row.status != IN_PROGRESS:
        return
    for res in store.resources(stack_id).values():
        if res.status == IN_PROGRESS:
            res.status, res.status_reason = FAILED, reason
            store.save_resource(stack_id, res, event=True)
    if row.action == SNAPSHOT:
        # The snapshot being taken fails with its stack (else it stays IN_PROGRESS, which
        # neither a restore nor a delete of it accepts).
        for snapshot in store.snapshots(stack_id):
            if (snapshot.action, snapshot.status) == (CREATE, IN_PROGRESS):
                store.set_snapshot(snapshot.id, status=FAILED, status_reason=reason)
    store.set_stack_state(stack_id, row.action, FAILED, reason)

