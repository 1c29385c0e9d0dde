"""The lab's control plane: the proxies' keepalived and HAProxy, the Galera cluster, and the
way each API request takes through them (architecture.md, "The request path").

client -> the public VIP's holder (keepalived) -> its HAProxy -> an API worker on a
controller -> the store, through the internal VIP's holder and its HAProxy's Galera
block, to a member of the Primary Component.

Everything runs on the lab's time (``[stacklab] ha_time_scale``) through a
``LabTime``, caught up whenever someone needs the present. The lab's runtime is
the truth: this object follows its changes, catching up with the lab as it was
before each one (``Runtime.snapshot``) and then taking in the new state.

What a client meets (ha-semantics §1.3, §2.2, §3.3):

- no holder of the VIP while a backup is about to take over: the client's SYN is
  retransmitted (Linux: after 1, 2, 4 ... s, ``tcp_syn_retries`` 6) until a holder
  answers; no holder and nobody about to become one: the connection fails at once
  (standing for the 127 s the client would wait in vain: the local listener closes
  the connection without an answer);
- the holder's haproxy not running: connection refused (closed at once, too);
- no server UP in the backend: HAProxy's own 503 at once;
- a server still UP but dead: HAProxy's retries and redispatch (``haproxy.Dispatch``):
  a refusing process costs ~3 s of turn-arounds, a silent host 3 x ``timeout connect``
  (30 s), then another controller serves;
- the store: no way to the internal VIP, or to a serving Galera member, raises the
  MySQL error the client library would (2003, 2013, 1047) as ``DBConnectionError``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from stacklab.clock import Clock
from stacklab.ha import route as routes
from stacklab.ha.ceph import GIB, CephCluster, CephOptions, lab_mons
from stacklab.ha.checks import L4CON, L4TOUT, L7OK, L7STS, Probe
from stacklab.ha.daemonlog import daemon_log
from stacklab.ha.galera import LOST, NOT_READY, DatabaseRefusal, GaleraCluster, GaleraOptions
from stacklab.ha.galera import cant_connect as mysql_cant_connect
from stacklab.ha.haproxy import (
    BAD_GATEWAY_BODY,
    BAD_GATEWAY_STATUS,
    GATEWAY_TIMEOUT_BODY,
    GATEWAY_TIMEOUT_STATUS,
    NO_SERVER_BODY,
    NO_SERVER_HEADERS,
    NO_SERVER_STATUS,
    Dispatch,
    GiveUp,
    Haproxy,
    HaproxyOptions,
    Listen,
    Outcome,
    Server,
    ServerLine,
)
from stacklab.ha.labtime import LabTime
from stacklab.ha.pcmk_vips import LabFenceDevice, PacemakerVips
from stacklab.ha.rabbitmq import PAUSED, BrokerClients, RabbitCluster, RabbitOptions
from stacklab.ha.route import Direct, Entry, ProxyAnswer, Route, Routed, Unreachable
from stacklab.ha.tcp import Send, exchange, handshake
from stacklab.ha.view import LabView
from stacklab.ha.vips import ApiVips, Vip
from stacklab.store.database import DBConnectionError
from stacklab.topology import Change, Follower, Runtime, Topology

HAPROXY_LOG = logging.getLogger("stacklab.ha.haproxy")
GALERA_LOG = logging.getLogger("stacklab.ha.galera")

MANAGEMENT = "management"
PROXY_ROLE = "proxy"
# The lab has lived this long (lab seconds) when the cloud opens: keepalived's first
# election (2 s of check_alive, then 3 adverts and the skew) is over, as in a running lab.
HISTORY = 30.0
# The proxies came up in topology order, a second apart: the first one's keepalived won
# the first election, and with nopreempt it keeps the VIPs until something happens to it.
BOOT_STAGGER = 1.0
# Linux: a SYN is retransmitted tcp_syn_retries (6) times, the first after TCP_TIMEOUT_INIT
# (1 s), each wait doubling; the connect fails after 127 s.
SYN_RETRIES = 6
SYN_TIMEOUT_INIT = 1.0
# How often (lab seconds) the background catches up when no timer is due sooner.
IDLE_SYNC = 1.0
# [stacklab] vip_manager: who places the API VIPs on the proxies.
KEEPALIVED = "keepalived"
PACEMAKER = "pacemaker"
VIP_MANAGERS = (KEEPALIVED, PACEMAKER)


@dataclass(frozen=True, slots=True)
class ApiListen:
    """An API's listen block, named and numbered as in the HA guide's haproxy.cfg (HAG
    doc/source/control-plane-stateless.rst), over the process serving it on controllers."""

    api: str  # the ServiceApi's name
    listen: str
    port: int
    process: str  # topology.model.ROLE_SERVICES


API_LISTENS = (
    ApiListen("identity", "keystone_public_internal_cluster", 5000, "keystone"),
    ApiListen("compute", "nova_compute_api_cluster", 8774, "nova-api"),
    ApiListen("image", "glance_api_cluster", 9292, "glance-api"),
    ApiListen("network", "neutron_api_cluster", 9696, "neutron-server"),
    ApiListen("placement", "placement_api_cluster", 8778, "placement-api"),
    ApiListen("volume", "cinder_api_cluster", 8776, "cinder-api"),
    ApiListen("orchestration", "heat_api_cluster", 8004, "heat-api"),
    ApiListen("cloudformation", "heat_cfn_api_cluster", 8000, "heat-api-cfn"),
)
# How the way of a request in flight broke (``ControlPlane.watch``).
PROXY_LOST = "proxy lost"
SERVER_RESET = "server reset"
SERVER_SILENT = "server silent"

GALERA_LISTEN = "galera_cluster"
GALERA_PORT = 3306
DATA_PROCESS = "mariadb"
ARBITRATOR_PROCESS = "garbd"
BROKER_PROCESS = "rabbitmq"
OSD_PROCESS = "ceph-osd"
# The processes that talk over the bus (oslo.messaging clients of the broker).
RPC_PROCESSES = ("nova-", "neutron-", "cinder-", "heat-")
RABBIT_LOG = logging.getLogger("stacklab.ha.rabbitmq")


class ControlPlane:
    def __init__(self, topology: Topology, runtime: Runtime, clock: Clock, *,
                 apis: Collection[str], haproxy: HaproxyOptions | None = None,
                 galera: GaleraOptions | None = None,
                 rabbit: RabbitOptions | None = None, vip_manager: str = KEEPALIVED,
                 ceph: CephOptions | None = None) -> None:
        if vip_manager not in VIP_MANAGERS:
            raise ValueError(f"[stacklab] vip_manager: {vip_manager!r} is not one of "
                             f"{', '.join(VIP_MANAGERS)}")
        self.vip_manager = vip_manager
        self.topology = topology
        self.runtime = runtime
        self.source = clock
        self.time = LabTime(clock, history=HISTORY)
        self.view = LabView(runtime)
        # The requests being served now, each with what learns that its way broke.
        self._flights: dict[int, tuple[Route, asyncio.Future[str]]] = {}
        self.options = haproxy or HaproxyOptions()
        proxies = topology.nodes_with_role(PROXY_ROLE)
        controllers = topology.nodes_with_role("controller")
        self.proxies = [node.fqdn for node in proxies]
        self.vips = [Vip(vip.name, vip.network, vip.address)
                     for vip in topology.vips.values() if vip.held_by == PROXY_ROLE]
        self.public_vip = next((v for v in self.vips if v.name == "public"),
                               self.vips[0] if self.vips else None)
        self.internal_vip = next((v for v in self.vips if v.name == "internal"),
                                 self.public_vip)
        self.enabled = bool(self.proxies and self.vips and controllers)
        self._first_controller = controllers[0].fqdn if controllers else None
        self.api_listens = {item.api: item for item in API_LISTENS if item.api in apis}
        listens = [Listen(item.listen, item.port, tuple(
            ServerLine(node.name, node.fqdn, _address(node.addresses, item.port))
            for node in controllers if node.runs(item.process)))
            for item in self.api_listens.values()]
        data_nodes = topology.nodes_running(DATA_PROCESS)
        # HAG: "backup indicates that two of the three controllers are standby nodes"; kolla
        # marks every member but the first `backup`. Checked by clustercheck on port 9200.
        listens.append(Listen(GALERA_LISTEN, GALERA_PORT, tuple(
            ServerLine(node.name, node.fqdn, _address(node.addresses, GALERA_PORT),
                       backup=index > 0)
            for index, node in enumerate(data_nodes)), mode="tcp", balance="source"))
        self._process = {item.listen: item.process for item in self.api_listens.values()}
        self._process[GALERA_LISTEN] = DATA_PROCESS
        self.haproxy = {fqdn: Haproxy(fqdn, listens, self.options, self.time, self._probe,
                                      on_change=functools.partial(self._server_changed, fqdn))
                        for fqdn in self.proxies}
        self.keepalived = ApiVips(
            self.time, [(node.fqdn, node.addresses.get(MANAGEMENT, "")) for node in proxies],
            self.vips, reachable=self._reaches,
            haproxy_running=lambda fqdn: self.haproxy[fqdn].running,
            path=lambda a, b: self.view.send(a, b, MANAGEMENT))
        # With Pacemaker, haproxy runs where the cluster started it (its clone follows the
        # VIPs): the proxies where it did.
        self._pcmk_haproxy: set[str] = set()
        self.pacemaker: PacemakerVips | None = None
        if vip_manager == PACEMAKER:
            self.pacemaker = PacemakerVips(
                self.time, self.proxies, self.vips, up=lambda n: self.view.is_up(n),
                reachable=self._reaches, fence_device=LabFenceDevice(runtime),
                haproxy=_ClusterHaproxy(self))
        members = [(node.fqdn, False) for node in data_nodes] + \
            [(node.fqdn, True) for node in topology.nodes_running(ARBITRATOR_PROCESS)]
        self._galera_process = {fqdn: ARBITRATOR_PROCESS if arbitrator else DATA_PROCESS
                                for fqdn, arbitrator in members}
        # What each member's status was last logged as (None: the cluster is being built).
        self._galera_said: dict[str, tuple[str, str, int]] | None = None
        self.galera = GaleraCluster(
            self.time, members, running=self._galera_running, reachable=self._reaches,
            options=galera, on_change=self._galera_changed)
        # The broker: RabbitMQ on the nodes that run it, every node's processes its clients.
        # ``on_bus_change`` (the bus's transport_changed) hears of connections made or lost.
        self.on_bus_change: Callable[[], None] | None = None
        brokers = [node.fqdn for node in topology.nodes_running(BROKER_PROCESS)]
        self.rabbit: RabbitCluster | None = None
        self.clients: BrokerClients | None = None
        if brokers:
            self.rabbit = RabbitCluster(
                self.time, brokers, running=lambda n: self.view.running(n, BROKER_PROCESS),
                reachable=self._reaches, options=rabbit, on_change=self._rabbit_changed)
            self.clients = BrokerClients(
                self.time, self.rabbit, [node.fqdn for node in topology.nodes.values()
                                         if any(service.startswith(RPC_PROCESSES)
                                                for service in node.services)],
                host_up=lambda n: self.view.is_up(n), reachable=self._reaches,
                on_change=self._connections_changed)
        # The shared storage: an OSD on each node that runs ceph-osd (its disk), monitors on
        # those and the arbiter (stacklab.ha.ceph).
        storage = topology.nodes_running(OSD_PROCESS)
        self.ceph: CephCluster | None = None
        if storage:
            self.ceph = CephCluster(
                self.time, [(node.fqdn, node.disk_gb * GIB) for node in storage],
                lab_mons([node.fqdn for node in storage],
                         [node.fqdn for node in topology.nodes_running(ARBITRATOR_PROCESS)]),
                osd_running=lambda n: self.view.running(n, OSD_PROCESS),
                host_up=lambda n: self.view.is_up(n), reachable=self._reaches, options=ceph)
        if self.pacemaker is not None:
            self.pacemaker.start()  # the cluster forms and starts haproxy with the VIPs
        else:
            for fqdn in self.proxies:
                if self.view.running(fqdn, "haproxy"):
                    self.haproxy[fqdn].start(settled=True)
            for index, fqdn in enumerate(self.proxies):
                if self.view.running(fqdn, "keepalived"):
                    self.time.call_later(index * BOOT_STAGGER,
                                         functools.partial(self.keepalived.start, fqdn))
        self.time.sync()

    def follower(self) -> Follower:
        return Follower("controlplane", changed=self.on_change)

    # -- the lab changed ---------------------------------------------------------------------

    def on_change(self, change: Change) -> None:
        # Up to now the lab was as the old view says; from now on as the runtime says.
        self.time.sync()
        old, new = self.view, LabView(self.runtime)
        self.view = new
        for fqdn in self.proxies:
            self._sync_haproxy(fqdn)
            if self.pacemaker is not None:
                continue
            if old.running(fqdn, "keepalived") and not new.running(fqdn, "keepalived"):
                if new.is_up(fqdn):
                    self.keepalived.stop(fqdn)
                else:
                    self.keepalived.kill(fqdn)
            elif new.running(fqdn, "keepalived") and not self.keepalived.running(fqdn):
                self.keepalived.start(fqdn)
        stopped_cleanly = [fqdn for fqdn, process in self._galera_process.items()
                           if old.running(fqdn, process) and not new.running(fqdn, process)
                           and new.is_up(fqdn)]
        self.galera.refresh(stopped_cleanly)
        if self.pacemaker is not None:
            self.pacemaker.refresh()
        if self.rabbit is not None and self.clients is not None:
            self.rabbit.refresh([fqdn for fqdn in self.rabbit.nodes
                                 if old.running(fqdn, BROKER_PROCESS)
                                 and not new.running(fqdn, BROKER_PROCESS) and new.is_up(fqdn)])
            self.clients.refresh()
        if self.ceph is not None:
            self.ceph.refresh()
        self._break_flights(new)
        self._poke()

    def _sync_haproxy(self, fqdn: str) -> None:
        """Start or stop the proxy's HAProxy to match the lab (and, with Pacemaker, the
        cluster: it runs only where the cluster started it)."""
        haproxy = self.haproxy[fqdn]
        should = self.view.running(fqdn, "haproxy") and (
            self.pacemaker is None or fqdn in self._pcmk_haproxy)
        if haproxy.running and not should:
            haproxy.stop()
            daemon_log(HAPROXY_LOG, fqdn, "haproxy", "haproxy stopped")
        elif should and not haproxy.running:
            haproxy.start()
            daemon_log(HAPROXY_LOG, fqdn, "haproxy", "haproxy started")

    # -- who holds the VIPs ---------------------------------------------------------------------

    def vip_holder(self) -> str | None:
        if self.pacemaker is not None:
            return self.pacemaker.holder()
        return self.keepalived.holder()

    def _takeover_pending(self) -> bool:
        if self.pacemaker is not None:
            return self.pacemaker.takeover_pending()
        return self.keepalived.takeover_pending()

    def _poke(self) -> None:
        self.keepalived.poke()
        for haproxy in self.haproxy.values():
            haproxy.poke()

    def _reaches(self, a: str, b: str) -> bool:
        """Whether two nodes' cluster traffic (Galera, RabbitMQ, Corosync, oslo.messaging
        heartbeats) gets through: a link that loses every packet is as good as cut, while
        TCP's retransmissions carry these protocols through partial loss."""
        return self.view.reachable(a, b, MANAGEMENT) and \
            self.view.runtime.link(a, b).loss < 1.0

    def _galera_running(self, fqdn: str) -> bool:
        return self.view.running(fqdn, self._galera_process[fqdn])

    def _galera_changed(self) -> None:
        for haproxy in self.haproxy.values():
            haproxy.poke()  # clustercheck's answers may have changed
        said, self._galera_said = self._galera_said, {}
        for member in self.galera.members.values():
            status = member.status()
            words = (status["wsrep_cluster_status"],
                     status["wsrep_local_state_comment"] or "not running",
                     status["wsrep_cluster_size"])
            self._galera_said[member.node] = words
            if said is not None and said.get(member.node) != words:
                daemon_log(GALERA_LOG, member.node, self._galera_process[member.node],
                           "WSREP: %s, %s (cluster size %d)", *words)

    def _rabbit_changed(self) -> None:
        if self.clients is not None:
            self.clients.refresh()

    def _connections_changed(self) -> None:
        if self.on_bus_change is not None:
            self.on_bus_change()

    def connected(self, host: str | None) -> bool:
        """The bus's transport: whether ``host``'s processes are connected to a broker that
        serves (always, in a lab without RabbitMQ)."""
        return self.clients is None or self.clients.connected(host)

    def transit(self, host: str | None) -> float | None:
        """The bus's transport: what one frame between ``host``'s processes and their broker
        costs over the link between them (0 on clean links; None: the connection died of
        it, the frame's sender publishes it again after the reconnect)."""
        if self.clients is None or not self.view.runtime.any_link_set():
            return 0.0
        return self.clients.transit(host, self._packet)

    def _packet(self, a: str, b: str) -> Send:
        return functools.partial(self.view.send, a, b, MANAGEMENT)

    def _server_changed(self, proxy: str, backend: str, server: Server, up: bool) -> None:
        left = self.haproxy[proxy].backend(backend).servers
        active = sum(1 for s in left if s.up and not s.line.backup)
        backup = sum(1 for s in left if s.up and s.line.backup)
        kind = "Backup Server" if server.line.backup else "Server"
        # HAProxy's words (src/server.c): "Server <backend>/<server> is DOWN, ... N active and
        # M backup servers left."
        daemon_log(HAPROXY_LOG, proxy, "haproxy",
                   "%s %s/%s is %s, reason: %s. %d active and %d backup servers left.",
                   kind, backend, server.name, "UP" if up else "DOWN",
                   server.check.last_status if server.check else "", active, backup,
                   level=logging.INFO if up else logging.WARNING)

    # -- what checks and connections meet -------------------------------------------------------

    def _handshake(self, a: str, b: str, timeout: float) -> float | None:
        """How long a connection from ``a`` to ``b`` takes to come up over their link (its
        latency, its lost SYNs retransmitted), or None when it does not within ``timeout``."""
        if not self.view.runtime.any_link_set():
            # Every link clean: a SYN and its answer arrive at once or never (no loss to
            # draw), which is what the retransmitting handshake would find, found cheaply:
            # this runs for every request the proxy forwards.
            return 0.0 if self.view.reachable(a, b, MANAGEMENT) else None
        return handshake(lambda: self.view.send(a, b, MANAGEMENT),
                         lambda: self.view.send(b, a, MANAGEMENT), timeout)

    def _probe(self, proxy: str, listen: Listen, line: ServerLine) -> Probe:
        timeout = self.options.check_connect_timeout
        took = self._handshake(proxy, line.node, timeout)
        if took is None:
            return Probe(False, timeout, L4TOUT)
        if listen.name == GALERA_LISTEN:
            # clustercheck (xinetd on 9200) answers while the host is up: 200 only Synced.
            return Probe(True, took, L7OK) if self.galera.synced(line.node) else \
                Probe(False, took, L7STS)
        if not self.view.running(line.node, self._process[listen.name]):
            return Probe(False, took, L4CON)
        return Probe(True, took, L7OK)

    def _connect(self, proxy: str, listen: str, line: ServerLine) -> tuple[Outcome, float]:
        """What one connection attempt meets, and (connected) how long it took to come up."""
        took = self._handshake(proxy, line.node, self.options.timeout_connect)
        if took is None:
            return Outcome.TIMEOUT, 0.0
        if not self.view.running(line.node, self._process[listen]):
            return Outcome.REFUSED, 0.0
        return Outcome.CONNECTED, took

    # -- the request path ---------------------------------------------------------------------

    async def enter(self, api: str) -> Entry:
        """Where a request to ``api`` goes: to a controller, to the proxy's 503, or nowhere."""
        item = self.api_listens.get(api)
        if item is None or not self.enabled or self.public_vip is None:
            return Direct(self._first_controller if item is not None else None)
        vip = self.public_vip.address
        self.time.sync()
        holder = await self._holder_for_syn()
        if holder is None:
            return Unreachable(vip, "no VIP holder")
        proxy = self.haproxy[holder]
        if not proxy.running:
            return Unreachable(vip, f"connection refused by {holder} (haproxy not running)")
        dispatch = Dispatch(proxy.backend(item.listen), self.options)
        server = dispatch.first()
        while server is not None:
            outcome, took = self._connect(holder, item.listen, server.line)
            if outcome is Outcome.CONNECTED:
                # The connection's set-up, then the request there and its answer back.
                delay = took + 2 * self.view.runtime.link(holder, server.line.node).latency
                if delay > 0:
                    await self._wait(delay)
                return Routed(Route(vip, holder, item.listen, server.name, server.line.node,
                                    [f"{name} {how}" for name, how in dispatch.attempts]))
            step = dispatch.after(server, outcome)
            await self._wait(step.wait)
            if not (self.view.is_up(holder) and proxy.running):
                return Unreachable(vip, f"{holder} went away while the request waited")
            if isinstance(step, GiveUp):
                break
            server = dispatch.resolve(step)
        return ProxyAnswer(vip, holder, item.listen, NO_SERVER_STATUS, NO_SERVER_BODY,
                           NO_SERVER_HEADERS,
                           tuple(f"{name} {how}" for name, how in dispatch.attempts))

    # -- requests in flight -----------------------------------------------------------------

    def watch(self, route: Route) -> asyncio.Future[str]:
        """Done, with how (``PROXY_LOST``, ``SERVER_RESET``, ``SERVER_SILENT``), when the way
        of a request being served breaks under it (``broken_answer`` says what the client
        gets then); ``unwatch`` once it is answered."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._flights[id(route)] = (route, future)
        return future

    def in_flight(self) -> list[Route]:
        """The requests being served now (their way through the lab)."""
        return [route for route, _ in self._flights.values()]

    def unwatch(self, route: Route) -> None:
        # Dropped, not cancelled: a cancel would schedule the watcher's callback on the
        # loop for nothing, once per request, and nothing else waits on the future.
        self._flights.pop(id(route), None)

    def _break_flights(self, view: LabView) -> None:
        for route, future in list(self._flights.values()):
            if future.done():
                continue
            if not (view.is_up(route.proxy) and view.running(route.proxy, "haproxy")):
                future.set_result(PROXY_LOST)
            elif not view.reachable(route.proxy, route.controller, MANAGEMENT):
                future.set_result(SERVER_SILENT)
            elif not view.running(route.controller, self._process[route.backend]):
                future.set_result(SERVER_RESET)

    async def broken_answer(self, route: Route, how: str) -> ProxyAnswer | Unreachable:
        """What the client of a request whose way broke gets (HAProxy does not retry a
        request it has sent): nothing when its proxy died with the connection; 502 at once
        when the API process died (its connection reset); 504 after ``timeout server`` when
        the controller went silent (powered off, cut off)."""
        if how == PROXY_LOST:
            return Unreachable(route.vip, f"{route.proxy} went away with the request")
        if how == SERVER_RESET:
            return ProxyAnswer(route.vip, route.proxy, route.backend, BAD_GATEWAY_STATUS,
                               BAD_GATEWAY_BODY, NO_SERVER_HEADERS,
                               (f"{route.server} died with the request",))
        await self._wait(self.options.timeout_server)
        return ProxyAnswer(route.vip, route.proxy, route.backend, GATEWAY_TIMEOUT_STATUS,
                           GATEWAY_TIMEOUT_BODY, NO_SERVER_HEADERS,
                           (f"{route.server} silent for timeout server",))

    async def _holder_for_syn(self) -> str | None:
        wait = SYN_TIMEOUT_INIT
        for attempt in range(SYN_RETRIES + 1):
            holder = self.vip_holder()
            if holder is not None:
                return holder
            if attempt == SYN_RETRIES or not self._takeover_pending():
                return None
            await self._wait(wait)
            wait *= 2
        return None

    async def _wait(self, seconds: float) -> None:
        if seconds > 0:
            await self.source.sleep(seconds)
        self.time.sync()

    # -- the store's way ------------------------------------------------------------------------

    def check_database(self) -> None:
        """The store's gate: before a session of a request's, find its Galera member (or
        raise the client's error); sessions outside any request go straight through."""
        route = routes.current()
        if route is None or not route.active or not self.enabled:
            return
        self.time.sync()
        found = self._database_member(route.controller)
        if isinstance(found, DatabaseRefusal):
            route.galera = None
            raise DBConnectionError(found.code, found.sqlstate, found.message)
        trip = self._database_round_trip(route.controller, found)
        if trip is None:  # retransmitted until TCP gave the pooled connection up
            route.galera = None
            raise DBConnectionError(LOST.code, LOST.sqlstate, LOST.message)
        route.galera = found
        route.database_delay += trip
        self.galera.commit(found)

    def _database_round_trip(self, controller: str, node: str) -> float | None:
        """One transaction's round trip: the API worker to HAProxy on the DB VIP's holder,
        and on to the Galera member, over their links; a lost packet is retransmitted as
        TCP does on an established connection (the session is pooled)."""
        if not self.view.runtime.any_link_set():
            return 0.0  # the way was found reachable: on clean links it costs nothing
        holder = self.vip_holder() or controller
        took = 0.0
        for a, b in ((controller, holder), (holder, node)):
            if a == b:
                continue
            trip = exchange(functools.partial(self.view.send, a, b, MANAGEMENT),
                            functools.partial(self.view.send, b, a, MANAGEMENT))
            if trip is None:
                return None
            took += trip
        return took

    async def answer_ready(self, route: Route) -> None:
        """Before the answer of a request leaves its controller: the time its database
        round trips took over the lab's links (nothing on clean links)."""
        delay, route.database_delay = route.database_delay, 0.0
        if delay > 0:
            await self._wait(delay)

    def _database_member(self, controller: str) -> str | DatabaseRefusal:
        address = self.internal_vip.address if self.internal_vip else ""
        holder = self.vip_holder()
        if holder is None or not self.view.reachable(controller, holder, MANAGEMENT):
            return mysql_cant_connect(address, "timed out")
        proxy = self.haproxy[holder]
        if not proxy.running:
            return mysql_cant_connect(address, "[Errno 111] Connection refused")
        server = proxy.backend(GALERA_LISTEN).pick()
        if server is None:
            return LOST  # HAProxy closes the connection it has nowhere to send
        node = server.line.node
        if not (self.view.reachable(holder, node, MANAGEMENT)
                and self.view.running(node, DATA_PROCESS)):
            return LOST  # the pooled connection through the proxy broke with its server
        if not self.galera.serves(node):
            return NOT_READY
        return node

    # -- what status and health show -----------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """VIP holders, each proxy's backends and servers, the Galera members (for
        ``stacklab status``)."""
        self.time.sync()
        managers: dict[str, Any] = {"vip_manager": self.vip_manager}
        if self.pacemaker is not None:
            managers["pacemaker"] = self.pacemaker.status()
        else:
            managers["keepalived"] = self.keepalived.status()
        return {
            **managers,
            "haproxy": [self.haproxy[fqdn].status() for fqdn in self.proxies],
            "galera": {"members": self.galera.status(),
                       "primary_component": sorted(self.galera.primary_component()),
                       "last_committed": self.galera.committed},
            "rabbitmq": self.rabbit_status(),
            "ceph": self.ceph.status() if self.ceph is not None else None,
        }

    def sample(self) -> dict[str, Any]:
        """Of ``status``, only the VIP holder, Galera's primary component and the RabbitMQ
        nodes that serve (None without RabbitMQ): what a scenario samples."""
        self.time.sync()
        return {"holder": self.vip_holder(),
                "primary_component": sorted(self.galera.primary_component()),
                "rabbit_serving": (self.rabbit.serving_nodes() if self.rabbit is not None
                                   and self.clients is not None else None)}

    def rabbit_status(self) -> dict[str, Any] | None:
        """The cluster's nodes (state, running nodes as each sees them, partitions) and the
        nodes whose connection to it is down."""
        if self.rabbit is None or self.clients is None:
            return None
        self.time.sync()
        return {**self.rabbit.status(),
                "disconnected": [c["host"] for c in self.clients.status() if c["broker"] is None]}

    def health(self) -> tuple[str, dict[str, str], list[str]]:
        """``ok``, ``degraded`` (some redundancy lost) or ``down`` (no way in, or no
        identity), each API's state, and why."""
        if not self.enabled:
            return "ok", {}, []
        self.time.sync()
        down = list(self._outages())
        degraded = list(self._losses())
        apis = {api: self._api_state(item.listen) for api, item in self.api_listens.items()}
        if down:
            return "down", apis, down + degraded
        if degraded or any(state != "ready" for state in apis.values()):
            return "degraded", apis, degraded
        return "ok", apis, []

    def _api_state(self, listen: str) -> str:
        holder = self.vip_holder()
        if holder is None or not self.haproxy[holder].running:
            return "down"
        servers = self.haproxy[holder].backend(listen).servers
        up = sum(1 for server in servers if server.up)
        return "ready" if up == len(servers) else "degraded" if up else "down"

    def _outages(self) -> Iterator[str]:
        holder = self.vip_holder()
        if holder is None:
            yield "no proxy holds the VIPs"
            return
        if not self.haproxy[holder].running:
            yield f"haproxy is not running on the VIP holder {holder}"
            return
        identity = self.api_listens.get("identity")
        if identity is not None and not self.haproxy[holder].backend(identity.listen).available():
            yield f"no keystone server is UP on {holder}"
        if not self.haproxy[holder].backend(GALERA_LISTEN).available():
            yield f"no Galera server is UP on {holder}"

    def _losses(self) -> Iterator[str]:
        if self.pacemaker is not None:
            if self.pacemaker.split_brain():
                yield "two proxies hold the VIPs (split brain)"
            yield from self.pacemaker.losses()
        else:
            if len(self.keepalived.group.masters()) > 1:
                yield "two proxies hold the VIPs (split brain)"
            for fqdn in self.proxies:
                state = self.keepalived.group.instance(fqdn).state
                if state.value not in ("MASTER", "BACKUP"):
                    yield f"keepalived on {fqdn} is {state.value}"
                if not self.haproxy[fqdn].running:
                    yield f"haproxy on {fqdn} is not running"
        holder = self.vip_holder()
        if holder is not None and self.haproxy[holder].running:
            for backend in self.haproxy[holder].backends.values():
                for server in backend.servers:
                    if not server.up:
                        yield f"{backend.name}/{server.name} is DOWN on {holder}"
        yield from self._rabbit_losses()
        for member in self.galera.members.values():
            status = member.status()
            if status["wsrep_cluster_status"] != "Primary" or \
                    status["wsrep_local_state_comment"] != "Synced":
                yield (f"Galera member {member.node} is {status['wsrep_cluster_status']} "
                       f"{status['wsrep_local_state_comment'] or 'down'}")

    def _rabbit_losses(self) -> Iterator[str]:
        # RPC stopping does not keep requests out: it degrades the lab (builds wait in
        # their queues, heartbeats stop), it does not take it down.
        if self.rabbit is None:
            return
        for state in self.rabbit.nodes.values():
            if state.state == PAUSED:
                yield (f"RabbitMQ node {state.node} is paused "
                       f"({self.rabbit.options.cluster_partition_handling})")
            elif not state.running and self.view.is_up(state.node):
                yield f"RabbitMQ node {state.node} is stopped"
            for peer in sorted(state.partitions):
                yield f"RabbitMQ node {state.node} is partitioned from {peer}"
        if not self.rabbit.serving_nodes():
            yield "no RabbitMQ node serves: RPC between the services has stopped"

    # -- the background ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Keep the lab's time caught up, so that its daemons' lines are logged on time."""
        while True:
            self.time.sync()
            await self.source.sleep(max(self.time.wait_hint(IDLE_SYNC), 0.001))


class _ClusterHaproxy:
    """``systemd:haproxy`` as the lab runs it: starting it where a fault stopped it is a
    ``systemctl start`` (the runtime's ``start_service``); the cluster's own stops leave the
    runtime alone (the process is stopped by its manager, not by a fault)."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane

    def running(self, node: str) -> bool:
        return node in self.plane._pcmk_haproxy and self.plane.view.running(node, "haproxy")

    def start(self, node: str) -> bool:
        plane = self.plane
        plane._pcmk_haproxy.add(node)
        if plane.view.is_up(node) and not plane.view.running(node, "haproxy"):
            plane.runtime.start_service(node, "haproxy")  # the lab hears of it, we too
        plane._sync_haproxy(node)
        return plane.view.running(node, "haproxy")

    def stop(self, node: str) -> None:
        self.plane._pcmk_haproxy.discard(node)
        self.plane._sync_haproxy(node)


def _address(addresses: dict[str, str], port: int) -> str:
    return f"{addresses.get(MANAGEMENT, '')}:{port}"
