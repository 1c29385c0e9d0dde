"""The bus on RabbitMQ speaks oslo.messaging's wire format, judged by the real library:
an oslo.messaging notification listener receives stacklab's notifications, an oslo.messaging
RPC client calls (and casts to) a stacklab endpoint, and stacklab calls an oslo.messaging
RPC server. Plus the raw envelope, as a broker-side consumer sees it.

oslo.messaging runs its threading executor beside stacklab's event loop; one vhost for the
module (support/broker.py), topics of their own per test.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest

from stacklab.bus import MessagingTimeout, NoSuchMethod, Target, remote_origin
from stacklab.bus.rabbit import RabbitBus
from support.broker import oslo_conf, scratch_vhost, until

om = pytest.importorskip("oslo_messaging")

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

HOST = "compute1.openstack.local"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with scratch_vhost() as vhost_url:
        yield vhost_url


@pytest.fixture(scope="module")
def conf() -> Any:
    return oslo_conf()


@pytest.fixture
def rpc_transport(conf: Any, url: str) -> Iterator[Any]:
    transport = om.get_rpc_transport(conf, url=url)
    yield transport
    transport.cleanup()


def name() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def run(url: str, scenario: Callable[[RabbitBus], Coroutine[Any, Any, None]],
        **options: Any) -> None:
    async def main() -> None:
        bus = RabbitBus(url, rpc_response_timeout=10, **options)
        try:
            await scenario(bus)
        finally:
            await bus.aclose()

    asyncio.run(main())



class Stacklab:
    """A stacklab endpoint, as nova-compute's manager would be one."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.seen: list[tuple[str, Any, dict[str, Any]]] = []

    def get_console(self, instance: str, ctxt: dict[str, Any]) -> dict[str, Any]:
        self.seen.append(("get_console", instance, ctxt))
        return {"host": self.host, "instance": instance, "type": "novnc"}

    def build_and_run_instance(self, instance: dict[str, Any]) -> None:
        self.seen.append(("build_and_run_instance", instance, {}))

    def refresh(self, generation: int) -> None:
        self.seen.append(("refresh", generation, {}))

    def reserve(self, vcpus: int) -> None:
        raise ValueError(f"{vcpus} vcpus over quota")

    async def migrate(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "migrated"


@pytest.mark.parametrize("driver", ["messagingv2", "messaging"])
def test_an_oslo_notification_listener_receives_stacklabs_notifications(
        conf: Any, url: str, driver: str) -> None:
    got: list[tuple[str, dict[str, Any], str, str, Any, dict[str, Any]]] = []
    arrived = threading.Event()

    class Endpoint:
        def info(self, ctxt: dict[str, Any], publisher_id: str, event_type: str,
                 payload: Any, metadata: dict[str, Any]) -> None:
            got.append(("info", ctxt, publisher_id, event_type, payload, metadata))
            arrived.set()

        def error(self, ctxt: dict[str, Any], publisher_id: str, event_type: str,
                  payload: Any, metadata: dict[str, Any]) -> None:
            got.append(("error", ctxt, publisher_id, event_type, payload, metadata))
            arrived.set()

    transport = om.get_notification_transport(conf, url=url)
    listener = om.get_notification_listener(
        transport, [om.Target(topic="notifications", exchange="nova")], [Endpoint()],
        executor="threading")
    listener.start()
    try:
        async def scenario(bus: RabbitBus) -> None:
            await bus.notify("nova-compute", "compute.instance.create.end",
                             {"instance_id": "u1", "state": "active"},
                             ctxt={"request_id": "req-1", "project_id": "p1"})
            await bus.notify("nova-compute", "compute.instance.create.error",
                             {"instance_id": "u2"}, priority="ERROR")
            await until(lambda: len(got) == 2)

        run(url, scenario, exchanges={"compute": "nova"}, publishers={"nova-compute": "nova"},
            notification_driver=driver)
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
    by_priority = {entry[0]: entry for entry in got}
    _, ctxt, publisher, event_type, payload, metadata = by_priority["info"]
    assert (publisher, event_type, payload) == (
        "nova-compute", "compute.instance.create.end", {"instance_id": "u1", "state": "active"})
    assert ctxt["request_id"] == "req-1" and ctxt["project_id"] == "p1"
    assert uuid.UUID(metadata["message_id"])
    # oslo's str(timeutils.utcnow()): "2026-12-04 09:35:16.327503"
    assert len(metadata["timestamp"]) == 26 and metadata["timestamp"][10] == " "
    assert by_priority["error"][3] == "compute.instance.create.error"


def test_a_notifiers_own_topics_and_publishers_reach_their_exchanges(conf: Any,
                                                                     url: str) -> None:
    """nova's versioned notifier (its topics, ``nova-compute:<host>``) and cinder's
    ``volume.<host@backend>`` publisher, as an oslo listener on those targets gets them."""
    got: list[tuple[str, str, Any]] = []

    class Endpoint:
        def info(self, ctxt: dict[str, Any], publisher_id: str, event_type: str,
                 payload: Any, metadata: dict[str, Any]) -> None:
            got.append((publisher_id, event_type, payload))

    transport = om.get_notification_transport(conf, url=url)
    listener = om.get_notification_listener(
        transport, [om.Target(topic="versioned_notifications", exchange="nova"),
                    om.Target(topic="notifications", exchange="cinder")], [Endpoint()],
        executor="threading")
    listener.start()
    try:
        async def scenario(bus: RabbitBus) -> None:
            await bus.notify(f"nova-compute:{HOST}", "instance.create.end",
                             {"nova_object.name": "InstanceCreatePayload"},
                             topics=("versioned_notifications",))
            await bus.notify("volume.storage1@lvm", "volume.create.end", {"volume_id": "v1"})
            await until(lambda: len(got) == 2)

        run(url, scenario, exchanges={"compute": "nova"},
            publishers={"nova-compute": "nova", "volume": "cinder"})
    finally:
        listener.stop()
        listener.wait()
        transport.cleanup()
    assert sorted(got) == [
        (f"nova-compute:{HOST}", "instance.create.end",
         {"nova_object.name": "InstanceCreatePayload"}),
        ("volume.storage1@lvm", "volume.create.end", {"volume_id": "v1"})]


def test_an_oslo_rpc_client_calls_and_casts_to_a_stacklab_endpoint(
        rpc_transport: Any, url: str) -> None:
    topic = name()
    endpoint = Stacklab(HOST)
    other = Stacklab("compute2.openstack.local")

    async def scenario(bus: RabbitBus) -> None:
        bus.listen(Target(topic, HOST), endpoint)
        bus.listen(Target(topic, other.host), other)
        await bus.drain()
        client = om.get_rpc_client(rpc_transport,
                                   om.Target(topic=topic, server=HOST, exchange="nova"),
                                   timeout=10)
        ctxt = {"request_id": "req-7", "user_id": "u", "project_id": "p"}
        answer = await asyncio.to_thread(client.call, ctxt, "get_console", instance="vm1")
        assert answer == {"host": HOST, "instance": "vm1", "type": "novnc"}
        assert endpoint.seen[0][2]["request_id"] == "req-7"
        await asyncio.to_thread(client.cast, ctxt, "build_and_run_instance",
                                instance={"uuid": "vm2"})
        fanout = client.prepare(fanout=True)
        await asyncio.to_thread(fanout.cast, ctxt, "refresh", generation=3)
        await until(lambda: len(endpoint.seen) == 3 and len(other.seen) == 1)
        assert ("build_and_run_instance", {"uuid": "vm2"}, {}) in endpoint.seen
        assert other.seen == [("refresh", 3, {})]
        # An endpoint's exception reaches oslo as oslo's own peers send one: ValueError is
        # Python's, so it is rebuilt; an unknown method is oslo's RemoteError.
        with pytest.raises(ValueError, match="5 vcpus over quota"):
            await asyncio.to_thread(client.call, ctxt, "reserve", vcpus=5)
        with pytest.raises(om.RemoteError, match="NoSuchMethod"):
            await asyncio.to_thread(client.call, ctxt, "no_such_method")
        # oslo's call monitor: a call that outlasts call_monitor_timeout lives on the
        # heartbeats stacklab sends while the method runs.
        monitored = client.prepare(call_monitor_timeout=0.4, timeout=10)
        answer = await asyncio.to_thread(monitored.call, ctxt, "migrate", seconds=1.0)
        assert answer == "migrated"

    run(url, scenario, exchanges={topic: "nova"})


def test_stacklab_calls_and_casts_to_an_oslo_rpc_server(rpc_transport: Any, url: str) -> None:
    topic = name()
    seen: list[tuple[str, dict[str, Any], Any]] = []

    class Endpoint:
        target = om.Target(version="1.0")

        def get_host(self, ctxt: dict[str, Any], verbose: bool) -> dict[str, Any]:
            seen.append(("get_host", ctxt, verbose))
            return {"host": "peer1", "verbose": verbose}

        def refresh(self, ctxt: dict[str, Any], generation: int) -> None:
            seen.append(("refresh", ctxt, generation))

        def fail(self, ctxt: dict[str, Any]) -> None:
            raise KeyError("no such thing")

        def slow(self, ctxt: dict[str, Any]) -> None:
            threading.Event().wait(0.6)

    server = om.get_rpc_server(rpc_transport, om.Target(topic=topic, server="peer1",
                                                        exchange="nova"),
                               [Endpoint()], executor="threading")
    server.start()
    try:
        async def scenario(bus: RabbitBus) -> None:
            ctxt = {"request_id": "req-3", "project_id": "p"}
            answer = await bus.call(Target(topic, "peer1"), "get_host", verbose=True,
                                    ctxt=ctxt)
            assert answer == {"host": "peer1", "verbose": True}
            assert seen[0][1]["request_id"] == "req-3"
            await bus.cast(Target(topic), "refresh", generation=1)
            await bus.cast(Target(topic, fanout=True), "refresh", generation=2)
            await until(lambda: len(seen) == 3)
            assert sorted(entry[2] for entry in seen[1:]) == [1, 2]
            with pytest.raises(KeyError) as raised:
                await bus.call(Target(topic), "fail")
            origin = remote_origin(raised.value)
            assert origin is not None and origin.topic == topic
            with pytest.raises(NoSuchMethod):
                await bus.call(Target(topic), "no_such_method")
            with pytest.raises(MessagingTimeout):
                await bus.call(Target(topic), "slow", timeout=0.3)

        run(url, scenario, exchanges={topic: "nova"})
    finally:
        server.stop()
        server.wait()


def test_the_envelope_on_the_wire_is_oslos(url: str) -> None:
    """What a broker-side consumer of the queue sees of a stacklab call and cast."""
    topic = name()

    async def scenario(bus: RabbitBus) -> None:
        import aio_pika

        connection = await aio_pika.connect(url.replace("rabbit://", "amqp://"))
        channel = await connection.channel()
        exchange = await channel.declare_exchange("nova", aio_pika.ExchangeType.TOPIC,
                                                  durable=False, auto_delete=False)
        queue = await channel.declare_queue(topic, durable=False, auto_delete=False)
        await queue.bind(exchange, routing_key=topic)
        await bus.cast(Target(topic), "build_instances", instance_uuids=["u1"],
                       ctxt={"request_id": "req-5", "global_request_id": None})
        call = asyncio.ensure_future(bus.call(Target(topic), "select_destinations",
                                              spec={"num_instances": 1}, timeout=0.5))
        messages = []
        while len(messages) < 2:
            incoming = await queue.get(fail=False, no_ack=True)
            if incoming is None:
                await asyncio.sleep(0.02)
                continue
            messages.append(incoming)
        with pytest.raises(MessagingTimeout):
            await call
        await connection.close()
        for incoming in messages:
            assert incoming.content_type == "application/json"
            outer = json.loads(incoming.body)
            assert set(outer) == {"oslo.version", "oslo.message"}
            assert outer["oslo.version"] == "2.0"
            assert isinstance(outer["oslo.message"], str)
        cast = json.loads(json.loads(messages[0].body)["oslo.message"])
        assert cast["method"] == "build_instances"
        assert cast["args"] == {"instance_uuids": ["u1"]}
        assert cast["_context_request_id"] == "req-5"
        assert "_context_global_request_id" in cast
        assert len(cast["_unique_id"]) == 32 and "_msg_id" not in cast
        request = json.loads(json.loads(messages[1].body)["oslo.message"])
        assert request["method"] == "select_destinations"
        assert len(request["_msg_id"]) == 32
        assert request["_reply_q"].startswith("reply_")
        # The request expires in the queue with the caller's timeout (ms).
        assert messages[1].expiration is not None
        assert messages[0].expiration is None

    run(url, scenario, exchanges={topic: "nova"})
