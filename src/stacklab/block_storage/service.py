"""Block Storage (cinder) as one object: its services, backends and processes."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest
from stacklab.block_storage import models as m
from stacklab.block_storage.attachments import Attachments
from stacklab.block_storage.backends import Backend, lab_backends, lab_processes
from stacklab.block_storage.backups import BackupManager, Backups
from stacklab.block_storage.glance import GlanceClient
from stacklab.block_storage.group_snapshots import GroupSnapshots
from stacklab.block_storage.groups import Groups
from stacklab.block_storage.loglevels import LogLevels
from stacklab.block_storage.manage import Manageable
from stacklab.block_storage.manager import SchedulerManager, VolumeManager
from stacklab.block_storage.messages import Messages
from stacklab.block_storage.migration import Migrations
from stacklab.block_storage.nova import NovaClient
from stacklab.block_storage.objectstore import ObjectStore
from stacklab.block_storage.quotas import Quotas
from stacklab.block_storage.rbd import rbd_stats
from stacklab.block_storage.reimage import Reimages
from stacklab.block_storage.scheduler import PoolState
from stacklab.block_storage.servicegroup import (
    BACKUP,
    SCHEDULER,
    VOLUME,
    ServiceProcess,
    VolumeServices,
)
from stacklab.block_storage.snapshots import Snapshots
from stacklab.block_storage.storage import GIB, VolumeStore
from stacklab.block_storage.transfers import Transfers
from stacklab.block_storage.volume_types import VolumeTypes
from stacklab.block_storage.volumes import Cast, Volumes, host_matches
from stacklab.bus.interface import Bus, Target
from stacklab.clock import Clock
from stacklab.config import Config
from stacklab.ids import IdSource
from stacklab.observability.logging import request_ids
from stacklab.store.database import Database
from stacklab.topology import Runtime, Topology


@dataclass(frozen=True)
class BlockStorageOptions:
    report_interval: float = 10.0
    service_down_time: float = 60.0
    storage_availability_zone: str = "nova"


class BlockStorageService:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, config: Config,
                 topology: Topology, runtime: Runtime, bus: Bus, *,
                 lab_clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock
        self.lab_clock = lab_clock or clock
        self.ids = ids
        self.config = config
        self.topology = topology
        self.runtime = runtime
        self.bus = bus
        # Whether this OS process runs the lab's process (binary, node): one process per
        # service (docs/processes.md) reports and serves only its own; the embedded cloud
        # all of them. Set by the declaration (Parts.here).
        self.here: Callable[[str, str | None], bool] = lambda binary, node: True
        self.backends: list[Backend] = lab_backends(config, topology)
        self.processes: list[ServiceProcess] = lab_processes(config, topology)
        self.services = VolumeServices(
            db, clock, ids, report_interval=config.DEFAULT.report_interval,
            service_down_time=config.DEFAULT.service_down_time, lab_clock=self.lab_clock)
        # cinder's set-log levels, per (binary, host) of every service the lab runs.
        self.log_levels = LogLevels((p.binary, p.host, p.node) for p in self.processes)
        self.types = VolumeTypes(clock, ids, config.DEFAULT.default_volume_type)
        self.quotas = Quotas(config.DEFAULT)
        self.volumes = Volumes(clock, ids, self.types, self.quotas,
                               config.DEFAULT.storage_availability_zone)
        self.snapshots = Snapshots(clock, ids, self.quotas)
        self.messages = Messages(clock, ids, config.DEFAULT.message_ttl)
        self.attachments = Attachments(clock, ids)
        self.types.in_use = self._type_in_use
        self.store = VolumeStore(db)
        # cinder's [glance] access: set by the declaration (it needs the app).
        self.glance: GlanceClient | None = None
        # cinder's [nova] access (volume-extended events): set by the declaration too.
        self.nova: NovaClient | None = None
        self.volume_managers = [VolumeManager(self, backend) for backend in self.backends]
        self.scheduler_managers = [SchedulerManager(self, p.node) for p in self.processes
                                   if p.binary == SCHEDULER]
        # cinder-backup on each controller, writing into the object store.
        self.backup_store = ObjectStore(db)
        self.backups = Backups(clock, ids, self.quotas, self.volumes, self.backup_hosts)
        self.backup_managers = [BackupManager(self, p.node) for p in self.processes
                                if p.binary == BACKUP]
        self.transfers = Transfers(clock, ids, self.quotas, self.volumes)
        self.migrations = Migrations(self)
        self.reimages = Reimages(self)
        self.manageable = Manageable(self)
        self.groups = Groups(self)
        self.group_snapshots = GroupSnapshots(self)

    # -- life cycle ------------------------------------------------------------------------

    def start(self, *, migrated: bool = True) -> None:
        """Register the row of each service this process runs (cinder-api has none, as
        upstream's), then start each process's RPC server. ``migrated``: this start is
        the db sync's too, which makes the default volume and group types."""
        with self.db.session() as session:
            self.services.register(session, [p for p in self.processes
                                              if self.here(p.binary, p.node)])
            if migrated:
                self.types.ensure_default(session)
                self.groups.ensure_cgsnapshot_type(session)
                # Each backend's usage row, before any process of the shape writes.
                self.store.ensure(session, [backend.host for backend in self.backends])
        for manager in self.scheduler_managers:
            manager.listener = self.bus.listen(manager.target, manager)
        for volume in self.volume_managers:
            # Named host@backend, served by a process of its node: the bus pauses it with
            # the node, with the process (process_topics) and without a broker connection.
            volume.listener = self.bus.listen(volume.target, volume, host=volume.node)
            if not self.running(volume.node, VOLUME):
                volume.listener.pause()
        for backup in self.backup_managers:
            backup.listener = self.bus.listen(backup.target, backup)
            if not self.running(backup.node, BACKUP):
                backup.listener.pause()

    def stop(self) -> None:
        managers: list[SchedulerManager | VolumeManager | BackupManager] = [
            *self.scheduler_managers, *self.volume_managers, *self.backup_managers]
        for manager in managers:
            if manager.listener is not None:
                manager.listener.stop()
                manager.listener = None
        self.log_levels.close()

    def running(self, node: str, binary: str) -> bool:
        if not self.here(binary, node):
            return False  # another process's (one process per service): it reports
        try:
            return self.runtime.running(node, binary)
        except KeyError:  # a node the topology no longer has: its power says
            return self.runtime.is_up(node)

    async def run(self) -> None:
        await self.services.run(lambda: self.processes, self.running)

    # -- services ----------------------------------------------------------------------------

    def list_services(self, *, host: str | None = None,
                      binary: str | None = None) -> list[m.VolumeService]:
        statement = select(m.VolumeService).order_by(m.VolumeService.id)
        if binary is not None:
            statement = statement.where(m.VolumeService.binary == binary)
        with self.db.session() as session:
            return [record for record in session.scalars(statement)
                    if host is None or host_matches(record.host, host)]

    def set_disabled(self, host: str, binary: str, disabled: bool,
                     reason: str | None = None) -> bool:
        with self.db.session() as session:
            record = session.scalars(select(m.VolumeService).where(
                m.VolumeService.host == host, m.VolumeService.binary == binary)).first()
            if record is None:
                return False
            record.disabled = disabled
            record.disabled_reason = reason if disabled else None
            record.modified_at = self.clock.now()
        return True

    def backup_hosts(self, zone: str | None) -> list[str]:
        """The cinder-backup services up and enabled (in ``zone`` when one is named)."""
        return [r.host for r in self.list_services(binary=BACKUP)
                if not r.disabled and self.services.is_up(r)
                and (not zone or r.availability_zone == zone)]

    def set_frozen(self, host: str, frozen: bool) -> None:
        """cinder's freeze_host/thaw_host: the backend's management plane stops (or starts
        again) taking changes, and a frozen backend is disabled so nothing is scheduled to
        it. A host no volume service has, or several hosts, is the caller's error (400)."""
        with self.db.session() as session:
            records = [record for record in session.scalars(
                select(m.VolumeService).where(m.VolumeService.binary == VOLUME))
                if host_matches(record.host, host)]
            if not records:
                raise BadRequest(f"Invalid input received: No service found with host={host}")
            if any(record.host != records[0].host for record in records):
                raise BadRequest("Invalid input received: Services from different clusters "
                                 "found.")
            changing = [record for record in records if record.frozen != frozen]
            if not changing:
                raise BadRequest(
                    "Invalid input received: No service could be changed: frozen in "
                    f"{[record.host for record in records]} must be {not frozen} to "
                    "failover.")
            for record in changing:
                record.frozen = frozen
                record.disabled = frozen
                record.disabled_reason = "frozen" if frozen else ""
                record.modified_at = self.clock.now()

    def zones(self) -> dict[str, bool]:
        """Each zone of an enabled cinder-volume service, available while one is up."""
        zones: dict[str, bool] = {}
        for record in self.list_services(binary=VOLUME):
            if record.disabled:
                continue
            zones[record.availability_zone] = (zones.get(record.availability_zone, False)
                                               or self.services.is_up(record))
        return zones

    # -- volumes ---------------------------------------------------------------------------

    @staticmethod
    def _type_in_use(session: Session, type_id: str) -> bool:
        return session.scalars(select(m.Volume.id).where(
            m.Volume.volume_type_id == type_id)).first() is not None

    @staticmethod
    def snapshots_of(session: Session, volume_id: str) -> list[m.Snapshot]:
        return list(session.scalars(select(m.Snapshot).where(
            m.Snapshot.volume_id == volume_id)))

    def send(self, cast: Cast | None) -> None:
        """A committed change's message: to the scheduler's topic, or to the one
        cinder-volume that owns the volume (its queue keeps it while it is down)."""
        if cast is not None:
            # The request's ids travel in the message's context, as oslo.context's do.
            self.bus.cast_nowait(Target(cast.topic, cast.server), cast.method,
                                 ctxt=request_ids(), **cast.kwargs)

    def service_uuid(self, host: str) -> str | None:
        with self.db.session() as session:
            record = session.scalars(select(m.VolumeService).where(
                m.VolumeService.host == host, m.VolumeService.binary == VOLUME)).first()
            return record.uuid if record is not None else None

    def pools(self) -> list[PoolState]:
        """Each backend's pool as the scheduler sees it now: its service up and enabled,
        its capacity, what is provisioned on it (cinder's host manager)."""
        with self.db.session() as session:
            records = {r.host: r for r in session.scalars(select(m.VolumeService).where(
                m.VolumeService.binary == VOLUME))}
            provisioned = dict(session.execute(
                select(m.Volume.host, func.sum(m.Volume.size)).group_by(m.Volume.host)).all())
            written = self.store.used_bytes(session)
        pools = []
        seen: set[str] = set()
        for backend in self.backends:
            if backend.host in seen:
                continue  # one service for the nodes sharing a backend_host
            seen.add(backend.host)
            record = records.get(backend.host)
            used: float = math.ceil(written.get(backend.host, 0) / GIB)
            total = float(backend.capacity_gb)
            allocated = float(provisioned.get(backend.pool_host) or 0)
            rbd = rbd_stats(self.store.rbd, backend, written.get(backend.host))
            if rbd is not None:
                total, used = rbd.total, rbd.used
            capabilities = {
                "volume_backend_name": backend.name, "vendor_name": backend.vendor_name,
                "driver_version": "3.0.0", "storage_protocol": backend.storage_protocol,
                "pool_name": backend.pool, "total_capacity_gb": total,
                "free_capacity_gb": total - used, "allocated_capacity_gb": allocated,
                "provisioned_capacity_gb": allocated,
                "max_over_subscription_ratio": backend.max_over_subscription_ratio,
                "reserved_percentage": backend.reserved_percentage,
                "thin_provisioning_support": backend.thin,
                "thick_provisioning_support": not backend.thin,
                "multiattach": True, "QoS_support": False, "backend_state": "up",
                "location_info": f"LVMVolumeDriver:{backend.node}:{backend.name}:"
                                 f"{'thin' if backend.thin else 'default'}:0",
                **(rbd.capabilities if rbd is not None else {}),
            }
            pools.append(PoolState(
                host=backend.host, pool=backend.pool, zone=backend.zone,
                up=record is not None and self.services.is_up(record),
                disabled=record is not None and record.disabled,
                total_capacity_gb=total, free_capacity_gb=total - used,
                provisioned_capacity_gb=allocated,
                max_over_subscription_ratio=backend.max_over_subscription_ratio,
                reserved_percentage=backend.reserved_percentage,
                thin_provisioning_support=backend.thin, capabilities=capabilities))
        return pools

