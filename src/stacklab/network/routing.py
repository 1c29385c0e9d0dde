"""Routers and floating IPs: gateways, interfaces, static routes, NAT, as neutron's L3 plugin.

A router's gateway and interfaces are ports (device_owner
``network:router_gateway`` and ``network:router_interface`` or its HA/DVR
variants) holding the subnets' gateway addresses; a floating IP is a port on
the external network (``network:floatingip``) mapped to a fixed address the
router can reach: the router must have its gateway on the floating IP's
network and an interface on the fixed address's subnet.

A distributed router with a gateway has, as neutron's l3_dvr_db makes them, a
SNAT interface port (``network:router_centralized_snat``, the ``sg-`` device of its
``snat-`` namespace) on each of its interfaces' subnets, and each DVR host that
runs it a floating IP agent gateway port on the external network (the ``fg-``
device of its ``fip-`` namespace; see ``Agents.ensure_fip_agent_gateway_ports``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest
from stacklab.network import models as m
from stacklab.network.agents import Agents
from stacklab.network.attributes import to_boolean
from stacklab.network.scheduling.constants import (
    DEVICE_OWNER_AGENT_GW,
    DEVICE_OWNER_DVR_INTERFACE,
    DEVICE_OWNER_ROUTER_SNAT,
)
from stacklab.network.service import NetworkService, neutron_error

GATEWAY = "network:router_gateway"
INTERFACE = "network:router_interface"
INTERFACE_DISTRIBUTED = DEVICE_OWNER_DVR_INTERFACE
INTERFACE_HA = "network:ha_router_replicated_interface"
FLOATINGIP = "network:floatingip"
INTERFACE_OWNERS = (INTERFACE, INTERFACE_DISTRIBUTED, INTERFACE_HA)
SNAT_INTERFACE = DEVICE_OWNER_ROUTER_SNAT


def router_bad_request(message: str) -> BadRequest:
    return BadRequest(f"Bad router request: {message}.")


class Routing:
    def __init__(self, network: NetworkService, agents: Agents, *, l3_ha: bool = False,
                 distributed: bool = False) -> None:
        self.network = network
        self.agents = agents
        self.l3_ha = l3_ha
        self.distributed = distributed

    # -- routers -------------------------------------------------------------------------

    def get_router(self, session: Session, router_id: str) -> m.Router:
        router = session.get(m.Router, router_id)
        if router is None:
            raise neutron_error("RouterNotFound", f"Router {router_id} could not be found", 404)
        return router

    def interface_owner(self, router: m.Router) -> str:
        if router.distributed:
            return INTERFACE_DISTRIBUTED
        return INTERFACE_HA if router.ha else INTERFACE

    def create_router(self, session: Session, project_id: str,
                      fields: Mapping[str, Any]) -> m.Router:
        now = self.network.clock.now()
        distributed = fields.get("distributed")
        ha = fields.get("ha")
        router = m.Router(
            id=self.network.ids.uuid(), project_id=project_id, name=fields.get("name", ""),
            description=fields.get("description", ""),
            admin_state_up=fields.get("admin_state_up", True), status="ACTIVE",
            distributed=self.distributed if distributed is None else bool(distributed),
            ha=self.l3_ha if ha is None else bool(ha), routes=[],
            availability_zone_hints=list(fields.get("availability_zone_hints") or []),
            tags=[], created_at=now, updated_at=now)
        session.add(router)
        session.flush()
        if fields.get("external_gateway_info"):
            self.set_gateway(session, router, fields["external_gateway_info"])
        self.agents.schedule_router(session, router)
        return router

    def update_router(self, session: Session, router: m.Router,
                      fields: Mapping[str, Any]) -> None:
        admin_up = fields.get("admin_state_up", router.admin_state_up)
        if "ha" in fields and bool(fields["ha"]) != router.ha and router.admin_state_up \
                and admin_up:
            raise router_bad_request("Cannot change HA attribute of active routers. Please set "
                                     "router admin_state_up to False prior to upgrade")
        if "distributed" in fields and bool(fields["distributed"]) != router.distributed:
            if router.distributed:
                raise BadRequest("Migration from distributed router to centralized is not "
                                 "supported")
            if router.admin_state_up and admin_up:
                raise router_bad_request("Cannot upgrade active router to distributed. Please "
                                         "set router admin_state_up to False prior to upgrade")
        if "external_gateway_info" in fields:
            info = fields["external_gateway_info"]
            if info:
                self.set_gateway(session, router, info)
            else:
                self.clear_gateway(session, router)
        if "routes" in fields:
            self.set_routes(session, router, list(fields["routes"] or []))
        for name in ("name", "description", "admin_state_up", "ha", "distributed"):
            if name in fields:
                setattr(router, name, fields[name])
        if "ha" in fields or "distributed" in fields:
            owner = self.interface_owner(router)
            for port in self.interface_ports(session, router.id):
                port.device_owner = owner
            # A router made distributed gets its SNAT ports (neutron's l3_dvr_db, after
            # the update); a changed router is hosted anew (an HA router gets its VRRP
            # replicas).
            self.ensure_snat_ports(session, router)
            self.agents.unschedule_router(session, router.id)
            session.flush()
            self.agents.schedule_router(session, router)
        if "admin_state_up" in fields and router.ha:
            # The L3 agents drop an admin-down router (and its keepalived), and take it back.
            if router.admin_state_up:
                self.agents.start_vrrp(session, router)
            else:
                self.agents.stop_vrrp(router.id)

    def delete_router(self, session: Session, router: m.Router) -> None:
        if self.interface_ports(session, router.id):
            raise neutron_error("RouterInUse", f"Router {router.id} still has ports", 409)
        if session.scalar(select(m.FloatingIP.id).where(m.FloatingIP.router_id == router.id)):
            raise neutron_error("RouterInUse", f"Router {router.id} still has floating IPs "
                                "associated", 409)
        self.clear_gateway(session, router)
        self.agents.unschedule_router(session, router.id)
        session.flush()
        session.delete(router)
        session.flush()
        if router.ha:
            self.agents.drop_ha_network_if_unused(session, router.project_id)

    def gateway_port(self, session: Session, router_id: str) -> m.Port | None:
        return session.scalar(select(m.Port).where(m.Port.device_id == router_id,
                                                   m.Port.device_owner == GATEWAY))

    def interface_ports(self, session: Session, router_id: str) -> list[m.Port]:
        return list(session.scalars(select(m.Port).where(
            m.Port.device_id == router_id, m.Port.device_owner.in_(INTERFACE_OWNERS))
            .order_by(m.Port.created_at, m.Port.id)))

    def set_gateway(self, session: Session, router: m.Router, info: Mapping[str, Any]) -> None:
        network = self.network.get_network(session, info["network_id"])
        if not network.external:
            raise router_bad_request(f"Network {network.id} is not an external network")
        current = self.gateway_port(session, router.id)
        if current is not None and current.network_id != network.id:
            self.clear_gateway(session, router, replaced=True)
            current = None
        if current is None:
            requested = [dict(ip) for ip in info.get("external_fixed_ips") or []] or None
            self._check_overlap(session, router, [s.cidr for s in
                                                  self.network.subnets_of(session, network.id)])
            self.network.create_port(session, "", {
                "network_id": network.id, "device_id": router.id, "device_owner": GATEWAY,
                "fixed_ips": requested, "security_groups": []})
        router.gw_network_id = network.id
        router.enable_snat = to_boolean(info.get("enable_snat", True))
        self.ensure_snat_ports(session, router)
        self.agents.ensure_fip_agent_gateway_ports(session)

    def clear_gateway(self, session: Session, router: m.Router, *,
                      replaced: bool = False) -> None:
        """Remove the gateway; its SNAT ports too, unless another network's replaces it."""
        if router.gw_network_id and session.scalar(select(m.FloatingIP.id).where(
                m.FloatingIP.router_id == router.id)):
            raise neutron_error("RouterExternalGatewayInUseByFloatingIp",
                                f"Gateway cannot be updated for router {router.id}, since a "
                                f"gateway to external network {router.gw_network_id} is "
                                "required by one or more floating IPs.", 409)
        port = self.gateway_port(session, router.id)
        for snat_port in [] if replaced else self.snat_ports(session, router.id):
            session.delete(snat_port)
        if port is not None:
            session.delete(port)
            session.flush()
            self._drop_unused_fip_agent_gateway_ports(session, port.network_id)
        router.gw_network_id = None

    def snat_ports(self, session: Session, router_id: str) -> list[m.Port]:
        return list(session.scalars(select(m.Port).where(
            m.Port.device_id == router_id, m.Port.device_owner == SNAT_INTERFACE)
            .order_by(m.Port.created_at, m.Port.id)))

    def ensure_snat_ports(self, session: Session, router: m.Router) -> None:
        """neutron's _create_snat_intf_ports_if_not_exists: a distributed router with a
        gateway and no SNAT port yet gets one per IPv4 subnet of its interfaces, and one
        for all their IPv6 subnets."""
        if not (router.distributed and router.gw_network_id) or \
                self.snat_ports(session, router.id):
            return
        for port in self.interface_ports(session, router.id):
            self._add_snat_ports(session, router, port)

    def _add_snat_ports(self, session: Session, router: m.Router, interface: m.Port) -> None:
        v4: list[dict[str, str]] = []
        v6: list[dict[str, str]] = []
        for allocation in session.scalars(select(m.IPAllocation).where(
                m.IPAllocation.port_id == interface.id).order_by(m.IPAllocation.id)):
            version = ipaddress.ip_address(allocation.ip_address).version
            (v4 if version == 4 else v6).append({"subnet_id": allocation.subnet_id})
        # neutron's SNAT ports belong to no project and have no name.
        for fixed_ips in [[ip] for ip in v4] + ([v6] if v6 else []):
            self.network.create_port(session, "", {
                "network_id": interface.network_id, "device_id": router.id,
                "device_owner": SNAT_INTERFACE, "name": "", "security_groups": [],
                "fixed_ips": fixed_ips})

    def _drop_unused_fip_agent_gateway_ports(self, session: Session, network_id: str) -> None:
        """neutron deletes every host's floating IP agent gateway port on an external
        network with the last router gateway on it."""
        if session.scalar(select(m.Port.id).where(m.Port.network_id == network_id,
                                                  m.Port.device_owner == GATEWAY)):
            return
        for port in session.scalars(select(m.Port).where(
                m.Port.network_id == network_id, m.Port.device_owner == DEVICE_OWNER_AGENT_GW)):
            self.network.delete_port(session, port)

    def set_routes(self, session: Session, router: m.Router,
                   routes: list[dict[str, str]]) -> None:
        connected = [ipaddress.ip_network(s.cidr) for s in self._router_subnets(session, router)]
        for route in routes:
            try:
                nexthop = ipaddress.ip_address(route["nexthop"])
                ipaddress.ip_network(route["destination"])
            except (KeyError, ValueError):
                raise BadRequest(f"Invalid input for routes. Reason: '{route}' is not a valid "
                                 "route.") from None
            if not any(nexthop in net for net in connected):
                raise BadRequest(f"Invalid format for routes: {routes}, the nexthop is not "
                                 "connected with router")
        router.routes = [{"destination": r["destination"], "nexthop": r["nexthop"]}
                         for r in routes]

    def _router_subnets(self, session: Session, router: m.Router) -> list[m.Subnet]:
        port_ids = [p.id for p in self.interface_ports(session, router.id)]
        gateway = self.gateway_port(session, router.id)
        if gateway is not None:
            port_ids.append(gateway.id)
        subnet_ids = {a.subnet_id for a in session.scalars(select(m.IPAllocation).where(
            m.IPAllocation.port_id.in_(port_ids)))}
        return [s for s in session.scalars(select(m.Subnet).where(m.Subnet.id.in_(subnet_ids)))]

    def _check_overlap(self, session: Session, router: m.Router, cidrs: list[str],
                       new_subnet: str | None = None) -> None:
        for existing in self._router_subnets(session, router):
            for cidr in cidrs:
                if ipaddress.ip_network(existing.cidr).overlaps(ipaddress.ip_network(cidr)):
                    raise router_bad_request(
                        f"Cidr {cidr} of subnet {new_subnet or ''} overlaps with cidr "
                        f"{existing.cidr} of subnet {existing.id}".replace(" of subnet  ",
                                                                           " "))

    # -- interfaces ------------------------------------------------------------------------

    @staticmethod
    def _interface(router: m.Router, port: m.Port, subnet_ids: list[str]) -> dict[str, Any]:
        """What adding or removing an interface answers."""
        return {"id": router.id, "tenant_id": router.project_id,
                "project_id": router.project_id, "port_id": port.id,
                "network_id": port.network_id,
                "subnet_id": subnet_ids[0] if subnet_ids else None, "subnet_ids": subnet_ids}

    def add_interface(self, session: Session, router: m.Router,
                      info: Mapping[str, Any]) -> dict[str, Any]:
        """An interface on the port or (else) the subnet ``info`` names (one of them)."""
        owner = self.interface_owner(router)
        if "port_id" in info:
            port = self.network.get_port(session, info["port_id"])
            if port.device_id:
                raise neutron_error("PortInUse", f"Unable to complete operation on port "
                                    f"{port.id} for network {port.network_id}. Port already "
                                    f"has an attached device {port.device_id}.", 409)
            allocations = list(session.scalars(select(m.IPAllocation).where(
                m.IPAllocation.port_id == port.id)))
            if not allocations:
                raise router_bad_request("Router port must have at least one fixed IP")
            subnets = [self.network.get_subnet(session, a.subnet_id) for a in allocations]
            self._check_overlap(session, router, [s.cidr for s in subnets], subnets[0].id)
            port.device_id = router.id
            port.device_owner = owner
            port.status = "ACTIVE"
        else:
            subnet = self.network.get_subnet(session, info["subnet_id"])
            if not subnet.gateway_ip:
                raise router_bad_request("Subnet for router interface must have a gateway IP")
            if any(s.id == subnet.id for s in self._router_subnets(session, router)):
                raise router_bad_request(f"Router already has a port on subnet {subnet.id}")
            self._check_overlap(session, router, [subnet.cidr], subnet.id)
            port = self.network.create_port(session, router.project_id, {
                "network_id": subnet.network_id, "device_id": router.id,
                "device_owner": owner, "security_groups": [],
                "fixed_ips": [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}]})
            port.status = "ACTIVE"
            subnets = [subnet]
        if router.distributed and router.gw_network_id:
            # neutron's _add_csnat_on_interface_create, then the DVR hosts of the new
            # subnet's ports take the router (and their fip- gateway ports).
            session.flush()
            self._add_snat_ports(session, router, port)
            self.agents.ensure_fip_agent_gateway_ports(session)
        router.revision_number += 1
        return self._interface(router, port, [s.id for s in subnets])

    def remove_interface(self, session: Session, router: m.Router,
                         info: Mapping[str, Any]) -> dict[str, Any]:
        """The interface on the port ``info`` names, or else on its subnet."""
        ports = self.interface_ports(session, router.id)
        port: m.Port | None = None
        if info.get("port_id"):
            port = next((p for p in ports if p.id == info["port_id"]), None)
            if port is None:
                raise neutron_error("RouterInterfaceNotFound", f"Router {router.id} does not "
                                    f"have an interface with id {info['port_id']}", 404)
        else:
            allocations = session.scalars(select(m.IPAllocation).where(
                m.IPAllocation.subnet_id == info["subnet_id"],
                m.IPAllocation.port_id.in_([p.id for p in ports])))
            found = next(iter(allocations), None)
            if found is None:
                raise neutron_error("RouterInterfaceNotFoundForSubnet", f"Router {router.id} "
                                    f"has no interface on subnet {info['subnet_id']}", 404)
            port = session.get(m.Port, found.port_id)
        assert port is not None
        subnet_ids = [a.subnet_id for a in session.scalars(select(m.IPAllocation).where(
            m.IPAllocation.port_id == port.id))]
        for subnet_id in subnet_ids:
            self._check_fips_need(session, router, subnet_id)
        result = self._interface(router, port, subnet_ids)
        # neutron's delete_csnat_router_interface_ports, for the subnets going.
        for snat_port in self.snat_ports(session, router.id):
            if session.scalar(select(m.IPAllocation.id).where(
                    m.IPAllocation.port_id == snat_port.id,
                    m.IPAllocation.subnet_id.in_(subnet_ids))):
                session.delete(snat_port)
        session.delete(port)
        router.revision_number += 1
        return result

    def _check_fips_need(self, session: Session, router: m.Router, subnet_id: str) -> None:
        subnet = self.network.get_subnet(session, subnet_id)
        cidr = ipaddress.ip_network(subnet.cidr)
        for fip in session.scalars(select(m.FloatingIP).where(
                m.FloatingIP.router_id == router.id)):
            if fip.fixed_ip_address and ipaddress.ip_address(fip.fixed_ip_address) in cidr:
                raise neutron_error("RouterInterfaceInUseByFloatingIP",
                                    f"Router interface for subnet {subnet_id} on router "
                                    f"{router.id} cannot be deleted, as it is required by one "
                                    "or more floating IPs.", 409)

    # -- floating IPs ------------------------------------------------------------------------

    def create_floatingip(self, session: Session, project_id: str,
                          fields: Mapping[str, Any]) -> m.FloatingIP:
        network = self.network.get_network(session, fields["floating_network_id"])
        if not network.external:
            raise BadRequest(f"Bad floatingip request: Network {network.id} is not a valid "
                             "external network.")
        fip_id = self.network.ids.uuid()
        requested = None
        if fields.get("floating_ip_address"):
            requested = [{"ip_address": fields["floating_ip_address"]}]
            if fields.get("subnet_id"):
                requested[0]["subnet_id"] = fields["subnet_id"]
        elif fields.get("subnet_id"):
            requested = [{"subnet_id": fields["subnet_id"]}]
        port = self.network.create_port(session, "", {
            "network_id": network.id, "device_id": fip_id, "device_owner": FLOATINGIP,
            "fixed_ips": requested, "security_groups": []})
        session.flush()
        address = session.scalar(select(m.IPAllocation.ip_address).where(
            m.IPAllocation.port_id == port.id))
        now = self.network.clock.now()
        fip = m.FloatingIP(
            id=fip_id, project_id=project_id, floating_network_id=network.id,
            floating_ip_address=address or "", floating_port_id=port.id, status="DOWN",
            description=fields.get("description", ""), tags=[], created_at=now,
            updated_at=now)
        session.add(fip)
        if fields.get("port_id"):
            self.associate(session, fip, fields["port_id"], fields.get("fixed_ip_address"))
        return fip

    def associate(self, session: Session, fip: m.FloatingIP, port_id: str | None,
                  fixed_ip: str | None) -> None:
        if port_id is None:
            fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
            fip.status = "DOWN"
            return
        port = self.network.get_port(session, port_id)
        allocations = list(session.scalars(select(m.IPAllocation).where(
            m.IPAllocation.port_id == port.id)))
        if not allocations:
            raise BadRequest(f"Bad floatingip request: Port {port.id} does not have any fixed "
                             "IP address.")
        chosen = next((a for a in allocations if fixed_ip in (None, a.ip_address)
                       and ipaddress.ip_address(a.ip_address).version == 4), None)
        if chosen is None:
            raise BadRequest(f"Bad floatingip request: Port {port.id} does not have fixed ip "
                             f"{fixed_ip}.")
        taken = session.scalar(select(m.FloatingIP.id).where(
            m.FloatingIP.fixed_port_id == port.id,
            m.FloatingIP.fixed_ip_address == chosen.ip_address, m.FloatingIP.id != fip.id))
        if taken:
            raise neutron_error("FloatingIPPortAlreadyAssociated",
                                f"Cannot associate floating IP {fip.floating_ip_address} "
                                f"({fip.id}) with port {port.id} using fixed IP "
                                f"{chosen.ip_address}, as that fixed IP already has a floating "
                                f"IP on external network {fip.floating_network_id}.", 409)
        router = self._router_for(session, fip.floating_network_id, chosen.subnet_id)
        if router is None:
            raise neutron_error("ExternalGatewayForFloatingIPNotFound",
                                f"External network {fip.floating_network_id} is not reachable "
                                f"from subnet {chosen.subnet_id}.  Therefore, cannot associate "
                                f"Port {port.id} with a Floating IP.", 404)
        fip.fixed_port_id = port.id
        fip.fixed_ip_address = chosen.ip_address
        fip.router_id = router.id
        fip.status = "ACTIVE"

    def _router_for(self, session: Session, external_network: str,
                    subnet_id: str) -> m.Router | None:
        routers = session.scalars(select(m.Router).where(
            m.Router.gw_network_id == external_network))
        for router in routers:
            interfaces = [p.id for p in self.interface_ports(session, router.id)]
            if session.scalar(select(m.IPAllocation.id).where(
                    m.IPAllocation.port_id.in_(interfaces),
                    m.IPAllocation.subnet_id == subnet_id)):
                return router
        return None

    def delete_floatingip(self, session: Session, fip: m.FloatingIP) -> None:
        port = session.get(m.Port, fip.floating_port_id)
        if port is not None:
            session.delete(port)
        session.delete(fip)

