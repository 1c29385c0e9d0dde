"""A port's status follows its host's Open vSwitch agent, and nova hears of it.

In virtual time: a bound port is DOWN until the L2 agent of its host reports the
device up over RPC, then ACTIVE, and nova gets ``network-vif-plugged``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.node_agents import OvsAgent
from stacklab.network.topics import PLUGIN_TOPIC
from support.inprocess import run_in_virtual_time

COMPUTE1 = "compute1.openstack.local"
SERVER = "6f1b3c2e-5a0d-4c1e-9d2b-0b8f6e4a1c77"


class RecordingNova:
    """Stands for nova's external events API: what neutron sent, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, str]] = []

    async def send_events(self, events: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
        self.events.extend(events)
        return []


def with_nova(cloud: Cloud) -> RecordingNova:
    nova = RecordingNova()
    assert cloud.network.port_events is not None
    cloud.network.port_events.nova = nova
    return nova


def server_port(cloud: Cloud, host: str) -> str:
    with cloud.db.session() as session:
        network = cloud.network.create_network(session, "p1", {"name": "n"})
        session.flush()
        cloud.network.create_subnet(session, "p1", {
            "network_id": network.id, "cidr": "10.0.0.0/24", "ip_version": 4,
            "enable_dhcp": False})
        session.flush()
        port = cloud.network.create_port(session, "p1", {
            "network_id": network.id, "device_owner": "compute:nova", "device_id": SERVER,
            "binding:host_id": host})
        assert port.status == "DOWN"
        return port.id


def status(cloud: Cloud, port_id: str) -> str:
    with cloud.db.session() as session:
        port = session.get(m.Port, port_id)
        assert port is not None
        return port.status


def test_a_bound_port_is_active_once_its_l2_agent_reports_it_up_and_nova_hears() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        nova = with_nova(cloud)
        port_id = server_port(cloud, COMPUTE1)
        assert status(cloud, port_id) == "DOWN"
        calls = cloud.bus.metrics().get(PLUGIN_TOPIC)
        assert calls is None or calls.calls_delivered == 0
        await clock.run_for(0)
        assert status(cloud, port_id) == "ACTIVE"
        assert cloud.bus.metrics()[PLUGIN_TOPIC].calls_delivered == 1
        agent = cloud.parts.get(NODE_AGENTS).endpoint(COMPUTE1, OvsAgent)
        assert agent is not None and agent.devices == {port_id}
        assert nova.events == [{"name": "network-vif-plugged", "server_uuid": SERVER,
                                "tag": port_id, "status": "completed"}]

    run_in_virtual_time(test)


def test_a_port_bound_to_a_down_node_waits_for_its_agent() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        nova = with_nova(cloud)
        cloud.node_down(COMPUTE1)
        port_id = server_port(cloud, COMPUTE1)
        await clock.run_for(60)
        assert status(cloud, port_id) == "DOWN" and nova.events == []
        cloud.node_up(COMPUTE1)
        await clock.run_for(0)
        assert status(cloud, port_id) == "ACTIVE"
        assert [e["name"] for e in nova.events] == ["network-vif-plugged"]

    run_in_virtual_time(test)


def test_unbinding_is_down_and_unplugged_and_deleting_a_servers_port_is_vif_deleted() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        nova = with_nova(cloud)
        port_id = server_port(cloud, COMPUTE1)
        await clock.run_for(0)
        events = cloud.network.port_events
        assert events is not None
        with cloud.db.session() as session:
            port = session.get(m.Port, port_id)
            assert port is not None
            port.binding_host_id = ""
            events.updated(session, port, binding_changed=True)
            assert port.status == "DOWN"
        await clock.run_for(0)
        agent = cloud.parts.get(NODE_AGENTS).endpoint(COMPUTE1, OvsAgent)
        assert agent is not None and agent.devices == set()
        with cloud.db.session() as session:
            port = session.get(m.Port, port_id)
            assert port is not None
            cloud.network.delete_port(session, port)
        await clock.run_for(0)
        assert [(e["name"], e["tag"]) for e in nova.events] == [
            ("network-vif-plugged", port_id), ("network-vif-unplugged", port_id),
            ("network-vif-deleted", port_id)]
        assert nova.events[-1] == {"name": "network-vif-deleted", "server_uuid": SERVER,
                                   "tag": port_id}

    run_in_virtual_time(test)


def test_an_agent_reporting_a_port_it_does_not_host_changes_nothing() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        nova = with_nova(cloud)
        cloud.node_down(COMPUTE1)
        port_id = server_port(cloud, COMPUTE1)
        events = cloud.network.port_events
        assert events is not None
        assert events.device_up(port_id, "compute2.openstack.local") is False
        assert events.device_up("no-such-port", COMPUTE1) is False
        await clock.run_for(0)
        assert status(cloud, port_id) == "DOWN" and nova.events == []

    run_in_virtual_time(test)
