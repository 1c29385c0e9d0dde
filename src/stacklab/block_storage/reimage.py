"""Re-imaging a volume (``os-reimage``, 3.68; cinder/volume/api.py and manager.py
``reimage``): the volume's bytes written anew from an image, for nova's rebuild of a
volume-backed server (2.93).

cinder-api checks the image (an image of a volume-backed server's snapshot names a cinder
snapshot as its root, whose bytes are used instead), then the volume: at most one
attachment, ``available`` or ``error``, or ``reserved`` too with ``reimage_reserved`` (a
server's root volume nova reserved for the rebuild). The volume is ``downloading`` while
its own cinder-volume writes it, then back to the status it had, with the new image's
metadata; a volume that was ``reserved`` has nova told (``volume-reimaged``) for the server
holding it. A failure leaves the volume ``error``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.api.client import ServiceCallError
from stacklab.api.errors import ApiError, BadRequest, Conflict, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.attachments import or_list
from stacklab.block_storage.glance import image_info, volume_image_metadata
from stacklab.block_storage.rbd import RbdError
from stacklab.block_storage.servicegroup import TOPICS, VOLUME
from stacklab.block_storage.volumes import (
    Caller,
    Cast,
    backend_of,
    check_image_fits,
    invalid_volume,
)

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.manager")


def boot_snapshot(image: Mapping[str, Any]) -> dict[str, Any] | None:
    """The root mapping of an image of a volume-backed server: a snapshot at boot index 0."""
    raw = image.get("block_device_mapping")
    try:
        mappings = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    for bdm in mappings if isinstance(mappings, list) else []:
        if isinstance(bdm, dict) and bdm.get("source_type") == "snapshot" \
                and bdm.get("boot_index") in (0, "0"):
            return bdm
    return None


class Reimages:
    def __init__(self, service: BlockStorageService) -> None:
        self.service = service

    # -- cinder-api ---------------------------------------------------------------------------

    async def image(self, image_id: str, token: str | None) -> dict[str, Any]:
        """The image as the caller sees it (cinder's ImageNotFound, 404, when it cannot)."""
        glance = self.service.glance
        if glance is None:
            raise ApiError("The Image API is not available.", status=503)
        try:
            return await glance.show(image_id, token=token)
        except ServiceCallError as exc:
            if exc.status in (403, 404):
                raise NotFound(f"Image {image_id} could not be found.") from None
            raise ApiError("The server has either erred or is incapable of performing the "
                           "requested operation.") from None

    def snapshot_of(self, image: Mapping[str, Any], volume_size: int,
                    caller: Caller) -> str | None:
        """cinder's _get_image_snapshot_and_check_size: the snapshot an image of a
        volume-backed server boots from (it must fit the volume), else None."""
        root = boot_snapshot(image)
        if root is None:
            return None
        size = root.get("volume_size")
        if isinstance(size, int) and size > volume_size:
            raise BadRequest(f"Volume size must be greater than the image size. (Image: "
                             f"{size}, Volume: {volume_size}).")
        with self.service.db.session() as session:
            try:
                return self.service.volumes.get_snapshot(session, str(root.get("snapshot_id")),
                                                         caller).id
            except NotFound:
                raise NotFound(f"Nova specific image is found, but boot volume snapshot id:"
                               f"{root.get('snapshot_id')} not found.") from None

    def start(self, volume: m.Volume, attachments: int, reimage_reserved: bool) -> None:
        """The volume ``downloading`` (cinder's conditional update), or cinder's refusal."""
        if attachments > 1:
            raise Conflict("Cannot re-image a volume which is attached to more than one "
                           "server.")
        expected = ("available", "error", "reserved") if reimage_reserved else \
            ("available", "error")
        if volume.status not in expected:
            raise invalid_volume(f"Volume {volume.id} status must be {or_list(expected)}, "
                                 f"but current status is {volume.status}.")
        volume.previous_status = volume.status
        volume.status = "downloading"
        volume.updated_at = self.service.clock.now()

    def check(self, image: dict[str, Any], volume: m.Volume, snapshot_id: str | None) -> Cast:
        """The image fits the volume (else the volume's status back, and cinder's 400); the
        message to its cinder-volume."""
        try:
            check_image_fits(image_info(image), volume.size)
            if volume.host is None:
                # Never scheduled (an error volume): no cinder-volume holds it to write.
                raise invalid_volume(f"Volume {volume.id} is on no host.")
        except BadRequest:
            if volume.status == "downloading":
                volume.status = volume.previous_status or "available"
                volume.previous_status = None
            raise
        return Cast(TOPICS[VOLUME], backend_of(volume.host), "reimage_volume",
                    {"volume_id": volume.id, "image_id": str(image["id"]),
                     "snapshot_id": snapshot_id})

    # -- cinder-volume --------------------------------------------------------------------------

    async def reimage(self, backend: str, volume_id: str, image_id: str,
                      snapshot_id: str | None) -> None:
        service = self.service
        try:
            if service.glance is None:
                raise ServiceCallError(503, {"message": "no Image API configured"})
            await service.store.ready(backend)
            image = await service.glance.show(image_id)
            if snapshot_id is not None:
                # The snapshot may be another volume's: its bytes (cinder's generic revert).
                data = self._snapshot_bytes(snapshot_id)
            else:
                data = await service.glance.data(image_id)
        except (ServiceCallError, RbdError, KeyError) as error:
            LOG.error("Failed to re-image volume %s with image %s: %s", volume_id, image_id,
                      error)
            with service.db.session() as session:
                volume = session.get(m.Volume, volume_id)
                if volume is not None:
                    volume.previous_status = volume.status
                    volume.status = "error"
                    volume.updated_at = service.clock.now()
            return
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None:
                return
            service.store.write(backend, volume_id, data, session=session)
            volume.image_metadata = volume_image_metadata(image)
            volume.bootable = True
            volume.status = volume.previous_status or "available"
            volume.updated_at = service.clock.now()
            servers = [a.instance_uuid for a in service.attachments.of_volume(session,
                                                                              volume_id)
                       if a.instance_uuid] if volume.status == "reserved" else []
        if servers and service.nova is not None:
            await service.nova.reimage_volume(servers, volume_id)
        LOG.debug("Re-imaged %s to volume %s successfully.", image_id, volume_id)

    def _snapshot_bytes(self, snapshot_id: str) -> bytes:
        service = self.service
        with service.db.session() as session:
            snapshot = session.get(m.Snapshot, snapshot_id)
            origin = session.get(m.Volume, snapshot.volume_id) if snapshot is not None \
                else None
            if snapshot is None or origin is None or origin.host is None:
                raise KeyError(snapshot_id)
            return service.store.read(backend_of(origin.host), snapshot_id, session=session)
