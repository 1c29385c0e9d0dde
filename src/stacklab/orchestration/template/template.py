"""The template model: sections checked, resources and outputs parsed, conditions, graph.

`Template(data)` checks what heat checks when it loads a template (version, section names,
the shape and keys of resources and outputs, the type of each resource field) and parses
every snippet into function nodes; `validate()` adds heat's stack-validation pass over the
functions, references and cycles. Nothing here resolves a value until asked with a
Resolver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stacklab.orchestration.template import intrinsics as fn
from stacklab.orchestration.template.conditions import Conditions
from stacklab.orchestration.template.dependencies import Dependencies
from stacklab.orchestration.template.errors import (
    InvalidTemplateReference,
    InvalidTemplateSection,
    StackValidationFailed,
    TemplateError,
)
from stacklab.orchestration.template.intrinsics import (
    Context,
    Function,
    Resolver,
    as_context,
)
from stacklab.orchestration.template.loading import load_template
from stacklab.orchestration.template.parameters import (
    CustomConstraintCheck,
    Parameters,
    ParameterSchema,
    schemata,
    validate_parameter_groups,
)
from stacklab.orchestration.template.versions import TemplateVersion, version_of

if TYPE_CHECKING:
    from stacklab.orchestration.template.environment import Environment

# Field names heat uses in dependency paths (its ResourceDefinition's CFN-style names).
_DEP_SECTIONS = {"properties": "Properties", "metadata": "Metadata"}


@dataclass
class ResourceDefinition:
    """One resource as the template declares it; snippets are parsed, not resolved."""

    name: str
    type: str
    properties: Any = None
    metadata: Any = None
    depends_on: list[str] = field(default_factory=list)
    deletion_policy: Any = None
    update_policy: Any = None
    description: str = ""
    external_id: Any = None
    condition: Any = None
    raw: dict[str, Any] = field(default_factory=dict)
    template: Template | None = field(default=None, repr=False, compare=False)

    def deletion_policy_value(self, resolver: Resolver | Context | None = None) -> str:
        """'Delete', 'Retain' or 'Snapshot' (heat's default is Delete)."""
        policy = self.deletion_policy
        if isinstance(policy, Function):
            if resolver is None:
                raise ValueError("a resolver is needed for a computed deletion_policy")
            policy = fn.resolve(policy, resolver)
        if policy is None:
            return "Delete"
        return _deletion_policy(self, policy)

    def properties_value(self, resolver: Resolver | Context) -> dict[str, Any]:
        """The properties resolved (an `if` without else drops its key)."""
        value = fn.resolve(self.properties, resolver)
        return value if isinstance(value, dict) else {}

    def metadata_value(self, resolver: Resolver | Context) -> Any:
        value = fn.resolve(self.metadata, resolver)
        return {} if value is None else value

    def update_policy_value(self, resolver: Resolver | Context) -> Any:
        value = fn.resolve(self.update_policy, resolver)
        return {} if value is None else value

    def external_id_value(self, resolver: Resolver | Context) -> Any:
        return fn.resolve(self.external_id, resolver)

    def implicit_dependencies(self, ctx: Context | None = None) -> Iterator[tuple[str, str]]:
        """(resource, location) named in properties and metadata, heat-style locations."""
        for section, heat_name in _DEP_SECTIONS.items():
            yield from fn.dependencies(getattr(self, section), f"{self.name}.{heat_name}", ctx)

    def required_resource_names(self, ctx: Context | None = None) -> set[str]:
        """depends_on plus every resource the properties and metadata name."""
        names = set(self.depends_on)
        names.update(name for name, _ in self.implicit_dependencies(ctx))
        return names

    def attribute_references(self, ctx: Context | None = None) -> set[tuple[str, Any]]:
        refs: set[tuple[str, Any]] = set()
        for section in ("properties", "metadata"):
            refs.update(fn.attribute_references(getattr(self, section), ctx))
        return refs


@dataclass
class OutputDefinition:
    name: str
    value: Any
    description: str | None = None
    condition: Any = None
    raw: dict[str, Any] = field(default_factory=dict)

    def dependencies(self, ctx: Context | None = None) -> set[str]:
        return {name for name, _ in fn.dependencies(self.value, self.name, ctx)}


def _deletion_policy(defn: ResourceDefinition, policy: Any) -> str:
    assert defn.template is not None
    policies = defn.template.version.deletion_policies
    # A function left unresolved (a map) is no policy either, not a crash.
    if not isinstance(policy, str) or policy not in policies:
        raise StackValidationFailed(f'Invalid deletion policy "{policy}"')
    return policies[policy]


class Template:
    """A parsed template of one version (see the package docstring for the API)."""

    def __init__(
        self,
        data: Mapping[str, Any],
        files: Mapping[str, str] | None = None,
        environment: Environment | None = None,
    ) -> None:
        self.t: dict[str, Any] = dict(data)
        self.files: dict[str, str] = dict(files or {})
        self.environment = environment
        self.version: TemplateVersion = version_of(self.t)
        v = self.version
        for section in self.t:
            if section not in v.sections:
                raise InvalidTemplateSection(section)
        self.description: str = self.t.get(v.description_section) or "No description"
        self.parameter_groups: Any = self.t.get("parameter_groups") if v.is_hot else None
        self.mappings: dict[str, Any] = (self.t.get("Mappings") or {}) if not v.is_hot else {}
        self.parameters_schema: dict[str, ParameterSchema] = schemata(
            self.t.get(v.parameters_section), v
        )
        raw_resources = self.t.get(v.resources_section) or {}
        self._check_resources_section(raw_resources)
        self._resource_names = frozenset(raw_resources)
        self.condition_definitions: dict[str, Any] = self._parse_conditions()
        self.resources: dict[str, ResourceDefinition] = {
            name: self._resource(name, snippet) for name, snippet in raw_resources.items()
        }
        self.outputs: dict[str, OutputDefinition] = self._parse_outputs()

    # ------------------------------------------------------------------ Scope
    def has_resource(self, name: str) -> bool:
        return name in self._resource_names

    def mapping(self, name: str) -> Any:
        return self.mappings[name]

    def conditions(self, context: Context) -> Conditions:
        return Conditions(self.condition_definitions, context)

    def parse_condition(self, snippet: Any, path: str) -> Any:
        return fn.parse(self._condition_functions(), self, snippet, path)

    def _condition_functions(self) -> dict[str, fn.FunctionClass]:
        table: dict[str, fn.FunctionClass] = {
            name: (cls if cls is fn.Removed else fn.Invalid)
            for name, cls in self.version.functions.items()
        }
        table.update(self.version.condition_functions)
        return table

    def parse(self, snippet: Any, path: str = "") -> Any:
        """Parse a snippet with this template's functions (errors carry `path`)."""
        return fn.parse(self.version.functions, self, snippet, path)

    # ------------------------------------------------------------------ sections
    def _check_resources_section(self, resources: Any) -> None:
        v = self.version
        if not isinstance(resources, Mapping):
            raise StackValidationFailed(
                f'"{v.resources_section}" must contain a map of resource maps. '
                f"Found a [{type(resources)}] instead"
            )
        if v.is_hot:
            self._check_hot_section(resources, "resources", "type", v.resource_keys)
            for snippet in resources.values():
                if not snippet.get("type"):
                    raise StackValidationFailed("Each Resource must contain a Type key.")
        else:
            for snippet in resources.values():
                if not isinstance(snippet, Mapping):
                    raise StackValidationFailed(
                        f"Resources must contain Resource. Found a [{type(snippet)}] instead"
                    )
                if not snippet or not snippet.get("Type"):
                    raise StackValidationFailed("Each Resource must contain a Type key.")

    @staticmethod
    def _check_hot_section(
        data: Mapping[str, Any], section: str, required: str, allowed: tuple[str, ...]
    ) -> None:
        """heat's HOT validate_section, messages and all."""
        obj = section[:-1]
        for _name, attrs in sorted(data.items(), key=lambda item: str(item[0])):
            if not attrs:
                raise StackValidationFailed(f"Each {obj} must contain a {required} key.")
            if not isinstance(attrs, Mapping):
                raise StackValidationFailed(
                    f'"{section}" must contain a map of {obj} maps. Found a [{type(attrs)}] instead'
                )
            for attr in attrs:
                if attr not in allowed:
                    raise StackValidationFailed(
                        f'"{attr}" is not a valid keyword inside a {obj} definition'
                    )
            if required not in attrs:
                raise StackValidationFailed(f"Each {obj} must contain a {required} key.")

    def _parse_conditions(self) -> dict[str, Any]:
        v = self.version
        if not v.has_conditions:
            return {}
        raw = self.t.get(v.conditions_section, {})
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise StackValidationFailed(
                f"Condition definitions must be a map. Found a {type(raw).__name__} instead",
                error="Conditions validation error",
            )
        return {
            name: self.parse_condition(value, f"{v.conditions_section}.{name}")
            for name, value in raw.items()
        }

    def _field(
        self,
        name: str,
        data: Mapping[str, Any],
        key: str,
        types: tuple[type, ...],
        typename: str,
        parse: Callable[[Any, str], Any] | None,
    ) -> Any:
        if key not in data:
            return None
        value = data[key]
        path = f"{self.version.resources_section}.{name}.{key}"
        if parse is not None:
            value = parse(value, path)
        if not isinstance(value, types):
            raise StackValidationFailed(f"Resource {name} {key} type must be {typename}")
        return value

    def _resource(self, name: str, data: Mapping[str, Any]) -> ResourceDefinition:
        v = self.version
        keys = dict(
            zip(
                (
                    "type",
                    "properties",
                    "metadata",
                    "depends_on",
                    "deletion_policy",
                    "update_policy",
                    "description",
                ),
                v.resource_keys[:7],
                strict=True,
            )
        )
        parse = self.parse
        rtype = self._field(name, data, keys["type"], (str,), "string", parse)
        properties = self._field(
            name, data, keys["properties"], (Mapping, Function), "object", parse
        )
        metadata = self._field(name, data, keys["metadata"], (Mapping, Function), "object", parse)
        depends = self._field(
            name, data, keys["depends_on"], (list, tuple, str), "list or string", None
        )
        if isinstance(depends, str):
            depends = [depends]
        elif depends:
            for dep in depends:
                if not isinstance(dep, str):
                    raise StackValidationFailed(
                        f"Resource {name} {keys['depends_on']} must be a list of strings"
                    )
        policy = self._field(name, data, keys["deletion_policy"], (str, Function), "string", parse)
        update_policy = self._field(
            name, data, keys["update_policy"], (Mapping, Function), "object", parse
        )
        description = self._field(name, data, keys["description"], (str,), "string", None)
        external_id = condition = None
        if v.has_conditions:
            if v.is_hot:
                external_id = self._field(
                    name, data, "external_id", (str, Function), "string", parse
                )
                condition = self._field(
                    name,
                    data,
                    "condition",
                    (str, bool, Function),
                    "string_or_boolean",
                    self.parse_condition,
                )
            else:
                condition = self._field(
                    name,
                    data,
                    "Condition",
                    (str, bool, Function),
                    "string or boolean",
                    self.parse_condition,
                )
        defn = ResourceDefinition(
            name=name,
            type=rtype,
            properties=properties,
            metadata=metadata,
            depends_on=list(depends or []),
            deletion_policy=policy,
            update_policy=update_policy,
            description=description or "",
            external_id=external_id,
            condition=condition,
            raw=dict(data),
            template=self,
        )
        if policy is not None and not isinstance(policy, Function):
            defn.deletion_policy = _deletion_policy(defn, policy)
        return defn

    def _parse_outputs(self) -> dict[str, OutputDefinition]:
        v = self.version
        section = v.outputs_section
        raw = self.t.get(section) or {}
        value_key = "value" if v.is_hot else "Value"
        if v.is_hot:
            if not isinstance(raw, Mapping):
                raise StackValidationFailed(
                    f'"outputs" must contain a map of output maps. Found a [{type(raw)}] instead'
                )
            self._check_hot_section(raw, "outputs", "value", v.output_keys)
        outputs = {}
        for key, val in raw.items():
            if not isinstance(val, Mapping):
                raise StackValidationFailed(
                    f"Output definitions must be a map. Found a {type(val).__name__} instead",
                    path=[section, key],
                    error="Output validation error",
                )
            if value_key not in val:
                raise StackValidationFailed(
                    f"Each output definition must contain a {value_key} key.",
                    path=[section, key],
                    error="Output validation error",
                )
            cond_key = "condition" if v.is_hot else "Condition"
            condition = None
            if v.has_conditions and cond_key in val:
                condition = self.parse_condition(val[cond_key], f"{section}.{key}.{cond_key}")
            outputs[key] = OutputDefinition(
                name=key,
                value=self.parse(val[value_key], f"{section}.{key}.{value_key}"),
                description=val.get("description" if v.is_hot else "Description"),
                condition=condition,
                raw=dict(val),
            )
        return outputs

    # ------------------------------------------------------------------ parameters
    def parameters(
        self,
        values: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        *,
        stack_name: str | None = None,
        stack_id: str | None = None,
        project_id: str | None = None,
    ) -> Parameters:
        """The stack's parameter values (unchecked); a Resolver's `param` in one object.

        Values and defaults not given come from the template's environment, if it has one.
        """
        if self.environment is not None:
            values = self.environment.parameters if values is None else values
            defaults = self.environment.parameter_defaults if defaults is None else defaults
        return Parameters(
            self.parameters_schema,
            values,
            defaults,
            kind=self.version.kind,
            stack_name=stack_name,
            stack_id=stack_id,
            project_id=project_id,
        )

    def validate_parameters(
        self,
        values: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        custom: CustomConstraintCheck | None = None,
        *,
        stack_name: str | None = None,
        stack_id: str | None = None,
        project_id: str | None = None,
        validate_values: bool = True,
    ) -> Parameters:
        """Check values against the schemas (and parameter_groups); heat's errors."""
        params = self.parameters(
            values, defaults, stack_name=stack_name, stack_id=stack_id, project_id=project_id
        )
        validate_parameter_groups(self.parameter_groups, list(params))
        params.validate(custom, validate_values=validate_values)
        return params

    def all_parameters_schema(self) -> dict[str, ParameterSchema]:
        """This template's parameters and those of every template among its files (what
        heat merges environment files against, so nested templates' parameters count)."""
        found: dict[str, ParameterSchema] = {}
        for text in self.files.values():
            try:
                nested = Template(load_template(text), files={})
            except TemplateError:
                continue
            found.update(nested.parameters_schema)
        found.update(self.parameters_schema)
        return found

    @property
    def raw(self) -> dict[str, Any]:
        """The template as the client sent it (decoded), for `template show`."""
        return self.t

    # ------------------------------------------------------------------ evaluation
    def resolve(self, snippet: Any, resolver: Resolver | Context) -> Any:
        return fn.resolve(snippet, resolver)

    def evaluate_conditions(self, resolver: Resolver | Context) -> dict[str, bool]:
        ctx = as_context(resolver)
        return ctx.conditions(self).evaluate_all()

    def _enabled(self, condition: Any, ctx: Context, path: list[str]) -> bool:
        try:
            value = fn.resolve(condition, ctx)
            return ctx.conditions(self).is_enabled(value)
        except ValueError as exc:
            raise StackValidationFailed(str(exc), path=path) from exc

    def enabled_resources(self, resolver: Resolver | Context) -> dict[str, ResourceDefinition]:
        """The resources whose condition holds (all of them when the version has none)."""
        ctx = as_context(resolver)
        out = {}
        cond_key = "condition" if self.version.is_hot else "Condition"
        for name, defn in self.resources.items():
            if defn.condition is None or self._enabled(
                defn.condition, ctx, [self.version.resources_section, name, cond_key]
            ):
                out[name] = defn
        return out

    def enabled_outputs(self, resolver: Resolver | Context) -> dict[str, OutputDefinition]:
        """Outputs whose condition holds; a disabled output shows with a None value."""
        ctx = as_context(resolver)
        out = {}
        cond_key = "condition" if self.version.is_hot else "Condition"
        for name, defn in self.outputs.items():
            if defn.condition is None or self._enabled(
                defn.condition, ctx, [self.version.outputs_section, name, cond_key]
            ):
                out[name] = defn
            else:
                out[name] = OutputDefinition(name, None, defn.description, None, defn.raw)
        return out

    def dependencies(
        self,
        resolver: Resolver | Context | None = None,
        label: Callable[[str], str] = str,
    ) -> Dependencies[str]:
        """The graph of resources (enabled ones when a resolver gives the parameters).

        An unknown reference raises heat's InvalidTemplateReference (`(in server)` for
        depends_on, `(in server.Properties.image)` for a function); a resource disabled by
        its condition may be named in depends_on and is then left out.
        """
        ctx = None if resolver is None else as_context(resolver)
        enabled = self.resources if ctx is None else self.enabled_resources(ctx)
        graph: Dependencies[str] = Dependencies(label=label)
        for name, defn in enabled.items():
            graph.add(name)
            for dep, where in defn.implicit_dependencies(ctx):
                if dep not in enabled:
                    raise InvalidTemplateReference(dep, where)
                graph.add(name, dep)
            for dep in defn.depends_on:
                if dep not in enabled:
                    if dep in self.resources:
                        continue
                    raise InvalidTemplateReference(dep, name)
                graph.add(name, dep)
        return graph

    # ------------------------------------------------------------------ validation
    def validate(
        self,
        resolver: Resolver | Context | None = None,
        parameter_names: Iterable[str] | None = None,
    ) -> None:
        """heat's stack-level checks that need no resource plugin, in heat's order:
        conditions, names shared by a parameter and a resource, references and cycles,
        the functions of each resource (removed ones, make_url, yaql, ...), then outputs.

        With a resolver, only enabled resources count (as in heat, which knows the
        parameters); `parameter_names` defaults to the declared and pseudo parameters.
        """
        Conditions(self.condition_definitions).validate()
        ctx = None if resolver is None else as_context(resolver)
        enabled = self.resources if ctx is None else self.enabled_resources(ctx)
        names = set(self.parameters() if parameter_names is None else parameter_names)
        duplicates = names & set(enabled)
        if duplicates:
            raise StackValidationFailed(f"Duplicate names {duplicates}")
        self.dependencies(ctx).check()
        for defn in enabled.values():
            for snippet in (defn.properties, defn.metadata, defn.update_policy):
                fn.validate(snippet)
        for output in self.outputs.values():
            fn.validate(output.value)
