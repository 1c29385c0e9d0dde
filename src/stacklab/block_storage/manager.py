"""cinder-volume and cinder-scheduler as RPC servers on the bus.

Each cinder-volume process consumes ``cinder-volume.<host@backend>`` (its service's own
queue): a request on a volume goes to the host the volume records and to nothing else,
so while that process is stopped or its node is off, the request waits in the queue (a
cast: the volume stays ``deleting``, ``extending``, its snapshot ``creating``) until the
service is back, as upstream's. Two nodes with one ``backend_host`` consume the one queue:
either serves. The scheduler on each controller consumes ``cinder-scheduler``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from stacklab.api.client import ServiceCallError
from stacklab.block_storage import models as m
from stacklab.block_storage.attach_manager import AttachmentEndpoints
from stacklab.block_storage.backends import Backend
from stacklab.block_storage.from_backup import create_from_backup
from stacklab.block_storage.glance import volume_image_metadata
from stacklab.block_storage.group_snapshots import GroupSnapshotVolumeEndpoints
from stacklab.block_storage.groups import GroupSchedulerEndpoints, GroupVolumeEndpoints
from stacklab.block_storage.loglevels import LogLevelEndpoints, LogLevels
from stacklab.block_storage.manage import Leftover, ManageEndpoints
from stacklab.block_storage.messages import (
    COPY_VOLUME_TO_IMAGE,
    FAILED_TO_UPLOAD_VOLUME,
    NO_BACKEND_AVAILABLE,
    SCHEDULE_ALLOCATE_VOLUME,
)
from stacklab.block_storage.notifications import VolumeNotifier
from stacklab.block_storage.qcow2 import raw_to_qcow2
from stacklab.block_storage.rbd import DRIVER_VERSION as RBD_DRIVER_VERSION
from stacklab.block_storage.rbd import RbdError
from stacklab.block_storage.scheduler import Request, schedule
from stacklab.block_storage.servicegroup import SCHEDULER, TOPICS, VOLUME
from stacklab.bus.interface import Listener, Target, on_host

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

# The admin metadata of a volume made for a backup's restore (cinder-backup removes it).
RESTORE_MARK = "restoring_backup_id"
SCHEDULER_LOG = logging.getLogger("cinder.scheduler.filter_scheduler")
VOLUME_LOG = logging.getLogger("cinder.volume.manager")
GIB = 1024 ** 3
# cinder/volume/drivers/lvm.py LVMVolumeDriver.VERSION.
LVM_DRIVER_VERSION = "3.0.0"


# cinder/volume/driver.py _init_standard_capabilities: (key, title, description), each
# a boolean.
STANDARD_PROPERTIES = (
    ("thin_provisioning", "Thin Provisioning", "Sets thin provisioning."),
    ("compression", "Compression", "Enables compression."),
    ("qos", "QoS", "Enables QoS."),
    ("replication_enabled", "Replication", "Enables replication."),
)


def driver_capabilities(backend: Backend) -> dict[str, Any]:
    """What a backend's driver reports as its capabilities: the stats that are not its
    pool's (LVM and rbd keep the pool's figures in ``pools``, so no ``pool_name`` here),
    and the standard properties (neither driver adds vendor ones)."""
    return {
        "volume_backend_name": backend.name, "vendor_name": backend.vendor_name,
        "driver_version": RBD_DRIVER_VERSION if backend.rbd else LVM_DRIVER_VERSION,
        "storage_protocol": backend.storage_protocol,
        "properties": {key: {"title": title, "description": description,
                             "type": "boolean"}
                       for key, title, description in STANDARD_PROPERTIES},
    }


class VolumeManager(AttachmentEndpoints, ManageEndpoints, GroupVolumeEndpoints,
                    GroupSnapshotVolumeEndpoints, LogLevelEndpoints):
    """The endpoint of one cinder-volume process (one backend of one node)."""

    def __init__(self, service: BlockStorageService, backend: Backend) -> None:
        self.service = service
        self.backend = backend
        self.listener: Listener | None = None
        self.notifier = VolumeNotifier(service.bus, service.db, service.clock, backend.host)

    @property
    def node(self) -> str:
        return self.backend.node

    @property
    def target(self) -> Target:
        return Target(TOPICS[VOLUME], self.backend.host)

    def _log_service(self) -> tuple[LogLevels, str, str]:
        return self.service.log_levels, VOLUME, self.backend.host

    async def create_volume(self, volume_id: str, backup_id: str | None = None,
                            ctxt: Mapping[str, Any] | None = None) -> None:
        service = self.service
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None or volume.status != "creating":
                return  # deleted meanwhile (its row went while it waited to be scheduled)
            image_id = volume.image_id
            if image_id is not None:
                volume.status = "downloading"
        await self.notifier.volume(volume_id, "create.start", ctxt)
        try:
            await service.store.ready(self.backend.host)
        except RbdError as error:
            VOLUME_LOG.error("Volume %s: create failed: %s", volume_id, error)
            self._set(volume_id, status="error")
            return
        if backup_id is not None:
            await create_from_backup(service, self.backend.host, self.node, volume_id,
                                     backup_id)
            await self.notifier.volume(volume_id, "create.end", ctxt)
            return
        try:
            if image_id is not None:
                if service.glance is None:
                    raise ServiceCallError(503, {"message": "no Image API configured"})
                image = await service.glance.show(image_id)
                data = await service.glance.data(image_id)
                metadata = volume_image_metadata(image)
            else:
                data, metadata = None, None
        except ServiceCallError as error:
            VOLUME_LOG.error("Failed to copy image %s to volume: %s", image_id, error)
            self._set(volume_id, status="error")
            return
        now = service.clock.now()
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None:
                return
            if data is None:
                if volume.snapshot_id is not None:
                    data = service.store.read(self.backend.host, volume.snapshot_id,
                                              session=session)
                elif volume.source_volid is not None:
                    data = service.store.read(self.backend.host, volume.source_volid,
                                              session=session)
            service.store.write(self.backend.host, volume.id, data or b"", session=session)
            if metadata is not None:
                volume.image_metadata = metadata
                volume.bootable = True
            volume.status = "available"
            if RESTORE_MARK in volume.admin_metadata:
                # Made to restore a backup into: cinder-backup takes it from here.
                volume.status = "restoring-backup"
            volume.service_uuid = service.service_uuid(self.backend.host)
            volume.launched_at = now
            volume.updated_at = now
        VOLUME_LOG.info("Created volume successfully. (volume %s)", volume_id)
        await self.notifier.volume(volume_id, "create.end", ctxt)

    async def delete_volume(self, volume_id: str, cascade: bool = False,
                            ctxt: Mapping[str, Any] | None = None) -> None:
        service = self.service
        usage = await self.notifier.volume(volume_id, "delete.start", ctxt)
        try:
            await service.store.ready(self.backend.host)
        except RbdError as error:
            VOLUME_LOG.error("Volume %s: delete failed: %s", volume_id, error)
            self._set(volume_id, status="error_deleting")
            return
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None:
                return
            if cascade:
                for snapshot in service.snapshots_of(session, volume_id):
                    service.store.remove(self.backend.host, snapshot.id, session=session)
                    session.delete(snapshot)
            service.store.remove(self.backend.host, volume_id, session=session)
            for attachment in service.attachments.of_volume(session, volume_id):
                session.delete(attachment)  # a forced delete takes its attachments along
            session.delete(volume)
        VOLUME_LOG.info("Deleted volume successfully. (volume %s)", volume_id)
        await self.notifier.volume(volume_id, "delete.end", ctxt, usage)

    async def unmanage_volume(self, volume_id: str) -> None:
        """The volume leaves cinder; its data stays on the backend (manageable again)."""
        with self.service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is not None:
                self.service.manageable.left(self.backend.host, volume_id,
                                             Leftover("volume", volume.size))
                session.delete(volume)
        VOLUME_LOG.info("Unmanaged volume successfully. (volume %s)", volume_id)

    async def extend_volume(self, volume_id: str, new_size: int) -> None:
        """The volume grows; one with attachments is in-use again and nova is told, for
        each server it is attached to, to have the guest see the new size."""
        with self.service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None:
                return
            # cinder decides by the attachments, not by the status it had.
            attachments = self.service.attachments.of_volume(session, volume_id)
            servers = [a.instance_uuid for a in attachments if a.instance_uuid]
            attached = bool(attachments)
            volume.size = new_size
            volume.status = "in-use" if attached else "available"
            volume.previous_status = None
            volume.updated_at = self.service.clock.now()
        if attached and self.service.nova is not None:
            await self.service.nova.extend_volume(servers, volume_id)
        VOLUME_LOG.info("Extend volume completed successfully. (volume %s)", volume_id)

    async def create_snapshot(self, snapshot_id: str,
                              ctxt: Mapping[str, Any] | None = None) -> None:
        service = self.service
        await self.notifier.snapshot(snapshot_id, "create.start", ctxt)
        try:
            await service.store.ready(self.backend.host)
        except RbdError as error:
            VOLUME_LOG.error("Snapshot %s: create failed: %s", snapshot_id, error)
            with service.db.session() as session:
                snapshot = session.get(m.Snapshot, snapshot_id)
                if snapshot is not None:
                    snapshot.status = "error"
            return
        with service.db.session() as session:
            snapshot = session.get(m.Snapshot, snapshot_id)
            if snapshot is None:
                return
            service.store.write(self.backend.host, snapshot.id, service.store.read(
                self.backend.host, snapshot.volume_id, session=session), session=session)
            snapshot.status = "available"
            snapshot.progress = "100%"
            snapshot.updated_at = service.clock.now()
        await self.notifier.snapshot(snapshot_id, "create.end", ctxt)

    async def delete_snapshot(self, snapshot_id: str,
                              ctxt: Mapping[str, Any] | None = None) -> None:
        service = self.service
        usage = await self.notifier.snapshot(snapshot_id, "delete.start", ctxt)
        with service.db.session() as session:
            snapshot = session.get(m.Snapshot, snapshot_id)
            if snapshot is None:
                return
            service.store.remove(self.backend.host, snapshot_id, session=session)
            session.delete(snapshot)
        await self.notifier.snapshot(snapshot_id, "delete.end", ctxt, usage)

    # cinder-backup's calls: the bytes of a volume (or of its snapshot) to back up, and
    # the bytes a restore writes back (upstream: the device it attaches, then writes).
    async def get_backup_device(self, volume_id: str, snapshot_id: str | None = None
                                ) -> bytes:
        return self.service.store.read(self.backend.host, snapshot_id or volume_id)

    async def get_capabilities(self, discover: bool = False) -> dict[str, Any]:
        """The driver's capabilities (cinder's ``init_capabilities``): its static stats
        and the standard properties a volume type's extra specs can name."""
        return driver_capabilities(self.backend)

    async def copy_volume_to_image(self, volume_id: str, image_id: str,
                                   disk_format: str = "raw", size_gb: int = 1,
                                   ctxt: dict[str, Any] | None = None) -> None:
        """The volume's bytes into the image cinder-api made, then the volume goes back
        to in-use or available by its attachments. A qcow2 image gets them converted, as
        qemu-img does (unless they are a qcow2 image already: stacklab's volumes keep an
        image's bytes as they came); other formats get them as they are, which glance's
        format check refuses. On a failure the image, if still queued or saving, is
        deleted."""
        service = self.service
        failure: str | None = None
        try:
            if service.glance is None:
                raise ServiceCallError(503, {"message": "no Image API configured"})
            await service.store.ready(self.backend.host)
            data = service.store.read(self.backend.host, volume_id)
            if disk_format == "qcow2" and not data.startswith(b"QFI\xfb"):
                data = raw_to_qcow2(data, size_gb * GIB)
            await service.glance.upload(image_id, data)
        except (ServiceCallError, RbdError) as error:
            failure = str(error)
        if failure is not None and service.glance is not None:
            VOLUME_LOG.error("Upload volume to image encountered an error (image-id: %s): "
                             "%s", image_id, failure)
            try:
                image = await service.glance.show(image_id)
                if image.get("status") in ("queued", "saving"):
                    await service.glance.delete(image_id)
            except ServiceCallError:
                VOLUME_LOG.warning("Image delete encountered an error.")
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is not None and failure is not None:
                service.messages.record(
                    session, project_id=volume.project_id,
                    request_id=(ctxt or {}).get("request_id"), action=COPY_VOLUME_TO_IMAGE,
                    detail=FAILED_TO_UPLOAD_VOLUME, resource_uuid=volume_id)
            if volume is not None:
                # cinder's volume_update_status_based_on_attachment.
                attached = session.scalars(select(m.VolumeAttachment.id).where(
                    m.VolumeAttachment.volume_id == volume_id)).first()
                volume.status = "in-use" if attached is not None else "available"
                volume.updated_at = service.clock.now()

    async def restore_backup_data(self, volume_id: str, data: bytes) -> None:
        self.service.store.write(self.backend.host, volume_id, data)

    async def migrate_volume(self, volume_id: str, host: str,
                             new_type_id: str | None = None) -> None:
        await self.service.migrations.migrate_volume(self.backend.host, volume_id, host,
                                                     new_type_id)

    async def reimage_volume(self, volume_id: str, image_id: str,
                             snapshot_id: str | None = None) -> None:
        await self.service.reimages.reimage(self.backend.host, volume_id, image_id,
                                            snapshot_id)

    def _set(self, volume_id: str, **values: Any) -> None:
        with self.service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is not None:
                for name, value in values.items():
                    setattr(volume, name, value)
                volume.updated_at = self.service.clock.now()


class SchedulerManager(GroupSchedulerEndpoints, LogLevelEndpoints):
    """The endpoint of one cinder-scheduler process."""

    def __init__(self, service: BlockStorageService, node: str) -> None:
        self.service = service
        self.node = node
        self.listener: Listener | None = None

    @property
    def target(self) -> Target:
        return Target(TOPICS[SCHEDULER], self.node)

    def _log_service(self) -> tuple[LogLevels, str, str]:
        return self.service.log_levels, SCHEDULER, self.node

    async def create_volume(self, volume_id: str, size: int, availability_zone: str | None,
                            extra_specs: dict[str, str],
                            resource_backend: str | None = None,
                            backup_id: str | None = None,
                            ctxt: dict[str, Any] | None = None) -> None:
        service = self.service
        request = Request(size, availability_zone, extra_specs, resource_backend)
        decision = schedule(service.pools(), request)
        for line in decision.log:
            SCHEDULER_LOG.warning("%s", line)
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None or volume.status != "creating":
                return
            if decision.chosen is None:
                # cinder's scheduler sets the volume to error (no host) and tells the user
                # why in a message (its _set_volume_state_and_notify).
                volume.status = "error"
                volume.updated_at = service.clock.now()
                service.messages.record(
                    session, project_id=volume.project_id,
                    request_id=(ctxt or {}).get("request_id"),
                    action=SCHEDULE_ALLOCATE_VOLUME, detail=NO_BACKEND_AVAILABLE,
                    resource_uuid=volume_id)
                return
            volume.host = decision.chosen.pool_host
            volume.updated_at = service.clock.now()
        # Sent from this scheduler's node, over its connection to the broker.
        with on_host(self.node):
            extra: dict[str, Any] = {"backup_id": backup_id} if backup_id else {}
            service.bus.cast_nowait(Target(TOPICS[VOLUME], decision.chosen.host),
                                    "create_volume", volume_id=volume_id, ctxt=ctxt, **extra)

    # Retype and migration: the scheduler checks the destination (migration.py).
    async def retype(self, volume_id: str, new_type_id: str, migration_policy: str) -> None:
        with on_host(self.node):
            self.service.migrations.schedule_retype(volume_id, new_type_id, migration_policy)

    async def migrate_volume(self, volume_id: str, host: str) -> None:
        with on_host(self.node):
            self.service.migrations.schedule_migration(volume_id, host)
