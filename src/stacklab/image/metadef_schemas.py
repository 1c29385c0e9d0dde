"""Metadata definitions: the request schemas and the documents at /v2/schemas/metadefs/*.

As for images (``schemas.py``), one description of each resource gives both what a
request is checked against and the document a client downloads. The rules are
glance's (api/v2/metadef_*.py): names up to 80 characters, a namespace's description up
to 500, visibility public or private, a property definition needing a title and a type.
"""

from __future__ import annotations

from typing import Any

# What glance refuses in a metadef body: attributes only the server sets.
READ_ONLY = ("self", "schema", "created_at", "updated_at")

_TYPES = ["array", "boolean", "integer", "number", "object", "string", None]
_COUNT = {"type": "integer", "minimum": 0}
_STRINGS = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}

# One property definition (a JSON-schema-like description of an image property).
PROPERTY_DEFINITION: dict[str, Any] = {
    "type": "object",
    "required": ["title", "type"],
    "properties": {
        "name": {"type": "string", "maxLength": 80},
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"type": "array", "items": {"type": "string"}},
        "type": {"type": ["string", "null"], "enum": _TYPES},
        "required": _STRINGS,
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "maxLength": _COUNT,
        "minLength": _COUNT,
        "pattern": {"type": "string"},
        "enum": {"type": "array"},
        "readonly": {"type": "boolean"},
        "default": {},
        "items": {"type": "object", "properties": {
            "type": {"type": ["string", "null"], "enum": _TYPES},
            "enum": {"type": "array"}}},
        "maxItems": _COUNT,
        "minItems": _COUNT,
        "uniqueItems": {"type": "boolean"},
        "additionalItems": {"type": "boolean"},
    },
}
_PROPERTY_MAP = {"type": "object", "additionalProperties": PROPERTY_DEFINITION}
_STAMPS: dict[str, Any] = {
    "created_at": {"type": "string", "readOnly": True, "format": "date-time",
                   "description": "Date and time of creation"},
    "updated_at": {"type": "string", "readOnly": True, "format": "date-time",
                   "description": "Date and time of the last modification"},
}
_LINKS: dict[str, Any] = {"schema": {"type": "string", "readOnly": True},
                          "self": {"type": "string", "readOnly": True}}

ASSOCIATION: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 80,
                 "description": "Resource type names should be aligned with Heat resource "
                                "types whenever possible."},
        "prefix": {"type": "string", "maxLength": 80,
                   "description": "Prefix for the namespace's properties on this resource "
                                  "type."},
        "properties_target": {"type": "string", "maxLength": 80,
                              "description": "Which part of the resource the properties "
                                             "apply to, when it has several."},
        **_STAMPS,
    },
}

OBJECT: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 80},
        "description": {"type": "string"},
        "required": _STRINGS,
        "properties": _PROPERTY_MAP,
        **_STAMPS, **_LINKS,
    },
}

TAG: dict[str, Any] = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": {"type": "string", "maxLength": 80}, **_STAMPS},
}
TAGS: dict[str, Any] = {
    "type": "object",
    "required": ["tags"],
    "properties": {"tags": {"type": "array", "items": TAG}},
}

PROPERTY: dict[str, Any] = {
    **PROPERTY_DEFINITION,
    "required": ["name", "title", "type"],
}

NAMESPACE: dict[str, Any] = {
    "type": "object",
    "required": ["namespace"],
    "properties": {
        "namespace": {"type": "string", "maxLength": 80,
                      "description": "The unique namespace text."},
        "display_name": {"type": "string", "maxLength": 80,
                         "description": "A name for people to read, shown by UIs."},
        "description": {"type": "string", "maxLength": 500,
                        "description": "What the namespace is for."},
        "visibility": {"type": "string", "enum": ["public", "private"],
                       "description": "Scope of namespace accessibility."},
        "protected": {"type": "boolean",
                      "description": "If true, namespace will not be deletable."},
        "owner": {"type": "string", "maxLength": 255, "description": "Owner of the namespace."},
        # What a namespace is created with must name each thing it holds.
        "resource_type_associations": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {k: ASSOCIATION["properties"][k]
                           for k in ("name", "prefix", "properties_target")}}},
        "properties": _PROPERTY_MAP,
        "objects": {"type": "array", "items": {
            "type": "object", "required": ["name"],
            "properties": {k: OBJECT["properties"][k]
                           for k in ("name", "description", "required", "properties")}}},
        "tags": {"type": "array", "items": {"type": "object", "required": ["name"],
                                            "properties": {"name": {"type": "string",
                                                                    "maxLength": 80}}}},
        **_STAMPS, **_LINKS,
    },
}


def _document(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, **schema}


def _collection(name: str, member: str, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "properties": {
            member: {"type": "array", "items": item},
            "first": {"type": "string"}, "next": {"type": "string"},
            "schema": {"type": "string"},
        },
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def documents() -> dict[str, dict[str, Any]]:
    """Each schema glance serves under /v2/schemas/metadefs/, by its path's last part."""
    namespace = _document("namespace", NAMESPACE)
    association = _document("resource_type_association", ASSOCIATION)
    metadef_object = _document("object", OBJECT)
    prop = _document("property", PROPERTY)
    tag = _document("tag", TAG)
    properties = _collection("properties", "properties", prop)
    properties["properties"]["properties"] = _PROPERTY_MAP
    return {
        "namespace": namespace,
        "namespaces": _collection("namespaces", "namespaces", namespace),
        "resource_type": association,
        "resource_types": _collection("resource_type_associations",
                                      "resource_type_associations", association),
        "object": metadef_object,
        "objects": _collection("objects", "objects", metadef_object),
        "property": prop,
        "properties": properties,
        "tag": tag,
        "tags": _collection("tags", "tags", tag),
    }
