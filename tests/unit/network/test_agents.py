"""The lab's agents in virtual time: DHCP on two agents, an HA router's election and failover."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from sqlalchemy import select

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.ha.vrrp import VrrpState, master_down_interval
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.node_agents import DhcpAgent
from support.inprocess import ephemeral_config, project_network, run_in_virtual_time

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
# neutron's keepalived: advert 2 s, priority 50, VRRPv2 skew (256 - 50) / 256 s.
ELECTION = master_down_interval(50, 2.0)
REPORT_LAG = 2.0  # the L3 agent batches state changes for ha_vrrp_advert_int




def ha_states(cloud: Cloud, router_id: str) -> dict[str, str]:
    with cloud.db.session() as session:
        by_agent = cloud.agents.ha_states(session, router_id)
        hosts = {a.id: a.host for a in session.scalars(select(m.Agent))}
    return {hosts[agent]: state for agent, state in by_agent.items()}


def make_router(cloud: Cloud) -> str:
    with cloud.db.session() as session:
        router = cloud.routing.create_router(session, "p1", {"name": "r1"})
        return router.id


def test_the_election_settles_on_one_active_agent_at_neutrons_pace() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id = make_router(cloud)
        await clock.run_for(ELECTION + REPORT_LAG - 0.01)
        assert sorted(ha_states(cloud, router_id).values()) == ["standby", "standby"]
        await clock.run_for(0.02)
        assert sorted(ha_states(cloud, router_id).values()) == ["active", "standby"]
        await clock.run_for(600)
        assert sorted(ha_states(cloud, router_id).values()) == ["active", "standby"]

    run_in_virtual_time(test)


def test_a_powered_off_master_is_replaced_after_the_master_down_interval() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id = make_router(cloud)
        await clock.run_for(ELECTION + REPORT_LAG + 1)
        states = ha_states(cloud, router_id)
        master = next(h for h, s in states.items() if s == "active")
        backup = next(h for h in states if h != master)
        cloud.node_down(master)
        # The backup heard the master's last advert at most advert_int ago.
        await clock.run_for(ELECTION + REPORT_LAG - 2.0 - 0.01)
        assert ha_states(cloud, router_id)[backup] == "standby"
        await clock.run_for(2.0 + 0.02)
        states = ha_states(cloud, router_id)
        assert states[backup] == "active"
        # The dead node cannot report: its binding says active until its agent is dead…
        assert states[master] == "active"
        await clock.run_for(cloud.agents.options.agent_down_time + 1)
        # …then neutron shows it standby (another agent is alive).
        assert ha_states(cloud, router_id) == {backup: "active", master: "standby"}
        cloud.node_up(master)
        await clock.run_for(60)
        assert ha_states(cloud, router_id)[backup] == "active"  # nopreempt

    run_in_virtual_time(test)


def test_every_hosting_agent_dead_is_unknown() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id = make_router(cloud)
        await clock.run_for(ELECTION + REPORT_LAG + 1)
        cloud.node_down(NETWORK1)
        cloud.node_down(NETWORK2)
        await clock.run_for(cloud.agents.options.agent_down_time + 31)
        assert "unknown" in ha_states(cloud, router_id).values()

    run_in_virtual_time(test)


def test_a_dhcp_subnet_is_served_by_two_agents_with_a_port_each() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        project_network(cloud)
        # Each agent told of its new network asks the server for its DHCP port over RPC,
        # and its host's L2 agent reports the port up.
        await clock.run_for(0)
        with cloud.db.session() as session:
            bindings = list(session.scalars(select(m.DhcpBinding)))
            ports = list(session.scalars(select(m.Port).where(
                m.Port.device_owner == "network:dhcp")))
            hosts = sorted(p.binding_host_id for p in ports)
            addresses = sorted(cloud.network.fixed_ips(session, [p.id for p in ports]).values(),
                               key=str)
        assert len(bindings) == 2
        assert hosts == [NETWORK1, NETWORK2]
        assert sorted(a[0]["ip_address"] for a in addresses) == ["10.0.0.2", "10.0.0.3"]
        assert {p.status for p in ports} == {"ACTIVE"}

    run_in_virtual_time(test)


@pytest.mark.parametrize("count", [2])
def test_each_ha_router_of_a_project_has_its_own_vrid(count: int) -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        ids = [make_router(cloud) for _ in range(count)]
        with cloud.db.session() as session:
            vrids = [session.get(m.VrIdAllocation, i) for i in ids]
        assert sorted(v.vr_id for v in vrids if v is not None) == [1, 2]

    run_in_virtual_time(test)


def dhcp_hosts(cloud: Cloud, network_id: str) -> list[str]:
    with cloud.db.session() as session:
        agents = {a.id: a.host for a in session.scalars(select(m.Agent))}
        return sorted(agents[b.agent_id] for b in session.scalars(
            select(m.DhcpBinding).where(m.DhcpBinding.network_id == network_id)))


def dhcp_networks(cloud: Cloud, host: str) -> dict[str, str]:
    """The networks the host's DHCP agent serves, with its port on each."""
    agent = cloud.parts.get(NODE_AGENTS).endpoint(host, DhcpAgent)
    assert agent is not None
    return agent.networks


def test_a_dead_dhcp_agents_network_moves_to_the_other_one() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        network_id, _ = project_network(cloud)
        [first] = dhcp_hosts(cloud, network_id)
        cloud.node_down(first)
        # neutron waits agent_dead_limit (2 x agent_down_time) and checks every
        # agent_down_time / 2: nothing moves before 150 s.
        await clock.run_for(149)
        assert dhcp_hosts(cloud, network_id) == [first]
        await clock.run_for(60)
        [second] = dhcp_hosts(cloud, network_id)
        assert second != first
        with cloud.db.session() as session:
            ports = list(session.scalars(select(m.Port).where(
                m.Port.device_owner == "network:dhcp")))
        assert [p.binding_host_id for p in ports] == [second]
        assert network_id in dhcp_networks(cloud, second)
        # The dead agent's network_delete_end waited in its queue: back up, it lets go.
        cloud.node_up(first)
        await clock.run_for(0)
        assert network_id not in dhcp_networks(cloud, first)

    run_in_virtual_time(test, dhcp_agents_per_network=1)


def test_a_legacy_router_moves_off_a_dead_agent_only_with_failover_on() -> None:
    def hosts(cloud: Cloud, router_id: str) -> list[str]:
        with cloud.db.session() as session:
            agents = {a.id: a.host for a in session.scalars(select(m.Agent))}
            return sorted(agents[b.agent_id] for b in session.scalars(
                select(m.RouterBinding).where(m.RouterBinding.router_id == router_id)))

    def scenario(expect_move: bool) -> Callable[[Cloud, VirtualClock],
                                                Coroutine[Any, Any, None]]:
        async def test(cloud: Cloud, clock: VirtualClock) -> None:
            router_id = make_router(cloud)
            [first] = hosts(cloud, router_id)
            cloud.node_down(first)
            await clock.run_for(300)
            [now] = hosts(cloud, router_id)
            assert (now != first) is expect_move
        return test

    run_in_virtual_time(scenario(False), l3_ha=False)
    run_in_virtual_time(scenario(True), l3_ha=False, allow_automatic_l3agent_failover=True)


def test_ha_time_scale_runs_keepalived_and_the_agents_liveness_faster() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id = make_router(cloud)
        await clock.run_for((ELECTION + REPORT_LAG) / 4 - 0.01)
        assert sorted(ha_states(cloud, router_id).values()) == ["standby", "standby"]
        await clock.run_for(0.02)
        assert sorted(ha_states(cloud, router_id).values()) == ["active", "standby"]
        # The agents' reports and agent_down_time are the lab's seconds too: a node down
        # for less than a quarter of agent_down_time (less its last report's lag) still
        # counts as alive, its keepalived's place taken long before.
        master = next(h for h, s in ha_states(cloud, router_id).items() if s == "active")
        options = cloud.agents.options
        cloud.node_down(master)

        def alive() -> bool:
            with cloud.db.session() as session:
                agent = session.scalars(select(m.Agent).where(
                    m.Agent.host == master, m.Agent.agent_type == "L3 agent")).one()
                return cloud.agents.alive(agent)

        await clock.run_for((options.agent_down_time - options.report_interval) / 4 - 0.01)
        assert alive()
        states = ha_states(cloud, router_id)
        assert states[master] == "active"  # its last report, as neutron keeps it
        assert [s for h, s in states.items() if h != master] == ["active"]
        # ... and dead a quarter of agent_down_time after its last report.
        await clock.run_for(options.report_interval / 4 + 0.02)
        assert not alive()
        assert ha_states(cloud, router_id)[master] == "standby"

    config = ephemeral_config()
    config.stacklab.ha_time_scale = 0.25  # four times faster, exact in binary
    run_in_virtual_time(test, config)


def test_a_router_made_outside_any_event_loop_gets_keepalived_when_the_agents_start() -> None:
    config = ephemeral_config()
    config.stacklab.ha_time_scale = 0.01  # the real clock, a hundred times faster
    cloud = Cloud(config)
    cloud.start("http://stacklab.test")
    try:
        # A store-only caller (no loop): the L3 agents hear of the router once a loop runs,
        # and a real clock could not arm keepalived's timers before anyway.
        router_id = make_router(cloud)
        assert all(i.state in (VrrpState.INIT, VrrpState.STOPPED)
                   for segment in cloud.agents.segments.values() for i in segment.instances())

        async def main() -> None:
            background = asyncio.create_task(cloud.run_background())
            try:
                # The election takes about 90 ms of real time, and each agent reports its
                # state one (scaled) advert interval later: wait for both reports, since a
                # busy machine can delay one past the other's.
                for _ in range(500):
                    await asyncio.sleep(0.01)
                    if sorted(ha_states(cloud, router_id).values()) == ["active", "standby"]:
                        break
                assert sorted(ha_states(cloud, router_id).values()) == ["active", "standby"]
                assert list(cloud.agents.segments) == [router_id]
            finally:
                background.cancel()

        asyncio.run(main())
    finally:
        cloud.stop()
