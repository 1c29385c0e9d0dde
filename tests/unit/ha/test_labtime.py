"""The control plane's clock: timers fire, in order and at their own times, when someone
asks for the present; a clock started in the past has already lived that long."""

from __future__ import annotations

from stacklab.clock import VirtualClock, scaled
from stacklab.ha.labtime import LabTime
from stacklab.observability import logging as obs


def test_timers_fire_in_order_at_their_own_time_when_synced() -> None:
    base = VirtualClock(start=100.0)
    time = LabTime(base)
    fired: list[float] = []
    time.call_at(103.0, lambda: fired.append(time.now()))
    time.call_at(101.0, lambda: fired.append(time.now()))
    base.advance(5.0)
    assert fired == []  # nobody asked yet
    time.sync()
    assert fired == [101.0, 103.0]
    assert time.now() == 105.0


def test_history_runs_what_was_started_before_the_lab_opened() -> None:
    base = VirtualClock(start=100.0)
    time = LabTime(base, history=30.0)
    assert time.now() == 70.0
    fired: list[float] = []
    time.call_later(4.0, lambda: fired.append(time.now()))
    time.sync()
    assert fired == [74.0] and time.now() == 100.0


def test_it_follows_a_scaled_clock_in_lab_seconds() -> None:
    base = VirtualClock(start=0.0)
    time = LabTime(scaled(base, 0.5))  # each lab second takes half a base second
    fired: list[float] = []
    time.call_later(4.0, lambda: fired.append(time.now()))
    base.advance(1.9)
    time.sync()
    assert fired == []
    base.advance(0.1)
    time.sync()
    assert fired == [4.0]
    assert time.wait_hint(cap=1.0) == 1.0


def test_callbacks_run_outside_the_callers_log_context() -> None:
    base = VirtualClock(start=0.0)
    time = LabTime(base)
    seen: list[str | None] = []
    time.call_later(1.0, lambda: seen.append(obs.global_id()))
    obs.bind_request("req-caller", None, "controller1")
    try:
        base.advance(2.0)
        time.sync()
    finally:
        obs.clear_request()
    assert seen == [None]


def test_a_sync_from_inside_a_callback_does_not_recurse() -> None:
    base = VirtualClock(start=0.0)
    time = LabTime(base)
    order: list[str] = []

    def first() -> None:
        order.append("first")
        time.sync()  # already being reached: returns at once
        order.append("after")

    time.call_later(1.0, first)
    time.call_later(2.0, lambda: order.append("second"))
    base.advance(3.0)
    time.sync()
    assert order == ["first", "after", "second"]
