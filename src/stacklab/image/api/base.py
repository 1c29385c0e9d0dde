"""The Image API object, rendering, and policy targets."""

from __future__ import annotations

from typing import Any, cast

from stacklab.api.errors import glance_error, glance_internal_error
from stacklab.api.service import Call, ServiceApi
from stacklab.clock import isotime
from stacklab.image import models as m
from stacklab.image.imports import Importer
from stacklab.image.service import ImageService

api = ServiceApi("image", errors=glance_error, internal_error=glance_internal_error)


def images(call: Call) -> ImageService:
    return cast(ImageService, call.service)


def importer(call: Call) -> Importer:
    found = images(call).importer
    if found is None:
        raise LookupError("the image service was built without its importer")
    return found


def render_image(image: m.Image) -> dict[str, Any]:
    body: dict[str, Any] = {
        **image.properties,
        "id": image.id, "name": image.name, "status": image.status,
        "visibility": image.visibility, "protected": image.protected,
        "os_hidden": image.os_hidden, "owner": image.owner, "size": image.size,
        "virtual_size": image.virtual_size, "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo, "os_hash_value": image.os_hash_value,
        "min_ram": image.min_ram, "min_disk": image.min_disk,
        "disk_format": image.disk_format, "container_format": image.container_format,
        "created_at": isotime(image.created_at), "updated_at": isotime(image.updated_at),
        "tags": list(image.tags),
        "self": f"/v2/images/{image.id}", "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }
    # glance shows ``stores`` only with multiple stores configured (enabled_backends); the
    # lab has one, and a client that sends back what it read (openstacksdk's
    # update_image) would otherwise be told the attribute is read-only.
    return body


def render_member(member: m.ImageMember) -> dict[str, Any]:
    return {"image_id": member.image_id, "member_id": member.member_id,
            "status": member.status, "created_at": isotime(member.created_at),
            "updated_at": isotime(member.updated_at), "schema": "/v2/schemas/member"}


def image_target(image: m.Image, call: Call) -> dict[str, Any]:
    """What glance's policy rules read from an image (glance's ImageTarget).

    ``project_id`` is the image's owner; ``member_id`` is the caller's project
    when the image is shared with it, so ``project_id:%(member_id)s`` holds
    exactly for members.
    """
    target: dict[str, Any] = {
        "id": image.id, "name": image.name, "owner": image.owner,
        "project_id": image.owner, "visibility": image.visibility,
        "protected": image.protected, "status": image.status,
    }
    project = call.context.project_id
    if project and image.visibility == "shared":
        with images(call).db.session() as session:
            if session.get(m.ImageMember, (image.id, project)) is not None:
                target["member_id"] = project
    target.update({k: v for k, v in image.properties.items() if isinstance(v, str)})
    return target
