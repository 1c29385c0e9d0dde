"""The bus on RabbitMQ (stacklab.bus.rabbit) keeps the ``Bus`` contract the in-process bus's
tests pin (tests/unit/bus/test_inprocess.py), where a real broker can: calls, casts
round-robin, server-targeted messages, fanout, exceptions back to the caller, timeouts,
paused and stopped listeners, notifications by pattern. And it is said at start, naming
``[DEFAULT] transport_url``, when the broker refuses the credentials.

One vhost for the module (support/broker.py); each test uses topics of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from stacklab.bus import (
    InvalidTarget,
    MessagingTimeout,
    NoSuchMethod,
    Notification,
    Target,
    remote_origin,
)
from stacklab.bus.rabbit import RabbitBus, RemoteError, TransportConfigError, check_broker
from support.broker import scratch_vhost, until

pytestmark = pytest.mark.timeout(60)

COMPUTE1 = "compute1.openstack.local"
COMPUTE2 = "compute2.openstack.local"


class QuotaExceeded(Exception):
    pass


class ComputeEndpoint:
    def __init__(self, host: str, log: list[tuple[str, str, Any]]) -> None:
        self.host = host
        self.log = log
        self.contexts: list[dict[str, Any]] = []

    def build_instance(self, instance: str) -> None:
        self.log.append((self.host, "build_instance", instance))

    async def get_console(self, instance: str, ctxt: dict[str, Any]) -> str:
        self.contexts.append(ctxt)
        return f"console of {instance} on {self.host}"

    def get_host(self) -> str:
        return self.host

    def reserve(self, vcpus: int) -> None:
        raise QuotaExceeded(f"{vcpus} vcpus over quota")

    def details(self) -> dict[str, Any]:
        return {"host": self.host, "pair": (1, 2), "tags": {"a"}}

    def blocks(self, data: bytes) -> bytes:
        return data + b"\x00\xff"

    def _private(self) -> str:
        return "never reachable"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with scratch_vhost() as vhost_url:
        yield vhost_url


def topic() -> str:
    return f"compute-{uuid.uuid4().hex[:8]}"


def run(url: str, scenario: Callable[[RabbitBus], Coroutine[Any, Any, None]],
        **options: Any) -> None:
    async def main() -> None:
        options.setdefault("rpc_response_timeout", 5)
        bus = RabbitBus(url, allowed_remote_exmods=[__name__], **options)
        try:
            await scenario(bus)
        finally:
            await bus.aclose()

    asyncio.run(main())



def test_call_returns_the_endpoint_result_and_passes_ctxt(url: str) -> None:
    name = topic()

    async def scenario(bus: RabbitBus) -> None:
        endpoint = ComputeEndpoint(COMPUTE1, [])
        bus.listen(Target(name, COMPUTE1), endpoint)
        answer = await bus.call(Target(name, COMPUTE1), "get_console", instance="vm1",
                                ctxt={"request_id": "req-1", "project_id": "p"})
        assert answer == f"console of vm1 on {COMPUTE1}"
        assert endpoint.contexts == [{"request_id": "req-1", "project_id": "p"}]
        # What JSON cannot carry arrives as oslo's primitives do.
        assert await bus.call(Target(name), "details") == {
            "host": COMPUTE1, "pair": [1, 2], "tags": ["a"]}
        # Bytes (a volume's blocks) cross whole, and come back as bytes.
        assert await bus.call(Target(name), "blocks", data=b"\x89PNG") == b"\x89PNG\x00\xff"
        counters = bus.metrics()[name]
        assert counters.calls_sent == counters.calls_delivered == 3

    run(url, scenario)


def test_casts_to_the_bare_topic_spread_and_server_targets_reach_that_server(url: str) -> None:
    name = topic()

    async def scenario(bus: RabbitBus) -> None:
        log: list[tuple[str, str, Any]] = []
        bus.listen(Target(name, COMPUTE1), ComputeEndpoint(COMPUTE1, log))
        bus.listen(Target(name, COMPUTE2), ComputeEndpoint(COMPUTE2, log))
        for index in range(4):
            await bus.cast(Target(name), "build_instance", instance=f"vm{index}")
        bus.cast_nowait(Target(name, COMPUTE2), "build_instance", instance="only2")
        await until(lambda: len(log) == 5)
        hosts = [host for host, _, instance in log if instance != "only2"]
        # The broker hands a shared queue's messages to its consumers round-robin.
        assert sorted(hosts) == [COMPUTE1, COMPUTE1, COMPUTE2, COMPUTE2]
        assert (COMPUTE2, "build_instance", "only2") in log

    run(url, scenario)


def test_fanout_reaches_every_listener_of_the_topic_only(url: str) -> None:
    name, other = topic(), topic()

    async def scenario(bus: RabbitBus) -> None:
        log: list[tuple[str, str, Any]] = []
        bus.listen(Target(name, COMPUTE1), ComputeEndpoint(COMPUTE1, log))
        bus.listen(Target(name, COMPUTE2), ComputeEndpoint(COMPUTE2, log))
        bus.listen(Target(other, COMPUTE1), ComputeEndpoint("other", log))
        await bus.drain()
        await bus.cast(Target(name, fanout=True), "build_instance", instance="all")
        await until(lambda: len(log) == 2)
        await asyncio.sleep(0.1)
        assert sorted(log) == [(COMPUTE1, "build_instance", "all"),
                               (COMPUTE2, "build_instance", "all")]

    run(url, scenario)


def test_a_call_cannot_be_fanout_nor_a_listener_listen_to_one(url: str) -> None:
    async def scenario(bus: RabbitBus) -> None:
        with pytest.raises(InvalidTarget):
            await bus.call(Target("compute", fanout=True), "get_host")
        with pytest.raises(InvalidTarget):
            bus.listen(Target("compute", fanout=True), object())

    run(url, scenario)


def test_endpoint_exceptions_travel_back_to_the_caller(url: str) -> None:
    name = topic()

    async def scenario(bus: RabbitBus) -> None:
        bus.listen(Target(name, COMPUTE1), ComputeEndpoint(COMPUTE1, []))
        with pytest.raises(QuotaExceeded, match="3 vcpus over quota") as raised:
            await bus.call(Target(name), "reserve", vcpus=3)
        origin = remote_origin(raised.value)
        assert origin is not None
        assert (origin.class_name, origin.topic, origin.method) == (
            "QuotaExceeded", name, "reserve")
        with pytest.raises(NoSuchMethod):
            await bus.call(Target(name), "no_such_method")
        with pytest.raises(NoSuchMethod):
            await bus.call(Target(name), "_private")
        with pytest.raises(TypeError):  # an argument the method does not take
            await bus.call(Target(name), "get_host", extra=1)

    run(url, scenario)


def test_a_failing_cast_is_logged_and_dropped(url: str,
                                              caplog: pytest.LogCaptureFixture) -> None:
    name = topic()

    async def scenario(bus: RabbitBus) -> None:
        bus.listen(Target(name, COMPUTE1), ComputeEndpoint(COMPUTE1, []))
        await bus.cast(Target(name), "reserve", vcpus=1)
        await until(lambda: bus.metrics()[name].endpoint_errors == 1)
        # The listener still serves.
        assert await bus.call(Target(name), "get_host") == COMPUTE1

    run(url, scenario)
    assert "Exception during handling of cast reserve" in caplog.text


def test_call_times_out_when_nobody_serves_and_the_request_expires(url: str) -> None:
    name = topic()

    async def scenario(bus: RabbitBus) -> None:
        with pytest.raises(MessagingTimeout, match="Timed out waiting for a reply"):
            await bus.call(Target(name), "get_host", timeout=0.3)
        # A listener that comes after the caller gave up never runs the expired request.
        log: list[tuple[str, str, Any]] = []
        endpoint = ComputeEndpoint(COMPUTE1, log)
        bus.listen(Target(name, COMPUTE1), endpoint)
        await bus.drain()
        bus.cast_nowait(Target(name), "build_instance", instance="after")
        with pytest.raises(MessagingTimeout):
            await bus.call(Target(name, "nobody-there"), "get_host", timeout=0.3)
        await until(lambda: log == [(COMPUTE1, "build_instance", "after")])
        assert bus.metrics()[name].calls_timed_out == 2

    run(url, scenario, rpc_response_timeout=0.3)


def test_paused_listener_gets_its_queued_messages_on_resume_and_stop_leaves_the_queue(
        url: str) -> None:
    name = topic()

    async def scenario(bus: RabbitBus) -> None:
        log: list[tuple[str, str, Any]] = []
        listener = bus.listen(Target(name, COMPUTE1), ComputeEndpoint(COMPUTE1, log))
        await bus.drain()
        listener.pause()
        for index in range(3):
            await bus.cast(Target(name, COMPUTE1), "build_instance", instance=f"vm{index}")
        await asyncio.sleep(0.2)
        assert log == []
        listener.resume()
        await until(lambda: len(log) == 3)
        assert [instance for _, _, instance in log] == ["vm0", "vm1", "vm2"]
        listener.stop()
        await bus.drain()
        await bus.cast(Target(name), "build_instance", instance="waits")
        await asyncio.sleep(0.1)
        assert len(log) == 3
        # The shared queue outlived its consumer: the next listener gets what waited.
        bus.listen(Target(name, COMPUTE2), ComputeEndpoint(COMPUTE2, log))
        await until(lambda: len(log) == 4)
        assert log[-1] == (COMPUTE2, "build_instance", "waits")

    run(url, scenario)


def test_notifications_reach_subscribers_whose_pattern_matches(url: str) -> None:
    async def scenario(bus: RabbitBus) -> None:
        instances: list[Notification] = []
        everything: list[Notification] = []
        bus.subscribe("compute.instance.*", instances.append)
        cancelled = bus.subscribe("*", everything.append)
        await bus.drain()
        await bus.notify("nova-compute", "compute.instance.create.end", {"uuid": "u1"},
                         ctxt={"request_id": "req-9"})
        await bus.notify("neutron-server", "port.create.end", {"port": {"id": "p"}},
                         priority="warning")
        await until(lambda: len(everything) == 2 and len(instances) == 1)
        first = instances[0]
        assert (first.publisher_id, first.event_type, first.priority, first.payload) == (
            "nova-compute", "compute.instance.create.end", "INFO", {"uuid": "u1"})
        assert first.ctxt == {"request_id": "req-9"}
        assert first.timestamp > 0
        assert {n.priority for n in everything} == {"INFO", "WARN"}
        cancelled.cancel()
        await bus.drain()
        await bus.notify("nova-compute", "compute.instance.delete.end", {"uuid": "u1"})
        await until(lambda: len(instances) == 2)
        await asyncio.sleep(0.1)
        assert len(everything) == 2
        with pytest.raises(ValueError):
            await bus.notify("nova-compute", "x", {}, priority="loud")

    run(url, scenario, exchanges={"compute": "nova"},
        publishers={"nova-compute": "nova", "neutron-server": "neutron"})


def test_a_peer_exception_stacklab_cannot_rebuild_is_a_remote_error() -> None:
    from stacklab.bus.rabbit import deserialize_failure

    failure = ('{"class": "InstanceNotFound", "module": "nova.exception", "message": '
               '"Instance x could not be found.", "tb": ["Traceback"], "args": [], '
               '"kwargs": {}}')
    exc = deserialize_failure(failure)
    assert isinstance(exc, RemoteError)
    assert (exc.exc_type, exc.value) == ("InstanceNotFound", "Instance x could not be found.")


def test_wrong_credentials_are_said_naming_the_option(url: str) -> None:
    wrong = url.replace("guest:guest@", "guest:not-the-password@")
    with pytest.raises(TransportConfigError, match=r"\[DEFAULT\] transport_url") as raised:
        check_broker(wrong)
    assert "refused the credentials" in str(raised.value)
    assert "not-the-password" not in str(raised.value)
    with pytest.raises(TransportConfigError, match="refused the vhost"):
        check_broker(url + "-no-such-vhost")


def test_after_the_broker_drops_the_connection_the_bus_reconnects_and_serves(
        url: str) -> None:
    """As oslo's rabbit driver does: the connection comes back, with its queues, bindings
    and consumers; what is sent meanwhile waits for it."""
    import subprocess

    name = topic()
    vhost = url.rsplit("/", 1)[1]

    async def scenario(bus: RabbitBus) -> None:
        log: list[tuple[str, str, Any]] = []
        bus.listen(Target(name, COMPUTE1), ComputeEndpoint(COMPUTE1, log))
        seen: list[Notification] = []
        bus.subscribe("compute.*", seen.append)
        assert await bus.call(Target(name), "get_host") == COMPUTE1
        await asyncio.to_thread(subprocess.run, [
            "rabbitmqctl", "-q", "close_all_connections", "-p", vhost, "test: dropped"],
            check=True, capture_output=True, timeout=60)
        assert await bus.call(Target(name), "get_host", timeout=10) == COMPUTE1
        bus.cast_nowait(Target(name, COMPUTE1), "build_instance", instance="after")
        await bus.notify("nova-compute", "compute.instance.update", {"uuid": "u"})
        await until(lambda: len(log) == 1 and len(seen) == 1, timeout=10)

    run(url, scenario, retry_interval=0.2)


def test_a_server_started_on_a_host_that_is_down_waits_paused_until_it_is_back(
        url: str) -> None:
    name = topic()

    async def scenario(bus: RabbitBus) -> None:
        log: list[tuple[str, str, Any]] = []
        listener = bus.listen(Target(name, COMPUTE1), ComputeEndpoint(COMPUTE1, log))
        assert listener.paused
        await bus.drain()
        await bus.cast(Target(name, COMPUTE1), "build_instance", instance="vm1")
        await asyncio.sleep(0.1)
        assert log == []
        assert bus.resume_server(COMPUTE1) == 1
        await until(lambda: log == [(COMPUTE1, "build_instance", "vm1")])
        assert bus.pause_server(COMPUTE1) == 1 and listener.paused

    run(url, scenario, host_up=lambda host: host != COMPUTE1)


def test_a_cloud_on_the_broker_stops_a_powered_off_nodes_rpc_servers(url: str) -> None:
    """The lab's node faults reach the RPC servers on a real broker too (docs/bus.md):
    a compute node powered off stops consuming, and consumes again once back."""
    from stacklab.cloud import Cloud
    from support.inprocess import ephemeral_config

    config = ephemeral_config()
    config.DEFAULT.transport_url = url
    cloud = Cloud(config)

    async def main() -> None:
        cloud.start("http://testserver")
        bus = cloud.bus
        assert isinstance(bus, RabbitBus)
        try:
            await bus.drain()
            computes = bus.listeners(COMPUTE1)
            assert computes and not any(listener.paused for listener in computes)
            assert {listener.target.topic for listener in computes} >= {"compute"}
            assert bus.exchange_for_topic("compute") == "nova"
            cloud.runtime.power_off(COMPUTE1)
            assert all(listener.paused for listener in bus.listeners(COMPUTE1))
            cloud.runtime.power_on(COMPUTE1)
            assert not any(listener.paused for listener in bus.listeners(COMPUTE1))
        finally:
            await cloud.close_bus()
            cloud.stop()

    asyncio.run(main())


@pytest.mark.parametrize(("driver", "chosen"), [
    ("messagingv2", "messagingv2"), ("log, messagingv2", "messagingv2"),
    ("messaging", "messaging"), ("", ""), ("noop", "")])
def test_the_notification_driver_the_broker_hears(url: str, driver: str, chosen: str) -> None:
    from stacklab.clock import RealClock
    from stacklab.cloud import SERVICES, rabbit_bus
    from stacklab.config import Config

    config = Config()
    config.DEFAULT.transport_url = url
    config.oslo_messaging_notifications.driver = driver
    config.oslo_messaging_notifications.topics = "notifications, monitor"
    bus = rabbit_bus(config, RealClock(), SERVICES)
    assert bus.notification_driver == chosen
    assert bus.notification_topics == ("notifications", "monitor")


def _queues(vhost: str) -> list[str]:
    import subprocess

    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name"],
                            check=True, capture_output=True, text=True, timeout=60)
    return [line for line in listed.stdout.split()[1:] if line]


def test_closing_leaves_the_shared_queues_and_takes_its_own_even_with_the_broker_gone(
        ) -> None:
    """A stop deletes this process's fanout queues (the topic queues stay, as oslo's do,
    and its reply queue, which x-expires ends); with the broker gone it still returns."""
    import subprocess

    with scratch_vhost() as own:
        vhost = own.rsplit("/", 1)[1]

        async def closing() -> None:
            bus = RabbitBus(own, retry_interval=0.2)
            bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, []))
            with pytest.raises(MessagingTimeout):
                await bus.call(Target("nobody"), "get_host", timeout=0.2)
            queues = await asyncio.to_thread(_queues, vhost)
            assert any(q.startswith("compute_fanout_") for q in queues)
            assert any(q.startswith("reply_") for q in queues)
            await bus.aclose()
            left = await asyncio.to_thread(_queues, vhost)
            assert not any(q.startswith("compute_fanout_") for q in left)
            assert {"compute", f"compute.{COMPUTE1}"} <= set(left)

        asyncio.run(closing())

        async def broker_gone() -> None:
            bus = RabbitBus(own, retry_interval=0.2)
            bus.listen(Target("compute", COMPUTE1), ComputeEndpoint(COMPUTE1, []))
            await bus.drain()
            await asyncio.to_thread(subprocess.run, ["rabbitmqctl", "-q", "delete_vhost",
                                                     vhost], check=True, timeout=60)
            await asyncio.wait_for(bus.aclose(), 15)

        asyncio.run(broker_gone())
