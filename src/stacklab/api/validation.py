"""Request body parsing and JSON Schema validation, shared by every service.

Messages name the offending field, as nova's and keystone's validators do:
``Invalid input for field 'user/name': 3 is not of type 'string'``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError, best_match

from stacklab.api.errors import BadRequest

_FORMATS = FormatChecker()


class Schema:
    """A compiled request schema; build once at import, reuse per request."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        # Checking the schema itself is left to the unit tests (test_schemas_are_valid):
        # doing it for every schema at each start cost ~70 ms of start-up.
        self.schema = dict(schema)
        self._validator = Draft202012Validator(self.schema, format_checker=_FORMATS)

    def validate(self, body: Any) -> None:
        try:
            error = best_match(self._validator.iter_errors(body))
        except RecursionError:
            raise BadRequest("Invalid input: the body is nested too deeply.") from None
        if error is not None:
            raise BadRequest(describe(error))


def describe(error: ValidationError) -> str:
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


def parse_json(raw: bytes, malformed: str | None = None) -> Any:
    """The JSON document of a body; ``malformed`` replaces the default error message."""
    if not raw.strip():
        raise BadRequest("The request body is empty; a JSON body is required.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(malformed or f"Malformed request body: {exc}") from exc
    except RecursionError:
        raise BadRequest(malformed or "Malformed request body: nested too deeply.") from None


# Fragments reused by service schemas.
def string(max_length: int = 255, *, min_length: int = 1, nullable: bool = False) -> dict[str, Any]:
    kind: Any = ["string", "null"] if nullable else "string"
    return {"type": kind, "minLength": min_length, "maxLength": max_length}


BOOLEAN: dict[str, Any] = {"type": "boolean"}
ID_STRING: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 64}
NULLABLE_ID: dict[str, Any] = {"type": ["string", "null"], "minLength": 1, "maxLength": 64}
DESCRIPTION: dict[str, Any] = {"type": ["string", "null"]}
