"""The injected clocks: the virtual one moves only when told, firing timers in order; the
real one arms its timers on the running loop; a scaled one stretches another's time."""

from __future__ import annotations

import asyncio
import datetime as dt
import math

import pytest

from stacklab.clock import (
    NoRunningLoop,
    RealClock,
    ScaledClock,
    VirtualClock,
    isotime,
    scaled,
    utc_datetime,
)

START = 1_700_000_000.0  # 2023-11-14T22:13:20Z


def test_virtual_clock_starts_at_its_epoch_and_stands_still() -> None:
    clock = VirtualClock()
    assert clock.now() == START
    assert clock.monotonic() == 0.0
    assert clock.now() == START


def test_advance_moves_both_clocks() -> None:
    clock = VirtualClock(start=100.0)
    clock.advance(2.5)
    assert clock.now() == 102.5
    assert clock.monotonic() == 2.5


def test_advance_fires_due_timers_in_time_order_at_their_time() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[tuple[str, float]] = []
    clock.call_at(5.0, lambda: fired.append(("five", clock.now())))
    clock.call_at(1.0, lambda: fired.append(("one", clock.now())))
    clock.call_at(3.0, lambda: fired.append(("three", clock.now())))
    clock.call_at(9.0, lambda: fired.append(("nine", clock.now())))
    clock.advance(5.0)
    assert fired == [("one", 1.0), ("three", 3.0), ("five", 5.0)]
    assert clock.now() == 5.0
    clock.advance(3.9)
    assert [name for name, _ in fired] == ["one", "three", "five"]
    clock.advance(0.1)
    assert fired[-1] == ("nine", 9.0)


def test_timers_due_at_the_same_time_fire_in_registration_order() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[str] = []
    for name in "abcde":
        clock.call_at(2.0, lambda name=name: fired.append(name))
    clock.advance(2.0)
    assert fired == list("abcde")


def test_a_timer_in_the_past_fires_on_the_next_advance_without_going_back() -> None:
    clock = VirtualClock(start=10.0)
    seen: list[float] = []
    clock.call_at(4.0, lambda: seen.append(clock.now()))
    clock.advance(0.0)
    assert seen == [10.0]
    assert clock.now() == 10.0


def test_run_for_wakes_sleepers_in_virtual_time() -> None:
    clock = VirtualClock(start=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    async def main() -> None:
        tasks = [asyncio.create_task(sleeper("slow", 75.0)),
                 asyncio.create_task(sleeper("fast", 10.0)),
                 asyncio.create_task(sleeper("late", 200.0))]
        await clock.run_for(100.0)
        assert woke == [("fast", 10.0), ("slow", 75.0)]
        assert clock.now() == 100.0
        assert not tasks[2].done()
        await clock.run_for(100.0)
        assert woke[-1] == ("late", 200.0)
        await asyncio.gather(*tasks)

    asyncio.run(main())


def test_run_for_lets_a_woken_coroutine_sleep_again() -> None:
    clock = VirtualClock(start=0.0)
    beats: list[float] = []

    async def heartbeat() -> None:
        while True:
            beats.append(clock.now())
            await clock.sleep(10.0)

    async def main() -> None:
        task = asyncio.create_task(heartbeat())
        await clock.run_for(35.0)
        task.cancel()

    asyncio.run(main())
    assert beats == [0.0, 10.0, 20.0, 30.0]


def test_a_negative_sleep_is_due_at_once() -> None:
    clock = VirtualClock(start=0.0)
    done: list[float] = []

    async def main() -> None:
        async def nap() -> None:
            await clock.sleep(-5.0)
            done.append(clock.now())

        task = asyncio.create_task(nap())
        await clock.run_for(0.0)
        await task

    asyncio.run(main())
    assert done == [0.0]


def test_isotime_formats_utc_with_z() -> None:
    assert isotime(0) == "1970-01-01T00:00:00Z"
    assert isotime(START) == "2023-11-14T22:13:20Z"
    assert isotime(START + 0.25) == "2023-11-14T22:13:20Z"
    assert isotime(START + 0.25, subsecond=True) == "2023-11-14T22:13:20.250000Z"


def test_utc_datetime_reads_the_given_clock() -> None:
    clock = VirtualClock(start=START)
    clock.advance(40.0)
    assert utc_datetime(clock) == dt.datetime(2023, 11, 14, 22, 14, 0, tzinfo=dt.UTC)


def test_real_clock_monotonic_does_not_go_back() -> None:
    clock = RealClock()
    first = clock.monotonic()
    assert clock.monotonic() >= first
    assert clock.now() > START


# -- timers ------------------------------------------------------------------------------


def test_a_cancelled_timer_never_fires_and_the_others_keep_their_order() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[str] = []
    timers = {name: clock.call_at(2.0, lambda name=name: fired.append(name)) for name in "abcd"}
    late = clock.call_at(1.0, lambda: fired.append("early"))
    timers["b"].cancel()
    assert timers["b"].cancelled() and not timers["a"].cancelled()
    clock.advance(5.0)
    assert fired == ["early", "a", "c", "d"]
    late.cancel()  # after it ran: nothing to undo
    clock.advance(5.0)
    assert fired == ["early", "a", "c", "d"]


def test_call_later_counts_from_the_current_virtual_time() -> None:
    clock = VirtualClock(start=100.0)
    fired: list[tuple[str, float]] = []
    clock.advance(10.0)
    clock.call_later(5.0, lambda: fired.append(("five", clock.now())))
    clock.call_later(-3.0, lambda: fired.append(("past", clock.now())))
    clock.advance(4.0)
    assert fired == [("past", 110.0)]
    clock.advance(1.0)
    assert fired[-1] == ("five", 115.0)


def test_a_timer_set_by_a_firing_timer_fires_in_the_same_advance_when_due() -> None:
    clock = VirtualClock(start=0.0)
    beats: list[float] = []

    def beat() -> None:
        beats.append(clock.now())
        clock.call_later(2.0, beat)

    clock.call_later(2.0, beat)
    clock.advance(7.0)
    assert beats == [2.0, 4.0, 6.0]
    assert clock.now() == 7.0


def test_call_later_under_run_for_interleaves_with_sleepers() -> None:
    clock = VirtualClock(start=0.0)
    seen: list[tuple[str, float]] = []

    async def sleeper() -> None:
        await clock.sleep(3.0)
        seen.append(("sleeper", clock.now()))
        clock.call_later(1.0, lambda: seen.append(("set by sleeper", clock.now())))

    async def main() -> None:
        clock.call_later(2.0, lambda: seen.append(("timer", clock.now())))
        task = asyncio.create_task(sleeper())
        await clock.run_for(10.0)
        await task

    asyncio.run(main())
    assert seen == [("timer", 2.0), ("sleeper", 3.0), ("set by sleeper", 4.0)]


def test_a_cancelled_sleeper_does_not_wake() -> None:
    clock = VirtualClock(start=0.0)
    woke: list[float] = []

    async def nap() -> None:
        await clock.sleep(5.0)
        woke.append(clock.now())

    async def main() -> None:
        task = asyncio.create_task(nap())
        await clock.run_for(1.0)
        task.cancel()
        await clock.run_for(10.0)
        assert task.cancelled()

    asyncio.run(main())
    assert woke == []


def test_real_clock_timers_fire_in_order_on_the_running_loop() -> None:
    clock = RealClock()
    fired: list[tuple[str, float]] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        started = clock.monotonic()

        def record(name: str) -> None:
            assert asyncio.get_running_loop() is loop
            fired.append((name, clock.monotonic() - started))

        clock.call_later(0.04, lambda: record("forty"))
        clock.call_later(0.02, lambda: record("twenty"))
        clock.call_at(clock.now() + 0.03, lambda: record("thirty, wall time"))
        clock.call_at(clock.now() - 5.0, lambda: record("past"))
        dropped = clock.call_later(0.01, lambda: record("cancelled"))
        dropped.cancel()
        assert dropped.cancelled()
        await asyncio.sleep(0.2)

    asyncio.run(main())
    assert [name for name, _ in fired] == ["past", "twenty", "thirty, wall time", "forty"]
    elapsed = dict(fired)
    # Not before their delay (a little slack: the wall clock and the loop's may differ by µs).
    assert elapsed["twenty"] >= 0.019 and elapsed["forty"] >= 0.039


def test_real_clock_timers_need_a_running_loop() -> None:
    with pytest.raises(NoRunningLoop, match="running event loop"):
        RealClock().call_later(1.0, lambda: None)
    assert issubclass(NoRunningLoop, RuntimeError)


# -- scaled time -------------------------------------------------------------------------


def test_a_scaled_clock_starts_at_its_base_and_runs_faster_below_one() -> None:
    base = VirtualClock(start=1000.0)
    base.advance(10.0)
    fast = ScaledClock(base, 0.05)  # ha_time_scale 0.05: twenty times faster
    assert (fast.now(), fast.monotonic()) == (1010.0, 10.0)
    base.advance(1.0)
    assert fast.now() == pytest.approx(1030.0)
    assert fast.monotonic() == pytest.approx(30.0)
    slow = ScaledClock(base, 4.0)
    base.advance(8.0)
    assert slow.now() == pytest.approx(1013.0)
    assert fast.now() == pytest.approx(1190.0)


def test_scaled_timers_and_sleeps_take_scale_times_the_base_time() -> None:
    base = VirtualClock(start=0.0)
    clock = ScaledClock(base, 0.25)  # exact in binary: no rounding in the assertions
    fired: list[tuple[str, float, float]] = []
    clock.call_later(8.0, lambda: fired.append(("later", base.now(), clock.now())))
    clock.call_at(4.0, lambda: fired.append(("at", base.now(), clock.now())))
    handle = clock.call_later(1.0, lambda: fired.append(("cancelled", 0.0, 0.0)))
    handle.cancel()
    base.advance(0.99)
    assert fired == []
    base.advance(0.01)
    assert fired == [("at", 1.0, 4.0)]
    base.advance(1.0)
    assert fired[-1] == ("later", 2.0, 8.0)
    assert len(fired) == 2

    async def main() -> None:
        task = asyncio.create_task(clock.sleep(40.0))
        await base.run_for(9.99)
        assert not task.done()
        await base.run_for(0.01)
        assert task.done()

    asyncio.run(main())
    assert clock.now() == 48.0


def test_a_scaled_real_clock_fires_its_timers_sooner() -> None:
    clock = ScaledClock(RealClock(), 0.01)
    fired: list[float] = []

    async def main() -> None:
        started = clock.base.monotonic()
        clock.call_later(5.0, lambda: fired.append(clock.base.monotonic() - started))
        await clock.sleep(10.0)  # 0.1 s of real time

    asyncio.run(main())
    assert len(fired) == 1
    assert 0.049 <= fired[0] < 1.0  # 5 lab seconds in 50 ms, not 5 s


def test_a_wall_stamp_ages_in_the_scaled_clocks_seconds() -> None:
    base = VirtualClock(start=1000.0)
    lab = ScaledClock(base, 0.25)  # four times faster, exact in binary
    before = base.now() - 2.0  # a record stamped 2 s of wall time before the lab began
    base.advance(3.0)
    stamped = base.now()  # and one stamped now, 3 s of wall time later
    base.advance(1.0)
    # Their ages on the lab's time line: four times the wall clock's.
    assert lab.now() - lab.from_wall(stamped) == 4.0
    assert lab.now() - lab.from_wall(before) == 24.0
    # And back: the wall stamp of a record 8 lab seconds old is 2 s of wall time old.
    assert lab.to_wall(lab.now() - 8.0) == base.now() - 2.0
    assert lab.to_wall(lab.from_wall(stamped)) == stamped
    # The wall clocks' own time line is the wall's.
    assert (base.from_wall(12.5), base.to_wall(12.5)) == (12.5, 12.5)
    assert (RealClock().from_wall(12.5), RealClock().to_wall(12.5)) == (12.5, 12.5)


@pytest.mark.parametrize("scale", [0.0, -1.0, math.inf, math.nan])
def test_a_scale_must_be_positive_and_finite(scale: float) -> None:
    with pytest.raises(ValueError, match="time scale"):
        ScaledClock(VirtualClock(), scale)


def test_scaled_at_one_is_the_base_clock_itself() -> None:
    base = VirtualClock()
    assert scaled(base, 1.0) is base
    faster = scaled(base, 0.5)
    assert isinstance(faster, ScaledClock) and faster.scale == 0.5


def test_virtual_clock_says_when_its_next_live_timer_is_due() -> None:
    clock = VirtualClock()
    assert clock.next_due() is None
    first = clock.call_later(5, lambda: None)
    clock.call_later(7, lambda: None)
    assert clock.next_due() == START + 5
    first.cancel()
    assert clock.next_due() == START + 7
    clock.advance(10)
    assert clock.next_due() is None
