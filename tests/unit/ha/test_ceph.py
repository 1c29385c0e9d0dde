"""The lab's Ceph cluster in virtual time: mark-down after the heartbeat grace, degraded
I/O with min_size 1, inactive PGs with min_size 2, no quorum, recovery on return, the
PG left down when the only up-to-date copy is lost, and the RADOS client's timeout."""

from __future__ import annotations

import asyncio

import pytest

from stacklab.clock import VirtualClock
from stacklab.ha.ceph import (
    GIB,
    HEALTH_ERR,
    HEALTH_OK,
    HEALTH_WARN,
    UNREACHABLE,
    CephCluster,
    CephOptions,
    RadosClient,
    RadosError,
    lab_mons,
)

S1, S2, ARB = "storage1", "storage2", "arbiter"


class Lab:
    def __init__(self, options: CephOptions | None = None) -> None:
        self.clock = VirtualClock(start=0.0)
        self.off: set[str] = set()
        self.stopped: set[str] = set()
        self.changes = 0
        self.cluster = CephCluster(
            self.clock, [(S1, 100 * GIB), (S2, 100 * GIB)], lab_mons([S1, S2], [ARB]),
            osd_running=lambda host: host not in self.stopped,
            host_up=lambda host: host not in self.off,
            reachable=lambda a, b: a not in self.off and b not in self.off,
            options=options or CephOptions(mon_osd_min_down_reporters=1),
            on_change=self.changed)

    def changed(self) -> None:
        self.changes += 1

    def power_off(self, *hosts: str) -> None:
        self.off.update(hosts)
        self.cluster.refresh()

    def power_on(self, *hosts: str) -> None:
        self.off.difference_update(hosts)
        self.cluster.refresh()

    def osd(self, host: str) -> dict[str, object]:
        return next(o for o in self.cluster.status()["osds"] if o["host"] == host)


def test_a_healthy_cluster_keeps_two_copies_and_serves() -> None:
    lab = Lab()
    lab.cluster.write("volumes", "volume-1", b"data")
    status = lab.cluster.status()
    assert status["health"] == HEALTH_OK
    assert status["pgs"] == {"active+clean": 4 * 32}
    assert [m["host"] for m in status["mons"]] == [S1, S2, ARB]
    assert lab.cluster.read("volumes", "volume-1") == b"data"
    assert status["degraded_objects"] == 0 and status["object_copies"] == 2
    # min_size 0 means Ceph's rule: size - size/2.
    assert [p["min_size"] for p in status["pools"]] == [1, 1, 1, 1]


def test_a_lost_storage_node_is_marked_down_after_the_grace_then_io_goes_on_degraded() -> None:
    lab = Lab()
    lab.cluster.write("volumes", "volume-1", b"data")
    lab.power_off(S1)
    lab.clock.advance(19.0)
    # Not yet marked down: the PGs it serves block (slow ops), the health says so.
    assert lab.osd(S1)["up"] is True
    assert lab.cluster.blocked("volumes", "volume-1", write=True) is not None
    assert "SLOW_OPS" in lab.cluster.health()[1]
    lab.clock.advance(1.0)
    status = lab.cluster.status()
    assert lab.osd(S1)["up"] is False and status["num_up_osds"] == 1
    assert status["health"] == HEALTH_WARN
    assert {"MON_DOWN", "OSD_DOWN", "OSD_HOST_DOWN", "PG_DEGRADED"} <= set(status["checks"])
    assert status["pgs"] == {"active+undersized+degraded": 128}
    assert "1/2 objects degraded" in status["checks"]["PG_DEGRADED"]
    lab.cluster.write("volumes", "volume-2", b"more")
    assert lab.cluster.read("volumes", "volume-2") == b"more"


def test_two_reporters_by_default_leave_a_two_host_cluster_waiting_for_the_report_timeout(
) -> None:
    lab = Lab(CephOptions())
    lab.power_off(S2)
    lab.clock.advance(60.0)
    assert lab.osd(S2)["up"] is True  # one reporter only: not enough
    lab.clock.advance(900.0 - 60.0)
    assert lab.osd(S2)["up"] is False


def test_a_stopped_osd_process_is_down_at_once_and_out_after_the_interval() -> None:
    lab = Lab()
    lab.stopped.add(S2)
    lab.cluster.refresh()
    assert lab.osd(S2)["up"] is False and lab.osd(S2)["in"] is True
    lab.clock.advance(600.0)
    assert lab.osd(S2)["in"] is False
    lab.stopped.discard(S2)
    lab.cluster.refresh()
    assert lab.osd(S2)["up"] is True and lab.osd(S2)["in"] is True


def test_min_size_2_makes_the_pgs_inactive_with_one_copy() -> None:
    lab = Lab(CephOptions(mon_osd_min_down_reporters=1, osd_pool_default_min_size=2))
    lab.cluster.write("volumes", "volume-1", b"data")
    lab.power_off(S1)
    lab.clock.advance(20.0)
    status = lab.cluster.status()
    assert status["pgs"] == {"undersized+degraded+peered": 128}
    assert "PG_AVAILABILITY" in status["checks"]
    with pytest.raises(RadosError, match="undersized"):
        lab.cluster.write("volumes", "volume-2", b"x")


def test_both_storage_nodes_lost_leave_no_quorum_and_no_io() -> None:
    lab = Lab()
    lab.cluster.write("images", "image-1", b"img")
    lab.power_off(S1, S2)
    health, checks = lab.cluster.health()
    assert health == UNREACHABLE and "MON_QUORUM" in checks
    with pytest.raises(RadosError, match="no monitor quorum"):
        lab.cluster.read("images", "image-1")
    lab.power_on(S1, S2)
    assert lab.cluster.read("images", "image-1") == b"img"
    assert lab.cluster.health()[0] == HEALTH_OK


def test_a_returning_node_recovers_what_it_missed() -> None:
    lab = Lab()
    lab.power_off(S1)
    lab.clock.advance(20.0)
    lab.cluster.write("volumes", "volume-1", b"x" * (200 * 1024 * 1024))
    lab.power_on(S1)
    status = lab.cluster.status()
    assert lab.osd(S1)["up"] is True and status["recovering"] is True
    assert status["health"] == HEALTH_WARN and status["degraded_objects"] == 1
    assert any("recovering" in state for state in status["pgs"])
    # One second of peering, then 200 MiB at 100 MiB/s.
    lab.clock.advance(2.9)
    assert lab.cluster.status()["degraded_objects"] == 1
    lab.clock.advance(0.1)
    status = lab.cluster.status()
    assert status["health"] == HEALTH_OK and status["pgs"] == {"active+clean": 128}


def test_min_size_1_risk_the_only_fresh_copy_lost_leaves_its_pg_down() -> None:
    lab = Lab()
    lab.power_off(S1)
    lab.clock.advance(20.0)
    lab.cluster.write("volumes", "volume-1", b"only on storage2")
    lab.power_off(S2)
    lab.power_on(S1)  # storage1 and the arbiter: a quorum again, but storage1 is stale
    lab.clock.advance(20.0)
    health, checks = lab.cluster.health()
    assert health == HEALTH_ERR and "down" in checks["PG_AVAILABILITY"]
    with pytest.raises(RadosError, match="down"):
        lab.cluster.read("volumes", "volume-1")
    lab.power_on(S2)
    lab.clock.advance(5.0)
    assert lab.cluster.read("volumes", "volume-1") == b"only on storage2"
    assert lab.cluster.health()[0] == HEALTH_OK


def test_capacity_is_the_fullest_osd_over_the_pool_size() -> None:
    lab = Lab()
    assert lab.cluster.max_avail("volumes") == 100 * GIB
    lab.cluster.write("volumes", "volume-1", b"x" * GIB)
    assert lab.cluster.max_avail("volumes") == 99 * GIB


def test_the_client_waits_for_the_mark_down_within_its_timeout_and_fails_after_it() -> None:
    lab = Lab()
    lab.power_off(S1)
    patient = RadosClient(lambda: lab.cluster, "volumes", clock=lab.clock, sync=lambda: None,
                          timeout=30)
    hasty = RadosClient(lambda: lab.cluster, "volumes", clock=lab.clock, sync=lambda: None,
                        timeout=5)

    async def scenario() -> tuple[str, float]:
        try:
            await hasty.ready("volume-1", write=True)
        except RadosError as error:
            failed = (str(error), lab.clock.now())
        await patient.ready("volume-1", write=True)
        return failed[0], lab.clock.now()

    async def drive() -> tuple[str, float]:
        task = asyncio.ensure_future(scenario())
        await lab.clock.run_for(60.0)
        return await task

    reason, done = asyncio.run(drive())
    assert "slow ops" in reason or "no monitor quorum" not in reason
    assert 20.0 <= done <= 21.0
