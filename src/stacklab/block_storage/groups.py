"""Generic volume groups (cinder/group/api.py, cinder/volume/group_types.py): group types
with their group specs (3.11), groups of volumes on one backend (3.13).

A group is placed by the scheduler on a backend that can hold every volume type it names
(the generic group driver of LVM and RBD: a group is a record, its volumes are ordinary
volumes on that backend); its volumes are made there, added and removed by an update, and
deleted with it when asked.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.scheduler import Request, schedule
from stacklab.block_storage.servicegroup import SCHEDULER, TOPICS, VOLUME
from stacklab.block_storage.volumes import (
    Caller,
    Cast,
    assert_not_frozen,
    backend_of,
    invalid_input,
)
from stacklab.bus.interface import Target, on_host

if TYPE_CHECKING:
    from stacklab.block_storage.backends import Backend
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.manager")
# What a volume's status may be to join or leave a group (cinder/group/api.py).
MEMBER_STATUSES = ("available", "in-use")


# cinder's group type for the consistency groups API (cinder/volume/group_types.py
# DEFAULT_CGSNAPSHOT_TYPE), made by its db migration: a CG is a group of this type, which
# the generic group APIs refuse to touch.
DEFAULT_CGSNAPSHOT_TYPE = "default_cgsnapshot_type"
CGSNAPSHOT_TYPE_DESCRIPTION = "Default group type for migrating cgsnapshot"


def check_not_reserved(session: Session, group_type_id: str) -> None:
    """cinder's ``_check_default_cgsnapshot_type`` of the generic group APIs."""
    row = session.get(m.GroupType, group_type_id)
    if row is not None and row.name == DEFAULT_CGSNAPSHOT_TYPE:
        raise BadRequest(f"Group_type {group_type_id} is reserved for migrating CGs to "
                         "groups. Migrated group can only be operated by CG APIs.")


def group_type_not_found(ident: str) -> NotFound:
    return NotFound(f"Group type {ident} could not be found.")


def group_not_found(ident: str) -> NotFound:
    return NotFound(f"Group {ident} could not be found.")


def invalid_group(reason: str) -> BadRequest:
    return BadRequest(f"Invalid Group: {reason}")


class Groups:
    def __init__(self, service: BlockStorageService) -> None:
        self.service = service

    # -- group types ---------------------------------------------------------------------------

    def ensure_cgsnapshot_type(self, session: Session) -> m.GroupType:
        """The reserved type of consistency groups, made once as cinder's db sync does."""
        found = session.scalars(select(m.GroupType).where(
            m.GroupType.name == DEFAULT_CGSNAPSHOT_TYPE)).first()
        if found is None:
            found = m.GroupType(
                id=self.service.ids.uuid(), name=DEFAULT_CGSNAPSHOT_TYPE,
                description=CGSNAPSHOT_TYPE_DESCRIPTION, is_public=True,
                group_specs={"consistent_group_snapshot_enabled": "<is> True"},
                created_at=self.service.clock.now())
            session.add(found)
            session.flush()
        return found

    @staticmethod
    def find_type(session: Session, ident: str, admin: bool) -> m.GroupType:
        found = session.get(m.GroupType, ident) or session.scalars(select(m.GroupType).where(
            m.GroupType.name == ident)).first()
        if found is None or not (found.is_public or admin):
            raise group_type_not_found(ident)
        return found

    @staticmethod
    def list_types(session: Session, admin: bool, is_public: bool | None
                   ) -> list[m.GroupType]:
        rows = list(session.scalars(select(m.GroupType).order_by(m.GroupType.created_at)))
        if not admin:
            return [row for row in rows if row.is_public]
        return [row for row in rows if is_public is None or row.is_public == is_public]

    def create_type(self, session: Session, fields: Mapping[str, Any]) -> m.GroupType:
        name = str(fields["name"]).strip()
        if not name:
            raise invalid_input("Group type name can not be empty.")
        if session.scalars(select(m.GroupType).where(m.GroupType.name == name)).first():
            raise Conflict(f"Group Type {name} already exists.")
        row = m.GroupType(id=self.service.ids.uuid(), name=name,
                          description=fields.get("description"),
                          is_public=bool(fields.get("is_public", True)),
                          group_specs=dict(fields.get("group_specs") or {}),
                          created_at=self.service.clock.now())
        session.add(row)
        session.flush()
        return row

    def update_type(self, session: Session, row: m.GroupType,
                    fields: Mapping[str, Any]) -> None:
        if not any(k in fields for k in ("name", "description", "is_public")):
            raise BadRequest("Specify group type name, description or a combination "
                             "thereof.")
        name = fields.get("name")
        if name is not None:
            name = str(name).strip()
            if not name:
                raise invalid_input("Group type name can not be empty.")
            other = session.scalars(select(m.GroupType).where(
                m.GroupType.name == name)).first()
            if other is not None and other.id != row.id:
                raise Conflict(f"Group Type {name} already exists.")
            row.name = name
        if "description" in fields:
            row.description = fields["description"]
        if fields.get("is_public") is not None:
            row.is_public = bool(fields["is_public"])
        row.updated_at = self.service.clock.now()

    @staticmethod
    def delete_type(session: Session, row: m.GroupType) -> None:
        if session.scalars(select(m.Group.id).where(
                m.Group.group_type_id == row.id)).first() is not None:
            raise BadRequest(f"Group Type {row.id} deletion is not allowed with groups "
                             "present with the type.")
        session.delete(row)

    def set_specs(self, row: m.GroupType, specs: Mapping[str, str]) -> None:
        row.group_specs = {**row.group_specs, **specs}
        row.updated_at = self.service.clock.now()

    def delete_spec(self, row: m.GroupType, key: str) -> None:
        if key not in row.group_specs:
            raise NotFound(f"Group Type {row.id} has no specs with key {key}.")
        row.group_specs = {k: v for k, v in row.group_specs.items() if k != key}
        row.updated_at = self.service.clock.now()

    # -- groups ----------------------------------------------------------------------------------

    @staticmethod
    def get(session: Session, ident: str, caller: Caller) -> m.Group:
        found = session.get(m.Group, ident)
        if found is None or not (caller.admin or found.project_id == caller.project_id):
            raise group_not_found(ident)
        return found

    @staticmethod
    def members(session: Session, group_id: str) -> list[m.Volume]:
        return list(session.scalars(select(m.Volume).where(m.Volume.group_id == group_id)
                                    .order_by(m.Volume.created_at)))

    def create(self, session: Session, caller: Caller, fields: Mapping[str, Any], *,
               zones: Mapping[str, bool]) -> tuple[m.Group, Cast]:
        group_type = self.find_type(session, str(fields["group_type"]), caller.admin)
        types = self.service.types
        volume_types: list[m.VolumeType] = []
        for name in fields["volume_types"]:
            found = types.find(session, str(name), caller.project_id, caller.admin)
            if found.id not in [t.id for t in volume_types]:
                volume_types.append(found)
        zone = fields.get("availability_zone") or self.service.volumes.default_zone
        if zone not in zones:
            raise BadRequest(f"Availability zone '{zone}' is invalid.")
        now = self.service.clock.now()
        group = m.Group(
            id=self.service.ids.uuid(), project_id=caller.project_id, user_id=caller.user_id,
            name=fields.get("name"), description=fields.get("description"),
            status="creating", availability_zone=zone, group_type_id=group_type.id,
            volume_type_ids=[t.id for t in volume_types], created_at=now)
        session.add(group)
        session.flush()
        return group, Cast(TOPICS[SCHEDULER], None, "create_group", {"group_id": group.id})

    def join_new_volume(self, session: Session, group: m.Group, volume: m.Volume,
                        cast: Cast) -> Cast:
        """A volume created into a group (3.13 ``group_id``): of one of its types, on its
        backend."""
        if group.status != "available":
            raise invalid_group("Originating group status must be one of 'available' "
                                "values")
        if volume.volume_type_id not in group.volume_type_ids:
            raise invalid_input(f"Invalid volume_type provided: {volume.volume_type_id} "
                                "(requested type must be supported by this group).")
        volume.group_id = group.id
        assert group.host is not None  # an available group was placed
        return Cast(cast.topic, cast.server, cast.method,
                    {**cast.kwargs, "resource_backend": backend_of(group.host)})

    def update(self, session: Session, group: m.Group, fields: Mapping[str, Any]) -> None:
        name, description = fields.get("name"), fields.get("description")
        add = _ids(fields.get("add_volumes"))
        remove = _ids(fields.get("remove_volumes"))
        if not (name or description or add or remove or "name" in fields
                or "description" in fields):
            raise BadRequest("Name, description, add_volumes, and remove_volumes can not "
                             "be all empty in the request body.")
        if (add or remove) and group.status != "available":
            raise invalid_group(f"Group {group.id} status must be available, but current "
                                f"status is: {group.status}.")
        for ident in add:
            volume = session.get(m.Volume, ident)
            why = None
            if volume is None or volume.project_id != group.project_id:
                why = "volume cannot be found"
            elif volume.group_id is not None and volume.group_id != group.id:
                why = f"it is already in group {volume.group_id}"
            elif volume.status not in MEMBER_STATUSES:
                why = (f"volume is in an invalid state: {volume.status}. Valid states are: "
                       f"{MEMBER_STATUSES}")
            elif volume.volume_type_id not in group.volume_type_ids:
                why = (f"volume type {volume.volume_type_id} is not supported by the "
                       "group")
            elif volume.host is None or group.host is None or \
                    backend_of(volume.host) != backend_of(group.host):
                why = "volume is not on the group's backend"
            if why is not None:
                raise BadRequest(f"Invalid volume: Cannot add volume {ident} to group "
                                 f"{group.id} because {why}.")
        for ident in remove:
            volume = session.get(m.Volume, ident)
            if volume is None or volume.group_id != group.id:
                raise BadRequest(f"Invalid volume: Cannot remove volume {ident} from group "
                                 f"{group.id} because it is not in the group.")
            if volume.status not in (*MEMBER_STATUSES, "error", "error_deleting"):
                raise BadRequest(f"Invalid volume: Cannot remove volume {ident} from group "
                                 f"{group.id} because volume is in an invalid state: "
                                 f"{volume.status}.")
        now = self.service.clock.now()
        for ident in add:
            volume = session.get(m.Volume, ident)
            assert volume is not None
            volume.group_id = group.id
            volume.updated_at = now
        for ident in remove:
            volume = session.get(m.Volume, ident)
            assert volume is not None
            volume.group_id = None
            volume.updated_at = now
        if "name" in fields:
            group.name = name
        if "description" in fields:
            group.description = description
        group.updated_at = now

    def delete(self, session: Session, group: m.Group, delete_volumes: bool) -> Cast | None:
        """cinder's group delete: with ``delete-volumes`` in any status (its volumes go
        too), else available or error and empty; never while it has group snapshots, an
        attached volume or a volume with snapshots, or while a group is made from it."""
        if group.host is None:
            session.delete(group)
            return None
        assert_not_frozen(session, group.host)
        if not delete_volumes and group.status not in ("available", "error"):
            raise invalid_group(f"Group status must be available or error, but current "
                                f"status is: {group.status}")
        if session.scalars(select(m.GroupSnapshot.id).where(
                m.GroupSnapshot.group_id == group.id)).first() is not None:
            raise invalid_group("Group has existing snapshots.")
        members = self.members(session, group.id)
        if members and not delete_volumes:
            raise invalid_group(f"Group {group.id} still contains volumes. The "
                                "delete-volumes flag is required to delete it.")
        for volume in members:
            if volume.attach_status == "attached":
                raise invalid_group(f"Volume in group {group.id} is attached. Need to "
                                    "detach first.")
            if session.scalars(select(m.Snapshot.id).where(
                    m.Snapshot.volume_id == volume.id)).first() is not None:
                raise invalid_group("Volume in group still has dependent snapshots.")
        if session.scalars(select(m.Group.id).where(
                m.Group.source_group_id == group.id,
                m.Group.status == "creating")).first() is not None:
            reason = ("Group status must be available or error and must not have dependent "
                      "group snapshots" if delete_volumes else
                      "Group must not have attached volumes, volumes with snapshots, or "
                      "dependent group snapshots")
            raise invalid_group(f"Cannot delete group {group.id}. {reason}, and it cannot "
                                "be the source for an ongoing group or group snapshot "
                                "creation.")
        now = self.service.clock.now()
        group.status = "deleting"
        group.updated_at = now
        for volume in members:
            volume.status = "deleting"
            volume.terminated_at = now
            volume.updated_at = now
        return Cast(TOPICS[VOLUME], backend_of(group.host), "delete_group",
                    {"group_id": group.id})

    def reset_status(self, group: m.Group, status: str) -> None:
        allowed = ("creating", "available", "deleting", "error", "updating", "in-use",
                   "deleted")
        if status not in allowed:
            raise invalid_group(f"Group status: {status} is invalid, valid statuses are: "
                                f"{allowed}.")
        group.status = status
        group.updated_at = self.service.clock.now()

    # -- cinder-scheduler --------------------------------------------------------------------------

    def place(self, group_id: str) -> str | None:
        """The backend every one of the group's volume types may go to, else None."""
        service = self.service
        with service.db.session() as session:
            group = session.get(m.Group, group_id)
            if group is None or group.status != "creating":
                return None
            specs = [dict(t.extra_specs) for t in (session.get(m.VolumeType, i)
                                                  for i in group.volume_type_ids) if t]
            pools = service.pools()
            chosen = None
            for pool in pools:
                if all(schedule(pools, Request(0, group.availability_zone, spec,
                                               pool.host)).chosen is not None
                       for spec in specs or [{}]):
                    chosen = pool
                    break
            if chosen is None:
                LOG.error("Group %s: no valid backend was found.", group_id)
                group.status = "error"
                group.updated_at = service.clock.now()
                return None
            group.host = f"{chosen.host}#{chosen.pool}"
            return chosen.host


class GroupSchedulerEndpoints:
    """The group methods of SchedulerManager."""

    service: BlockStorageService
    node: str

    async def create_group(self, group_id: str) -> None:
        backend = self.service.groups.place(group_id)
        if backend is not None:
            with on_host(self.node):
                self.service.bus.cast_nowait(Target(TOPICS[VOLUME], backend), "create_group",
                                             group_id=group_id)


class GroupVolumeEndpoints:
    """The group methods of VolumeManager (the generic group driver: records only)."""

    service: BlockStorageService
    backend: Backend

    async def create_group(self, group_id: str) -> None:
        with self.service.db.session() as session:
            group = session.get(m.Group, group_id)
            if group is not None and group.status == "creating":
                group.status = "available"
                group.updated_at = self.service.clock.now()

    async def delete_group(self, group_id: str) -> None:
        service = self.service
        with service.db.session() as session:
            group = session.get(m.Group, group_id)
            if group is None:
                return
            for volume in Groups.members(session, group_id):
                if volume.host is not None:
                    service.store.remove(backend_of(volume.host), volume.id, session=session)
                for attachment in service.attachments.of_volume(session, volume.id):
                    session.delete(attachment)
                session.delete(volume)
            session.delete(group)
        LOG.info("Delete group completed successfully. (group %s)", group_id)


def _ids(raw: Any) -> list[str]:
    """cinder's comma-separated volume ids (``add_volumes``, ``remove_volumes``)."""
    if not raw:
        return []
    return [part.strip() for part in str(raw).split(",") if part.strip()]
