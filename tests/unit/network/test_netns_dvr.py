"""DVR on the lab with ``dvr: true`` (network nodes dvr_snat, compute nodes dvr), in virtual
time: the SNAT and floating IP agent gateway ports neutron makes, and what ``ip netns``
shows of them on each node — fg-/sg- addresses, the rfp-/fpr- link-local pair, and for
DVR+HA the snat- addresses on keepalived's master only.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.config import Config
from stacklab.ha.vrrp import master_down_interval
from stacklab.lab.declaration import LAB
from stacklab.network import models as m
from stacklab.topology.loader import default_lab_data
from support.inprocess import ephemeral_config, project_network, run_in_virtual_time

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
COMPUTE1 = "compute1.openstack.local"
SNAT = "network:router_centralized_snat"
AGENT_GW = "network:floatingip_agent_gateway"
ELECTION = master_down_interval(50, 2.0)
REPORT_LAG = 2.0


def dvr_config(tmp_path: Path) -> Config:
    data = default_lab_data()
    data["dvr"] = True
    topology = tmp_path / "dvr.yaml"
    topology.write_text(json.dumps(data))  # YAML reads JSON
    config = ephemeral_config()
    config.stacklab.topology = str(topology)
    return config


def devices(namespace: dict[str, Any] | None) -> dict[str, list[str]]:
    assert namespace is not None
    return {d["name"]: d["addresses"] for d in namespace["devices"]}


def by_prefix(namespace: dict[str, Any] | None, prefix: str) -> list[list[str]]:
    return [addresses for name, addresses in devices(namespace).items()
            if name.startswith(prefix)]


def shown(cloud: Cloud, host: str) -> dict[str, dict[str, Any]]:
    return {ns["name"]: ns for ns in cloud.parts.get(LAB).namespaces(host)}


def cidr(cloud: Cloud, port: m.Port) -> list[str]:
    with cloud.db.session() as session:
        found = []
        for allocation in session.scalars(select(m.IPAllocation).where(
                m.IPAllocation.port_id == port.id)):
            subnet = session.get(m.Subnet, allocation.subnet_id)
            assert subnet is not None
            prefix = ipaddress.ip_network(subnet.cidr).prefixlen
            found.append(f"{allocation.ip_address}/{prefix}")
        return found


def ports(cloud: Cloud, owner: str) -> list[m.Port]:
    with cloud.db.session() as session:
        found = list(session.scalars(select(m.Port).where(m.Port.device_owner == owner)
                                     .order_by(m.Port.binding_host_id)))
        for port in found:
            session.expunge(port)
        return found


def dvr_router(cloud: Cloud, *, ha: bool) -> tuple[str, str, str]:
    """A distributed router with the lab's external gateway and an interface on p1's
    network, and a server's port on compute1: (router, network, subnet)."""
    network_id, subnet_id = project_network(cloud)
    with cloud.db.session() as session:
        public = session.scalars(select(m.Network).where(m.Network.external.is_(True))).one()
        router = cloud.routing.create_router(session, "p1", {
            "name": "dvr", "distributed": True, "ha": ha,
            "external_gateway_info": {"network_id": public.id}})
        cloud.routing.add_interface(session, router, {"subnet_id": subnet_id})
        cloud.network.create_port(session, "p1", {
            "network_id": network_id, "device_owner": "compute:nova", "device_id": "vm1",
            "binding:host_id": COMPUTE1})
        return router.id, network_id, subnet_id


def test_dvr_ports_and_devices_get_their_addresses(tmp_path: Path) -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id, _, _ = dvr_router(cloud, ha=False)
        await clock.run_for(0)  # the ports are wired; DVR hears of compute1's
        [snat_port] = ports(cloud, SNAT)
        assert snat_port.device_id == router_id and snat_port.project_id == ""
        assert cidr(cloud, snat_port)[0].endswith("/24")
        gateways = ports(cloud, AGENT_GW)
        # compute1 (the server's port), and both network nodes (their DHCP ports on the
        # subnet bring the router there; network1 is also its SNAT node).
        assert [p.binding_host_id for p in gateways] == [COMPUTE1, NETWORK1, NETWORK2]
        assert {p.project_id for p in gateways} == {""}
        assert {p.status for p in gateways} == {"ACTIVE"}
        fg = {p.binding_host_id: p for p in gateways}

        on_compute = shown(cloud, COMPUTE1)
        fip_name = f"fip-{fg[COMPUTE1].network_id}"
        assert sorted(on_compute) == [fip_name, f"qrouter-{router_id}"]
        qrouter, fip = on_compute[f"qrouter-{router_id}"], on_compute[fip_name]
        assert by_prefix(qrouter, "qr-") == [["10.0.0.1/24"]]
        assert devices(fip)[("fg-" + fg[COMPUTE1].id)[:14]] == cidr(cloud, fg[COMPUTE1])
        # The veth pair: rfp- in qrouter-, fpr- in fip-, one /31 of 169.254.64.0/18.
        assert devices(qrouter)[("rfp-" + router_id)[:14]] == ["169.254.64.0/31"]
        assert devices(fip)[("fpr-" + router_id)[:14]] == ["169.254.64.1/31"]

        [snat_host] = [h for h in (NETWORK1, NETWORK2)
                       if f"snat-{router_id}" in shown(cloud, h)]
        snat = shown(cloud, snat_host)[f"snat-{router_id}"]
        assert by_prefix(snat, "sg-") == [cidr(cloud, snat_port)]
        [gateway] = by_prefix(snat, "qg-")
        assert gateway and gateway[0].startswith("192.168.100.")
        assert snat["processes"] == []

        # The pair stays the router's across the agent's restart (kept on the node's disk).
        cloud.node_down(COMPUTE1)
        cloud.node_up(COMPUTE1)
        await clock.run_for(0)
        assert devices(shown(cloud, COMPUTE1)[f"qrouter-{router_id}"])[
            ("rfp-" + router_id)[:14]] == ["169.254.64.0/31"]

        # Without the gateway: no SNAT port, and (the last gateway on the network gone)
        # no floating IP agent gateway port anywhere.
        with cloud.db.session() as session:
            router = session.get(m.Router, router_id)
            assert router is not None
            cloud.routing.clear_gateway(session, router)
        assert ports(cloud, SNAT) == [] and ports(cloud, AGENT_GW) == []
        names = shown(cloud, COMPUTE1)
        assert list(names) == [f"qrouter-{router_id}"]
        assert not any(n.startswith("rfp-") for n in devices(names[f"qrouter-{router_id}"]))

    run_in_virtual_time(test, dvr_config(tmp_path))


def test_dvr_ha_only_the_masters_snat_namespace_holds_the_addresses(tmp_path: Path) -> None:
    async def test(cloud: Cloud, clock: VirtualClock) -> None:
        router_id, _, _ = dvr_router(cloud, ha=True)
        await clock.run_for(ELECTION + REPORT_LAG + 1)
        [master] = cloud.agents.segments[router_id].masters()
        standby = NETWORK1 if master == NETWORK2 else NETWORK2
        [snat_port] = ports(cloud, SNAT)
        name = f"snat-{router_id}"
        active = shown(cloud, master)[name]
        passive = shown(cloud, standby)[name]
        assert by_prefix(active, "sg-") == [cidr(cloud, snat_port)]
        assert by_prefix(active, "qg-")[0][0].startswith("192.168.100.")
        assert len(by_prefix(active, "ha-")[0]) == 2  # its HA address and the VIP
        assert (active["ha_state"], active["processes"]) == ("active", ["keepalived"])
        # The standby has the devices, as keepalived leaves them, without the addresses.
        assert by_prefix(passive, "sg-") == [[]] and by_prefix(passive, "qg-") == [[]]
        assert len(by_prefix(passive, "ha-")[0]) == 1
        assert (passive["ha_state"], passive["processes"]) == ("standby", ["keepalived"])
        # The distributed part is the same on both: qr- addresses in each qrouter-.
        for host in (master, standby):
            assert by_prefix(shown(cloud, host)[f"qrouter-{router_id}"], "qr-") == [
                ["10.0.0.1/24"]]

        cloud.node_down(master)
        await clock.run_for(ELECTION)
        taken = shown(cloud, standby)[name]
        assert by_prefix(taken, "sg-") == [cidr(cloud, snat_port)]
        assert by_prefix(taken, "qg-")[0] != []

    run_in_virtual_time(test, dvr_config(tmp_path))
