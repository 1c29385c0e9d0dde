"""HAProxy's health-check counter in virtual time: fall and rise, timeouts stretch the period,
a settled check arms no timer, a fresh checker is one failure away from DOWN."""

from __future__ import annotations

from stacklab.clock import VirtualClock
from stacklab.ha.checks import L4CON, L4TOUT, L7OK, PeriodicCheck, Probe

OK = Probe(True, 0.0, L7OK)
REFUSED = Probe(False, 0.0, L4CON)
TIMEOUT = Probe(False, 2.0, L4TOUT)  # min(timeout connect 10 s, inter 2 s)


class World:
    """What the probe reads, changed by the test, the checker poked as the control plane does."""

    def __init__(self) -> None:
        self.clock = VirtualClock(start=0.0)
        self.answer = OK
        self.flips: list[tuple[float, bool]] = []
        self.check = PeriodicCheck(self.clock, lambda: self.answer, interval=2.0, rise=2,
                                   fall=5, on_change=self.flipped)

    def flipped(self, up: bool) -> None:
        self.flips.append((self.clock.now(), up))

    def set(self, answer: Probe) -> None:
        self.answer = answer
        self.check.poke()


def test_a_refusing_server_goes_down_after_fall_checks_of_inter() -> None:
    world = World()
    world.clock.advance(10.5)
    world.set(REFUSED)
    world.clock.advance(3.5)  # the sleeping check kept its schedule: 12, 14
    assert world.check.describe() == "UP 2/5" and world.check.up
    world.clock.advance(6.0)  # 16, 18, 20: the fifth failure
    assert world.flips == [(20.0, False)]
    assert world.check.describe() == "DOWN"
    assert world.check.last_status == L4CON


def test_a_silent_server_is_probed_every_timeout_plus_inter() -> None:
    world = World()
    world.clock.advance(1.0)
    world.set(TIMEOUT)
    world.clock.advance(30.0)
    # Checks start at 2, 6, 10, 14, 18; each fails 2 s later: DOWN when the fifth gives up.
    assert world.flips == [(20.0, False)]


def test_rise_successes_bring_it_back_and_a_success_in_between_climbs_one_step() -> None:
    world = World()
    world.set(REFUSED)
    world.clock.advance(20.0)
    assert world.flips == [(10.0, False)]
    world.set(OK)
    world.clock.advance(1.0)  # one success at 20
    assert world.check.describe() == "DOWN 1/2"
    world.set(REFUSED)
    world.clock.advance(2.0)  # and a failure at 22: back to nothing
    assert world.check.describe() == "DOWN"
    world.set(OK)
    world.clock.advance(4.0)  # 24, 26
    assert world.flips[-1] == (26.0, True)
    assert world.check.describe() == "UP"


def test_a_check_in_agreement_with_its_counter_arms_no_timer_but_keeps_its_schedule() -> None:
    world = World()
    world.clock.advance(2.0)
    assert world.clock.next_due() is None  # settled: the quiet lab costs nothing
    world.clock.advance(7.3)
    world.set(REFUSED)
    # The check kept its 2 s schedule while it slept (2, 4, 6, 8, next 10).
    assert world.clock.next_due() == 10.0


def test_a_fresh_checker_is_one_failure_away_from_down() -> None:
    # HAProxy starts a server's health at rise: "up, but will fall down at first failure".
    clock = VirtualClock(start=0.0)
    down: list[float] = []
    check = PeriodicCheck(clock, lambda: REFUSED, interval=2.0, rise=2, fall=5, health=2,
                          on_change=lambda up: down.append(clock.now()))
    assert check.up
    clock.advance(2.0)
    assert down == [2.0] and check.describe() == "DOWN"


def test_a_stopped_checker_checks_no_more() -> None:
    world = World()
    world.set(REFUSED)
    world.clock.advance(4.0)
    world.check.stop()
    world.clock.advance(60.0)
    assert world.flips == [] and world.check.describe() == "UP 2/5"
    world.check.poke()
    assert world.clock.next_due() is None
