"""The L3 agents on the bus: told of their routers, they run their node's keepalived."""

from __future__ import annotations

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.ha.vrrp import VrrpState, master_down_interval
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.keepalived import spec_from_wire
from stacklab.network.node_agents import L3Agent
from stacklab.network.topics import L3_AGENT_TOPIC, L3_PLUGIN_TOPIC
from support.inprocess import run_in_virtual_time

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
ELECTION = master_down_interval(50, 2.0)


def make_router(cloud: Cloud) -> str:
    with cloud.db.session() as session:
        return cloud.routing.create_router(session, "p1", {"name": "r1"}).id


def l3_agent(cloud: Cloud, host: str) -> L3Agent:
    agent = cloud.parts.get(NODE_AGENTS).endpoint(host, L3Agent)
    assert agent is not None
    return agent


def test_each_hosting_agent_hears_of_the_router_and_starts_its_own_keepalived() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        await clock.run_for(0)  # the agents' resync at start is done
        router_id = make_router(cloud)
        # The server set the segment up; no instance runs before its agent says so.
        assert {i.state for i in cloud.agents.segments[router_id].instances()} == {
            VrrpState.INIT}
        await clock.run_for(0)
        segment = cloud.agents.segments[router_id]
        assert {i.node: i.state for i in segment.instances()} == {
            NETWORK1: VrrpState.BACKUP, NETWORK2: VrrpState.BACKUP}
        assert router_id in l3_agent(cloud, NETWORK1).routers
        assert router_id in l3_agent(cloud, NETWORK2).routers
        counters = cloud.bus.metrics()[L3_AGENT_TOPIC]
        # router_added_to_agent and routers_updated, to each of the two agents.
        assert counters.casts_sent == counters.casts_delivered == 4
        with cloud.db.session() as session:
            router = session.get(m.Router, router_id)
            assert router is not None
            cloud.routing.delete_router(session, router)
        await clock.run_for(0)
        assert router_id not in l3_agent(cloud, NETWORK1).routers
        assert router_id not in l3_agent(cloud, NETWORK2).routers
        assert router_id not in cloud.agents.segments

    run_in_virtual_time(test)


def test_keepalived_states_reach_the_server_only_over_rpc() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        servers = [n.fqdn for n in cloud.topology.nodes_running("neutron-server")]
        router_id = make_router(cloud)
        for host in servers:
            cloud.node_down(host)
        await clock.run_for(ELECTION + 2.0 + 1)
        # The election happened, but no server consumed the agents' reports of it.
        assert cloud.agents.segments[router_id].masters() != []
        with cloud.db.session() as session:
            states = {b.ha_state for b in session.query(m.RouterBinding)}
        assert states == {"standby"}
        cloud.node_up(servers[0])
        await clock.run_for(0)
        with cloud.db.session() as session:
            states = {b.ha_state for b in session.query(m.RouterBinding)}
        assert sorted(states) == ["active", "standby"]
        assert cloud.bus.metrics()[L3_PLUGIN_TOPIC].casts_delivered >= 3

    run_in_virtual_time(test)


def test_sync_routers_gives_an_agent_its_own_keepalived_instance_of_each_ha_router() -> None:
    """What an L3 agent in its node's own process (stacklab up --processes) configures its
    keepalived from: the instance the server would set up on its host."""
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        await clock.run_for(0)
        router_id = make_router(cloud)
        await clock.run_for(0)
        segment = cloud.agents.segments[router_id]
        for host in (NETWORK1, NETWORK2):
            (router,) = cloud.agents.hosted_routers(host, [router_id], vrrp=True)
            spec = spec_from_wire(router["vrrp"])
            (instance,) = segment.instances(node=host)
            assert (spec.host, spec.ha_ip_address, spec.config) == (
                host, str(instance.primary_ip), instance.config)
        # Without vrrp, the full sync's answer as before; another router's ids: nothing.
        assert "vrrp" not in cloud.agents.hosted_routers(NETWORK1)[0]
        assert cloud.agents.hosted_routers(NETWORK1, ["other"], vrrp=True) == []

    run_in_virtual_time(test)
