"""The injected clocks: the virtual one moves only when told, firing timers in order."""

from __future__ import annotations

import asyncio
import datetime as dt

from stacklab.clock import RealClock, VirtualClock, isotime, utc_datetime

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
