"""createImage of a server whose root disk is a volume (nova's snapshot_volume_backed).

nova-api does it all itself, with the caller's token: each of the server's volumes is
snapshotted in cinder (``force``: they are in use), and the image it answers is only a
bucket of properties with no data (size 0, made active at once): the server's image
properties, its ``root_device_name`` and a ``block_device_mapping`` (bdm v2, as JSON
text) that names each new snapshot where the server had its volume, so a server booted
from the image gets volumes made from them. cinder's snapshot quota is checked first
(nova's best-effort check: none is made when they would not all fit). The guest is not
quiesced: the lab's guests run no QEMU guest agent, which nova logs and skips.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, Conflict, Forbidden
from stacklab.compute import models as m
from stacklab.compute.cinder import CinderError
from stacklab.compute.glance import GlanceError
from stacklab.compute.image_meta import PREFIX
from stacklab.compute.instances import bus_context
from stacklab.compute.volumes import mapping_view

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.api")

# What a snapshot image takes from the server's image at the top level, not as properties
# (nova's SM_INHERITABLE_KEYS), and the properties it never inherits (nova's
# non_inheritable_image_properties default and the signature properties).
_BASE_KEYS = ("min_ram", "min_disk", "disk_format", "container_format")
_NOT_INHERITED = frozenset({"cache_in_nova", "bittorrent", "img_signature",
                            "img_signature_hash_method", "img_signature_key_type",
                            "img_signature_certificate_uuid", "block_device_mapping", "bdm_v2",
                            "root_device_name"})
# A mapping as an image carries it (nova's get_image_mapping): the table's own columns
# (row id, server, attachment) left out.
_IMAGE_MAPPING_KEYS = ("source_type", "destination_type", "boot_index", "device_name",
                       "volume_id", "snapshot_id", "image_id", "volume_size", "volume_type",
                       "delete_on_termination", "tag", "guest_format", "disk_bus",
                       "device_type")


def is_volume_backed(session: Session, instance_uuid: str) -> bool:
    return session.scalar(select(m.BlockDeviceMapping.id).where(
        m.BlockDeviceMapping.instance_uuid == instance_uuid,
        m.BlockDeviceMapping.boot_index == 0,
        m.BlockDeviceMapping.destination_type == "volume").limit(1)) is not None


def image_mapping(bdm: Mapping[str, Any]) -> dict[str, Any]:
    shown = {key: bdm.get(key) for key in _IMAGE_MAPPING_KEYS}
    return {**shown, "no_device": None}


def snapshot_mapping(snapshot_id: str, bdm: Mapping[str, Any]) -> dict[str, Any]:
    """nova's snapshot_from_bdm: where the volume was, a volume made from the snapshot."""
    copied = {key: bdm.get(key) for key in ("disk_bus", "device_type", "boot_index",
                                            "delete_on_termination", "volume_size",
                                            "device_name")}
    return image_mapping({**copied, "source_type": "snapshot", "destination_type": "volume",
                          "snapshot_id": snapshot_id})


def _base_image(instance: m.Instance) -> tuple[dict[str, Any], dict[str, str]]:
    """The server's image as its system metadata keeps it: top-level fields, properties."""
    fields: dict[str, Any] = {}
    properties: dict[str, str] = {}
    for key, value in (instance.system_metadata or {}).items():
        if not key.startswith(PREFIX) or value is None:
            continue
        name = key[len(PREFIX):]
        if name in _BASE_KEYS:
            fields[name] = value
        elif name not in _NOT_INHERITED:
            properties[name] = str(value)
    return fields, properties


async def snapshot_volume_backed(service: ComputeService, session: Session,
                                 instance: m.Instance, name: str,
                                 metadata: Mapping[str, Any], context: RequestContext
                                 ) -> tuple[str, Callable[[], Awaitable[None]]]:
    """The new image's id, and what to record once the createImage action is saved."""
    cinder, glance = service.cinder, service.glance
    if cinder is None or glance is None:
        raise Conflict("The block storage or image service is not available.")
    token = context.auth_token or None
    bdms = [mapping_view(b) for b in service.volumes.mappings(session, instance.uuid)]
    volume_bdms = [b for b in bdms if b["destination_type"] == "volume" and b["volume_id"]]
    mapping = [image_mapping(b) for b in bdms if b not in volume_bdms]
    try:
        if volume_bdms:
            limits = await cinder.absolute_limits(token=token)
            used, most = int(limits["totalSnapshotsUsed"]), int(limits["maxTotalSnapshots"])
            if most > -1 and used + len(volume_bdms) > most:
                LOG.debug("[instance: %s] Unable to create volume snapshots for instance. "
                          "Currently has %d snapshots, requesting %d new snapshots, with a "
                          "limit of %d.", instance.uuid, used, len(volume_bdms), most)
                raise Forbidden("Quota exceeded for resources: snapshots")
        LOG.info("[instance: %s] Skipping quiescing instance: QEMU guest agent is not "
                 "enabled.", instance.uuid)
        for bdm in volume_bdms:
            volume = await cinder.get(bdm["volume_id"], token=token)
            LOG.debug("[instance: %s] Creating snapshot from volume %s.", instance.uuid,
                      volume["id"])
            snapshot = await cinder.create_snapshot_force(
                volume["id"], f"snapshot for {name}", volume.get("description"), token=token)
            mapping.append(snapshot_mapping(str(snapshot["id"]), bdm))
    except CinderError as exc:
        raise ApiError(exc.message, status=exc.status if exc.status < 500 else 500) from None
    fields, properties = _base_image(instance)
    properties.update({k: str(v) for k, v in metadata.items()})
    root = next((b["device_name"] for b in bdms if b["boot_index"] == 0), None)
    if root:
        properties["root_device_name"] = str(root)
    if mapping:
        properties["block_device_mapping"] = json.dumps(mapping)
        properties["bdm_v2"] = "True"
    # No data, so glance v2 needs formats before the empty upload that makes it active
    # (nova's "force_activate" of a size-0 image).
    body = {**properties, "name": name, "visibility": "private", "disk_format": "qcow2",
            "container_format": "bare",
            **{k: int(v) for k, v in fields.items() if k in ("min_ram", "min_disk")}}
    try:
        image = await glance.create(body, token=token or "")
    except GlanceError as exc:
        raise ApiError(exc.message, status=exc.status) from None
    image_id = str(image["id"])
    await glance.upload(image_id, b"")
    ctxt = bus_context(context)

    async def record() -> None:
        # The action is saved with the request: its api_snapshot_instance event after it.
        service.instances.event(instance.uuid, ctxt.get("request_id"), "api_snapshot_instance",
                                None)
        service.instances.event(instance.uuid, ctxt.get("request_id"), "api_snapshot_instance",
                                None, result="Success")

    return image_id, record
