"""Time as an injected source.

No module of stacklab reads the system clock, sleeps or arms a timer directly:
it asks a ``Clock``. The real clock serves a running cloud; the virtual clock
lets tests drive timers (heartbeats, agent-down timeouts, VRRP adverts) in
microseconds; a scaled clock runs another clock's time faster or slower (the
lab's own time, ``[stacklab] ha_time_scale``: every timer of the services on the
lab's nodes runs on it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Timer(Protocol):
    """A pending callback, as asyncio's ``TimerHandle``: cancelling it before it runs stops it."""

    def cancel(self) -> None: ...

    def cancelled(self) -> bool: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time, as tokens and records carry)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for timers and latencies)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once this clock's ``now()`` reaches ``when`` (at once if past)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` after ``delay`` seconds of this clock's time."""

    def from_wall(self, moment: float) -> float:
        """``moment``, a wall-clock reading (a record's stamp), on this clock's time line:
        itself on a wall clock; on a scaled one, moved so that the time since then (or
        until then) comes out in the scaled clock's seconds."""

    def to_wall(self, moment: float) -> float:
        """The wall clock's reading when this clock reads ``moment`` (``from_wall``
        undone): what a record would carry for it."""


class NoRunningLoop(RuntimeError):
    """A real clock's timers run on the event loop, and none is running in this thread."""


def utc_datetime(clock: Clock) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)


def isotime(moment: float, *, subsecond: bool = False) -> str:
    """ISO 8601 in UTC with a ``Z``, as keystone renders token times."""
    value = dt.datetime.fromtimestamp(moment, tz=dt.UTC)
    if subsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


class RealClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        # ``when`` is wall time (what ``now`` says); the loop keeps monotonic time, so the
        # timer becomes a delay here and a later step of the wall clock does not move it.
        return self.call_later(when - time.time(), callback)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise NoRunningLoop("a real clock's timers need a running event loop") from None
        return loop.call_later(max(delay, 0.0), callback)

    def from_wall(self, moment: float) -> float:
        return moment

    def to_wall(self, moment: float) -> float:
        return moment


@dataclass(order=True)
class _VirtualTimer:
    due: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    dead: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.dead = True

    def cancelled(self) -> bool:
        return self.dead


class VirtualClock:
    """A clock that only moves when told to.

    ``advance`` fires every timer (and wakes every sleeper) due on the way, in
    order, so a test can let 75 s of agent-down timeout pass without waiting.
    Timers due at the same moment fire in the order they were set.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._epoch_offset = start
        self._timers: list[_VirtualTimer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._epoch_offset

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(max(seconds, 0.0), wake)
        try:
            await future
        finally:
            timer.cancel()  # a cancelled sleeper leaves no timer behind

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = _VirtualTimer(when, next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.call_at(self._now + delay, callback)

    def from_wall(self, moment: float) -> float:
        return moment

    def to_wall(self, moment: float) -> float:
        return moment

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order (synchronous callbacks)."""
        target = self._now + seconds
        while (timer := self._pop_due(target)) is not None:
            self._now = max(self._now, timer.due)
            timer.callback()
        self._now = target

    async def run_for(self, seconds: float) -> None:
        """Advance in steps, letting woken coroutines run between timers.

        Tasks get to run (and arm new timers) before each look at the timer
        heap, so a timer set by a task started just before is not skipped.
        """
        target = self._now + seconds
        while True:
            await self._settle()
            timer = self._pop_due(target)
            if timer is None:
                break
            self._now = max(self._now, timer.due)
            timer.callback()
        self._now = target
        await self._settle()

    def next_due(self) -> float | None:
        """When the earliest live timer is due (None with none pending)."""
        while self._timers and self._timers[0].dead:
            heapq.heappop(self._timers)
        return self._timers[0].due if self._timers else None

    def _pop_due(self, target: float) -> _VirtualTimer | None:
        """The next live timer due by ``target``, taken off the heap (cancelled ones dropped)."""
        while self._timers and self._timers[0].dead:
            heapq.heappop(self._timers)
        if self._timers and self._timers[0].due <= target:
            return heapq.heappop(self._timers)
        return None

    @staticmethod
    async def _settle(rounds: int = 1, limit: int = 100_000) -> None:
        """Yield until no other task is ready to run (however long their chains of awaits).

        One turn and an empty ready queue suffice: a task that is not ready waits on a
        timer of this clock or on another task, which would be in the queue."""
        loop = asyncio.get_running_loop()
        # CPython keeps the ready callbacks in ``_ready``; without it, a fixed number of turns.
        ready = getattr(loop, "_ready", None)
        for turn in range(limit):
            await asyncio.sleep(0)
            if turn + 1 >= rounds and not ready:
                break


class ScaledClock:
    """Another clock's time run ``scale`` times slower: each of this clock's seconds takes
    ``scale`` seconds of the base clock's (``scale`` 0.05 runs twenty times faster).

    It reads the same as its base when made and moves apart from there; sleeps and
    timers are the base's, stretched, so a scaled clock over a virtual one still moves
    only when the virtual one is advanced. Its base is the wall clock records are
    stamped with: ``from_wall`` puts such a stamp on this clock's time line, so that
    how old a record is comes out in this clock's seconds.
    """

    def __init__(self, base: Clock, scale: float) -> None:
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"time scale {scale!r} is not a positive finite number")
        self.base = base
        self.scale = scale
        self._origin = base.now()
        self._monotonic_origin = base.monotonic()

    def now(self) -> float:
        return self._origin + (self.base.now() - self._origin) / self.scale

    def monotonic(self) -> float:
        elapsed = self.base.monotonic() - self._monotonic_origin
        return self._monotonic_origin + elapsed / self.scale

    async def sleep(self, seconds: float) -> None:
        await self.base.sleep(seconds * self.scale)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return self.base.call_at(self._origin + (when - self._origin) * self.scale, callback)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.base.call_later(delay * self.scale, callback)

    def from_wall(self, moment: float) -> float:
        return self._origin + (self.base.from_wall(moment) - self._origin) / self.scale

    def to_wall(self, moment: float) -> float:
        return self.base.to_wall(self._origin + (moment - self._origin) * self.scale)


def scaled(base: Clock, scale: float) -> Clock:
    """``base`` run at ``scale`` (see ``ScaledClock``); at 1.0 the base itself, so that
    unscaled time is exactly the base's, with no rounding from the conversions."""
    return base if scale == 1.0 else ScaledClock(base, scale)
