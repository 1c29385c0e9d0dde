"""Group snapshots (3.14, cinder/group/api.py create_group_snapshot and
delete_group_snapshot) and groups made from a source (create-from-src: a group snapshot
or another group).

A group snapshot is one snapshot of each volume its group holds, recorded together and
made by the group's cinder-volume (the generic group driver snapshots each volume in
turn). A group made from a source takes the source's type, volume types, zone and
backend, and gets one volume of each snapshot (or of each source volume) there, made by
that backend's cinder-volume.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.groups import Groups, invalid_group
from stacklab.block_storage.rbd import RbdError
from stacklab.block_storage.scheduler import Request, schedule
from stacklab.block_storage.servicegroup import TOPICS, VOLUME
from stacklab.block_storage.volumes import (
    Caller,
    Cast,
    assert_not_frozen,
    backend_of,
    invalid_volume,
)

if TYPE_CHECKING:
    from stacklab.block_storage.backends import Backend
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.manager")
# cinder/objects/fields.py GroupSnapshotStatus.ALL, in its order.
GROUP_SNAPSHOT_STATUSES = ("error", "available", "creating", "deleting", "deleted",
                           "updating", "error_deleting")


def group_snapshot_not_found(ident: str) -> NotFound:
    return NotFound(f"GroupSnapshot {ident} could not be found.")


def invalid_group_snapshot(reason: str) -> BadRequest:
    return BadRequest(f"Invalid GroupSnapshot: {reason}")


class GroupSnapshots:
    def __init__(self, service: BlockStorageService) -> None:
        self.service = service

    @staticmethod
    def get(session: Session, ident: str, caller: Caller) -> m.GroupSnapshot:
        found = session.get(m.GroupSnapshot, ident)
        if found is None or not (caller.admin or found.project_id == caller.project_id):
            raise group_snapshot_not_found(ident)
        return found

    @staticmethod
    def snapshots(session: Session, group_snapshot_id: str) -> list[m.Snapshot]:
        return list(session.scalars(select(m.Snapshot).where(
            m.Snapshot.group_snapshot_id == group_snapshot_id)
            .order_by(m.Snapshot.created_at, m.Snapshot.id)))

    # -- create and delete -------------------------------------------------------------------

    def create(self, session: Session, caller: Caller, group: m.Group,
               fields: Mapping[str, Any]) -> tuple[m.GroupSnapshot, Cast]:
        assert_not_frozen(session, group.host)
        if group.host is None:
            # cinder would cast to no host at all; the group was never placed.
            raise invalid_group(f"Group {group.id} has not been scheduled to any host.")
        members = Groups.members(session, group.id)
        for volume in members:
            _check_can_snapshot(volume)
        types = {t.id: t.name for t in session.scalars(select(m.VolumeType))}
        self.service.quotas.check_snapshots(session, caller.project_id, [
            (volume.size, types.get(volume.volume_type_id)) for volume in members])
        now = self.service.clock.now()
        row = m.GroupSnapshot(
            id=self.service.ids.uuid(), project_id=caller.project_id,
            user_id=caller.user_id, group_id=group.id, group_type_id=group.group_type_id,
            name=fields.get("name"), description=fields.get("description"),
            status="creating", created_at=now)
        session.add(row)
        for volume in members:
            session.add(m.Snapshot(
                id=self.service.ids.uuid(), project_id=caller.project_id,
                user_id=caller.user_id, volume_id=volume.id, volume_size=volume.size,
                volume_type_id=volume.volume_type_id, name=row.name,
                description=row.description, status="creating", progress="0%",
                group_snapshot_id=row.id, metadata_={}, created_at=now))
        session.flush()
        return row, Cast(TOPICS[VOLUME], backend_of(group.host), "create_group_snapshot",
                         {"group_snapshot_id": row.id})

    def delete(self, session: Session, row: m.GroupSnapshot) -> Cast | None:
        group = session.get(m.Group, row.group_id)
        host = group.host if group is not None else None
        assert_not_frozen(session, host)
        if row.status not in ("available", "error") or self._source_of_a_creation(
                session, row.id):
            raise invalid_group_snapshot(
                "GroupSnapshot status must be available or error, and no Group can be "
                "currently using it as source for its creation.")
        now = self.service.clock.now()
        snapshots = self.snapshots(session, row.id)
        if host is None:
            for snapshot in snapshots:
                session.delete(snapshot)
            session.delete(row)
            return None
        row.status = "deleting"
        row.updated_at = now
        for snapshot in snapshots:
            snapshot.status = "deleting"
            snapshot.updated_at = now
        return Cast(TOPICS[VOLUME], backend_of(host), "delete_group_snapshot",
                    {"group_snapshot_id": row.id})

    @staticmethod
    def _source_of_a_creation(session: Session, group_snapshot_id: str) -> bool:
        """cinder's ``group_creating_from_src`` filter: a group is being made from it."""
        return session.scalars(select(m.Group.id).where(
            m.Group.group_snapshot_id == group_snapshot_id,
            m.Group.status == "creating")).first() is not None

    def reset_status(self, row: m.GroupSnapshot, status: str) -> None:
        row.status = status
        row.updated_at = self.service.clock.now()

    # -- a group from a source -----------------------------------------------------------------

    def create_group(self, session: Session, caller: Caller, fields: Mapping[str, Any], *,
                     zones: Mapping[str, bool]) -> tuple[m.Group, Cast]:
        """cinder's create_from_src: the new group copies its source's type, volume types,
        zone and backend; each of its volumes is a copy of a snapshot of the group snapshot
        (or of a volume of the source group), on that backend."""
        group_snapshot_id = fields.get("group_snapshot_id")
        source_group_id = fields.get("source_group_id")
        origins: list[tuple[str, str, m.Snapshot | m.Volume]] = []
        if group_snapshot_id:
            group_snapshot = self.get(session, group_snapshot_id, caller)
            source = Groups.get(session, group_snapshot.group_id, caller)
            origins = [("snapshot_id", s.volume_type_id or "", s)
                       for s in self.snapshots(session, group_snapshot.id)]
            if not origins:
                raise invalid_group("Group snapshot is empty. No group will be created.")
        else:
            source = Groups.get(session, str(source_group_id), caller)
            origins = [("source_volid", v.volume_type_id, v)
                       for v in Groups.members(session, source.id)]
            if not origins:
                raise invalid_group("Source Group is empty. No group will be created.")
        service = self.service
        ident = service.ids.uuid()
        size = sum(o.volume_size if isinstance(o, m.Snapshot) else o.size
                   for _, _, o in origins)
        # cinder asks the scheduler whether the source's backend can hold it all
        # (validate_host_capacity).
        if source.host is None or schedule(service.pools(), Request(
                size, None, {}, backend_of(source.host))).chosen is None:
            raise invalid_group(f"No valid host to create group {ident}.")
        group = m.Group(
            id=ident, project_id=caller.project_id, user_id=caller.user_id,
            name=_stripped(fields.get("name")),
            description=_stripped(fields.get("description")), status="creating",
            availability_zone=source.availability_zone, host=source.host,
            group_type_id=source.group_type_id,
            volume_type_ids=list(source.volume_type_ids),
            group_snapshot_id=group_snapshot_id or None,
            source_group_id=source_group_id or None, replication_status="disabled",
            created_at=service.clock.now())
        session.add(group)
        session.flush()
        for key, type_id, origin in origins:
            volume, _ = service.volumes.create(session, caller, {
                key: origin.id, "volume_type": type_id or None,
                "availability_zone": group.availability_zone}, zones=zones, image=None)
            volume.group_id = group.id
            volume.host = group.host
        return group, Cast(TOPICS[VOLUME], backend_of(source.host), "create_group_from_src",
                           {"group_id": group.id})


def _check_can_snapshot(volume: m.Volume) -> None:
    """cinder's _create_snapshot_in_db_validate, for each volume of the group."""
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


def _stripped(text: Any) -> Any:
    return text.strip() if isinstance(text, str) and text else text


class GroupSnapshotVolumeEndpoints:
    """The group snapshot methods of VolumeManager (the generic group driver: each
    volume's snapshot in turn, each new volume from its source in turn)."""

    service: BlockStorageService
    backend: Backend

    # VolumeManager's: a volume of the group from its snapshot or source volume.
    create_volume: Callable[[str], Awaitable[None]]

    async def create_group_snapshot(self, group_snapshot_id: str) -> None:
        service = self.service
        store = service.store
        host = self.backend.host
        ready = True
        try:
            await store.ready(host)
        except RbdError as error:
            LOG.error("Group snapshot %s: create failed: %s", group_snapshot_id, error)
            ready = False
        now = service.clock.now()
        with service.db.session() as session:
            row = session.get(m.GroupSnapshot, group_snapshot_id)
            if row is None or row.status != "creating":
                return
            for snapshot in GroupSnapshots.snapshots(session, row.id):
                if ready:
                    store.write(host, snapshot.id,
                                store.read(host, snapshot.volume_id, session=session),
                                session=session)
                    snapshot.progress = "100%"
                snapshot.status = "available" if ready else "error"
                snapshot.updated_at = now
            row.status = "available" if ready else "error"
            row.updated_at = now
        if ready:
            LOG.info("group_snapshot %s created successfully.", group_snapshot_id)

    async def delete_group_snapshot(self, group_snapshot_id: str) -> None:
        service = self.service
        with service.db.session() as session:
            row = session.get(m.GroupSnapshot, group_snapshot_id)
            if row is None:
                return
            for snapshot in GroupSnapshots.snapshots(session, row.id):
                service.store.remove(self.backend.host, snapshot.id, session=session)
                session.delete(snapshot)
            session.delete(row)
        LOG.info("group_snapshot %s deleted successfully.", group_snapshot_id)

    async def create_group_from_src(self, group_id: str) -> None:
        service = self.service
        with service.db.session() as session:
            members = [v.id for v in Groups.members(session, group_id)
                       if v.status == "creating"]
        for volume_id in members:
            await self.create_volume(volume_id)
        with service.db.session() as session:
            group = session.get(m.Group, group_id)
            if group is None or group.status != "creating":
                return
            failed = any(v.status == "error" for v in Groups.members(session, group_id))
            group.status = "error" if failed else "available"
            group.updated_at = service.clock.now()
        LOG.info("Create group from source-%s completed successfully.", group_id)
