"""Moving volumes between backends: retype (cinder/volume/api.py ``retype``), the admin's
migration and its completion (``migrate_volume``, ``migrate_volume_completion``), and
``cinder-manage volume update_host`` for the volumes of a dead host.

cinder-api checks and marks the volume, the scheduler decides whether the destination
(or, for a retype, the volume's own backend) can take it, and the volume's own
cinder-volume copies its bytes to the destination's cinder-volume, which must answer: a
migration to or from a stopped service waits in its queue or times out, as upstream's.

A volume with attachments is nova's to move: generic_migration.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.generic_migration import GenericMigration, undo
from stacklab.block_storage.scheduler import Request, schedule
from stacklab.block_storage.servicegroup import SCHEDULER, TOPICS, VOLUME
from stacklab.block_storage.volumes import (
    Cast,
    backend_of,
    invalid_input,
    invalid_volume,
    multiattach_of,
)
from stacklab.bus.interface import MessagingError, Target

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.manager")
# What a volume's migration_status may be for a new migration or retype to start.
IDLE = (None, "", "success", "error")


class Migrations:
    """cinder-api's side of retype and migration, and the scheduler's and cinder-volume's
    (the endpoints below call into it)."""

    def __init__(self, service: BlockStorageService) -> None:
        self.service = service
        self.generic = GenericMigration(service)

    def complete(self, session: Session, volume: m.Volume, new_volume: m.Volume,
                 error: bool) -> str:
        """``os-migrate_volume_completion``: the id to keep."""
        return self.generic.complete(session, volume, new_volume, error)

    # -- cinder-api -------------------------------------------------------------------------

    def retype(self, session: Session, volume: m.Volume, new_type: str,
               policy: str | None, *, project_id: str | None, admin: bool) -> Cast:
        try:
            found = self.service.types.find(session, new_type, project_id, admin)
        except ApiError:
            raise invalid_input(f"Invalid volume_type passed: {new_type}.") from None
        if (volume.status not in ("available", "in-use") or volume.migration_status not in IDLE
                or volume.group_id is not None or volume.volume_type_id == found.id):
            raise invalid_volume(
                "Retype needs volume to be in available or in-use state, not be part of an "
                "active migration or a consistency group, requested type has to be different "
                "that the one from the volume, and for in-use volumes front-end qos specs "
                "cannot change.")
        # The hypervisor needs to know when it attaches: multiattach changes on an
        # available volume only, and never together with encryption (cinder's retype).
        multiattach = multiattach_of(found)
        if multiattach != volume.multiattach and volume.status != "available":
            raise invalid_input(
                "Invalid volume_type passed, retypes affecting multiattach are only allowed "
                "on available volumes, the specified volume however currently has a status "
                f"of: {volume.status}.")
        if multiattach and session.get(m.Encryption, found.id) is not None:
            raise invalid_input("Retype requested both encryption and multi-attach, which "
                                "is not supported.")
        volume.previous_status = volume.status
        volume.status = "retyping"
        volume.multiattach = multiattach
        volume.updated_at = self.service.clock.now()
        return Cast(TOPICS[SCHEDULER], None, "retype", {
            "volume_id": volume.id, "new_type_id": found.id,
            "migration_policy": policy or "never"})

    def migrate(self, session: Session, volume: m.Volume, host: str, *,
                lock_volume: bool) -> Cast:
        record = session.scalars(select(m.VolumeService).where(
            m.VolumeService.host == backend_of(host),
            m.VolumeService.binary == VOLUME)).first()
        if record is None or record.disabled or not self.service.services.is_up(record):
            raise BadRequest(f"Invalid host: No available service named '{host}'")
        has_snapshots = session.scalars(select(m.Snapshot.id).where(
            m.Snapshot.volume_id == volume.id)).first() is not None
        if (volume.status not in ("available", "in-use") or volume.migration_status not in IDLE
                or volume.replication_status not in (None, "disabled", "not-capable")
                or volume.group_id is not None or has_snapshots
                or volume.host == self.pool_host(host)):
            raise invalid_volume(
                f"Volume {volume.id} status must be available or in-use, must not be "
                "migrating, have snapshots, be replicated, be part of a group and "
                "destination host/cluster must be different than the current one")
        volume.migration_status = "starting"
        volume.previous_status = volume.status
        if lock_volume and volume.status == "available":
            volume.status = "maintenance"
        volume.updated_at = self.service.clock.now()
        return Cast(TOPICS[SCHEDULER], None, "migrate_volume", {
            "volume_id": volume.id, "host": self.pool_host(host)})

    def pool_host(self, host: str) -> str:
        """host@backend#pool: a destination named without its pool gets the backend's."""
        if "#" in host:
            return host
        for backend in self.service.backends:
            if backend.host == host:
                return backend.pool_host
        return host

    # -- cinder-scheduler ---------------------------------------------------------------------

    def schedule_retype(self, volume_id: str, new_type_id: str, policy: str) -> None:
        service = self.service
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            new_type = session.get(m.VolumeType, new_type_id)
            if volume is None or volume.status != "retyping" or volume.host is None:
                return
            if new_type is None:
                self._undo(volume)
                return
            specs = dict(new_type.extra_specs)
            here = schedule(service.pools(), Request(0, volume.availability_zone, specs,
                                                     backend_of(volume.host)))
            if here.chosen is not None:
                # Its own backend can hold the new type: a change of records only.
                volume.volume_type_id = new_type_id
                self._undo(volume)
                return
            if policy != "on-demand":
                LOG.error("Retype of volume %s failed: its backend does not satisfy the "
                          "new type and the migration policy is 'never'.", volume_id)
                self._undo(volume)
                return
            elsewhere = schedule(service.pools(), Request(volume.size,
                                                          volume.availability_zone, specs))
            if elsewhere.chosen is None:
                LOG.error("Retype of volume %s failed: %s", volume_id, elsewhere.reason)
                self._undo(volume)
                return
            volume.migration_status = "starting"
            source = backend_of(volume.host)
            destination = elsewhere.chosen.pool_host
        service.bus.cast_nowait(Target(TOPICS[VOLUME], source), "migrate_volume",
                                volume_id=volume_id, host=destination,
                                new_type_id=new_type_id)

    def schedule_migration(self, volume_id: str, host: str) -> None:
        service = self.service
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None or volume.migration_status != "starting" or volume.host is None:
                return
            volume_type = session.get(m.VolumeType, volume.volume_type_id)
            specs = dict(volume_type.extra_specs) if volume_type is not None else {}
            decision = schedule(service.pools(), Request(volume.size, None, specs,
                                                         backend_of(host)))
            if decision.chosen is None:
                LOG.error("Migration of volume %s to %s failed: %s", volume_id, host,
                          decision.reason)
                volume.migration_status = "error"
                self._undo(volume)
                return
            source = backend_of(volume.host)
        service.bus.cast_nowait(Target(TOPICS[VOLUME], source), "migrate_volume",
                                volume_id=volume_id, host=host, new_type_id=None)

    def _undo(self, volume: m.Volume) -> None:
        undo(volume, self.service.clock.now())

    # -- cinder-volume (the source's) ----------------------------------------------------------

    async def migrate_volume(self, source_backend: str, volume_id: str, host: str,
                             new_type_id: str | None) -> None:
        service = self.service
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None or volume.migration_status != "starting":
                return
            volume.migration_status = "migrating"
            servers = [a.instance_uuid for a in service.attachments.of_volume(session,
                                                                              volume_id)]
        if servers:
            # Attached: nova must be involved (no driver-assisted move either).
            await self.generic.migrate(source_backend, volume_id, host, new_type_id,
                                       servers)
            return
        data = service.store.read(source_backend, volume_id)
        try:
            # The generic migration: the destination's cinder-volume writes the copy.
            await service.bus.call(Target(TOPICS[VOLUME], backend_of(host)),
                                   "restore_backup_data", volume_id=volume_id, data=data)
        except MessagingError as error:
            LOG.error("Migration of volume %s to %s failed: %s", volume_id, host, error)
            with service.db.session() as session:
                volume = session.get(m.Volume, volume_id)
                if volume is not None:
                    volume.migration_status = "error"
                    self._undo(volume)
            return
        with service.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None:
                return
            volume.migration_status = "completing"
            service.store.remove(source_backend, volume_id, session=session)
            volume.host = host
            volume.service_uuid = self._service_uuid(session, backend_of(host))
            if new_type_id is not None:
                volume.volume_type_id = new_type_id
            volume.migration_status = "success"
            self._undo(volume)
        LOG.info("Migrate volume completed successfully. (volume %s)", volume_id)

    @staticmethod
    def _service_uuid(session: Session, host: str) -> str | None:
        record = session.scalars(select(m.VolumeService).where(
            m.VolumeService.host == host, m.VolumeService.binary == VOLUME)).first()
        return record.uuid if record is not None else None

    # -- cinder-manage volume update_host ------------------------------------------------------

    def update_host(self, current: str, new: str) -> list[str]:
        """Every volume of ``current`` (host@backend, any pool) now names ``new``; returns
        their ids. As cinder-manage, no service is asked: it is for a host that is gone.
        The lab's backends keep each volume's bytes by host, so they move along, as on
        storage both hosts reach."""
        service = self.service
        if not current or not new:
            raise BadRequest("currenthost and newhost are required.")
        known = {b.host for b in service.backends}
        if backend_of(new) not in known:
            raise NotFound(f"No cinder-volume service is named {backend_of(new)}.")
        moved: list[str] = []
        with service.db.session() as session:
            for volume in session.scalars(select(m.Volume).where(m.Volume.host.is_not(None))):
                assert volume.host is not None
                if volume.host != current and backend_of(volume.host) != current:
                    continue
                service.store.move(backend_of(volume.host), volume.id, backend_of(new),
                                   volume.id, session=session)
                for snapshot in service.snapshots_of(session, volume.id):
                    service.store.move(backend_of(volume.host), snapshot.id, backend_of(new),
                                       snapshot.id, session=session)
                volume.host = new
                volume.service_uuid = self._service_uuid(session, backend_of(new))
                moved.append(volume.id)
        return sorted(moved)


def migrate_body(body: Mapping[str, Any]) -> tuple[str, bool]:
    """The destination and lock flag of an os-migrate_volume body."""
    from stacklab.block_storage.schemas import as_bool

    host = body.get("host") or body.get("cluster")
    if not host:
        raise BadRequest("Invalid input received: host or cluster is required.")
    return str(host), as_bool(body.get("lock_volume", False))
