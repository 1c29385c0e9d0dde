"""What nova-compute waits for from other services while it builds a server.

nova-compute spawning a server whose ports neutron has not wired yet (their
status is not ACTIVE) waits for neutron's ``network-vif-plugged`` event for
each of them, for ``[DEFAULT] vif_plugging_timeout`` seconds (300 upstream; 0
waits for nothing). An event whose status is not ``completed``, or the timeout,
fails the build when ``vif_plugging_is_fatal`` (upstream's default); otherwise
it is logged and the server boots anyway.

The events reach the compute through ``external_instance_event`` (nova-api's
``POST /os-server-external-events``, then the bus to the server's host), keyed
as upstream by the event's name and tag (the port's id). Upstream prepares for
an event before plugging the device that causes it; here a build starts
collecting its server's events before it asks neutron for ports, so an event
that comes before the build waits for it is kept, not lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stacklab.clock import Clock

VIF_PLUGGED = "network-vif-plugged"
COMPLETED = "completed"

EventKey = tuple[str, str | None]  # the event's name and tag


@dataclass(frozen=True)
class VifPlugging:
    """nova's ``[DEFAULT] vif_plugging_timeout`` and ``vif_plugging_is_fatal``."""

    timeout: float = 300
    fatal: bool = True


@dataclass
class Outcome:
    """How a wait ended: the events that did not complete, and the ones that never came."""

    failed: list[EventKey] = field(default_factory=list)
    missing: list[EventKey] = field(default_factory=list)
    # The server's build was called off (it is being deleted): nothing more will come.
    cleared: bool = False

    @property
    def ok(self) -> bool:
        return not (self.failed or self.missing or self.cleared)


class InstanceEvents:
    """The events of the servers being built on one host, and the builds waiting for them."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._received: dict[str, dict[EventKey, str]] = {}
        self._wakers: dict[str, asyncio.Future[None]] = {}
        self._cleared: set[str] = set()

    def expect(self, uuid: str) -> None:
        """Keep what comes for ``uuid`` from now on, until ``forget``."""
        self._received.setdefault(uuid, {})
        self._cleared.discard(uuid)

    def forget(self, uuid: str) -> None:
        self._received.pop(uuid, None)
        self._cleared.discard(uuid)
        self._wake(uuid)

    def clear(self, uuid: str) -> None:
        """The server is going away: a build waiting for its events stops waiting."""
        if uuid in self._received:
            self._cleared.add(uuid)
            self._wake(uuid)

    def deliver(self, event: Mapping[str, Any]) -> bool:
        """Take an event; False when no build of this host expects its server's events."""
        received = self._received.get(event["server_uuid"])
        if received is None:
            return False
        received[(event["name"], event.get("tag"))] = event.get("status", COMPLETED)
        self._wake(event["server_uuid"])
        return True

    async def wait(self, uuid: str, wanted: Iterable[EventKey], timeout: float, *,
                   fatal: bool) -> Outcome:
        """Until every wanted event came, one failed (when ``fatal``), or ``timeout`` passed."""
        wanted = sorted(set(wanted), key=str)
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            self._wake(uuid)

        timer = self._clock.call_later(timeout, expire)
        try:
            while True:
                received = self._received.get(uuid, {})
                outcome = Outcome(
                    failed=[key for key in wanted if received.get(key, COMPLETED) != COMPLETED],
                    missing=[key for key in wanted if key not in received],
                    cleared=uuid in self._cleared or uuid not in self._received)
                if not outcome.missing or outcome.cleared or expired or (
                        fatal and outcome.failed):
                    return outcome
                waker = self._wakers[uuid] = asyncio.get_running_loop().create_future()
                await waker
        finally:
            timer.cancel()
            self._wakers.pop(uuid, None)

    def _wake(self, uuid: str) -> None:
        waker = self._wakers.get(uuid)
        if waker is not None and not waker.done():
            waker.set_result(None)
