"""Time as an injected source.

No module of stacklab reads the system clock or sleeps directly: it asks a
``Clock``. The real clock serves a running cloud; the virtual clock lets tests
drive timers (heartbeats, agent-down timeouts, VRRP adverts) in microseconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall time, as tokens and records carry)."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for timers and latencies)."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""


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


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    wake: Callable[[], None] = field(compare=False)


class VirtualClock:
    """A clock that only moves when told to.

    ``advance`` fires every sleeper due on the way, in order, so a test can let
    75 s of agent-down timeout pass without waiting.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._epoch_offset = start
        self._timers: list[_Timer] = []
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

        heapq.heappush(self._timers, _Timer(self._now + max(seconds, 0.0), next(self._seq), wake))
        await future

    def call_at(self, due: float, callback: Callable[[], None]) -> None:
        """Run a plain callback when virtual time reaches ``due``."""
        heapq.heappush(self._timers, _Timer(due, next(self._seq), callback))

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order (synchronous callbacks)."""
        target = self._now + seconds
        while self._timers and self._timers[0].due <= target:
            timer = heapq.heappop(self._timers)
            self._now = max(self._now, timer.due)
            timer.wake()
        self._now = target

    async def run_for(self, seconds: float) -> None:
        """Advance in steps, letting woken coroutines run between timers.

        Tasks get to run (and arm new timers) before each look at the timer
        heap, so a timer set by a task started just before is not skipped.
        """
        target = self._now + seconds
        while True:
            await self._settle()
            if not self._timers or self._timers[0].due > target:
                break
            timer = heapq.heappop(self._timers)
            self._now = max(self._now, timer.due)
            timer.wake()
        self._now = target
        await self._settle()

    @staticmethod
    async def _settle(rounds: int = 5, limit: int = 100_000) -> None:
        """Yield until no other task is ready to run (however long their chains of awaits)."""
        loop = asyncio.get_running_loop()
        # CPython keeps the ready callbacks in ``_ready``; without it, a fixed number of turns.
        ready = getattr(loop, "_ready", None)
        for turn in range(limit):
            await asyncio.sleep(0)
            if turn + 1 >= rounds and not ready:
                break
