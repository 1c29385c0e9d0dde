"""Heat's template language as a pure library: no HTTP, no store, no other service.

The engine builds on this API (everything else in the package is detail):

Loading and the model
    parse(text_or_dict, files=None, environment=None) -> Template
        YAML/JSON text (or a decoded dict) checked as heat checks it: a mapping with a
        version key (TemplateFormatError otherwise), a known version (InvalidTemplateVersion),
        known sections (InvalidTemplateSection), resources and outputs of the right shape
        and keys (StackValidationFailed), parameter declarations (InvalidSchemaError);
        every snippet parsed into function nodes, nothing resolved.
    Template.version            TemplateVersion (.key, .date, .kind 'hot'|'cfn', .aliases)
    Template.description, .parameter_groups, .files, .raw (the decoded template)
    Template.all_parameters_schema()  with the parameters of templates among its files
    Template.parameters_schema  {name: ParameterSchema} (.type, .default, .hidden, .label,
                                .immutable, .constraints, .describe() for template-validate)
    Template.resources          {name: ResourceDefinition} (.type, .properties, .metadata,
                                .depends_on, .deletion_policy_value(r), .update_policy,
                                .external_id, .condition, .properties_value(r), ...)
    Template.outputs            {name: OutputDefinition} (.value, .description, .condition)
    Template.validate(resolver=None)  heat's stack-validation pass that needs no plugin
    Template.dependencies(resolver=None, label=str) -> Dependencies (create_order(),
        delete_order(), requires(n), required_by(n); CircularDependencyException)
    Template.enabled_resources(r) / enabled_outputs(r) / evaluate_conditions(r)
    changed_resources(old, new, old_resolver=None, new_resolver=None) -> TemplateDiff
    update_kind(before, after, update_allowed=, replace=, always_update=) -> (UNCHANGED |
        UPDATED | REPLACED, changed property names): the update's verdict on one resource

Resolution (lazy, through the engine's Resolver)
    Resolver protocol: param(name), resource_ref(name) -> physical id,
        resource_attr(name, attr|None, *path), file(name) -> str|None, facade(kind);
        optional availability_zones(). Unknown names raise KeyError.
    resolve(snippet, resolver)     a parsed snippet's value; errors are
        StackValidationFailed with heat's path, e.g. `resources.server.properties.image:
        The Parameter (foo) was not provided.`
    referenced_resources(snippet, resolver=None) -> set of resource names (the static
        pass over get_resource/get_attr/Ref/Fn::GetAtt; both `if` branches without a
        resolver); dependencies(snippet, path) yields (name, heat-style location) and
        attribute_references(snippet) (name, attribute) pairs
    Template.parse(raw_snippet, path) parses extra data with the template's functions
    StackResolver(parameters, files, resource_ref=, resource_attr=, facade=) a Resolver
        from the engine's callables (none: every resource answers None, as for preview)
    select_path(value, path) / attribute_from(attrs, attr, *path)  heat's path walk
    The original error of a wrapped failure is its `__cause__`.

Parameters
    Template.validate_parameters(values, defaults, custom, stack_name=, stack_id=,
        project_id=) -> Parameters (a Mapping of typed values with OS::stack_name,
        OS::stack_id, OS::project_id; `.param` serves a Resolver); `custom(name, value)`
        checks custom constraints (True | False | message | None for unknown); values and
        defaults left out come from the template's environment.
    Parameters.check_immutable(new_parameters)  ImmutableParameterModified

Environment
    Environment.from_dict(data) / Environment.merge(*envs)   (client-side merge order)
    merge_environment_files(environment_files, files, env_dict, parameters_schema)
    Environment.resolve_type(type, resource_name) -> ResourceType (mapping, template URL,
        per-resource overrides, wildcards); .parameters, .parameter_defaults,
        .event_sinks, .encrypted_param_names, .hooks_for(name), .restricted_actions(name)

Catalog (for the API)
    versions() -> [{"version": ..., "type": "hot"|"cfn", "aliases": [...]}]
    functions(version_name, with_condition_functions=False) -> [{"functions", "description"}]

Errors are TemplateError subclasses named after heat's exceptions; `.status` is the HTTP
code heat's API answers with and `.error_type` the name its fault body shows.
"""

from stacklab.orchestration.template.catalog import functions, versions
from stacklab.orchestration.template.conditions import Conditions
from stacklab.orchestration.template.dependencies import Dependencies
from stacklab.orchestration.template.diff import (
    REPLACED,
    UNCHANGED,
    UPDATED,
    ResourceChange,
    TemplateDiff,
    changed_resources,
    update_kind,
)
from stacklab.orchestration.template.environment import (
    Environment,
    ResourceType,
    merge_environment_files,
)
from stacklab.orchestration.template.errors import (
    CircularDependencyException,
    EntityNotFound,
    ImmutableParameterModified,
    InvalidSchemaError,
    InvalidTemplateReference,
    InvalidTemplateSection,
    InvalidTemplateVersion,
    StackValidationFailed,
    TemplateError,
    TemplateFormatError,
    UnknownUserParameter,
    UserParameterMissing,
)
from stacklab.orchestration.template.intrinsics import (
    OMIT,
    Context,
    Function,
    Resolver,
    attribute_references,
    dependencies,
    referenced_resources,
    resolve,
    select_path,
)
from stacklab.orchestration.template.loading import (
    load_environment,
    load_template,
    simple_parse,
)
from stacklab.orchestration.template.parameters import (
    CustomConstraintCheck,
    Parameters,
    ParameterSchema,
)
from stacklab.orchestration.template.resolvers import StackResolver, attribute_from
from stacklab.orchestration.template.template import (
    OutputDefinition,
    ResourceDefinition,
    Template,
)
from stacklab.orchestration.template.versions import TemplateVersion


def parse(
    text: str | bytes | dict[str, object],
    files: dict[str, str] | None = None,
    environment: Environment | None = None,
) -> Template:
    """A template from its text (YAML or JSON) or decoded data, checked as heat loads it."""
    return Template(load_template(text), files=files, environment=environment)


__all__ = [
    "OMIT",
    "REPLACED",
    "UNCHANGED",
    "UPDATED",
    "CircularDependencyException",
    "Conditions",
    "Context",
    "CustomConstraintCheck",
    "Dependencies",
    "EntityNotFound",
    "Environment",
    "Function",
    "ImmutableParameterModified",
    "InvalidSchemaError",
    "InvalidTemplateReference",
    "InvalidTemplateSection",
    "InvalidTemplateVersion",
    "OutputDefinition",
    "ParameterSchema",
    "Parameters",
    "Resolver",
    "ResourceChange",
    "ResourceDefinition",
    "ResourceType",
    "StackResolver",
    "StackValidationFailed",
    "Template",
    "TemplateDiff",
    "TemplateError",
    "TemplateFormatError",
    "TemplateVersion",
    "UnknownUserParameter",
    "UserParameterMissing",
    "attribute_from",
    "attribute_references",
    "changed_resources",
    "dependencies",
    "functions",
    "load_environment",
    "load_template",
    "merge_environment_files",
    "parse",
    "referenced_resources",
    "resolve",
    "select_path",
    "simple_parse",
    "update_kind",
    "versions",
]
