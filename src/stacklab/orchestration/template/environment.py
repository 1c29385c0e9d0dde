"""Environments: parameters, parameter_defaults, the resource registry, event sinks.

`Environment.merge(*envs)` merges several environments in order as heat's client does before
it sends one; `merge_environment_files` is the engine's merge of `environment_files` taken
from `files` (with `parameter_merge_strategies`); `Environment.resolve_type` finds what a
resource type means through the registry (aliases, template resources, per-resource
overrides, wildcards), in heat's order of precedence (heat/engine/environment.py).
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stacklab.orchestration.template.errors import (
    ConflictingMergeStrategyForParam,
    EntityNotFound,
    InvalidBreakPointHook,
    InvalidMergeStrategyForParam,
    StackValidationFailed,
)
from stacklab.orchestration.template.loading import load_environment
from stacklab.orchestration.template.parameters import JSON, LIST, NUMBER, STRING, ParameterSchema

SECTIONS = (
    PARAMETERS,
    RESOURCE_REGISTRY,
    PARAMETER_DEFAULTS,
    ENCRYPTED_PARAM_NAMES,
    EVENT_SINKS,
    PARAMETER_MERGE_STRATEGIES,
) = (
    "parameters",
    "resource_registry",
    "parameter_defaults",
    "encrypted_param_names",
    "event_sinks",
    "parameter_merge_strategies",
)

HOOK_TYPES = (
    "pre-create",
    "pre-update",
    "pre-delete",
    "post-create",
    "post-update",
    "post-delete",
)
RESTRICTED_ACTIONS = ("update", "replace")
TEMPLATE_SUFFIXES = (".yaml", ".template")


def _is_template(name: str) -> bool:
    return name.endswith(TEMPLATE_SUFFIXES)


def _check_hooks(value: Any) -> None:
    if isinstance(value, str):
        ok = value in HOOK_TYPES
    elif isinstance(value, Sequence):
        ok = all(hook in HOOK_TYPES for hook in value)
    else:
        ok = False
    if not ok:
        raise InvalidBreakPointHook(
            f'Invalid hook type "{value}" for resource breakpoint, '
            f"acceptable hook types are: {HOOK_TYPES}"
        )


def _check_restricted(value: Any) -> None:
    from stacklab.orchestration.template.errors import InvalidRestrictedAction

    if isinstance(value, str):
        ok = value in RESTRICTED_ACTIONS
    elif isinstance(value, Sequence):
        ok = all(action in RESTRICTED_ACTIONS for action in value)
    else:
        ok = False
    if not ok:
        raise InvalidRestrictedAction(
            f'Invalid restricted_action type "{value}" for resource, '
            f"acceptable restricted_action types are: {RESTRICTED_ACTIONS}"
        )


def _check_registry(registry: Mapping[str, Any]) -> None:
    for key, value in registry.items():
        if key == "hooks" and value is not None:
            _check_hooks(value)
        elif key == "restricted_actions" and value is not None:
            _check_restricted(value)
        elif isinstance(value, Mapping):
            _check_registry(value)


def deep_update(old: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Maps merged key by key, recursively; anything else replaced (heat's client)."""
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(old.get(key), Mapping):
            old[key] = deep_update(dict(old[key]), value)
        else:
            old[key] = copy.deepcopy(value)
    return old


@dataclass(frozen=True)
class ResourceType:
    """What a resource's type resolves to: a plugin type, or a template resource."""

    kind: str  # "plugin" or "template"
    type: str  # the final plugin type, or the template resource's type name
    template: str | None = None  # the template's URL or `files` name
    via: tuple[str, ...] = ()  # the registry hops taken (aliases, wildcards)


@dataclass
class Environment:
    parameters: dict[str, Any] = field(default_factory=dict)
    parameter_defaults: dict[str, Any] = field(default_factory=dict)
    resource_registry: dict[str, Any] = field(default_factory=dict)
    event_sinks: list[dict[str, Any]] = field(default_factory=list)
    encrypted_param_names: list[str] = field(default_factory=list)
    parameter_merge_strategies: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Environment:
        """An environment from its data; old flat `{name: value}` dicts are parameters."""
        data = dict(data or {})
        if PARAMETERS in data:
            params = dict(data[PARAMETERS] or {})
        else:
            params = {k: v for k, v in data.items() if k not in SECTIONS}
        registry = dict(data.get(RESOURCE_REGISTRY) or {})
        _check_registry(registry)
        return cls(
            parameters=params,
            parameter_defaults=dict(data.get(PARAMETER_DEFAULTS) or {}),
            resource_registry=registry,
            event_sinks=list(data.get(EVENT_SINKS) or []),
            encrypted_param_names=list(data.get(ENCRYPTED_PARAM_NAMES) or []),
            parameter_merge_strategies=dict(data.get(PARAMETER_MERGE_STRATEGIES) or {}),
        )

    @classmethod
    def from_text(cls, text: str | bytes | None) -> Environment:
        return cls.from_dict(load_environment(text))

    @classmethod
    def merge(cls, *envs: Environment | Mapping[str, Any]) -> Environment:
        """Environments merged in order, later ones winning key by key (maps deeply)."""
        merged: dict[str, Any] = {}
        for env in envs:
            data = env.as_dict() if isinstance(env, Environment) else dict(env)
            deep_update(merged, data)
        return cls.from_dict(merged)

    def as_dict(self) -> dict[str, Any]:
        """The environment as stored and shown (`stack environment show`)."""
        return {
            PARAMETERS: copy.deepcopy(self.parameters),
            # heat's ResourceRegistry always holds its per-resource level, empty or not.
            RESOURCE_REGISTRY: {"resources": {}, **copy.deepcopy(self.resource_registry)},
            PARAMETER_DEFAULTS: copy.deepcopy(self.parameter_defaults),
            ENCRYPTED_PARAM_NAMES: list(self.encrypted_param_names),
            EVENT_SINKS: copy.deepcopy(self.event_sinks),
        }

    def user_dict(self) -> dict[str, Any]:
        """heat's user_env_as_dict: what a nested stack inherits."""
        data = self.as_dict()
        del data[ENCRYPTED_PARAM_NAMES]
        return data

    def child(
        self, child_params: Mapping[str, Any] | None = None, resource_name: str | None = None
    ) -> Environment:
        """A nested stack's environment: the registry inherited, parameters its own.

        With `resource_name`, per-resource registry entries are narrowed to that nested
        resource's (heat's remove_resources_except).
        """
        data = self.user_dict()
        data[PARAMETERS] = {}
        flat = child_params is not None and not any(s in child_params for s in SECTIONS)
        if flat and child_params is not None:
            data[PARAMETERS] = dict(child_params)
        env = Environment.from_dict(data)
        if child_params is not None and not flat:
            env = Environment.merge(env, child_params)
        if resource_name:
            per_resource = env.resource_registry.get("resources") or {}
            narrowed: dict[str, Any] = {}
            for pattern, entry in per_resource.items():
                if fnmatch.fnmatchcase(resource_name, pattern) and isinstance(entry, Mapping):
                    narrowed.update(entry)
            if resource_name in per_resource and isinstance(per_resource[resource_name], Mapping):
                narrowed.update(per_resource[resource_name])
            env.resource_registry["resources"] = narrowed
        return env

    # ------------------------------------------------------------------ registry
    def _per_resource(self) -> Mapping[str, Any]:
        value = self.resource_registry.get("resources") or {}
        return value if isinstance(value, Mapping) else {}

    def _candidates(self, rtype: str, resource_name: str | None) -> list[tuple[str, Any]]:
        found: list[tuple[tuple[int, str], str, Any]] = []
        if resource_name:
            entry = self._per_resource().get(resource_name)
            if isinstance(entry, Mapping) and entry.get(rtype) is not None:
                found.append(((0, rtype), rtype, entry[rtype]))
        for key, value in self.resource_registry.items():
            if key == "resources" or value is None or isinstance(value, Mapping):
                continue
            if key == rtype or (
                key.endswith("*")
                and isinstance(value, str)
                and not _is_template(key)
                and not _is_template(value)
                and rtype != value
                and rtype.startswith(key[:-1])
            ):
                found.append(((1, key), key, value))
        # heat sorts user entries by path length then path: per-resource ones first, then
        # the top level in key order (so `OS::Net::*` comes before `OS::Net::Port`).
        found.sort(key=lambda item: item[0])
        return [(key, value) for _, key, value in found]

    def resolve_type(
        self,
        rtype: Any,
        resource_name: str | None = None,
        is_plugin: Callable[[str], bool] = lambda _: True,
        _hops: tuple[str, ...] = (),
    ) -> ResourceType:
        """What `rtype` means for the resource `resource_name`.

        `is_plugin(type)` says whether the engine has a plugin of that name (heat's global
        registry). An unknown type raises StackValidationFailed with heat's
        `The Resource Type (X) could not be found.`
        """
        if rtype == "":
            raise StackValidationFailed(f'Resource "{resource_name}" has no type')
        if rtype is None:
            raise StackValidationFailed(
                f'Non-empty resource type is required for resource "{resource_name}"'
            )
        if not isinstance(rtype, str):
            raise StackValidationFailed(f'Resource "{resource_name}" type is not a string')
        try:
            return self._lookup(rtype, resource_name, is_plugin, _hops)
        except EntityNotFound as exc:
            raise StackValidationFailed(exc.message) from exc

    def _lookup(
        self,
        rtype: str,
        resource_name: str | None,
        is_plugin: Callable[[str], bool],
        hops: tuple[str, ...],
    ) -> ResourceType:
        if rtype in hops or len(hops) > 20:
            raise EntityNotFound("Resource Type", rtype)
        hops = (*hops, rtype)
        if _is_template(rtype):
            return ResourceType("template", rtype, rtype, hops)
        for key, value in self._candidates(rtype, resource_name):
            if not isinstance(value, str):
                continue
            if _is_template(value):
                return ResourceType("template", rtype, value, hops)
            if key.endswith("*") and key != rtype:
                target = value[:-1] + rtype[len(key) - 1 :] if value.endswith("*") else value
            else:
                target = value
            try:
                return self._lookup(target, resource_name, is_plugin, hops)
            except EntityNotFound:
                continue
        if is_plugin(rtype):
            return ResourceType("plugin", rtype, None, hops)
        raise EntityNotFound("Resource Type", rtype)

    def template_resources(self) -> dict[str, str]:
        """Type name -> template URL or file name, for every template resource registered."""
        out = {}
        for key, value in self.resource_registry.items():
            if key == "resources":
                continue
            if _is_template(key):
                out[key] = key
            elif isinstance(value, str) and _is_template(value):
                out[key] = value
        for entry in self._per_resource().values():
            if isinstance(entry, Mapping):
                for key, value in entry.items():
                    if isinstance(value, str) and _is_template(value):
                        out[key] = value
        return out

    def hooks_for(self, resource_name: str) -> set[str]:
        """Breakpoint hooks set on a resource (names match with shell wildcards)."""
        hooks: set[str] = set()
        for pattern, entry in self._per_resource().items():
            if fnmatch.fnmatchcase(resource_name, pattern) and isinstance(entry, Mapping):
                value = entry.get("hooks")
                if isinstance(value, str):
                    hooks.add(value)
                elif isinstance(value, Sequence):
                    hooks.update(value)
        return hooks

    def restricted_actions(self, resource_name: str) -> set[str]:
        actions: set[str] = set()
        for pattern, entry in self._per_resource().items():
            if fnmatch.fnmatchcase(resource_name, pattern) and isinstance(entry, Mapping):
                value = entry.get("restricted_actions")
                if isinstance(value, str):
                    actions.add(value)
                elif isinstance(value, Sequence):
                    actions.update(value)
        return actions


# ---------------------------------------------------------------------- environment_files

MERGE_STRATEGIES = (OVERWRITE, MERGE, DEEP_MERGE) = ("overwrite", "merge", "deep_merge")


def _strategy(strategies: Mapping[str, Any] | None, key: str, known: Mapping[str, str]) -> str:
    if strategies is None:
        return OVERWRITE
    default = strategies.get("default", OVERWRITE)
    chosen = strategies.get(key, known.get(key, default))
    return str(chosen if chosen in MERGE_STRATEGIES else default)


def _merge_list(old: Any, new: Any) -> Any:
    if not old:
        return new
    if isinstance(new, list):
        old.extend(new)
        return old
    return ",".join([old, new])


def _merge_map(old: Any, new: Mapping[str, Any], deep: bool = False) -> Any:
    if not old:
        return new
    for key, value in new.items():
        if value is None:
            continue
        if not deep:
            old[key] = value
        elif isinstance(value, Mapping):
            old[key] = _merge_map(old.get(key), value, deep) if old.get(key) else value
        elif isinstance(value, Sequence) and not isinstance(value, str):
            old[key] = _merge_list(old.get(key), value) if old.get(key) else value
        elif isinstance(value, str):
            old[key] = "".join([old.get(key, ""), value])
        else:
            old[key] = value
    return old


def _parse_param(value: Any, schema: ParameterSchema) -> Any:
    try:
        if schema.type == JSON:
            text = value if isinstance(value, str) else json.dumps(value)
            if text:
                return json.loads(text)
        elif not isinstance(value, Sequence):
            # heat's own check: only strings and lists pass when merging
            raise ValueError()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Invalid parameter in environment {exc}.") from None
    return value


def _merge_parameters(
    old: dict[str, Any],
    new: Mapping[str, Any],
    schemas: Mapping[str, ParameterSchema],
    strategies: Mapping[str, Any] | None,
    known: dict[str, str],
    env_file: str,
) -> dict[str, Any]:
    for key, value in new.items():
        if key in schemas and value is not None:
            strategy = _strategy(strategies, key, known)
            if key not in known:
                known[key] = strategy
            elif strategy != known[key]:
                raise ConflictingMergeStrategyForParam(strategy, key, env_file)
    if not old:
        return dict(new)
    for key, value in new.items():
        if key not in schemas or value is None:
            continue
        strategy = known[key]
        if strategy == OVERWRITE:
            old[key] = value
            continue
        schema = schemas[key]
        parsed = _parse_param(value, schema)
        if schema.type == JSON:
            old[key] = _merge_map(old.get(key, {}), parsed, strategy == DEEP_MERGE)
        elif schema.type == LIST:
            old[key] = _merge_list(old.get(key), parsed)
        elif schema.type == STRING:
            old[key] = "".join([old.get(key, ""), parsed])
        elif schema.type == NUMBER:
            old[key] = old.get(key, 0) + parsed
        else:
            raise InvalidMergeStrategyForParam(MERGE, key)
    return old


def merge_environment_files(
    environment_files: Sequence[str] | None,
    files: Mapping[str, str],
    env: dict[str, Any],
    parameters_schema: Mapping[str, ParameterSchema],
) -> dict[str, Any]:
    """Merge the named environment files (their text in `files`) into `env`, in order.

    What heat's engine does when a client sends `environment_files`: each file parsed as
    an environment, parameters and parameter_defaults merged by each parameter's
    strategy (`parameter_merge_strategies`: overwrite, merge, deep_merge), other sections
    merged as maps. `env` is updated and returned.
    """
    for section in (PARAMETERS, RESOURCE_REGISTRY, PARAMETER_DEFAULTS):
        env.setdefault(section, {})
    env.setdefault(ENCRYPTED_PARAM_NAMES, [])
    env.setdefault(EVENT_SINKS, [])
    if not environment_files:
        return env
    known: dict[str, str] = {}
    for name in environment_files:
        if name not in files:
            raise StackValidationFailed(f"Environment file {name} not found in files")
        parsed = load_environment(files[name])
        strategies = parsed.pop(PARAMETER_MERGE_STRATEGIES, {})
        for section, value in parsed.items():
            if not value:
                continue
            if section in (PARAMETERS, PARAMETER_DEFAULTS):
                env[section] = _merge_parameters(
                    env[section], value, parameters_schema, strategies, known, name
                )
            else:
                env[section] = _merge_map(env[section], value)
    _check_registry(env.get(RESOURCE_REGISTRY) or {})
    return env
