"""keepalived's VRRP in virtual time: election, failover timers, preemption, split brain, FAULT."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from stacklab.clock import Clock, RealClock, ScaledClock, VirtualClock
from stacklab.ha.vrrp import (
    GARP_MASTER_REPEAT,
    Transition,
    VrrpConfig,
    VrrpGroup,
    VrrpInstance,
    VrrpState,
    master_down_interval,
    skew_time,
)

INIT, BACKUP, MASTER = VrrpState.INIT, VrrpState.BACKUP, VrrpState.MASTER
FAULT, STOPPED = VrrpState.FAULT, VrrpState.STOPPED
NEUTRON = VrrpConfig.neutron_ha_router(vrid=1)
# Neutron's L3 HA failover: 3 adverts of 2 s missed, plus skew (256 - 50) / 256 s.
MDI = 6.8046875
SKEW = 0.8046875
TICK = 1 / 256  # finer than any timer here, and exact in binary


def ha_router(clock: Clock, nodes: int, config: VrrpConfig = NEUTRON) -> VrrpGroup:
    """Replicas network1..N with HA-port addresses 169.254.192.1..N, as neutron allocates."""
    group = VrrpGroup(clock)
    for n in range(1, nodes + 1):
        group.add(VrrpInstance(f"network{n}", f"169.254.192.{n}", config))
    return group


def history(group: VrrpGroup, node: str) -> list[tuple[VrrpState, VrrpState, float]]:
    return [(t.old, t.new, t.at) for t in group.transitions if t.node == node]


def elect(clock: VirtualClock, group: VrrpGroup) -> None:
    group.start()
    clock.advance(MDI)


def test_timers_follow_keepalived_formulas() -> None:
    # VRRPv2 (keepalived's default, and neutron's): skew is (256 - p) / 256 s at any interval.
    assert skew_time(50, 2) == SKEW == 206 / 256
    assert master_down_interval(50, 2) == MDI == 3 * 2 + 206 / 256
    assert master_down_interval(100, 1) == 3 + 156 / 256  # keepalived defaults: 3.61 s
    assert master_down_interval(2, 1) == 3 + 254 / 256  # kolla's API VIP, second host
    assert master_down_interval(90, 1) == 3 + 166 / 256  # Octavia's BACKUP amphora
    # VRRPv3 scales the skew by the advert interval (centiseconds).
    assert master_down_interval(100, 1.0, version=3) == 3 + 156 / 256
    assert master_down_interval(50, 2.0, version=3) == 6 + 206 * 2 / 256
    instance = VrrpInstance("network1", "169.254.192.1", NEUTRON)
    assert (instance.master_down_interval, instance.skew_time) == (MDI, SKEW)


def test_two_equal_replicas_elect_the_higher_ip_after_master_down_interval() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 2)
    group.start()
    assert [i.state for i in group.instances()] == [BACKUP, BACKUP]
    clock.advance(MDI - TICK)
    assert group.masters() == []
    clock.advance(TICK)
    # Both time out together and claim MASTER; the equal-priority tie goes to the higher IP.
    assert group.masters() == ["network2"]
    assert history(group, "network1") == [(INIT, BACKUP, 0.0), (BACKUP, MASTER, MDI),
                                          (MASTER, BACKUP, MDI)]
    assert history(group, "network2") == [(INIT, BACKUP, 0.0), (BACKUP, MASTER, MDI)]
    assert group.instance("network1").master_ip == group.instance("network2").primary_ip


def test_three_equal_replicas_elect_the_highest_ip_and_stay_put() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 3)
    elect(clock, group)
    assert group.masters() == ["network3"]
    settled = len(group.transitions)
    clock.advance(600)
    assert group.masters() == ["network3"]
    assert len(group.transitions) == settled


def test_between_backups_the_ip_plays_no_part_the_first_to_time_out_wins() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 3)
    group.start("network1")
    clock.advance(1)
    group.start("network2")
    group.start("network3")
    clock.advance(MDI - 1)
    # A backup accepts any advert of equal priority: the lowest IP, started first, keeps it.
    assert group.masters() == ["network1"]
    clock.advance(120)
    assert group.masters() == ["network1"]


def test_killed_master_is_replaced_after_master_down_interval() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 3)
    elect(clock, group)
    clock.advance(4)  # network3's advert at MDI + 4 has just gone out
    killed_at = clock.now()
    group.kill("network3")
    clock.advance(MDI - TICK)
    assert group.masters() == []
    clock.advance(TICK)
    # Both backups time out at once; the higher IP stays MASTER.
    assert group.masters() == ["network2"]
    assert history(group, "network2")[-1] == (BACKUP, MASTER, killed_at + MDI)
    assert history(group, "network1")[-2:] == [(BACKUP, MASTER, killed_at + MDI),
                                               (MASTER, BACKUP, killed_at + MDI)]
    # A dead keepalived runs no notify script: nothing reported for network3.
    assert history(group, "network3")[-1] == (BACKUP, MASTER, MDI)
    assert group.instance("network3").state is STOPPED


def test_failover_counts_from_the_last_advert_heard_not_from_the_crash() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 2)
    elect(clock, group)
    clock.advance(5)  # last advert at MDI + 4, one second ago
    group.kill("network2")
    clock.advance(MDI - 1)
    assert group.masters() == ["network1"]
    # 5.80 s after the crash: MDI after the last advert, at MDI + 4.
    assert history(group, "network1")[-1] == (BACKUP, MASTER, MDI + 4 + MDI)


def test_graceful_stop_hands_over_after_skew_time_only() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 3)
    elect(clock, group)
    clock.advance(5)  # between adverts: the priority-0 advert restarts the backups' timers
    stopped_at = clock.now()
    group.stop("network3")
    clock.advance(SKEW - TICK)
    assert group.masters() == []
    clock.advance(TICK)
    assert group.masters() == ["network2"]
    assert history(group, "network2")[-1] == (BACKUP, MASTER, stopped_at + SKEW)
    assert history(group, "network3")[-1] == (MASTER, STOPPED, stopped_at)


def _prioritised(clock: VirtualClock, *, nopreempt: bool) -> VrrpGroup:
    group = VrrpGroup(clock)
    base = dataclasses.replace(NEUTRON, nopreempt=nopreempt)
    group.add(VrrpInstance("high", "169.254.192.1", dataclasses.replace(base, priority=100)))
    group.add(VrrpInstance("low", "169.254.192.2", dataclasses.replace(base, priority=50)))
    group.start()
    high_mdi = 6 + 156 / 256
    clock.advance(high_mdi)
    # The higher priority times out first (smaller skew) and wins despite its lower IP.
    assert group.masters() == ["high"]
    clock.advance(2)
    group.kill("high")
    clock.advance(MDI)
    assert group.masters() == ["low"]
    assert history(group, "low")[-1] == (BACKUP, MASTER, high_mdi + 2 + MDI)
    clock.advance(20)
    return group


def test_nopreempt_returning_higher_priority_member_stays_backup() -> None:
    clock = VirtualClock(start=0.0)
    group = _prioritised(clock, nopreempt=True)
    returned_at = clock.now()
    group.start("high")
    clock.advance(600)
    assert group.masters() == ["low"]
    assert history(group, "high")[-1] == (STOPPED, BACKUP, returned_at)


def test_without_nopreempt_the_higher_priority_member_takes_over_again() -> None:
    clock = VirtualClock(start=0.0)
    group = _prioritised(clock, nopreempt=False)
    returned_at = clock.now()
    group.start("high")
    clock.advance(600)
    assert group.masters() == ["high"]
    # It ignores the lower master's adverts, so its own timer runs out: 6 + 156/256 s.
    takeover = returned_at + 6 + 156 / 256
    assert history(group, "high")[-2:] == [(STOPPED, BACKUP, returned_at),
                                           (BACKUP, MASTER, takeover)]
    assert history(group, "low")[-1] == (MASTER, BACKUP, takeover)
    assert [(g.at, g.burst) for g in group.garps if g.node == "high"][-2:] == [
        (takeover, 1), (takeover + 60, 2)]


def test_partition_gives_two_masters_and_healing_leaves_the_higher_ip() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 2)
    elect(clock, group)
    clock.advance(1)
    group.cut("network1", "network2")
    clock.advance(MDI - 1)  # MDI after network2's last advert
    assert sorted(group.masters()) == ["network1", "network2"]
    assert history(group, "network1")[-1] == (BACKUP, MASTER, MDI + MDI)
    clock.advance(2)
    healed_at = clock.now()
    group.restore("network1", "network2")
    clock.advance(10)
    assert group.masters() == ["network2"]
    # network1's next advert was due after network2's (at MDI + 10): that one settles it.
    assert history(group, "network1")[-1] == (MASTER, BACKUP, MDI + 10)
    assert healed_at < MDI + 10 < healed_at + 2
    assert group.transitions[-1].reason == "equal priority advert from a higher IP"


def test_a_reachability_predicate_cuts_adverts_as_the_groups_own_cuts_do() -> None:
    # The API VIPs' segment asks the lab's runtime who reaches whom instead of keeping cuts.
    clock = VirtualClock(start=0.0)
    apart: set[frozenset[str]] = set()
    group = VrrpGroup(clock, reachable=lambda a, b: frozenset((a, b)) not in apart)
    for n in (1, 2):
        group.add(VrrpInstance(f"network{n}", f"169.254.192.{n}", NEUTRON))
    elect(clock, group)
    assert group.masters() == ["network2"]
    apart.add(frozenset(("network1", "network2")))
    assert not group.connected("network1", "network2")
    clock.advance(MDI + 1)
    assert sorted(group.masters()) == ["network1", "network2"]
    apart.clear()
    clock.advance(3)
    assert group.masters() == ["network2"]


def test_partition_of_three_and_heal() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 3)
    elect(clock, group)
    group.partition(["network3"], ["network1", "network2"])
    clock.advance(MDI)
    assert group.masters() == ["network2", "network3"]
    group.heal()
    clock.advance(2)
    assert group.masters() == ["network3"]


def test_master_interface_down_goes_fault_and_the_backup_waits_the_full_interval() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 2)
    elect(clock, group)
    clock.advance(4)
    down_at = clock.now()
    group.interface_down("network2")
    assert group.instance("network2").state is FAULT
    # Its priority-0 goodbye goes out of the dead ha- port: nobody hears it.
    clock.advance(MDI - TICK)
    assert group.masters() == []
    clock.advance(TICK)
    assert group.masters() == ["network1"]
    clock.advance(10)
    up_at = clock.now()
    group.interface_up("network2")
    clock.advance(120)
    assert group.masters() == ["network1"]  # nopreempt: the repaired replica stays BACKUP
    assert history(group, "network2")[-2:] == [(MASTER, FAULT, down_at), (FAULT, BACKUP, up_at)]


def test_backup_interface_down_and_up() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 2)
    elect(clock, group)
    group.interface_down("network1")
    clock.advance(30)
    assert group.instance("network1").state is FAULT  # no timer runs in FAULT
    group.interface_up("network1")
    clock.advance(30)
    assert [i.state for i in group.instances()] == [BACKUP, MASTER]
    assert history(group, "network1")[-2:] == [(BACKUP, FAULT, MDI), (FAULT, BACKUP, MDI + 30)]


def test_a_failed_track_script_says_goodbye_so_the_backup_takes_over_after_skew() -> None:
    # kolla-ansible's API VIP: priority index + 1, advert_int 1, nopreempt, check_alive script.
    clock = VirtualClock(start=0.0)
    group = VrrpGroup(clock)
    for index, node in enumerate(["controller1", "controller2"]):
        config = VrrpConfig(vrid=51, priority=index + 1, advert_int=1, nopreempt=True)
        group.add(VrrpInstance(node, f"10.0.0.{11 + index}", config))
    group.start()
    clock.advance(3 + 254 / 256)
    assert group.masters() == ["controller2"]
    failed_at = clock.now()
    group.track_failed("controller2")
    clock.advance(255 / 256)
    assert group.masters() == ["controller1"]
    assert history(group, "controller1")[-1] == (BACKUP, MASTER, failed_at + 255 / 256)
    group.track_recovered("controller2")
    clock.advance(60)
    assert group.masters() == ["controller1"]
    assert group.instance("controller2").state is BACKUP


def test_transitions_reach_each_nodes_hook_in_order_with_the_clock_time() -> None:
    clock = VirtualClock()  # a wall-clock epoch: the hook sees clock.now()
    t0 = clock.now()
    group = ha_router(clock, 2)
    seen: dict[str, list[Transition]] = {"network1": [], "network2": []}
    for node, box in seen.items():
        group.on_transition(node, box.append)
    elect(clock, group)
    clock.advance(4)
    group.kill("network2")
    clock.advance(20)
    group.start("network2")
    assert [(t.old, t.new, t.at - t0) for t in seen["network1"]] == [
        (INIT, BACKUP, 0.0), (BACKUP, MASTER, MDI), (MASTER, BACKUP, MDI),
        (BACKUP, MASTER, MDI + 4 + MDI)]
    assert [(t.old, t.new, t.at - t0) for t in seen["network2"]] == [
        (INIT, BACKUP, 0.0), (BACKUP, MASTER, MDI), (STOPPED, BACKUP, MDI + 24)]
    assert all(t.node == "network1" for t in seen["network1"])
    assert seen["network1"][2].reason == "equal priority advert from a higher IP"
    assert seen["network1"][3].reason == "master down timer expired"
    assert sorted(group.transitions, key=lambda t: t.at) == group.transitions


def test_gratuitous_arps_on_becoming_master_and_again_after_garp_master_delay() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 2)
    elect(clock, group)
    clock.advance(120)
    # network1 was MASTER for an instant and sent its first burst, but no second one.
    assert [(g.node, g.at, g.burst, g.count) for g in group.garps] == [
        ("network1", MDI, 1, GARP_MASTER_REPEAT), ("network2", MDI, 1, GARP_MASTER_REPEAT),
        ("network2", MDI + 60, 2, GARP_MASTER_REPEAT)]


def test_vrrpv2_drops_adverts_with_another_interval_so_both_become_master() -> None:
    clock = VirtualClock(start=0.0)
    group = VrrpGroup(clock)
    group.add(VrrpInstance("network1", "169.254.192.1", NEUTRON))
    group.add(VrrpInstance("network2", "169.254.192.2",
                           VrrpConfig.neutron_ha_router(vrid=1, advert_int=3)))
    group.start()
    clock.advance(60)
    assert group.masters() == ["network1", "network2"]


def test_vrrpv3_backup_adopts_the_masters_interval() -> None:
    clock = VirtualClock(start=0.0)
    group = VrrpGroup(clock)
    fast = VrrpConfig(vrid=7, priority=200, advert_int=0.5, version=3)
    slow = VrrpConfig(vrid=7, priority=100, advert_int=1.0, version=3)
    group.add(VrrpInstance("fast", "10.0.0.1", fast))
    backup = group.add(VrrpInstance("slow", "10.0.0.2", slow))
    group.start()
    first = 1.5 + 56 * 50 / 256 / 100
    clock.advance(first)
    assert group.masters() == ["fast"]
    # RFC 5798: 3 x 0.5 s + (256 - 100) x 50 cs / 256.
    assert backup.master_down_interval == 1.5 + 0.3046875
    group.kill("fast")
    clock.advance(1.8046875)
    assert history(group, "slow")[-1] == (BACKUP, MASTER, first + 1.8046875)


def test_address_owner_and_initial_state_master() -> None:
    clock = VirtualClock(start=0.0)
    group = VrrpGroup(clock)
    group.add(VrrpInstance("owner", "10.0.0.1", VrrpConfig(vrid=1, priority=255)))
    group.add(VrrpInstance("eager", "10.0.0.2", VrrpConfig(vrid=2, priority=100,
                                                           initial_state=VrrpState.MASTER)))
    group.start()
    assert group.masters() == ["owner"]  # RFC 3768 §6.4.1, at once
    clock.advance(1 + TICK - TICK / 2)
    assert group.masters() == ["owner"]
    clock.advance(TICK / 2)  # keepalived: one advert interval plus the minimum skew
    assert group.masters() == ["owner", "eager"]


def test_several_routers_share_the_segment_and_a_node_crash_takes_them_all() -> None:
    clock = VirtualClock(start=0.0)
    group = VrrpGroup(clock)
    for vrid in (1, 2):
        for n in (1, 2):
            config = VrrpConfig.neutron_ha_router(vrid)
            group.add(VrrpInstance(f"network{n}", f"169.254.192.{n}", config))
    elect(clock, group)
    assert group.masters(vrid=1) == group.masters(vrid=2) == ["network2"]
    group.kill("network2")
    clock.advance(MDI)
    assert group.masters() == ["network1", "network1"]


def test_invalid_configurations_are_refused() -> None:
    for bad in ({"vrid": 0}, {"vrid": 256}, {"vrid": 1, "priority": 0},
                {"vrid": 1, "advert_int": 1.5}, {"vrid": 1, "version": 3, "advert_int": 50.0},
                {"vrid": 1, "initial_state": VrrpState.FAULT}):
        with pytest.raises(ValueError):
            VrrpConfig(**bad)
    group = VrrpGroup(VirtualClock())
    group.add(VrrpInstance("network1", "169.254.192.1", NEUTRON))
    with pytest.raises(ValueError):
        group.add(VrrpInstance("network1", "169.254.192.9", NEUTRON))
    with pytest.raises(ValueError):
        group.add(VrrpInstance("network2", "169.254.192.1", NEUTRON))
    group.start()
    with pytest.raises(RuntimeError):
        group.start()


def test_a_segment_on_a_scaled_clock_keeps_keepalived_seconds_in_less_base_time() -> None:
    base = VirtualClock(start=0.0)
    group = ha_router(ScaledClock(base, 0.25), 2)
    group.start()
    base.advance(MDI / 4 - TICK)
    assert group.masters() == []
    base.advance(TICK)
    # Stamped in the segment's own (scaled) seconds: the election still takes MDI.
    assert history(group, "network2") == [(INIT, BACKUP, 0.0), (BACKUP, MASTER, MDI)]


def test_a_segment_elects_on_a_real_clock_inside_the_event_loop() -> None:
    clock = ScaledClock(RealClock(), 0.01)  # neutron's 6.8 s election in 68 ms
    group = ha_router(clock, 2)

    async def main() -> None:
        group.start()
        for _ in range(200):  # up to 2 s of real time on a loaded machine
            await asyncio.sleep(0.01)
            if len(group.masters()) == 1:
                break
        await asyncio.sleep(0.1)  # five more adverts: the master holds

    asyncio.run(main())
    assert len(group.masters()) == 1
    started = group.transitions[0].at
    elected = min(t.at for t in group.transitions if t.new is MASTER)
    # Which replica wins depends on microseconds of real time; that the wait is keepalived's
    # master down interval in the segment's seconds, never less, does not.
    assert MDI - 0.01 <= elected - started < MDI + 100


def test_a_replica_taken_off_the_segment_says_goodbye_and_hears_nothing_more() -> None:
    clock = VirtualClock(start=0.0)
    group = ha_router(clock, 2)
    heard: list[Transition] = []
    group.on_transition("network2", heard.append)
    elect(clock, group)
    assert group.masters() == ["network2"]
    # The master's keepalived is reconfigured without this router: a clean stop, whose
    # priority-0 advert lets the backup take over after its skew time only.
    group.remove("network2")
    assert [i.node for i in group.instances()] == ["network1"]
    assert heard[-1].new is STOPPED
    clock.advance(SKEW)
    assert group.masters() == ["network1"]
    # Its timers and adverts still in flight are dropped; a new replica starts afresh.
    clock.advance(30)
    group.add(VrrpInstance("network2", "169.254.192.2", NEUTRON))
    group.start("network2")
    clock.advance(30)
    assert group.masters() == ["network1"]
    assert [t.new for t in heard] == [BACKUP, MASTER, STOPPED]  # its old hook is gone
