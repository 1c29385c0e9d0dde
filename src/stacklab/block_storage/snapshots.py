"""Snapshots as cinder-api handles them (cinder/volume/api.py create_snapshot and
delete_snapshot): checks and records, then a cast to the volume's own cinder-volume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.quotas import Quotas
from stacklab.block_storage.volumes import (
    SNAPSHOT_STATUSES,
    Caller,
    Cast,
    assert_not_frozen,
    backend_of,
    invalid_volume,
)
from stacklab.clock import Clock
from stacklab.ids import IdSource


class Snapshots:
    def __init__(self, clock: Clock, ids: IdSource, quotas: Quotas) -> None:
        self.clock = clock
        self.ids = ids
        self.quotas = quotas

    def create(self, session: Session, caller: Caller, volume: m.Volume,
               fields: Mapping[str, Any], *, force: bool) -> tuple[m.Snapshot, Cast]:
        assert_not_frozen(session, volume.host)
        if not volume.host:
            raise invalid_volume("The snapshot cannot be created because volume has not been "
                                 "scheduled to any host.")
        if volume.status == "maintenance":
            raise invalid_volume("The snapshot cannot be created when the volume is in "
                                 "maintenance mode.")
        if volume.migration_status not in (None, "", "success", "error"):
            raise invalid_volume("Snapshot cannot be created while volume is migrating.")
        if volume.status == "error":
            raise invalid_volume("The snapshot cannot be created when the volume is in error "
                                 "status.")
        valid = ("available", "in-use") if force else ("available",)
        if volume.status not in valid:
            raise invalid_volume(f"Volume {volume.id} status must be {', '.join(valid)}, but "
                                 f"current status is: {volume.status}.")
        volume_type = session.get(m.VolumeType, volume.volume_type_id)
        self.quotas.check_snapshot(session, volume.project_id, volume.size,
                                   volume_type.name if volume_type is not None else None)
        snapshot = m.Snapshot(
            id=self.ids.uuid(), project_id=volume.project_id, user_id=caller.user_id,
            volume_id=volume.id, volume_size=volume.size,
            volume_type_id=volume.volume_type_id, name=fields.get("name"),
            description=fields.get("description"), status="creating", progress="0%",
            metadata_=dict(fields.get("metadata") or {}), created_at=self.clock.now())
        session.add(snapshot)
        session.flush()
        return snapshot, Cast("cinder-volume", backend_of(volume.host), "create_snapshot",
                              {"snapshot_id": snapshot.id})

    def update(self, snapshot: m.Snapshot, fields: Mapping[str, Any]) -> None:
        if "name" in fields:
            snapshot.name = fields["name"]
        if "description" in fields:
            snapshot.description = fields["description"]
        snapshot.updated_at = self.clock.now()

    def set_metadata(self, snapshot: m.Snapshot, metadata: Mapping[str, str], *,
                     replace: bool) -> dict[str, Any]:
        snapshot.metadata_ = dict(metadata) if replace else {**snapshot.metadata_, **metadata}
        snapshot.updated_at = self.clock.now()
        return dict(snapshot.metadata_)

    def delete_metadata(self, snapshot: m.Snapshot, key: str) -> None:
        if key not in snapshot.metadata_:
            raise NotFound(f"Snapshot {snapshot.id} has no metadata with key {key}.")
        snapshot.metadata_ = {k: v for k, v in snapshot.metadata_.items() if k != key}
        snapshot.updated_at = self.clock.now()

    def delete(self, session: Session, snapshot: m.Snapshot, *, force: bool) -> Cast | None:
        if snapshot.group_snapshot_id is not None or (
                not force and snapshot.status not in ("available", "error")):
            status = "" if force else "status must be available or error and"
            raise BadRequest(f"Invalid snapshot: Snapshot {status} must not be part of a "
                             "group.")
        volume = session.get(m.Volume, snapshot.volume_id)
        assert_not_frozen(session, volume.host if volume is not None else None)
        snapshot.status = "deleting"
        snapshot.updated_at = self.clock.now()
        if volume is None or not volume.host:
            session.delete(snapshot)
            return None
        return Cast("cinder-volume", backend_of(volume.host), "delete_snapshot",
                    {"snapshot_id": snapshot.id})

    def reset_status(self, snapshot: m.Snapshot, status: str) -> None:
        if status not in SNAPSHOT_STATUSES:
            raise BadRequest(f"Invalid input received: Status {status} is not a valid "
                             "snapshot status.")
        snapshot.status = status
        snapshot.updated_at = self.clock.now()
