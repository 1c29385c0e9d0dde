"""Request body parsing and JSON Schema validation, shared by every service.

Messages name the offending field, in the service's own words: keystone's
``Invalid input for field 'user/name': 3 is not of type 'string'``, nova's
``Invalid input for field/attribute name. Value: 3. 3 is not of type 'string'``.

Whatever the schema says, a body never reaches a handler holding text that
is not Unicode (a lone surrogate, which SQLite and the logs cannot encode)
or an integer no 64-bit column can hold.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema import validators as _validators
from jsonschema.exceptions import ValidationError, best_match

from stacklab.api.errors import BadRequest

_FORMATS = FormatChecker()
# The widest integer any store column takes (SQLite's INTEGER, MySQL's BIGINT).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# nova's db constant for INT columns (flavor sizes, quota limits): MySQL's INT.
MAX_INT = 2**31 - 1

Describe = Callable[[ValidationError], str]


def _number(instance: Any) -> Any:
    """nova compares numeric strings ("ram": "512") with minimum/maximum as numbers."""
    if isinstance(instance, str):
        try:
            return int(instance)
        except ValueError:
            try:
                return float(instance)
            except ValueError:
                return None
    return instance


def _bound(keyword: str) -> Any:
    original = Draft202012Validator.VALIDATORS[keyword]

    def check(validator: Any, bound: Any, instance: Any, schema: Any) -> Iterator[Any]:
        value = _number(instance)
        if value is not None:
            yield from original(validator, bound, value, schema)

    return check


_Validator = _validators.extend(Draft202012Validator, {
    keyword: _bound(keyword)
    for keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")})


class Schema:
    """A compiled request schema; build once at import, reuse per request."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        # Checking the schema itself is left to the unit tests (test_schemas_are_valid):
        # doing it for every schema at each start cost ~70 ms of start-up.
        self.schema = dict(schema)
        self._validator = _Validator(self.schema, format_checker=_FORMATS)

    def validate(self, body: Any, describe_error: Describe | None = None) -> None:
        try:
            error = best_match(self._validator.iter_errors(body))
        except RecursionError:
            raise BadRequest("Invalid input: the body is nested too deeply.") from None
        if error is not None:
            raise BadRequest((describe_error or describe)(error))


def describe(error: ValidationError) -> str:
    """keystone's (and stacklab's default) wording: the whole path of the field."""
    path = "/".join(str(p) for p in error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance] or [""]
        field = "/".join(p for p in (path, missing[0]) if p)
        return f"Invalid input for field '{field}': '{missing[0]}' is a required property"
    if error.validator == "additionalProperties":
        return f"Invalid input for field '{path or '/'}': {error.message}"
    if not path:
        return f"Invalid input: {error.message}"
    return f"Invalid input for field '{path}': {error.message}"


def describe_nova(error: ValidationError) -> str:
    """nova's wording: the innermost field's name, the value, then jsonschema's reason."""
    if not error.absolute_path:
        return str(error.message)
    return (f"Invalid input for field/attribute {error.absolute_path[-1]}. "
            f"Value: {error.instance}. {error.message}")


def describe_neutron(error: ValidationError) -> str:
    """neutron's wording: ``Invalid input for <attribute>. Reason: <why>.``"""
    if not error.absolute_path:
        return f"Invalid input for operation: {error.message}."
    return f"Invalid input for {error.absolute_path[-1]}. Reason: {error.message}."


def _violation(message: str, path: list[str | int], instance: Any,
               validator: str) -> ValidationError:
    return ValidationError(message, validator=validator, path=deque(path), instance=instance)


def _walk(document: Any) -> Iterator[tuple[list[str | int], Any]]:
    """Every value of a JSON document with its path; keys are yielded as values too."""
    stack: list[tuple[list[str | int], Any]] = [([], document)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            for key, item in value.items():
                yield path, key
                stack.append(([*path, key], item))
        elif isinstance(value, list):
            stack.extend(([*path, index], item) for index, item in enumerate(value))


def _is_unicode(text: str) -> bool:
    if text.isascii():  # the usual case, and no copy made to find out
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(document: Any, describe_error: Describe | None = None) -> None:
    """Refuse lone surrogates (``"\\ud800"``), which no store or log can encode."""
    for path, value in _walk(document):
        if isinstance(value, str) and not _is_unicode(value):
            shown = value.encode("utf-8", "backslashreplace").decode("utf-8")
            shown = shown if len(shown) <= 80 else shown[:77] + "..."
            raise BadRequest((describe_error or describe)(_violation(
                f"'{shown}' is not valid Unicode: it holds a lone surrogate",
                path, shown, "format")))


def check_integers(document: Any, describe_error: Describe | None = None) -> None:
    """Refuse integers no 64-bit column holds, whether or not the schema bounds them."""
    for path, value in _walk(document):
        if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
            if value > INT64_MAX:
                reason = f"{value} is greater than the maximum of {INT64_MAX}"
            else:
                reason = f"{value} is less than the minimum of {INT64_MIN}"
            raise BadRequest((describe_error or describe)(_violation(
                reason, path, value, "maximum" if value > 0 else "minimum")))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(raw: bytes, malformed: str | None = None,
               describe_error: Describe | None = None) -> Any:
    """The JSON document of a body; ``malformed`` replaces the default error message.

    Invalid UTF-8 is malformed JSON; a lone surrogate (raw or escaped) is refused
    naming its field; NaN and Infinity, which Python's parser accepts, are malformed.
    """
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON body is required.")
    try:
        document = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(malformed or f"Malformed request body: {exc}") from exc
    except RecursionError:
        raise BadRequest(malformed or "Malformed request body: nested too deeply.") from None
    check_text(document, describe_error)
    return document


# Fragments reused by service schemas.
def string(max_length: int = 255, *, min_length: int = 1, nullable: bool = False) -> dict[str, Any]:
    kind: Any = ["string", "null"] if nullable else "string"
    return {"type": kind, "minLength": min_length, "maxLength": max_length}


BOOLEAN: dict[str, Any] = {"type": "boolean"}
ID_STRING: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
NULLABLE_ID: dict[str, Any] = {"type": ["string", "null"], "minLength": 1, "maxLength": 64}
DESCRIPTION: dict[str, Any] = {"type": ["string", "null"]}
