"""The embedded cloud: configuration, store, bus, topology and services, wired once.

``Cloud`` is what ``stacklab up`` serves and what tests build in-process. It
owns nothing global: two clouds can live in one process (each with its own
clock, ids, store and node state). It builds, mounts, catalogs, starts, stops
and faults whatever ``SERVICES`` declares (``stacklab.declaration``); whether a
node is powered lives in its ``runtime`` alone.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

# Every service's tables, for the store to create or migrate: the wiring names them all,
# the store (core) knows none.
import stacklab.models  # noqa: F401
from stacklab.api.context import RequestContext
from stacklab.api.policy import PolicyEngine
from stacklab.api.service import Reach, ServiceApi
from stacklab.block_storage.declaration import BLOCK_STORAGE
from stacklab.block_storage.declaration import DECLARATION as BLOCK_STORAGE_SERVICE
from stacklab.block_storage.service import BlockStorageService
from stacklab.bus.inprocess import InProcessBus
from stacklab.bus.interface import Listener, Target
from stacklab.clock import Clock, RealClock
from stacklab.compute.declaration import COMPUTE
from stacklab.compute.declaration import DECLARATION as COMPUTE_SERVICE
from stacklab.compute.service import ComputeService
from stacklab.config import Config
from stacklab.declaration import CONTROL_PLANE, Key, Parts, ServiceDeclaration, Startup
from stacklab.ha.ceph import CephOptions
from stacklab.ha.cephstore import StoreObjects
from stacklab.ha.controlplane import ControlPlane
from stacklab.ha.rabbitmq import RabbitOptions
from stacklab.identity.declaration import DECLARATION as IDENTITY_SERVICE
from stacklab.identity.declaration import IDENTITY
from stacklab.identity.service import CatalogEntry, IdentityService
from stacklab.ids import IdSource
from stacklab.image.declaration import DECLARATION as IMAGE_SERVICE
from stacklab.image.declaration import IMAGE
from stacklab.image.service import ImageService
from stacklab.lab.declaration import DECLARATION as LAB_API
from stacklab.network.agents import Agents
from stacklab.network.declaration import AGENTS, NETWORK, ROUTING
from stacklab.network.declaration import DECLARATION as NETWORK_SERVICE
from stacklab.network.routing import Routing
from stacklab.network.service import NetworkService
from stacklab.observability.logging import CentralLogStore
from stacklab.orchestration.declaration import CFN_DECLARATION as CLOUDFORMATION_SERVICE
from stacklab.orchestration.declaration import DECLARATION as ORCHESTRATION_SERVICE
from stacklab.orchestration.declaration import ORCHESTRATION
from stacklab.orchestration.service import OrchestrationService
from stacklab.store.database import Database, sqlite_url
from stacklab.topology import Change, Follower, Runtime, Topology, load_topology
from stacklab.topology.runtime import RUNNING, SERVICE, STOPPED

if TYPE_CHECKING:
    from stacklab.bus.rabbit import RabbitBus
    from stacklab.processes.roles import Role

T = TypeVar("T")

# The registry: every service the cloud builds, mounts, catalogs and faults, in build
# and start order (identity first: it bootstraps the store others start on; image
# before compute, which takes it).
SERVICES: tuple[ServiceDeclaration[Any], ...] = (
    IDENTITY_SERVICE,
    IMAGE_SERVICE,
    COMPUTE_SERVICE,
    NETWORK_SERVICE,
    BLOCK_STORAGE_SERVICE,
    ORCHESTRATION_SERVICE,
    CLOUDFORMATION_SERVICE,
    LAB_API,
)


class ServerBus(Protocol):
    """What ``RpcServers`` needs of a bus: its listeners by host (both buses have them)."""

    def listeners(self, server: str | None = None) -> Sequence[Listener]: ...

    def pause_server(self, server: str) -> int: ...


class RpcServers:
    """Which RPC servers consume: those of the running processes of powered nodes.

    A powered-off node's servers all pause; a stopped process's (``process_topics``
    says which topics it consumes on its node) pause too, and stay paused when its
    node is powered back on, so the other nodes' servers of the same topic do the work.
    """

    def __init__(self, bus: ServerBus, runtime: Runtime,
                 process_topics: Mapping[str, tuple[str, ...]]) -> None:
        self.bus = bus
        self.runtime = runtime
        self.process_topics = process_topics

    def follower(self) -> Follower:
        return Follower("bus", self.bus.pause_server, self.node_up, self.changed)

    def node_up(self, host: str) -> None:
        stopped = {topic for service, state in self.runtime.services(host).items()
                   if state == STOPPED for topic in self.process_topics.get(service, ())}
        for listener in self.bus.listeners(host):
            if listener.target.topic not in stopped:
                listener.resume()

    def changed(self, change: Change) -> None:
        if change.kind != SERVICE:
            return
        host = change.nodes[0]
        topics = self.process_topics.get(change.service, ())
        for listener in self.bus.listeners(host):
            if listener.target.topic in topics:
                if change.state == RUNNING:
                    listener.resume()
                else:
                    listener.pause()


def rabbit_options(config: Config) -> RabbitOptions:
    """The lab's RabbitMQ and its clients, as configured."""
    clients = config.oslo_messaging_rabbit
    return RabbitOptions(
        net_ticktime=config.stacklab.rabbitmq_net_ticktime,
        cluster_partition_handling=config.stacklab.rabbitmq_cluster_partition_handling,
        heartbeat_timeout_threshold=clients.heartbeat_timeout_threshold,
        rabbit_retry_interval=clients.rabbit_retry_interval,
        rabbit_retry_backoff=clients.rabbit_retry_backoff,
        rabbit_interval_max=clients.rabbit_interval_max,
        kombu_reconnect_delay=clients.kombu_reconnect_delay)


def control_exchanges(config: Config, declarations: Sequence[ServiceDeclaration[Any]]
                      ) -> tuple[dict[str, str], dict[str, str]]:
    """Each topic's control exchange, and each publisher's (a service's binaries and its
    exchange's own name): its service's, or ``[DEFAULT] control_exchange`` for all when set."""
    topics: dict[str, str] = {}
    publishers: dict[str, str] = {}
    for declaration in declarations:
        exchange = config.DEFAULT.control_exchange or declaration.control_exchange
        if exchange is None:
            continue
        publishers[declaration.control_exchange or exchange] = exchange
        for spec in declaration.catalog_specs:  # network.<host>, compute.<host> ...
            publishers[spec.type] = exchange
        for publisher in declaration.notification_publishers:  # volume.<host> ...
            publishers[publisher] = exchange
        for binary, names in declaration.process_topics.items():
            publishers[binary] = exchange
            for topic in names:
                topics[topic] = exchange
    return topics, publishers


def topic_binaries(declarations: Sequence[ServiceDeclaration[Any]]) -> dict[str, str]:
    """Which of the lab's processes consumes each RPC topic (``compute`` -> nova-compute)."""
    return {topic: binary for declaration in declarations
            for binary, topics in declaration.process_topics.items() for topic in topics}


def consumed_here(declarations: Sequence[ServiceDeclaration[Any]],
                  here: Callable[[str, str | None], bool]
                  ) -> Callable[[Target, str | None], bool]:
    """One process per service: which RPC servers this process consumes. Another
    process's binary's are not consumed here, so the process that runs it takes its
    messages; the lab's own topics (``processes.shared``) are consumed by every process
    that listens to them."""
    from stacklab.processes.shared import SHARED_TOPICS

    binaries = topic_binaries(declarations)

    def consumes(target: Target, host: str | None) -> bool:
        return target.topic in SHARED_TOPICS or here(binaries.get(target.topic, ""), host)

    return consumes


def rabbit_bus(config: Config, clock: Clock, declarations: Sequence[ServiceDeclaration[Any]],
               host_up: Callable[[str], bool] | None = None,
               here: Callable[[str, str | None], bool] | None = None) -> RabbitBus:
    """The bus on the broker ``[DEFAULT] transport_url`` names, checked now: a broker that
    cannot be reached, refuses the credentials, or a missing extra is said at start, naming
    the option (a ValueError)."""
    from stacklab.bus.rabbit import DEFAULT_CONTROL_EXCHANGE, RabbitBus, check_broker

    url = config.DEFAULT.transport_url
    check_broker(url)
    topics, publishers = control_exchanges(config, declarations)
    notifications = config.oslo_messaging_notifications
    # oslo's driver is a list (messagingv2 with log, say): the broker hears the messaging one.
    drivers = {driver.strip().lower() for driver in notifications.driver.split(",")}
    consumes = None if here is None else consumed_here(declarations, here)
    return RabbitBus(
        url, clock=clock, rpc_response_timeout=config.DEFAULT.rpc_response_timeout,
        transient_queues_ttl=config.oslo_messaging_rabbit.rabbit_transient_queues_ttl,
        retry_interval=config.oslo_messaging_rabbit.rabbit_retry_interval, host_up=host_up,
        exchanges=topics, publishers=publishers,
        default_exchange=config.DEFAULT.control_exchange or DEFAULT_CONTROL_EXCHANGE,
        notification_driver=next((driver for driver in ("messagingv2", "messaging")
                                  if driver in drivers), ""),
        notification_topics=[topic.strip() for topic in notifications.topics.split(",")
                             if topic.strip()],
        consumes=consumes)


def ceph_options(config: Config) -> CephOptions:
    """The lab's Ceph cluster, as configured ([stacklab] ceph_*)."""
    lab = config.stacklab
    return CephOptions(
        osd_pool_default_size=lab.ceph_osd_pool_default_size,
        osd_pool_default_min_size=lab.ceph_osd_pool_default_min_size,
        osd_heartbeat_grace=lab.ceph_osd_heartbeat_grace,
        mon_osd_min_down_reporters=lab.ceph_mon_osd_min_down_reporters,
        mon_osd_report_timeout=lab.ceph_mon_osd_report_timeout,
        mon_osd_down_out_interval=lab.ceph_mon_osd_down_out_interval)


class Cloud:
    def __init__(self, config: Config, *, clock: Clock | None = None,
                 topology: Topology | None = None, logs: CentralLogStore | None = None,
                 services: Sequence[ServiceDeclaration[Any]] = SERVICES,
                 role: Role | None = None) -> None:
        self.config = config
        # One process of the multi-process shape (stacklab.processes), or None: all of it.
        self.role = role
        here = None if role is None else role.runs
        self.clock: Clock = clock or RealClock()
        self.ids = IdSource(self._seed_for_this_start(config))
        self.topology = topology or load_topology(config.stacklab.topology or None)
        # Which nodes are powered: the one place, every fault goes through it.
        self.runtime = Runtime(self.topology,
                               random.Random(self.ids.stream("links").randint(0, 2**63)))
        # What the APIs that retry database errors draw their jitter from (api.db_retry).
        self.db_retry_rng = random.Random(self.ids.stream("db-retry").randint(0, 2**63))
        self.logs = logs or CentralLogStore()
        url = config.database.connection or sqlite_url(
            None if config.stacklab.ephemeral else config.state_path)
        self.db = Database(url)
        if not url.startswith("sqlite"):
            # A server that cannot be reached, or refuses the credentials, is said now,
            # naming [database] connection, not at the first request.
            self.db.check()
        self.bus: InProcessBus | RabbitBus
        if config.DEFAULT.transport_url:
            # oslo.messaging's wire format on a real RabbitMQ (docs/bus.md).
            self.bus = rabbit_bus(config, self.clock, services, self.runtime.is_up, here)
        else:
            self.bus = InProcessBus(self.clock, host_up=self.runtime.is_up,
                                    rpc_response_timeout=config.DEFAULT.rpc_response_timeout)
        self.app: Any = None
        self.base_url = ""
        self.declarations = tuple(services)
        names = [d.name for d in self.declarations]
        if len(set(names)) != len(names):
            raise ValueError(f"a service is declared twice: {names}")
        # One enforcer per service, as each upstream service has its own: their base
        # rules share names ("context_is_admin") with different meanings.
        self.policies = {
            declaration.name: PolicyEngine(
                declaration.rules, policy_file=config.oslo_policy.policy_file,
                enforce_scope=config.oslo_policy.enforce_scope,
                enforce_new_defaults=config.oslo_policy.enforce_new_defaults)
            for declaration in self.declarations
        }
        self.parts = Parts(config=config, clock=self.clock, ids=self.ids, db=self.db,
                           bus=self.bus, topology=self.topology, runtime=self.runtime,
                           logs=self.logs, app=lambda: self.app,
                           base_url=lambda: self.base_url, health=self.health, here=here)
        for declaration in self.declarations:
            if declaration.key is not None and declaration.build is not None:
                self.parts.provide(declaration.key, declaration.build(self.parts))
        # The way of every request: the VIPs' holder, its HAProxy, a controller, and for the
        # store a Galera member (on the lab's time, ha_time_scale).
        self.controlplane = self.parts.provide(CONTROL_PLANE, ControlPlane(
            self.topology, self.runtime, self.parts.scaled_clock,
            apis=[declaration.name for declaration in self.declarations],
            rabbit=rabbit_options(config),
            vip_manager=config.stacklab.vip_manager, ceph=ceph_options(config)))
        self.db.gate = self.controlplane.check_database
        if isinstance(self.bus, InProcessBus):
            # The bus rides on the lab's RabbitMQ: its waits on the lab's time, its messages
            # over each node's connection to the broker. (A real broker's links are not the
            # lab's to fault: docs/bus.md.)
            self.bus.lab_clock = self.parts.scaled_clock
            self.bus.transport = self.controlplane
            self.controlplane.on_bus_change = self.bus.transport_changed
        # A node's (or a process's) RPC servers stop consuming first, then each service
        # hears of it.
        process_topics = {service: topics for declaration in self.declarations
                          for service, topics in declaration.process_topics.items()}
        self.runtime.subscribe(RpcServers(self.bus, self.runtime, process_topics).follower())
        self.runtime.subscribe(self.controlplane.follower())
        for declaration in self.declarations:
            self._follow(declaration)
        self.ready = False
        self.hooks_done = True
        # Exceptions no handler expected (each answered 500): tests assert it stays zero.
        self.unexpected_errors = 0

    def _follow(self, declaration: ServiceDeclaration[Any]) -> None:
        down, up, changed = declaration.node_down, declaration.node_up, declaration.changed
        if down is None and up is None and changed is None:
            return
        parts = self.parts
        self.runtime.subscribe(Follower(
            declaration.name,
            None if down is None else (lambda fqdn: down(parts, fqdn)),
            None if up is None else (lambda fqdn: up(parts, fqdn)),
            None if changed is None else (lambda change: changed(parts, change))))

    # -- what the wiring and the tests reach (typed; handlers reach only their own) --------

    def get(self, key: Key[T]) -> T:
        """An object a declaration built (a service, or one of its parts)."""
        return self.parts.get(key)

    @property
    def identity(self) -> IdentityService:
        return self.parts.get(IDENTITY)

    @property
    def image(self) -> ImageService:
        return self.parts.get(IMAGE)

    @property
    def compute(self) -> ComputeService:
        return self.parts.get(COMPUTE)

    @property
    def network(self) -> NetworkService:
        return self.parts.get(NETWORK)

    @property
    def block_storage(self) -> BlockStorageService:
        return self.parts.get(BLOCK_STORAGE)

    @property
    def orchestration(self) -> OrchestrationService:
        return self.parts.get(ORCHESTRATION)

    @property
    def agents(self) -> Agents:
        return self.parts.get(AGENTS)

    @property
    def routing(self) -> Routing:
        return self.parts.get(ROUTING)

    # -- life cycle --------------------------------------------------------------------

    @staticmethod
    def _seed_for_this_start(config: Config) -> int | None:
        """The seed, moved on by how often this state directory was started before.

        A seeded cloud repeats its ids run after run, which is the point; but
        restarted on the same state it must not hand out the ids it already
        gave (a second server with the first one's uuid).
        """
        seed = config.stacklab.seed
        if seed is None or config.stacklab.ephemeral or config.database.connection:
            return seed
        marker = config.state_path / "starts"
        try:
            starts = int(marker.read_text())
        except (OSError, ValueError):
            starts = 0
        try:
            config.state_path.mkdir(parents=True, exist_ok=True)
            marker.write_text(str(starts + 1))
        except OSError:
            return seed
        return seed if starts == 0 else seed + 1_000_003 * starts

    def start(self, base_url: str, *, endpoints: Mapping[str, str] | None = None) -> None:
        """Bring the store to head, then start each service in the registry's order.

        ``endpoints``: a service's own base URL by catalog type, where it is served
        apart (one process per service). A process of that shape migrates nothing (its
        supervisor brought the store to head before starting it) and starts keystone's
        part (its keys, for the tokens it checks) and the services of its role only.
        """
        self.base_url = base_url.rstrip("/")
        if not self.config.stacklab.ephemeral and not self.config.database.connection:
            self.config.state_path.mkdir(parents=True, exist_ok=True)
        if self.role is None:
            self.db.upgrade()
        if self.controlplane.ceph is not None:
            # The storage nodes' disks are the store's, one for every process of the
            # cloud as a real cluster is one for all its clients (ha.cephstore).
            self.controlplane.ceph.attach(StoreObjects(self.db))
        startup = Startup(self.base_url, [spec for d in self.declarations
                                          for spec in d.catalog_specs],
                          endpoints=dict(endpoints or {}), migrated=self.role is None)
        for declaration in self.declarations:
            if declaration.start is not None and (
                    declaration.key is IDENTITY or self.runs_service(declaration.name)):
                declaration.start(self.parts, startup)
        self.ready = True

    def runs_service(self, name: str) -> bool:
        """Whether this process runs the start and background work of service ``name``."""
        return self.role is None or name in self.role.services

    async def run_background(self) -> None:
        """What the lab's nodes do on their own: heartbeats, keepalived, failover checks."""
        bus_work = [] if isinstance(self.bus, InProcessBus) else [self.bus.run()]
        await asyncio.gather(self.controlplane.run(), *bus_work,
                             *(declaration.background(self.parts)
                               for declaration in self.declarations
                               if declaration.background is not None
                               and self.runs_service(declaration.name)))

    async def close_bus(self) -> None:
        """Leave the broker cleanly (consumers cancelled, this process's fanout and reply
        queues deleted), when the bus is on one; the in-process bus has nothing to close."""
        if not isinstance(self.bus, InProcessBus):
            await self.bus.aclose()

    def stop(self) -> None:
        self.ready = False
        # Last built, first stopped: nothing is left using what stopped before it.
        for declaration in reversed(self.declarations):
            if declaration.stop is not None:
                declaration.stop(self.parts)
        if not isinstance(self.bus, InProcessBus):
            self.bus.close()
        self.db.dispose()

    def catalog_entries(self) -> Iterator[CatalogEntry]:
        for declaration in self.declarations:
            for spec in declaration.catalog_specs:
                yield CatalogEntry(spec.type, spec.name, spec.description,
                                   f"{self.base_url}{spec.suffix}")

    def service_apis(self) -> list[tuple[str, ServiceApi]]:
        return [(declaration.mount, declaration.api) for declaration in self.declarations]

    # -- the request path ----------------------------------------------------------------

    def policy_for(self, service: str) -> PolicyEngine:
        return self.policies[service]

    def reach(self, service: str) -> Reach:
        """What calls to ``service`` reach: what its declaration built, its policy; no more."""
        declaration = next(d for d in self.declarations if d.name == service)
        built = None if declaration.key is None else self.parts.get(declaration.key)
        return Reach(service, self.policies[service], built,
                     {name: part for name, part in self.parts.built().items()
                      if Reach.owns(service, name)})

    def authenticate(self, token: str, context: RequestContext) -> None:
        self.identity.authenticate_request(token, context)

    @property
    def request_path(self) -> ControlPlane:
        """Where each request enters: the public VIP's holder, its HAProxy, a controller."""
        return self.controlplane

    # -- faults: nodes going down and coming back ------------------------------------------

    def node_down(self, fqdn: str) -> None:
        """Power a node off: its RPC servers stop consuming, its agents and keepalived die."""
        self.runtime.power_off(fqdn)

    def node_up(self, fqdn: str) -> None:
        """Power it back on (nothing restarts when it was already on)."""
        self.runtime.power_on(fqdn)

    def health(self) -> dict[str, Any]:
        """``starting`` until started with its init hooks run; then ``ready``, or
        ``degraded`` when the control plane lost some redundancy, or ``down`` when no
        request can get in (no VIP holder, no keystone server, no database server)."""
        lab, apis, reasons = self.controlplane.health()
        services = {declaration.name: apis.get(declaration.name, "ready") if self.ready
                    else "starting"
                    for declaration in self.declarations if declaration.catalog is not None}
        ready = self.ready and self.hooks_done
        status = "starting" if not ready else {"ok": "ready"}.get(lab, lab)
        return {"status": status, "services": services,
                "init_hooks": "done" if self.hooks_done else "running",
                "control_plane": {"state": lab, "reasons": reasons}}
