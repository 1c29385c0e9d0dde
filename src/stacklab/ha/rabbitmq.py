"""The lab's RabbitMQ cluster, and the oslo.messaging connections of its nodes' processes.

The cluster (lab.md: "RabbitMQ: cluster across the controllers") is the nodes that run
``rabbitmq``: controller1 and controller2 in the lab, two nodes. Membership follows
who reaches whom as Erlang distribution learns it (RMQ docs/nettick.md): a peer that
goes silent (its node lost power, a cable was cut) is considered down once nothing
came from it for ``net_ticktime`` (60 s; the ±25 % is not drawn, it is exactly 60);
a peer whose broker stops on a live host closes its connections and is down at once;
a peer that shows up again is seen within the paused nodes' once-a-second check.

``cluster_partition_handling = pause_minority`` (kolla's default): a node that sees
itself in a minority -- fewer than or exactly half of all the cluster's nodes, itself
included -- after seeing a peer go down pauses: it closes its clients' connections
and listens on no port until the rest of the cluster reappears (RMQ
versioned_docs/version-3.13/partitions.md). A paused node's Erlang VM still runs,
so it still counts as reachable for its peers. With the lab's two nodes this is what
the RabbitMQ guide warns of: "in the event of any network partition *or node
failure*, both nodes will pause" -- losing either controller pauses the other's
broker too, and the lab's RPC stops until both are back. Nodes do not pause at
start-up, even alone. ``ignore`` (RabbitMQ's default) is modelled too: nobody
pauses, and two running nodes that saw each other down record a partition when
they meet again, until one of them restarts.

Queues: kolla renders ``rabbit_quorum_queue = true``, so the RPC topic queues are
quorum queues replicated on the cluster's nodes. They are durable: what waits in them
survives a node's loss and the whole cluster's, and is delivered once a consumer is
connected again. Under pause_minority a node that serves is in a majority, which a
quorum queue needs, so "the client's broker serves" is "its queues work" here.

Clients (``BrokerClients``): every node's processes reach the broker as oslo.messaging
does, with the cluster's hosts in ``transport_url`` (RabbitMQ is not behind HAProxy:
HAG control-plane-stateful.rst); one connection per node stands for its processes'.
A connection starts on the first host that serves. It breaks when its broker closes
it (paused, stopped: noticed at once) or goes silent (noticed after
``heartbeat_timeout_threshold``, 60 s; until then what is published on it is held
by the client, as oslo's publish blocks and is retried after the reconnect). Then
it reconnects as oslo's ``ensure`` over kombu's ``ensure_connection``: the first
attempt ``kombu_reconnect_delay`` (1 s) after the error, on the same host; each
failed attempt moves to the next host (``kombu_failover_strategy = round-robin``)
after ``kombu_reconnect_delay``, plus, each time a round of every host has failed,
kombu's next interval: ``rabbit_retry_interval`` (1 s) growing by
``rabbit_retry_backoff`` (2 s) up to ``rabbit_interval_max`` (30 s). With two
hosts the attempts come 1, 2, 4, 5, 9, 10, 16 ... s after the error.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from stacklab.clock import Clock, Timer
from stacklab.ha.daemonlog import daemon_log
from stacklab.ha.tcp import Send, deliver

LOG = logging.getLogger("stacklab.ha.rabbitmq")
CLIENT_LOG = logging.getLogger("oslo.messaging._drivers.impl_rabbit")

PAUSE_MINORITY = "pause_minority"
IGNORE = "ignore"
PARTITION_HANDLINGS = (PAUSE_MINORITY, IGNORE)

RUNNING = "running"
PAUSED = "paused"
STOPPED = "stopped"
AMQP_PORT = 5672


@dataclass(frozen=True, slots=True)
class RabbitOptions:
    # RMQ docs/nettick.md: "default net_ticktime 60".
    net_ticktime: float = 60.0
    # kolla: rabbitmq_cluster_partition_handling "pause_minority".
    cluster_partition_handling: str = PAUSE_MINORITY
    # partitions.md: paused nodes "check once per second to see if the rest of the
    # cluster has reappeared"; stacklab takes a reappearing peer as seen that long after.
    rejoin_check: float = 1.0
    # oslo.messaging [oslo_messaging_rabbit] (OMSG impl_rabbit.py).
    heartbeat_timeout_threshold: float = 60.0
    rabbit_retry_interval: float = 1.0
    rabbit_retry_backoff: float = 2.0
    rabbit_interval_max: float = 30.0
    kombu_reconnect_delay: float = 1.0

    def __post_init__(self) -> None:
        if self.cluster_partition_handling not in PARTITION_HANDLINGS:
            raise ValueError(f"cluster_partition_handling must be one of "
                             f"{', '.join(PARTITION_HANDLINGS)}")

    def intervals(self) -> Iterator[float]:
        """kombu's sleeps between rounds of attempts: start, start + step, ... up to max."""
        interval = self.rabbit_retry_interval
        while True:
            yield min(interval, self.rabbit_interval_max)
            interval += self.rabbit_retry_backoff


def reconnect_schedule(options: RabbitOptions, hosts: int) -> Iterator[float]:
    """The waits before each reconnection attempt after an error (see the module's
    docstring): the first, then one after each failed attempt."""
    yield options.kombu_reconnect_delay
    intervals = options.intervals()
    retries = 0
    while True:
        completes_round = (retries + 1) % max(hosts, 1) == 0
        yield options.kombu_reconnect_delay + (next(intervals) if completes_round else 0.0)
        retries += 1


Pair = frozenset[str]


@dataclass(slots=True)
class RabbitNode:
    node: str
    running: bool = True
    paused: bool = False
    # Peers it saw go down while they were running (``ignore``: the seed of a partition).
    lost: set[str] = field(default_factory=set)
    partitions: set[str] = field(default_factory=set)

    @property
    def serving(self) -> bool:
        return self.running and not self.paused

    @property
    def state(self) -> str:
        return STOPPED if not self.running else PAUSED if self.paused else RUNNING


class RabbitCluster:
    """The cluster's nodes, who sees whom, and who pauses, on ``clock``.

    ``running(node)`` (its host powered, its broker process running) and
    ``reachable(a, b)`` read the lab as it is; ``refresh`` after every change of the lab;
    ``on_change`` hears of every node that stops, starts, pauses or resumes.
    """

    def __init__(self, clock: Clock, nodes: Sequence[str], *,
                 running: Callable[[str], bool], reachable: Callable[[str, str], bool],
                 options: RabbitOptions | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.options = options or RabbitOptions()
        self.running = running
        self.reachable = reachable
        self.on_change = on_change
        self.nodes = {node: RabbitNode(node, running=running(node)) for node in nodes}
        self._seen: set[Pair] = {pair for pair in self._pairs() if self._actual(pair)}
        self._pending: dict[Pair, tuple[bool, Timer]] = {}

    # -- what clients and status ask -----------------------------------------------------

    def serving(self, node: str) -> bool:
        found = self.nodes.get(node)
        return found is not None and found.serving

    def serving_nodes(self) -> list[str]:
        return [node for node, state in self.nodes.items() if state.serving]

    def sees(self, node: str) -> list[str]:
        """The cluster's running nodes as ``node`` knows them (itself first), as
        ``rabbitmqctl cluster_status`` lists them on it."""
        if not self.nodes[node].running:
            return []
        return [node] + [peer for peer in self.nodes
                         if peer != node and frozenset((node, peer)) in self._seen]

    def in_majority(self, node: str) -> bool:
        """More than half of all the cluster's nodes (itself included) in its view."""
        return 2 * len(self.sees(node)) > len(self.nodes)

    def status(self) -> dict[str, Any]:
        return {
            "cluster_partition_handling": self.options.cluster_partition_handling,
            "nodes": [{"node": state.node, "state": state.state,
                       "running_nodes": self.sees(state.node),
                       "partitions": sorted(state.partitions)}
                      for state in self.nodes.values()],
            "serving": self.serving_nodes(),
        }

    # -- the lab changed -----------------------------------------------------------------

    def refresh(self, stopped_cleanly: Collection[str] = ()) -> None:
        """Take in the lab as it is now. ``stopped_cleanly``: nodes whose broker was stopped
        on a live host: their peers hear of it at once."""
        changed = False
        for state in self.nodes.values():
            running = self.running(state.node)
            if running == state.running:
                continue
            changed = True
            state.running = running
            # Stopped, or started afresh (never paused at start-up): either way no pause
            # and no partition remembered.
            state.paused = False
            state.lost.clear()
            state.partitions.clear()
            daemon_log(LOG, state.node, "rabbitmq",
                       "Server startup complete" if running else "RabbitMQ is stopped",
                       level=logging.INFO if running else logging.WARNING)
        closed = set(stopped_cleanly)
        at_once: list[Pair] = []
        for pair in self._pairs():
            actual = self._actual(pair)
            pending = self._pending.get(pair)
            if actual == (pair in self._seen):
                if pending is not None:
                    pending[1].cancel()  # back before anyone noticed it had gone
                    del self._pending[pair]
                continue
            if pending is not None and pending[0] == actual:
                continue
            if pending is not None:
                pending[1].cancel()
            if not actual and pair & closed:
                self._pending.pop(pair, None)
                at_once.append(pair)  # its connections closed: the peer knows now
                continue
            delay = self.options.rejoin_check if actual else self.options.net_ticktime
            self._pending[pair] = (actual, self.clock.call_later(
                delay, functools.partial(self._observe, pair, actual)))
        if changed and self.on_change is not None:
            self.on_change()
        for pair in at_once:
            self._observe(pair, False)

    def _observe(self, pair: Pair, actual: bool) -> None:
        self._pending.pop(pair, None)
        changed = False
        a, b = sorted(pair)
        if actual:
            self._seen.add(pair)
            partitioned = (b in self.nodes[a].lost and a in self.nodes[b].lost
                           and self.nodes[a].serving and self.nodes[b].serving)
            for node, peer in ((a, b), (b, a)):
                state = self.nodes[node]
                if state.paused and self.in_majority(node):
                    state.paused = False
                    changed = True
                    daemon_log(LOG, node, "rabbitmq",
                               "rabbit on node rabbit@%s up; cluster minority status cleared, "
                               "starting", _short(peer))
                if partitioned:
                    # partitions.md: both having thought the other down, they meet again.
                    state.partitions.add(peer)
                    daemon_log(LOG, node, "rabbitmq",
                               "Mnesia(rabbit@%s): ** ERROR ** mnesia_event got "
                               "{inconsistent_database, running_partitioned_network, "
                               "rabbit@%s}", _short(node), _short(peer),
                               level=logging.ERROR)
                state.lost.discard(peer)
        else:
            self._seen.discard(pair)
            for node, peer in ((a, b), (b, a)):
                state = self.nodes[node]
                if not state.running:
                    continue
                daemon_log(LOG, node, "rabbitmq", "node rabbit@%s down: %s", _short(peer),
                           "connection_closed" if not self.nodes[peer].running
                           else "net_tick_timeout", level=logging.WARNING)
                if self.nodes[peer].running:
                    state.lost.add(peer)
                if (self.options.cluster_partition_handling == PAUSE_MINORITY
                        and not state.paused and not self.in_majority(node)):
                    state.paused = True
                    changed = True
                    daemon_log(LOG, node, "rabbitmq",
                               "Cluster minority/secondary status detected - awaiting "
                               "recovery", level=logging.WARNING)
        if changed and self.on_change is not None:
            self.on_change()

    def _pairs(self) -> list[Pair]:
        nodes = list(self.nodes)
        return [frozenset((a, b)) for i, a in enumerate(nodes) for b in nodes[i + 1:]]

    def _actual(self, pair: Pair) -> bool:
        a, b = sorted(pair)
        return self.nodes[a].running and self.nodes[b].running and self.reachable(a, b)


@dataclass(slots=True)
class Connection:
    """One node's processes' connection to the broker."""

    host: str
    broker: str | None = None  # the cluster node it is attached to
    cursor: int = 0  # the host of transport_url it tries next
    schedule: Iterator[float] | None = None
    attempt: Timer | None = None
    notice: Timer | None = None  # a silent broker, noticed after the heartbeat timeout
    attempts: list[tuple[float, str, bool]] = field(default_factory=list)

    @property
    def reconnecting(self) -> bool:
        return self.attempt is not None


class BrokerClients:
    """Each node's connection to the cluster, following it and the lab.

    ``hosts`` are the lab's nodes whose processes use the bus; ``host_up`` and
    ``reachable`` read the lab. ``connected(host)`` is what the bus asks: the host's
    connection works now (a host the lab does not know, or none, goes through while
    any broker serves). ``on_change`` hears of every connection made or lost.
    """

    def __init__(self, clock: Clock, cluster: RabbitCluster, hosts: Sequence[str], *,
                 host_up: Callable[[str], bool], reachable: Callable[[str, str], bool],
                 on_change: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.cluster = cluster
        self.options = cluster.options
        self.servers = list(cluster.nodes)  # transport_url's hosts, in order
        self.host_up = host_up
        self.reachable = reachable
        self.on_change = on_change
        self.connections = {host: Connection(host) for host in hosts}
        for connection in self.connections.values():
            if host_up(connection.host):
                self._connect_first(connection)

    # -- what the bus asks ---------------------------------------------------------------

    def connected(self, host: str | None) -> bool:
        connection = self.connections.get(host) if host is not None else None
        if connection is None:
            return bool(self.cluster.serving_nodes())
        return connection.broker is not None and self._works(connection.host,
                                                             connection.broker)

    def transit(self, host: str | None, there: Callable[[str, str], Send]) -> float | None:
        """Seconds one AMQP frame takes between ``host``'s processes and their broker over
        the link between them (``there(a, b)``: one packet from a to b), lost segments
        retransmitted as TCP does; 0 on the broker's own node. None: the frame stalled
        the connection past ``heartbeat_timeout_threshold`` (or TCP gave up on it), which is
        lost (it reconnects as after any error)."""
        connection = self.connections.get(host) if host is not None else None
        broker = connection.broker if connection is not None else None
        if connection is None or broker is None or broker == connection.host:
            return 0.0
        took = deliver(there(connection.host, broker), there(broker, connection.host))
        if took is None or took > self.options.heartbeat_timeout_threshold:
            # A segment stuck that long holds up the stream behind it, the broker's
            # heartbeats too: oslo's heartbeat check gives the connection up first (taken
            # here at once, not after its 60 s; TCP alone would take minutes).
            self._lost(connection, "Too many heartbeats missed")
            took = None
            if self.on_change is not None:
                self.on_change()
        return took

    def status(self) -> list[dict[str, Any]]:
        return [{"host": c.host, "broker": c.broker if self.connected(c.host) else None,
                 "reconnecting": c.reconnecting}
                for c in self.connections.values() if self.host_up(c.host)]

    # -- the lab or the cluster changed --------------------------------------------------

    def refresh(self) -> None:
        changed = False
        for connection in self.connections.values():
            changed |= self._follow(connection)
        if changed and self.on_change is not None:
            self.on_change()

    def _follow(self, connection: Connection) -> bool:
        """Take in the lab for one connection; whether its being connected changed."""
        host = connection.host
        if not self.host_up(host):
            if connection.broker is None and not connection.reconnecting \
                    and connection.notice is None:
                return False
            # Its processes died with the node: so did their connection.
            self._reset(connection)
            return True
        if connection.broker is None:
            if connection.reconnecting:
                return False
            # The node came back: its processes connect as they start.
            return self._connect_first(connection)
        broker = connection.broker
        if self._works(host, broker):
            if connection.notice is not None:
                connection.notice.cancel()  # it came back before the heartbeat check
                connection.notice = None
            return False
        if self.host_up(broker) and self.reachable(host, broker):
            # The broker itself closed the connection (paused, stopped): known at once.
            self._lost(connection, "Connection reset by peer" if self.cluster.nodes[broker]
                       .running else "[Errno 111] Connection refused")
            return True
        if connection.notice is None:
            connection.notice = self.clock.call_later(
                self.options.heartbeat_timeout_threshold,
                functools.partial(self._silent, connection))
        return False

    def _silent(self, connection: Connection) -> None:
        connection.notice = None
        if connection.broker is None or self._works(connection.host, connection.broker):
            return
        self._lost(connection, "Too many heartbeats missed")
        if self.on_change is not None:
            self.on_change()

    # -- connecting ----------------------------------------------------------------------

    def _works(self, host: str, broker: str) -> bool:
        return self.cluster.serving(broker) and (host == broker
                                                 or self.reachable(host, broker))

    def _connect_first(self, connection: Connection) -> bool:
        for index, server in enumerate(self.servers):
            if self._works(connection.host, server):
                connection.broker, connection.cursor = server, index
                return True
        connection.cursor = 0
        self._start_reconnecting(connection)
        return False

    def _lost(self, connection: Connection, error: str) -> None:
        broker = connection.broker
        assert broker is not None
        if connection.notice is not None:
            connection.notice.cancel()
            connection.notice = None
        connection.broker = None
        connection.cursor = self.servers.index(broker)
        self._start_reconnecting(connection, error)

    def _start_reconnecting(self, connection: Connection, error: str = "") -> None:
        connection.schedule = reconnect_schedule(self.options, len(self.servers))
        wait = next(connection.schedule)
        if error:
            self._log_failure(connection, self.servers[connection.cursor], error, wait)
        connection.attempt = self.clock.call_later(
            wait, functools.partial(self._attempt, connection))

    def _attempt(self, connection: Connection) -> None:
        connection.attempt = None
        server = self.servers[connection.cursor]
        ok = self.host_up(connection.host) and self._works(connection.host, server)
        connection.attempts.append((self.clock.now(), server, ok))
        if ok:
            connection.broker = server
            connection.schedule = None
            daemon_log(CLIENT_LOG, connection.host, "oslo.messaging",
                       "Reconnected to AMQP server on %s:%d via [amqp] client",
                       server, AMQP_PORT)
            if self.on_change is not None:
                self.on_change()
            return
        if not self.host_up(connection.host):
            return
        assert connection.schedule is not None
        wait = next(connection.schedule)
        error = "timed out" if not (self.host_up(server) and self.reachable(
            connection.host, server)) else "[Errno 111] Connection refused"
        self._log_failure(connection, server, error, wait)
        connection.cursor = (connection.cursor + 1) % len(self.servers)
        connection.attempt = self.clock.call_later(
            wait, functools.partial(self._attempt, connection))

    def _log_failure(self, connection: Connection, server: str, error: str,
                     wait: float) -> None:
        # OMSG impl_rabbit.py's words, which operators grep for.
        daemon_log(CLIENT_LOG, connection.host, "oslo.messaging",
                   "AMQP server on %s:%d is unreachable: %s. Trying again in %d seconds.",
                   server, AMQP_PORT, error, wait, level=logging.ERROR)

    def _reset(self, connection: Connection) -> None:
        for timer in (connection.attempt, connection.notice):
            if timer is not None:
                timer.cancel()
        connection.attempt = connection.notice = None
        connection.broker = None
        connection.schedule = None


def _short(fqdn: str) -> str:
    return fqdn.split(".", 1)[0]
