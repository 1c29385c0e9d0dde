"""The control plane's own time: a virtual clock that follows the lab's clock on demand.

keepalived, HAProxy's health checks and Galera's membership run on timers. Armed
on the cloud's clock, they would need a running event loop (a real clock outside
one cannot arm a timer) and would tick hundreds of times a minute whether or not
anybody looks. Here they are armed on a ``VirtualClock`` that is moved up to the
lab's time (``[stacklab] ha_time_scale``, the parts' scaled clock) whenever
someone needs the present: a request entering through the VIP, a fault, ``status``,
or the background task that keeps logs on time. Every timer due meanwhile fires in
order at its own moment, so the outcome is the same as if they had fired live.

A fault must be caught up to with the world as it was before it: the follower
that hears it calls ``sync`` before looking at the new state (see
``stacklab.ha.controlplane``).
"""

from __future__ import annotations

import contextvars

from stacklab.clock import Clock, VirtualClock


class LabTime(VirtualClock):
    """A virtual clock that ``sync`` moves to ``source``'s present.

    ``history`` starts it that many seconds in the past: what is started on it at
    once has already lived that long when the lab opens (keepalived's first
    election is over, say), so a new cloud serves at once, as a running lab would.
    """

    def __init__(self, source: Clock, *, history: float = 0.0) -> None:
        anchor = source.now()
        super().__init__(start=anchor - history)
        self.source = source
        self._anchor = anchor
        self._anchor_monotonic = source.monotonic()
        self._syncing = False

    def present(self) -> float:
        """The lab's time now, on this clock's scale (monotonic: a wall-clock step is ignored)."""
        return self._anchor + (self.source.monotonic() - self._anchor_monotonic)

    def sync(self) -> None:
        """Fire every timer due up to the present, in order, each at its own time."""
        if self._syncing:
            return  # a timer's callback asking for the present: it is being reached
        target = self.present()
        if target <= self.now():
            return
        due = self.next_due()
        if due is None or due > target:
            self.advance(target - self.now())
            return
        # The callbacks log as the lab's daemons, not as whichever request happened to
        # ask for the present: they run outside the caller's context variables.
        self._syncing = True
        try:
            contextvars.Context().run(self.advance, target - self.now())
        finally:
            self._syncing = False

    def wait_hint(self, cap: float) -> float:
        """Seconds until the next timer (at most ``cap``): how long the background may sleep."""
        due = self.next_due()
        if due is None:
            return cap
        return max(0.0, min(cap, due - self.present()))
