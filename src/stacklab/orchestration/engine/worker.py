"""One heat-engine process: an RPC server on the bus, the stack lock, its running actions.

heat-api calls the ``engine`` topic (any engine answers); each engine also listens on
``heat-engine-listener.<engine id>``, which is how another engine asks whether it is
alive (``listening``, within ``engine_life_check_timeout``) and tells it to stop an
action (``stop_stack``), as heat's ``EngineListener``.

This is upstream's LEGACY engine (``convergence_engine = false``): one engine runs a
whole action on a stack while holding its lock. An engine that dies mid-action leaves
the stack IN_PROGRESS with the lock held; when an engine starts it marks such stacks
FAILED ("Engine went down during stack CREATE") after stealing the locks of dead
engines (``reset_stack_status``), and any engine that must act on a stack steals a dead
engine's lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select

from stacklab.bus.interface import MessagingTimeout, Target
from stacklab.clock import isotime
from stacklab.config import DefaultOptions
from stacklab.orchestration import models as m
from stacklab.orchestration import template as tpl
from stacklab.orchestration.engine.clients import Clients
from stacklab.orchestration.engine.constraints import ConstraintChecker, LookupContext
from stacklab.orchestration.engine.nested import (
    check_resources,
    depth_of,
    plugin_for,
    resolved_type,
    template_file,
)
from stacklab.orchestration.engine.stack import (
    PluginContext,
    StackRun,
    StackSpec,
    abandon,
    mark_failed,
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
    SNAPSHOT,
    SUSPEND,
    UPDATE,
    EngineStore,
    ResourceState,
)
from stacklab.orchestration.errors import (
    ActionInProgress,
    HeatError,
    NotSupported,
    StackExists,
    StackNotFound,
)
from stacklab.orchestration.notifications import StackNotifier
from stacklab.orchestration.resources.plugins.nested import TemplateResource
from stacklab.orchestration.resources.properties import check_properties
from stacklab.orchestration.template.environment import HOOK_TYPES
from stacklab.orchestration.template.errors import RequestLimitExceeded

if TYPE_CHECKING:
    from stacklab.bus.interface import Bus
    from stacklab.bus.interface import Listener as BusListener
    from stacklab.clock import Clock
    from stacklab.ids import IdSource

LOG = logging.getLogger("stacklab.orchestration.engine")
ENGINE_TOPIC = "engine"
LISTENER_TOPIC = "heat-engine-listener"
# heat's [DEFAULT] max_snapshots_per_stack (an admin is not held to it).
MAX_SNAPSHOTS_PER_STACK = 32
# heat's [DEFAULT] engine_life_check_timeout (seconds).
ENGINE_LIFE_CHECK_TIMEOUT = 2.0
T = TypeVar("T")
_STACK_NAME = re.compile(r"^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$")


class Listener:
    """heat's EngineListener: answers liveness checks and stops an action it runs."""

    def __init__(self, worker: EngineWorker) -> None:
        self.worker = worker

    async def listening(self) -> bool:
        return True

    async def stop_stack(self, stack_id: str) -> None:
        await self.worker.stop_stack(stack_id)

    async def cancel_update(self, stack_id: str) -> None:
        await self.worker.cancel_own(stack_id)


class EngineWorker:
    def __init__(self, node: str, *, store: EngineStore, clients: Clients, bus: Bus,
                 clock: Clock, ids: IdSource, options: DefaultOptions | None = None) -> None:
        self.node = node
        # heat.conf's [DEFAULT] (enable_stack_abandon, enable_stack_adopt).
        self.options = options or DefaultOptions()
        self.store = store
        self.clients = clients
        self.bus = bus
        self.clock = clock
        self.ids = ids
        self.engine_id = ""
        self.alive = False
        self.tasks: dict[str, asyncio.Task[None]] = {}
        # The update each stack's running action is (what cancel_update reaches).
        self.runs: dict[str, StackRun] = {}
        self._listeners: list[BusListener] = []
        self._background: set[asyncio.Task[None]] = set()
        self.notifier = StackNotifier(bus, node)

    # -- life ----------------------------------------------------------------------------

    def start(self) -> None:
        """The process starts: a new engine id, its RPC servers, then the legacy reset of
        what dead engines left IN_PROGRESS."""
        self.engine_id = self.ids.uuid()
        self.alive = True
        self._listeners = [
            self.bus.listen(Target(ENGINE_TOPIC, server=self.node), self, host=self.node),
            self.bus.listen(Target(LISTENER_TOPIC, server=self.engine_id), Listener(self),
                            host=self.node)]
        self._spawn_background(self.reset_stack_status())

    def stop(self) -> None:
        """The process dies (its node lost power): its actions stop where they are, the
        stacks stay IN_PROGRESS and the locks stay held by this engine id."""
        self.alive = False
        for listener in self._listeners:
            listener.stop()
        self._listeners = []
        for task in list(self.tasks.values()):
            task.cancel()
        self.tasks.clear()

    def _alive_now(self) -> Callable[[], bool]:
        """Whether this process (this engine id) still runs."""
        engine_id = self.engine_id
        return lambda: self.alive and self.engine_id == engine_id

    def _spawn_background(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            work.close()  # no loop yet (a cloud built but not serving): nothing to reset
            return
        task = loop.create_task(work)
        # Held until done (the loop keeps only a weak reference to a task).
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def engine_alive(self, engine_id: str) -> bool:
        if engine_id == self.engine_id:
            return self.alive
        try:
            await self.bus.call(Target(LISTENER_TOPIC, server=engine_id), "listening",
                                timeout=ENGINE_LIFE_CHECK_TIMEOUT)
        except MessagingTimeout:
            return False
        return True

    async def reset_stack_status(self) -> None:
        try:
            await self._reset_stack_status()
        except Exception:
            # heat logs it and serves on: the next engine start tries again.
            LOG.exception("engine %s: reset of stacks left IN_PROGRESS failed", self.engine_id)

    async def _reset_stack_status(self) -> None:
        for stack_id in self.store.in_progress_stacks():
            holder = self.store.lock_holder(stack_id)
            if holder is not None and (holder == self.engine_id
                                       or await self.engine_alive(holder)):
                continue
            if holder is None:
                if self.store.try_lock(stack_id, self.engine_id) is not None:
                    continue
            elif not self.store.steal_lock(stack_id, holder, self.engine_id):
                continue
            row = self.store.stack(stack_id)
            if row is not None and row.status == IN_PROGRESS:
                LOG.info("Engine %s went down when stack %s was in action %s", holder,
                         stack_id, row.action)
                mark_failed(self.store, stack_id, f"Engine went down during stack {row.action}")
                await self.notify_state(stack_id, None)
            self.store.release_lock(stack_id, self.engine_id)

    # -- locks and tasks ----------------------------------------------------------------

    async def acquire(self, stack_id: str, stack_name: str, action: str) -> None:
        holder = self.store.try_lock(stack_id, self.engine_id)
        if holder is None:
            return
        if await self.engine_alive(holder) or not self.store.steal_lock(
                stack_id, holder, self.engine_id):
            raise ActionInProgress(stack_name, action)
        LOG.info("Stale lock of stack %s held by dead engine %s stolen", stack_id, holder)

    def run(self, stack_id: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run an action holding the stack's lock (acquired already); released at its end
        unless this engine died meanwhile."""
        alive = self._alive_now()

        async def guarded() -> None:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                if not alive():
                    return
                LOG.exception("stack %s: action failed unexpectedly", stack_id)
                row = self.store.stack(stack_id)
                if row is not None and row.status == IN_PROGRESS:
                    mark_failed(self.store, stack_id, "Internal error")
                    await self.notify_state(stack_id, None)
            finally:
                if alive():
                    self.store.release_lock(stack_id, self.engine_id)
                    if self.tasks.get(stack_id) is asyncio.current_task():
                        self.tasks.pop(stack_id, None)

        self.tasks[stack_id] = asyncio.get_running_loop().create_task(guarded())

    async def stop_stack(self, stack_id: str) -> None:
        task = self.tasks.pop(stack_id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.store.release_lock(stack_id, self.engine_id)

    # -- what an action needs -------------------------------------------------------------

    def _row(self, stack_id: str) -> Any:
        row = self.store.stack(stack_id)
        if row is None or row.deleted_at is not None:
            raise StackNotFound(stack_id)
        return row

    def stack_run(self, row: Any, spec: StackSpec | None = None,
                  ctxt: Mapping[str, Any] | None = None) -> StackRun:
        trust_id = row.trust_id
        user_token = (ctxt or {}).get("auth_token")

        async def token() -> str:
            if trust_id:
                return await self.clients.trust_token(trust_id)
            if user_token:
                return str(user_token)
            raise HeatError("The stack has no credentials to act with", status=403,
                            kind="Forbidden")

        return StackRun(store=self.store, clients=self.clients, clock=self.clock, ids=self.ids,
                        stack_id=row.id, stack_name=row.name, project_id=row.project_id,
                        spec=spec or StackSpec(dict(row.template), dict(row.files or {}),
                                               dict(row.environment or {})),
                        token=token, timeout_mins=row.timeout_mins,
                        disable_rollback=row.disable_rollback, alive=self._alive_now(),
                        launcher=self, notify=lambda ident: self.notify_state(ident, ctxt))

    async def notify_state(self, stack_id: str, ctxt: Mapping[str, Any] | None) -> None:
        """heat's notification of the stack's state, from this engine."""
        await self.notifier.state(self.store.stack(stack_id), ctxt)

    def prepare(self, ctxt: Mapping[str, Any], stack_name: str, template: Any,
                params: Mapping[str, Any] | None, files: Mapping[str, Any] | None,
                environment: Mapping[str, Any] | None,
                environment_files: list[str] | None, *, stack_id: str | None = None,
                custom: tpl.CustomConstraintCheck | None = None,
                ) -> tuple[StackSpec, tpl.Template]:
        """heat's parse and validate of a new (or updated) stack: 400s with heat's words.
        ``custom`` answers custom constraints (see ``checked``)."""
        raw, files, env, tmpl = _parsed(template, params, files, environment,
                                        environment_files, self.options.max_template_size)
        values = tmpl.validate_parameters(custom=custom, stack_name=stack_name,
                                          stack_id=stack_id or "None",
                                          project_id=str(ctxt.get("project_id") or ""))
        resolver = tpl.StackResolver(values, files)
        tmpl.validate(resolver)
        check_resources(tmpl, env, resolver, files, custom,
                        project_id=str(ctxt.get("project_id") or ""),
                        max_depth=self.options.max_nested_stack_depth)
        # heat's _validate_template: every resource of the template counts, enabled or not.
        limit = self.options.max_resources_per_stack
        if limit != -1 and len(raw.get(tmpl.version.resources_section) or {}) > limit:
            raise RequestLimitExceeded("Maximum resources per stack exceeded.")
        return StackSpec(raw, files, env.as_dict()), tmpl

    async def checked(self, ctxt: Mapping[str, Any], check: Callable[[ConstraintChecker], T]
                      ) -> T:
        """``check(custom)`` (a synchronous validation) with heat's custom constraints
        answered: a first pass notes what the services must answer, they are asked with
        the caller's token, and the check runs again with their answers. A first pass
        that fails may have failed on something a service answer would have refused
        first (an earlier parameter), so it too is run again once the answers are in."""
        checker = ConstraintChecker()
        try:
            result = check(checker)
        except (tpl.TemplateError, HeatError):
            if not checker.pending:
                raise
        else:
            if not checker.pending:
                return result
        await checker.resolve(self.lookup_context(ctxt))
        return check(checker)

    def lookup_context(self, ctxt: Mapping[str, Any]) -> LookupContext:
        token = str(ctxt.get("auth_token") or "")

        async def call(service: str, method: str, path: str, **kwargs: Any) -> Any:
            return await self.clients.call(token, service, method, path, **kwargs)

        return LookupContext(call, str(ctxt.get("project_id") or ""))

    # -- RPC: stacks ---------------------------------------------------------------------

    async def create_stack(self, ctxt: Mapping[str, Any], stack_name: str, template: Any,
                           params: Mapping[str, Any] | None = None,
                           files: Mapping[str, Any] | None = None,
                           environment: Mapping[str, Any] | None = None,
                           environment_files: list[str] | None = None,
                           args: Mapping[str, Any] | None = None,
                           adopt_stack_data: Mapping[str, Any] | None = None
                           ) -> dict[str, str]:
        args = dict(args or {})
        if adopt_stack_data is not None:
            # heat's _parse_template_and_validate_stack: refused unless enabled; the adopt
            # data's parameters, those given overriding them.
            if not self.options.enable_stack_adopt:
                raise NotSupported("Stack Adopt")
            adopted_env = adopt_stack_data.get("environment")
            adopted = (adopted_env.get("parameters") if isinstance(adopted_env, Mapping)
                       else None)
            params = {**(adopted if isinstance(adopted, Mapping) else {}), **(params or {})}
        action = CREATE if adopt_stack_data is None else ADOPT
        _check_stack_name(stack_name)
        project_id = str(ctxt.get("project_id") or "")
        if self.store.stack_by_name(project_id, stack_name) is not None:
            raise StackExists(stack_name)
        self._check_stack_count(ctxt, project_id)
        stack_id = self.ids.uuid()
        spec, _ = await self.checked(ctxt, lambda custom: self.prepare(
            ctxt, stack_name, template, params, files, environment, environment_files,
            stack_id=stack_id, custom=custom))
        trust_id = await self.clients.create_trust(
            str(ctxt.get("auth_token")), str(ctxt.get("user_id")), project_id,
            list(ctxt.get("roles") or []))
        with self.store.session() as session:
            session.add(m.Stack(
                id=stack_id, name=stack_name, project_id=project_id,
                user_id=ctxt.get("user_id"), username=ctxt.get("username"), action=action,
                status=IN_PROGRESS, status_reason=f"Stack {action} started",
                template=spec.template, files=spec.files, environment=spec.environment,
                disable_rollback=bool(args.get("disable_rollback", True)),
                timeout_mins=_timeout(args.get("timeout_mins")), tags=_tags(args.get("tags")),
                trust_id=trust_id, outputs={}, created_at=self.store.clock.now()))
        await self.acquire(stack_id, stack_name, action)
        run = self.stack_run(self._row(stack_id), spec, ctxt)
        data = adopt_stack_data
        self.run(stack_id, run.create if data is None else lambda: run.adopt(data))
        return {"stack_name": stack_name, "stack_id": stack_id}

    async def preview_stack(self, ctxt: Mapping[str, Any], stack_name: str, template: Any,
                            params: Mapping[str, Any] | None = None,
                            files: Mapping[str, Any] | None = None,
                            environment: Mapping[str, Any] | None = None,
                            environment_files: list[str] | None = None,
                            args: Mapping[str, Any] | None = None) -> dict[str, Any]:
        # heat's _validate_new_stack, as for a create.
        _check_stack_name(stack_name)
        spec, tmpl = await self.checked(ctxt, lambda custom: self.prepare(
            ctxt, stack_name, template, params, files, environment, environment_files,
            custom=custom))
        values = tmpl.parameters(stack_name=stack_name, stack_id="None",
                                 project_id=str(ctxt.get("project_id") or ""))
        resolver = tpl.StackResolver(values, spec.files)
        graph = tmpl.dependencies(resolver)
        resources = []
        for name, defn in tmpl.enabled_resources(resolver).items():
            resources.append({
                "resource_name": name, "resource_type": defn.type,
                "resource_action": "INIT", "resource_status": "COMPLETE",
                "resource_status_reason": "", "physical_resource_id": "",
                "properties": defn.properties_value(resolver), "attributes": {},
                "metadata": {}, "description": defn.description,
                "required_by": sorted(graph.required_by(name)),
                "stack_name": stack_name, "updated_time": None,
                "resource_identity": {"stack_name": stack_name, "stack_id": "None",
                                      "tenant": ctxt.get("project_id"),
                                      "path": f"/resources/{name}"},
                "stack_identity": {"stack_name": stack_name, "stack_id": "None",
                                   "tenant": ctxt.get("project_id"), "path": ""}})
        return {"template": tmpl, "parameters": values.as_shown(), "resources": resources,
                "spec": spec}

    async def update_stack(self, ctxt: Mapping[str, Any], stack_id: str, template: Any,
                           params: Mapping[str, Any] | None = None,
                           files: Mapping[str, Any] | None = None,
                           environment: Mapping[str, Any] | None = None,
                           environment_files: list[str] | None = None,
                           args: Mapping[str, Any] | None = None,
                           existing: bool = False) -> dict[str, str]:
        args = dict(args or {})
        row = self._row(stack_id)
        if row.status == IN_PROGRESS:
            raise ActionInProgress(row.name, row.action)
        if row.action == SUSPEND:
            raise NotSupported("Updating a stack when it is suspended")
        if row.action == DELETE:
            raise NotSupported("Updating a stack when it is deleting")
        spec, old = await self._updated_spec(ctxt, row, template, params, files, environment,
                                             environment_files, args, existing)
        await self.acquire(stack_id, row.name, UPDATE)
        fields: dict[str, Any] = {}
        if "timeout_mins" in args:
            fields["timeout_mins"] = _timeout(args.get("timeout_mins"))
        if "disable_rollback" in args:
            fields["disable_rollback"] = bool(args["disable_rollback"])
        if "tags" in args:
            fields["tags"] = _tags(args.get("tags"))
        if fields:
            with self.store.session() as session:
                stored = session.get(m.Stack, stack_id)
                assert stored is not None
                for key, value in fields.items():
                    setattr(stored, key, value)
            row = self._row(stack_id)
        run = self.stack_run(row, old, ctxt)
        self.runs[stack_id] = run

        async def update() -> None:
            try:
                await run.update(spec)
            finally:
                if self.runs.get(stack_id) is run:
                    self.runs.pop(stack_id, None)

        self.run(stack_id, update)
        return {"stack_name": row.name, "stack_id": stack_id}

    async def _updated_spec(self, ctxt: Mapping[str, Any], row: Any, template: Any,
                            params: Mapping[str, Any] | None,
                            files: Mapping[str, Any] | None,
                            environment: Mapping[str, Any] | None,
                            environment_files: list[str] | None, args: Mapping[str, Any],
                            existing: bool) -> tuple[StackSpec, StackSpec]:
        """What an update (or its preview) would apply, checked as heat checks it, and
        what the stack is now. PATCH (``existing``) keeps what is not sent."""
        spec_env = dict(environment or {})
        stored_files = dict(row.files or {})
        if existing:
            # PATCH: what is not sent is kept (template, files, parameters, registry).
            old_env = tpl.Environment.from_dict(row.environment).as_dict()
            for name in args.get("clear_parameters") or []:
                old_env.get("parameters", {}).pop(name, None)
                old_env.get("parameter_defaults", {}).pop(name, None)
            spec_env = tpl.Environment.merge(old_env, spec_env).as_dict()
            template = template or row.template
            files = {**stored_files, **dict(files or {})}
        spec, _ = await self.checked(ctxt, lambda custom: self.prepare(
            ctxt, row.name, template, params, files, spec_env, environment_files,
            stack_id=row.id, custom=custom))
        old = StackSpec(dict(row.template), stored_files, dict(row.environment or {}))
        old_params = old.parsed().parameters(stack_name=row.name, stack_id=row.id,
                                             project_id=row.project_id)
        new_params = spec.parsed().parameters(stack_name=row.name, stack_id=row.id,
                                              project_id=row.project_id)
        old_params.check_immutable(new_params)
        return spec, old

    async def preview_update_stack(self, ctxt: Mapping[str, Any], stack_id: str,
                                   template: Any, params: Mapping[str, Any] | None = None,
                                   files: Mapping[str, Any] | None = None,
                                   environment: Mapping[str, Any] | None = None,
                                   environment_files: list[str] | None = None,
                                   args: Mapping[str, Any] | None = None,
                                   existing: bool = False,
                                   show_nested: bool = False) -> dict[str, list[Any]]:
        """heat's ``preview_update_stack``: what an update would do to each resource, by
        the same verdict the update reaches (``StackRun.update_plan``). Added, replaced
        and unchanged resources are shown as the new stack would hold them (not made
        yet: INIT), updated and deleted ones as they are. With ``show_nested``, the
        nested stack of each updated resource (a template resource's, a group's) is
        previewed with what the update would hand it, its resources shown alongside."""
        row = self._row(stack_id)
        spec, old = await self._updated_spec(ctxt, row, template, params, files, environment,
                                             environment_files, dict(args or {}), existing)
        run = self.stack_run(row, old, ctxt)
        run.launcher = None  # a preview starts nothing
        plan = await run.preview_update(spec)
        tmpl = spec.parsed()
        resolver = tpl.StackResolver(run.parameters(spec, tmpl), spec.files)
        graph = tmpl.dependencies(resolver)
        changes: dict[str, list[Any]] = {key: [] for key in plan}
        for kind, names in plan.items():
            for name in names:
                current = run.resources.get(name)
                if kind in ("updated", "deleted") and current is not None:
                    changes[kind].append(_preview_resource(
                        ctxt, row, name, current.type, current, current.description,
                        _stored_required_by(run.resources, name)))
                else:
                    defn = tmpl.resources[name]
                    changes[kind].append(_preview_resource(
                        ctxt, row, name, defn.type, None, defn.description,
                        sorted(graph.required_by(name))))
        if show_nested:
            for child_id, child in run.nested_updates.values():
                nested = await self.preview_update_stack(
                    ctxt, child_id, child.template, files=child.files,
                    environment=child.environment, show_nested=True)
                for kind, entries in nested.items():
                    changes[kind].extend(entries)
        return changes

    async def delete_stack(self, ctxt: Mapping[str, Any], stack_id: str) -> None:
        row = self._row(stack_id)
        holder = self.store.try_lock(stack_id, self.engine_id)
        if holder is not None:
            if await self.engine_alive(holder):
                # heat stops the other engine's action first (stop_stack), then deletes.
                await self.bus.call(Target(LISTENER_TOPIC, server=holder), "stop_stack",
                                    stack_id=stack_id, timeout=ENGINE_LIFE_CHECK_TIMEOUT * 30)
            await self.acquire(stack_id, row.name, DELETE)
        elif stack_id in self.tasks:
            task = self.tasks.pop(stack_id)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            self.store.try_lock(stack_id, self.engine_id)
        row = self._row(stack_id)
        run = self.stack_run(row, None, ctxt)

        async def delete() -> None:
            if await run.delete() and row.trust_id and not self._trust_shared(row):
                await self.clients.delete_trust(row.trust_id)

        self.run(stack_id, delete)

    def _check_stack_count(self, ctxt: Mapping[str, Any], project_id: str) -> None:
        """heat's ``_validate_new_stack``: a project (not an admin) has at most
        ``max_stacks_per_tenant`` live top-level stacks."""
        limit = self.options.max_stacks_per_tenant
        if ctxt.get("is_admin") or limit < 0:
            return
        with self.store.session() as session:
            count = session.scalar(select(func.count()).select_from(m.Stack).where(
                m.Stack.project_id == project_id, m.Stack.parent_id.is_(None),
                m.Stack.deleted_at.is_(None))) or 0
        if count >= limit:
            raise RequestLimitExceeded(f"You have reached the maximum stacks per tenant, "
                                       f"{limit}. Please delete some stacks.")

    def _trust_shared(self, row: Any) -> bool:
        """Whether another live stack acts with this stack's trust (nested stacks act with
        their parent's; the last one deleted deletes it)."""
        with self.store.session() as session:
            return session.scalar(select(m.Stack.id).where(
                m.Stack.trust_id == row.trust_id, m.Stack.id != row.id,
                m.Stack.deleted_at.is_(None))) is not None

    # -- nested stacks (heat's StackResource asks an engine as over RPC) ------------------

    async def create_nested(self, parent_id: str, resource: str, name: str,
                            template: dict[str, Any], files: dict[str, str],
                            environment: dict[str, Any], *, detached: bool = False,
                            adopt: Mapping[str, Any] | None = None) -> str:
        parent = self._row(parent_id)
        limit = self.options.max_nested_stack_depth
        if depth_of(self.store, parent_id, limit) + 1 > limit:
            raise RequestLimitExceeded(f"Recursion depth exceeds {limit}.")
        stack_id = self.ids.uuid()
        spec = StackSpec(template, files, environment)
        action = CREATE if adopt is None else ADOPT
        # The services' custom constraints were answered when the parent was checked;
        # the local ones are checked again.
        parsed = spec.parsed()
        parsed.validate_parameters(custom=ConstraintChecker(), stack_name=name,
                                   stack_id=stack_id, project_id=parent.project_id)
        self._check_tree_resources(None if detached else parent_id, template, parsed)
        with self.store.session() as session:
            session.add(m.Stack(
                id=stack_id, name=name, project_id=parent.project_id,
                user_id=parent.user_id, username=parent.username, action=action,
                status=IN_PROGRESS, status_reason=f"Stack {action} started",
                template=template, files=files, environment=environment,
                # heat disables a nested stack's rollback: its parent rolls it back.
                disable_rollback=True, timeout_mins=parent.timeout_mins,
                parent_id=None if detached else parent_id,
                owner_resource=None if detached else resource, trust_id=parent.trust_id,
                outputs={}, created_at=self.store.clock.now()))
        await self.acquire(stack_id, name, action)
        run = self.stack_run(self._row(stack_id), spec)
        self.run(stack_id, run.create if adopt is None else lambda: run.adopt(adopt))
        return stack_id

    async def update_nested(self, stack_id: str, template: dict[str, Any],
                            files: dict[str, str], environment: dict[str, Any]) -> None:
        row = self._row(stack_id)
        spec = StackSpec(template, files, environment)
        parsed = spec.parsed()
        parsed.validate_parameters(custom=ConstraintChecker(), stack_name=row.name,
                                   stack_id=stack_id, project_id=row.project_id)
        self._check_tree_resources(stack_id, template, parsed, replacing=stack_id)
        await self.acquire(stack_id, row.name, UPDATE)
        # IN_PROGRESS at once: the parent's poll must not see the last action's end.
        self.store.set_stack_state(stack_id, UPDATE, IN_PROGRESS, "Stack UPDATE started",
                                   event=False)
        run = self.stack_run(row, StackSpec(dict(row.template), dict(row.files or {}),
                                            dict(row.environment or {})))
        self.run(stack_id, lambda: run.update(spec))

    def _check_tree_resources(self, within: str | None, template: Mapping[str, Any],
                              parsed: tpl.Template, *, replacing: str | None = None) -> None:
        """heat's ``StackResource._validate_nested_resources``: the resources of a whole
        tree of nested stacks (``within``'s, from its root down) and the nested
        template's together are at most ``max_resources_per_stack``; an updated nested
        stack's own resources are counted once, as the template's."""
        limit = self.options.max_resources_per_stack
        if limit == -1:
            return
        total = len(template.get(parsed.version.resources_section) or {})
        if within is not None:
            with self.store.session() as session:
                root = session.get(m.Stack, within)
                while root is not None and root.parent_id is not None:
                    root = session.get(m.Stack, root.parent_id)
                tree: list[str] = []
                frontier = [] if root is None else [root.id]
                while frontier:
                    tree += frontier
                    frontier = list(session.scalars(select(m.Stack.id).where(
                        m.Stack.parent_id.in_(frontier), m.Stack.deleted_at.is_(None))))
                total += session.scalar(select(func.count()).select_from(m.Resource).where(
                    m.Resource.stack_id.in_(tree))) or 0
                if replacing is not None:
                    total -= session.scalar(select(func.count()).select_from(
                        m.Resource).where(m.Resource.stack_id == replacing)) or 0
        if total > limit:
            raise RequestLimitExceeded("Maximum resources per stack exceeded.")

    async def delete_nested(self, stack_id: str) -> None:
        row = self.store.stack(stack_id)
        if row is None or row.deleted_at is not None:
            return
        await self.delete_stack({}, stack_id)
        current = self.store.stack(stack_id)
        if current is not None and current.deleted_at is None:
            self.store.set_stack_state(stack_id, DELETE, IN_PROGRESS, "Stack DELETE started",
                                       event=False)

    async def abandon_stack(self, ctxt: Mapping[str, Any], stack_id: str) -> dict[str, Any]:
        """heat's ``abandon_stack`` (refused unless ``enable_stack_abandon``): the stack's
        data, its nested stacks' within, and the stacks gone, their resources left."""
        if not self.options.enable_stack_abandon:
            raise NotSupported("Stack Abandon")
        row = self._row(stack_id)
        await self.acquire(stack_id, row.name, "ABANDON")
        try:
            data = abandon(self.store, row)
        finally:
            self.store.release_lock(stack_id, self.engine_id)
        # heat's _delete_credentials: the trust goes, as at a delete.
        if row.trust_id and not self._trust_shared(row):
            await self.clients.delete_trust(row.trust_id)
        return data

    # -- RPC: snapshots (heat's legacy engine: one action under the stack's lock) ------

    def _snapshot_of(self, row: Any, snapshot_id: str, project_id: str) -> m.Snapshot:
        """heat's ``snapshot_get_by_stack``: unknown (or another project's) is NotFound,
        another stack's is SnapshotNotFound; both 404."""
        found = self.store.snapshot(snapshot_id)
        if found is None or found.project_id != project_id:
            raise HeatError(f"Snapshot with id {snapshot_id} not found", status=404,
                            kind="NotFound")
        if found.stack_id != row.id:
            raise HeatError(f"The Snapshot ({snapshot_id}) for Stack ({row.name}) could not "
                            "be found.", status=404, kind="SnapshotNotFound")
        return found

    async def stack_snapshot(self, ctxt: Mapping[str, Any], stack_id: str,
                             name: str | None) -> dict[str, Any]:
        row = self._row(stack_id)
        if row.status == IN_PROGRESS:
            raise ActionInProgress(row.name, row.action)
        if not ctxt.get("is_admin") and len(self.store.snapshots(stack_id)) >= (
                MAX_SNAPSHOTS_PER_STACK):
            raise HeatError("You have reached the maximum snapshots per stack, "
                            f"{MAX_SNAPSHOTS_PER_STACK}. Please delete some snapshots.",
                            status=400, kind="RequestLimitExceeded")
        await self.acquire(stack_id, row.name, SNAPSHOT)
        snapshot = self.store.add_snapshot(stack_id, str(ctxt.get("project_id") or
                                                         row.project_id), name)
        run = self.stack_run(row, None, ctxt)
        self.run(stack_id, lambda: run.snapshot(snapshot.id))
        return snapshot_body(snapshot)

    async def show_snapshot(self, ctxt: Mapping[str, Any], stack_id: str,
                            snapshot_id: str) -> dict[str, Any]:
        row = self._row(stack_id)
        return snapshot_body(self._snapshot_of(row, snapshot_id, row.project_id))

    async def list_snapshots(self, ctxt: Mapping[str, Any], stack_id: str
                             ) -> list[dict[str, Any]]:
        self._row(stack_id)
        return [snapshot_body(s) for s in self.store.snapshots(stack_id)]

    async def delete_snapshot(self, ctxt: Mapping[str, Any], stack_id: str,
                              snapshot_id: str) -> None:
        """Marked DELETE IN_PROGRESS, then what it made removed and the snapshot with it
        in the background (heat starts it in a thread, without the stack's lock)."""
        row = self._row(stack_id)
        snapshot = self._snapshot_of(row, snapshot_id, row.project_id)
        if snapshot.action == CREATE and snapshot.status == IN_PROGRESS:
            raise NotSupported("Deleting in-progress snapshot")
        self.store.set_snapshot(snapshot_id, action=DELETE, status=IN_PROGRESS,
                                status_reason="Snapshot delete started")
        run = self.stack_run(row, None, ctxt)

        async def remove() -> None:
            try:
                await run.delete_snapshot(snapshot.data)
            except Exception as error:
                LOG.info("snapshot %s of stack %s: delete failed: %s", snapshot_id,
                         stack_id, error)
                self.store.set_snapshot(snapshot_id, status=FAILED,
                                        status_reason=f"Snapshot delete failed: {error}")
                return
            self.store.drop_snapshot(snapshot_id)

        self._spawn_background(remove())

    async def stack_restore(self, ctxt: Mapping[str, Any], stack_id: str,
                            snapshot_id: str) -> None:
        row = self._row(stack_id)
        snapshot = self._snapshot_of(row, snapshot_id, row.project_id)
        if snapshot.status != COMPLETE:
            raise NotSupported("Restoring incomplete snapshot")
        if row.status == IN_PROGRESS:
            raise ActionInProgress(row.name, row.action)
        await self.acquire(stack_id, row.name, RESTORE)
        # IN_PROGRESS at once, as heat's start_with_lock waits for the action to start.
        self.store.set_stack_state(stack_id, RESTORE, IN_PROGRESS, "Stack RESTORE started",
                                   event=False)
        run = self.stack_run(row, None, ctxt)
        data = dict(snapshot.data or {})
        self.run(stack_id, lambda: run.restore(data))

    async def stack_action(self, ctxt: Mapping[str, Any], stack_id: str,
                           action: str) -> None:
        row = self._row(stack_id)
        if action == "cancel_update":
            await self.cancel_update(row)
            return
        kind = {"suspend": SUSPEND, "resume": RESUME, "check": CHECK}[action]
        if row.status == IN_PROGRESS:
            raise ActionInProgress(row.name, row.action)
        await self.acquire(stack_id, row.name, kind)
        run = self.stack_run(row, None, ctxt)
        self.run(stack_id, lambda: run.simple(kind))

    async def cancel_update(self, row: Any) -> None:
        if (row.action, row.status) != (UPDATE, IN_PROGRESS):
            raise NotSupported(f"Cancelling update when stack is {row.action}_{row.status}")
        holder = self.store.lock_holder(row.id)
        if holder == self.engine_id or holder is None:
            await self.cancel_own(row.id)
        elif await self.engine_alive(holder):
            await self.bus.call(Target(LISTENER_TOPIC, server=holder), "cancel_update",
                                stack_id=row.id, timeout=ENGINE_LIFE_CHECK_TIMEOUT)

    async def cancel_own(self, stack_id: str) -> None:
        run = self.runs.get(stack_id)
        if run is not None:
            run.cancel()

    async def validate_template(self, ctxt: Mapping[str, Any], template: Any,
                                params: Mapping[str, Any] | None = None,
                                files: Mapping[str, Any] | None = None,
                                environment: Mapping[str, Any] | None = None,
                                environment_files: list[str] | None = None,
                                show_nested: bool = False,
                                ignore_errors: str | None = None) -> dict[str, Any]:
        """heat's ``validate_template`` body (Description, Parameters, ParameterGroups,
        Environment)."""
        _, files, env, tmpl = _parsed(template, params, files, environment,
                                      environment_files, self.options.max_template_size)
        values = tmpl.parameters(stack_name="None", stack_id="None",
                                 project_id=str(ctxt.get("project_id") or ""))
        resolver = tpl.StackResolver(values, files)
        tmpl.validate(resolver, parameter_names=list(values))

        def check(custom: tpl.CustomConstraintCheck) -> None:
            for name, defn in tmpl.enabled_resources(resolver).items():
                rtype = resolved_type(env, defn.type, name)
                plugin = plugin_for(rtype)
                if plugin is None:
                    raise tpl.StackValidationFailed(
                        f"The Resource Type ({defn.type}) could not be found.")
                if plugin is TemplateResource:
                    # heat's validate_template of a template resource: its file is
                    # there and parses.
                    template_file(rtype, files)
                if getattr(plugin, "ANY_PROPERTIES", False):
                    continue
                if defn.update_policy is not None:
                    check_properties(plugin.UPDATE_POLICY,
                                     defn.update_policy_value(resolver) or {}, custom=custom,
                                     path=[tmpl.version.resources_section, name,
                                           "update_policy"])
                try:
                    check_properties(plugin.PROPERTIES, defn.properties_value(resolver),
                                     custom=custom,
                                     path=[tmpl.version.resources_section, name,
                                           "properties"])
                except tpl.StackValidationFailed as error:
                    if isinstance(error.__cause__, tpl.UserParameterMissing):
                        continue  # a parameter without a value: its check waits
                    raise
                except tpl.TemplateError:
                    continue  # a parameter without a value: its check waits for the stack

        await self.checked(ctxt, check)
        parameters = {}
        for name, schema in tmpl.parameters_schema.items():
            value = env.parameters.get(name)
            parameters[name] = schema.describe(value, env.parameter_defaults.get(name))
        body: dict[str, Any] = {"Description": tmpl.description, "Parameters": parameters,
                                "Environment": env.as_dict()}
        if tmpl.parameter_groups:
            body["ParameterGroups"] = tmpl.parameter_groups
        return body

    # -- RPC: resources --------------------------------------------------------------

    async def resource_signal(self, ctxt: Mapping[str, Any], stack_id: str,
                              resource_name: str, details: Any) -> None:
        """A signal to a resource (heat's ``resource_signal``): refused during the type's
        ``NO_SIGNAL_ACTIONS`` (heat's default SUSPEND and DELETE: NotSupported) and by a type
        that takes no signals (ResourceActionNotSupported); a type that acts on it (a
        scaling policy's ``handle_signal``) gets it as an action on its stack
        (``signal_action``); else kept in its data (``signals``, in order), given to its
        plugin and told by a SIGNAL event. ``{"unset_hook": ...}`` clears a hook, to any
        type, once the action check has passed (heat's order: a post-delete hook, the
        resource DELETE_COMPLETE, cannot be cleared)."""
        row = self._row(stack_id)
        run = self.stack_run(row, None, ctxt)
        unset = isinstance(details, Mapping) and "unset_hook" in details
        refused: HeatError | None = None
        acts = False
        with self.store.session() as session:
            res = session.scalar(select(m.Resource).where(
                m.Resource.stack_id == stack_id, m.Resource.name == resource_name))
            if res is None:
                raise HeatError(f"The Resource ({resource_name}) could not be found.",
                                status=404, kind="EntityNotFound")
            plugin = run.plugin_of(ResourceState.of(res))
            if res.action in (plugin.NO_SIGNAL_ACTIONS if plugin else (SUSPEND, DELETE)):
                session.add(self._event(stack_id, ResourceState.of(res), res.action,
                                        res.status,
                                        f"Cannot signal resource during {res.action}"))
                refused = NotSupported(f"Signal resource during {res.action}")
            elif unset:
                pass
            elif plugin is None or not plugin.SIGNALS:
                refused = HeatError("signal is not supported for resource.", status=400,
                                    kind="ResourceActionNotSupported")
            elif hasattr(plugin, "handle_signal"):
                acts = True
            else:
                data = dict(res.data or {})
                signals = json.loads(data.get("signals", "[]"))
                signals.append(details)
                data["signals"] = json.dumps(signals)
                res.data = data
        if refused is not None:
            raise refused
        if unset:
            self.unset_hook(run, row, resource_name, details["unset_hook"])
            return
        if acts:
            await self.signal_action(run, row, resource_name, details)
            return
        assert plugin is not None
        state = self.store.resources(stack_id).get(resource_name)
        if state is None:
            return  # deleted meanwhile
        try:
            reason = await plugin().signal(PluginContext(run, state), state.physical_id,
                                           state.properties, details)
        except Exception as error:  # heat handles a signal in a thread and logs its failure
            LOG.info("signal %s of stack %s: %s", resource_name, stack_id, error)
            return
        with self.store.session() as session:
            session.add(self._event(stack_id, state, "SIGNAL", state.status,
                                    f"Signal: {reason}" if reason else _signal_details(details)))

    def unset_hook(self, run: StackRun, row: Any, resource_name: str, hook: Any) -> None:
        """heat's signal ``{"unset_hook": hook}``: the hook the resource is paused at is
        cleared (the paused action goes on) and told by an event; any resource takes it,
        whatever its type and action. A hook of no known type, or one not set on the
        resource, is heat's InvalidBreakPointHook (400)."""
        state = self.store.resources(row.id).get(resource_name)
        if state is None:
            raise HeatError(f"The Resource ({resource_name}) could not be found.",
                            status=404, kind="EntityNotFound")
        if not isinstance(hook, str) or hook not in HOOK_TYPES:
            raise HeatError(f'Invalid hook type "{hook}" for {_described(run, row, state)}',
                            kind="InvalidBreakPointHook")
        if not self.store.clear_hook(state.id, hook):
            raise HeatError(f'The "{hook}" hook is not defined on '
                            f"{_described(run, row, state)}", kind="InvalidBreakPointHook")
        self.store.add_event(row.id, state, state.action, state.status,
                             f"Hook {hook} is cleared")

    def _event(self, stack_id: str, res: ResourceState, action: str, status: str,
               reason: str) -> m.Event:
        return m.Event(id=self.ids.uuid(), stack_id=stack_id, resource_name=res.name,
                       physical_id=res.physical_id, resource_type=res.type, action=action,
                       status=status, reason=reason, properties=dict(res.properties),
                       created_at=self.store.clock.now())

    async def signal_action(self, run: StackRun, row: Any, resource_name: str,
                            details: Any) -> None:
        """A signal to a type that acts on it (a scaling policy) runs as an action on its
        stack, under the stack's lock; while the stack is busy with another action (or
        another signal's scaling) it is ignored, as heat ignores a signal its policy or
        group cannot act on yet (``NoActionRequired``: no event, no error)."""
        if row.status == IN_PROGRESS:
            return
        try:
            await self.acquire(row.id, row.name, "SIGNAL")
        except ActionInProgress:
            return
        self.run(row.id, lambda: run.signal(resource_name, details))

    async def mark_unhealthy(self, ctxt: Mapping[str, Any], stack_id: str,
                             resource_name: str, unhealthy: bool, reason: str) -> None:
        self._row(stack_id)
        with self.store.session() as session:
            res = session.scalar(select(m.Resource).where(
                m.Resource.stack_id == stack_id, m.Resource.name == resource_name))
            if res is None:
                raise HeatError(f"The Resource ({resource_name}) could not be found.",
                                status=404, kind="EntityNotFound")
            if unhealthy:
                res.action, res.status = CHECK, FAILED
                res.status_reason = reason or "state changed by resource_mark_unhealthy"
            elif (res.action, res.status) == (CHECK, FAILED):
                res.action, res.status = CHECK, COMPLETE
                res.status_reason = reason or "state changed by resource_mark_unhealthy"
            else:
                return
            session.add(m.Event(id=self.ids.uuid(), stack_id=stack_id,
                                resource_name=resource_name, physical_id=res.physical_id,
                                resource_type=res.type, action=res.action, status=res.status,
                                reason=res.status_reason, properties=dict(res.properties),
                                created_at=self.store.clock.now()))


def _parsed(template: Any, params: Mapping[str, Any] | None, files: Mapping[str, Any] | None,
            environment: Mapping[str, Any] | None, environment_files: list[str] | None,
            max_template_size: int
            ) -> tuple[dict[str, Any], dict[str, str], tpl.Environment, tpl.Template]:
    """heat's ``_parse_template_and_validate_stack`` up to the stack: the template, the
    files, the environment (``environment_files`` merged in, then ``params``) and the
    template parsed with it."""
    if not isinstance(template, (dict, str)) or not template:
        raise HeatError("No Template provided.", status=400, kind="HTTPBadRequest")
    texts = {str(k): str(v) for k, v in (files or {}).items()}
    raw = tpl.load_template(template, max_size=max_template_size)
    env_dict = tpl.merge_environment_files(
        environment_files, texts, tpl.Environment.from_dict(environment).as_dict(),
        tpl.parse(raw, files=texts).all_parameters_schema())
    env_dict.setdefault("parameters", {}).update(dict(params or {}))
    env = tpl.Environment.from_dict(env_dict)
    return raw, texts, env, tpl.parse(raw, files=texts, environment=env)


def _check_stack_name(stack_name: Any) -> None:
    if not isinstance(stack_name, str) or not _STACK_NAME.match(stack_name):
        raise HeatError(f'Invalid stack name {stack_name} must contain only alphanumeric '
                        'or "_-." characters, must start with alpha and must be 255 '
                        'characters or less.', status=400, kind="StackValidationFailed")


def snapshot_body(snapshot: m.Snapshot) -> dict[str, Any]:
    """heat's ``format_snapshot``."""
    return {"id": snapshot.id, "name": snapshot.name, "action": snapshot.action,
            "status": snapshot.status, "status_reason": snapshot.status_reason,
            "data": snapshot.data, "creation_time": isotime(snapshot.created_at)}


def _stored_required_by(resources: Mapping[str, ResourceState], name: str) -> list[str]:
    return sorted(n for n, r in resources.items() if name in r.requires)


def _preview_resource(ctxt: Mapping[str, Any], row: Any, name: str, rtype: str,
                      current: ResourceState | None, description: str,
                      required_by: list[str]) -> dict[str, Any]:
    """A resource as heat's ``format_stack_resource`` shows it in an update preview:
    ``current`` as the stack holds it, or (None) as a new stack's resource, INIT."""
    identity = {"stack_name": row.name, "stack_id": row.id,
                "tenant": row.project_id, "path": ""}
    created = None if current is None else current.created_at
    updated = None if current is None else (current.updated_at or current.created_at)
    return {
        "resource_name": name, "resource_type": rtype,
        "resource_action": INIT if current is None else current.action,
        "resource_status": COMPLETE if current is None else current.status,
        "resource_status_reason": "" if current is None else current.status_reason,
        "physical_resource_id": (current.physical_id if current else None) or "",
        "creation_time": None if created is None else isotime(created),
        "updated_time": None if updated is None else isotime(updated),
        "description": description,
        "metadata": {} if current is None else dict(current.metadata),
        "required_by": required_by,
        "resource_identity": {**identity, "path": f"/resources/{name}"},
        "stack_identity": identity, "stack_name": row.name}


def _described(run: StackRun, row: Any, res: ResourceState) -> str:
    """A resource as heat's messages name it (``str(resource)``): its class, name,
    physical id when it has one, and its stack."""
    plugin = run.plugin_of(res)
    kind = "Resource" if plugin is None else plugin.__name__
    physical = "" if res.physical_id is None else f" [{res.physical_id}]"
    return f'{kind} "{res.name}"{physical} Stack "{row.name}" [{row.id}]'


def _signal_details(details: Any) -> str:
    """heat's reason for a SIGNAL event when the type gave none."""
    if details is None:
        return "No signal details provided"
    if isinstance(details, str):
        return details
    if isinstance(details, dict) and all(k in details for k in ("previous", "current",
                                                                 "reason")):
        return ("alarm state changed from "
                f"{details['previous']} to {details['current']} ({details['reason']})")
    return "Unknown"


def _timeout(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HeatError(f"Invalid timeout value {value}", status=400,
                        kind="HTTPBadRequest") from None


def _tags(value: Any) -> list[str] | None:
    if value in (None, "", []):
        return None
    if isinstance(value, str):
        return [t for t in value.split(",") if t]
    return [str(t) for t in value]
