"""Request body schemas of Identity v3, written to keystone's rules.

keystone accepts extra attributes on most entities (``additionalProperties``
true) and stores them; names are 1-255 characters (64 for projects and
domains); ids are strings up to 64 characters.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.validation import BOOLEAN, DESCRIPTION, ID_STRING, NULLABLE_ID, string


# keystone's names must hold a non-space character.
def _name(max_length: int) -> dict[str, Any]:
    return {**string(max_length), "pattern": r"[\S]+"}


# Resource options keystone knows; an unknown option or a wrong type is refused.
_IMMUTABLE_OPTIONS = {"type": "object", "additionalProperties": False,
                      "properties": {"immutable": {"type": ["boolean", "null"]}}}

_TAG = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"}
TAGS = {"type": "array", "items": _TAG, "maxItems": 80, "uniqueItems": True}
OPTIONS = {"type": "object"}


def _entity(key: str, properties: dict[str, Any], required: list[str] | None = None,
            *, extra: bool = True) -> dict[str, Any]:
    inner: dict[str, Any] = {"type": "object", "properties": properties,
                             "additionalProperties": extra}
    if required:
        inner["required"] = required
    else:
        inner["minProperties"] = 1
    return {"type": "object", "properties": {key: inner}, "required": [key],
            "additionalProperties": False}


_DOMAIN = {"name": _name(64), "description": DESCRIPTION, "enabled": BOOLEAN, "tags": TAGS,
           "options": _IMMUTABLE_OPTIONS, "explicit_domain_id": ID_STRING}
DOMAIN_CREATE = _entity("domain", _DOMAIN, ["name"])
DOMAIN_UPDATE = _entity("domain", {k: v for k, v in _DOMAIN.items()
                                   if k != "explicit_domain_id"})

_PROJECT = {"name": _name(64), "description": DESCRIPTION, "enabled": BOOLEAN,
            "domain_id": NULLABLE_ID, "parent_id": NULLABLE_ID, "is_domain": BOOLEAN,
            "tags": TAGS, "options": _IMMUTABLE_OPTIONS}
PROJECT_CREATE = _entity("project", _PROJECT, ["name"])
PROJECT_UPDATE = _entity("project", _PROJECT)
PROJECT_TAGS = {"type": "object", "properties": {"tags": TAGS}, "required": ["tags"],
                "additionalProperties": False}

_USER = {"name": _name(255), "domain_id": ID_STRING, "enabled": BOOLEAN,
         "default_project_id": NULLABLE_ID, "description": DESCRIPTION,
         "password": {"type": ["string", "null"]}, "email": {"type": ["string", "null"]},
         "options": OPTIONS,
         "federated": {"type": "array", "items": {
             "type": "object", "required": ["idp_id", "protocols"],
             "properties": {"idp_id": {"type": "string"}, "protocols": {"type": "array"}}}}}
USER_CREATE = _entity("user", _USER, ["name"])
USER_UPDATE = _entity("user", _USER)
USER_PASSWORD = _entity("user", {"password": {"type": "string"},
                                 "original_password": {"type": "string"}},
                        ["password", "original_password"], extra=False)

_GROUP = {"name": _name(64), "domain_id": ID_STRING, "description": DESCRIPTION}
GROUP_CREATE = _entity("group", _GROUP, ["name"])
GROUP_UPDATE = _entity("group", _GROUP)

_ROLE = {"name": _name(255), "domain_id": NULLABLE_ID, "description": DESCRIPTION,
         "options": _IMMUTABLE_OPTIONS}
ROLE_CREATE = _entity("role", _ROLE, ["name"])
ROLE_UPDATE = _entity("role", _ROLE)

_REGION = {"id": string(255), "description": DESCRIPTION, "parent_region_id": NULLABLE_ID}
REGION_CREATE = {"type": "object", "properties": {"region": {
    "type": "object", "properties": _REGION, "additionalProperties": True}},
    "required": ["region"], "additionalProperties": False}
REGION_UPDATE = _entity("region", {**_REGION, "id": string(255, nullable=True)})

_SERVICE = {"type": string(255), "name": string(255, min_length=0),
            "description": DESCRIPTION, "enabled": BOOLEAN}
SERVICE_CREATE = _entity("service", _SERVICE, ["type"])
SERVICE_UPDATE = _entity("service", _SERVICE)

_ENDPOINT = {"service_id": ID_STRING, "interface": {"enum": ["public", "internal", "admin"]},
             "url": {"type": "string", "minLength": 1, "maxLength": 225,
                     "pattern": "^[a-zA-Z0-9+.-]+:.+"},
             "region_id": NULLABLE_ID, "region": NULLABLE_ID, "enabled": BOOLEAN,
             "id": {"type": "string"}, "name": {"type": "string"}, "description": DESCRIPTION}
ENDPOINT_CREATE = _entity("endpoint", _ENDPOINT, ["service_id", "interface", "url"])
ENDPOINT_UPDATE = _entity("endpoint", _ENDPOINT)

_ROLE_REF = {"type": "object", "properties": {"id": ID_STRING, "name": string(255),
                                              "domain_id": NULLABLE_ID},
             "minProperties": 1}
_ACCESS_RULE = {"type": "object", "properties": {
    "id": ID_STRING, "path": {"type": "string", "minLength": 1, "maxLength": 225},
    "method": {"enum": ["POST", "GET", "HEAD", "PATCH", "PUT", "DELETE"]},
    "service": {"type": "string", "minLength": 1, "maxLength": 64}},
    "additionalProperties": False}
APP_CRED_CREATE = _entity("application_credential", {
    "name": string(255), "description": DESCRIPTION,
    "secret": {"type": ["string", "null"], "minLength": 1, "maxLength": 4096},
    "expires_at": {"type": ["string", "null"]}, "roles": {"type": "array", "items": _ROLE_REF},
    "unrestricted": {"type": ["boolean", "null"]},
    "access_rules": {"type": "array", "items": _ACCESS_RULE},
    # Accepted as keystone does; the server decides them.
    "id": {"type": "string"}, "project_id": {"type": "string"},
    "system": {"type": ["string", "null"]}}, ["name"], extra=False)

_CREDENTIAL = {"id": {"type": "string"}, "blob": {"type": "string"}, "project_id": NULLABLE_ID,
               "type": string(255), "user_id": ID_STRING}
CREDENTIAL_CREATE = _entity("credential", _CREDENTIAL, ["blob", "type", "user_id"])
CREDENTIAL_UPDATE = _entity("credential", _CREDENTIAL)

_USER_REF = {"type": "object", "properties": {
    "id": ID_STRING, "name": string(255), "password": {"type": "string"},
    "domain": {"type": "object", "properties": {"id": ID_STRING, "name": string(64)}}}}
_SCOPE_REF = {"type": "object", "properties": {
    "id": ID_STRING, "name": string(64),
    "domain": {"type": "object", "properties": {"id": ID_STRING, "name": string(64)}}}}
AUTH = {
    "type": "object",
    "required": ["auth"],
    "properties": {"auth": {
        "type": "object",
        "required": ["identity"],
        "properties": {
            "identity": {
                "type": "object",
                "required": ["methods"],
                "properties": {
                    "methods": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                    "password": {"type": "object", "required": ["user"],
                                 "properties": {"user": _USER_REF}},
                    "token": {"type": "object", "required": ["id"],
                              "properties": {"id": {"type": "string"}}},
                    "application_credential": {"type": "object", "required": ["secret"],
                                               "properties": {"id": ID_STRING,
                                                              "name": string(255),
                                                              "secret": {"type": "string"},
                                                              "user": _USER_REF}},
                },
            },
            "scope": {"anyOf": [
                {"type": "string", "enum": ["unscoped"]},
                {"type": "object", "properties": {
                    "project": _SCOPE_REF, "domain": _SCOPE_REF,
                    "system": {"type": "object", "properties": {"all": {"type": "boolean"}}},
                    "OS-TRUST:trust": {"type": "object"}}},
            ]},
        },
    }},
}

EC2_CREATE = {"type": "object", "properties": {"tenant_id": ID_STRING}, "required": ["tenant_id"],
              "additionalProperties": True}

# -- OS-TRUST ------------------------------------------------------------------------
_TRUST_ROLE_REF = {"type": "object", "properties": {"id": {**ID_STRING,
                                                          "pattern": "^[a-zA-Z0-9-]+$"},
                                                   "name": _name(255)},
                   "minProperties": 1, "maxProperties": 1, "additionalProperties": False}
TRUST_CREATE = _entity("trust", {
    "trustor_user_id": {"type": "string"}, "trustee_user_id": {"type": "string"},
    "impersonation": BOOLEAN, "project_id": {"type": ["string", "null"]},
    "remaining_uses": {"type": ["integer", "null"], "minimum": 1},
    "expires_at": {"type": ["null", "string"]},
    "allow_redelegation": {"type": ["boolean", "null"]},
    "redelegation_count": {"type": ["integer", "null"], "minimum": 0},
    "redelegated_trust_id": {"type": ["string", "null"]},
    "roles": {"type": "array", "items": _TRUST_ROLE_REF}},
    ["trustor_user_id", "trustee_user_id", "impersonation"])

# -- domain configuration: the groups and options are checked by the domain code, which
# words keystone's errors; the body only has to be a "config" object.
DOMAIN_CONFIG = {"type": "object", "properties": {"config": {"type": "object"}},
                 "required": ["config"]}

# -- the policy blob API ---------------------------------------------------------------
_POLICY = {"blob": {"type": "string"}, "type": string(255)}
POLICY_CREATE = _entity("policy", _POLICY, ["blob", "type"])
POLICY_UPDATE = _entity("policy", _POLICY)

# -- OS-EP-FILTER endpoint groups --------------------------------------------------------
_ENDPOINT_GROUP_FILTERS = {"type": "object", "properties": {
    "interface": {"type": "string", "enum": ["admin", "internal", "public"]},
    "service_id": {"type": "string"}, "region_id": {"type": ["string", "null"]},
    "enabled": BOOLEAN}}
_ENDPOINT_GROUP = {"description": DESCRIPTION, "filters": _ENDPOINT_GROUP_FILTERS,
                   "name": _name(255)}
ENDPOINT_GROUP_CREATE = _entity("endpoint_group", _ENDPOINT_GROUP, ["name", "filters"],
                                extra=False)
ENDPOINT_GROUP_UPDATE = _entity("endpoint_group", _ENDPOINT_GROUP, extra=False)

# -- OS-OAUTH1 consumers: any attributes, but the secret is the server's ------------------
_CONSUMER = {"description": DESCRIPTION}
CONSUMER_CREATE = {"type": "object", "properties": {"consumer": {
    "type": "object", "properties": _CONSUMER, "additionalProperties": True}},
    "required": ["consumer"], "additionalProperties": False}
CONSUMER_UPDATE = {"type": "object", "properties": {"consumer": {
    "type": "object", "properties": _CONSUMER, "not": {"required": ["secret"]},
    "minProperties": 1, "additionalProperties": True}},
    "required": ["consumer"], "additionalProperties": False}

# -- OS-OAUTH1 authorization: the roles lent, each named by id or by name -----------------
REQUEST_TOKEN_AUTHORIZE = {"type": "object", "properties": {"roles": {
    "type": "array", "items": {
        "type": "object", "properties": {"id": {"type": "string", "minLength": 1,
                                               "maxLength": 64},
                                        "name": {"type": "string", "minLength": 1,
                                                 "maxLength": 255}},
        "minProperties": 1, "maxProperties": 1, "additionalProperties": False}}},
    "required": ["roles"]}
