"""The DHCP agents on the bus: told of a network, each asks the server for its DHCP port."""

from __future__ import annotations

from sqlalchemy import select

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.node_agents import DhcpAgent
from stacklab.network.topics import DHCP_AGENT_TOPIC, PLUGIN_TOPIC
from support.inprocess import run_in_virtual_time

HOSTS = ("network1.openstack.local", "network2.openstack.local")


def dhcp_agent(cloud: Cloud, host: str) -> DhcpAgent:
    agent = cloud.parts.get(NODE_AGENTS).endpoint(host, DhcpAgent)
    assert agent is not None
    return agent


def test_each_agent_told_of_a_network_serves_it_on_its_own_port() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        with cloud.db.session() as session:
            network = cloud.network.create_network(session, "p1", {"name": "n"})
            session.flush()
            cloud.network.create_subnet(session, "p1", {
                "network_id": network.id, "cidr": "10.0.0.0/24", "ip_version": 4})
            session.flush()
            cloud.agents.schedule_dhcp(session, network.id)
            network_id = network.id
        assert all(network_id not in dhcp_agent(cloud, h).networks for h in HOSTS)
        await clock.run_for(0)
        assert cloud.bus.metrics()[PLUGIN_TOPIC].calls_delivered >= 2
        with cloud.db.session() as session:
            for host in HOSTS:
                port = session.get(m.Port, dhcp_agent(cloud, host).networks[network_id])
                assert port is not None
                assert (port.device_owner, port.binding_host_id, port.network_id) == (
                    "network:dhcp", host, network_id)
        # A port on the network: each serving agent reloads its hosts once.
        before = {h: dhcp_agent(cloud, h).reloads[network_id] for h in HOSTS}
        sent = cloud.bus.metrics()[DHCP_AGENT_TOPIC].casts_sent
        with cloud.db.session() as session:
            cloud.network.create_port(session, "p1", {"network_id": network_id})
        await clock.run_for(0)
        assert cloud.bus.metrics()[DHCP_AGENT_TOPIC].casts_sent == sent + 2
        assert {h: dhcp_agent(cloud, h).reloads[network_id] for h in HOSTS} == {
            h: n + 1 for h, n in before.items()}

    run_in_virtual_time(test)


def test_the_server_makes_no_dhcp_port_for_an_agent_not_serving_the_network() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        with cloud.db.session() as session:
            network = cloud.network.create_network(session, "p1", {"name": "n"})
            session.flush()
            cloud.network.create_subnet(session, "p1", {
                "network_id": network.id, "cidr": "10.0.0.0/24", "ip_version": 4})
            network_id = network.id
        # Never scheduled: an agent asking anyway gets nothing.
        assert cloud.agents.dhcp_port(network_id, HOSTS[0]) is None
        with cloud.db.session() as session:
            assert list(session.scalars(select(m.Port).where(
                m.Port.network_id == network_id))) == []

    run_in_virtual_time(test)
