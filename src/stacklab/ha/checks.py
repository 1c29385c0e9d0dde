"""A periodic health check counted as HAProxy counts it (and keepalived's ``vrrp_script``).

Both keep one counter per check, ``health``, from 0 to ``rise + fall - 1``: a passed
check adds one, a failed one takes one away; the checked thing counts as up while
``health >= rise``. Crossing that line snaps the counter to its end: ``fall``
consecutive failures take a fully up server down (HAP src/check.c
``check_notify_failure``: ``health--; if (health < rise) health = 0``), ``rise``
consecutive successes bring a down one up (``check_notify_success``: ``health++; if
(health >= rise) health = rise + fall - 1``). In between the server is
"transitionally" up or down and keeps (or still lacks) its traffic.

The next check starts ``interval`` after the previous one ended (HAP
``process_chk_conn``: ``t->expire = tick_add(now_ms, srv_getinter(check))`` once the
check is over), so a check that times out stretches the period: a powered-off
server is probed every ``timeout + inter``. ``fastinter``/``downinter`` default to
``inter`` and the lab sets neither (HAG, kolla), so one interval serves all states.

Checks only matter while their result can move the counter: a check whose outcome
agrees with a counter already at its end sleeps, keeping its schedule, until
``poke`` says something it probes may have changed (a fault, a Galera state).
That keeps a quiet lab free of timers while every check still runs at the
moment HAProxy would have run it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

from stacklab.clock import Clock, Timer

# HAProxy's check status names (HAP doc/configuration.txt, "check_status"), as its stats
# page and logs show them: what the last check of a server concluded.
L4OK = "L4OK"  # TCP connect succeeded (a TCP-mode check)
L4TOUT = "L4TOUT"  # connect timed out: the host does not answer (powered off, cut off)
L4CON = "L4CON"  # connection refused (RST): the host is up, its process is not
L7OK = "L7OK"  # HTTP check answered 2xx/3xx
L7STS = "L7STS"  # HTTP check answered another status (clustercheck's 503)
INI = "INI"  # not checked yet


@dataclass(frozen=True, slots=True)
class Probe:
    """One check's outcome, decided when it starts: passed or not, how long it takes to
    conclude (a connect timeout lasts; a refusal or an HTTP answer does not), and why."""

    ok: bool
    duration: float = 0.0
    status: str = L7OK


class PeriodicCheck:
    """One health check (a server's in a backend, or keepalived's track script)."""

    def __init__(self, clock: Clock, probe: Callable[[], Probe], *, interval: float,
                 rise: int, fall: int, health: int | None = None,
                 on_change: Callable[[bool], None] | None = None,
                 first_at: float | None = None) -> None:
        if interval <= 0 or rise < 1 or fall < 1:
            raise ValueError("interval > 0, rise >= 1 and fall >= 1")
        self.clock = clock
        self.probe = probe
        self.interval = interval
        self.rise = rise
        self.fall = fall
        self.health = self.full if health is None else health
        if not 0 <= self.health <= self.full:
            raise ValueError(f"health {self.health} is outside 0..{self.full}")
        self.on_change = on_change
        self.last_status = INI
        self._next_start = clock.now() + interval if first_at is None else first_at
        self._period = interval  # the schedule's step while the check sleeps
        self._timer: Timer | None = None
        self._stopped = False
        self._schedule()

    @property
    def full(self) -> int:
        return self.rise + self.fall - 1

    @property
    def up(self) -> bool:
        return self.health >= self.rise

    def describe(self) -> str:
        """HAProxy's ``UP``, ``UP 1/5`` (going down), ``DOWN``, ``DOWN 1/2`` (going up)."""
        if self.up:
            failed = self.full - self.health
            return "UP" if failed == 0 else f"UP {failed}/{self.fall}"
        return "DOWN" if self.health == 0 else f"DOWN {self.health}/{self.rise}"

    def poke(self) -> None:
        """Something the probe reads may have changed: check again at the next scheduled time."""
        if not self._stopped and self._timer is None:
            self._schedule()

    def stop(self) -> None:
        """The checker itself is gone (HAProxy or keepalived stopped): no more checks."""
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self) -> None:
        now = self.clock.now()
        if self._next_start < now:
            # Checks that ran while it slept agreed with the counter: skip past them.
            self._next_start += math.ceil((now - self._next_start) / self._period) * self._period
        self._timer = self.clock.call_at(self._next_start, self._start)

    def _start(self) -> None:
        self._timer = None
        now = self.clock.now()
        probe = self.probe()
        if (probe.ok and self.health == self.full) or (not probe.ok and self.health == 0):
            # Nothing this check could change: sleep, keeping the schedule it would follow.
            self.last_status = probe.status
            self._period = probe.duration + self.interval
            self._next_start = now + self._period
            return
        self._timer = self.clock.call_at(now + probe.duration,
                                         functools.partial(self._finish, probe))

    def _finish(self, probe: Probe) -> None:
        self._timer = None
        was_up = self.up
        if probe.ok:
            if self.health < self.full:
                self.health += 1
                if self.health >= self.rise:
                    self.health = self.full
        elif self.health > 0:
            self.health -= 1
            if self.health < self.rise:
                self.health = 0
        self.last_status = probe.status
        self._next_start = self.clock.now() + self.interval
        self._period = self.interval
        if self.on_change is not None and was_up != self.up:
            self.on_change(self.up)
        if not self._stopped:
            self._schedule()
