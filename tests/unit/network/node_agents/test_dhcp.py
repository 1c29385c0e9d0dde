"""The DHCP agents on the bus: told of a network, each asks the server for its DHCP port;
told of its subnets' changes and its deletion; after a power cycle, resynced."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.node_agents import DhcpAgent
from stacklab.network.topics import DHCP_AGENT_TOPIC, PLUGIN_TOPIC
from support.inprocess import project_network, run_in_virtual_time

HOSTS = ("network1.openstack.local", "network2.openstack.local")


def dhcp_agent(cloud: Cloud, host: str) -> DhcpAgent:
    agent = cloud.parts.get(NODE_AGENTS).endpoint(host, DhcpAgent)
    assert agent is not None
    return agent


Heard = list[tuple[str, dict[str, Any]]]


def record(agent: DhcpAgent, *methods: str) -> Heard:
    """What the agent is cast of those methods, in order (each still handled as before)."""
    heard: Heard = []
    for name in methods:
        handler: Callable[[dict[str, Any]], Awaitable[None]] = getattr(agent, name)

        async def spy(payload: dict[str, Any], name: str = name,
                      handler: Callable[[dict[str, Any]], Awaitable[None]] = handler) -> None:
            heard.append((name, payload))
            await handler(payload)

        setattr(agent, name, spy)
    return heard


def test_the_hosting_agents_hear_of_each_subnet_change_and_of_the_networks_deletion() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        agents = [dhcp_agent(cloud, h) for h in HOSTS]
        heard = {a.host: record(a, "subnet_create_end", "subnet_update_end",
                                "subnet_delete_end", "network_delete_end") for a in agents}
        network_id, subnet_id = project_network(cloud)
        await clock.run_for(0)
        for agent in agents:
            [(method, payload)] = heard[agent.host]
            assert method == "subnet_create_end"
            assert (payload["subnet"]["id"], payload["subnet"]["network_id"],
                    payload["subnet"]["cidr"]) == (subnet_id, network_id, "10.0.0.0/24")
            assert network_id in agent.networks
            assert agent.subnets == {subnet_id: network_id}
        reloads = {a.host: a.reloads[network_id] for a in agents}

        with cloud.db.session() as session:
            cloud.network.update_subnet(cloud.network.get_subnet(session, subnet_id),
                                        {"dns_nameservers": ["10.0.0.53"]})
        await clock.run_for(0)
        for agent in agents:
            method, payload = heard[agent.host][-1]
            assert method == "subnet_update_end"
            assert payload["subnet"]["id"] == subnet_id
            assert payload["subnet"]["dns_nameservers"] == ["10.0.0.53"]
            assert agent.reloads[network_id] == reloads[agent.host] + 1

        # A second subnet keeps the network served once the first is gone.
        with cloud.db.session() as session:
            cloud.network.create_subnet(session, "p1", {
                "network_id": network_id, "cidr": "10.0.1.0/24", "ip_version": 4})
        with cloud.db.session() as session:
            cloud.network.delete_subnet(session, cloud.network.get_subnet(session, subnet_id))
        await clock.run_for(0)
        for agent in agents:
            assert heard[agent.host][-1] == ("subnet_delete_end", {"subnet_id": subnet_id})
            assert subnet_id not in agent.subnets
            assert agent.reloads[network_id] == reloads[agent.host] + 2

        with cloud.db.session() as session:
            cloud.network.delete_network(session, cloud.network.get_network(session,
                                                                            network_id))
        await clock.run_for(0)
        for agent in agents:
            assert heard[agent.host][-1] == ("network_delete_end", {"network_id": network_id})
            assert network_id not in agent.networks

    run_in_virtual_time(test)


def test_a_power_cycled_agent_asks_for_its_networks_and_gets_its_dhcp_ports_back() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        network_id, subnet_id = project_network(cloud)
        await clock.run_for(0)
        agent = dhcp_agent(cloud, HOSTS[0])
        port_id = agent.networks[network_id]
        other = dict(dhcp_agent(cloud, HOSTS[1]).networks)

        cloud.node_down(HOSTS[0])
        assert (agent.networks, agent.reloads, agent.subnets) == ({}, {}, {})
        await clock.run_for(60)
        cloud.node_up(HOSTS[0])
        await clock.run_for(0)
        # Its create_dhcp_port found the port it had: no second one on its host.
        assert agent.networks == {network_id: port_id}
        assert agent.subnets == {subnet_id: network_id}
        assert agent.reloads == {network_id: 0}
        assert dhcp_agent(cloud, HOSTS[1]).networks == other
        with cloud.db.session() as session:
            assert len(list(session.scalars(select(m.Port).where(
                m.Port.network_id == network_id,
                m.Port.binding_host_id == HOSTS[0])))) == 1

    run_in_virtual_time(test)


def test_each_agent_told_of_a_network_serves_it_on_its_own_port() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        network_id, _ = project_network(cloud)
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
        network_id, _ = project_network(cloud, scheduled=False)
        # Never scheduled: an agent asking anyway gets nothing.
        assert cloud.agents.dhcp_port(network_id, HOSTS[0]) is None
        with cloud.db.session() as session:
            assert list(session.scalars(select(m.Port).where(
                m.Port.network_id == network_id))) == []

    run_in_virtual_time(test)
