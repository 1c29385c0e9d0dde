"""A build's wait for neutron's events, in virtual time: what ends it, and when."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from stacklab.clock import VirtualClock
from stacklab.compute.agents.events import VIF_PLUGGED, InstanceEvents, Outcome

SERVER = "3f1d6b0e-93c5-4c1e-9c1a-0d6e1f1b2a77"
PORTS = [(VIF_PLUGGED, "port-a"), (VIF_PLUGGED, "port-b")]


def plugged(port: str, status: str = "completed", server: str = SERVER) -> dict[str, str]:
    return {"name": VIF_PLUGGED, "server_uuid": server, "tag": port, "status": status}


def run(scenario: Callable[[InstanceEvents, VirtualClock], Awaitable[None]]) -> None:
    clock = VirtualClock()
    events = InstanceEvents(clock)
    events.expect(SERVER)
    asyncio.run(scenario(events, clock))


def started(events: InstanceEvents, timeout: float = 300,
            fatal: bool = True) -> asyncio.Task[Outcome]:
    return asyncio.ensure_future(events.wait(SERVER, PORTS, timeout, fatal=fatal))


def test_the_wait_ends_when_every_port_is_plugged() -> None:
    async def scenario(events: InstanceEvents, clock: VirtualClock) -> None:
        waiting = started(events)
        await clock.run_for(10)
        assert events.deliver(plugged("port-a"))
        await clock.run_for(10)
        assert not waiting.done()  # port-b still to come
        assert events.deliver(plugged("port-b"))
        await clock.run_for(0)
        assert waiting.done() and waiting.result() == Outcome()
        assert waiting.result().ok

    run(scenario)


def test_an_event_that_came_before_the_wait_is_not_lost() -> None:
    async def scenario(events: InstanceEvents, clock: VirtualClock) -> None:
        events.deliver(plugged("port-b"))
        events.deliver(plugged("port-a"))
        outcome = await events.wait(SERVER, PORTS, 300, fatal=True)
        assert outcome.ok
        assert clock.monotonic() == 0

    run(scenario)


def test_the_wait_times_out_after_the_timeout_and_says_what_never_came() -> None:
    async def scenario(events: InstanceEvents, clock: VirtualClock) -> None:
        waiting = started(events, timeout=300)
        events.deliver(plugged("port-a"))
        await clock.run_for(299.9)
        assert not waiting.done()
        await clock.run_for(0.1)
        assert waiting.done()
        assert waiting.result() == Outcome(missing=[(VIF_PLUGGED, "port-b")])
        assert not waiting.result().ok

    run(scenario)


def test_a_failed_event_ends_a_fatal_wait_at_once_and_not_a_lenient_one() -> None:
    async def scenario(events: InstanceEvents, clock: VirtualClock) -> None:
        fatal = started(events, fatal=True)
        events.deliver(plugged("port-a", status="failed"))
        await clock.run_for(0)
        assert fatal.result() == Outcome(failed=[(VIF_PLUGGED, "port-a")],
                                         missing=[(VIF_PLUGGED, "port-b")])

        lenient = started(events, fatal=False)
        await clock.run_for(1)
        assert not lenient.done()  # still waiting for port-b
        events.deliver(plugged("port-b"))
        await clock.run_for(0)
        assert lenient.result() == Outcome(failed=[(VIF_PLUGGED, "port-a")])

    run(scenario)


def test_a_server_going_away_stops_its_wait_and_its_events_are_no_longer_taken() -> None:
    async def scenario(events: InstanceEvents, clock: VirtualClock) -> None:
        waiting = started(events)
        await clock.run_for(5)
        events.clear(SERVER)
        await clock.run_for(0)
        assert waiting.result().cleared
        events.forget(SERVER)
        assert not events.deliver(plugged("port-a"))
        # Another server's events were never expected on this host.
        assert not events.deliver(plugged("port-a", server="another"))

    run(scenario)
