"""Request schemas of the Block Storage API, with cinder's constraints
(cinder/api/schemas/, cinder/api/validation/parameter_types.py), in stacklab's words."""

from __future__ import annotations

from typing import Any

# cinder/common/constants.py DB_MAX_INT: what an Integer column holds.
DB_MAX_INT = 0x7FFFFFFF

NAME: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255}
NULLABLE_NAME: dict[str, Any] = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
DESCRIPTION: dict[str, Any] = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"], "minLength": 0, "maxLength": 255}
# cinder's "boolean": JSON booleans or the words oslo's bool_from_string reads.
BOOLEAN: dict[str, Any] = {
    "type": ["boolean", "string"],
    "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes", "y",
             "t", False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No",
             "no", "n", "f"],
}
TRUE_WORDS = frozenset({"true", "1", "on", "yes", "y", "t"})
UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
OPTIONAL_UUID: dict[str, Any] = {"oneOf": [{"type": "null"}, UUID]}
# A cinder host: host, host@backend or host@backend#pool.
CINDER_HOST: dict[str, Any] = {"type": ["string", "null"], "minLength": 1, "maxLength": 255,
                               "pattern": r"^[a-zA-Z0-9-._#@:/+\[\]]*$"}
KEY_PATTERN = "^[a-zA-Z0-9-_:. /]{1,255}$"
# Extra specs and metadata: keys of up to 255 safe characters, string values.
SPECS: dict[str, Any] = {
    "type": "object",
    "patternProperties": {KEY_PATTERN: {"type": "string", "maxLength": 255}},
    "additionalProperties": False,
}
METADATA_OR_NULL: dict[str, Any] = {**SPECS, "type": ["object", "null"]}
IMAGE_METADATA: dict[str, Any] = {
    "type": "object",
    "patternProperties": {KEY_PATTERN: {"type": "string", "maxLength": 65535}},
    "additionalProperties": False,
}
VOLUME_SIZE: dict[str, Any] = {"type": ["integer", "string"], "pattern": "^[0-9]+$",
                               "minimum": 1, "maximum": DB_MAX_INT}
ZONE: dict[str, Any] = {"type": ["string", "null"], "minLength": 1, "maxLength": 255}


def as_bool(value: Any) -> bool:
    """What cinder's ``strutils.bool_from_string`` makes of a checked boolean."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


# -- os-services (cinder/api/schemas/services.py) ----------------------------------------

ENABLE_DISABLE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "binary": {"type": "string", "minLength": 1, "maxLength": 255},
        "host": CINDER_HOST,
        "cluster": NULLABLE_STRING,
        "service": {"type": "string", "minLength": 1, "maxLength": 255},
    },
    "anyOf": [{"required": ["binary"]}, {"required": ["service"]}],
    "additionalProperties": False,
}
DISABLE_LOG_REASON: dict[str, Any] = {
    **ENABLE_DISABLE,
    "properties": {**ENABLE_DISABLE["properties"],
                   "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255}},
}
FREEZE_THAW: dict[str, Any] = {
    "type": "object",
    "properties": {"cluster": NULLABLE_STRING, "host": CINDER_HOST},
    "additionalProperties": False,
}


# -- types (cinder/api/schemas/volume_types.py, types_extra_specs.py, ...) -----------------

def _wrapped(key: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {key: inner}, "required": [key],
            "additionalProperties": False}


TYPE_CREATE = _wrapped("volume_type", {
    "type": "object",
    "properties": {"name": NAME, "description": DESCRIPTION, "extra_specs": SPECS,
                   "os-volume-type-access:is_public": BOOLEAN},
    "required": ["name"], "additionalProperties": False})
TYPE_UPDATE = _wrapped("volume_type", {
    "type": "object",
    "properties": {"name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
                   "description": DESCRIPTION, "is_public": BOOLEAN},
    "additionalProperties": False})
EXTRA_SPECS_CREATE = _wrapped("extra_specs", SPECS)
# PUT .../extra_specs/{key}: exactly one key, the path's.
EXTRA_SPEC_UPDATE: dict[str, Any] = {**SPECS, "minProperties": 1, "maxProperties": 1}
ACCESS: dict[str, Any] = {"type": "object",
                          "properties": {"project": {"type": "string", "minLength": 1,
                                                     "maxLength": 255}},
                          "required": ["project"], "additionalProperties": False}
ADD_ACCESS = _wrapped("addProjectAccess", ACCESS)
REMOVE_ACCESS = _wrapped("removeProjectAccess", ACCESS)
KEY_SIZE: dict[str, Any] = {"type": ["string", "integer", "null"], "minimum": 0,
                            "maximum": DB_MAX_INT, "pattern": "^[0-9]*$"}
_ENCRYPTION_FIELDS: dict[str, Any] = {
    "key_size": KEY_SIZE,
    "provider": {"type": "string", "minLength": 0, "maxLength": 255},
    "control_location": {"enum": ["front-end", "back-end"]},
    "cipher": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
}
ENCRYPTION_CREATE = _wrapped("encryption", {
    "type": "object", "properties": _ENCRYPTION_FIELDS,
    "required": ["provider", "control_location"], "additionalProperties": True})
ENCRYPTION_UPDATE = _wrapped("encryption", {
    "type": "object", "properties": _ENCRYPTION_FIELDS, "additionalProperties": True})

# -- QoS specs (cinder/api/schemas/qos_specs.py) ------------------------------------------

QOS_CREATE = _wrapped("qos_specs", {
    "type": "object",
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}},
    "required": ["name"],
    "patternProperties": {KEY_PATTERN: {"type": "string", "maxLength": 255}},
    "additionalProperties": False})
QOS_SET = _wrapped("qos_specs", {
    "type": "object",
    "patternProperties": {KEY_PATTERN: {"type": "string", "maxLength": 255}},
    "additionalProperties": False})
QOS_UNSET: dict[str, Any] = {
    "type": "object",
    "properties": {"keys": {"type": "array", "minItems": 1, "uniqueItems": True,
                            "items": {"type": "string", "minLength": 1, "maxLength": 255}}},
    "required": ["keys"], "additionalProperties": False}
