"""Request schemas of attachments and the attach/detach actions, with cinder's constraints
(cinder/api/schemas/attachments.py, volume_actions.py, admin_actions.py)."""

from __future__ import annotations

from typing import Any

from stacklab.block_storage.schemas import UUID

NULLABLE_UUID: dict[str, Any] = {"oneOf": [UUID, {"type": "null"}]}
CONNECTOR: dict[str, Any] = {"type": ["object", "null"]}
MODE: dict[str, Any] = {"type": "string", "enum": ["rw", "ro"]}
# The actions whose body is ignored: anything, as cinder's ``{}`` schema.
ANYTHING: dict[str, Any] = {}


def _wrapped(key: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {key: inner}, "required": [key],
            "additionalProperties": False}


def attachment_create(with_mode: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {"instance_uuid": UUID, "connector": CONNECTOR,
                                  "volume_uuid": UUID}
    if with_mode:
        properties["mode"] = MODE
    return _wrapped("attachment", {"type": "object", "properties": properties,
                                   "required": ["volume_uuid"],
                                   "additionalProperties": False})


ATTACHMENT_UPDATE = _wrapped("attachment", {
    "type": "object",
    "properties": {"connector": {"type": "object", "minProperties": 1}},
    "required": ["connector"], "additionalProperties": False})
COMPLETE = _wrapped("os-complete", ANYTHING)

ATTACH = _wrapped("os-attach", {
    "type": "object",
    "properties": {"instance_uuid": UUID,
                   "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
                   "host_name": {"type": "string", "maxLength": 255},
                   "mode": MODE},
    "required": ["mountpoint"],
    "anyOf": [{"required": ["instance_uuid"]}, {"required": ["host_name"]}],
    "additionalProperties": False})
DETACH = _wrapped("os-detach", {
    "type": ["object", "null"],
    "properties": {"attachment_id": NULLABLE_UUID},
    "additionalProperties": False})
RESERVE = _wrapped("os-reserve", ANYTHING)
UNRESERVE = _wrapped("os-unreserve", ANYTHING)
BEGIN_DETACHING = _wrapped("os-begin_detaching", ANYTHING)
ROLL_DETACHING = _wrapped("os-roll_detaching", ANYTHING)
INITIALIZE_CONNECTION = _wrapped("os-initialize_connection", {
    "type": "object", "properties": {"connector": {"type": ["object", "string"]}},
    "required": ["connector"], "additionalProperties": False})
TERMINATE_CONNECTION = _wrapped("os-terminate_connection", {
    "type": "object", "properties": {"connector": {"type": ["string", "object", "null"]}},
    "required": ["connector"], "additionalProperties": False})
FORCE_DETACH = _wrapped("os-force_detach", {
    "type": "object",
    "properties": {"connector": {"type": ["string", "object", "null"]},
                   "attachment_id": {"type": ["string", "null"]}},
    "additionalProperties": False})
