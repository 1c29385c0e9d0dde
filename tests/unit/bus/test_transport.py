"""The bus over a broker whose connections come and go (``InProcessBus.transport``), over
links that may be slow or lossy.

A host without a connection neither consumes nor publishes: what it sends waits in
the sender (oslo's publish blocks and retries after the reconnect), what is sent to
it waits in its queue; a reply whose replier or caller lost its connection is lost,
so the call ends in MessagingTimeout after its timeout, on the bus's lab clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from stacklab.bus import InProcessBus, MessagingTimeout, Target, on_host
from stacklab.clock import ScaledClock, VirtualClock

API = "controller1.openstack.local"
CONDUCTOR = "controller2.openstack.local"
COMPUTE = "compute1.openstack.local"


class Broker:
    """Which hosts are connected (a stand-in for the lab's RabbitMQ clients)."""

    def __init__(self, bus: InProcessBus) -> None:
        self.bus = bus
        self.down: set[str | None] = set()
        # Each host's link to its broker: one frame's delay (either way), or a list of the
        # next frames' (None: the connection dies under that frame).
        self.link: dict[str | None, float] = {}
        self.frames: dict[str | None, list[float | None]] = {}

    def connected(self, host: str | None) -> bool:
        return host not in self.down

    def transit(self, host: str | None) -> float | None:
        queued = self.frames.get(host)
        took = queued.pop(0) if queued else self.link.get(host, 0.0)
        if took is None:
            self.down.add(host)  # TCP gave up: the connection is lost
        return took

    def lose(self, *hosts: str | None) -> None:
        self.down.update(hosts)
        self.bus.transport_changed()

    def regain(self, *hosts: str | None) -> None:
        self.down.difference_update(hosts)
        self.bus.transport_changed()


class Conductor:
    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.seen: list[str] = []

    def build(self, name: str) -> None:
        self.seen.append(name)

    async def slow(self, seconds: float) -> str:
        await self.clock.sleep(seconds)
        return "done"


def run(test: Callable[[InProcessBus, Broker, Conductor, VirtualClock],
                       Coroutine[Any, Any, None]], scale: float = 1.0) -> None:
    clock = VirtualClock(start=0.0)
    bus = InProcessBus(clock, lab_clock=ScaledClock(clock, scale) if scale != 1.0 else None)
    broker = Broker(bus)
    bus.transport = broker
    conductor = Conductor(clock)
    bus.listen(Target("conductor", CONDUCTOR), conductor)
    asyncio.run(test(bus, broker, conductor, clock))


def test_a_cast_from_a_disconnected_host_waits_in_the_sender_until_it_reconnects() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.lose(API)
        with on_host(API):
            await bus.cast(Target("conductor"), "build", name="vm1")
        await clock.run_for(30)
        assert conductor.seen == [] and bus.held() == 1
        assert bus.queue_depth(Target("conductor")) == 0
        broker.regain(API)
        await clock.run_for(0)
        assert conductor.seen == ["vm1"] and bus.held() == 0

    run(test)


def test_a_cast_to_a_disconnected_consumer_is_kept_in_its_queue() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.lose(CONDUCTOR)
        with on_host(API):
            await bus.cast(Target("conductor"), "build", name="vm1")
        await clock.run_for(300)
        assert conductor.seen == [] and bus.queue_depth(Target("conductor")) == 1
        broker.regain(CONDUCTOR)
        await clock.run_for(0)
        assert conductor.seen == ["vm1"]

    run(test)


def test_a_call_to_a_consumer_without_connection_times_out_after_rpc_response_timeout() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.lose(CONDUCTOR)
        with on_host(API):
            call = asyncio.ensure_future(bus.call(Target("conductor"), "slow", seconds=0))
        await clock.run_for(59.9)
        assert not call.done()
        await clock.run_for(0.1)
        with pytest.raises(MessagingTimeout, match="Timed out waiting for a reply"):
            call.result()
        # The request expired in its queue: the conductor never runs it once back.
        broker.regain(CONDUCTOR)
        await clock.run_for(0)
        assert bus.metrics()["conductor"].expired == 1

    run(test)


def test_a_reply_is_lost_with_the_replier_s_connection() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        with on_host(API):
            call = asyncio.ensure_future(bus.call(Target("conductor"), "slow", seconds=10))
        await clock.run_for(5)
        broker.lose(CONDUCTOR)  # its broker died while it worked
        await clock.run_for(10)
        broker.regain(CONDUCTOR)
        assert not call.done()
        await clock.run_for(45)
        assert isinstance(call.exception(), MessagingTimeout)
        assert bus.metrics()["conductor"].replies_lost == 1

    run(test)


def test_timeouts_run_on_the_lab_s_clock() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.lose(CONDUCTOR)
        call = asyncio.ensure_future(bus.call(Target("conductor"), "slow", seconds=0))
        # ha_time_scale 0.02: the 60 lab seconds of rpc_response_timeout are 1.2 s.
        await clock.run_for(1.19)
        assert not call.done()
        await clock.run_for(0.02)
        assert isinstance(call.exception(), MessagingTimeout)

    run(test, scale=0.02)


# -- links: what a frame costs between a host and its broker ---------------------------


def test_a_call_pays_each_side_s_link_both_ways() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.link.update({API: 0.5, CONDUCTOR: 0.25})
        with on_host(API):
            call = asyncio.ensure_future(bus.call(Target("conductor"), "slow", seconds=0))
        # Request up API's link and down the conductor's, the reply up the conductor's and
        # down API's: 0.5 + 0.25 + 0.25 + 0.5.
        await clock.run_for(1.49)
        assert not call.done()
        await clock.run_for(0.02)
        assert call.result() == "done"

    run(test)


def test_a_call_s_timeout_counts_from_the_send_whatever_the_link_costs() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.link[API] = 35.0
        with on_host(API):
            call = asyncio.ensure_future(bus.call(Target("conductor"), "build", name="vm1"))
        await clock.run_for(40)
        assert conductor.seen == ["vm1"]  # handled at 35 s; its answer is due at 70 s
        await clock.run_for(20)
        assert isinstance(call.exception(), MessagingTimeout)

    run(test)


def test_frames_on_one_connection_arrive_in_the_order_sent() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        # The first cast's segment is retransmitted for 3 s; the second got through at once
        # but TCP hands it over only after the first.
        broker.frames[API] = [3.0, 0.0]
        with on_host(API):
            await bus.cast(Target("conductor"), "build", name="vm1")
            await bus.cast(Target("conductor"), "build", name="vm2")
        await clock.run_for(2.9)
        assert conductor.seen == []
        await clock.run_for(0.2)
        assert conductor.seen == ["vm1", "vm2"]

    run(test)


def test_a_publish_whose_connection_dies_under_it_is_sent_again_after_the_reconnect() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.frames[API] = [None]
        with on_host(API):
            await bus.cast(Target("conductor"), "build", name="vm1")
        await clock.run_for(30)
        assert conductor.seen == [] and bus.held() == 1
        broker.regain(API)
        await clock.run_for(0)
        assert conductor.seen == ["vm1"]

    run(test)


def test_a_delivery_whose_consumer_s_connection_dies_under_it_is_requeued() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.link[CONDUCTOR] = 2.0
        with on_host(API):
            await bus.cast(Target("conductor"), "build", name="vm1")
        await clock.run_for(1)
        broker.lose(CONDUCTOR)  # the frame is on its way down when the connection goes
        await clock.run_for(5)
        assert conductor.seen == [] and bus.queue_depth(Target("conductor")) == 1
        broker.link[CONDUCTOR] = 0.0
        broker.regain(CONDUCTOR)
        await clock.run_for(0)
        assert conductor.seen == ["vm1"]

    run(test)


def test_a_cast_the_broker_has_is_not_lost_with_its_sender_s_connection() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        broker.lose(CONDUCTOR)
        broker.link[API] = 1.0
        with on_host(API):
            await bus.cast(Target("conductor"), "build", name="vm1")
        await clock.run_for(2)  # queued on the broker
        broker.lose(API)
        broker.regain(CONDUCTOR)
        await clock.run_for(0)
        assert conductor.seen == ["vm1"] and bus.held() == 0

    run(test)


def test_a_notification_pays_its_sender_s_link() -> None:
    async def test(bus: InProcessBus, broker: Broker, conductor: Conductor,
                   clock: VirtualClock) -> None:
        seen: list[str] = []
        bus.subscribe("compute.*", lambda n: seen.append(n.event_type))
        broker.link[COMPUTE] = 0.4
        with on_host(COMPUTE):
            await bus.notify("compute.compute1", "compute.instance.create.end", {})
        await clock.run_for(0.3)
        assert seen == []
        await clock.run_for(0.2)
        assert seen == ["compute.instance.create.end"]

    run(test)
