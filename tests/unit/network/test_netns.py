"""What ``stacklab netns`` shows on a node follows its data plane: keepalived's own state says
which node holds an HA router's addresses, whatever neutron's API still reports.

In virtual time on the lab, through the lab's own view (``Lab.namespaces``, which the lab
API's ``/nodes/<node>/netns`` and the ``stacklab netns`` command both read).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.ha.vrrp import master_down_interval
from stacklab.lab.declaration import LAB
from stacklab.network import models as m
from stacklab.network.netns import ip_output
from support.inprocess import run_in_virtual_time

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
ELECTION = master_down_interval(50, 2.0)
REPORT_LAG = 2.0  # the L3 agent batches keepalived's state changes for ha_vrrp_advert_int


def namespace(cloud: Cloud, host: str, name: str) -> dict[str, Any] | None:
    return next((ns for ns in cloud.parts.get(LAB).namespaces(host) if ns["name"] == name),
                None)


def addresses(found: dict[str, Any] | None) -> dict[str, list[str]]:
    """Device prefix -> its addresses (one device of each kind here)."""
    assert found is not None
    return {device["name"][:3]: device["addresses"] for device in found["devices"]}


def api_states(cloud: Cloud, router_id: str) -> dict[str, str]:
    with cloud.db.session() as session:
        by_agent = cloud.agents.ha_states(session, router_id)
        hosts = {a.id: a.host for a in session.scalars(select(m.Agent))}
    return {hosts[agent]: state for agent, state in by_agent.items()}


def ha_router_with_interface(cloud: Cloud) -> str:
    with cloud.db.session() as session:
        network = cloud.network.create_network(session, "p1", {"name": "n"})
        session.flush()
        subnet = cloud.network.create_subnet(session, "p1", {
            "network_id": network.id, "cidr": "10.9.0.0/24", "ip_version": 4})
        router = cloud.routing.create_router(session, "p1", {"name": "r1"})
        cloud.routing.add_interface(session, router, {"subnet_id": subnet.id})
        return router.id


def test_the_ha_addresses_move_with_keepalived_before_the_api_hears_of_it() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id = ha_router_with_interface(cloud)
        name = f"qrouter-{router_id}"
        await clock.run_for(ELECTION + REPORT_LAG + 1)
        segment = cloud.agents.segments[router_id]
        [old] = segment.masters()
        new = NETWORK1 if old == NETWORK2 else NETWORK2
        assert addresses(namespace(cloud, old, name))["qr-"] == ["10.9.0.1/24"]
        assert len(addresses(namespace(cloud, old, name))["ha-"]) == 2  # with the VIP
        assert addresses(namespace(cloud, new, name))["qr-"] == []

        cloud.node_down(old)
        # The backup heard the master's last advert at most advert_int ago.
        await clock.run_for(ELECTION)
        assert segment.masters() == [new]
        # keepalived moved the addresses; neutron's API still says standby for the new
        # master (its agent's report is batched) and active for the dead one.
        assert api_states(cloud, router_id) == {old: "active", new: "standby"}
        shown = namespace(cloud, new, name)
        assert shown is not None and shown["ha_state"] == "active"
        assert addresses(shown)["qr-"] == ["10.9.0.1/24"]
        assert "haproxy (metadata proxy)" in shown["processes"]
        # A powered-off node shows nothing at all, by the API's JSON and by its text.
        assert cloud.parts.get(LAB).namespaces(old) == []
        assert ip_output(cloud.parts.get(LAB).namespaces(old)).strip() == ""

        await clock.run_for(cloud.agents.options.agent_down_time)
        cloud.node_up(old)
        await clock.run_for(0)
        # Back as a backup: neutron still reads its binding's last word, active, until its
        # agent's report of standby comes in; the namespace already has no addresses.
        assert api_states(cloud, router_id)[old] == "active"
        back = namespace(cloud, old, name)
        assert back is not None and back["ha_state"] == "standby"
        assert addresses(back)["qr-"] == [] and len(addresses(back)["ha-"]) == 1
        assert back["processes"] == ["keepalived"]
        await clock.run_for(REPORT_LAG)
        assert api_states(cloud, router_id) == {old: "standby", new: "active"}

    run_in_virtual_time(test)


def test_a_backup_whose_keepalived_does_not_run_shows_no_keepalived() -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id = ha_router_with_interface(cloud)
        await clock.run_for(ELECTION + REPORT_LAG + 1)
        segment = cloud.agents.segments[router_id]
        [master] = segment.masters()
        backup = NETWORK1 if master == NETWORK2 else NETWORK2
        segment.kill(backup)  # keepalived crashed, the node is up
        shown = namespace(cloud, backup, f"qrouter-{router_id}")
        assert shown is not None
        assert shown["processes"] == [] and shown["ha_state"] is None
        assert addresses(shown)["qr-"] == []

    run_in_virtual_time(test)
