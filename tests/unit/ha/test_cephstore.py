"""The Ceph cluster's objects in the store (ha.cephstore): two processes' models of the
one cluster (two CephCluster over two connections to one database) see each other's
writes, the same degraded objects and ``ceph df``, and both recover what an OSD missed,
the second recovery changing nothing; a write inside a caller's transaction is part of
it. The same on MariaDB and PostgreSQL: tests/engines/test_ceph_objects.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import stacklab.models  # noqa: F401  (every table)
from stacklab.clock import VirtualClock
from stacklab.ha.ceph import GIB, HEALTH_OK, HEALTH_WARN, CephCluster, CephOptions, lab_mons
from stacklab.ha.cephstore import StoreObjects
from stacklab.ha.models import CephMissing, CephObject
from stacklab.store.base import PIECE
from stacklab.store.database import Database

S1, S2, ARB = "storage1", "storage2", "arbiter"


class Lab:
    """The lab's faults (one set, as every process applies the same) and a model of the
    cluster per process, each on its own connection to the store."""

    def __init__(self, url: str, processes: int = 2) -> None:
        self.clock = VirtualClock(start=0.0)
        self.off: set[str] = set()
        self.dbs = [Database(url) for _ in range(processes)]
        self.clusters = [self._cluster(db) for db in self.dbs]

    def _cluster(self, db: Database) -> CephCluster:
        cluster = CephCluster(
            self.clock, [(S1, 100 * GIB), (S2, 100 * GIB)], lab_mons([S1, S2], [ARB]),
            osd_running=lambda host: True, host_up=lambda host: host not in self.off,
            reachable=lambda a, b: a not in self.off and b not in self.off,
            options=CephOptions(mon_osd_min_down_reporters=1))
        cluster.attach(StoreObjects(db))
        return cluster

    def power(self, host: str, on: bool) -> None:
        (self.off.discard if on else self.off.add)(host)
        for cluster in self.clusters:
            cluster.refresh()

    def close(self) -> None:
        for db in self.dbs:
            db.dispose()


def shared_lab(url: str) -> Iterator[Lab]:
    db = Database(url)
    db.upgrade()
    db.dispose()
    lab = Lab(url)
    try:
        yield lab
    finally:
        lab.close()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    yield from shared_lab(f"sqlite:///{tmp_path / 'ceph.db'}")


def check_two_processes_share_the_cluster(lab: Lab) -> None:
    """What the test asks of every engine."""
    one, two = lab.clusters
    data = bytes(range(256)) * (PIECE // 128) + b"tail"  # two pieces and a bit
    one.write("images", "image-1", data)
    assert two.read("images", "image-1") == data
    assert two.exists("images", "image-1") and not two.exists("images", "image-2")
    assert two.pool("images").objects["image-1"] == data
    images = next(p for p in two.status()["pools"] if p["name"] == "images")
    assert (images["objects"], images["stored"]) == (1, len(data))
    assert one.raw_used() == two.raw_used() == 2 * len(data)
    assert one.max_avail("volumes") == two.max_avail("volumes")

    # storage1 lost: each process marks its OSD down after the grace (its own map).
    lab.power(S1, False)
    lab.clock.advance(20.0)
    two.write("volumes", "volume-1", b"written by two")
    for cluster in (one, two):
        status = cluster.status()
        assert status["num_up_osds"] == 1
        assert (status["degraded_objects"], status["object_copies"]) == (2, 4)
        assert cluster.read("volumes", "volume-1") == b"written by two"

    # Back: both processes' timers recover what osd.0 missed; the second finds it done.
    lab.power(S1, True)
    for cluster in (one, two):
        status = cluster.status()
        assert status["recovering"] is True and status["health"] == HEALTH_WARN
        assert status["degraded_objects"] == 1  # volume-1: image-1 was on both
    lab.clock.advance(5.0)
    for cluster in (one, two):
        status = cluster.status()
        assert status["health"] == HEALTH_OK and status["degraded_objects"] == 0
        assert status["pgs"] == {"active+clean": 128} and status["recovering"] is False
    with lab.dbs[0].session() as session:
        assert session.scalars(select(CephMissing)).all() == []

    one.remove("images", "image-1")
    assert not two.exists("images", "image-1")
    assert two.status()["pools"][1]["objects"] == 0
    with lab.dbs[1].session() as session:
        assert session.scalars(select(CephObject.seq).where(
            CephObject.pool == "images")).all() == []


def test_two_processes_share_the_objects_degraded_counts_and_recovery(lab: Lab) -> None:
    check_two_processes_share_the_cluster(lab)


def test_a_process_started_later_finds_what_an_osd_misses_and_recovers_it(
        lab: Lab, tmp_path: Path) -> None:
    one, _ = lab.clusters
    lab.power(S2, False)
    lab.clock.advance(20.0)
    one.write("vms", "disk-1", b"disk")
    # A process started now (storage2 up again in the lab) starts the recovery itself.
    lab.off.clear()
    late = Lab(f"sqlite:///{tmp_path / 'ceph.db'}", processes=1)
    late.clock = lab.clock
    late.off = lab.off
    try:
        cluster = late._cluster(late.dbs[0])
        assert cluster.status()["degraded_objects"] == 1 and cluster.recovering
        lab.clock.advance(2.0)
        assert cluster.status()["degraded_objects"] == 0
        one.refresh()
        assert one.status()["degraded_objects"] == 0
    finally:
        late.close()


def test_a_write_in_a_callers_transaction_waits_for_it_and_rolls_back_with_it(
        lab: Lab) -> None:
    one, two = lab.clusters
    with lab.dbs[0].session() as session:
        one.write("volumes", "volume-1", b"first", session=session)
        # On SQLite another writer would wait for this transaction: it is the caller's.
        one.write("volumes", "volume-2", b"second", session=session)
        assert one.read("volumes", "volume-1", session=session) == b"first"
        assert not two.exists("volumes", "volume-1")  # not committed yet
    assert two.read("volumes", "volume-2") == b"second"
    with pytest.raises(RuntimeError), lab.dbs[0].session() as session:
        one.remove("volumes", "volume-1", session=session)
        raise RuntimeError("the caller fails")
    assert two.read("volumes", "volume-1") == b"first"


def test_the_store_objects_keep_pieces_and_recovery_is_idempotent(lab: Lab) -> None:
    objects = StoreObjects(lab.dbs[0])
    data = b"x" * (2 * PIECE + 1)
    objects.write("volumes", "big", data, [1])
    objects.write("volumes", "big", data[:10], [0])  # smaller, missing elsewhere
    assert objects.read("volumes", "big") == data[:10]
    catalog = objects.catalog()
    assert catalog.sizes == {"volumes": {"big": 10}}
    assert catalog.missing == {0: frozenset({("volumes", "big")})}
    objects.recovered([(0, "volumes", "big")])
    objects.recovered([(0, "volumes", "big")])
    assert objects.catalog().missing == {}
    assert objects.remove("volumes", "big") and not objects.remove("volumes", "big")
    assert objects.read("volumes", "big") is None
    objects.write("volumes", "empty", b"", [])
    assert objects.read("volumes", "empty") == b""
    assert objects.catalog().sizes == {"volumes": {"empty": 0}}
