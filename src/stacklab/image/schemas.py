"""Image v2 request schemas and the schema documents glance serves at /v2/schemas/*.

Both come from one description of the image's attributes, so the documents
a client downloads are the rules the server applies.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.validation import MAX_INT
from stacklab.image.service import CONTAINER_FORMATS, DISK_FORMATS, VISIBILITIES

_STRING_OR_NULL = {"type": ["null", "string"], "maxLength": 255}

# What a client may send when creating or updating an image.
WRITABLE: dict[str, dict[str, Any]] = {
    "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-?([0-9a-fA-F]){4}-?([0-9a-fA-F]){4}"
                                        "-?([0-9a-fA-F]){4}-?([0-9a-fA-F]){12}$",
           "description": "An identifier for the image"},
    "name": {**_STRING_OR_NULL, "description": "Descriptive name for the image"},
    "visibility": {"type": "string", "enum": list(VISIBILITIES),
                   "description": "Scope of image accessibility"},
    "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
    "os_hidden": {"type": "boolean",
                  "description": "If true, image will not appear in default image list "
                                 "response."},
    "owner": {**_STRING_OR_NULL, "description": "Owner of the image"},
    "container_format": {"type": ["null", "string"], "enum": [None, *CONTAINER_FORMATS],
                         "description": "Format of the container"},
    "disk_format": {"type": ["null", "string"], "enum": [None, *DISK_FORMATS],
                    "description": "Format of the disk"},
    # glance stores both in INT columns: beyond their bound the database would refuse them.
    "min_ram": {"type": "integer", "minimum": 0, "maximum": MAX_INT,
                "description": "Amount of ram (in MB) required to boot image."},
    "min_disk": {"type": "integer", "minimum": 0, "maximum": MAX_INT,
                 "description": "Amount of disk space (in GB) required to boot image."},
    "tags": {"type": "array", "items": {"type": "string", "maxLength": 255},
             "description": "List of strings related to the image"},
}

_READ_ONLY: dict[str, dict[str, Any]] = {
    "status": {"type": "string", "readOnly": True, "description": "Status of the image",
               "enum": ["queued", "saving", "active", "killed", "deleted", "uploading",
                        "importing", "pending_delete", "deactivated"]},
    "size": {"type": ["null", "integer"], "readOnly": True,
             "description": "Size of image file in bytes"},
    "virtual_size": {"type": ["null", "integer"], "readOnly": True,
                     "description": "Virtual size of image in bytes"},
    "checksum": {**_STRING_OR_NULL, "readOnly": True,
                 "description": "md5 hash of image contents."},
    "os_hash_algo": {"type": ["null", "string"], "readOnly": True,
                     "description": "Algorithm used to compute os_hash_value"},
    "os_hash_value": {"type": ["null", "string"], "readOnly": True,
                      "description": "Hexdigest of the image contents"},
    "created_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of image registration"},
    "updated_at": {"type": "string", "readOnly": True,
                   "description": "Date and time of the last image modification"},
    "self": {"type": "string", "readOnly": True, "description": "An image self url"},
    "file": {"type": "string", "readOnly": True, "description": "An image file url"},
    "schema": {"type": "string", "readOnly": True, "description": "An image schema url"},
    "stores": {"type": "string", "readOnly": True,
               "description": "Store in which image data resides."},
}

IMAGE_CREATE: dict[str, Any] = {
    "type": "object",
    "properties": WRITABLE,
    # Extra properties are free-form strings, as glance's schema says.
    "additionalProperties": {"type": "string"},
}

MEMBER_CREATE: dict[str, Any] = {
    "type": "object", "required": ["member"], "additionalProperties": False,
    "properties": {"member": {"type": "string", "minLength": 1, "maxLength": 255}},
}
MEMBER_UPDATE: dict[str, Any] = {
    "type": "object", "required": ["status"], "additionalProperties": False,
    "properties": {"status": {"type": "string", "enum": ["pending", "accepted", "rejected"]}},
}
IMPORT: dict[str, Any] = {
    "type": "object", "required": ["method"],
    "properties": {"method": {"type": "object", "required": ["name"],
                              "properties": {"name": {"type": "string"}}}},
}

_MEMBER_PROPERTIES: dict[str, Any] = {
    "created_at": {"type": "string", "description": "Date and time of image member creation"},
    "image_id": {"type": "string", "description": "An identifier for the image"},
    "member_id": {"type": "string", "description": "An identifier for the image member"},
    "schema": {"type": "string", "readOnly": True},
    "status": {"type": "string", "enum": ["pending", "accepted", "rejected"],
               "description": "The status of this image member"},
    "updated_at": {"type": "string",
                   "description": "Date and time of last modification of image member"},
}


def image_document() -> dict[str, Any]:
    return {
        "name": "image",
        "properties": {**WRITABLE, **_READ_ONLY},
        "additionalProperties": {"type": "string"},
        "links": [{"rel": "self", "href": "{self}"},
                  {"rel": "enclosure", "href": "{file}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def images_document() -> dict[str, Any]:
    return {
        "name": "images",
        "properties": {
            "images": {"type": "array", "items": image_document()},
            "schema": {"type": "string"}, "first": {"type": "string"},
            "next": {"type": "string"},
        },
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


def member_document() -> dict[str, Any]:
    return {"name": "member", "properties": _MEMBER_PROPERTIES}


def members_document() -> dict[str, Any]:
    return {
        "name": "members",
        "properties": {"members": {"type": "array", "items": member_document()},
                       "schema": {"type": "string"}},
        "links": [{"rel": "self", "href": "{self}"},
                  {"rel": "describedby", "href": "{schema}"}],
    }


# POST /v2/images/{id}/locations (2.17): glance's add_location schema, permissive at the
# top (other keys are ignored) and strict in validation_data.
ADD_LOCATION: dict[str, Any] = {
    "type": "object",
    "properties": {
        "url": {"type": "string"},
        "validation_data": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "os_hash_algo": {"type": "string", "maxLength": 64,
                                 "enum": ["sha1", "sha256", "sha512", "md5"]},
                "os_hash_value": {"type": "string", "maxLength": 128},
            },
            "dependentRequired": {"os_hash_value": ["os_hash_algo"],
                                  "os_hash_algo": ["os_hash_value"]},
        },
    },
    "required": ["url"],
}
