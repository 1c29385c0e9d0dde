"""Volume backups: what cinder-api checks and records (cinder/backup/api.py), and
cinder-backup, the RPC server on each controller that copies a volume's bytes into the
object store and back (cinder/backup/manager.py with the chunked swift driver).

cinder-backup never touches a backend itself: it asks the volume's own cinder-volume for
the bytes (``get_backup_device``) and hands them back to it to restore, so a backup of a
volume whose cinder-volume is down fails once the call times out, as upstream's.

The driver writes a backup as objects under ``<container>/<prefix>``: the data in
extents of at most ``OBJECT_SIZE`` bytes, a ``_sha256file`` with one digest per
``BLOCK_SIZE`` block, and a ``_metadata`` object listing the extents. An incremental
backup stores only the blocks whose digests differ from its parent's; a restore replays
the chain from the full backup down.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound, ServiceUnavailable
from stacklab.block_storage import models as m
from stacklab.block_storage.loglevels import LogLevelEndpoints, LogLevels
from stacklab.block_storage.manager import RESTORE_MARK
from stacklab.block_storage.objectstore import ObjectStore
from stacklab.block_storage.quotas import Quotas
from stacklab.block_storage.servicegroup import BACKUP, TOPICS, VOLUME
from stacklab.block_storage.volumes import (
    Caller,
    Cast,
    Volumes,
    backend_of,
    invalid_input,
    invalid_volume,
)
from stacklab.bus.interface import MessagingError, Target
from stacklab.clock import Clock
from stacklab.ids import IdSource

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.backup.manager")

# cinder/backup/drivers/swift.py: its name as a backup records it, its default
# container, object size and the block size its digests cover.
DRIVER = "cinder.backup.drivers.swift.SwiftBackupDriver"
DRIVER_MODULE = "cinder.backup.drivers.swift"
CONTAINER = "volumebackups"
OBJECT_SIZE = 52428800
BLOCK_SIZE = 32768
# cinder/backup/api.py: the volume an imported backup names until it is restored.
IMPORT_VOLUME_ID = "00000000-0000-0000-0000-000000000000"
# How long cinder-backup waits for a volume made to restore into to leave "creating".
NEW_VOLUME_WAIT = 300.0


def backup_not_found(ident: str) -> NotFound:
    return NotFound(f"Backup {ident} could not be found.")


def invalid_backup(reason: str) -> BadRequest:
    return BadRequest(f"Invalid backup: {reason}")


class NoBackupService(NotFound):
    """cinder's ServiceNotFound for cinder-backup: a 404, but 503 from a create."""

    def __init__(self) -> None:
        super().__init__(f"Service {BACKUP} could not be found.")


class Backups:
    """cinder-api's side: checks, records, and the cast to a cinder-backup."""

    def __init__(self, clock: Clock, ids: IdSource, quotas: Quotas, volumes: Volumes,
                 backup_hosts: Callable[[str | None], list[str]]) -> None:
        self.clock = clock
        self.ids = ids
        self.quotas = quotas
        self.volumes = volumes
        # The cinder-backup services up and enabled (in a zone, or anywhere for None).
        self.backup_hosts = backup_hosts

    @staticmethod
    def get(session: Session, ident: str, caller: Caller) -> m.Backup:
        found = session.get(m.Backup, ident)
        if found is None or not (caller.admin or found.project_id == caller.project_id):
            raise backup_not_found(ident)
        return found

    def choose_host(self, zone: str | None) -> str:
        """Any cinder-backup that is up in the zone (cinder shuffles them), else
        ServiceNotFound."""
        hosts = self.backup_hosts(zone)
        if not hosts:
            raise NoBackupService()
        return hosts[self.ids.randint(0, len(hosts) - 1)]

    # -- create ------------------------------------------------------------------------------

    def create(self, session: Session, caller: Caller, fields: Mapping[str, Any], *,
               incremental: bool, force: bool) -> tuple[m.Backup, Cast]:
        volume = self.volumes.get(session, fields["volume_id"], caller)
        snapshot: m.Snapshot | None = None
        snapshot_id = fields.get("snapshot_id")
        if snapshot_id:
            snapshot = self.volumes.get_snapshot(session, snapshot_id, caller)
            if snapshot.volume_id != volume.id:
                raise invalid_volume(f"Volume {volume.id} does not match with "
                                     f"snapshot.volume_id {snapshot.volume_id}.")
            if snapshot.status != "available":
                raise BadRequest("Invalid snapshot: Snapshot to be backed up must be "
                                 "available, but the current status is "
                                 f'"{snapshot.status}".')
        elif volume.status not in ("available", "in-use"):
            raise invalid_volume("Volume to be backed up must be available or in-use, but "
                                 f'the current status is "{volume.status}".')
        elif volume.status == "in-use" and not force:
            raise invalid_volume("Backing up an in-use volume must use the force flag.")
        self.quotas.check_backup(session, caller.project_id, volume.size)
        parent = self._parent(session, caller, volume, snapshot) if incremental else None
        zone = fields.get("availability_zone")
        host = self.choose_host(zone)
        now = self.clock.now()
        backup = m.Backup(
            id=self.ids.uuid(), project_id=caller.project_id, user_id=caller.user_id,
            volume_id=volume.id, snapshot_id=snapshot.id if snapshot is not None else None,
            parent_id=parent.id if parent is not None else None, host=host,
            availability_zone=zone, container=fields.get("container"),
            name=fields.get("name"), description=fields.get("description"),
            status="creating", size=volume.size, object_count=0, num_dependent_backups=0,
            metadata_=dict(fields.get("metadata") or {}),
            # A snapshot's data is as old as the snapshot; a volume's is now.
            data_timestamp=snapshot.created_at if snapshot is not None else now,
            created_at=now)
        session.add(backup)
        if snapshot is not None:
            snapshot.status = "backing-up"
            snapshot.updated_at = now
        else:
            volume.previous_status = volume.status
            volume.status = "backing-up"
            volume.updated_at = now
        session.flush()
        return backup, Cast(TOPICS[BACKUP], host, "create_backup", {"backup_id": backup.id})

    @staticmethod
    def _parent(session: Session, caller: Caller, volume: m.Volume,
                snapshot: m.Snapshot | None) -> m.Backup:
        """The newest available backup of the volume (older than the snapshot when
        backing one up): what an incremental backup builds on."""
        backups = list(session.scalars(select(m.Backup).where(
            m.Backup.volume_id == volume.id, m.Backup.project_id == caller.project_id)))
        if not backups:
            raise invalid_backup("No backups available to do an incremental backup.")

        def newest(backup: m.Backup) -> float:
            usable = backup.status == "available" and (
                snapshot is None or (backup.data_timestamp or 0) < snapshot.created_at)
            return (backup.data_timestamp or 0) if usable else float("-inf")

        latest = max(backups, key=newest)
        if latest.status != "available":
            raise invalid_backup("No backups available to do an incremental backup.")
        return latest

    # -- delete, reset -----------------------------------------------------------------------

    def delete(self, session: Session, backup: m.Backup, *, force: bool) -> Cast:
        if not force and backup.status not in ("available", "error"):
            raise invalid_backup("Backup status must be available or error")
        children = session.scalars(select(m.Backup.id).where(
            m.Backup.parent_id == backup.id)).first()
        if children is not None:
            raise invalid_backup("Incremental backups exist for this backup.")
        backup.host = self.choose_host(backup.availability_zone)
        backup.status = "deleting"
        backup.updated_at = self.clock.now()
        return Cast(TOPICS[BACKUP], backup.host, "delete_backup", {"backup_id": backup.id})

    def reset_status(self, backup: m.Backup, status: str) -> Cast:
        # cinder's backup_status format: only these two.
        if status.lower() not in ("available", "error"):
            raise BadRequest(f"Backup status: {status} is invalid, "
                             "valid statuses are: ['available', 'error'].")
        status = status.lower()
        backup.host = self.choose_host(backup.availability_zone)
        backup.updated_at = self.clock.now()
        return Cast(TOPICS[BACKUP], backup.host, "reset_status",
                    {"backup_id": backup.id, "status": status})

    def update(self, backup: m.Backup, fields: Mapping[str, Any]) -> None:
        if "name" in fields:
            backup.name = fields["name"]
        if "description" in fields:
            backup.description = fields["description"]
        if "metadata" in fields:
            backup.metadata_ = dict(fields["metadata"] or {})
        backup.updated_at = self.clock.now()

    # -- restore -----------------------------------------------------------------------------

    def restore(self, session: Session, caller: Caller, backup: m.Backup,
                volume_id: str | None, name: str | None, *,
                zones: Mapping[str, bool]) -> tuple[dict[str, Any], list[Cast]]:
        if backup.status != "available":
            raise invalid_backup("Backup status must be available")
        casts: list[Cast] = []
        if volume_id is None:
            # cinder-api makes the volume, of the backup's size, and restores into it
            # once it is made (cinder-backup waits for it here).
            volume, create = self.volumes.create(session, caller, {
                "size": backup.size, "name": name or f"restore_backup_{backup.id}",
                "description": "auto-created_from_restore_from_backup"},
                zones=zones, image=None)
            volume.admin_metadata = {**volume.admin_metadata, RESTORE_MARK: backup.id}
            casts.append(create)
            volume_is_new = True
        else:
            volume = self.volumes.get(session, volume_id, caller)
            volume_is_new = False
            if volume.status != "available":
                raise invalid_volume("Volume to be restored to must be available")
            if backup.size > volume.size:
                raise invalid_volume(f"volume size {volume.size} is too small to restore "
                                     f"backup of size {backup.size}.")
        backup.host = self.choose_host(backup.availability_zone)
        now = self.clock.now()
        backup.status = "restoring"
        backup.restore_volume_id = volume.id
        backup.updated_at = now
        if not volume_is_new:
            volume.status = "restoring-backup"
            volume.updated_at = now
        casts.append(Cast(TOPICS[BACKUP], backup.host, "restore_backup", {
            "backup_id": backup.id, "volume_id": volume.id, "volume_is_new": volume_is_new}))
        return ({"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name},
                casts)

    # -- export and import -------------------------------------------------------------------

    def export_record(self, backup: m.Backup) -> dict[str, str]:
        if backup.status != "available":
            raise invalid_backup(f"Backup status must be available and not {backup.status}.")
        backup.host = self.choose_host(backup.availability_zone)
        record = {name: getattr(backup, name) for name in _RECORD_FIELDS}
        record["metadata"] = dict(backup.metadata_)
        url = base64.b64encode(json.dumps(record, sort_keys=True).encode()).decode()
        return {"backup_service": backup.service or DRIVER, "backup_url": url}

    def import_record(self, session: Session, caller: Caller, backup_service: str,
                      backup_url: str) -> tuple[m.Backup, Cast]:
        hosts = self.backup_hosts(None)
        if not hosts or backup_service not in (DRIVER, DRIVER_MODULE):
            raise ServiceUnavailable(f"Service {backup_service} could not be found.")
        try:
            record = json.loads(base64.b64decode(backup_url.encode(), validate=True))
        except (binascii.Error, ValueError):
            raise invalid_input("Can't parse backup record.") from None
        if not isinstance(record, dict):
            raise invalid_input("Can't parse backup record.")
        if "id" not in record:
            raise invalid_input("Provided backup record is missing an id")
        if "size" not in record:
            raise invalid_input("Provided backup record is missing size attribute")
        if session.get(m.Backup, str(record["id"])) is not None:
            raise invalid_backup("Backup already exists in database.")
        size = int(record["size"])
        self.quotas.check_backup(session, caller.project_id, size)
        now = self.clock.now()
        backup = m.Backup(
            id=str(record["id"]), project_id=caller.project_id, user_id=caller.user_id,
            volume_id=IMPORT_VOLUME_ID, status="creating", size=size, object_count=0,
            num_dependent_backups=0, metadata_={}, host=hosts[-1], created_at=now)
        session.add(backup)
        session.flush()
        return backup, Cast(TOPICS[BACKUP], backup.host, "import_record",
                            {"backup_id": backup.id, "record": record})


# What an exported record carries (cinder's Backup.encode_record: the backup's fields).
_RECORD_FIELDS = ("id", "volume_id", "snapshot_id", "parent_id", "availability_zone",
                  "container", "service", "service_metadata", "name", "description", "size",
                  "object_count", "data_timestamp", "created_at")


# -- the driver: objects in the store ------------------------------------------------------

def object_prefix(backup: m.Backup, volume_zone: str | None, moment: float) -> str:
    """cinder's chunked driver names: volume_<id>/<UTC time>/az_<zone>_backup_<id>."""
    stamp = dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"volume_{backup.volume_id}/{stamp}/az_{volume_zone}_backup_{backup.id}"


def _digests(data: bytes) -> list[str]:
    return [hashlib.sha256(data[at:at + BLOCK_SIZE]).hexdigest()
            for at in range(0, len(data), BLOCK_SIZE)]


def volume_meta(volume: m.Volume) -> dict[str, Any]:
    """What the chunked driver keeps of the volume beside its bytes (cinder's
    BackupMetadataAPI.get): its name and description, its metadata and the image
    metadata it was made with; a restore puts them back (``restore_volume_meta``)."""
    meta: dict[str, Any] = {"volume-base-metadata": {
        "display_name": volume.name, "display_description": volume.description}}
    if volume.metadata_:
        meta["volume-metadata"] = dict(volume.metadata_)
    if volume.image_metadata:
        meta["volume-glance-metadata"] = dict(volume.image_metadata)
    return meta


def restore_volume_meta(volume: m.Volume, meta: Mapping[str, Any]) -> None:
    """A backup's volume metadata onto the volume it is restored into: the name only when
    the volume has none or is the one made for the restore, the metadata and image
    metadata replacing the volume's own (cinder's BackupMetadataAPI.put, version 2)."""
    base = meta.get("volume-base-metadata") or {}
    if base.get("display_name") and (not volume.name
                                     or volume.name.startswith("restore_backup_")):
        volume.name = base["display_name"]
        volume.description = base.get("display_description")
    if "volume-metadata" in meta:
        volume.metadata_ = dict(meta["volume-metadata"])
    if "volume-glance-metadata" in meta:
        volume.image_metadata = dict(meta["volume-glance-metadata"])
        volume.bootable = True


def write_backup(store: ObjectStore, container: str, prefix: str, data: bytes,
                 parent_digests: list[str] | None,
                 meta: Mapping[str, Any] | None = None) -> int:
    """The backup's objects; returns how many data objects it wrote."""
    digests = _digests(data)
    changed = [index for index, digest in enumerate(digests)
               if parent_digests is None or index >= len(parent_digests)
               or parent_digests[index] != digest]
    extents: list[tuple[int, int]] = []  # (offset, length), adjacent changed blocks joined
    for index in changed:
        offset = index * BLOCK_SIZE
        length = min(BLOCK_SIZE, len(data) - offset)
        if extents and sum(extents[-1]) == offset and extents[-1][1] + length <= OBJECT_SIZE:
            extents[-1] = (extents[-1][0], extents[-1][1] + length)
        else:
            extents.append((offset, length))
    objects = []
    for number, (offset, length) in enumerate(extents, start=1):
        name = f"{prefix}-{number:05d}"
        store.put(container, name, data[offset:offset + length])
        objects.append({"name": name, "offset": offset, "length": length})
    store.put(container, f"{prefix}_sha256file",
              json.dumps({"chunk_size": BLOCK_SIZE, "sha256s": digests}).encode())
    store.put(container, f"{prefix}_metadata", json.dumps({
        "version": "1.0.0", "length": len(data), "objects": objects,
        "volume_meta": dict(meta) if meta is not None else None}).encode())
    return len(objects)


def read_digests(store: ObjectStore, container: str, prefix: str) -> list[str]:
    return list(json.loads(store.get(container, f"{prefix}_sha256file"))["sha256s"])


def apply_backup(store: ObjectStore, container: str, prefix: str,
                 data: bytearray) -> dict[str, Any] | None:
    """Lay one backup's extents over ``data`` (the bytes its parent gave back); the volume
    metadata it kept."""
    metadata = json.loads(store.get(container, f"{prefix}_metadata"))
    length = int(metadata["length"])
    del data[length:]
    data.extend(bytes(length - len(data)))
    for extent in metadata["objects"]:
        chunk = store.get(container, extent["name"])
        data[extent["offset"]:extent["offset"] + len(chunk)] = chunk
    kept = metadata.get("volume_meta")
    return dict(kept) if isinstance(kept, dict) else None


def delete_objects(store: ObjectStore, container: str | None, prefix: str | None) -> None:
    if container is None or prefix is None:
        return
    for name in store.names(container, prefix):
        store.delete(container, name)


# -- cinder-backup -------------------------------------------------------------------------

class BackupManager(LogLevelEndpoints):
    """The endpoint of one cinder-backup process (on a controller)."""

    def __init__(self, service: BlockStorageService, node: str) -> None:
        self.service = service
        self.node = node
        self.listener: Any = None

    @property
    def target(self) -> Target:
        return Target(TOPICS[BACKUP], self.node)

    @property
    def store(self) -> ObjectStore:
        return self.service.backup_store

    def _log_service(self) -> tuple[LogLevels, str, str]:
        return self.service.log_levels, BACKUP, self.node

    async def create_backup(self, backup_id: str) -> None:
        service = self.service
        with service.db.session() as session:
            backup = session.get(m.Backup, backup_id)
            if backup is None or backup.status != "creating":
                return
            volume = session.get(m.Volume, backup.volume_id)
            if volume is None or volume.host is None:
                self._fail(backup_id, "The volume of the backup is gone.")
                return
            backup.host = self.node
            # The manager's own zone, when the request named none.
            backup.availability_zone = (backup.availability_zone
                                        or service.config.DEFAULT.storage_availability_zone)
            backup.service = DRIVER
            backup.container = backup.container or CONTAINER
            backup.service_metadata = object_prefix(backup, volume.availability_zone,
                                                    service.clock.now())
            container, prefix = backup.container, backup.service_metadata
            volume_id = volume.id
            target = Target(TOPICS[VOLUME], backend_of(volume.host))
            snapshot_id, parent_id = backup.snapshot_id, backup.parent_id
            parent = session.get(m.Backup, parent_id) if parent_id else None
            parent_at = (parent.container, parent.service_metadata) if parent else None
            meta = volume_meta(volume)
        try:
            # The volume's own cinder-volume hands over its bytes (get_backup_device).
            data = await service.bus.call(target, "get_backup_device", volume_id=volume_id,
                                          snapshot_id=snapshot_id)
            parent_digests = None
            if parent_at is not None and parent_at[0] and parent_at[1]:
                parent_digests = read_digests(self.store, parent_at[0], parent_at[1])
            count = write_backup(self.store, container, prefix, bytes(data), parent_digests,
                                 meta)
        except (MessagingError, KeyError) as error:
            LOG.error("Backup %s failed: %s", backup_id, error)
            self._fail(backup_id, str(error) or type(error).__name__)
            return
        with service.db.session() as session:
            backup_row = session.get(m.Backup, backup_id)
            self._give_back(session, volume_id, snapshot_id)
            if backup_row is None or backup_row.status != "creating":
                # Deleted while it ran: nothing of it is kept.
                delete_objects(self.store, container, prefix)
                return
            backup_row.status = "available"
            backup_row.object_count = count
            backup_row.updated_at = service.clock.now()
            if parent_id:
                parent = session.get(m.Backup, parent_id)
                if parent is not None:
                    parent.num_dependent_backups += 1
        LOG.info("Create backup finished. backup: %s.", backup_id)

    def _give_back(self, session: Session, volume_id: str, snapshot_id: str | None,
                   *, failed: bool = False) -> None:
        """The volume (or snapshot) returns to what it was before the backup."""
        if snapshot_id:
            snapshot = session.get(m.Snapshot, snapshot_id)
            if snapshot is not None and snapshot.status == "backing-up":
                snapshot.status = "available"
            return
        volume = session.get(m.Volume, volume_id)
        if volume is not None and volume.status == "backing-up":
            volume.status = volume.previous_status or "available"
            volume.previous_status = "error_backing-up" if failed else "backing-up"
            volume.updated_at = self.service.clock.now()

    def _fail(self, backup_id: str, reason: str) -> None:
        with self.service.db.session() as session:
            backup = session.get(m.Backup, backup_id)
            if backup is None:
                return
            self._give_back(session, backup.volume_id, backup.snapshot_id, failed=True)
            backup.status = "error"
            backup.fail_reason = reason[:255]
            backup.updated_at = self.service.clock.now()

    async def restore_backup(self, backup_id: str, volume_id: str,
                             volume_is_new: bool) -> None:
        service = self.service
        # A volume made for the restore is scheduled first: wait until it is made. (One
        # made from a backup comes raw from its cinder-volume, still "creating".)
        waited = 0.0
        while True:
            with service.db.session() as session:
                volume = session.get(m.Volume, volume_id)
                status = volume.status if volume is not None else None
                marked = volume is not None and RESTORE_MARK in volume.admin_metadata
            if status != "creating" or not marked or waited >= NEW_VOLUME_WAIT:
                break
            await service.lab_clock.sleep(1.0)
            waited += 1.0
        with service.db.session() as session:
            backup = session.get(m.Backup, backup_id)
            volume = session.get(m.Volume, volume_id)
            if backup is None:
                return
            marked = volume is not None and RESTORE_MARK in volume.admin_metadata
            if volume is not None and marked:
                volume.admin_metadata = {k: v for k, v in volume.admin_metadata.items()
                                         if k != RESTORE_MARK}
            # A raw volume its cinder-volume made from the backup (never marked).
            raw = (volume_is_new and not marked and volume is not None
                   and volume.status == "creating")
            if volume is None or volume.host is None or not (
                    raw or volume.status == "restoring-backup"):
                LOG.error("Restore backup aborted, expected volume status restoring-backup "
                          "but got %s.", volume.status if volume else None)
                backup.status = "available"
                if volume is not None:
                    volume.status = "error"
                return
            chain = self._chain(session, backup)
            target = Target(TOPICS[VOLUME], backend_of(volume.host))
        metas: list[dict[str, Any] | None] = []
        try:
            data = bytearray()
            metas = [apply_backup(self.store, container, prefix, data)
                     for container, prefix in chain]
            await service.bus.call(target, "restore_backup_data", volume_id=volume_id,
                                   data=bytes(data))
            failed = False
        except (MessagingError, KeyError) as error:
            LOG.error("Restore of backup %s failed: %s", backup_id, error)
            failed = True
        now = service.clock.now()
        with service.db.session() as session:
            backup = session.get(m.Backup, backup_id)
            volume = session.get(m.Volume, volume_id)
            if backup is not None:
                backup.status = "available"
                backup.updated_at = now
            if volume is None:
                return
            if failed:
                volume.status = "error" if volume_is_new else "error_restoring"
                return
            volume.status = "available"
            if volume_is_new:
                volume.launched_at = now
            # Each backup of the chain puts its metadata back, the full one first.
            for meta in metas:
                if meta is not None:
                    restore_volume_meta(volume, meta)
            # cinder marks a volume restored from another's backup, or from another
            # backup than the one it was last restored from.
            old_source = volume.metadata_.get("src_backup_id")
            if backup is not None and (backup.volume_id != volume.id or (
                    old_source and old_source != backup.id)):
                volume.metadata_ = {**volume.metadata_, "src_backup_id": backup.id}
            volume.updated_at = now
        LOG.info("Finished restoring backup %s to volume %s.", backup_id, volume_id)

    @staticmethod
    def _chain(session: Session, backup: m.Backup) -> list[tuple[str, str]]:
        """Where each backup of the chain is, the full one first."""
        chain: list[tuple[str, str]] = []
        current: m.Backup | None = backup
        while current is not None:
            if current.container and current.service_metadata:
                chain.append((current.container, current.service_metadata))
            current = session.get(m.Backup, current.parent_id) if current.parent_id else None
        return chain[::-1]

    async def delete_backup(self, backup_id: str) -> None:
        with self.service.db.session() as session:
            backup = session.get(m.Backup, backup_id)
            if backup is None or backup.status != "deleting":
                return
            delete_objects(self.store, backup.container, backup.service_metadata)
            if backup.parent_id:
                parent = session.get(m.Backup, backup.parent_id)
                if parent is not None and parent.num_dependent_backups > 0:
                    parent.num_dependent_backups -= 1
            session.delete(backup)
        LOG.info("Delete backup finished, backup %s deleted.", backup_id)

    async def reset_status(self, backup_id: str, status: str) -> None:
        with self.service.db.session() as session:
            backup = session.get(m.Backup, backup_id)
            if backup is not None:
                backup.status = status
                backup.updated_at = self.service.clock.now()

    async def import_record(self, backup_id: str, record: dict[str, Any]) -> None:
        """The record's objects must be in the store for the backup to be usable."""
        with self.service.db.session() as session:
            backup = session.get(m.Backup, backup_id)
            if backup is None:
                return
            container, prefix = record.get("container"), record.get("service_metadata")
            present = bool(container and prefix
                           and self.store.names(str(container), f"{prefix}_metadata"))
            for name in ("snapshot_id", "parent_id", "availability_zone", "container",
                         "service_metadata", "name", "description", "object_count",
                         "data_timestamp"):
                if name in record:
                    setattr(backup, name, record[name])
            if record.get("volume_id"):
                backup.volume_id = record["volume_id"]
            backup.service = DRIVER
            backup.metadata_ = dict(record.get("metadata") or {})
            backup.host = self.node
            backup.status = "available" if present else "error"
            if not present:
                backup.fail_reason = "The backup's objects are not in the object store."
            backup.updated_at = self.service.clock.now()
