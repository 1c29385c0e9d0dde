"""Redundancy comes back with the agents: their resync after a start (or a revival) gives them
the networks and HA routers left short of agents, as neutron's auto-scheduling does.

In virtual time on the lab (two network nodes, ``dhcp_agents_per_network = 2``, HA routers
on up to three agents).
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.ha.vrrp import VrrpState, master_down_interval
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.node_agents import DhcpAgent, L3Agent
from support.inprocess import project_network, run_in_virtual_time

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
ELECTION = master_down_interval(50, 2.0)
# The DHCP failover worker removes a dead agent's networks once its heartbeat is older
# than agent_dead_limit (150 s) and runs every 37 s: by 200 s it has.
DEAD_AND_STRIPPED = 200.0


def dhcp_hosts(cloud: Cloud, network_id: str) -> list[str]:
    with cloud.db.session() as session:
        hosts = {a.id: a.host for a in session.scalars(select(m.Agent))}
        return sorted(hosts[b.agent_id] for b in session.scalars(
            select(m.DhcpBinding).where(m.DhcpBinding.network_id == network_id)))


def router_hosts(cloud: Cloud, router_id: str) -> list[str]:
    with cloud.db.session() as session:
        hosts = {a.id: a.host for a in session.scalars(select(m.Agent))}
        return sorted(hosts[b.agent_id] for b in session.scalars(
            select(m.RouterBinding).where(m.RouterBinding.router_id == router_id)))


def ha_port_hosts(cloud: Cloud, router_id: str) -> list[str]:
    with cloud.db.session() as session:
        return sorted(p.binding_host_id for p in session.scalars(select(m.Port).where(
            m.Port.device_id == router_id,
            m.Port.device_owner == "network:router_ha_interface")))


def make_router(cloud: Cloud) -> str:
    with cloud.db.session() as session:
        return cloud.routing.create_router(session, "p1", {"name": "r1"}).id


def router_status(cloud: Cloud, router_id: str) -> str:
    with cloud.db.session() as session:
        router = session.get(m.Router, router_id)
        assert router is not None
        return router.status


def dhcp_agent(cloud: Cloud, host: str) -> DhcpAgent:
    agent = cloud.parts.get(NODE_AGENTS).endpoint(host, DhcpAgent)
    assert agent is not None
    return agent


def test_a_network_stripped_from_a_dead_dhcp_agent_gets_it_back_when_it_starts_again() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        network_id, _ = project_network(cloud)
        await clock.run_for(0)
        assert dhcp_hosts(cloud, network_id) == [NETWORK1, NETWORK2]
        cloud.node_down(NETWORK1)
        await clock.run_for(DEAD_AND_STRIPPED)
        # No other DHCP agent is left to take network1's place: one agent only.
        assert dhcp_hosts(cloud, network_id) == [NETWORK2]
        cloud.node_up(NETWORK1)
        await clock.run_for(0)
        # Its resync (get_active_networks_info) scheduled the network to it again, and
        # it serves it on a DHCP port of its own.
        assert dhcp_hosts(cloud, network_id) == [NETWORK1, NETWORK2]
        port_id = dhcp_agent(cloud, NETWORK1).networks[network_id]
        with cloud.db.session() as session:
            port = session.get(m.Port, port_id)
            assert port is not None and port.binding_host_id == NETWORK1

    run_in_virtual_time(test)


def test_without_network_auto_schedule_the_network_stays_on_one_agent() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        network_id, _ = project_network(cloud)
        await clock.run_for(0)
        # A server without automatic scheduling (which would not have scheduled the
        # network in the first place either).
        cloud.agents.options = dataclasses.replace(cloud.agents.options,
                                                   network_auto_schedule=False)
        cloud.node_down(NETWORK1)
        await clock.run_for(DEAD_AND_STRIPPED)
        cloud.node_up(NETWORK1)
        await clock.run_for(0)
        assert dhcp_hosts(cloud, network_id) == [NETWORK2]

    run_in_virtual_time(test)


def test_an_ha_router_made_while_a_node_was_down_gains_its_replica_when_it_returns() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        cloud.node_down(NETWORK1)
        await clock.run_for(cloud.agents.options.agent_down_time + 1)
        router_id = make_router(cloud)
        assert router_hosts(cloud, router_id) == [NETWORK2]
        await clock.run_for(ELECTION + 5)
        segment = cloud.agents.segments[router_id]
        assert segment.masters() == [NETWORK2]
        transitions = len(segment.transitions)

        cloud.node_up(NETWORK1)
        await clock.run_for(0)
        assert router_hosts(cloud, router_id) == [NETWORK1, NETWORK2]
        assert ha_port_hosts(cloud, router_id) == [NETWORK1, NETWORK2]
        # network1's keepalived joined as a backup; the master was not disturbed.
        assert {i.node: i.state for i in segment.instances()} == {
            NETWORK1: VrrpState.BACKUP, NETWORK2: VrrpState.MASTER}
        assert [t.node for t in segment.transitions[transitions:]] == [NETWORK1]
        await clock.run_for(60)
        assert segment.masters() == [NETWORK2]  # nopreempt
        l3 = cloud.parts.get(NODE_AGENTS).endpoint(NETWORK1, L3Agent)
        assert l3 is not None and router_id in l3.routers

    run_in_virtual_time(test)


def test_an_ha_router_made_with_every_network_node_down_is_hosted_when_they_return() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        cloud.node_down(NETWORK1)
        cloud.node_down(NETWORK2)
        await clock.run_for(cloud.agents.options.agent_down_time + 1)
        router_id = make_router(cloud)
        # neutron keeps the router ACTIVE on no agent at all.
        assert router_hosts(cloud, router_id) == []
        assert router_status(cloud, router_id) == "ACTIVE"
        cloud.node_up(NETWORK2)
        await clock.run_for(0)
        assert router_hosts(cloud, router_id) == [NETWORK2]
        await clock.run_for(ELECTION + 5)
        assert cloud.agents.segments[router_id].masters() == [NETWORK2]
        cloud.node_up(NETWORK1)
        await clock.run_for(0)
        assert router_hosts(cloud, router_id) == [NETWORK1, NETWORK2]
        assert cloud.agents.segments[router_id].masters() == [NETWORK2]
        assert router_status(cloud, router_id) == "ACTIVE"

    run_in_virtual_time(test)


def test_agents_that_revive_without_a_restart_resync_too() -> None:
    """With every neutron-server down, the agents' reports wait: the server then finds them
    dead. Back, it answers their next report ``revived``, and each does a full sync."""
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        servers = [n.fqdn for n in cloud.topology.nodes_running("neutron-server")]
        # neutron-server stopped, the controllers' brokers still serving (powered off,
        # they would take the broker with them: tests/unit/test_cloud_rabbitmq.py).
        for host in servers:
            cloud.runtime.stop_service(host, "neutron-server")
        await clock.run_for(cloud.agents.options.agent_down_time + 31)
        router_id = make_router(cloud)  # straight into the store: no agent is alive
        assert router_hosts(cloud, router_id) == []
        cloud.runtime.start_service(servers[0], "neutron-server")
        await clock.run_for(0)
        assert router_hosts(cloud, router_id) == [NETWORK1, NETWORK2]
        await clock.run_for(ELECTION + 5)
        assert len(cloud.agents.segments[router_id].masters()) == 1

    run_in_virtual_time(test)
