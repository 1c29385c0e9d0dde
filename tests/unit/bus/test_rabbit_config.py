"""``[DEFAULT] transport_url`` (the bus on RabbitMQ, docs/bus.md) said at start when
stacklab cannot use it, naming the option: a missing extra, another scheme, a broker it
cannot reach. And the control exchange each service's topics go to. No broker needed
(tests/engines/test_rabbit_* run on one)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stacklab.bus.inprocess import InProcessBus
from stacklab.bus.rabbit import (
    BrokerAddress,
    TransportConfigError,
    check_broker,
    parse_transport_url,
)
from stacklab.cli import main
from stacklab.cloud import SERVICES, Cloud, control_exchanges
from stacklab.config import Config


def test_a_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aio_pika", None)  # import fails as if not installed
    with pytest.raises(TransportConfigError) as raised:
        check_broker("rabbit://guest:guest@127.0.0.1:5672/")
    assert str(raised.value) == (
        "[DEFAULT] transport_url names a RabbitMQ broker, but its AMQP client is not "
        "installed: pip install 'stacklab[rabbitmq]'")


def test_another_transport_is_refused() -> None:
    with pytest.raises(TransportConfigError, match=r"^\[DEFAULT\] transport_url: 'kafka' "
                       "is not a transport stacklab speaks"):
        check_broker("kafka://127.0.0.1:9092/")


def test_oslo_urls_parse_with_their_hosts_and_vhost() -> None:
    assert parse_transport_url("rabbit://nova:s%40cret@rmq1:5673,nova:s%40cret@rmq2/nova") == [
        BrokerAddress("rmq1", 5673, "nova", "s@cret", "nova"),
        BrokerAddress("rmq2", 5672, "nova", "s@cret", "nova")]
    assert parse_transport_url("rabbit://guest:guest@127.0.0.1:5672/") == [
        BrokerAddress("127.0.0.1", 5672, "guest", "guest", "/")]


def test_an_unreachable_broker_is_said_with_the_option() -> None:
    pytest.importorskip("aio_pika")
    with pytest.raises(TransportConfigError) as raised:
        check_broker("rabbit://guest:pw@127.0.0.1:1/", timeout=2)
    message = str(raised.value)
    assert message.startswith("[DEFAULT] transport_url: cannot connect: "
                              "rabbit://guest:***@127.0.0.1:1/: ")
    assert "pw@" not in message


def test_stacklab_up_stops_at_start_with_the_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("aio_pika")
    conf = tmp_path / "stacklab.conf"
    conf.write_text("[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:1/\n")
    code = main(["up", "--config", str(conf), "--port", "0", "--no-clouds-yaml",
                 "--state-dir", str(tmp_path / "state")])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        "stacklab: [DEFAULT] transport_url: cannot connect: rabbit://guest:***@127.0.0.1:1/")


def test_each_service_has_its_control_exchange_unless_one_is_set() -> None:
    config = Config()
    topics, publishers = control_exchanges(config, SERVICES)
    assert {topic: topics[topic] for topic in (
        "compute", "conductor", "scheduler", "q-plugin", "q-reports-plugin", "dhcp_agent",
        "l3_agent", "cinder-volume", "cinder-scheduler", "engine")} == {
        "compute": "nova", "conductor": "nova", "scheduler": "nova", "q-plugin": "neutron",
        "q-reports-plugin": "neutron", "dhcp_agent": "neutron", "l3_agent": "neutron",
        "cinder-volume": "cinder", "cinder-scheduler": "cinder", "engine": "heat"}
    assert publishers["nova-compute"] == publishers["nova"] == "nova"
    assert publishers["neutron-server"] == "neutron"
    config.DEFAULT.control_exchange = "openstack"
    topics, publishers = control_exchanges(config, SERVICES)
    assert set(topics.values()) == set(publishers.values()) == {"openstack"}


def test_without_a_transport_url_the_bus_is_the_embedded_one() -> None:
    config = Config()
    config.stacklab.ephemeral = True
    cloud = Cloud(config)
    try:
        assert type(cloud.bus) is InProcessBus
        assert cloud.bus.transport is cloud.controlplane
    finally:
        cloud.stop()


def test_without_a_broker_a_call_times_out_and_the_work_waits_for_one() -> None:
    """As oslo's driver: what is sent waits for the broker, tried again every
    rabbit_retry_interval; a call gives up at its timeout."""
    pytest.importorskip("aio_pika")
    import asyncio

    from stacklab.bus import MessagingTimeout, Target
    from stacklab.bus.rabbit import RabbitBus

    async def main() -> None:
        bus = RabbitBus("rabbit://guest:guest@127.0.0.1:1/", retry_interval=0.05,
                        connect_timeout=0.2)
        bus.cast_nowait(Target("compute"), "build_instance", instance="vm1")
        with pytest.raises(MessagingTimeout):
            await bus.call(Target("compute"), "get_host", timeout=0.3)
        await bus.aclose()

    asyncio.run(main())
