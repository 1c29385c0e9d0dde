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
