"""Parameters: schemas read from a template, values checked and typed, pseudo parameters.

Behaviour and messages follow heat's heat/engine/parameters.py, hot/parameters.py,
cfn/parameters.py, constraints.py and parameter_groups.py (our own code). Custom constraints
(`nova.flavor`, `neutron.network`, ...) are checked by a callback the engine supplies:
`custom(constraint_name, value)` answers True (valid), False (heat's generic message), a str
(the whole error message, e.g. "Error validating value 'x': ...") or None (no such
constraint: heat's "(constraint not found)").
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from oslo_utils import strutils

from stacklab.orchestration.template.errors import (
    ImmutableParameterModified,
    InvalidSchemaError,
    StackValidationFailed,
    UnknownUserParameter,
    UserParameterMissing,
)
from stacklab.orchestration.template.versions import TemplateVersion

CustomConstraintCheck = Callable[[str, Any], "bool | str | None"]

TYPES = (STRING, NUMBER, LIST, JSON, BOOLEAN) = (
    "string",
    "number",
    "comma_delimited_list",
    "json",
    "boolean",
)
_CFN_TYPES = {
    "String": STRING,
    "Number": NUMBER,
    "CommaDelimitedList": LIST,
    "Json": JSON,
    "Boolean": BOOLEAN,
}
# The names template validation shows (heat's rpc api PARAM_TYPE_*).
API_TYPE_NAMES = {
    STRING: "String",
    NUMBER: "Number",
    LIST: "CommaDelimitedList",
    JSON: "Json",
    BOOLEAN: "Boolean",
}

HOT_PSEUDO = (STACK_ID, STACK_NAME, PROJECT_ID) = (
    "OS::stack_id",
    "OS::stack_name",
    "OS::project_id",
)
CFN_PSEUDO = (AWS_STACK_ID, AWS_STACK_NAME, AWS_REGION) = (
    "AWS::StackId",
    "AWS::StackName",
    "AWS::Region",
)
_AWS_REGIONS = [
    "us-east-1",
    "us-west-1",
    "us-west-2",
    "sa-east-1",
    "eu-west-1",
    "ap-southeast-1",
    "ap-northeast-1",
]


def str_to_num(value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except ValueError:
        return float(value)


def _num(key: str, data: Mapping[str, Any]) -> Any:
    value = data.get(key)
    return None if value is None else str_to_num(value)


def _check_dict(data: Any, allowed: tuple[str, ...], entity: str) -> None:
    if not isinstance(data, dict):
        raise InvalidSchemaError(f"Invalid {entity}, expected a mapping")
    for key in data:
        if key not in allowed:
            raise InvalidSchemaError(f"Invalid key '{key}' for {entity}")


# --------------------------------------------------------------------------- constraints


class Constraint:
    """One constraint; `check` raises ValueError with heat's message (or the description)."""

    valid_types: ClassVar[tuple[str, ...]] = ()
    key: ClassVar[str] = ""

    def __init__(self, description: str | None = None) -> None:
        self.description = description

    def check(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> None:
        problem = self.problem(value, schema, custom)
        if problem is not None:
            raise ValueError(self.description or problem)

    def problem(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> str | None:
        raise NotImplementedError

    def definition(self) -> Any:
        raise NotImplementedError

    def as_dict(self) -> dict[str, Any]:
        """The HOT form of the constraint (as heat serialises a schema)."""
        out: dict[str, Any] = {self.key: self.definition()}
        if self.description is not None:
            out["description"] = self.description
        return out


class Range(Constraint):
    valid_types: ClassVar[tuple[str, ...]] = (NUMBER,)
    key = "range"

    def __init__(self, min: Any = None, max: Any = None, description: str | None = None) -> None:
        super().__init__(description)
        for bound in (min, max):
            if bound is not None and (
                not isinstance(bound, int | float) or isinstance(bound, bool)
            ):
                raise InvalidSchemaError("min/max must be numeric")
        if min is None and max is None:
            raise InvalidSchemaError(self._needs_bound())
        self.min = min
        self.max = max

    def _needs_bound(self) -> str:
        return "A range constraint must have a min value and/or a max value specified."

    def _in_range(self, value: int | float) -> bool:
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def problem(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> str | None:
        if self._in_range(str_to_num(value)):
            return None
        return f"{value} is out of range (min: {self.min}, max: {self.max})"

    def definition(self) -> Any:
        out = {}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        return out


class Length(Range):
    valid_types = (STRING, LIST, JSON)
    key = "length"

    def __init__(self, min: Any = None, max: Any = None, description: str | None = None) -> None:
        if min is None and max is None:
            raise InvalidSchemaError(self._needs_bound())
        super().__init__(min, max, description)
        for bound in (min, max):
            if bound is not None and not isinstance(bound, int):
                raise InvalidSchemaError("min/max length must be integral")

    def _needs_bound(self) -> str:
        return "A length constraint must have a min value and/or a max value specified."

    def problem(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> str | None:
        if self._in_range(len(value)):
            return None
        return f"length ({len(value)}) is out of range (min: {self.min}, max: {self.max})"


class Modulo(Constraint):
    valid_types = (NUMBER,)
    key = "modulo"

    def __init__(self, step: Any = None, offset: Any = None, description: str | None = None):
        super().__init__(description)
        if step is None or offset is None:
            raise InvalidSchemaError(
                "A modulo constraint must have a step value and an offset value specified."
            )
        for bound in (step, offset):
            if not isinstance(bound, int | float) or isinstance(bound, bool):
                raise InvalidSchemaError("step/offset must be numeric")
            if int(bound) != bound:
                raise InvalidSchemaError("step/offset must be integer")
        step, offset = int(step), int(offset)
        if step == 0:
            raise InvalidSchemaError("step cannot be 0.")
        if abs(offset) >= abs(step):
            raise InvalidSchemaError("offset must be smaller (by absolute value) than step.")
        if step * offset < 0:
            raise InvalidSchemaError("step and offset must be both positive or both negative.")
        self.step = step
        self.offset = offset

    def problem(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> str | None:
        if str_to_num(value) % self.step == self.offset:
            return None
        return f"{value} is not a multiple of {self.step} with an offset of {self.offset}"

    def definition(self) -> Any:
        return {"step": self.step, "offset": self.offset}


class AllowedValues(Constraint):
    valid_types = (STRING, NUMBER, BOOLEAN, LIST)
    key = "allowed_values"

    def __init__(self, allowed: Any, description: str | None = None) -> None:
        super().__init__(description)
        if not isinstance(allowed, list | tuple):
            raise InvalidSchemaError("AllowedValues must be a list")
        self.allowed = tuple(allowed)

    def problem(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> str | None:
        if isinstance(value, list):
            ok = all(v in self.allowed for v in value)
        elif schema is not None:
            try:
                ok = schema.to_type(value) in tuple(schema.to_type(a) for a in self.allowed)
            except ValueError:
                ok = False
        else:
            ok = value in self.allowed
        if ok:
            return None
        allowed = "[" + ", ".join(json.dumps(a) for a in self.allowed) + "]"
        return f"{json.dumps(value)} is not an allowed value {allowed}"

    def definition(self) -> Any:
        return list(self.allowed)


class AllowedPattern(Constraint):
    valid_types = (STRING,)
    key = "allowed_pattern"

    def __init__(self, pattern: Any, description: str | None = None) -> None:
        super().__init__(description)
        if not isinstance(pattern, str):
            raise InvalidSchemaError("AllowedPattern must be a string")
        self.pattern = pattern
        try:
            self._regex = re.compile(pattern)
        except re.error as exc:
            raise InvalidSchemaError(f"Invalid allowed_pattern {pattern}: {exc}") from exc

    def problem(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> str | None:
        match = self._regex.match(str(value))
        if match is not None and match.end() == len(str(value)):
            return None
        return f'"{value}" does not match pattern "{self.pattern}"'

    def definition(self) -> Any:
        return self.pattern


class CustomConstraint(Constraint):
    valid_types = (STRING, NUMBER, BOOLEAN, LIST)
    key = "custom_constraint"

    def __init__(self, name: Any, description: str | None = None) -> None:
        super().__init__(description)
        self.name = name

    def problem(
        self, value: Any, schema: ParameterSchema | None, custom: CustomConstraintCheck | None
    ) -> str | None:
        answer = None if custom is None else custom(self.name, value)
        if answer is None:
            return f'"{value}" does not validate {self.name} (constraint not found)'
        if answer is True:
            return None
        if isinstance(answer, str):
            return answer
        return f'"{value}" does not validate {self.name}'

    def definition(self) -> Any:
        return self.name


# --------------------------------------------------------------------------- schema


@dataclass
class ParameterSchema:
    """One parameter's declaration. `type` is HOT's name whatever the template format."""

    name: str
    type: str
    description: str | None = None
    default: Any = None
    constraints: list[Constraint] = field(default_factory=list)
    hidden: Any = False
    label: str | None = None
    immutable: Any = False
    tags: list[str] | None = None
    pseudo: bool = False

    @property
    def required(self) -> bool:
        return self.default is None

    def to_type(self, value: Any) -> Any:
        """A value in the parameter's type, as heat's Schema.to_schema_type does."""
        try:
            if self.type == NUMBER:
                return str_to_num(value)
            if self.type == STRING:
                return str(value)
            if self.type == BOOLEAN:
                return strutils.bool_from_string(str(value), strict=True)
        except ValueError:
            raise ValueError(f'Value "{value}" is invalid for data type "{self.type}".') from None
        return value

    def check_schema(self) -> None:
        """Constraints fit the type and the default satisfies them (InvalidSchemaError)."""
        for c in self.constraints:
            if self.type not in c.valid_types:
                raise InvalidSchemaError(f"{type(c).__name__} constraint invalid for {self.type}")
        if self.default is None:
            return
        default = self.default
        if self.type == LIST:
            if isinstance(default, list):
                default = [str(x) for x in default]
            else:
                try:
                    default = default.split(",")
                except AttributeError as exc:
                    raise InvalidSchemaError(
                        f"Default must be a comma-delimited list string: {exc}"
                    ) from exc
        try:
            self.check_constraints(default, None, skip_custom=True)
        except (ValueError, TypeError, StackValidationFailed) as exc:
            raise InvalidSchemaError(f"Invalid default {self.default} ({exc})") from exc

    def check_constraints(
        self, value: Any, custom: CustomConstraintCheck | None, skip_custom: bool = False
    ) -> None:
        for c in self.constraints:
            if skip_custom and isinstance(c, CustomConstraint):
                continue
            try:
                c.check(value, self, custom)
            except (ValueError, TypeError) as exc:
                raise StackValidationFailed(str(exc)) from exc

    def describe(self, value: Any = None, default: Any = None) -> dict[str, Any]:
        """The parameter as heat's template-validate answer shows it (CFN-style keys)."""
        out: dict[str, Any] = {
            "Type": API_TYPE_NAMES.get(self.type, self.type),
            "Description": self.description or "",
            "NoEcho": "true" if self.hidden else "false",
            "Label": self.label or self.name,
        }
        shown_default = default if default is not None else self.default
        if shown_default is not None:
            out["Default"] = shown_default
        if value:
            out["Value"] = value
        if self.tags:
            out["Tags"] = self.tags
        descriptions = []
        for c in self.constraints:
            if isinstance(c, Length):
                if c.min is not None:
                    out["MinLength"] = c.min
                if c.max is not None:
                    out["MaxLength"] = c.max
            elif isinstance(c, Range):
                if c.min is not None:
                    out["MinValue"] = c.min
                if c.max is not None:
                    out["MaxValue"] = c.max
            elif isinstance(c, Modulo):
                out["Step"] = c.step
                out["Offset"] = c.offset
            elif isinstance(c, AllowedValues):
                out["AllowedValues"] = list(c.allowed)
            elif isinstance(c, AllowedPattern):
                out["AllowedPattern"] = c.pattern
            elif isinstance(c, CustomConstraint):
                out["CustomConstraint"] = c.name
            if c.description:
                descriptions.append(c.description)
        if descriptions:
            out["ConstraintDescription"] = " ".join(descriptions)
        return out


_HOT_CONSTRAINT_KEYS = (
    "description",
    "length",
    "range",
    "modulo",
    "allowed_values",
    "allowed_pattern",
    "custom_constraint",
)


def _hot_constraint(data: Mapping[str, Any], version: TemplateVersion) -> Constraint:
    desc = data.get("description")
    if version.modulo_constraint and "modulo" in data:
        cdef = data["modulo"]
        _check_dict(cdef, ("step", "offset"), "modulo constraint")
        return Modulo(_num("step", cdef), _num("offset", cdef), desc)
    if "range" in data:
        cdef = data["range"]
        _check_dict(cdef, ("min", "max"), "range constraint")
        return Range(_num("min", cdef), _num("max", cdef), desc)
    if "length" in data:
        cdef = data["length"]
        _check_dict(cdef, ("min", "max"), "length constraint")
        return Length(_num("min", cdef), _num("max", cdef), desc)
    if "allowed_values" in data:
        return AllowedValues(data["allowed_values"], desc)
    if "allowed_pattern" in data:
        return AllowedPattern(data["allowed_pattern"], desc)
    if "custom_constraint" in data:
        return CustomConstraint(data["custom_constraint"], desc)
    raise InvalidSchemaError("No constraint expressed")


def _make(name: str, kind: Any, **kwargs: Any) -> ParameterSchema:
    if kind not in TYPES:
        raise InvalidSchemaError(f"Invalid type ({kind})")
    return ParameterSchema(name=name, type=kind, **kwargs)


def hot_schema(name: str, data: Any, version: TemplateVersion) -> ParameterSchema:
    """A HOT parameter declaration read as heat's HOTParamSchema of that version reads it."""
    entity = f"parameter ({name})"
    _check_dict(data, version.parameter_keys, entity)
    if "type" not in data:
        raise InvalidSchemaError(f"Missing parameter type for parameter: {name}")
    if not isinstance(data.get("tags", []), list):
        raise InvalidSchemaError(f"Tags property should be a list for parameter: {name}")
    constraints = data.get("constraints")
    parsed: list[Constraint] = []
    if constraints is not None:
        if not isinstance(constraints, list):
            raise InvalidSchemaError(
                f"Invalid parameter constraints for parameter {name}, expected a list"
            )
        for item in constraints:
            _check_dict(item, _HOT_CONSTRAINT_KEYS, "parameter constraints")
            parsed.append(_hot_constraint(item, version))
    return _make(
        name,
        data["type"],
        description=data.get("description"),
        default=data.get("default"),
        constraints=parsed,
        hidden=data.get("hidden", False),
        label=data.get("label"),
        immutable=data.get("immutable", False),
        tags=data.get("tags") if version.parameter_tags else None,
    )


def cfn_schema(name: str, data: Any, version: TemplateVersion) -> ParameterSchema:
    """A CFN parameter declaration (Type, MinLength, AllowedValues, NoEcho, ...)."""
    _check_dict(data, version.parameter_keys, f"parameter ({name})")
    if "Type" not in data:
        raise InvalidSchemaError(f"Missing parameter type for parameter: {name}")
    desc = data.get("ConstraintDescription")
    constraints: list[Constraint] = []
    if "MinValue" in data or "MaxValue" in data:
        constraints.append(Range(_num("MinValue", data), _num("MaxValue", data), desc))
    if "MinLength" in data or "MaxLength" in data:
        constraints.append(Length(_num("MinLength", data), _num("MaxLength", data), desc))
    if "AllowedValues" in data:
        constraints.append(AllowedValues(data["AllowedValues"], desc))
    if "AllowedPattern" in data:
        constraints.append(AllowedPattern(data["AllowedPattern"], desc))
    kind = _CFN_TYPES.get(data["Type"], data["Type"])
    if kind not in TYPES:
        raise InvalidSchemaError(f"Invalid type ({data['Type']})")
    return _make(
        name,
        kind,
        description=data.get("Description"),
        default=data.get("Default"),
        constraints=constraints,
        hidden=str(data.get("NoEcho", "false")).lower() == "true",
        label=data.get("Label"),
    )


def schemata(section: Any, version: TemplateVersion) -> dict[str, ParameterSchema]:
    """Every declared parameter's schema (InvalidSchemaError for a bad declaration)."""
    if not section:
        return {}
    if not isinstance(section, Mapping):
        raise InvalidSchemaError(f"Invalid parameters, expected a mapping, found {section}")
    read = hot_schema if version.is_hot else cfn_schema
    return {name: read(name, data, version) for name, data in section.items()}


# --------------------------------------------------------------------------- values


def parse_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [str(x) for x in value]
    try:
        return [] if value == "" else value.split(",")
    except AttributeError as exc:
        raise ValueError(f"Value must be a comma-delimited list string: {exc}") from None


def parse_json(value: Any) -> Any:
    try:
        text = value if isinstance(value, str) else json.dumps(value)
        if text:
            return json.loads(text)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"Value must be valid JSON: {exc}") from None
    return value


def typed_value(schema: ParameterSchema, raw: Any) -> Any:
    """A supplied or default value in the parameter's type (heat's Parameter.value())."""
    if schema.type == NUMBER:
        return str_to_num(raw)
    if schema.type == BOOLEAN:
        return strutils.bool_from_string(str(raw), strict=True)
    if schema.type == LIST:
        return parse_list(raw)
    if schema.type == JSON:
        return parse_json(raw)
    return schema.to_type(raw)


def check_value(schema: ParameterSchema, raw: Any, custom: CustomConstraintCheck | None) -> None:
    """Raise StackValidationFailed (bare message) if `raw` does not fit the schema."""
    if schema.type == NUMBER:
        try:
            str_to_num(raw)
        except (ValueError, TypeError) as exc:
            raise StackValidationFailed(str(exc)) from exc
        schema.check_constraints(raw, custom)
    elif schema.type == BOOLEAN:
        try:
            strutils.bool_from_string(raw, strict=True)
        except ValueError as exc:
            raise StackValidationFailed(str(exc)) from exc
        schema.check_constraints(raw, custom)
    elif schema.type in (LIST, JSON):
        try:
            parsed = parse_list(raw) if schema.type == LIST else parse_json(raw)
        except ValueError as exc:
            raise StackValidationFailed(str(exc)) from exc
        schema.check_constraints(parsed, custom)
    else:
        schema.check_constraints(raw, custom)


class Parameters(Mapping[str, Any]):
    """A stack's parameter values, typed, with the pseudo parameters; `params[name]`.

    Built by `validate_parameters` (which checks everything) or directly with
    `validate=False` (e.g. to read a stored stack). `param()` makes it a ready part of a
    Resolver. Missing values raise UserParameterMissing on access.
    """

    def __init__(
        self,
        schemas: Mapping[str, ParameterSchema],
        values: Mapping[str, Any] | None = None,
        defaults: Mapping[str, Any] | None = None,
        *,
        kind: str = "hot",
        stack_name: str | None = None,
        stack_id: str | None = None,
        project_id: str | None = None,
    ) -> None:
        self.user_values = dict(values or {})
        self.user_defaults = dict(defaults or {})
        self.schemas: dict[str, ParameterSchema] = {}
        for pseudo in _pseudo_schemas(kind, stack_name, stack_id, project_id):
            self.schemas[pseudo.name] = pseudo
        self.schemas.update(schemas)

    # -- values
    def raw(self, name: str) -> Any:
        """The supplied value, else the environment's default, else the template's."""
        schema = self.schemas[name]
        if self.user_values.get(name) is not None:
            return self.user_values[name]
        if self.user_defaults.get(name) is not None and not schema.pseudo:
            return self.user_defaults[name]
        if schema.default is not None:
            return schema.default
        raise UserParameterMissing(name)

    def default(self, name: str) -> Any:
        schema = self.schemas[name]
        if self.user_defaults.get(name) is not None and not schema.pseudo:
            return self.user_defaults[name]
        return schema.default

    def has_value(self, name: str) -> bool:
        try:
            self.raw(name)
        except UserParameterMissing:
            return False
        return True

    def __getitem__(self, name: str) -> Any:
        schema = self.schemas[name]
        if schema.type in (LIST, JSON) and not self.has_value(name):
            raise UserParameterMissing(name)
        return typed_value(schema, self.raw(name))

    def param(self, name: str) -> Any:
        """The Resolver's `param`: KeyError for an undeclared name."""
        return self[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.schemas)

    def __len__(self) -> int:
        return len(self.schemas)

    def user_parameter_names(self) -> list[str]:
        return [n for n, s in self.schemas.items() if not s.pseudo]

    def hidden_names(self) -> list[str]:
        return [n for n, s in self.schemas.items() if s.hidden]

    def shown(self, name: str) -> str:
        """A value as `stack show` lists it: `******` for hidden ones."""
        schema = self.schemas[name]
        value = self[name]
        if schema.hidden:
            return "******"
        if schema.type == LIST:
            return ",".join(value)
        if schema.type == JSON:
            return json.dumps(value)
        return str(value)

    def as_shown(self) -> dict[str, str]:
        """All values as heat's stack body `parameters` shows them."""
        out = {}
        for name in self.schemas:
            try:
                out[name] = self.shown(name)
            except UserParameterMissing:
                continue
        return out

    # -- checks
    def validate(
        self,
        custom: CustomConstraintCheck | None = None,
        validate_values: bool = True,
    ) -> None:
        """heat's Parameters.validate: unknown names, then each parameter in order."""
        for name in self.user_values:
            if name not in self.schemas or self.schemas[name].pseudo:
                raise UnknownUserParameter(name)
        for name, schema in self.schemas.items():
            self.validate_one(name, schema, custom, validate_values)

    def validate_one(
        self,
        name: str,
        schema: ParameterSchema,
        custom: CustomConstraintCheck | None,
        validate_values: bool = True,
    ) -> None:
        try:
            schema.check_schema()
            if not validate_values:
                return
            check_value(schema, self.raw(name), custom)
        except StackValidationFailed as exc:
            raise StackValidationFailed(f"Parameter '{name}' is invalid: {exc}") from exc
        except InvalidSchemaError as exc:
            raise InvalidSchemaError(f"Parameter '{name}' is invalid: {exc}") from exc

    def immutable_modified(self, new: Parameters) -> list[str]:
        """Names of immutable parameters whose value an update would change."""
        changed = []
        for name in new.user_parameter_names():
            if name not in self.schemas or self.schemas[name].pseudo:
                continue
            if not new.schemas[name].immutable:
                continue
            try:
                old_value = self[name]
                new_value = new[name]
            except UserParameterMissing:
                continue
            if old_value != new_value:
                changed.append(name)
        return changed

    def check_immutable(self, new: Parameters) -> None:
        changed = self.immutable_modified(new)
        if changed:
            raise ImmutableParameterModified(*changed)


def _pseudo_schemas(
    kind: str, stack_name: str | None, stack_id: str | None, project_id: str | None
) -> Iterator[ParameterSchema]:
    def pseudo(name: str, description: str | None, default: Any, **kw: Any) -> ParameterSchema:
        return ParameterSchema(name, STRING, description, default, pseudo=True, **kw)

    if kind == "hot":
        yield pseudo(STACK_ID, "Stack ID", str(stack_id or ""))
        yield pseudo(PROJECT_ID, "Project ID", str(project_id or ""))
        if stack_name:
            yield pseudo(STACK_NAME, "Stack Name", stack_name)
    else:
        yield pseudo(AWS_STACK_ID, "Stack ID", str(stack_id or "None"))
        if stack_name:
            yield pseudo(AWS_STACK_NAME, "Stack Name", stack_name)
            yield pseudo(
                AWS_REGION,
                None,
                "ap-southeast-1",
                constraints=[AllowedValues(_AWS_REGIONS)],
            )


def validate_parameter_groups(groups: Any, names: Mapping[str, Any] | list[str]) -> None:
    """heat's ParameterGroups.validate over a template's `parameter_groups`."""
    if not groups:
        return
    error = "Parameter Groups error"
    if not isinstance(groups, list):
        raise StackValidationFailed(
            "The parameter_groups should be a list.", path=["parameter_groups"], error=error
        )
    known = list(names)
    grouped: list[Any] = []
    for group in groups:
        label = group.get("label", "") if isinstance(group, Mapping) else ""
        path = ["parameter_groups", label]
        members = group.get("parameters") if isinstance(group, Mapping) else None
        if members is None:
            raise StackValidationFailed(
                "The parameters must be provided for each parameter group.",
                path=path,
                error=error,
            )
        if not isinstance(members, list):
            raise StackValidationFailed(
                "The parameters of parameter group should be a list.", path=path, error=error
            )
        for member in members:
            if member in grouped:
                raise StackValidationFailed(
                    f"The {member} parameter must be assigned to one parameter group only.",
                    path=path,
                    error=error,
                )
            grouped.append(member)
            if member not in known:
                raise StackValidationFailed(
                    f"The grouped parameter {member} does not reference a valid parameter.",
                    path=path,
                    error=error,
                )
