"""What ``ip netns`` and ``ip addr`` would show on a node: the agents' namespaces and devices.

Names are neutron's: ``qdhcp-<network>`` with a ``tap`` device per DHCP port,
``qrouter-<router>`` with ``qr-`` (interfaces), ``qg-`` (gateway) and, for HA
routers, ``ha-`` devices. For DVR: ``qrouter-`` with ``qr-`` and ``rfp-`` (its end
of the veth pair to the fip- namespace), ``snat-<router>`` with ``sg-`` (a SNAT port
on each interface subnet) and ``qg-``, ``fip-<external network>`` with ``fg-`` (the
host's floating IP agent gateway port) and an ``fpr-`` end per router wired to it,
the pair holding link-local /31 addresses. A device is named after its port (or
router): the prefix and the first 11 characters of the id.

On an HA router only the VRRP master holds the interface, gateway and floating
addresses (keepalived's virtual IPs) and runs the metadata proxy; the backups have
the devices without those addresses (for DVR+HA, those of the snat- namespace).
Which node is the master is its keepalived's own state (the data plane), not the
``ha_state`` neutron's API shows, which lags behind it (the agents report changes
in batches) and keeps a dead node's last word.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.ha.vrrp import VrrpState
from stacklab.network import models as m
from stacklab.network import scheduling as sch
from stacklab.network.agents import Agents
from stacklab.network.keepalived import NOT_RUNNING
from stacklab.network.node_agents import NodeAgents
from stacklab.network.node_agents.fip_link_local import FipLinkLocalAllocator, LinkLocalPair
from stacklab.network.node_agents.l3 import HA_STATES, L3Agent
from stacklab.network.routing import GATEWAY, INTERFACE_OWNERS


def _device(prefix: str, port_id: str) -> str:
    return (prefix + port_id)[:14]


def _cidr_of(session: Session, allocation: m.IPAllocation) -> str:
    subnet = session.get(m.Subnet, allocation.subnet_id)
    prefix = ipaddress.ip_network(subnet.cidr).prefixlen if subnet is not None else 32
    return f"{allocation.ip_address}/{prefix}"


def _addresses(session: Session, port_id: str) -> list[str]:
    return [_cidr_of(session, a) for a in session.scalars(select(m.IPAllocation).where(
        m.IPAllocation.port_id == port_id).order_by(m.IPAllocation.id))]


def _port_device(session: Session, prefix: str, port: m.Port,
                 with_addresses: bool = True) -> dict[str, Any]:
    return {"name": _device(prefix, port.id), "mac": port.mac_address,
            "addresses": _addresses(session, port.id) if with_addresses else []}


def namespaces(session: Session, agents: Agents, host: str,
               node_agents: NodeAgents | None = None) -> list[dict[str, Any]]:
    """The namespaces of ``host``, each with its devices and their addresses.

    ``node_agents`` are the lab's agent processes, whose L3 agent on ``host`` keeps the
    link-local pairs of its DVR routers (a passing allocator stands in without them).
    """
    rows = list(session.scalars(select(m.Agent).where(m.Agent.host == host)))
    result: list[dict[str, Any]] = []
    dhcp = next((a for a in rows if a.agent_type == sch.AGENT_TYPE_DHCP), None)
    if dhcp is not None:
        for dhcp_binding in session.scalars(select(m.DhcpBinding).where(
                m.DhcpBinding.agent_id == dhcp.id).order_by(m.DhcpBinding.network_id)):
            ports = session.scalars(select(m.Port).where(
                m.Port.network_id == dhcp_binding.network_id, m.Port.device_owner == "network:dhcp",
                m.Port.binding_host_id == host))
            result.append({"name": f"qdhcp-{dhcp_binding.network_id}", "processes": ["dnsmasq"],
                           "devices": [_port_device(session, "tap", p) for p in ports]})
    l3 = next((a for a in rows if a.agent_type == sch.AGENT_TYPE_L3), None)
    if l3 is None:
        return result
    l3_agent = node_agents.endpoint(host, L3Agent) if node_agents is not None else None
    link_local = l3_agent.fip_link_local if l3_agent is not None else FipLinkLocalAllocator()
    result.extend(_dvr_namespaces(session, agents, host, l3, link_local))
    for binding in session.scalars(select(m.RouterBinding).where(
            m.RouterBinding.agent_id == l3.id).order_by(m.RouterBinding.router_id)):
        router = session.get(m.Router, binding.router_id)
        if router is None or router.distributed or not router.admin_state_up:
            continue
        vrrp = agents.keepalived.state(router.id, host) if router.ha else None
        master = not router.ha or vrrp is VrrpState.MASTER
        devices: list[dict[str, Any]] = []
        if router.ha:
            devices.extend(_ha_device(session, agents, router, host, master))
        for port in session.scalars(select(m.Port).where(
                m.Port.device_id == router.id, m.Port.device_owner.in_(INTERFACE_OWNERS))):
            devices.append(_port_device(session, "qr-", port, with_addresses=master))
        gateway = session.scalar(select(m.Port).where(m.Port.device_id == router.id,
                                                      m.Port.device_owner == GATEWAY))
        if gateway is not None:
            device = _port_device(session, "qg-", gateway, with_addresses=master)
            if master:
                device["addresses"] += [f"{f.floating_ip_address}/32" for f in session.scalars(
                    select(m.FloatingIP).where(m.FloatingIP.router_id == router.id,
                                               m.FloatingIP.fixed_port_id.is_not(None)))]
            devices.append(device)
        processes = _keepalived(vrrp) if router.ha else []
        if master:
            processes.append("haproxy (metadata proxy)")
        result.append({"name": f"qrouter-{router.id}", "devices": devices,
                       "processes": processes, "ha_state": _ha_state(vrrp)})
    return result


def _keepalived(vrrp: VrrpState | None) -> list[str]:
    return ["keepalived"] if vrrp is not None and vrrp not in NOT_RUNNING else []


def _ha_state(vrrp: VrrpState | None) -> str | None:
    """What the node's keepalived says of the router, in neutron's words (None: not running)."""
    return HA_STATES.get(vrrp) if vrrp is not None and vrrp not in NOT_RUNNING else None


def _ha_device(session: Session, agents: Agents, router: m.Router, host: str,
               master: bool) -> list[dict[str, Any]]:
    """The router's ``ha-`` device on this host: its HA port's address, and keepalived's
    primary VIP on the master."""
    ha_port = session.scalar(select(m.Port).where(
        m.Port.device_id == router.id, m.Port.device_owner == sch.DEVICE_OWNER_ROUTER_HA_INTF,
        m.Port.binding_host_id == host))
    if ha_port is None:
        return []
    device = _port_device(session, "ha-", ha_port)
    allocation = session.get(m.VrIdAllocation, router.id)
    if master and allocation is not None:
        device["addresses"].append(sch.primary_vip(allocation.vr_id, agents.options))
    return [device]


def _dvr_namespaces(session: Session, agents: Agents, host: str, l3: m.Agent,
                    link_local: FipLinkLocalAllocator) -> list[dict[str, Any]]:
    """A distributed router's namespaces on this host, as neutron's DVR places them:
    ``qrouter-`` where its subnets have bound ports (the gateway addresses are on every such
    host), ``snat-`` on the dvr_snat node hosting its central part, ``fip-`` where its
    qrouter- is wired to the external network (``Agents.dvr_namespaces``)."""
    names = agents.dvr_namespaces(session, host).get(host, [])
    if not names:
        return []
    routers = {r.id: r for r in session.scalars(select(m.Router).where(
        m.Router.distributed.is_(True)))}
    # The fip- gateway ports this host's agent holds, by external network: without one,
    # no fip- namespace and no router wired to it (neutron's connect_rtr_2_fip).
    fg_ports = {p.network_id: p for p in session.scalars(select(m.Port).where(
        m.Port.device_id == l3.id, m.Port.device_owner == sch.DEVICE_OWNER_AGENT_GW))}
    wired = [ident for kind, _, ident in (n.partition("-") for n in names)
             if kind == "qrouter" and ident in routers
             and routers[ident].gw_network_id in fg_ports
             and f"fip-{routers[ident].gw_network_id}" in names]
    pairs = link_local.wire(wired)
    result: list[dict[str, Any]] = []
    for name in names:
        kind, _, ident = name.partition("-")
        router = routers.get(ident)
        if kind == "qrouter" and router is not None:
            result.append(_dvr_qrouter(session, agents, router, host, names, pairs))
        elif kind == "snat" and router is not None:
            result.append(_snat(session, agents, router, host))
        elif kind == "fip" and ident in fg_ports:
            devices = [_port_device(session, "fg-", fg_ports[ident])]
            devices += [{"name": _device("fpr-", router_id), "mac": "",
                         "addresses": [pairs[router_id][1]]}
                        for router_id in wired if routers[router_id].gw_network_id == ident]
            result.append({"name": name, "devices": devices, "processes": [],
                           "ha_state": None})
    return result


def _dvr_qrouter(session: Session, agents: Agents, router: m.Router, host: str,
                 names: list[str], pairs: dict[str, LinkLocalPair]) -> dict[str, Any]:
    """The router's interfaces with their addresses (the same on every host), and the
    rfp- end of its link to the fip- namespace."""
    devices = [_port_device(session, "qr-", p) for p in session.scalars(
        select(m.Port).where(m.Port.device_id == router.id,
                             m.Port.device_owner == sch.DEVICE_OWNER_DVR_INTERFACE))]
    if router.id in pairs:
        devices.append({"name": _device("rfp-", router.id), "mac": "",
                        "addresses": [pairs[router.id][0]]})
    # DVR+HA: the central part's metadata proxy runs on the master only; every other
    # host's qrouter- (neutron's DvrLocalRouter) runs its own.
    central = router.ha and f"snat-{router.id}" in names
    proxy = not central or agents.keepalived.state(router.id, host) is VrrpState.MASTER
    return {"name": f"qrouter-{router.id}", "devices": devices,
            "processes": ["haproxy (metadata proxy)"] if proxy else [], "ha_state": None}


def _snat(session: Session, agents: Agents, router: m.Router, host: str) -> dict[str, Any]:
    """The central SNAT part: the gateway (qg-) and one sg- port per interface subnet. For
    DVR+HA, keepalived runs here and only its master holds those addresses (they are its
    virtual IPs, as neutron's DvrEdgeHaRouter configures them); the standby has the
    devices without them."""
    vrrp = agents.keepalived.state(router.id, host) if router.ha else None
    master = not router.ha or vrrp is VrrpState.MASTER
    devices = _ha_device(session, agents, router, host, master) if router.ha else []
    devices += [_port_device(session, "sg-", p, with_addresses=master)
                for p in session.scalars(select(m.Port).where(
                    m.Port.device_id == router.id,
                    m.Port.device_owner == sch.DEVICE_OWNER_ROUTER_SNAT)
                    .order_by(m.Port.created_at, m.Port.id))]
    gateway = session.scalar(select(m.Port).where(m.Port.device_id == router.id,
                                                  m.Port.device_owner == GATEWAY))
    if gateway is not None:
        devices.append(_port_device(session, "qg-", gateway, with_addresses=master))
    return {"name": f"snat-{router.id}", "devices": devices,
            "processes": _keepalived(vrrp) if router.ha else [],
            "ha_state": _ha_state(vrrp) if router.ha else None}


def ip_output(namespaces_: list[dict[str, Any]]) -> str:
    """The namespaces as ``ip netns`` then ``ip netns exec <ns> ip -br addr`` print them."""
    lines = [ns["name"] for ns in namespaces_]
    for ns in namespaces_:
        lines.append("")
        lines.append(f"# ip netns exec {ns['name']} ip -br addr")
        lines.append(f"{'lo':<16}UNKNOWN        127.0.0.1/8 ::1/128")
        for device in ns["devices"]:
            state = "UP" if device["addresses"] else "UNKNOWN"
            lines.append(f"{device['name']:<16}{state:<15}{' '.join(device['addresses'])}"
                         .rstrip())
    return "\n".join(lines) + "\n"
