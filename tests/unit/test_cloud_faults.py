"""One fault path: ``node_down``/``node_up`` change the runtime, and everything follows it.

The bus's RPC servers, the nova services' reports, the neutron agents' reports
and keepalived, the control plane (tests/unit/ha/test_request_path.py), ``status``
and the namespaces view each read the node's power from the cloud's runtime; none
keeps its own copy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.testclient import TestClient

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.compute import models as cm
from stacklab.ha.vrrp import VrrpState
from stacklab.network import models as nm
from support.inprocess import admin_token, run_in_virtual_time

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
COMPUTE1 = "compute1.openstack.local"
CONTROLLER1 = "controller1.openstack.local"
CONTROLLER2 = "controller2.openstack.local"




def agent_reports(cloud: Cloud) -> dict[str, float]:
    """Each host's latest neutron agent report."""
    with cloud.db.session() as session:
        reports: dict[str, float] = {}
        for agent in session.scalars(select(nm.Agent)):
            reports[agent.host] = max(reports.get(agent.host, 0.0), agent.heartbeat_timestamp)
        return reports


def nova_reports(cloud: Cloud) -> dict[str, float | None]:
    with cloud.db.session() as session:
        return {r.host: r.last_seen_up for r in session.scalars(
            select(cm.ServiceRecord).where(cm.ServiceRecord.binary == "nova-compute"))}


def test_a_node_down_stops_its_servers_reports_and_keepalived_and_up_brings_them_back() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        with cloud.db.session() as session:
            router_id = cloud.routing.create_router(session, "p1", {"name": "r1"}).id
        await clock.run_for(60)
        segment = cloud.agents.segments[router_id]
        assert {i.node for i in segment.instances()} == {NETWORK1, NETWORK2}
        assert cloud.bus.listeners(COMPUTE1)

        cloud.node_down(NETWORK1)
        cloud.node_down(COMPUTE1)
        assert cloud.runtime.down_nodes() == {NETWORK1, COMPUTE1}
        assert all(listener.paused for listener in cloud.bus.listeners(COMPUTE1))
        assert [i.state for i in segment.instances(node=NETWORK1)] == [VrrpState.STOPPED]
        agents_before, nova_before = agent_reports(cloud), nova_reports(cloud)
        await clock.run_for(120)
        agents_after, nova_after = agent_reports(cloud), nova_reports(cloud)
        assert agents_after[NETWORK1] == agents_before[NETWORK1]
        assert agents_after[COMPUTE1] == agents_before[COMPUTE1]
        assert agents_after[NETWORK2] > agents_before[NETWORK2]
        assert nova_after[COMPUTE1] == nova_before[COMPUTE1]
        assert nova_after["compute2.openstack.local"] != nova_before["compute2.openstack.local"]
        # The surviving node's keepalived took over.
        assert segment.masters() == [NETWORK2]

        cloud.node_up(NETWORK1)
        cloud.node_up(COMPUTE1)
        assert cloud.runtime.down_nodes() == frozenset()
        assert not any(listener.paused for listener in cloud.bus.listeners(COMPUTE1))
        # The restarted L3 agent's full sync (once its first report is in) runs keepalived.
        await clock.run_for(0)
        assert segment.instance(NETWORK1).state != VrrpState.STOPPED
        await clock.run_for(60)
        assert agent_reports(cloud)[NETWORK1] > agents_after[NETWORK1]
        assert (nova_reports(cloud)[COMPUTE1] or 0.0) > (nova_after[COMPUTE1] or 0.0)

    run_in_virtual_time(test)


def test_status_and_the_namespaces_view_read_the_nodes_state(client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client)}

    def network1() -> dict[str, Any]:
        nodes = client.get("/stacklab/v1/status", headers=headers).json()["nodes"]
        found: dict[str, Any] = next(n for n in nodes if n["name"] == "network1")
        return found

    network = client.post("/networking/v2.0/networks", headers=headers,
                          json={"network": {"name": "n1"}}).json()["network"]
    subnet = client.post("/networking/v2.0/subnets", headers=headers, json={"subnet": {
        "network_id": network["id"], "cidr": "10.1.0.0/24", "ip_version": 4}})
    assert subnet.status_code == 201, subnet.text
    assert network1()["state"] == "up"
    assert set(network1()["service_states"].values()) == {"running"}
    qdhcp = client.get("/stacklab/v1/nodes/network1/netns", headers=headers).json()
    assert qdhcp["state"] == "up" and qdhcp["namespaces"], qdhcp

    down = client.post("/stacklab/v1/nodes/network1/down", headers=headers)
    assert down.json() == {"node": NETWORK1, "state": "down"}
    assert network1()["state"] == "down"
    assert network1()["service_states"]["neutron-dhcp-agent"] == "stopped"
    # Powered off, it has no namespaces to show: they went with its kernel.
    shown = client.get("/stacklab/v1/nodes/network1/netns", headers=headers).json()
    assert shown == {"node": NETWORK1, "state": "down", "namespaces": []}
    text = client.get("/stacklab/v1/nodes/network1/netns?text", headers=headers)
    assert "qdhcp-" not in text.text

    up = client.post("/stacklab/v1/nodes/network1/up", headers=headers)
    assert up.json() == {"node": NETWORK1, "state": "up"}
    again = client.get("/stacklab/v1/nodes/network1/netns", headers=headers).json()
    assert again["namespaces"] == qdhcp["namespaces"]
