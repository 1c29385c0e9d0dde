"""neutron-server's side of its agents' RPC: rows and heartbeats come from report_state.

In virtual time, on the lab's topology: each agent process casts its state to
``q-reports-plugin`` and only the server's endpoint writes the agents table.
"""

from __future__ import annotations

from sqlalchemy import select

from stacklab.bus import Target
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.topics import PLUGIN_TOPIC, REPORTS_TOPIC
from support.inprocess import ephemeral_config, run_in_virtual_time

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
COMPUTE1 = "compute1.openstack.local"
DHCP = "DHCP agent"


def row(cloud: Cloud, host: str, agent_type: str = DHCP) -> m.Agent:
    with cloud.db.session() as session:
        agent = session.scalars(select(m.Agent).where(
            m.Agent.host == host, m.Agent.agent_type == agent_type)).one()
        session.expunge(agent)
        return agent


def alive(cloud: Cloud, host: str) -> bool:
    return cloud.agents.alive(row(cloud, host))


def test_each_agents_row_is_made_by_its_first_report_over_the_bus() -> None:
    clock = VirtualClock()
    cloud = Cloud(ephemeral_config(), clock=clock)
    cloud.start("http://stacklab.test")
    try:
        processes = cloud.parts.get(NODE_AGENTS).processes
        counters = cloud.bus.metrics()[REPORTS_TOPIC]
        with cloud.db.session() as session:
            agents = list(session.scalars(select(m.Agent)))
        assert counters.casts_sent == counters.casts_delivered == len(processes)
        assert sorted((a.host, a.agent_type, a.binary, a.topic) for a in agents) == sorted(
            (p.host, p.endpoint.agent_type, p.endpoint.binary, p.endpoint.topic)
            for p in processes)
        assert {(a.created_at, a.started_at, a.heartbeat_timestamp) for a in agents} == {
            (clock.now(),) * 3}
        l3 = row(cloud, NETWORK1, "L3 agent")
        assert l3.configurations["agent_mode"] == "legacy"
        assert l3.availability_zone == "nova"
        assert row(cloud, NETWORK1, "Open vSwitch agent").availability_zone is None
    finally:
        cloud.stop()


def test_reports_keep_agents_alive_and_a_down_nodes_agents_die_after_agent_down_time() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        interval = cloud.config.AGENT.report_interval
        down_time = cloud.agents.options.agent_down_time
        started = clock.now()
        cloud.node_down(NETWORK1)
        await clock.run_for(interval + 1)
        assert row(cloud, NETWORK2).heartbeat_timestamp == started + interval
        assert row(cloud, NETWORK1).heartbeat_timestamp == started
        assert alive(cloud, NETWORK1)
        await clock.run_for(down_time - interval)
        assert not alive(cloud, NETWORK1)
        assert alive(cloud, NETWORK2)
        # Back up: the restarted agents report at once, with start_flag.
        cloud.node_up(NETWORK1)
        await clock.run_for(0)
        revived = row(cloud, NETWORK1)
        assert revived.heartbeat_timestamp == revived.started_at == clock.now()
        assert alive(cloud, NETWORK1)

    run_in_virtual_time(test)


def test_a_heartbeat_moves_only_when_the_server_handles_the_report() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        interval = cloud.config.AGENT.report_interval
        servers = [n.fqdn for n in cloud.topology.nodes_running("neutron-server")]
        before = row(cloud, NETWORK2).heartbeat_timestamp
        # neutron-server stopped on every controller (their brokers still serve: powered
        # off, they would take the broker with them and the reports would wait in the
        # agents' nodes instead, tests/unit/test_cloud_rabbitmq.py).
        for host in servers:
            cloud.runtime.stop_service(host, "neutron-server")
        await clock.run_for(2 * interval + 1)
        # The agents reported; with no server consuming, the reports wait in the queue.
        assert row(cloud, NETWORK2).heartbeat_timestamp == before
        assert cloud.bus.queue_depth(Target(REPORTS_TOPIC)) > 0
        cloud.runtime.start_service(servers[0], "neutron-server")
        await clock.run_for(0)
        assert cloud.bus.queue_depth(Target(REPORTS_TOPIC)) == 0
        assert row(cloud, NETWORK2).heartbeat_timestamp == clock.now()

    run_in_virtual_time(test)


def test_a_starting_agent_is_told_only_what_its_own_host_serves() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        with cloud.db.session() as session:
            network = cloud.network.create_network(session, "p1", {"name": "n"})
            session.flush()
            subnet = cloud.network.create_subnet(session, "p1", {
                "network_id": network.id, "cidr": "10.0.0.0/24", "ip_version": 4})
            session.flush()
            cloud.agents.schedule_dhcp(session, network.id)
            port = cloud.network.create_port(session, "p1", {
                "network_id": network.id, "binding:host_id": COMPUTE1})
            network_id, subnet_id, port_id = network.id, subnet.id, port.id
        await clock.run_for(0)
        plugin = Target(PLUGIN_TOPIC)
        for host in (NETWORK1, NETWORK2):
            assert await cloud.bus.call(plugin, "get_active_networks_info", host=host) == [
                {"id": network_id, "subnets": [subnet_id]}]
        assert await cloud.bus.call(plugin, "get_active_networks_info", host=COMPUTE1) == []
        bound = await cloud.bus.call(plugin, "get_ports_by_vnic_type_and_host",
                                     vnic_type="normal", host=COMPUTE1)
        assert [(p["id"], p["binding:host_id"]) for p in bound] == [(port_id, COMPUTE1)]
        # network1's only port there is its DHCP port.
        bound = await cloud.bus.call(plugin, "get_ports_by_vnic_type_and_host",
                                     vnic_type="normal", host=NETWORK1)
        assert [p["device_owner"] for p in bound] == ["network:dhcp"]

    run_in_virtual_time(test)


def test_a_stopped_cloud_neither_sends_nor_consumes_reports() -> None:
    """Stopping the cloud stops its agents and the server's consumers before the store
    goes: a report that would land afterwards has nowhere to be written."""
    clock = VirtualClock()
    cloud = Cloud(ephemeral_config(), clock=clock)
    cloud.start("http://stacklab.test")
    processes = cloud.parts.get(NODE_AGENTS).processes
    cloud.stop()
    counters = cloud.bus.metrics()[REPORTS_TOPIC]
    sent = counters.casts_sent
    assert not any(p.report() for p in processes)
    assert counters.casts_sent == sent
    assert not [listener for listener in cloud.bus.listeners()
                if listener.target.topic in (REPORTS_TOPIC, PLUGIN_TOPIC)]
