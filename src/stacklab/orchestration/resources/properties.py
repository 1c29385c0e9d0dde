"""A resource type's property and attribute schemas, and the check heat runs on a
resource's properties before it acts (messages as heat's ``Property error``)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import Constraint

STRING, INTEGER, NUMBER, BOOLEAN = "string", "integer", "number", "boolean"
LIST, MAP = "list", "map"
# heat's Schema.ANY: the value as given, whatever its type (OS::Heat::Value's value).
ANY = "any"
TYPES = (STRING, INTEGER, NUMBER, BOOLEAN, LIST, MAP, ANY)

# (constraint name, value) -> True | False | message | None (unknown constraint), as the
# template library's parameters take it; the engine supplies one that asks the services.
CustomCheck = Callable[[str, Any], "bool | str | None"]


@dataclass(frozen=True)
class Property:
    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    update_allowed: bool = False
    immutable: bool = False
    constraints: tuple[Constraint, ...] = ()
    # A map's keys (each a Property) or a list's item (one Property).
    schema: Mapping[str, Property] | Property | None = None
    # Older names of this property that templates may still use (heat's hidden properties
    # with a REPLACE translation rule, e.g. a port's ``network_id`` for ``network``): the
    # value moves to this name; ``resource type show`` does not list them.
    replaces: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """The property as ``resource type show`` prints it (heat's schema dict)."""
        out: dict[str, Any] = {"type": self.type, "description": self.description,
                               "required": self.required, "update_allowed": self.update_allowed,
                               "immutable": self.immutable}
        if self.default is not None:
            out["default"] = self.default
        if self.constraints:
            out["constraints"] = [c.as_dict() for c in self.constraints]
        if isinstance(self.schema, Property):
            out["schema"] = {"*": self.schema.describe()}
        elif self.schema is not None:
            out["schema"] = {k: v.describe() for k, v in self.schema.items()}
        return out


@dataclass(frozen=True)
class Attribute:
    description: str
    type: str = STRING

    def describe(self) -> dict[str, Any]:
        return {"description": self.description, "type": self.type}


@dataclass
class _Walk:
    custom: CustomCheck | None
    path: list[str | int] = field(default_factory=list)

    def fail(self, message: str, *where: str | int) -> StackValidationFailed:
        return StackValidationFailed(message, path=[*self.path, *where],
                                     error="Property error")


def check_properties(schema: Mapping[str, Property], values: Mapping[str, Any] | None, *,
                     path: list[str | int], custom: CustomCheck | None = None) -> dict[str, Any]:
    """``values`` typed and completed with defaults, else ``StackValidationFailed`` (heat's
    ``Property error: resources.net.properties.name: ...``). ``path`` is where the
    properties sit, e.g. ``["resources", "net", "properties"]``; a value left None (a
    resource not made yet, in a preview) is not checked."""
    walk = _Walk(custom, list(path))
    return _map(schema, values or {}, walk)


def _map(schema: Mapping[str, Property], values: Mapping[str, Any], walk: _Walk
         ) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise walk.fail(f'Value "{values}" is not a map')
    values = _translated(schema, values, walk)
    for key in values:
        if key not in schema:
            raise walk.fail(f"Unknown Property {key}")
    out: dict[str, Any] = {}
    for key, prop in schema.items():
        value = values.get(key)
        if value is None:
            if prop.required and key not in values:
                raise walk.fail(f"Property {key} not assigned")
            out[key] = prop.default
            continue
        inner = _Walk(walk.custom, [*walk.path, key])
        out[key] = _value(prop, value, inner)
    return out


def _translated(schema: Mapping[str, Property], values: Mapping[str, Any], walk: _Walk
                ) -> Mapping[str, Any]:
    """``values`` with each older name's value under its property's name; both given is
    heat's ResourcePropertyConflict."""
    moved: dict[str, Any] | None = None
    for key, prop in schema.items():
        for old in prop.replaces:
            if old not in values:
                continue
            moved = dict(values) if moved is None else moved
            value = moved.pop(old)
            if value is None:
                continue
            if moved.get(key) is not None:
                raise walk.fail("Cannot define the following properties at the same time: "
                                f"{key}, {old}.")
            moved[key] = value
    return values if moved is None else moved


def _value(prop: Property, value: Any, walk: _Walk) -> Any:
    typed = _typed(prop.type, value, walk)
    if isinstance(prop.schema, Property) and isinstance(typed, list):
        typed = [_value(prop.schema, item, _Walk(walk.custom, [*walk.path, i]))
                 for i, item in enumerate(typed)]
    elif isinstance(prop.schema, Mapping) and isinstance(typed, Mapping):
        typed = _map(prop.schema, typed, walk)
    for constraint in prop.constraints:
        problem = constraint.problem(typed, None, walk.custom)
        if problem is not None:
            raise walk.fail(constraint.description or problem)
    return typed


def _typed(kind: str, value: Any, walk: _Walk) -> Any:
    if kind == ANY:
        return value
    if kind == STRING:
        if isinstance(value, (Mapping, list)):
            raise walk.fail(f"Value must be a string; got {json.dumps(value)}")
        return value if isinstance(value, str) else (
            str(value).lower() if isinstance(value, bool) else str(value))
    if kind in (INTEGER, NUMBER):
        noun = "an integer" if kind == INTEGER else "a number"
        if isinstance(value, bool):
            raise walk.fail(f"Value '{value}' is not {noun}")
        try:
            if kind == INTEGER or (isinstance(value, int) or ("." not in str(value)
                                   and "e" not in str(value).lower())):
                return int(str(value))
            return float(value)
        except ValueError:
            raise walk.fail(f"Value '{value}' is not {noun}") from None
    if kind == BOOLEAN:
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in ("true", "t", "on", "y", "yes", "1"):
            return True
        if text in ("false", "f", "off", "n", "no", "0"):
            return False
        raise walk.fail(f'Unrecognized value "{value}", acceptable values are: '
                        "'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', "
                        "'y', 'yes'")
    if kind == LIST:
        if isinstance(value, str):
            return [item for item in value.split(",") if item] if value else []
        if not isinstance(value, list):
            raise walk.fail(f'"{value}" is not a list')
        return list(value)
    if kind == MAP:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        if not isinstance(value, Mapping):
            raise walk.fail(f'"{value}" is not a map')
        return dict(value)
    raise AssertionError(f"unknown property type {kind}")
