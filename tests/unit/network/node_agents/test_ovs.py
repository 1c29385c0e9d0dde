"""The Open vSwitch agents on the bus: after a power cycle each reports its host's ports anew."""

from __future__ import annotations

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.network import models as m
from stacklab.network.declaration import NODE_AGENTS
from stacklab.network.node_agents import OvsAgent
from support.inprocess import project_network, run_in_virtual_time

COMPUTE1 = "compute1.openstack.local"
COMPUTE2 = "compute2.openstack.local"


def ovs_agent(cloud: Cloud, host: str) -> OvsAgent:
    agent = cloud.parts.get(NODE_AGENTS).endpoint(host, OvsAgent)
    assert agent is not None
    return agent


def status(cloud: Cloud, port_id: str) -> str:
    with cloud.db.session() as session:
        port = session.get(m.Port, port_id)
        assert port is not None
        return port.status


def test_a_power_cycled_agent_wires_its_hosts_ports_again_and_they_are_active() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        network_id, _ = project_network(cloud, scheduled=False)
        with cloud.db.session() as session:
            ports = {name: cloud.network.create_port(session, "p1", {
                "network_id": network_id, "binding:host_id": host,
                "admin_state_up": up}).id
                for name, host, up in (("here", COMPUTE1, True), ("off", COMPUTE1, False),
                                       ("there", COMPUTE2, True))}
        await clock.run_for(0)
        agent = ovs_agent(cloud, COMPUTE1)
        assert agent.devices == {ports["here"]}
        assert status(cloud, ports["here"]) == "ACTIVE"

        cloud.node_down(COMPUTE1)
        assert agent.devices == set()
        # The agent's last word before its node went dark: the port is unplugged.
        assert cloud.network.port_events is not None
        cloud.network.port_events.device_down(ports["here"], COMPUTE1)
        await clock.run_for(60)
        assert status(cloud, ports["here"]) == "DOWN"

        cloud.node_up(COMPUTE1)
        await clock.run_for(0)
        assert agent.devices == {ports["here"]}
        assert [status(cloud, ports[n]) for n in ("here", "off", "there")] == [
            "ACTIVE", "DOWN", "ACTIVE"]
        assert ovs_agent(cloud, COMPUTE2).devices == {ports["there"]}

    run_in_virtual_time(test)
