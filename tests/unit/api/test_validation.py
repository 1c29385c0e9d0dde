"""Request body parsing and schema validation: every message names the offending field."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema.exceptions import SchemaError

from stacklab.api.errors import BadRequest
from stacklab.api.validation import ID_STRING, Schema, parse_json, string

USER = Schema({
    "type": "object",
    "properties": {
        "user": {
            "type": "object",
            "properties": {
                "name": string(64),
                "enabled": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "domain": {
                    "type": "object",
                    "properties": {"id": ID_STRING},
                    "required": ["id"],
                },
            },
            "required": ["name"],
            "additionalProperties": False,
        },
    },
    "required": ["user"],
    "additionalProperties": False,
})


def message_for(schema: Schema, body: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        schema.validate(body)
    assert caught.value.status == 400
    return caught.value.message


def test_a_valid_body_passes() -> None:
    USER.validate({"user": {"name": "alice", "enabled": True, "tags": ["a"],
                            "domain": {"id": "default"}}})


def test_wrong_type_names_the_nested_path() -> None:
    assert message_for(USER, {"user": {"name": 3}}) == (
        "Invalid input for field 'user/name': 3 is not of type 'string'"
    )


def test_wrong_type_inside_an_array_names_the_index() -> None:
    message = message_for(USER, {"user": {"name": "a", "tags": ["ok", 7]}})
    assert message.startswith("Invalid input for field 'user/tags/1':")
    assert "7 is not of type 'string'" in message


def test_missing_top_level_property_is_named() -> None:
    assert message_for(USER, {}) == (
        "Invalid input for field 'user': 'user' is a required property"
    )


def test_missing_nested_property_is_named_with_its_path() -> None:
    assert message_for(USER, {"user": {}}) == (
        "Invalid input for field 'user/name': 'name' is a required property"
    )
    message = message_for(USER, {"user": {"name": "a", "domain": {}}})
    assert message == "Invalid input for field 'user/domain/id': 'id' is a required property"


def test_additional_property_names_the_object_and_the_extra_key() -> None:
    message = message_for(USER, {"user": {"name": "a", "colour": "red"}})
    assert message.startswith("Invalid input for field 'user':")
    assert "'colour' was unexpected" in message


def test_additional_property_at_the_top_level_names_the_root() -> None:
    message = message_for(USER, {"user": {"name": "a"}, "extra": 1})
    assert message.startswith("Invalid input for field '/':")
    assert "'extra' was unexpected" in message


def test_a_wrong_type_at_the_root_has_no_field() -> None:
    assert message_for(USER, []) == "Invalid input: [] is not of type 'object'"


def test_length_limits_from_the_string_fragment() -> None:
    message = message_for(USER, {"user": {"name": ""}})
    assert message.startswith("Invalid input for field 'user/name':")
    message = message_for(USER, {"user": {"name": "x" * 65}})
    assert message.startswith("Invalid input for field 'user/name':")


def test_nullable_string_fragment_accepts_null() -> None:
    schema = Schema({"type": "object", "properties": {"d": string(10, nullable=True)}})
    schema.validate({"d": None})
    assert message_for(schema, {"d": 5}).startswith("Invalid input for field 'd':")


def test_an_invalid_schema_fails_the_declared_schema_check() -> None:
    # Schemas are no longer checked at build time (start-up cost); the unit test
    # test_declared_schemas checks every declared one, with this same call.
    from jsonschema import Draft202012Validator

    with pytest.raises(SchemaError):
        Draft202012Validator.check_schema(Schema({"type": "no-such-type"}).schema)


def test_parse_json_returns_the_document() -> None:
    assert parse_json(b'{"a": [1, 2, {"b": null}]}') == {"a": [1, 2, {"b": None}]}
    assert parse_json('{"name": "caf\u00e9"}'.encode()) == {"name": "caf\u00e9"}


@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\t "])
def test_parse_json_empty_body_is_400(raw: bytes) -> None:
    with pytest.raises(BadRequest, match="request body is empty"):
        parse_json(raw)


@pytest.mark.parametrize("raw", [b"{", b"{'a': 1}", b"[1,]", b"nope", b'{"a": 1} trailing'])
def test_parse_json_malformed_is_400(raw: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_json(raw)
    assert caught.value.status == 400
    assert caught.value.message.startswith("Malformed request body:")


@pytest.mark.parametrize("raw", [b'{"name": "\xff"}', b'{"name": "\xc3\x28"}'])
def test_parse_json_non_utf8_is_400_not_a_crash(raw: bytes) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_json(raw)
    assert caught.value.message.startswith("Malformed request body:")
