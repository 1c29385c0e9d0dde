"""glance's JSON patch of an image, in both of its dialects.

glance reads ``PATCH /v2/images/{id}`` under two media types, one parser: the
``v2.1`` dialect is RFC 6902's (``{"op": "replace", "path": "/name", "value": ...}``),
the older ``v2.0`` one names the operation as the key holding the path
(``{"replace": "/name", "value": ...}``). They differ in one rule only: ``add`` of an
attribute the image already has replaces it in v2.1 and is a 409 in v2.0.

``read_changes`` checks the document as glance's request deserializer does (pointer
syntax, read-only and reserved names, each value against the image schema);
``apply_changes`` applies the changes in order, as glance's controller does, to a copy
of the image's attributes, so a later change sees what an earlier one did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stacklab.api.errors import BadRequest, Conflict, Forbidden, UnsupportedMediaType
from stacklab.api.validation import Schema

V2_0 = "application/openstack-images-v2.0-json-patch"
V2_1 = "application/openstack-images-v2.1-json-patch"
# The JSON Schema draft glance associates with each dialect.
DRAFTS: dict[str, int] = {V2_0: 4, V2_1: 10}
OPERATIONS = ("add", "remove", "replace")

# What glance refuses to let a patch touch, by its lists (api/v2/images.py).
READ_ONLY = frozenset({"created_at", "updated_at", "status", "checksum", "size",
                       "virtual_size", "direct_url", "self", "file", "schema", "id",
                       "os_hash_algo", "os_hash_value", "stores", "locations"})
RESERVED = frozenset({"location", "deleted", "deleted_at"})
RESERVED_PREFIX = "os_glance"
# The image's own attributes (glance's domain Image has them whatever their value).
ATTRIBUTES = frozenset({"name", "visibility", "protected", "os_hidden", "owner", "min_ram",
                        "min_disk", "disk_format", "container_format", "tags"})


@dataclass(frozen=True)
class Change:
    op: str
    name: str
    value: Any = None


@dataclass
class Patched:
    """An image's attributes and extra properties after a patch."""

    attributes: dict[str, Any]
    properties: dict[str, Any]
    changed: set[str] = field(default_factory=set)


def draft_of(content_type: str) -> int:
    """The dialect a request's Content-Type names; 415 with ``Accept-Patch`` otherwise."""
    media_type = content_type.split(";")[0].strip().lower()
    draft = DRAFTS.get(media_type)
    if draft is None:
        allowed = ", ".join(sorted(DRAFTS))
        raise UnsupportedMediaType(f"Image PATCH expects Content-Type one of: {allowed}",
                                   headers={"Accept-Patch": allowed})
    return draft


def read_changes(body: Any, draft: int, value_schemas: Mapping[str, Schema],
                 extra_schema: Schema) -> list[Change]:
    """The changes a patch document asks for, each checked as glance checks it."""
    if not isinstance(body, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    changes = []
    for raw in body:
        if not isinstance(raw, dict):
            raise BadRequest("Operations must be JSON objects.")
        op = _operation(raw, draft)
        pointer = raw.get("path") if draft == 10 else raw[op]
        if draft == 10 and "path" not in raw:
            raise BadRequest("Unable to find 'path' in JSON Schema change")
        path = _decode_pointer(pointer)
        if len(path) != 1:
            raise BadRequest(f"Invalid JSON pointer for this resource: '/{'/'.join(path)}'")
        name = path[0]
        value = None
        if op != "remove":
            if "value" not in raw:
                raise BadRequest(f'Operation "{op}" requires a member named "value".')
            value = raw["value"]
        _check_name(name)
        if op != "remove":
            schema = value_schemas.get(name, extra_schema if name not in ATTRIBUTES else None)
            if schema is not None:
                try:
                    schema.validate(value)
                except BadRequest as error:
                    raise BadRequest(f"Invalid value for '{name}': "
                                     f"{error.message.split(': ', 1)[-1]}") from None
        changes.append(Change(op, name, value))
    return changes


def _operation(raw: Mapping[str, Any], draft: int) -> str:
    available = ", ".join(OPERATIONS)
    if draft == 10:
        op = raw.get("op")
        if op is None:
            raise BadRequest("Unable to find `op` in JSON Schema change. It must be one of "
                             f"the following: {available}.")
        if op not in OPERATIONS:
            raise BadRequest(f"Invalid operation: `{op}`. It must be one of the following: "
                             f"{available}.")
        return str(op)
    named = [key for key in OPERATIONS if key in raw]
    if len(named) > 1:
        raise BadRequest('Operation objects must contain only one member named "add", '
                         '"remove", or "replace".')
    if not named:
        raise BadRequest('Operation objects must contain exactly one member named "add", '
                         '"remove", or "replace".')
    return named[0]


def _decode_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str):
        raise BadRequest(f"Pointer `{pointer}` does not start with \"/\".")
    if not pointer.startswith("/"):
        raise BadRequest(f'Pointer `{pointer}` does not start with "/".')
    if re.search(r"/\s*?/", pointer[1:]):
        raise BadRequest(f'Pointer `{pointer}` contains adjacent "/".')
    if len(pointer) > 1 and pointer.endswith("/"):
        raise BadRequest(f'Pointer `{pointer}` end with "/".')
    if re.search("~[^01]", pointer) or pointer.endswith("~"):
        raise BadRequest(f'Pointer `{pointer}` contains "~" not part of a recognized '
                         "escape sequence.")
    return [part.replace("~1", "/").replace("~0", "~").strip()
            for part in pointer.lstrip("/").split("/")]


def _check_name(name: str) -> None:
    if name in READ_ONLY:
        raise Forbidden(f"Attribute '{name}' is read-only.")
    if name in RESERVED or name.startswith(RESERVED_PREFIX):
        raise Forbidden(f"Attribute '{name}' is reserved.")


def apply_changes(attributes: Mapping[str, Any], properties: Mapping[str, Any],
                  changes: list[Change], draft: int, *, is_admin: bool) -> Patched:
    """Apply ``changes`` in order to copies of an image's attributes and properties."""
    result = Patched(dict(attributes), dict(properties))
    for change in changes:
        name = change.name
        is_attribute = name in ATTRIBUTES
        if change.op == "replace":
            if name == "owner" and not is_admin:
                raise Forbidden("Owner can't be updated by non admin.")
            if is_attribute:
                result.attributes[name] = change.value
            elif name in result.properties:
                result.properties[name] = change.value
            else:
                raise Conflict(f"Property {name} does not exist.")
        elif change.op == "add":
            if draft == 4 and (is_attribute or name in result.properties):
                raise Conflict(f"Property {name} already present.")
            if is_attribute:
                result.attributes[name] = change.value
            else:
                result.properties[name] = change.value
        else:
            if is_attribute:
                raise Forbidden(f"Property {name} may not be removed.")
            if name not in result.properties:
                raise Conflict(f"Property {name} does not exist.")
            del result.properties[name]
        result.changed.add(name)
    return result
