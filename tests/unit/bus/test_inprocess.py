"""The in-process bus: oslo.messaging semantics on one event loop, in virtual time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest

from stacklab.bus import (
    InProcessBus,
    InvalidTarget,
    MessagingTimeout,
    NoSuchMethod,
    Notification,
    Target,
    remote_origin,
)
from stacklab.clock import VirtualClock

COMPUTE1 = "compute1.openstack.local"
COMPUTE2 = "compute2.openstack.local"


class QuotaExceeded(Exception):
    pass


class ComputeEndpoint:
    """Records what reached it; ``log`` is shared so order across hosts shows."""

    def __init__(self, host: str, log: list[tuple[str, str, Any]], clock: VirtualClock) -> None:
        self.host = host
        self.log = log
        self.clock = clock
        self.contexts: list[dict[str, Any]] = []

    def build_instance(self, instance: str) -> None:
        self.log.append((self.host, "build_instance", instance))

    async def get_console(self, instance: str, ctxt: dict[str, Any]) -> str:
        self.contexts.append(ctxt)
        return f"console of {instance} on {self.host}"

    def get_host(self) -> str:
        return self.host

    def refresh_cache(self, generation: int) -> None:
        self.log.append((self.host, "refresh_cache", generation))

    def reserve(self, vcpus: int) -> None:
        raise QuotaExceeded(f"{vcpus} vcpus over quota")

    async def slow_snapshot(self, seconds: float) -> str:
        await self.clock.sleep(seconds)
        self.log.append((self.host, "slow_snapshot", seconds))
        return "snapshot done"

    def _private(self) -> str:
        return "never reachable"


def run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(scenario())


async def start(work: Awaitable[Any]) -> asyncio.Task[Any]:
    """Start ``work`` and let it reach its first wait.

    VirtualClock.run_for only fires timers registered before it settles, so a
    call must have armed its timeout timer before time is advanced.
    """
    task = asyncio.ensure_future(work)
    for _ in range(5):
        await asyncio.sleep(0)
    return task


def make_bus() -> tuple[InProcessBus, VirtualClock]:
    clock = VirtualClock()
    return InProcessBus(clock), clock


def test_call_returns_the_endpoint_result_and_passes_ctxt() -> None:
    bus, clock = make_bus()
    endpoint = ComputeEndpoint(COMPUTE1, [], clock)
    bus.listen(Target("compute", COMPUTE1), endpoint)
    context = {
        "request_id": "req-1",
        "global_request_id": "req-g",
        "user_id": "u",
        "project_id": "p",
    }

    async def scenario() -> None:
        result = await bus.call(
            Target("compute", COMPUTE1), "get_console", ctxt=context, instance="vm1"
        )
        assert result == f"console of vm1 on {COMPUTE1}"
        # A sync method without a ctxt parameter works too.
        assert await bus.call(Target("compute"), "get_host") == COMPUTE1

    run(scenario)
    assert endpoint.contexts == [context]
    assert endpoint.contexts[0] is not context  # a copy travels, not the caller's dict
    counters = bus.metrics()["compute"]
    assert (counters.calls_sent, counters.calls_delivered) == (2, 2)


def test_cast_to_the_bare_topic_goes_round_robin_across_servers() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))
    bus.listen(Target("compute", COMPUTE2), ComputeEndpoint(COMPUTE2, log, clock))

    async def scenario() -> None:
        for name in ("vm1", "vm2", "vm3", "vm4"):
            await bus.cast(Target("compute"), "build_instance", instance=name)
        await bus.drain()

    run(scenario)
    assert log == [
        (COMPUTE1, "build_instance", "vm1"),
        (COMPUTE2, "build_instance", "vm2"),
        (COMPUTE1, "build_instance", "vm3"),
        (COMPUTE2, "build_instance", "vm4"),
    ]
    counters = bus.metrics()["compute"]
    assert (counters.casts_sent, counters.casts_delivered) == (4, 4)


def test_cast_nowait_routes_at_once_and_runs_the_handler_on_the_loops_next_turn() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))
    # Outside any loop the cast waits in its queue, as for a consumer that is away.
    bus.cast_nowait(Target("compute", COMPUTE1), "build_instance", instance="early")
    assert bus.queue_depth(Target("compute", COMPUTE1)) == 1

    async def scenario() -> None:
        bus.cast_nowait(Target("compute", COMPUTE1), "build_instance", instance="vm1")
        assert log == []  # nothing ran synchronously
        await bus.drain()

    run(scenario)
    assert log == [(COMPUTE1, "build_instance", "early"), (COMPUTE1, "build_instance", "vm1")]
    assert bus.metrics()["compute"].casts_sent == 2


def test_server_targeted_messages_reach_only_that_server() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))
    bus.listen(Target("compute", COMPUTE2), ComputeEndpoint(COMPUTE2, log, clock))

    async def scenario() -> None:
        for name in ("vm1", "vm2", "vm3"):
            await bus.cast(Target("compute", COMPUTE2), "build_instance", instance=name)
        assert await bus.call(Target("compute", COMPUTE2), "get_host") == COMPUTE2
        await bus.drain()

    run(scenario)
    assert [host for host, _, _ in log] == [COMPUTE2, COMPUTE2, COMPUTE2]


def test_fanout_reaches_every_listener_of_the_topic_only() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))
    bus.listen(Target("compute", COMPUTE2), ComputeEndpoint(COMPUTE2, log, clock))
    bus.listen(Target("scheduler", "controller1"), ComputeEndpoint("controller1", log, clock))

    async def scenario() -> None:
        await bus.cast(Target("compute", fanout=True), "refresh_cache", generation=7)
        await bus.drain()

    run(scenario)
    assert log == [(COMPUTE1, "refresh_cache", 7), (COMPUTE2, "refresh_cache", 7)]
    counters = bus.metrics()["compute"]
    assert (counters.fanout_casts_sent, counters.fanout_deliveries) == (1, 2)
    assert "scheduler" not in bus.metrics()


def test_a_call_cannot_be_fanout_nor_a_listener_listen_to_one() -> None:
    bus, _ = make_bus()
    with pytest.raises(InvalidTarget):
        bus.listen(Target("compute", fanout=True), object())

    async def scenario() -> None:
        with pytest.raises(InvalidTarget):
            await bus.call(Target("compute", fanout=True), "get_host")

    run(scenario)
    with pytest.raises(InvalidTarget):
        Target("")


def test_endpoint_exceptions_travel_back_to_the_caller() -> None:
    bus, clock = make_bus()
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, [], clock))

    async def scenario() -> None:
        with pytest.raises(QuotaExceeded, match="8 vcpus over quota") as raised:
            await bus.call(Target("compute"), "reserve", vcpus=8)
        origin = remote_origin(raised.value)
        assert origin is not None
        assert origin.class_name == "QuotaExceeded"
        assert origin.module == __name__
        assert (origin.topic, origin.server, origin.method) == ("compute", COMPUTE1, "reserve")

        with pytest.raises(NoSuchMethod):
            await bus.call(Target("compute"), "no_such_thing")
        # oslo's default access policy: private methods are not exposed.
        with pytest.raises(NoSuchMethod):
            await bus.call(Target("compute"), "_private")
        # A bad argument list fails remotely and comes back as the TypeError.
        with pytest.raises(TypeError):
            await bus.call(Target("compute"), "get_host", unexpected=1)

    run(scenario)
    assert bus.metrics()["compute"].endpoint_errors == 4
    assert remote_origin(ValueError("local")) is None


def test_a_failing_cast_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))

    async def scenario() -> None:
        await bus.cast(Target("compute"), "reserve", vcpus=2)
        await bus.cast(Target("compute"), "build_instance", instance="vm1")
        await bus.drain()

    run(scenario)
    assert "Exception during handling of cast reserve" in caplog.text
    assert log == [(COMPUTE1, "build_instance", "vm1")]


def test_call_times_out_after_60_virtual_seconds_without_waiting() -> None:
    bus, clock = make_bus()
    started = time.perf_counter()

    async def scenario() -> None:
        call = await start(bus.call(Target("conductor"), "ping"))
        await clock.run_for(59.9)
        assert not call.done()
        await clock.run_for(0.1)
        with pytest.raises(MessagingTimeout, match="Timed out waiting for a reply") as raised:
            await call
        assert raised.value.timeout == 60.0
        assert raised.value.method == "ping"

    run(scenario)
    assert time.perf_counter() - started < 5
    counters = bus.metrics()["conductor"]
    assert (counters.calls_sent, counters.calls_timed_out, counters.unroutable) == (1, 1, 1)


def test_an_explicit_timeout_wins_over_the_default() -> None:
    bus, clock = make_bus()
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, [], clock))

    async def scenario() -> None:
        call = await start(bus.call(Target("compute"), "slow_snapshot", timeout=2.0, seconds=5.0))
        await clock.run_for(2.0)
        with pytest.raises(MessagingTimeout):
            await call
        # The handler still finishes; its late reply finds nobody waiting.
        await clock.run_for(5.0)
        await bus.drain()

    run(scenario)


def test_paused_listener_gets_its_queued_messages_on_resume_in_order() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    listener = bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))
    bus.listen(Target("compute", COMPUTE2), ComputeEndpoint(COMPUTE2, log, clock))

    async def scenario() -> None:
        listener.pause()
        await bus.cast(Target("compute", COMPUTE1), "build_instance", instance="vm1")
        await bus.cast(Target("compute", fanout=True), "refresh_cache", generation=1)
        await bus.cast(Target("compute", COMPUTE1), "build_instance", instance="vm2")
        # The shared topic queue hands new work to the host that is still up.
        await bus.cast(Target("compute"), "build_instance", instance="vm3")
        await bus.drain()
        assert log == [(COMPUTE2, "refresh_cache", 1), (COMPUTE2, "build_instance", "vm3")]
        assert bus.queue_depth(Target("compute", COMPUTE1)) == 2
        log.clear()

        listener.resume()
        await bus.drain()

    run(scenario)
    assert log == [
        (COMPUTE1, "build_instance", "vm1"),
        (COMPUTE1, "refresh_cache", 1),
        (COMPUTE1, "build_instance", "vm2"),
    ]
    assert bus.queue_depth(Target("compute", COMPUTE1)) == 0


def test_a_call_queued_past_its_timeout_is_never_executed() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))

    async def scenario() -> None:
        assert bus.pause_server(COMPUTE1) == 1
        call = await start(
            bus.call(Target("compute", COMPUTE1), "slow_snapshot", timeout=30.0, seconds=0.0)
        )
        await clock.run_for(30.0)
        with pytest.raises(MessagingTimeout):
            await call
        assert bus.resume_server(COMPUTE1) == 1
        await bus.drain()

    run(scenario)
    assert log == []
    assert bus.metrics()["compute"].expired == 1


def test_a_reply_from_a_host_that_went_down_mid_call_is_lost() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    listener = bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))

    async def scenario() -> None:
        call = await start(bus.call(Target("compute", COMPUTE1), "slow_snapshot", seconds=10.0))
        await clock.run_for(1.0)
        listener.pause()
        await clock.run_for(59.0)
        with pytest.raises(MessagingTimeout):
            await call

    run(scenario)
    assert log == [(COMPUTE1, "slow_snapshot", 10.0)]
    assert bus.metrics()["compute"].replies_lost == 1


def test_a_fanout_queue_idle_past_its_ttl_loses_its_backlog() -> None:
    clock = VirtualClock()
    bus = InProcessBus(clock, transient_queues_ttl=1800.0)
    log: list[tuple[str, str, Any]] = []
    short = bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))
    long = bus.listen(Target("compute", COMPUTE2), ComputeEndpoint(COMPUTE2, log, clock))

    async def scenario() -> None:
        short.pause()
        long.pause()
        await bus.cast(Target("compute", fanout=True), "refresh_cache", generation=1)
        await clock.run_for(100.0)
        short.resume()
        await clock.run_for(1700.0)
        long.resume()
        await bus.drain()

    run(scenario)
    assert log == [(COMPUTE1, "refresh_cache", 1)]


def test_a_stopped_listener_leaves_its_shared_queue_to_the_next_one() -> None:
    bus, clock = make_bus()
    log: list[tuple[str, str, Any]] = []
    first = bus.listen(Target("volume", "cinder@lvm"), ComputeEndpoint("first", log, clock))

    async def scenario() -> None:
        first.stop()
        await bus.cast(Target("volume", "cinder@lvm"), "build_instance", instance="vol1")
        await bus.cast(Target("backup"), "build_instance", instance="never-declared")
        await bus.drain()
        assert log == []
        # The standby with the same backend_host consumes the same queue.
        bus.listen(Target("volume", "cinder@lvm"), ComputeEndpoint("standby", log, clock))
        await bus.drain()

    run(scenario)
    assert log == [("standby", "build_instance", "vol1")]
    assert first.stopped
    assert bus.metrics()["backup"].unroutable == 1


def test_notifications_reach_subscribers_whose_pattern_matches() -> None:
    bus, clock = make_bus()
    instance_events: list[Notification] = []
    ends: list[str] = []

    async def on_end(notification: Notification) -> None:
        ends.append(notification.event_type)

    bus.subscribe("compute.instance.*", instance_events.append)
    bus.subscribe("*.end", on_end)

    async def scenario() -> None:
        await bus.notify(
            f"compute.{COMPUTE1}",
            "compute.instance.create.end",
            {"instance_id": "vm1"},
            ctxt={"request_id": "req-9"},
        )
        await bus.notify("network.controller1", "port.create.end", {"port_id": "p1"})
        await bus.notify("compute.x", "compute.metrics.update", {}, priority="warning")
        await bus.drain()

    run(scenario)
    assert [n.event_type for n in instance_events] == ["compute.instance.create.end"]
    event = instance_events[0]
    assert event.payload == {"instance_id": "vm1"}
    assert event.priority == "INFO"
    assert event.publisher_id == f"compute.{COMPUTE1}"
    assert event.ctxt == {"request_id": "req-9"}
    assert event.timestamp == clock.now()
    assert ends == ["compute.instance.create.end", "port.create.end"]
    counters = bus.metrics()["notifications"]
    assert (counters.notifications_published, counters.notifications_delivered) == (3, 3)


def test_paused_subscription_queues_and_cancelled_one_stops() -> None:
    bus, _ = make_bus()
    received: list[str] = []
    cancelled: list[str] = []
    subscription = bus.subscribe("volume.*", lambda n: received.append(n.event_type))
    gone = bus.subscribe("volume.*", lambda n: cancelled.append(n.event_type))

    async def scenario() -> None:
        subscription.pause()
        gone.cancel()
        await bus.notify("volume.host", "volume.attach.start", {}, priority="audit")
        await bus.notify("volume.host", "volume.attach.end", {})
        await bus.drain()
        assert received == []
        subscription.resume()
        await bus.drain()
        with pytest.raises(ValueError, match="priority"):
            await bus.notify("volume.host", "volume.attach.end", {}, priority="LOUD")

    run(scenario)
    assert received == ["volume.attach.start", "volume.attach.end"]
    assert cancelled == []


def test_the_same_calls_give_the_same_deliveries() -> None:
    def one_run() -> list[tuple[str, str, Any]]:
        bus, clock = make_bus()
        log: list[tuple[str, str, Any]] = []
        listeners = [
            bus.listen(Target("compute", host), ComputeEndpoint(host, log, clock))
            for host in (COMPUTE1, COMPUTE2, "compute3.openstack.local")
        ]

        async def scenario() -> None:
            for step in range(12):
                if step == 4:
                    listeners[1].pause()
                if step == 8:
                    listeners[1].resume()
                if step % 3 == 0:
                    await bus.cast(Target("compute", fanout=True), "refresh_cache", generation=step)
                else:
                    await bus.cast(Target("compute"), "build_instance", instance=f"vm{step}")
            await bus.drain()

        run(scenario)
        return log

    first = one_run()
    assert len(first) == 8 + 4 * 3
    assert one_run() == first


def test_a_server_started_on_a_host_that_is_down_waits_paused_until_it_is_back() -> None:
    clock = VirtualClock()
    down = {COMPUTE1}
    bus = InProcessBus(clock, host_up=lambda host: host not in down)
    log: list[tuple[str, str, Any]] = []

    async def scenario() -> None:
        listener = bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, log, clock))
        await bus.cast(Target("compute", COMPUTE1), "build_instance", instance="vm1")
        # A bare-topic listener has no host: it is never held back.
        assert not bus.listen(Target("compute"), ComputeEndpoint("any", log, clock)).paused
        await bus.drain()
        assert listener.paused and log == []
        down.clear()
        assert bus.resume_server(COMPUTE1) == 1
        await bus.drain()

    run(scenario)
    assert log == [(COMPUTE1, "build_instance", "vm1")]
