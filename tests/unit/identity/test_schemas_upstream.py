"""Our Identity request schemas accept what keystone's accept and reject what they reject.

For every operation we validate, keystone's own request schema (dumped in
``shared/api-ref/derived``) generates a fully populated valid body, which we
must accept; then each top-level field of the entity is given a value of the
wrong JSON type that keystone rejects, which we must reject too.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from stacklab.api.errors import BadRequest
from stacklab.identity.api import api
from support.apiref import FORMAT_CHECKER, keystone_request_schema

# Our path parameter names differ from keystone's in places; compare shapes only.
_PARAM = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path)


def _upstream_paths() -> dict[tuple[str, str], str]:
    import json

    from support.apiref import api_ref

    doc = json.loads((api_ref() / "derived/keystone/identity-v3.schemas.json").read_text())
    return {(_shape(op["path"]), op["method"]): op["path"] for op in doc["operations"]}


def _operations() -> list[tuple[str, str, Any, str]]:
    upstream = _upstream_paths()
    found = []
    for op in api.operations:
        if op.schema is None:
            continue
        path = upstream.get((_shape(op.path), op.method))
        if path is None:
            continue
        schema = keystone_request_schema(path, op.method)
        if schema is not None:
            found.append((op.method, op.path, op.schema, path))
    return found


OPERATIONS = _operations()


def _example(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return _example(schema[key][0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = list(schema.get("properties", {}).items())
        properties = properties[: schema.get("maxProperties", len(properties))]
        return {name: _example(sub) for name, sub in properties}
    if kind == "array":
        items = schema.get("items")
        return [_example(items)] if isinstance(items, dict) else []
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2099-01-01T00:00:00Z"
        for candidate in ("a" * max(3, schema.get("minLength", 0)), "http://example.com/x",
                          "/v3/x", "abc-123"):
            if re.search(schema.get("pattern", ""), candidate):
                return candidate
        raise AssertionError(f"no example string matches {schema['pattern']!r}")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    return None


def _wrong_type(schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    if "string" in kinds:
        return 12345 if "integer" not in kinds and "number" not in kinds else {"x": 1}
    if "boolean" in kinds:
        return "not-a-boolean" if "string" not in kinds else 3.5
    return "wrong" if "object" in kinds or "array" in kinds else [1]


def test_every_validated_operation_has_an_upstream_counterpart_checked() -> None:
    # Guards against this test silently covering nothing after a refactor.
    assert len(OPERATIONS) >= 15


@pytest.mark.parametrize(("method", "path", "ours", "upstream_path"), OPERATIONS,
                         ids=[f"{m} {p}" for m, p, _, _ in OPERATIONS])
def test_schema_agrees_with_keystone(method: str, path: str, ours: Any,
                                     upstream_path: str) -> None:
    upstream = keystone_request_schema(upstream_path, method)
    assert upstream is not None
    validator = Draft202012Validator(upstream, format_checker=FORMAT_CHECKER)
    body = _example(upstream)
    upstream_errors = [e.message for e in validator.iter_errors(body)]
    assert not upstream_errors, f"generated body is not valid upstream: {upstream_errors}"
    ours.validate(body)  # raises BadRequest if we are stricter than keystone

    entity_key = next(iter(upstream.get("properties", {})), None)
    entity_schema = upstream["properties"][entity_key] if entity_key else {}
    checked, accepted = 0, []
    for field, field_schema in entity_schema.get("properties", {}).items():
        if "type" not in field_schema:
            continue
        broken = copy.deepcopy(body)
        broken[entity_key][field] = _wrong_type(field_schema)
        if validator.is_valid(broken):
            continue  # keystone accepts it as well
        checked += 1
        try:
            ours.validate(broken)
        except BadRequest as error:
            assert field in error.message
        else:
            accepted.append(f"{field}={broken[entity_key][field]!r}")
    assert not accepted, f"keystone rejects, we accept: {accepted}"
    assert checked or not entity_schema.get("properties"), "no field was type-checked"
