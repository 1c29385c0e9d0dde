"""Pacemaker/Corosync in virtual time (ha-semantics §8): membership after token +
consensus, votequorum two_node/wait_for_all, fencing before recovery, monitors with
restart then move after migration-threshold, and no split brain in a two-node cut."""

from __future__ import annotations

import pytest

from stacklab.clock import VirtualClock
from stacklab.ha.pacemaker import (
    INFINITY,
    LAB_PRIORITY_FENCING_DELAY,
    ClusterOptions,
    CorosyncOptions,
    NodeState,
    PacemakerCluster,
    ResourceState,
    Systemd,
    add_active_passive,
    add_api_vips,
    lab_options,
)

P1, P2 = "proxy1", "proxy2"
VIPS = [("public", "192.168.100.100"), ("internal", "10.10.10.100")]
OFF_TIME = ON_TIME = 1.0  # the modelled fence device's
SYSTEMD_TIME = 1.0  # Systemd's default start_time/stop_time


class Lab:
    """Nodes with power, a network that can be cut, one process per node, a fence device."""

    def __init__(self, nodes: tuple[str, ...] = (P1, P2), *,
                 options: ClusterOptions | None = None, process: str = "haproxy") -> None:
        self.clock = VirtualClock(start=0.0)
        self.nodes = nodes
        self.down: set[str] = set()
        self.cut: set[frozenset[str]] = set()
        self.stopped: set[str] = set()  # process stopped by a fault
        self.started: set[str] = set()  # process started by the cluster
        self.fence_works = True
        self.name = "fence-lab"
        self.off_time, self.on_time = OFF_TIME, ON_TIME
        self.process = process
        self.cluster = PacemakerCluster(
            self.clock, nodes, up=lambda n: n not in self.down,
            reachable=lambda a, b: frozenset((a, b)) not in self.cut,
            fence_device=self, options=options or lab_options(len(nodes)))

    # FenceDevice
    def works(self, fencer: str, target: str) -> bool:
        return self.fence_works

    def off(self, target: str) -> None:
        self.down.add(target)

    def on(self, target: str) -> None:
        self.down.discard(target)

    # ProcessControl
    def running(self, node: str) -> bool:
        return node not in self.down and node not in self.stopped and node in self.started

    def start(self, node: str) -> bool:
        self.stopped.discard(node)  # systemctl start
        self.started.add(node)
        return True

    def stop(self, node: str) -> None:
        self.started.discard(node)

    # faults
    def power_off(self, node: str) -> None:
        self.down.add(node)
        self.cluster.refresh()

    def partition(self, a: str, b: str) -> None:
        self.cut.add(frozenset((a, b)))
        self.cluster.refresh()

    def heal(self) -> None:
        self.cut.clear()
        self.cluster.refresh()

    def boot(self) -> None:
        self.cluster.start()
        self.clock.advance(10.0)


def api_lab(**kwargs: object) -> Lab:
    lab = Lab(**kwargs)  # type: ignore[arg-type]
    add_api_vips(lab.cluster, VIPS, lab)
    lab.boot()
    return lab


def test_corosync_s_timers_and_votequorum() -> None:
    options = CorosyncOptions()
    assert options.token_timeout(2) == 3.0
    assert options.token_timeout(3) == pytest.approx(3.65)  # + 650 ms per node beyond 2
    assert options.consensus_timeout(2) == pytest.approx(3.6)  # 1.2 x token
    assert options.loss_detection(2) == pytest.approx(6.6)
    assert options.quorum(3) == 2 and options.quorum(2) == 2 and options.quorum(5) == 3
    two = CorosyncOptions(two_node=True)
    assert two.quorum(2) == 1 and two.waits_for_all


def test_the_cluster_forms_and_the_first_node_runs_the_vips_with_haproxy() -> None:
    lab = api_lab()
    cluster = lab.cluster
    assert cluster.dc() == P1
    assert cluster.holder("vips") == P1
    assert cluster.active_nodes("lb-haproxy-clone") == [P1]  # colocated with the VIPs
    status = cluster.status()
    assert status["quorum"]["quorate"] and status["quorum"]["quorum"] == 1
    assert [n["state"] for n in status["nodes"]] == ["online", "online"]
    rows = {(r["resource"], r["node"]): r["state"] for r in status["resources"]}
    assert rows == {("vip-public", P1): "Started", ("vip-internal", P1): "Started",
                    ("lb-haproxy", P1): "Started"}
    assert list(cluster.problems()) == []


def test_holder_power_off_token_consensus_fencing_then_the_vips_on_the_survivor() -> None:
    lab = api_lab()
    cluster = lab.cluster
    t0 = lab.clock.now()
    lab.power_off(P1)
    assert cluster.holder("vips") is None and cluster.recovery_pending()
    detect = CorosyncOptions(two_node=True).loss_detection(2)
    # The formula: token + consensus, then the priority fencing delay (the lost node ran
    # the VIPs, the survivor has no majority), the device's off and on, then the start.
    vips_at = t0 + detect + LAB_PRIORITY_FENCING_DELAY + OFF_TIME + ON_TIME
    lab.clock.advance(detect - 0.01)
    assert cluster.node_state(P1) is not NodeState.UNCLEAN  # the token is not lost yet
    lab.clock.advance(0.02)
    membership = cluster.first("membership", after=t0)
    assert membership is not None and membership.at == pytest.approx(t0 + detect)
    assert cluster.node_state(P1) is NodeState.UNCLEAN and cluster.dc() == P2
    assert cluster.holder("vips") is None  # requires=fencing: not before P1 is fenced
    lab.clock.advance(vips_at - lab.clock.now() - 0.01)
    assert cluster.holder("vips") is None
    lab.clock.advance(0.02)
    assert cluster.holder("vips") == P2
    fenced = cluster.first("fenced", after=t0)
    assert fenced is not None and fenced.at == pytest.approx(vips_at)
    started = cluster.first("started", "vip-public", after=t0)
    assert started is not None and started.at == pytest.approx(vips_at)
    lab.clock.advance(SYSTEMD_TIME)
    assert cluster.active_nodes("lb-haproxy-clone") == [P2]
    # The reboot powered P1 back on: it rejoins, and the VIPs stay (stickiness).
    lab.clock.advance(30.0)
    assert P1 not in lab.down and cluster.node_state(P1) is NodeState.ONLINE
    assert cluster.holder("vips") == P2


def test_haproxy_stopped_on_the_holder_restarts_in_place_then_moves_with_the_vips() -> None:
    lab = api_lab()
    cluster = lab.cluster
    for failure in (1, 2):
        t0 = lab.clock.now()
        lab.stopped.add(P1)  # systemctl stop haproxy behind the cluster's back
        lab.clock.advance(1.0)  # op monitor interval=1s
        failed = cluster.first("monitor_failed", after=t0)
        assert failed is not None and failed.at - t0 <= 1.0
        assert cluster.failcount[("lb-haproxy", P1)] == failure
        lab.clock.advance(2 * SYSTEMD_TIME)  # stop, then start in place
        restarted = cluster.first("started", "lb-haproxy", after=t0)
        assert restarted is not None and restarted.at == pytest.approx(
            failed.at + 2 * SYSTEMD_TIME)
        assert lab.running(P1) and cluster.holder("vips") == P1
        assert list(cluster.problems()) == []  # below the threshold: history only
    t0 = lab.clock.now()
    lab.stopped.add(P1)
    lab.clock.advance(1.0)
    assert cluster.failcount[("lb-haproxy", P1)] == 3  # migration-threshold reached
    # stop haproxy, stop both VIPs (instant), start them on P2, then haproxy there.
    lab.clock.advance(3 * SYSTEMD_TIME)
    assert cluster.holder("vips") == P2
    assert cluster.active_nodes("lb-haproxy-clone") == [P2]
    assert any("lb-haproxy may not run on proxy1 any more: it failed 3 times" in p
               for p in cluster.problems())


def test_a_cut_between_two_nodes_one_side_wins_the_fencing_race_no_split_brain() -> None:
    lab = api_lab()
    cluster = lab.cluster
    t0 = lab.clock.now()
    lab.partition(P1, P2)
    holders = set()
    for _ in range(300):  # 30 s in steps of 0.1 s
        lab.clock.advance(0.1)
        active = cluster.active_nodes("vips")
        assert len(active) <= 1, active
        holders.update(active)
    assert holders == {P1}
    # P1 (the holder) fenced P2 at once; P2's request waited the priority delay and died
    # with it. P2 rebooted into the cut: wait_for_all keeps it without quorum.
    detect = CorosyncOptions(two_node=True).loss_detection(2)
    off = cluster.first("fence_off", after=t0)
    assert off is not None and off.detail == P2 and off.at == pytest.approx(
        t0 + detect + OFF_TIME)
    assert cluster.first("fence_off", P1, after=t0) is None
    assert not cluster.quorate(P2) and cluster.quorate(P1)
    assert cluster.node_state(P2) is NodeState.OFFLINE
    lab.heal()
    lab.clock.advance(1.0)
    assert cluster.node_state(P2) is NodeState.ONLINE and cluster.quorate(P2)
    assert cluster.holder("vips") == P1


def test_without_a_fencing_delay_both_nodes_shoot_each_other() -> None:
    lab = api_lab(options=ClusterOptions(priority_fencing_delay=0.0))
    t0 = lab.clock.now()
    lab.partition(P1, P2)
    for _ in range(300):
        lab.clock.advance(0.1)
        assert len(lab.cluster.active_nodes("vips")) <= 1
    offs = {e.detail for e in lab.cluster.events if e.kind == "fence_off" and e.at > t0}
    assert offs == {P1, P2}  # fence death: both commands were on their way
    assert lab.cluster.holder("vips") is None
    assert not lab.cluster.quorate(P1) and not lab.cluster.quorate(P2)  # wait_for_all
    lab.heal()
    lab.clock.advance(5.0)
    assert lab.cluster.holder("vips") is not None


def test_a_fence_device_that_fails_blocks_recovery() -> None:
    lab = api_lab()
    cluster = lab.cluster
    lab.fence_works = False
    lab.power_off(P1)
    lab.clock.advance(20 * 60.0)  # ten attempts, each failing at fencing-timeout (60 s)
    assert cluster.holder("vips") is None
    assert cluster.node_state(P1) is NodeState.UNCLEAN
    failures = [e for e in cluster.events if e.kind == "fence_failed"]
    assert len(failures) == 10
    assert failures[1].at - failures[0].at == pytest.approx(60.0)
    assert any("fencing of proxy1 failed 10 times" in p for p in cluster.problems())
    assert not cluster.recovery_pending()


def test_an_active_passive_service_on_three_controllers_loses_quorum_with_two_nodes() -> None:
    nodes = ("controller1", "controller2", "controller3")
    lab = Lab(nodes, options=ClusterOptions(resource_stickiness=100))
    add_active_passive(lab.cluster, "cinder-volume", Systemd("cinder-volume", lab))
    lab.boot()
    cluster = lab.cluster
    assert cluster.holder("cinder-volume") == "controller1"
    t0 = lab.clock.now()
    lab.power_off("controller1")
    detect = CorosyncOptions().loss_detection(3)  # 3.65 + 4.38 s
    lab.clock.advance(30.0)
    started = cluster.first("started", "cinder-volume", after=t0)
    # A majority: no priority delay; fenced (off, on), then systemd's start.
    assert started is not None and started.at == pytest.approx(
        t0 + detect + OFF_TIME + ON_TIME + SYSTEMD_TIME)
    holder = cluster.holder("cinder-volume")
    assert holder == "controller2"
    # controller2 cut off alone: no quorum, it stops its copy (no-quorum-policy stop); the
    # majority fences it, then starts the service on one of its own.
    t1 = lab.clock.now()
    lab.cut |= {frozenset(("controller2", "controller1")),
                frozenset(("controller2", "controller3"))}
    lab.cluster.refresh()
    lab.clock.advance(detect + 0.01)
    assert not cluster.quorate("controller2") and cluster.quorate("controller3")
    stopping = cluster.first("stop", "cinder-volume", after=t1)
    assert stopping is not None and stopping.node == "controller2"
    assert cluster.first("fence_request", after=t1) is not None
    lab.clock.advance(30.0)
    fenced = cluster.first("fenced", after=t1)
    assert fenced is not None and fenced.detail == "controller2"
    assert cluster.holder("cinder-volume") in ("controller1", "controller3")
    assert cluster.state[("cinder-volume", "controller2")] is ResourceState.STOPPED


def test_a_failed_start_bans_the_node() -> None:
    lab = Lab()

    class Broken(Systemd):
        def start(self, node: str) -> bool:
            return node != P1 and super().start(node)

    add_active_passive(lab.cluster, "svc", Broken("svc", lab))
    lab.boot()
    assert lab.cluster.failcount[("svc", P1)] == INFINITY  # start-failure-is-fatal
    assert lab.cluster.holder("svc") == P2


def test_every_loss_of_the_holder_is_fenced_again_not_only_the_first() -> None:
    lab = api_lab()
    cluster = lab.cluster
    detect = CorosyncOptions(two_node=True).loss_detection(2)
    move = detect + LAB_PRIORITY_FENCING_DELAY + OFF_TIME + ON_TIME
    for expected in (P2, P1, P2):
        t0 = lab.clock.now()
        lab.power_off(cluster.holder("vips") or "")
        lab.clock.advance(move - 0.01)
        assert cluster.holder("vips") is None  # not before this loss is fenced
        lab.clock.advance(30.0)
        assert cluster.holder("vips") == expected
        started = cluster.first("started", "vip-public", after=t0)
        assert started is not None and started.at == pytest.approx(t0 + move)


def test_after_both_nodes_died_one_alone_waits_for_all_before_it_runs_anything() -> None:
    lab = api_lab()
    cluster = lab.cluster
    lab.down |= {P1, P2}
    cluster.refresh()
    lab.clock.advance(10.0)
    lab.down.discard(P2)
    cluster.refresh()
    lab.clock.advance(120.0)
    # two_node implies wait_for_all: without having seen proxy1 since it started, proxy2
    # has no quorum, fences nobody and starts nothing.
    assert not cluster.quorate(P2) and cluster.holder("vips") is None
    assert cluster.first("fence_request", after=10.0) is None
    lab.down.discard(P1)
    cluster.refresh()
    lab.clock.advance(CorosyncOptions().join + 0.01)
    assert cluster.quorate(P1) and cluster.quorate(P2)
    assert cluster.holder("vips") == P1


def test_standby_moves_the_vips_and_cleanup_lifts_a_ban() -> None:
    lab = api_lab()
    cluster = lab.cluster
    cluster.standby(P1)
    lab.clock.advance(5.0)
    assert cluster.holder("vips") == P2 and cluster.node_state(P1) is NodeState.STANDBY
    cluster.standby(P1, on=False)
    lab.clock.advance(5.0)
    assert cluster.holder("vips") == P2  # stickiness: no move back
    for _ in range(3):
        lab.stopped.add(P2)
        lab.clock.advance(5.0)
    assert cluster.holder("vips") == P1  # banned from proxy2 after three failures
    assert any("may not run on proxy2" in p for p in cluster.problems())
    cluster.cleanup("lb-haproxy")
    assert cluster.failcount == {} and list(cluster.problems()) == []
