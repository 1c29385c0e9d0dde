"""os-volume_upload_image (cinder/api/contrib/volume_actions.py and volume/api.py
``copy_volume_to_image``): cinder-api makes the image record in glance with the user's
token and casts to the volume's cinder-volume, which copies the bytes into it
(``VolumeManager.copy_volume_to_image``)."""

from __future__ import annotations

from typing import Any

from stacklab.api.client import ServiceCallError
from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, VersionedSchema
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import api, block_storage, timestamp
from stacklab.block_storage.api.volumes import ACTION, _load
from stacklab.block_storage.schemas import as_bool
from stacklab.block_storage.servicegroup import TOPICS, VOLUME
from stacklab.block_storage.volumes import Cast, backend_of, invalid_volume

UPLOAD = "volume_extension:volume_actions:upload_image"
UPLOAD_PUBLIC = "volume_extension:volume_actions:upload_public"
_FIELDS: dict[str, Any] = {
    "image_name": {"type": "string", "minLength": 1, "maxLength": 255},
    "force": s.BOOLEAN,
    "disk_format": {"type": "string",
                    "enum": ["raw", "vmdk", "vdi", "qcow2", "vhd", "vhdx", "ploop"]},
    "container_format": s.DESCRIPTION,
}
UPLOAD_IMAGE = s._wrapped("os-volume_upload_image", {
    "type": "object", "properties": _FIELDS, "required": ["image_name"],
    "additionalProperties": False})
# 3.1: the image's visibility and protection.
UPLOAD_IMAGE_31 = s._wrapped("os-volume_upload_image", {
    "type": "object", "properties": {
        **_FIELDS, "visibility": {"type": "string",
                                  "enum": ["community", "public", "private", "shared"]},
        "protected": s.BOOLEAN},
    "required": ["image_name"], "additionalProperties": False})
# cinder's [DEFAULT] glance_core_properties: the volume's image metadata an uploaded image
# does not inherit (every other key becomes one of its properties).
GLANCE_CORE_PROPERTIES = frozenset({"checksum", "container_format", "disk_format",
                                    "image_name", "image_id", "min_disk", "min_ram", "name",
                                    "size"})


def _type_view(volume_type: m.VolumeType | None) -> dict[str, Any] | None:
    # cinder answers with the volume's VolumeType object, serialized field by field.
    if volume_type is None:
        return None
    return {"id": volume_type.id, "name": volume_type.name,
            "description": volume_type.description, "is_public": volume_type.is_public,
            "extra_specs": dict(volume_type.extra_specs),
            "qos_specs_id": volume_type.qos_specs_id,
            "created_at": timestamp(volume_type.created_at),
            "updated_at": timestamp(volume_type.updated_at), "deleted": False,
            "deleted_at": None}


@api.action(ACTION, "os-volume_upload_image",
            schema=[VersionedSchema(UPLOAD_IMAGE, None, "3.0"),
                    VersionedSchema(UPLOAD_IMAGE_31, "3.1", None)])
async def upload_image(call: Call) -> dict[str, Any]:
    params = call.body["os-volume_upload_image"]
    service = block_storage(call)
    force = as_bool(params.get("force", False))
    if not service.config.DEFAULT.enable_force_upload:
        force = False  # cinder ignores force unless enable_force_upload is set
    meta: dict[str, Any] = {"container_format": params.get("container_format", "bare"),
                            "disk_format": params.get("disk_format", "raw"),
                            "name": params["image_name"]}
    with service.db.session() as session:
        volume = _load(call, session, UPLOAD)
        if volume.encryption_key_id is not None and (
                meta["disk_format"] != "raw" or meta["container_format"] != "bare"):
            raise BadRequest("An encrypted volume uploaded as an image must use 'raw' "
                             "disk_format and 'bare' container_format, which are the "
                             "defaults for these options.")
        if call.version_at_least("3.1"):
            meta["visibility"] = params.get("visibility", "private")
            meta["protected"] = as_bool(params.get("protected", False))
            if meta["visibility"] == "public":
                call.authorize(UPLOAD_PUBLIC, {"project_id": volume.project_id,
                                               "user_id": volume.user_id})
        allowed = ("available", "in-use") if force else ("available",)
        if volume.status not in allowed:
            raise invalid_volume(f"Volume {volume.id} status must be "
                                 f"{' or '.join(allowed)}")
        # The volume's image properties, save glance's core ones and any already set.
        meta.update({key: value for key, value in volume.image_metadata.items()
                     if key not in GLANCE_CORE_PROPERTIES and key not in meta
                     and not key.startswith("os_glance")})
        volume.previous_status = volume.status
        volume.status = "uploading"
        volume.updated_at = service.clock.now()
        volume_id, host, size = volume.id, volume.host, volume.size
        answer: dict[str, Any] = {
            "id": volume.id, "updated_at": timestamp(volume.updated_at),
            "status": "uploading", "display_description": volume.description,
            "size": volume.size,
            "volume_type": _type_view(session.get(m.VolumeType, volume.volume_type_id))}
    try:
        assert service.glance is not None
        image = await service.glance.create(meta, call.request.headers["x-auth-token"])
    except ServiceCallError as error:
        # cinder puts the volume back as it was, and answers 400 with glance's reason.
        with service.db.session() as session:
            found = session.get(m.Volume, volume_id)
            if found is not None and found.status == "uploading":
                found.status = found.previous_status or "available"
                found.previous_status = None
        body = error.body if isinstance(error.body, dict) else {}
        raise BadRequest(str(body.get("message") or body.get("title") or error)) from None
    service.send(Cast(TOPICS[VOLUME], backend_of(host or ""), "copy_volume_to_image",
                      {"volume_id": volume_id, "image_id": image["id"],
                       "disk_format": meta["disk_format"], "size_gb": size}))
    answer.update(image_id=image["id"], container_format=image.get("container_format"),
                  disk_format=image.get("disk_format"), image_name=image.get("name"))
    if "protected" in image:
        answer["protected"] = image["protected"]
    if "visibility" in image:
        answer["visibility"] = image["visibility"]
    return {"os-volume_upload_image": answer}
