"""A volume made from a backup (POST /v3/volumes with ``backup_id``, 3.47).

The LVM and RBD drivers cannot build a volume out of a backup themselves, so cinder-volume
makes a raw volume of the requested size and hands it to a cinder-backup, which restores
the backup's bytes into it; the volume stays ``creating`` until that restore is done
(cinder's create_volume flow, ``_create_from_backup``, then the backup manager's
``restore_backup`` with ``volume_is_new``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from stacklab.api.errors import NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.servicegroup import BACKUP, TOPICS
from stacklab.bus.interface import Target, on_host

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.flows.manager.create_volume")


async def create_from_backup(service: BlockStorageService, backend: str, node: str,
                             volume_id: str, backup_id: str) -> None:
    """cinder-volume's part: the raw volume, then the cast to a cinder-backup."""
    now = service.clock.now()
    with service.db.session() as session:
        volume = session.get(m.Volume, volume_id)
        if volume is None or volume.status != "creating":
            return
        backup = session.get(m.Backup, backup_id)
        if backup is None or backup.status != "available":
            # Deleted or taken by another operation since the API checked it.
            LOG.error("Volume %s: backup %s is no longer available.", volume_id, backup_id)
            volume.status = "error"
            volume.updated_at = now
            return
        try:
            host = service.backups.choose_host(backup.availability_zone)
        except NotFound:
            LOG.error("Volume %s: no cinder-backup service is up to restore backup %s.",
                      volume_id, backup_id)
            volume.status = "error"
            volume.updated_at = now
            return
        service.store.write(backend, volume_id, b"", session=session)
        volume.service_uuid = service.service_uuid(backend)
        volume.updated_at = now
        backup.status = "restoring"
        backup.restore_volume_id = volume_id
        backup.host = host
        backup.updated_at = now
    LOG.info("Raw volume %s created. Calling restore_backup %s to complete restoration.",
             volume_id, backup_id)
    with on_host(node):  # sent over this cinder-volume node's own connection
        service.bus.cast_nowait(Target(TOPICS[BACKUP], host), "restore_backup",
                                backup_id=backup_id, volume_id=volume_id, volume_is_new=True)
