"""RabbitMQ in virtual time: nodes down after net_ticktime, pause_minority (both halves of
a two-node cluster pause, on a split and on a node's loss), ignore's partitions, and the
clients' reconnection with oslo.messaging's backoff over the transport_url's hosts."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from stacklab.clock import VirtualClock
from stacklab.ha.rabbitmq import (
    IGNORE,
    PAUSED,
    RUNNING,
    STOPPED,
    BrokerClients,
    RabbitCluster,
    RabbitOptions,
    reconnect_schedule,
)

C1, C2, C3 = "controller1", "controller2", "controller3"
COMPUTE = "compute1"


class Lab:
    def __init__(self, nodes: tuple[str, ...] = (C1, C2),
                 options: RabbitOptions | None = None) -> None:
        self.clock = VirtualClock(start=0.0)
        self.down: set[str] = set()
        self.stopped: set[str] = set()
        self.cut: set[frozenset[str]] = set()
        self.changes = 0
        self.cluster = RabbitCluster(
            self.clock, list(nodes), running=self.running, reachable=self.reachable,
            options=options, on_change=self.changed)
        self.clients = BrokerClients(self.clock, self.cluster, [*nodes, COMPUTE],
                                     host_up=lambda host: host not in self.down,
                                     reachable=self.reachable, on_change=self.connections)
        self.connection_changes = 0

    def running(self, node: str) -> bool:
        return node not in self.down and node not in self.stopped

    def reachable(self, a: str, b: str) -> bool:
        return (a not in self.down and b not in self.down
                and frozenset((a, b)) not in self.cut)

    def changed(self) -> None:
        self.changes += 1
        self.clients.refresh()

    def connections(self) -> None:
        self.connection_changes += 1

    def refresh(self, stopped_cleanly: tuple[str, ...] = ()) -> None:
        self.cluster.refresh(stopped_cleanly)
        self.clients.refresh()

    def power_off(self, node: str) -> None:
        self.down.add(node)
        self.refresh()

    def power_on(self, node: str) -> None:
        self.down.discard(node)
        self.refresh()

    def stop(self, node: str) -> None:
        self.stopped.add(node)
        self.refresh((node,))

    def partition(self, left: set[str], right: set[str]) -> None:
        self.cut |= {frozenset((a, b)) for a in left for b in right}
        self.refresh()

    def heal(self) -> None:
        self.cut.clear()
        self.refresh()

    def states(self) -> dict[str, str]:
        return {node: state.state for node, state in self.cluster.nodes.items()}


def test_a_split_of_two_nodes_pauses_both_after_net_ticktime_and_heals() -> None:
    lab = Lab()
    lab.partition({C1}, {C2})
    lab.clock.advance(59.9)
    assert lab.states() == {C1: RUNNING, C2: RUNNING}
    lab.clock.advance(0.1)
    # partitions.md: a node pauses when it sees "fewer or equal than half" of the nodes.
    assert lab.states() == {C1: PAUSED, C2: PAUSED}
    assert lab.cluster.serving_nodes() == []
    assert lab.cluster.sees(C1) == [C1]
    lab.heal()
    lab.clock.advance(1.0)  # the paused nodes' once-a-second check
    assert lab.states() == {C1: RUNNING, C2: RUNNING}
    assert lab.cluster.sees(C2) == [C2, C1]
    # Paused nodes restart: no partition is left to report.
    assert all(not n["partitions"] for n in lab.cluster.status()["nodes"])


def test_losing_one_of_two_nodes_pauses_the_survivor_until_the_peer_returns() -> None:
    lab = Lab()
    lab.power_off(C1)
    assert lab.states() == {C1: STOPPED, C2: RUNNING}
    lab.clock.advance(60.0)
    assert lab.states() == {C1: STOPPED, C2: PAUSED}
    lab.power_on(C1)
    # A node never pauses at start-up, even alone; the paused one sees it within 1 s.
    assert lab.states() == {C1: RUNNING, C2: PAUSED}
    lab.clock.advance(1.0)
    assert lab.states() == {C1: RUNNING, C2: RUNNING}


def test_a_broker_stopped_cleanly_is_down_for_its_peer_at_once() -> None:
    lab = Lab()
    lab.stop(C2)
    lab.clock.advance(0.0)
    assert lab.states() == {C1: PAUSED, C2: STOPPED}


def test_three_nodes_pause_only_the_minority() -> None:
    lab = Lab((C1, C2, C3))
    lab.partition({C1}, {C2, C3})
    lab.clock.advance(60.0)
    assert lab.states() == {C1: PAUSED, C2: RUNNING, C3: RUNNING}
    lab.power_off(C3)
    lab.clock.advance(60.0)
    assert lab.states() == {C1: PAUSED, C2: PAUSED, C3: STOPPED}


def test_ignore_keeps_both_sides_running_and_records_the_partition() -> None:
    lab = Lab(options=RabbitOptions(cluster_partition_handling=IGNORE))
    lab.partition({C1}, {C2})
    lab.clock.advance(60.0)
    assert lab.states() == {C1: RUNNING, C2: RUNNING}
    lab.heal()
    lab.clock.advance(1.0)
    nodes = {n["node"]: n for n in lab.cluster.status()["nodes"]}
    assert nodes[C1]["partitions"] == [C2] and nodes[C2]["partitions"] == [C1]


def test_bad_partition_handling_is_refused() -> None:
    with pytest.raises(ValueError, match="cluster_partition_handling"):
        RabbitOptions(cluster_partition_handling="autoheal-ish")


def test_the_reconnect_schedule_is_oslo_s_backoff_over_two_hosts() -> None:
    waits = list(itertools.islice(reconnect_schedule(RabbitOptions(), 2), 8))
    # kombu_reconnect_delay before each attempt; kombu's interval (1, 3, 5 ...) once every
    # host of a round has failed.
    assert waits == [1.0, 1.0, 2.0, 1.0, 4.0, 1.0, 6.0, 1.0]
    long = list(itertools.islice(reconnect_schedule(RabbitOptions(), 1), 20))
    assert max(long) == 31.0  # rabbit_interval_max (30) + kombu_reconnect_delay


def test_clients_reconnect_with_the_backoff_once_the_broker_returns() -> None:
    lab = Lab()
    assert lab.clients.connected(COMPUTE)
    assert lab.clients.connections[COMPUTE].broker == C1
    lab.power_off(C1)
    # A silent broker: the compute keeps its dead connection until the heartbeat check.
    assert not lab.clients.connected(COMPUTE)
    assert not lab.clients.connections[COMPUTE].reconnecting
    lab.clock.advance(60.0)
    # Meanwhile controller2 lost its peer and paused, closing its own clients too.
    assert lab.states()[C2] == PAUSED
    connection = lab.clients.connections[COMPUTE]
    assert connection.reconnecting
    lab.clock.advance(30.0)
    lab.power_on(C1)
    lab.clock.advance(200.0)
    assert lab.clients.connected(COMPUTE)
    times = [round(t - 60.0, 6) for t, _, _ in connection.attempts]
    # Attempts 1, 2, 4, 5, 9, 10, 16, 17, 25, 26, 36 s after the error, alternating hosts
    # from the one that failed; the first that finds a serving broker connects.
    assert times[:11] == [1.0, 2.0, 4.0, 5.0, 9.0, 10.0, 16.0, 17.0, 25.0, 26.0, 36.0]
    assert [host for _, host, _ in connection.attempts[:4]] == [C1, C2, C1, C2]
    assert all(not ok for _, _, ok in connection.attempts[:-1])
    assert connection.attempts[-1][2]
    assert connection.attempts[-1][0] - 60.0 == 36.0


def test_a_paused_broker_closes_its_clients_at_once() -> None:
    lab = Lab((C1, C2, C3))
    lab.partition({C1}, {C2, C3, COMPUTE})
    lab.clock.advance(60.0)
    assert lab.states()[C1] == PAUSED
    # controller1's own processes, on their paused local broker, were closed at once and
    # reach no other; the compute, whose broker controller1 was, noticed the silence at the
    # heartbeat check (60 s too) and finds controller2 at its second attempt.
    connection = lab.clients.connections[C1]
    assert connection.reconnecting and not lab.clients.connected(C1)
    assert not lab.clients.connected(COMPUTE)
    lab.clock.advance(1.0)
    assert not lab.clients.connected(COMPUTE)
    lab.clock.advance(1.0)
    assert lab.clients.connections[COMPUTE].broker == C2
    assert lab.clients.connected(COMPUTE)


def test_a_powered_off_host_s_connection_starts_afresh() -> None:
    lab = Lab()
    lab.power_off(COMPUTE)
    assert not lab.clients.connected(COMPUTE)
    lab.power_on(COMPUTE)
    assert lab.clients.connected(COMPUTE)
    assert lab.clients.connected(None) and lab.clients.connected("localhost")


def test_a_frame_pays_the_link_to_the_client_s_broker_and_its_loss_can_kill_the_connection(
) -> None:
    lab = Lab()
    sent: list[tuple[str, str]] = []

    def there(a: str, b: str) -> Callable[[], float | None]:
        def packet() -> float | None:
            sent.append((a, b))
            return None if (a, b) in lossy else 0.05
        return packet

    lossy: set[tuple[str, str]] = set()
    assert lab.clients.transit(C1, there) == 0.0  # on the broker's own node: no link
    assert lab.clients.transit(None, there) == 0.0
    assert lab.clients.transit(COMPUTE, there) == pytest.approx(0.05)
    assert sent == [(COMPUTE, C1), (C1, COMPUTE)]  # the segment and its ACK
    lossy.add((COMPUTE, C1))
    changes = lab.connection_changes
    assert lab.clients.transit(COMPUTE, there) is None
    # TCP gave the connection up: it is lost, and reconnects with oslo's backoff.
    connection = lab.clients.connections[COMPUTE]
    assert not lab.clients.connected(COMPUTE) and connection.reconnecting
    assert lab.connection_changes == changes + 1
    lab.clock.advance(1.0)
    assert lab.clients.connected(COMPUTE)
    # Through, but after retransmissions longer than the heartbeat timeout: the broker's
    # heartbeats stalled behind it, the client gave the connection up.
    lost = iter([None] * 9 + [0.05])
    lossy.clear()

    def late(a: str, b: str) -> Callable[[], float | None]:
        return (lambda: next(lost)) if a == COMPUTE else (lambda: 0.05)

    assert lab.clients.transit(COMPUTE, late) is None  # sent at 102.2 s
    assert not lab.clients.connected(COMPUTE)
