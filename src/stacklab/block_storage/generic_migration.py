"""cinder's generic migration of a volume with attachments, which nova carries out
(cinder/volume/manager.py ``_migrate_volume_generic`` and ``migrate_volume_completion``).

The source's cinder-volume has the destination make a temporary volume
(``migration_status`` ``target:<id>``, counted in no quota), copies the bytes into it,
and asks nova, for each server holding the volume, to swap the one for the other. The
volume keeps its status (``in-use``, or ``retyping``) and is ``migrating`` meanwhile.
nova attaches the new volume, lets go of the old one and calls
``os-migrate_volume_completion``, which gives the volume the new one's backend, bytes and
attachment and drops the temporary record, so the volume keeps its id. (libvirt's
blockcopy mirrors the guest's disk onto the new volume during the swap; the lab's guests
write nothing, so the copy cinder makes first is what that mirror would hold.)
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.client import ServiceCallError
from stacklab.block_storage import models as m
from stacklab.block_storage.servicegroup import TOPICS, VOLUME
from stacklab.block_storage.volumes import Cast, backend_of, invalid_volume
from stacklab.bus.interface import MessagingError, Target

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.manager")
# cinder's [DEFAULT] migration_create_volume_timeout_secs: how long the source waits for
# the destination to make the temporary volume (the lab's seconds).
CREATE_TIMEOUT = 300.0


def target_of(volume_id: str) -> str:
    """The migration_status of a migration's temporary volume."""
    return f"target:{volume_id}"


def undo(volume: m.Volume, now: float) -> None:
    """Back to the status it had before the retype or migration."""
    if volume.status in ("retyping", "maintenance"):
        volume.status = volume.previous_status or "available"
    volume.updated_at = now


class GenericMigration:
    def __init__(self, service: BlockStorageService) -> None:
        self.service = service

    async def migrate(self, source_backend: str, volume_id: str, host: str,
                      new_type_id: str | None, servers: list[str | None]) -> None:
        """cinder's _migrate_volume_generic for a volume with attachments: the temporary
        volume, then nova's swap for each server (nova completes the migration)."""
        service = self.service
        new_id = self._temporary_volume(volume_id, host, new_type_id)
        if new_id is None:
            return
        service.bus.cast_nowait(Target(TOPICS[VOLUME], backend_of(host)), "create_volume",
                                volume_id=new_id)
        failure = await self._await_created(new_id)
        if failure is not None:
            LOG.error("Migration of volume %s to %s failed: %s", volume_id, host, failure)
            self._fail(volume_id, new_id, created=False)
            return
        try:
            await service.bus.call(Target(TOPICS[VOLUME], backend_of(host)),
                                   "restore_backup_data", volume_id=new_id,
                                   data=service.store.read(source_backend, volume_id))
            if service.nova is None:
                raise ServiceCallError(503, {"message": "no Compute API configured"})
            for server in servers:
                if server is None:
                    raise ServiceCallError(400, {"message": "an attachment names no server"})
                # An async call: nova completes the migration when its swap is done.
                await service.nova.update_server_volume(server, volume_id, new_id)
        except (MessagingError, ServiceCallError) as error:
            LOG.error("Failed to copy volume %s to %s: %s", volume_id, new_id, error)
            self._fail(volume_id, new_id, created=True)

    def _temporary_volume(self, volume_id: str, host: str,
                          new_type_id: str | None) -> str | None:
        """The destination's record of the volume's copy (``creating``), or None."""
        service = self.service
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None:
                return None
            destination = session.scalars(select(m.VolumeService).where(
                m.VolumeService.host == backend_of(host),
                m.VolumeService.binary == VOLUME)).first()
            now = service.clock.now()
            made = m.Volume(
                id=service.ids.uuid(), project_id=volume.project_id, user_id=volume.user_id,
                name=volume.name, description=volume.description, size=volume.size,
                status="creating", attach_status="detached",
                migration_status=target_of(volume.id),
                availability_zone=destination.availability_zone if destination is not None
                else volume.availability_zone,
                host=host, volume_type_id=new_type_id or volume.volume_type_id,
                bootable=volume.bootable, multiattach=volume.multiattach,
                metadata_=dict(volume.metadata_), admin_metadata={},
                replication_status=volume.replication_status,
                image_metadata=dict(volume.image_metadata), created_at=now, updated_at=now)
            session.add(made)
            return made.id

    async def _await_created(self, new_id: str) -> str | None:
        """Poll until the temporary volume is available (cinder sleeps tries² seconds
        between looks); why not, else None."""
        service = self.service
        waited, tries = 0.0, 0
        while True:
            with service.db.session() as session:
                made = session.get(m.Volume, new_id)
                status = made.status if made is not None else "error"
            if status == "available":
                return None
            if status == "error":
                return "failed to create new_volume on destination"
            if waited > CREATE_TIMEOUT:
                return "timeout creating new_volume on destination"
            tries += 1
            await service.lab_clock.sleep(float(tries ** 2))
            waited += tries ** 2

    def _fail(self, volume_id: str, new_id: str, *, created: bool) -> None:
        """A generic migration that stopped before nova took it: the temporary volume gone
        (its record only, when the destination never made it), the volume ``error`` in
        its migration and back to the status it had."""
        service = self.service
        with service.db.session() as session:
            made = session.get(m.Volume, new_id)
            if made is not None and made.host is not None:
                if created:
                    made.status = "deleting"
                    service.send(Cast(TOPICS[VOLUME], backend_of(made.host), "delete_volume",
                                      {"volume_id": new_id}))
                else:
                    session.delete(made)
            volume = session.get(m.Volume, volume_id)
            if volume is not None:
                volume.migration_status = "error"
                undo(volume, service.clock.now())

    def complete(self, session: Session, volume: m.Volume, new_volume: m.Volume,
                 error: bool) -> str:
        """What ``migrate_volume_completion`` answers: the id to keep. Between two volumes
        not migrating (nova's swap of volumes) that is the new one."""
        if not (volume.migration_status or new_volume.migration_status):
            return new_volume.id
        if not volume.migration_status:
            raise invalid_volume("Source volume not mid-migration.")
        if not new_volume.migration_status:
            raise invalid_volume("Destination volume not mid-migration.")
        expected = target_of(volume.id)
        if new_volume.migration_status != expected:
            raise invalid_volume(f"Destination has migration_status "
                                 f"{new_volume.migration_status}, expected {expected}.")
        now = self.service.clock.now()
        store, attachments = self.service.store, self.service.attachments
        # cinder goes back to the status the volume had before (its previous_status).
        before = volume.previous_status
        if error:
            # The temporary volume goes (nova let go of it first).
            if new_volume.host:
                store.remove(backend_of(new_volume.host), new_volume.id, session=session)
            for attachment in attachments.of_volume(session, new_volume.id):
                session.delete(attachment)
            session.delete(new_volume)
            volume.migration_status = "error"
            if before:
                volume.status = before
            volume.updated_at = now
            return volume.id
        volume.migration_status = "completing"
        if before == "in-use" and volume.status != "available":
            # Attachments the source still has (the older attach flow) are detached.
            for attachment in attachments.of_volume(session, volume.id):
                attachments.finish_detach(session, volume, attachment.id)
        # The new volume's backend and bytes become the volume's; the new row goes, and
        # the attachment nova made to it is the volume's now (finish_volume_migration).
        if volume.host and new_volume.host:
            # In the caller's transaction: a second writer would wait for it (SQLite).
            data = store.read(backend_of(new_volume.host), new_volume.id, session=session)
            store.remove(backend_of(volume.host), volume.id, session=session)
            store.remove(backend_of(new_volume.host), new_volume.id, session=session)
            store.write(backend_of(new_volume.host), volume.id, data, session=session)
            volume.host = new_volume.host
            volume.service_uuid = new_volume.service_uuid
        volume.availability_zone = new_volume.availability_zone
        volume.volume_type_id = new_volume.volume_type_id
        moved = attachments.of_volume(session, new_volume.id)
        for attachment in moved:
            attachment.volume_id = volume.id
        if moved:
            volume.attach_status = new_volume.attach_status
        session.delete(new_volume)
        status = volume.status
        if before:
            volume.status = before
        volume.previous_status = status
        volume.migration_status = "success"
        volume.updated_at = now
        return volume.id
