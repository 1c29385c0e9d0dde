"""Galera with garbd in virtual time: suspicion after evs.suspect_timeout, weighted quorum
with graceful leaves, non-Primary refusal, IST and SST on rejoin, recovery after a full crash."""

from __future__ import annotations

from stacklab.clock import VirtualClock
from stacklab.ha.galera import (
    DISCONNECTED,
    DONOR,
    JOINER,
    NON_PRIMARY,
    PRIMARY,
    RECEIVING,
    SYNCED,
    GaleraCluster,
    GaleraOptions,
)

C1, C2, ARB = "controller1", "controller2", "arbiter"


class Lab:
    """Who runs and who is cut off from whom, as the runtime would say."""

    def __init__(self, options: GaleraOptions | None = None) -> None:
        self.clock = VirtualClock(start=0.0)
        self.down: set[str] = set()
        self.cut: set[frozenset[str]] = set()
        self.changes = 0
        self.cluster = GaleraCluster(
            self.clock, [(C1, False), (C2, False), (ARB, True)],
            running=lambda node: node not in self.down,
            reachable=lambda a, b: frozenset((a, b)) not in self.cut,
            options=options, on_change=self.changed)

    def changed(self) -> None:
        self.changes += 1

    def crash(self, *nodes: str) -> None:
        self.down.update(nodes)
        self.cluster.refresh()

    def stop(self, *nodes: str) -> None:
        self.down.update(nodes)
        self.cluster.refresh(stopped_cleanly=nodes)

    def start(self, *nodes: str) -> None:
        self.down.difference_update(nodes)
        self.cluster.refresh()

    def partition(self, left: set[str], right: set[str]) -> None:
        self.cut |= {frozenset((a, b)) for a in left for b in right}
        self.cluster.refresh()

    def heal(self) -> None:
        self.cut.clear()
        self.cluster.refresh()

    def status(self, node: str) -> tuple[str, str, int]:
        found = self.cluster.member(node).status()
        return (found["wsrep_cluster_status"], found["wsrep_local_state_comment"],
                found["wsrep_cluster_size"])

    def write(self, node: str, count: int = 1) -> None:
        for _ in range(count):
            self.cluster.commit(node)


def test_a_running_lab_is_one_synced_primary_component_of_three() -> None:
    lab = Lab()
    assert [lab.status(n) for n in (C1, C2, ARB)] == [(PRIMARY, "Synced", 3)] * 3
    assert lab.cluster.serves(C1) and lab.cluster.synced(C2)
    assert not lab.cluster.serves(ARB)  # garbd holds no data and never serves SQL
    assert lab.clock.next_due() is None


def test_a_crashed_member_is_dropped_after_suspect_timeout_and_two_of_three_stay_primary() -> None:
    lab = Lab()
    lab.crash(C1)
    assert lab.status(C1) == (DISCONNECTED, "", 0)
    lab.clock.advance(4.9)
    assert lab.status(C2) == (PRIMARY, "Synced", 3)  # still counted: not suspected yet
    lab.clock.advance(0.1)
    assert lab.status(C2) == (PRIMARY, "Synced", 2)
    assert lab.status(ARB) == (PRIMARY, "Synced", 2)
    assert lab.cluster.serves(C2)


def test_losing_two_of_three_leaves_the_survivor_non_primary_refusing_queries() -> None:
    lab = Lab()
    lab.crash(ARB, C1)
    lab.clock.advance(5.0)
    assert lab.status(C2) == (NON_PRIMARY, "Initialized", 1)
    assert not lab.cluster.serves(C2) and not lab.cluster.synced(C2)
    assert lab.cluster.member(C2).status()["wsrep_ready"] == "OFF"
    # garbd coming back restores a majority of the last Primary Component's votes.
    lab.start(ARB)
    lab.clock.advance(0.9)
    assert lab.status(C2)[0] == NON_PRIMARY
    lab.clock.advance(0.1)
    assert lab.status(C2) == (PRIMARY, "Synced", 2)


def test_one_at_a_time_each_crash_is_judged_against_the_component_before_it() -> None:
    lab = Lab()
    lab.crash(C1)
    lab.clock.advance(10.0)  # {controller2, arbiter} is the Primary Component now
    lab.crash(ARB)
    lab.clock.advance(5.0)
    # One of the last component's two votes: not more than half.
    assert lab.status(C2) == (NON_PRIMARY, "Initialized", 1)


def test_graceful_leaves_shrink_the_quorum_a_crash_does_not() -> None:
    graceful = Lab()
    graceful.stop(C1)
    graceful.stop(C2)
    assert graceful.status(ARB) == (PRIMARY, "Synced", 1)
    crashed = Lab()
    crashed.crash(C1, C2)
    crashed.clock.advance(5.0)
    assert crashed.status(ARB) == (NON_PRIMARY, "Initialized", 1)


def test_a_member_back_from_a_graceful_leave_does_not_form_a_primary_component_alone() -> None:
    # Found by `stacklab scenario random --seed 1218 --steps 8`: controller1 crashed,
    # garbd stopped cleanly (controller2 alone stays Primary, the leave lowering the
    # quorum), then garbd started again: it made a second Primary Component of itself.
    lab = Lab()
    lab.crash(C1)
    lab.clock.advance(6)
    lab.stop(ARB)
    assert lab.status(C2) == (PRIMARY, "Synced", 1)
    lab.start(ARB)
    assert lab.status(ARB)[0] == NON_PRIMARY
    lab.clock.advance(2)  # joins controller2's component
    assert lab.status(ARB) == (PRIMARY, "Synced", 2) == lab.status(C2)
    assert lab.cluster.primary_component() == {C2, ARB}


def test_a_partition_leaves_the_majority_primary_and_the_loner_joins_back_by_ist() -> None:
    lab = Lab()
    lab.write(C1, 10)
    lab.partition({C1}, {C2, ARB})
    lab.clock.advance(5.0)
    assert lab.status(C1) == (NON_PRIMARY, "Initialized", 1)
    assert lab.status(C2) == (PRIMARY, "Synced", 2)
    lab.write(C2, 500)
    lab.heal()
    lab.clock.advance(1.0)
    assert lab.status(C1) == (PRIMARY, RECEIVING, 3)
    assert lab.cluster.member(C1).state == JOINER and not lab.cluster.serves(C1)
    assert lab.status(C2) == (PRIMARY, "Synced", 3)  # an IST does not desync the donor
    lab.clock.advance(GaleraOptions().ist_seconds(500))
    assert lab.status(C1) == (PRIMARY, "Synced", 3)
    assert lab.cluster.member(C1).seqno == lab.cluster.committed == 510


def test_a_member_too_far_behind_takes_an_sst_and_its_donor_leaves_clustercheck() -> None:
    options = GaleraOptions(gcache_size=100 * 1024)  # 100 write-sets of cache
    lab = Lab(options)
    lab.crash(C1)
    lab.clock.advance(5.0)
    lab.write(C2, 150)
    lab.start(C1)
    lab.clock.advance(1.0)
    assert lab.cluster.member(C2).state == DONOR
    assert lab.status(C2) == (PRIMARY, "Donor/Desynced", 3)
    assert lab.cluster.serves(C2) and not lab.cluster.synced(C2)
    assert lab.cluster.member(C1).status()["donor"] == C2
    lab.clock.advance(options.sst_seconds)
    assert lab.status(C1) == (PRIMARY, "Synced", 3)
    assert lab.status(C2) == (PRIMARY, "Synced", 3)


def test_an_even_split_leaves_both_halves_non_primary() -> None:
    lab = Lab()
    lab.stop(ARB)  # graceful: {controller1, controller2} is the Primary Component
    assert lab.status(C1) == (PRIMARY, "Synced", 2)
    lab.partition({C1}, {C2})
    lab.clock.advance(5.0)
    assert lab.status(C1)[0] == NON_PRIMARY and lab.status(C2)[0] == NON_PRIMARY


def test_after_a_full_crash_the_members_re_form_the_cluster_when_all_see_each_other() -> None:
    lab = Lab()
    lab.crash(C1, C2, ARB)
    lab.clock.advance(10.0)
    lab.start(C1)
    lab.clock.advance(10.0)
    assert lab.status(C1) == (NON_PRIMARY, "Initialized", 1)  # alone: waits for the others
    lab.start(C2, ARB)
    lab.clock.advance(1.0)
    assert [lab.status(n) for n in (C1, C2, ARB)] == [(PRIMARY, "Synced", 3)] * 3


def test_a_cut_shorter_than_suspect_timeout_changes_nothing() -> None:
    lab = Lab()
    lab.changes = 0
    lab.partition({C1}, {C2, ARB})
    lab.clock.advance(3.0)
    lab.heal()
    lab.clock.advance(30.0)
    assert lab.changes == 0
    assert lab.status(C1) == (PRIMARY, "Synced", 3)


def test_a_donor_that_dies_mid_transfer_leaves_its_joiner_asking_again() -> None:
    options = GaleraOptions(gcache_size=10 * 1024)
    lab = Lab(options)
    lab.crash(C1)
    lab.clock.advance(5.0)
    lab.write(C2, 50)
    lab.start(C1)
    lab.clock.advance(2.0)
    assert lab.status(C1)[1] == RECEIVING
    lab.crash(C2)
    lab.clock.advance(5.0)
    # {controller1, arbiter}: two votes of the last three, but no synced member to donate.
    assert lab.status(C1) == (PRIMARY, "Joining: requested State Transfer", 2)
    assert not lab.cluster.serves(C1)
    assert lab.cluster.member(C1).state == JOINER
    assert lab.cluster.member(ARB).state == SYNCED
