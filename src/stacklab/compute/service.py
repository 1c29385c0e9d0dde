"""Compute as one object: flavors, key pairs, servers, and the nova services of the lab."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.bus.interface import Bus, MessagingTimeout, Target
from stacklab.clock import Clock
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.agents.compute import ComputeManager
from stacklab.compute.agents.conductor import ConductorManager
from stacklab.compute.agents.profiles import Profile, profile
from stacklab.compute.agents.scheduler import SchedulerManager
from stacklab.compute.aggregates import (
    INTERNAL_ZONE,
    Aggregates,
    AggregateView,
    host_metadata,
    host_zone,
)
from stacklab.compute.builds import Builds
from stacklab.compute.cinder import CinderClient
from stacklab.compute.consoles import Consoles
from stacklab.compute.deletes import Deletes
from stacklab.compute.disks import EphemeralDisks
from stacklab.compute.flavors import Flavors
from stacklab.compute.glance import GlanceClient
from stacklab.compute.instances import Instances
from stacklab.compute.interfaces import Interfaces
from stacklab.compute.keypairs import KeyPairs
from stacklab.compute.moves import EVACUATIONS_TO_CLEAN_UP, Evacuation, Moves, evacuations_from
from stacklab.compute.neutron import NeutronClient
from stacklab.compute.placement import Placement, flavor_resources
from stacklab.compute.power_sync import PowerSync
from stacklab.compute.proxies import Images, Networking
from stacklab.compute.quotas import Quotas
from stacklab.compute.resource_tracker import ResourceTracker
from stacklab.compute.scheduler import DEFAULT_ENABLED_FILTERS, HostState
from stacklab.compute.servicegroup import TOPICS, ServiceGroup, is_up
from stacklab.compute.snapshots import Snapshots
from stacklab.compute.volumes import Volumes
from stacklab.config import QuotaOptions
from stacklab.ids import IdSource
from stacklab.store.database import Database
from stacklab.topology import Node, Topology

if TYPE_CHECKING:
    from stacklab.bus.interface import Listener

LOG = logging.getLogger("nova.compute.api")

# How long, in real seconds, nova-api waits for fast-profile work before answering anyway
# (a cast to a compute that is down never settles).
SETTLE_TIMEOUT = 2.0
# A migration in one of these states holds nothing any more (its share went at its end).
MOVES_ENDED = ("completed", "confirmed", "reverted", "error", "failed", "cancelled")



class ComputeService:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, topology: Topology,
                 bus: Bus, *, report_interval: float = 10, service_down_time: float = 60,
                 default_zone: str = "nova", boot_profile: str = "fast",
                 quota_options: QuotaOptions | None = None,
                 lab_clock: Clock | None = None,
                 base_url: Callable[[], str] | None = None,
                 reclaim_instance_interval: float = 0,
                 sync_power_state_interval: float = 600,
                 enabled_filters: Sequence[str] = DEFAULT_ENABLED_FILTERS) -> None:
        self.db = db
        # [DEFAULT] reclaim_instance_interval: above 0, deletes are deferred (soft deletes).
        self.reclaim_instance_interval = reclaim_instance_interval
        # [DEFAULT] reimage_timeout_per_gb: how long a 2.93 rebuild waits for cinder's
        # volume-reimaged, per GB of the image (the lab's seconds).
        self.reimage_timeout_per_gb: float = 20
        # [filter_scheduler] enabled_filters: what each nova-scheduler runs.
        self.enabled_filters = tuple(enabled_filters)
        # Where the cloud serves (known once it does): the root of the URLs nova hands out.
        self.base_url = base_url or (lambda: "")
        # The image endpoint of keystone's catalog (set at start), where nova finds glance:
        # the address it gives a snapshot (createImage's Location), as glance's own.
        self.image_endpoint: str | None = None
        # Stamps the records (wall time, what clients see).
        self.clock = clock
        # The lab's time ([stacklab] ha_time_scale, keepalived's too): every timer of the
        # nova services on the lab's nodes runs on it (the hypervisors' steps, the
        # heartbeats and service_down_time, the vif-plugging wait, the reclaim period).
        self.lab_clock = lab_clock or clock
        self.bus = bus
        self.quotas = Quotas(db, quota_options or QuotaOptions())
        self.profile: Profile = profile(boot_profile)
        self.instances = Instances(db, clock, bus)
        self.builds = Builds(self)
        self.moves = Moves(self)
        self.deletes = Deletes(self)
        # [DEFAULT] sync_power_state_interval: the periodic power-state sync of each compute.
        self.power_sync = PowerSync(self, sync_power_state_interval)
        # What each compute node's record shows (nova-api reads it for the hypervisors).
        self.resource_tracker = ResourceTracker(self)
        self.consoles = Consoles(self)
        self.interfaces = Interfaces(self)
        self.snapshots = Snapshots(self)
        self.volumes = Volumes(self)
        # [libvirt] images_type: where the servers' root disks live (the cloud gives the
        # rbd backend its cluster).
        self.disks = EphemeralDisks()
        # [scheduler] max_attempts: the hosts a build is tried on, reschedules included.
        self.max_attempts = 3
        # The deprecated proxies to glance and neutron (/images, /os-security-groups...).
        self.images = Images(self)
        self.networking = Networking(self)
        # nova's [neutron] default_floating_pool: where a floating IP asked of no pool comes from.
        self.default_floating_pool = "nova"
        self.placement = Placement(db)
        # Whether this OS process runs a nova binary on a host (``Parts.here``): all of
        # them but in one process per service.
        self.here: Callable[[str, str | None], bool] = lambda binary, host: True
        self.agents: dict[str, ComputeManager] = {}
        # Set by the cloud once Networking serves (nova's [neutron] section).
        self.neutron: NeutronClient | None = None
        # Set by the cloud: the Image API (nova's [glance] section).
        self.glance: GlanceClient | None = None
        # Set by the cloud: the Block Storage API (nova's [cinder] section).
        self.cinder: CinderClient | None = None
        self.listeners: list[Listener] = []
        self.ids = ids.stream("compute")
        self.topology = topology
        self.default_zone = default_zone
        self.flavors = Flavors(clock, self.ids)
        self.aggregates = Aggregates(clock, self.ids.stream("aggregates"))
        self.keypairs = KeyPairs(clock, self.ids.stream("keypairs"))
        self.services = ServiceGroup(db, clock, self.ids.stream("services"),
                                     report_interval=report_interval,
                                     service_down_time=service_down_time,
                                     lab_clock=self.lab_clock)

    def image_url(self, image_id: str) -> str:
        """An image's address in glance (nova's generate_image_url): under the catalog's
        image endpoint, which is glance's own port where glance runs apart."""
        endpoint = self.image_endpoint or f"{self.base_url()}/image"
        return f"{endpoint.rstrip('/')}/v2/images/{image_id}"

    def start(self) -> None:
        with self.db.session() as session:
            self.flavors.ensure_defaults(session)
            self.services.register(session, self.service_hosts())
            self._recover(session)
        # Every node comes up with the cloud and reports at once: nova's first report
        # waits INITIAL_REPORTING_DELAY, which after a restart would leave every compute
        # "down" (its last report is from the previous run) for the first seconds.
        self.services.heartbeat(lambda host: True,
                                lambda host, binary: self.here(binary, host))
        self._start_agents()
        if not self.here("nova-compute", None):
            self.start_own_computes()

    def _recover(self, session: Session) -> None:
        """Rebuild placement from the servers table, and settle what a stop interrupted.

        As nova-compute's ``init_host``: a server still building is put in
        ERROR, other interrupted tasks are cleared; a server being deleted is
        deleted.
        """
        for node in self.topology.nodes.values():
            if "nova-compute" in node.services:
                self.placement.add_provider(node.fqdn, vcpus=node.vcpus,
                                            memory_mb=node.memory_mb, disk_gb=node.disk_gb,
                                            session=session)
        rows = session.scalars(select(m.Instance).where(m.Instance.deleted.is_(False)))
        volume_backed = self.volumes.volume_backed(session)
        wanted: dict[str, tuple[str, dict[str, int]]] = {}
        # A process that runs only some nova-computes (one process per service) recovers
        # only their servers, as each nova-compute's init_host does; a server no compute
        # holds yet is its conductor's, under way. Placement is healed whole where every
        # compute runs (the supervisor's start); a compute coming back alone heals its
        # own provider only (below).
        everything = self.here("nova-compute", None)
        for instance in rows:
            if not everything and not (instance.host
                                       and self.here("nova-compute", instance.host)):
                continue
            if instance.task_state == states.DELETING:
                self.delete_row(session, instance)
                continue
            if instance.vm_state == states.BUILDING:
                instance.vm_state = states.ERROR
                instance.fault = self.instances.fault(
                    "Instance failed to spawn: the compute service restarted")
            instance.task_state = None
            if instance.host and instance.host in self.placement.providers:
                wanted[instance.uuid] = (instance.host, flavor_resources(
                    instance.flavor, boot_from_volume=instance.uuid in volume_backed))
        if not everything:
            self._heal_own_providers(session, wanted)
            return
        # The allocations are the servers' where they are: a deleted server's and a move's
        # share the stop cut short go, as when they were rebuilt in memory at each start.
        self.placement.heal(session, wanted)
        self._settle_evacuations(session)

    def _heal_own_providers(self, session: Session,
                            wanted: dict[str, tuple[str, dict[str, int]]]) -> None:
        """A nova-compute started alone (the rest of the cloud running): its resource
        tracker's first update_available_resource, for each node this process runs. The
        inventory was reported above (``add_provider``); the allocations on its provider
        are its servers' flavors, a deleted server's go. What a move under way holds
        (the migration's share, the server's claim at its destination) is the move's:
        left as it is, as the tracker leaves its tracked migrations."""
        hosts = [host for host in self.placement.providers if self.here("nova-compute", host)]
        if not hosts:
            return
        moving: set[str] = set()
        for row in session.execute(select(m.Migration.uuid, m.Migration.instance_uuid)
                                   .where(m.Migration.status.not_in(MOVES_ENDED))):
            moving.update((row.uuid, row.instance_uuid))
        alive = set(session.scalars(select(m.Instance.uuid)
                                    .where(m.Instance.deleted.is_(False))))

        def gone(consumer: str) -> bool:
            return consumer not in alive and consumer not in moving

        for host in hosts:
            self.placement.heal_provider(
                session, host, {uuid: resources for uuid, (where, resources) in wanted.items()
                                if where == host and uuid not in moving}, gone)

    def _settle_evacuations(self, session: Session) -> None:
        """Evacuations a stop left open: every compute starts with the cloud and cleans up
        after the servers evacuated from it (``init_host``), so a finished one is
        ``completed`` (its source share is not rebuilt: placement holds the servers
        where they are). One still under way died with the process: ``error``, the
        server staying where its row says, as when its destination fails it."""
        now = self.clock.now()
        for migration in session.scalars(select(m.Migration).where(
                m.Migration.migration_type == "evacuation",
                m.Migration.status.in_(EVACUATIONS_TO_CLEAN_UP))):
            migration.status = "completed" if migration.status == "done" else "error"
            migration.updated_at = now

    def _start_agents(self) -> None:
        for node in self.topology.nodes.values():
            if "nova-compute" in node.services:
                agent = self.agents[node.fqdn] = ComputeManager(self, node.fqdn)
                self.listeners.append(self.bus.listen(Target("compute", node.fqdn), agent))
            if "nova-conductor" in node.services:
                self.listeners.append(self.bus.listen(Target("conductor", node.fqdn),
                                                      ConductorManager(self, node.fqdn)))
            if "nova-scheduler" in node.services:
                self.listeners.append(self.bus.listen(Target("scheduler", node.fqdn),
                                                      SchedulerManager(self, node.fqdn)))

    def start_own_computes(self) -> None:
        """A nova-compute started alone, the rest of the cloud running (one process per
        service: after a crash, or when its node is powered on again), on each node this
        process runs: its hypervisor finds libvirt's persistent domains, one per server
        the store places there, in the power state the row last recorded (the guests ran
        on while the service was away; a node that lost its power meanwhile is the
        caller's: ``host_down``), then ``init_host`` cleans up after what was evacuated
        meanwhile. The whole cloud's start settled every node's (``_recover``)."""
        for host, agent in self.agents.items():
            if not self.here("nova-compute", host):
                continue
            with self.db.session() as session:
                rows = session.execute(select(
                    m.Instance.uuid, m.Instance.hostname, m.Instance.power_state).where(
                    m.Instance.host == host, m.Instance.deleted.is_(False))).all()
            for row in rows:
                if row.uuid not in agent.hypervisor.domains:
                    domain = agent.hypervisor.domain(row.uuid, row.hostname or "")
                    domain.power_state = row.power_state or states.NOSTATE
            agent.init_host()

    def stop(self) -> None:
        for listener in self.listeners:
            listener.stop()
        self.listeners.clear()

    async def settle(self, uuids: list[str]) -> None:
        """In the fast profile, let the API answer once the servers' work is done."""
        if self.profile.name == "fast" and uuids:
            await self.instances.wait_settled(list(uuids), timeout=SETTLE_TIMEOUT)

    async def profile_sleep(self, step: str) -> None:
        seconds = self.profile.seconds(step)
        if seconds:
            await self.lab_clock.sleep(seconds)
        else:
            # Let other requests run between steps even when they take no time.
            await self.clock.sleep(0)

    # -- what the agents share ---------------------------------------------------------------

    def host_states(self) -> list[HostState]:
        """Every hypervisor as the scheduler sees it now: placement usage and service state."""
        # Plain rows, not ORM objects: a hundred hosts are read for every request.
        with self.db.session() as session:
            records = {row.host: row for row in session.execute(
                select(m.ServiceRecord.host, m.ServiceRecord.disabled,
                       m.ServiceRecord.forced_down, m.ServiceRecord.last_seen_up,
                       m.ServiceRecord.created_at)
                .where(m.ServiceRecord.binary == "nova-compute"))}
            aggregates = self.aggregates.views(session)
            # Other processes' claims too: the providers one of them changed are read again.
            self.placement.refresh(session)
            # The server groups of the servers placed, as the store has them now (nova's
            # scheduler reads a group's hosts from the database for each request): every
            # scheduler process, or one started again, counts the others' decisions too.
            groups: dict[str, str | None] = {uuid: group for uuid, group in session.execute(
                select(m.Instance.uuid, m.Instance.server_group).where(
                    m.Instance.server_group.is_not(None), m.Instance.deleted.is_(False)))}
        lab_clock = self.lab_clock
        down_time = self.services.service_down_time
        hosts = []
        # Most hosts are in no aggregate: they share one empty mapping.
        aggregated = {h for a in aggregates for h in a.hosts}
        no_metadata: dict[str, frozenset[str]] = {}
        for name, provider in self.placement.providers.items():
            record = records.get(name)
            inventories = provider.inventories
            metadata = no_metadata if name not in aggregated else {
                k: frozenset(v) for k, v in host_metadata(aggregates, name).items()}
            hosts.append(HostState(
                host=name, availability_zone=host_zone(aggregates, name, self.default_zone)
                if name in aggregated else self.default_zone,
                aggregate_metadata=metadata,
                vcpus=inventories["VCPU"].total, memory_mb=inventories["MEMORY_MB"].total,
                disk_gb=inventories["DISK_GB"].total,
                vcpus_used=provider.usage["VCPU"], memory_mb_used=provider.usage["MEMORY_MB"],
                disk_gb_used=provider.usage["DISK_GB"],
                # Every instance: the group filters count members, and same_host and
                # different_host name any instance.
                instances={u: groups.get(u) for u in provider.consumers},
                num_instances=len(provider.consumers),
                service_up=record is not None and is_up(record, lab_clock, down_time),
                service_disabled=record is None or record.disabled,
                forced_down=record is not None and record.forced_down))
        return hosts

    def compute_records(self) -> dict[str, m.ServiceRecord]:
        """Every nova-compute record, by host, as the store has them now."""
        with self.db.session() as session:
            return {r.host: r for r in session.scalars(
                select(m.ServiceRecord).where(m.ServiceRecord.binary == "nova-compute"))}

    def service_record(self, host: str) -> m.ServiceRecord | None:
        """The nova-compute record of ``host``, read now (nova-api reads it per request)."""
        with self.db.session() as session:
            return session.scalar(select(m.ServiceRecord).where(
                m.ServiceRecord.binary == "nova-compute", m.ServiceRecord.host == host))

    def evacuations_from(self, host: str) -> list[Evacuation]:
        with self.db.session() as session:
            return evacuations_from(session, host)

    def host_down(self, host: str) -> None:
        """A compute node lost its power: its guests are off (nova learns it only from its
        power-state sync once the node is back)."""
        agent = self.agents.get(host)
        if agent is not None:
            agent.hypervisor.lose_power()

    def host_up(self, host: str) -> None:
        """A compute node has power again: its nova-compute starts (``init_host``)."""
        agent = self.agents.get(host)
        if agent is not None:
            agent.init_host()

    async def fetch_image(self, image_id: str) -> bytes:
        """An image's bytes from glance, for a host's image cache (none: glance has none)."""
        if self.glance is None:
            return b"\0"  # no Image service wired (a bare compute): nothing to fetch
        return await self.glance.download(image_id)

    def instance_summary(self, uuid: str) -> dict[str, Any]:
        """What the agents read of a server between steps (plain columns, no ORM object)."""
        with self.db.engine.connect() as conn:
            row = conn.execute(select(
                m.Instance.hostname, m.Instance.addresses, m.Instance.vm_state,
                m.Instance.system_metadata, m.Instance.project_id, m.Instance.networks,
                m.Instance.security_groups, m.Instance.availability_zone,
                m.Instance.image_ref)
                .where(m.Instance.uuid == uuid)).first()
        if row is None:
            return {"hostname": "", "ips": [], "vm_state": "", "system_metadata": {},
                    "project_id": "", "networks": None, "security_groups": [],
                    "availability_zone": self.default_zone, "image_ref": ""}
        ips = [a["addr"] for addrs in (row.addresses or {}).values() for a in addrs]
        return {"hostname": row.hostname, "ips": ips, "vm_state": row.vm_state,
                "system_metadata": dict(row.system_metadata or {}),
                "project_id": row.project_id, "networks": row.networks,
                "security_groups": list(row.security_groups or []),
                "availability_zone": row.availability_zone or self.default_zone,
                "image_ref": row.image_ref or ""}

    def delete_row(self, session: Session, instance: m.Instance) -> None:
        """Mark a server deleted and free what it held (its allocation, its group place)."""
        now = self.clock.now()
        instance.vm_state = states.DELETED
        instance.task_state = None
        instance.power_state = states.NOSTATE
        instance.deleted = True
        instance.deleted_at = now
        instance.terminated_at = now
        instance.updated_at = now
        self.placement.release(instance.uuid, session)
        # And what its moves still hold: the source share of an evacuation whose source
        # has not come back (nova deletes the server's allocations on every provider).
        for migration_uuid in session.scalars(select(m.Migration.uuid).where(
                m.Migration.instance_uuid == instance.uuid)).all():
            self.placement.release(migration_uuid, session)
        if instance.server_group:
            group = session.scalar(select(m.ServerGroup).where(
                m.ServerGroup.uuid == instance.server_group))
            if group is not None:
                group.members = [u for u in group.members if u != instance.uuid]

    async def mark_deleted(self, uuid: str) -> None:
        with self.db.session() as session:
            instance = self.instances.find(session, uuid)
            if instance is None or instance.deleted:
                return
            self.delete_row(session, instance)
        self.instances.wake(uuid)

    def unconfirmed_resize(self, session: Session, instance: m.Instance) -> m.Migration | None:
        """The resize a delete confirms first: finished, or being confirmed already (nova's
        _confirm_resize_on_deleting looks for both)."""
        for status in ("finished", "confirming"):
            migration = session.scalar(select(m.Migration).where(
                m.Migration.instance_uuid == instance.uuid, m.Migration.status == status)
                .order_by(m.Migration.id.desc()).limit(1))
            if migration is not None:
                return migration
        return None

    # -- ports (through the Networking API) ---------------------------------------------

    async def allocate_network(self, uuid: str, host: str) -> tuple[dict[str, Any], list[str]]:
        """Ports for a server being built on ``host``: its ``addresses``, and the ports neutron
        has not made ACTIVE as it bound them (those whose plugging the build waits for, as
        nova reads them off the allocation's network info)."""
        record = self.instance_summary(uuid)
        requests = record["networks"]
        if self.neutron is None or not isinstance(requests, list) or not requests:
            return {}, []
        ports = await self.neutron.allocate_for_instance(
            uuid, record["project_id"], host, record["availability_zone"], requests,
            record["security_groups"])
        unwired = sorted(port["id"] for port in ports if port["status"] != "ACTIVE")
        return await self.neutron.addresses(uuid), unwired

    async def rebind_network(self, uuid: str, host: str) -> None:
        """Move a server's port bindings to ``host`` ("" unbinds, as a shelve offload does)."""
        if self.neutron is None:
            return
        ports = (await self.neutron.request("GET", "/v2.0/ports",
                                            params={"device_id": uuid}))["ports"]
        for port in ports:
            await self.neutron.request("PUT", f"/v2.0/ports/{port['id']}",
                                       json={"port": {"binding:host_id": host}})

    async def network_changed(self, uuid: str) -> None:
        """neutron's ``network-changed`` event: read the server's addresses again."""
        if self.neutron is None:
            return
        addresses = await self.neutron.addresses(uuid)
        with self.db.session() as session:
            instance = self.instances.find(session, uuid)
            if instance is not None and not instance.deleted:
                instance.addresses = addresses
                instance.updated_at = self.clock.now()

    async def external_events(self, events: list[dict[str, Any]],
                              ctxt: Mapping[str, Any]) -> list[dict[str, Any]]:
        """nova-api's part of ``os-server-external-events``: each event to its server's host.

        Returns each event as nova answers it, with its ``code``: 200 when
        handed to the server's compute, 404 (and status ``failed``) when there
        is no such server, 422 when the server is on no host (shelved
        offloaded, or never scheduled). In the fast profile nova-api waits
        (briefly) for the computes to have taken the events, so a client that
        reads the server right after the neutron call that caused them sees
        their effect; a compute that is down gets them when it is back.
        """
        answers: list[dict[str, Any]] = []
        by_host: dict[str, list[dict[str, Any]]] = {}
        with self.db.engine.connect() as conn:
            rows = conn.execute(select(m.Instance.uuid, m.Instance.host, m.Instance.deleted)
                                .where(m.Instance.uuid.in_({e["server_uuid"] for e in events})))
            hosts = {row.uuid: row.host for row in rows if not row.deleted}
        for event in events:
            answer = {**event, "status": event.get("status", "completed")}
            uuid = event["server_uuid"]
            if uuid not in hosts:
                LOG.debug("Dropping event %s:%s for unknown instance %s", event["name"],
                          event.get("tag"), uuid)
                answer.update(status="failed", code=404)
            elif not hosts[uuid]:
                LOG.debug("Unable to find a host for instance %s. Dropping event %s", uuid,
                          event["name"])
                answer.update(status="failed", code=422)
            else:
                answer["code"] = 200
                by_host.setdefault(hosts[uuid] or "", []).append(answer)
            answers.append(answer)
        extended = {e["server_uuid"] for taken in by_host.values() for e in taken
                    if e["name"] == "volume-extended"}
        if extended:
            # cinder's extend began with a user: nova-api records an action the user can
            # follow (nova's EXTEND_VOLUME), whose event the compute then adds.
            with self.db.session() as session:
                for uuid in sorted(extended):
                    instance = self.instances.find(session, uuid)
                    if instance is not None:
                        self.instances.start_action(session, instance, "extend_volume", ctxt)
        for host, taken in by_host.items():
            delivered = [{k: v for k, v in e.items() if k != "code"} for e in taken]
            target = Target("compute", host)
            if self.profile.name != "fast":
                await self.bus.cast(target, "external_instance_event", events=delivered,
                                    ctxt=ctxt)
                continue
            try:
                await self.bus.call(target, "external_instance_event", events=delivered,
                                    ctxt=ctxt, timeout=SETTLE_TIMEOUT)
            except MessagingTimeout:
                LOG.info("nova-compute on %s has not taken %d event(s) yet", host,
                         len(delivered))
        return answers

    async def release_network(self, uuid: str, preserved: set[str]) -> None:
        if self.neutron is not None:
            await self.neutron.deallocate_for_instance(uuid, preserved)

    def set_migration(self, uuid: str, **changes: Any) -> dict[str, Any]:
        with self.db.session() as session:
            migration = session.scalar(select(m.Migration).where(m.Migration.uuid == uuid))
            if migration is None:
                raise KeyError(uuid)
            for column, value in changes.items():
                setattr(migration, column, value)
            migration.updated_at = self.clock.now()
            return {"source_compute": migration.source_compute,
                    "dest_compute": migration.dest_compute,
                    "old_flavor": dict(migration.old_flavor),
                    "new_flavor": dict(migration.new_flavor)}

    def migration_status(self, uuid: str) -> str | None:
        with self.db.session() as session:
            return session.scalar(select(m.Migration.status).where(m.Migration.uuid == uuid))

    def finish_migration(self, uuid: str, status: str) -> None:
        self.set_migration(uuid, status=status)

    async def settle_resize(self, uuid: str, expected_task: str | None, *,
                            hypervisor: Any = None) -> None:
        """End a resize (confirmed or reverted): back to the state before it."""
        record = self.instance_summary(uuid)
        metadata = dict(record["system_metadata"])
        stopped = metadata.pop("old_vm_state", states.ACTIVE) == states.STOPPED
        if stopped and hypervisor is not None:
            hypervisor.power_off(uuid)
        changes: dict[str, Any] = {"vm_state": states.STOPPED if stopped else states.ACTIVE,
                                   "task_state": None, "old_flavor": None,
                                   "system_metadata": metadata}
        if hypervisor is not None:
            changes["power_state"] = states.SHUTDOWN if stopped else states.RUNNING
        await self.instances.save(uuid, expected_task_state=(expected_task, None), **changes)

    async def upload_snapshot(self, uuid: str, image_id: str) -> None:
        """Copy the server's disk (its image's bytes) into the snapshot image, through glance."""
        if self.glance is None:
            return
        with self.db.session() as session:
            instance = self.instances.find(session, uuid)
            base = instance.image_ref if instance is not None else ""
        data = await self.glance.download(base) if base else b""
        await self.glance.upload(image_id, data)

    async def delete_image(self, image_id: str | None) -> None:
        """Delete an image nova made (a shelved server's snapshot), through glance."""
        if self.glance is None or not image_id:
            return
        await self.glance.delete(image_id)

    def service_hosts(self) -> list[tuple[str, str]]:
        """(host, binary) of every nova service the topology runs."""
        return [(node.fqdn, binary) for node in self.topology.nodes.values()
                for binary in TOPICS if binary in node.services]

    def aggregate_views(self) -> list[AggregateView]:
        with self.db.session() as session:
            return self.aggregates.views(session)

    def host_zone(self, host: str) -> str:
        """The availability zone of a compute host: its zoned aggregate's, else the default."""
        return host_zone(self.aggregate_views(), host, self.default_zone)

    def service_zone(self, record: m.ServiceRecord,
                     aggregates: list[AggregateView] | None = None) -> str:
        """nova's ``set_availability_zones``: a compute's zones (comma-joined, should an
        operator have forced two), every other service in the internal zone."""
        if record.binary != "nova-compute":
            return INTERNAL_ZONE
        views = self.aggregate_views() if aggregates is None else aggregates
        zones = sorted({a.zone for a in views if a.zone and record.host in a.hosts})
        return ",".join(zones) if zones else self.default_zone

    def service_zones(self) -> list[tuple[str, m.ServiceRecord]]:
        """Every nova service with its zone, in the order of the services table."""
        with self.db.session() as session:
            views = self.aggregates.views(session)
            records = list(session.scalars(select(m.ServiceRecord).order_by(m.ServiceRecord.id)))
            session.expunge_all()
        return [(self.service_zone(r, views), r) for r in records]

    def topology_node(self, fqdn: str) -> Node:
        for node in self.topology.nodes.values():
            if node.fqdn == fqdn:
                return node
        raise KeyError(fqdn)

    def usage_on_host(self, host: str) -> dict[str, int]:
        """The host's usage as its compute node record shows it (``resource_tracker``)."""
        return self.resource_tracker.record(host)

    def availability_zones(self) -> dict[str, dict[str, list[str]]]:
        """zone -> host -> its enabled nova services: the zones that are available (nova's
        ``get_availability_zones(get_only_available=True)``, the internal one included)."""
        zones: dict[str, dict[str, list[str]]] = {}
        for zone, record in self.service_zones():
            if not record.disabled:
                zones.setdefault(zone, {}).setdefault(record.host, []).append(record.binary)
        return zones
