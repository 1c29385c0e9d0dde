"""Compute request schemas, written to nova's rules (nova rejects unknown keys)."""

from __future__ import annotations

from typing import Any

from stacklab.api.validation import MAX_INT
from stacklab.compute.server_schemas import BOOLEAN

_NAME = {"type": "string", "minLength": 1, "maxLength": 255,
         "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
# nova bounds flavor sizes and quota limits by its INT columns (db constants MAX_INT).
_NON_NEGATIVE = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 0,
                 "maximum": MAX_INT}
_POSITIVE = {"type": ["integer", "string"], "pattern": "^0*[1-9][0-9]*$", "minimum": 1,
             "maximum": MAX_INT}

_FLAVOR_CREATE: dict[str, Any] = {
    "type": "object",
    "required": ["flavor"],
    "additionalProperties": False,
    "properties": {"flavor": {
        "type": "object",
        "required": ["name", "ram", "vcpus", "disk"],
        "additionalProperties": False,
        "properties": {
            "name": _NAME,
            # nova's flavor_id takes a JSON number too (stored as its string form).
            "id": {"type": ["string", "number", "null"], "minLength": 1, "maxLength": 255,
                   "pattern": r"^(?! )[a-zA-Z0-9. _-]+(?<! )$"},
            "ram": _POSITIVE, "vcpus": _POSITIVE, "disk": _NON_NEGATIVE,
            "OS-FLV-EXT-DATA:ephemeral": _NON_NEGATIVE,
            "swap": {"type": ["integer", "string"], "pattern": "^[0-9]*$", "maximum": MAX_INT},
            "rxtx_factor": {"type": ["number", "string"],
                            "pattern": r"^[0-9]+(\.[0-9]+)?$", "exclusiveMinimum": 0,
                            "maximum": 3.40282e38},  # nova's: a C float's largest
            "os-flavor-access:is_public": BOOLEAN,
        },
    }},
}


def _with_description(schema: dict[str, Any]) -> dict[str, Any]:
    flavor = schema["properties"]["flavor"]
    return {**schema, "properties": {"flavor": {**flavor, "properties": {
        **flavor["properties"],
        "description": {"type": ["string", "null"], "maxLength": 65535}}}}}


# By the microversion each starts at: 2.55 adds the description.
def _without_rxtx(schema: dict[str, Any]) -> dict[str, Any]:
    """2.102 takes no ``rxtx_factor`` any more (a flavor's is always 1.0)."""
    fields = {k: v for k, v in schema["properties"]["flavor"]["properties"].items()
              if k != "rxtx_factor"}
    return {**schema, "properties": {"flavor": {**schema["properties"]["flavor"],
                                                "properties": fields}}}


FLAVOR_CREATE: dict[str, dict[str, Any]] = {
    "2.1": _FLAVOR_CREATE, "2.55": _with_description(_FLAVOR_CREATE),
    "2.102": _without_rxtx(_with_description(_FLAVOR_CREATE))}

FLAVOR_UPDATE: dict[str, Any] = {
    "type": "object", "required": ["flavor"], "additionalProperties": False,
    "properties": {"flavor": {
        "type": "object", "required": ["description"], "additionalProperties": False,
        "properties": {"description": {"type": ["string", "null"], "maxLength": 65535}}}},
}

EXTRA_SPECS: dict[str, Any] = {
    "type": "object", "required": ["extra_specs"], "additionalProperties": False,
    "properties": {"extra_specs": {
        "type": "object",
        "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {
            "type": ["string", "number"], "maxLength": 255}},
        "additionalProperties": False}},
}

_TENANT = {"type": "object", "required": ["tenant"], "additionalProperties": False,
           "properties": {"tenant": {"type": "string", "minLength": 1, "maxLength": 255}}}
# POST /flavors/{id}/action: one schema per action, the body naming one of them.
FLAVOR_ACCESS_ACTIONS: dict[str, dict[str, Any]] = {
    name: {"type": "object", "required": [name], "additionalProperties": False,
           "properties": {name: _TENANT}}
    for name in ("addTenantAccess", "removeTenantAccess")}

def _keypair(*, typed: bool, owned: bool, key_required: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                              "public_key": {"type": "string"}}
    if typed:
        fields["type"] = {"type": "string", "enum": ["ssh", "x509"]}
    if owned:
        fields["user_id"] = {"type": "string"}
    return {"type": "object", "required": ["keypair"], "additionalProperties": False,
            "properties": {"keypair": {
                "type": "object", "additionalProperties": False, "properties": fields,
                "required": ["name", "public_key"] if key_required else ["name"]}}}


# 2.2 adds the key type, 2.10 an admin's user_id, and from 2.92 nova no longer
# generates keys: the public key is required.
KEYPAIR_CREATE: dict[str, dict[str, Any]] = {
    "2.1": _keypair(typed=False, owned=False, key_required=False),
    "2.2": _keypair(typed=True, owned=False, key_required=False),
    "2.10": _keypair(typed=True, owned=True, key_required=False),
    "2.92": _keypair(typed=True, owned=True, key_required=True),
}

# The pre-2.53 actions take {host, binary, ...}; 2.53's PUT by id takes the changes.
SERVICE_ACTION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "host": {"type": "string", "minLength": 1, "maxLength": 255},
        "binary": {"type": "string", "minLength": 1, "maxLength": 255},
        "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
        "forced_down": {"type": "boolean"},
        "status": {"type": "string", "enum": ["enabled", "disabled"]},
    },
    "additionalProperties": False,
}

SERVICE_UPDATE: dict[str, Any] = {
    "type": "object", "minProperties": 1, "additionalProperties": False,
    "properties": {
        "status": {"type": "string", "enum": ["enabled", "disabled"]},
        "disabled_reason": {"type": "string", "minLength": 1, "maxLength": 255},
        "forced_down": {"type": "boolean"},
    },
}


def _group(policies: list[str], *, v264: bool) -> dict[str, Any]:
    name = {"type": "string", "minLength": 1, "maxLength": 255,
            "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
    if v264:
        inner: dict[str, Any] = {
            "name": name, "policy": {"type": "string", "enum": policies},
            "rules": {"type": "object", "additionalProperties": False, "properties": {
                "max_server_per_host": {"type": ["integer", "string"], "pattern": "^[0-9]*$",
                                        "minimum": 1, "minLength": 1}}}}
        required = ["name", "policy"]
    else:
        inner = {"name": name, "policies": {
            "type": "array", "items": {"type": "string", "enum": policies},
            "uniqueItems": True, "minItems": 1, "maxItems": 1}}
        required = ["name", "policies"]
    return {"type": "object", "required": ["server_group"], "additionalProperties": False,
            "properties": {"server_group": {"type": "object", "required": required,
                                            "additionalProperties": False,
                                            "properties": inner}}}


_HARD = ["anti-affinity", "affinity"]
_ALL = [*_HARD, "soft-anti-affinity", "soft-affinity"]
# By microversion: 2.15 adds the soft policies, 2.64 turns "policies" into "policy" + rules.
SERVER_GROUP_CREATE = {"2.1": _group(_HARD, v264=False), "2.15": _group(_ALL, v264=False),
                       "2.64": _group(_ALL, v264=True)}
