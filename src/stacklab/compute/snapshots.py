"""Server snapshots as nova-api starts them (createImage, shelve): a queued image to fill.

The image record is created in the Image API with the caller's token, as
nova-api does with the user's context: glance's policy and quotas apply and
the image is the caller's project's. Formats and minimums come from the
server's own image, read as nova (the user may no longer see it). The
compute then copies the server's disk into it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.api.errors import ApiError, Conflict
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.casts import Cast
from stacklab.compute.glance import GlanceError

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.manager")


class Snapshots:
    def __init__(self, service: ComputeService) -> None:
        self.service = service

    async def _queued_image(self, instance: m.Instance, name: str,
                            metadata: Mapping[str, Any], token: str, *,
                            image_type: str = "snapshot") -> str:
        glance = self.service.glance
        if glance is None:
            raise Conflict("The image service is not available.")
        base: dict[str, Any] = {}
        if instance.image_ref:
            try:
                base = await glance.show(instance.image_ref)
            except GlanceError as exc:
                if exc.status != 404:
                    raise
        fields: dict[str, Any] = {
            "name": name, "visibility": "private",
            "disk_format": base.get("disk_format") or "qcow2",
            "container_format": base.get("container_format") or "bare",
            "min_disk": max(int(base.get("min_disk") or 0), instance.flavor["root_gb"]),
            "min_ram": int(base.get("min_ram") or 0),
            "instance_uuid": instance.uuid, "image_type": image_type,
            "base_image_ref": instance.image_ref, "user_id": instance.user_id,
            **{k: str(v) for k, v in metadata.items()},
        }
        try:
            image = await glance.create(fields, token=token)
        except GlanceError as exc:
            # glance's refusal (its policy, a reserved property) is the caller's to read.
            raise ApiError(exc.message, status=exc.status) from None
        return str(image["id"])

    async def snapshot(self, instance: m.Instance, name: str, metadata: Mapping[str, Any],
                       token: str) -> tuple[str, Cast]:
        """createImage: the new image's id, and the cast that has the compute fill it."""
        image_id = await self._queued_image(instance, name, metadata, token)
        instance.task_state = states.IMAGE_SNAPSHOT
        return image_id, Cast.to_compute(instance.host, "snapshot_instance",
                                         instance_uuid=instance.uuid, image_id=image_id)

    async def backup(self, instance: m.Instance, name: str, backup_type: str, rotation: int,
                     metadata: Mapping[str, Any], token: str) -> tuple[str, Cast]:
        """createBackup: a snapshot marked as a backup of ``backup_type``, then rotation.

        The image carries ``image_type=backup``, ``backup_type`` and the server's
        uuid, which is how the compute finds the server's older backups of that
        type afterwards to keep only the newest ``rotation`` of them.
        """
        image_id = await self._queued_image(instance, name,
                                            {**metadata, "backup_type": backup_type}, token,
                                            image_type="backup")
        instance.task_state = states.IMAGE_BACKUP
        return image_id, Cast.to_compute(instance.host, "backup_instance",
                                         instance_uuid=instance.uuid, image_id=image_id,
                                         backup_type=backup_type, rotation=rotation)

    async def rotate_backups(self, uuid: str, backup_type: str, rotation: int, *,
                             newest: str | None = None) -> list[str]:
        """Delete the server's backups of ``backup_type`` beyond the newest ``rotation``.

        As nova-compute after a backup: the images are listed through glance,
        newest first, and the oldest go. Returns the ids deleted. Done as the
        ``nova`` service user (upstream uses the user's token; the bus carries none).
        """
        glance = self.service.glance
        if glance is None:
            return []
        backups = await glance.list({"image_type": "backup", "backup_type": backup_type,
                                     "instance_uuid": uuid})
        # Newest first: the backup just made, then by created_at (glance shows seconds, so
        # backups of one second keep glance's own order).
        backups.sort(key=lambda image: (image["id"] == newest, str(image.get("created_at") or "")),
                     reverse=True)
        excess = backups[rotation:]
        LOG.debug("[instance: %s] Found %d backups (rotation: %d); rotating out %d", uuid,
                  len(backups), rotation, len(excess))
        deleted = []
        for image in excess:
            LOG.debug("[instance: %s] Deleting image %s", uuid, image["id"])
            await self.service.delete_image(str(image["id"]))
            deleted.append(str(image["id"]))
        return deleted

    async def shelve(self, instance: m.Instance, token: str) -> Cast:
        """Shelve: the server's disk kept as an image, then its host let go (offloaded)."""
        image_id = await self._queued_image(instance, f"{instance.name}-shelved", {}, token)
        instance.system_metadata = {**instance.system_metadata, "shelved_image_id": image_id,
                                    "shelved_at": self.service.clock.now(),
                                    "shelved_host": instance.host}
        instance.task_state = states.SHELVING
        return Cast.to_compute(instance.host, "shelve_instance", instance_uuid=instance.uuid,
                               image_id=image_id, offload=True)
