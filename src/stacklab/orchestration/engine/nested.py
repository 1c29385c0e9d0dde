"""Nested stacks as heat's ``StackResource`` makes them: real stacks (their own id and
row, ``parent`` the resource's stack, ``owner_resource`` the resource's name), named
``<stack>-<resource>-<random>``, acting with the parent's trust, created, updated and
deleted by an engine as any stack (heat's legacy engine calls ``create_stack`` over RPC
with the nesting depth; here the engine that runs the parent's action starts them).

Also here: which plugin serves a type (a template file name is a template resource),
and the checks a stack's resources get before any action, template resources' nested
templates included (heat's ``validate_nested_stack``), down to heat's
``max_nested_stack_depth``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from stacklab.config import DefaultOptions
from stacklab.orchestration import template as tpl
from stacklab.orchestration.engine.store import FAILED, EngineStore
from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.base import ResourcePlugin
from stacklab.orchestration.resources.plugins.nested import StackResource, TemplateResource
from stacklab.orchestration.resources.properties import (
    BOOLEAN,
    LIST,
    MAP,
    NUMBER,
    STRING,
    CustomCheck,
    Property,
    check_properties,
)
from stacklab.orchestration.template.environment import TEMPLATE_SUFFIXES
from stacklab.orchestration.template.errors import RequestLimitExceeded, TemplateFormatError

if TYPE_CHECKING:
    from stacklab.orchestration.engine.stack import StackRun
    from stacklab.orchestration.engine.store import ResourceState

# heat's [DEFAULT] max_nested_stack_depth, unless the engine's options say otherwise.
DEFAULT_MAX_DEPTH = DefaultOptions.max_nested_stack_depth
# A template parameter's type -> the property a template resource takes for it (heat's
# Properties.schema_from_params).
_PROPERTY_TYPES = {"string": STRING, "number": NUMBER, "json": MAP,
                   "comma_delimited_list": LIST, "boolean": BOOLEAN}


def is_template(type_name: str) -> bool:
    return type_name.endswith(TEMPLATE_SUFFIXES)


def plugin_for(type_name: str) -> type[ResourcePlugin] | None:
    """The plugin of a resolved type: a registered type, or a template resource."""
    found = registry.get(type_name)
    if found is None and is_template(type_name):
        return TemplateResource
    return found


def is_plugin(type_name: str) -> bool:
    return registry.get(type_name) is not None


def resolved_type(env: tpl.Environment | None, rtype: Any, name: str) -> str:
    """What ``rtype`` names through the environment: a plugin type or a template name."""
    found = (env or tpl.Environment()).resolve_type(rtype, name, is_plugin)
    return found.template or found.type if found.kind == "template" else found.type


def depth_of(store: EngineStore, stack_id: str, limit: int = DEFAULT_MAX_DEPTH) -> int:
    """How deep a stack is nested (a top-level stack is 0). A stack an OS::Heat::Stack
    made counts one deeper than the stack of that resource, though it has no parent: else
    a template making itself through OS::Heat::Stack would never stop. The walk stops
    past ``limit`` (the deepest allowed)."""
    depth, row = 0, store.stack(stack_id)
    while row is not None and depth <= limit:
        above = row.parent_id or store.launcher_of(row.id)
        if above is None:
            break
        depth += 1
        row = store.stack(above)
    return depth


def missing_template(name: str) -> tpl.StackValidationFailed:
    """heat's answer for a template resource whose template is not among ``files`` (it
    would fetch a URL, and a bare file name has no scheme it may fetch)."""
    return tpl.StackValidationFailed(
        f'Could not fetch remote template "{name}": Invalid URL scheme {urlparse(name).scheme}')


def template_file(name: str, files: Mapping[str, str]) -> tpl.Template:
    """A template resource's template as heat's ``TemplateResource`` reads it before any
    action (its ``validation_exception``, raised by ``validate_template``): one not among
    ``files`` is ``missing_template``, one that does not parse is refused with the parser's
    words (``Error parsing template <name> ...``, ``Template format version not
    found.``)."""
    text = files.get(name)
    if text is None:
        raise missing_template(name)
    try:
        raw = tpl.load_template(text, url=name)
    except TemplateFormatError as error:
        raise tpl.StackValidationFailed(error.message) from None
    return tpl.parse(raw, files=dict(files))


def template_properties(child: tpl.Template, env: tpl.Environment) -> dict[str, Property]:
    """A template resource's properties: its template's parameters (a parameter without
    a default, nor one in ``parameter_defaults``, is required)."""
    return {name: Property(_PROPERTY_TYPES.get(p.type, STRING), p.description or "",
                           required=p.default is None and name not in env.parameter_defaults,
                           update_allowed=True)
            for name, p in child.parameters_schema.items()}


def child_parameters(properties: Mapping[str, Any]) -> dict[str, Any]:
    """A template resource's properties as its nested stack's parameters."""
    out: dict[str, Any] = {}
    for key, value in properties.items():
        if value is None:
            continue
        if isinstance(value, list) and all(not isinstance(v, (dict, list)) for v in value):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = value
    return out


def _deletion_policy(defn: tpl.ResourceDefinition, resolver: tpl.StackResolver) -> str:
    try:
        return defn.deletion_policy_value(resolver)
    except (tpl.TemplateError, ValueError, KeyError):
        return "Delete"  # a policy known only once resources exist is checked then


def check_resources(tmpl: tpl.Template, env: tpl.Environment, resolver: tpl.StackResolver,
                    files: Mapping[str, str], custom: CustomCheck | None, *,
                    depth: int = 0, project_id: str = "",
                    max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Every enabled resource's type found and properties checked (heat's
    ``Stack.validate``); a template resource's nested template is checked as its own
    stack, one level deeper, its errors prefixed with ``resources.<name><<template>>``."""
    section = tmpl.version.resources_section
    for name, defn in tmpl.enabled_resources(resolver).items():
        rtype = resolved_type(env, defn.type, name)
        plugin = plugin_for(rtype)
        if plugin is None:
            raise tpl.StackValidationFailed(
                f"The Resource Type ({defn.type}) could not be found.")
        if not plugin.SNAPSHOT_DELETE and _deletion_policy(defn, resolver) == "Snapshot":
            # heat's validate_deletion_policy: only a type with handle_snapshot_delete.
            key = "DeletionPolicy" if section == "Resources" else "deletion_policy"
            raise tpl.StackValidationFailed('"Snapshot" deletion policy not supported',
                                            path=[section, name, key])
        props = defn.properties_value(resolver)
        if defn.update_policy is not None and not getattr(plugin, "ANY_PROPERTIES", False):
            check_properties(plugin.UPDATE_POLICY, defn.update_policy_value(resolver) or {},
                             custom=custom, path=[section, name, "update_policy"])
        if plugin is TemplateResource:
            child = template_file(rtype, files)
            text = files[rtype]
            checked = check_properties(template_properties(child, env), props, custom=custom,
                                       path=[section, name, "properties"])
            check_nested(f"{name}<{rtype}>", text, child_parameters(checked), env, files,
                         custom, depth=depth, section=section, resource=name,
                         project_id=project_id, max_depth=max_depth)
            continue
        if getattr(plugin, "ANY_PROPERTIES", False):
            continue
        checked = check_properties(plugin.PROPERTIES, props, custom=custom,
                                   path=[section, name, "properties"])
        # A value only known once other resources exist (None here) is checked, with the
        # checks across properties, at the resource's create.
        instance = plugin()
        nested: Mapping[str, Any] | None = None
        with contextlib.suppress(TypeError, ValueError, KeyError, AttributeError):
            if not any(value is None for value in props.values()):
                instance.validate(checked)
            if isinstance(instance, StackResource):
                nested = instance.validation_template(checked)
        if nested is not None:
            check_nested(f"{name}<nested_stack>", dict(nested), {}, env, files, custom,
                         depth=depth, section=section, resource=name, project_id=project_id,
                         max_depth=max_depth)


def check_nested(label: str, template: Any, parameters: Mapping[str, Any],
                 env: tpl.Environment, files: Mapping[str, str], custom: CustomCheck | None,
                 *, depth: int, section: str, resource: str, project_id: str,
                 max_depth: int) -> None:
    try:
        if depth >= max_depth:
            raise RequestLimitExceeded(f"Recursion depth exceeds {max_depth}.")
        child_env = env.child(dict(parameters), resource_name=resource)
        child = tpl.parse(template, files=dict(files), environment=child_env)
        values = child.validate_parameters(custom=custom, stack_name=f"nested-{resource}",
                                           stack_id="None", project_id=project_id)
        resolver = tpl.StackResolver(values, files)
        child.validate(resolver)
        check_resources(child, child_env, resolver, files, custom, depth=depth + 1,
                        project_id=project_id, max_depth=max_depth)
    except tpl.StackValidationFailed as error:
        raise error.with_prefix([section, label]) from None
    except tpl.TemplateError as error:
        raise tpl.StackValidationFailed(error.message, path=[section, label],
                                        error=error.error_type) from None


class Launcher(Protocol):
    """What an engine offers to start nested stacks' actions (the worker)."""

    async def create_nested(self, parent_id: str, resource: str, name: str,
                            template: dict[str, Any], files: dict[str, str],
                            environment: dict[str, Any], *, detached: bool = False,
                            adopt: Mapping[str, Any] | None = None) -> str: ...

    async def update_nested(self, stack_id: str, template: dict[str, Any],
                            files: dict[str, str], environment: dict[str, Any]) -> None: ...

    async def delete_nested(self, stack_id: str) -> None: ...


class StackNested:
    """``resources.base.Nested`` for one resource of one run."""

    def __init__(self, run: StackRun, res: ResourceState,
                 physical_name: Callable[[], str]) -> None:
        self._run = run
        self._res = res
        self._physical_name = physical_name

    def _launcher(self) -> Launcher:
        if self._run.launcher is None:
            raise RuntimeError("nested stacks are acted on by an engine")
        return self._run.launcher

    def _env(self) -> tpl.Environment:
        return tpl.Environment.from_dict(self._run.target.environment)

    def template_name(self) -> str | None:
        try:
            found = resolved_type(self._env(), self._res.type, self._res.name)
        except tpl.TemplateError:
            return None
        return found if is_template(found) else None

    def template_text(self) -> str | None:
        name = self.template_name()
        return None if name is None else self._run.target.files.get(name)

    def _spec(self, template: Mapping[str, Any] | str, parameters: Mapping[str, Any]
              ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
        files = dict(self._run.target.files)
        raw = tpl.load_template(template if isinstance(template, str) else dict(template))
        env = self._env().child(dict(parameters), resource_name=self._res.name)
        return raw, files, env.as_dict()

    async def create(self, template: Mapping[str, Any] | str, parameters: Mapping[str, Any],
                     *, name: str | None = None, detached: bool = False,
                     adopt: Mapping[str, Any] | None = None) -> str:
        raw, files, env = self._spec(template, parameters)
        stack_name = name or self._physical_name()
        return await self._launcher().create_nested(self._run.stack_id, self._res.name,
                                                    stack_name, raw, files, env,
                                                    detached=detached, adopt=adopt)

    async def update(self, stack_id: str, template: Mapping[str, Any] | str,
                     parameters: Mapping[str, Any]) -> None:
        raw, files, env = self._spec(template, parameters)
        await self._launcher().update_nested(stack_id, raw, files, env)

    async def delete(self, stack_id: str) -> None:
        await self._launcher().delete_nested(stack_id)

    def state(self, stack_id: str) -> tuple[str, str, str] | None:
        row = self._run.store.stack(stack_id)
        if row is None or row.deleted_at is not None:
            return None
        return row.action, row.status, row.status_reason

    def outputs(self, stack_id: str) -> dict[str, Any]:
        row = self._run.store.stack(stack_id)
        if row is None:
            return {}
        return {key: entry.get("output_value") for key, entry in (row.outputs or {}).items()}

    def resources(self, stack_id: str) -> dict[str, tuple[str, str | None]]:
        return {name: (res.type, res.physical_id)
                for name, res in self._run.store.resources(stack_id).items()}

    def failed(self, stack_id: str) -> set[str]:
        return {name for name, res in self._run.store.resources(stack_id).items()
                if res.status == FAILED}

    def definitions(self, stack_id: str) -> dict[str, Any]:
        row = self._run.store.stack(stack_id)
        if row is None:
            return {}
        found = (row.template or {}).get("resources")
        return dict(found) if isinstance(found, Mapping) else {}

    async def attributes(self, stack_id: str, resource: str) -> Mapping[str, Any]:
        run = self._run.child_run(stack_id)
        if run is None:
            return {}
        await run.load_attributes([resource], run.spec.parsed())
        return dict(run.attribute_cache.get(resource) or {})
