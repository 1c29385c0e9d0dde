"""keepalived for the API VIPs as kolla configures it, in virtual time: BACKUP + nopreempt,
priority by index, check_alive on haproxy (ha-semantics §1.5)."""

from __future__ import annotations

from stacklab.clock import VirtualClock
from stacklab.ha.vips import ApiVips, Vip
from stacklab.ha.vrrp import master_down_interval, skew_time

P1, P2 = "proxy1", "proxy2"
VIPS = [Vip("public", "external", "192.168.100.100"),
        Vip("internal", "management", "10.10.10.100")]


class Pair:
    def __init__(self) -> None:
        self.clock = VirtualClock(start=0.0)
        self.cut = False
        self.haproxy = {P1: True, P2: True}
        self.vips = ApiVips(self.clock, [(P1, "10.10.10.101"), (P2, "10.10.10.102")], VIPS,
                            reachable=lambda a, b: not self.cut,
                            haproxy_running=lambda node: self.haproxy[node])

    def boot(self) -> None:
        """proxy1 first, proxy2 a second later, as the lab's proxies come up."""
        self.vips.start(P1)
        self.clock.advance(1.0)
        self.vips.start(P2)
        self.clock.advance(30.0)

    def states(self) -> list[str]:
        return [i["state"] for i in self.vips.status()["instances"]]


def test_kolla_s_instance_one_vrid_for_both_vips_priority_by_index() -> None:
    pair = Pair()
    status = pair.vips.status()
    assert status["virtual_router_id"] == 51
    assert [i["priority"] for i in status["instances"]] == [1, 2]
    assert [v["address"] for v in status["vips"]] == ["192.168.100.100", "10.10.10.100"]
    assert pair.vips.holder() is None


def test_a_starting_keepalived_waits_for_check_alive_then_master_down_interval() -> None:
    pair = Pair()
    pair.vips.start(P1)
    assert pair.states()[0] == "FAULT"  # its script is one success away
    pair.clock.advance(2.0)
    assert pair.states()[0] == "BACKUP"
    pair.clock.advance(master_down_interval(1, 1.0))
    assert pair.vips.holder() == P1


def test_the_first_booted_keeps_the_vips_nopreempt_and_a_crash_fails_over_in_4_s() -> None:
    pair = Pair()
    pair.boot()
    assert pair.vips.holder() == P1 and pair.states() == ["MASTER", "BACKUP"]
    pair.vips.kill(P1)
    assert pair.vips.holder() is None and pair.vips.takeover_pending()
    pair.clock.advance(master_down_interval(2, 1.0))  # 3 + 254/256 s after the last advert
    assert pair.vips.holder() == P2
    pair.vips.start(P1)
    pair.clock.advance(60.0)
    assert pair.vips.holder() == P2  # nopreempt: no second move when proxy1 returns


def test_a_clean_stop_hands_over_after_the_skew_time() -> None:
    pair = Pair()
    pair.boot()
    pair.vips.stop(P1)
    pair.clock.advance(skew_time(2, 1.0) - 0.001)
    assert pair.vips.holder() is None
    pair.clock.advance(0.001)
    assert pair.vips.holder() == P2


def test_haproxy_gone_makes_check_alive_fail_twice_and_the_master_steps_down() -> None:
    pair = Pair()
    pair.boot()
    pair.haproxy[P1] = False
    pair.vips.poke()
    pair.clock.advance(4.0)  # two failed runs, 2 s apart
    assert pair.states() == ["FAULT", "MASTER"]
    pair.haproxy[P1] = True
    pair.vips.poke()
    pair.clock.advance(18.0)
    assert pair.states()[0] == "FAULT"  # rise 10: ten good runs to leave FAULT
    pair.clock.advance(2.0)
    assert pair.states() == ["BACKUP", "MASTER"]


def test_a_partition_makes_two_masters_and_clients_follow_the_latest() -> None:
    pair = Pair()
    pair.boot()
    pair.cut = True
    pair.clock.advance(5.0)
    assert pair.states() == ["MASTER", "MASTER"]
    assert pair.vips.holder() == P2  # its gratuitous ARPs came last
    pair.cut = False
    pair.clock.advance(3.0)
    assert pair.states() == ["BACKUP", "MASTER"]  # higher priority stays
    assert pair.vips.holder() == P2


def test_a_powered_off_master_holds_nothing_though_it_said_nothing() -> None:
    pair = Pair()
    pair.boot()
    pair.vips.kill(P1)
    pair.vips.kill(P2)
    assert pair.vips.holder() is None and not pair.vips.takeover_pending()
