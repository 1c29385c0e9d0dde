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
# cinder/api/schemas/services.py set_log and get_log; the level's format check is the
# handler's (cinder's raises InvalidInput naming the level).
_LOG_BINARY: dict[str, Any] = {
    "type": "string",
    "enum": ["cinder-scheduler", "cinder-volume", "cinder-backup", "cinder-api", "", "*"]}
GET_LOG: dict[str, Any] = {
    "type": "object",
    "properties": {"binary": _LOG_BINARY, "server": NULLABLE_STRING,
                   "prefix": NULLABLE_STRING},
    "additionalProperties": False,
}
SET_LOG: dict[str, Any] = {
    **GET_LOG,
    "properties": {**GET_LOG["properties"], "level": {"type": ["string", "null"]}},
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


# -- volumes (cinder/api/schemas/volumes.py, volume_actions.py, volume_metadata.py) ---------

_VOLUME_FIELDS: dict[str, Any] = {
    "name": NULLABLE_NAME, "description": DESCRIPTION,
    "display_name": NULLABLE_NAME, "display_description": DESCRIPTION,
    # A type by name or id: looked up, not checked here.
    "volume_type": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "metadata": METADATA_OR_NULL,
    "snapshot_id": OPTIONAL_UUID, "source_volid": OPTIONAL_UUID,
    "consistencygroup_id": OPTIONAL_UUID,
    "size": {**VOLUME_SIZE, "type": ["integer", "string", "null"]},
    "availability_zone": ZONE,
    "multiattach": {"oneOf": [{"type": "null"}, BOOLEAN]},
    "image_id": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "imageRef": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "group_id": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "backup_id": OPTIONAL_UUID,
}


def volume_create(strict: bool) -> dict[str, Any]:
    """Before 3.53 a volume body may carry keys cinder ignores; from 3.53 none."""
    return {"type": "object",
            "properties": {"volume": {"type": "object", "properties": _VOLUME_FIELDS,
                                      "additionalProperties": not strict},
                           "OS-SCH-HNT:scheduler_hints": {"type": ["object", "null"]}},
            "required": ["volume"], "additionalProperties": False}


_UPDATE_FIELDS: dict[str, Any] = {
    "name": NULLABLE_NAME, "description": DESCRIPTION, "display_name": NULLABLE_NAME,
    "display_description": DESCRIPTION, "metadata": SPECS}


def volume_update(strict: bool) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": "object", "properties": _UPDATE_FIELDS,
                             "additionalProperties": False}
    if strict:  # 3.53: at least one of them
        inner["anyOf"] = [{"required": [name]} for name in _UPDATE_FIELDS]
    return _wrapped("volume", inner)


METADATA = _wrapped("metadata", SPECS)
META_ITEM = _wrapped("meta", {**SPECS, "minProperties": 1, "maxProperties": 1})
EXTEND = _wrapped("os-extend", {
    "type": "object", "properties": {"new_size": VOLUME_SIZE}, "required": ["new_size"],
    "additionalProperties": False})
SET_BOOTABLE = _wrapped("os-set_bootable", {
    "type": "object", "properties": {"bootable": BOOLEAN}, "required": ["bootable"],
    "additionalProperties": False})
READONLY = _wrapped("os-update_readonly_flag", {
    "type": "object", "properties": {"readonly": BOOLEAN}, "required": ["readonly"],
    "additionalProperties": False})
SET_IMAGE_METADATA = _wrapped("os-set_image_metadata", {
    "type": "object", "properties": {"metadata": IMAGE_METADATA}, "required": ["metadata"],
    "additionalProperties": False})
UNSET_IMAGE_METADATA = _wrapped("os-unset_image_metadata", {
    "type": "object", "properties": {"key": {"type": "string", "minLength": 1,
                                             "maxLength": 255}},
    "required": ["key"], "additionalProperties": False})
SHOW_IMAGE_METADATA = _wrapped("os-show_image_metadata", {"type": ["object", "null"]})
FORCE_DELETE = _wrapped("os-force_delete", {"type": ["object", "null"]})
RESET_STATUS = _wrapped("os-reset_status", {
    "type": "object",
    "properties": {"status": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
                   "attach_status": {"type": ["string", "null"], "minLength": 1,
                                     "maxLength": 255},
                   "migration_status": {"type": ["string", "null"], "minLength": 1,
                                        "maxLength": 255}},
    "additionalProperties": False})

# -- snapshots (cinder/api/schemas/snapshots.py, snapshot_actions.py) ---------------------

SNAPSHOT_CREATE = _wrapped("snapshot", {
    "type": "object",
    "properties": {"name": NULLABLE_NAME, "display_name": NULLABLE_NAME,
                   "description": DESCRIPTION, "display_description": DESCRIPTION,
                   # cinder's uuid_allow_null: a null volume_id is then not found (404).
                   "volume_id": {"oneOf": [UUID, {"type": "null"}]}, "force": BOOLEAN,
                   "metadata": METADATA_OR_NULL},
    "required": ["volume_id"], "additionalProperties": False})
SNAPSHOT_UPDATE = _wrapped("snapshot", {
    "type": "object",
    "properties": {"name": NULLABLE_NAME, "display_name": NULLABLE_NAME,
                   "description": DESCRIPTION, "display_description": DESCRIPTION},
    "additionalProperties": False,
    "anyOf": [{"required": ["name"]}, {"required": ["description"]},
              {"required": ["display_name"]}, {"required": ["display_description"]}]})
SNAPSHOT_UPDATE_STATUS = _wrapped("os-update_snapshot_status", {
    "type": "object",
    # cinder's "progress" format: an integer percentage, 0% to 100%.
    "properties": {"status": {"type": "string"},
                   "progress": {"type": "string", "pattern": "^(100|[0-9]{1,2})%$"}},
    "required": ["status"], "additionalProperties": False})
SNAPSHOT_RESET_STATUS = _wrapped("os-reset_status", {
    "type": "object", "properties": {"status": {"type": "string", "minLength": 1,
                                                "maxLength": 255}},
    "required": ["status"], "additionalProperties": False})

# -- quotas (cinder/api/schemas/quotas.py) ------------------------------------------------

QUOTA_UPDATE = _wrapped("quota_set", {
    "type": "object",
    "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,300}$": {
        "type": ["integer", "string", "boolean"]}},
    "additionalProperties": False})
