"""Volumes as cinder-api handles them (cinder/volume/api.py, flows/api/create_volume.py):
what a request checks and records before it goes over the bus to the scheduler or to the
volume's own cinder-volume.

Each step takes the session of its request; the handler commits, then sends the cast the
step returned, so nothing is sent for a change that was not saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.quotas import Quotas
from stacklab.block_storage.volume_types import VolumeTypes
from stacklab.clock import Clock
from stacklab.ids import IdSource

GIB = 1024 ** 3
# What a volume's status may be for a plain delete (cinder/volume/api.py delete).
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
# What os-reset_status accepts (cinder's VolumeStatus and VolumeAttachStatus fields).
VOLUME_STATUSES = frozenset({
    "creating", "available", "deleting", "error", "error_deleting", "error_managing",
    "managing", "attaching", "in-use", "detaching", "maintenance", "restoring-backup",
    "error_restoring", "reserved", "awaiting-transfer", "backing-up", "error_backing-up",
    "error_extending", "downloading", "uploading", "retyping", "extending"})
ATTACH_STATUSES = frozenset({"attached", "attaching", "detached", "reserved", "detaching",
                             "error_attaching", "error_detaching", "deleted"})
SNAPSHOT_STATUSES = frozenset({"error", "available", "creating", "deleting", "deleted",
                               "updating", "error_deleting", "unmanaging", "backing-up",
                               "restoring"})


def invalid_volume(reason: str) -> BadRequest:
    return BadRequest(f"Invalid volume: {reason}")


def invalid_input(reason: str) -> BadRequest:
    return BadRequest(f"Invalid input received: {reason}")


def volume_not_found(ident: str | None) -> NotFound:
    return NotFound(f"Volume {ident} could not be found.")


def snapshot_not_found(ident: str) -> NotFound:
    return NotFound(f"Snapshot {ident} could not be found.")


@dataclass(frozen=True)
class Caller:
    project_id: str
    user_id: str | None
    admin: bool


@dataclass(frozen=True)
class ImageInfo:
    """What the Image API said of an image, looked up with the caller's token."""

    id: str
    name: str | None
    status: str
    size: int | None
    virtual_size: int | None
    min_disk: int
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Cast:
    """A message to send once the change is committed."""

    topic: str
    server: str | None
    method: str
    kwargs: Mapping[str, Any]


def check_image_fits(image: ImageInfo, size: int) -> None:
    """cinder's check_image_metadata: an active image that fits a volume of ``size`` GB."""
    if image.status != "active":
        raise invalid_input(f"Image {image.id} is not active.")
    image_gb = math.ceil((image.size or 0) / GIB)
    if image_gb > size:
        raise invalid_input(f"Size of specified image {image_gb}GB is larger than "
                            f"volume size {size}GB.")
    if image.min_disk > size:
        raise invalid_input(f"Volume size {size}GB cannot be smaller than the image "
                            f"minDisk size {image.min_disk}GB.")
    virtual_gb = math.ceil((image.virtual_size or 0) / GIB)
    if virtual_gb > size:
        raise invalid_input(f"Image virtual size is {virtual_gb}GB and doesn't fit "
                            f"in a volume of size {size}GB.")


def backend_of(host: str) -> str:
    """host@backend of host@backend#pool (cinder's ``extract_host``)."""
    return host.partition("#")[0]


def host_matches(stored: str, wanted: str) -> bool:
    """cinder's host filter (db ``_filter_host``): a bare host matches its backends
    (``host@backend``) and pools (``host#pool``), a backend its pools, a pool itself only."""
    if stored == wanted:
        return True
    if "#" in wanted:
        return False
    if stored.startswith(f"{wanted}#"):
        return True
    return "@" not in wanted and stored.startswith(f"{wanted}@")


def assert_not_frozen(session: Session, host: str | None) -> None:
    """cinder's ``assert_not_frozen``: no change to what a frozen backend holds."""
    if host is None:
        return
    frozen = session.scalars(select(m.VolumeService).where(
        m.VolumeService.host == backend_of(host), m.VolumeService.frozen.is_(True))).first()
    if frozen is not None:
        raise BadRequest("Invalid input received: Modification operations are not allowed "
                         "on frozen storage backends.")


class Volumes:
    def __init__(self, clock: Clock, ids: IdSource, types: VolumeTypes, quotas: Quotas,
                 default_zone: str) -> None:
        self.clock = clock
        self.ids = ids
        self.types = types
        self.quotas = quotas
        self.default_zone = default_zone

    # -- reading -----------------------------------------------------------------------------

    @staticmethod
    def get(session: Session, ident: str | None, caller: Caller) -> m.Volume:
        """A volume the caller may see (its own project's; an admin's any), else 404."""
        found = session.get(m.Volume, ident) if ident else None
        if found is None or not (caller.admin or found.project_id == caller.project_id):
            raise volume_not_found(ident)
        return found

    @staticmethod
    def get_snapshot(session: Session, ident: str, caller: Caller) -> m.Snapshot:
        found = session.get(m.Snapshot, ident)
        if found is None or not (caller.admin or found.project_id == caller.project_id):
            raise snapshot_not_found(ident)
        return found

    # -- create ------------------------------------------------------------------------------

    def create(self, session: Session, caller: Caller, fields: Mapping[str, Any], *,
               zones: Mapping[str, bool], image: ImageInfo | None,
               backup: m.Backup | None = None) -> tuple[m.Volume, Cast]:
        snapshot = source = None
        if backup is not None:
            _check_backup(backup)
        if fields.get("snapshot_id") is not None:
            snapshot = self.get_snapshot(session, fields["snapshot_id"], caller)
            if snapshot.status != "available":
                raise invalid_input("Originating snapshot status must be one of 'available' "
                                    "values")
        if fields.get("source_volid") is not None:
            source = self.get(session, fields["source_volid"], caller)
            if source.status not in ("available", "in-use"):
                raise invalid_input("Originating source volume status must be one of "
                                    "'available, in-use' values")
        raw_size = fields.get("size")
        if backup is not None and not raw_size:
            raw_size = backup.size  # cinder: no size (or 0) takes the backup's
        size = self._size(raw_size, snapshot, source, image)
        if backup is not None and size < backup.size:
            raise invalid_input(f"Volume size {size}GB cannot be smaller than the backup "
                                f"size {backup.size}GB. It must be >= backup size.")
        volume_type = self._type(session, caller, fields.get("volume_type"), snapshot, source)
        zone = self._zone(session, fields.get("availability_zone"), zones, snapshot, source,
                          volume_type)
        self.quotas.check_size(session, caller.project_id, size)
        self.quotas.check_volume(session, caller.project_id, size, volume_type.name)
        origin = source
        if snapshot is not None:
            origin = session.get(m.Volume, snapshot.volume_id)
        now = self.clock.now()
        volume = m.Volume(
            id=self.ids.uuid(), project_id=caller.project_id, user_id=caller.user_id,
            name=fields.get("name"), description=fields.get("description"), size=size,
            status="creating", attach_status="detached", availability_zone=zone,
            volume_type_id=volume_type.id,
            snapshot_id=snapshot.id if snapshot is not None else None,
            source_volid=source.id if source is not None else None,
            image_id=image.id if image is not None else None,
            bootable=bool(origin.bootable) if origin is not None else False,
            multiattach=multiattach_of(volume_type),
            metadata_=dict(fields.get("metadata") or {}),
            admin_metadata={}, replication_status="disabled",
            image_metadata=dict(origin.image_metadata) if origin is not None else {},
            created_at=now)
        session.add(volume)
        session.flush()
        resource_backend = None
        if origin is not None and origin.host:
            resource_backend = backend_of(origin.host)
        return volume, Cast("cinder-scheduler", None, "create_volume", {
            "volume_id": volume.id, "size": size, "availability_zone": zone,
            "extra_specs": dict(volume_type.extra_specs),
            "resource_backend": resource_backend,
            **({"backup_id": backup.id} if backup is not None else {})})

    @staticmethod
    def _size(raw: Any, snapshot: m.Snapshot | None, source: m.Volume | None,
              image: ImageInfo | None) -> int:
        size: Any = raw
        if size is None and snapshot is not None:
            size = snapshot.volume_size
        elif size is None and source is not None:
            size = source.size
        if isinstance(size, str):
            size = int(size) if size.isdigit() else size
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise invalid_input(f"Volume size '{size}' must be an integer and greater than 0")
        if snapshot is not None and size < snapshot.volume_size:
            raise invalid_input(f"Volume size '{size}'GB cannot be smaller than the snapshot "
                                f"size {snapshot.volume_size}GB. They must be >= original "
                                "snapshot size.")
        if source is not None and size < source.size:
            raise invalid_input(f"Volume size '{size}'GB cannot be smaller than original "
                                f"volume size  {source.size}GB. They must be >= original "
                                "volume size.")
        if image is not None:
            check_image_fits(image, size)
        return size

    def _type(self, session: Session, caller: Caller, asked: str | None,
              snapshot: m.Snapshot | None, source: m.Volume | None) -> m.VolumeType:
        if asked:
            return self.types.find(session, asked, caller.project_id, caller.admin)
        # A copy keeps its source's type (cinder's ExtractVolumeRequestTask).
        inherited = (snapshot.volume_type_id if snapshot is not None
                     else source.volume_type_id if source is not None else None)
        if inherited:
            found = session.get(m.VolumeType, inherited)
            if found is not None:
                return found
        default = self.types.default(session)
        if default is None:
            raise BadRequest("Invalid volume type: the default volume type is missing.")
        return default

    def _zone(self, session: Session, asked: str | None, zones: Mapping[str, bool],
              snapshot: m.Snapshot | None, source: m.Volume | None,
              volume_type: m.VolumeType) -> str:
        zone = asked
        if zone is None and snapshot is not None:
            origin = session.get(m.Volume, snapshot.volume_id)
            zone = origin.availability_zone if origin is not None else None
        if zone is None and source is not None:
            zone = source.availability_zone
        type_zones = [z.strip() for z in str(volume_type.extra_specs.get(
            "RESKEY:availability_zones", "")).split(",") if z.strip()]
        if zone is None:
            zone = type_zones[0] if type_zones else self.default_zone
        if zone not in zones:
            raise BadRequest(f"Availability zone '{zone}' is invalid.")
        if type_zones and zone not in type_zones:
            raise BadRequest(f"Availability zone '{zone}' is invalid.")
        if snapshot is not None:
            origin = session.get(m.Volume, snapshot.volume_id)
            if origin is not None and origin.availability_zone != zone:
                raise invalid_input("Volume must be in the same availability zone as the "
                                    "snapshot")
        if source is not None and source.availability_zone != zone:
            raise invalid_input("Volume must be in the same availability zone as the source "
                                "volume")
        return zone

    # -- update, metadata ----------------------------------------------------------------------

    def update(self, volume: m.Volume, fields: Mapping[str, Any]) -> None:
        if volume.status == "maintenance":
            raise invalid_volume("The volume cannot be updated during maintenance.")
        if "name" in fields:
            volume.name = fields["name"]
        if "description" in fields:
            volume.description = fields["description"]
        if "metadata" in fields:
            volume.metadata_ = dict(fields["metadata"] or {})
        volume.updated_at = self.clock.now()

    def set_metadata(self, volume: m.Volume, metadata: Mapping[str, str], *,
                     replace: bool) -> dict[str, Any]:
        if volume.status == "maintenance":
            raise invalid_volume("The volume metadata cannot be updated when the volume is "
                                 "in maintenance mode.")
        volume.metadata_ = dict(metadata) if replace else {**volume.metadata_, **metadata}
        volume.updated_at = self.clock.now()
        return dict(volume.metadata_)

    def delete_metadata(self, volume: m.Volume, key: str) -> None:
        if volume.status == "maintenance":
            raise invalid_volume("The volume metadata cannot be deleted when the volume is "
                                 "in maintenance mode.")
        if key not in volume.metadata_:
            raise NotFound(f"Volume {volume.id} has no metadata with key {key}.")
        volume.metadata_ = {k: v for k, v in volume.metadata_.items() if k != key}
        volume.updated_at = self.clock.now()

    # -- delete --------------------------------------------------------------------------------

    def delete(self, session: Session, volume: m.Volume, *, force: bool,
               cascade: bool) -> Cast | None:
        """Mark it deleting and say whom to tell; a volume no service owns goes at once."""
        if volume.host is None:
            # Never scheduled (or its scheduling failed): no service holds it, so cinder
            # destroys the row at once, whatever its status.
            session.delete(volume)
            return None
        snapshots = list(session.scalars(select(m.Snapshot).where(
            m.Snapshot.volume_id == volume.id)))
        ok = (volume.attach_status != "attached"
              and volume.migration_status in (None, "", "success", "error")
              and volume.group_id is None
              and (force or volume.status in DELETABLE)
              and (not snapshots or cascade))
        if cascade and not force and any(s.status not in ("available", "error", "deleting")
                                          for s in snapshots):
            ok = False
        if not ok:
            status = "" if force else "status must be " + " or ".join(DELETABLE) + " and"
            raise invalid_volume(f"Volume {status} must not be migrating, attached, belong to "
                                 "a group, have snapshots, awaiting a transfer, or be "
                                 "disassociated from snapshots after volume transfer.")
        assert_not_frozen(session, volume.host)
        now = self.clock.now()
        volume.status = "deleting"
        volume.terminated_at = now
        volume.updated_at = now
        for snapshot in snapshots:
            snapshot.status = "deleting"
            snapshot.updated_at = now
        return Cast("cinder-volume", backend_of(volume.host), "delete_volume",
                    {"volume_id": volume.id, "cascade": cascade})

    # -- actions ---------------------------------------------------------------------------

    def extend(self, session: Session, volume: m.Volume, new_size: int, *,
               attached: bool = False) -> Cast:
        """``attached``: extend an in-use volume (from microversion 3.42), cinder's
        extend_attached_volume; else the volume must be available."""
        if new_size - volume.size <= 0:
            raise invalid_input(f"New size for extend must be greater than current size. "
                                f"(current: {volume.size}, extended: {new_size}).")
        expected = "in-use" if attached else "available"
        if volume.status != expected:
            raise invalid_volume(f"Volume {volume.id} status must be '{{'status': "
                                 f"'{expected}'}}' to extend, currently {volume.status}.")
        self.quotas.check_size(session, volume.project_id, new_size)
        volume_type = session.get(m.VolumeType, volume.volume_type_id)
        self.quotas.check_volume(session, volume.project_id, new_size - volume.size,
                                 volume_type.name if volume_type is not None else None,
                                 count=0)
        volume.previous_status = volume.status
        volume.status = "extending"
        volume.updated_at = self.clock.now()
        assert volume.host is not None  # available means a service made it
        return Cast("cinder-volume", backend_of(volume.host), "extend_volume",
                    {"volume_id": volume.id, "new_size": new_size})

    def set_bootable(self, volume: m.Volume, bootable: bool) -> None:
        volume.bootable = bootable
        volume.updated_at = self.clock.now()

    def set_readonly(self, volume: m.Volume, readonly: bool) -> None:
        if volume.status != "available":
            raise invalid_volume(f"Volume {volume.id} status must be available to update "
                                 f"readonly flag, but current status is: {volume.status}.")
        volume.admin_metadata = {**volume.admin_metadata, "readonly": str(readonly)}
        volume.updated_at = self.clock.now()

    def set_image_metadata(self, volume: m.Volume, metadata: Mapping[str, str]) -> None:
        self._check_image_metadata_status(volume)
        volume.image_metadata = {**volume.image_metadata, **metadata}
        volume.updated_at = self.clock.now()

    def unset_image_metadata(self, volume: m.Volume, key: str) -> None:
        self._check_image_metadata_status(volume)
        if key not in volume.image_metadata:
            raise NotFound(f"Glance metadata for volume/snapshot {volume.id} cannot be "
                           "found.")
        volume.image_metadata = {k: v for k, v in volume.image_metadata.items() if k != key}
        volume.updated_at = self.clock.now()

    @staticmethod
    def _check_image_metadata_status(volume: m.Volume) -> None:
        if volume.status not in ("available", "in-use"):
            raise invalid_volume(f"Volume {volume.id} status must be available or in-use, "
                                 f"but current status is: {volume.status}.")

    def reset_status(self, volume: m.Volume, fields: Mapping[str, Any]) -> None:
        status = fields.get("status")
        if status is not None:
            if status not in VOLUME_STATUSES:
                raise BadRequest(f"Must specify a valid status: {status}")
            volume.status = status
        attach = fields.get("attach_status")
        if attach is not None:
            if attach not in ATTACH_STATUSES:
                raise BadRequest(f"Must specify a valid attach status: {attach}")
            volume.attach_status = attach
        if "migration_status" in fields:
            volume.migration_status = fields["migration_status"] or None
        volume.updated_at = self.clock.now()


def multiattach_of(volume_type: m.VolumeType) -> bool:
    """A type whose volumes may attach to several servers (``multiattach <is> True``)."""
    return _on(volume_type.extra_specs.get("multiattach"))


def _on(value: Any) -> bool:
    return str(value or "").strip().lower() in ("<is> true", "true")


def _check_backup(backup: m.Backup) -> None:
    """A volume made from a backup (3.47): only an available backup is read from."""
    if backup.status != "available":
        raise BadRequest("Invalid backup: Originating backup status must be one of "
                         "'available' values")
