"""Networking as one object: networks, subnets, ports with IPAM, and security groups.

The rules are neutron's ML2/OVS plugin's: tenant networks are VXLAN segments
(MTU 1450: 1500 minus the 50 bytes of VXLAN over IPv4), provider networks
keep the physical MTU; each port gets a MAC in neutron's ``fa:16:3e`` prefix
and an address on each of the subnets it asks for (the first IPv4 subnet of
its network when it names none); each project gets its ``default`` security
group the first time it needs one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.network import attributes, ipam, quotas
from stacklab.network import models as m
from stacklab.network.metering import Metering
from stacklab.network.nova import NovaNotifier
from stacklab.network.port_events import PortEvents
from stacklab.network.subnet_pools import SubnetPools
from stacklab.store.database import Database
from stacklab.store.locks import serialize

if TYPE_CHECKING:
    from stacklab.network.agents import Agents
    from stacklab.network.routing import Routing

TENANT_NETWORK_TYPE = "vxlan"
VXLAN_OVERHEAD = 50
PHYSICAL_MTU = 1500  # [DEFAULT] global_physnet_mtu
VNI_RANGE = (1, 1000)  # [ml2_type_vxlan] vni_ranges of the lab
MAC_PREFIX = "fa:16:3e"  # [DEFAULT] base_mac
# What ML2's type drivers accept as a segmentation id (VLAN tags, 24-bit VNIs, 32-bit keys).
SEGMENT_RANGES = {"vlan": (1, 4094), "vxlan": (1, 2**24 - 1), "geneve": (1, 2**24 - 1),
                  "gre": (1, 2**32 - 1)}

PUBLIC_NETWORK = "public"
PUBLIC_SUBNET = "public-subnet"
PUBLIC_CIDR = "192.168.100.0/24"
PUBLIC_GATEWAY = "192.168.100.1"
# Floating IPs come from above the lab's own addresses on br_external: the nodes (.51 to
# .62) and the public API VIP the proxies hold (.100, topology/lab.yaml).
PUBLIC_POOL = {"start": "192.168.100.101", "end": "192.168.100.250"}
PUBLIC_PHYSNET = "external"
# The lab's default subnet pool (devstack's shared-default-subnetpool-v4, with more room).
DEFAULT_POOL_NAME = "shared-default-subnetpool-v4"
DEFAULT_POOL_PREFIX = "10.0.0.0/16"
DEFAULT_POOL_PREFIXLEN = 26
_IDS_PER_QUERY = 900
# Ports the L3 plugin owns: they go with their router or floating IP, not by themselves.
_L3_OWNERS = {"network:router_interface", "network:router_interface_distributed",
              "network:ha_router_replicated_interface", "network:router_gateway",
              "network:floatingip", "network:router_ha_interface",
              "network:router_centralized_snat"}
# neutron-lib's ROUTER_INTERFACE_OWNERS_SNAT: ports that take no automatic IPv6 address.
_ROUTER_INTERFACE_OWNERS = {"network:router_interface", "network:router_interface_distributed",
                            "network:ha_router_replicated_interface",
                            "network:router_centralized_snat"}
# Port attributes a null clears: stored as their empty value.
_EMPTY_WHEN_NULL: dict[str, Any] = {"binding:profile": {}, "extra_dhcp_opts": []}


def neutron_error(kind: str, message: str, status: int) -> ApiError:
    return ApiError(message, status=status, kind=kind)


# The provider attributes ML2 refuses to change on a network, in the order its message
# names them (a set's order upstream).
_FIXED_PROVIDER = ("provider:physical_network", "provider:network_type")


def _assign(row: Any, resource: str, fields: Mapping[str, Any]) -> None:
    """The plain update: each attribute into its store column."""
    for name, value in fields.items():
        setattr(row, attributes.column_of(resource, name), value)


def _auto_address(subnet: m.Subnet) -> bool:
    """neutron's is_auto_address_subnet: a port's address there is its MAC's EUI-64."""
    modes = ("slaac", "dhcpv6-stateless")
    return subnet.ip_version == 6 and (subnet.ipv6_address_mode in modes
                                       or subnet.ipv6_ra_mode in modes)


def _check_ipv6_modes(fields: Mapping[str, Any], version: int, cidr: ipam.Net) -> None:
    """neutron's checks of a new subnet's IPv6 modes (_validate_subnet and
    _validate_ipv6_attributes): none on IPv4; on IPv6 only with DHCP enabled, the two the
    same when both are given, and a /64 for the automatic ones (EUI-64 fills 64 bits)."""
    ra_mode, address_mode = fields.get("ipv6_ra_mode"), fields.get("ipv6_address_mode")
    if version == 4:
        for name, value in (("ipv6_ra_mode", ra_mode), ("ipv6_address_mode", address_mode)):
            if value is not None:
                raise attributes.invalid_input(f"{name} is not valid when ip_version is 4")
        return
    if (ra_mode or address_mode) and not fields.get("enable_dhcp", True):
        raise attributes.invalid_input("ipv6_ra_mode or ipv6_address_mode cannot be set when "
                                       "enable_dhcp is set to False")
    if ra_mode and address_mode and ra_mode != address_mode:
        raise attributes.invalid_input(
            f"ipv6_ra_mode set to '{ra_mode}' with ipv6_address_mode set to "
            f"'{address_mode}' is not valid. If both attributes are set, they must be the "
            "same value")
    automatic = (address_mode or ra_mode) in ("slaac", "dhcpv6-stateless")
    if automatic and cidr.prefixlen != 64:
        raise attributes.invalid_input(
            f"Invalid CIDR {cidr} for IPv6 address mode. OpenStack uses the EUI-64 address "
            "format, which requires the prefix to be /64")


def _check_gateway(gateway: str | None, ip_version: int) -> None:
    if gateway is None:
        return
    try:
        address = ipaddress.ip_address(gateway)
    except ValueError:
        raise BadRequest(f"Invalid input for gateway_ip. Reason: '{gateway}' is not a valid "
                         "IP address.") from None
    if address.version != ip_version:
        raise BadRequest("Invalid input for operation: gateway_ip and IP version are "
                         "incompatible.")


def subnet_message(subnet: m.Subnet) -> dict[str, Any]:
    """What a DHCP agent is told of a subnet (plain data: the bus passes it by reference)."""
    return {"id": subnet.id, "network_id": subnet.network_id, "cidr": subnet.cidr,
            "ip_version": subnet.ip_version, "gateway_ip": subnet.gateway_ip,
            "enable_dhcp": subnet.enable_dhcp,
            "allocation_pools": [dict(p) for p in subnet.allocation_pools],
            "dns_nameservers": list(subnet.dns_nameservers),
            "host_routes": [dict(r) for r in subnet.host_routes]}


@dataclass(frozen=True)
class NetworkOptions:
    dhcp_agents_per_network: int = 1


class NetworkService:
    # Built on this service by its declaration: how its API reaches the agents' scheduler
    # and the L3 plugin.
    agents: Agents
    routing: Routing

    def __init__(self, db: Database, clock: Clock, ids: IdSource,
                 options: NetworkOptions | None = None) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids.stream("network")
        self.macs = ids.stream("network-mac")
        self.options = options or NetworkOptions()
        self.pools = SubnetPools(clock, self.ids)
        # The lab's own addresses on its external networks (nodes, VIPs): in use outside
        # neutron, so no port of an external network may take one, whatever its pools say.
        self.reserved: frozenset[str] = frozenset()
        self.metering = Metering(clock, self.ids)
        # Set by the cloud: the agents' scheduler, asked to give a network with a DHCP subnet
        # its DHCP agents (a service without agents, as in unit tests, schedules nothing).
        self.schedule_dhcp: Callable[[Session, str], None] = lambda session, network_id: None
        # Set by the cloud: a cast to the DHCP agents serving a network (method, payload), as
        # neutron's DHCP agent notifier sends a network's and its subnets' news.
        self.notify_dhcp: Callable[[Session, str, str, dict[str, Any]], None] = \
            lambda session, network_id, method, payload: None
        # Set by the cloud: nova's external events API (neutron's [nova] section).
        self.nova: NovaNotifier | None = None
        # Set by the cloud: who hears of ports' changes (agents, nova) and sets their status.
        self.port_events: PortEvents | None = None
        # Set by the cloud: neutron's notifier (event type, payload, the request's context),
        # what the API's writes send as <resource>.<action>.start/.end.
        self.notifier: Callable[[str, Any, dict[str, Any]], Awaitable[None]] | None = None

    # -- first start ---------------------------------------------------------------------

    def ensure_public_network(self, admin_project: str) -> None:
        """The lab's external provider network and its subnet, as the course sets them up."""
        with self.db.session() as session:
            if session.scalar(select(m.Network).where(m.Network.name == PUBLIC_NETWORK)):
                return
            # The default external network, and a shared default subnet pool, as devstack
            # makes them: what auto-allocated-topology (nova's networks "auto") needs.
            network = self.create_network(session, admin_project, {
                "name": PUBLIC_NETWORK, "router:external": True, "is_default": True,
                "provider:network_type": "flat",
                "provider:physical_network": PUBLIC_PHYSNET,
                "description": "The lab's external network (br_external)"})
            session.flush()
            self.create_subnet(session, admin_project, {
                "name": PUBLIC_SUBNET, "network_id": network.id, "ip_version": 4,
                "cidr": PUBLIC_CIDR, "gateway_ip": PUBLIC_GATEWAY, "enable_dhcp": False,
                "allocation_pools": [PUBLIC_POOL]})
            if session.scalar(select(m.SubnetPool.id).where(
                    m.SubnetPool.is_default.is_(True), m.SubnetPool.ip_version == 4)) is None:
                self.pools.create(session, admin_project, {
                    "name": DEFAULT_POOL_NAME, "prefixes": [DEFAULT_POOL_PREFIX],
                    "default_prefixlen": DEFAULT_POOL_PREFIXLEN, "shared": True,
                    "is_default": True})

    # -- networks ------------------------------------------------------------------------

    def get_network(self, session: Session, network_id: str) -> m.Network:
        network = session.get(m.Network, network_id)
        if network is None:
            raise neutron_error("NetworkNotFound", f"Network {network_id} could not be found.",
                                404)
        return network

    def _segment(self, session: Session, fields: Mapping[str, Any]) -> tuple[str, str | None,
                                                                              int | None, int]:
        network_type = fields.get("provider:network_type") or TENANT_NETWORK_TYPE
        physical = fields.get("provider:physical_network")
        segment = fields.get("provider:segmentation_id")
        if network_type in ("vxlan", "gre", "geneve"):
            if physical:
                raise BadRequest(f"Invalid input for operation: provider:physical_network "
                                 f"specified for {network_type} network.")
            if segment is not None:
                self._check_segment(session, network_type, None, int(segment))
            if segment is None:
                used = set(session.scalars(select(m.Network.segmentation_id).where(
                    m.Network.network_type == network_type)))
                segment = next((v for v in range(VNI_RANGE[0], VNI_RANGE[1] + 1)
                                if v not in used), None)
                if segment is None:
                    raise neutron_error("NoNetworkAvailable", "Unable to create the network. "
                                        "No tenant network is available for allocation.", 503)
            return network_type, None, int(segment), PHYSICAL_MTU - VXLAN_OVERHEAD
        if network_type in ("flat", "vlan"):
            if not physical:
                raise BadRequest(f"Invalid input for operation: physical_network required for "
                                 f"{network_type} provider network.")
            if network_type == "flat" and segment is not None:
                raise BadRequest("Invalid input for operation: segmentation_id specified for "
                                 "flat provider network.")
            if segment is not None:
                self._check_segment(session, network_type, physical, int(segment))
            return network_type, physical, int(segment) if segment is not None else None, \
                PHYSICAL_MTU
        if network_type == "local":
            return network_type, None, None, PHYSICAL_MTU
        raise BadRequest(f"Invalid input for operation: network_type value '{network_type}' "
                         "not supported.")

    @staticmethod
    def _check_segment(session: Session, network_type: str, physical: str | None,
                       segment: int) -> None:
        """A given segmentation id: within its type's range (ML2's type drivers), unused."""
        low, high = SEGMENT_RANGES[network_type]
        if not low <= segment <= high:
            raise BadRequest(f"Invalid input for operation: segmentation_id out of range "
                             f"({low} through {high}).")
        taken = session.scalar(select(m.Network.id).where(
            m.Network.network_type == network_type, m.Network.segmentation_id == segment,
            m.Network.physical_network.is_(None) if physical is None
            else m.Network.physical_network == physical))
        if taken is None:
            return
        if network_type == "vlan":
            raise neutron_error("VlanIdInUse", f"Unable to create the network. The VLAN "
                                f"{segment} on physical network {physical} is in use.", 409)
        raise neutron_error("TunnelIdInUse", f"Unable to create the network. The tunnel ID "
                            f"{segment} is in use.", 409)

    @staticmethod
    def max_mtu(network_type: str) -> int:
        tunnel = network_type in ("vxlan", "gre", "geneve")
        return PHYSICAL_MTU - VXLAN_OVERHEAD if tunnel else PHYSICAL_MTU

    def check_mtu(self, network_type: str, mtu: int) -> None:
        """ML2 refuses an MTU its segments cannot carry (the physical MTU less the overlay's
        headers)."""
        limit = self.max_mtu(network_type)
        if mtu > limit:
            raise BadRequest(f"Invalid input for operation: Requested MTU is too big, maximum "
                             f"is {limit}.")

    def create_network(self, session: Session, project_id: str,
                       fields: Mapping[str, Any]) -> m.Network:
        network_type, physical, segment, mtu = self._segment(session, fields)
        if fields.get("mtu") is not None:
            self.check_mtu(network_type, int(fields["mtu"]))
        external = bool(fields.get("router:external", False))
        is_default = external and bool(fields.get("is_default", False))
        if is_default:
            self._check_default_external(session, None)
        now = self.clock.now()
        network = m.Network(
            id=self.ids.uuid(), project_id=project_id, name=fields.get("name", ""),
            description=fields.get("description", ""),
            admin_state_up=fields.get("admin_state_up", True),
            shared=bool(fields.get("shared", False)),
            external=external, is_default=is_default,
            mtu=int(fields.get("mtu") or mtu),
            port_security_enabled=fields.get("port_security_enabled", True),
            network_type=network_type, physical_network=physical, segmentation_id=segment,
            availability_zone_hints=list(fields.get("availability_zone_hints") or []),
            dns_domain=fields.get("dns_domain", ""), tags=[], created_at=now, updated_at=now)
        session.add(network)
        return network

    def add_network(self, session: Session, project_id: str,
                    fields: Mapping[str, Any]) -> m.Network:
        """A network a project asks for (``POST /v2.0/networks``): within its quota."""
        quotas.enforce(session, project_id, "network")
        return self.create_network(session, project_id, fields)

    def update_network(self, session: Session, network: m.Network,
                       fields: Mapping[str, Any]) -> None:
        fields = self._provider_update(session, network, fields)
        if "mtu" in fields:
            self.check_mtu(network.network_type, fields["mtu"])
        if network.shared and fields.get("shared") is False:
            self._check_unsharing(session, network)
        if fields.get("is_default") and not network.is_default:
            self._check_default_external(session, network.id)
        _assign(network, "network", fields)
        # Only an external network is a default one (neutron keeps the flag on the
        # external network's row, which goes with it).
        network.is_default = network.external and network.is_default

    def _provider_update(self, session: Session, network: m.Network,
                         fields: Mapping[str, Any]) -> dict[str, Any]:
        """ML2's rule for the provider attributes of an update: a network's type and
        physical network never change (the same value, or none, is no change); its
        segmentation id may, within its type's range and unused."""
        rest = dict(fields)
        for name in _FIXED_PROVIDER:
            value = rest.pop(name, None)
            if value is not None and value != getattr(network, attributes.column_of(
                    "network", name)):
                raise BadRequest("Invalid input for operation: Plugin does not support "
                                 "updating the following provider network attributes: "
                                 f"{', '.join(_FIXED_PROVIDER)}")
        segment = rest.pop("provider:segmentation_id", None)
        if segment is not None and segment != network.segmentation_id:
            if network.network_type not in SEGMENT_RANGES:
                raise BadRequest("Invalid input for operation: segmentation_id specified "
                                 f"for {network.network_type} provider network.")
            self._check_segment(session, network.network_type, network.physical_network,
                                segment)
            network.segmentation_id = segment
        return rest

    @staticmethod
    def _check_default_external(session: Session, network_id: str | None) -> None:
        """One default external network at a time (auto-allocated-topology's)."""
        other = session.scalar(select(m.Network.id).where(
            m.Network.external.is_(True), m.Network.is_default.is_(True),
            m.Network.id != (network_id or "")).limit(1))
        if other is not None:
            raise neutron_error("DefaultExternalNetworkExists",
                                f"A default external network already exists: {other}.", 409)

    @staticmethod
    def _check_unsharing(session: Session, network: m.Network) -> None:
        """A network other projects have ports or subnets on stays shared (neutron's
        InvalidSharedSetting): unsharing it would leave them on a network they cannot see."""
        others = session.scalar(select(m.Port.id).where(
            m.Port.network_id == network.id,
            m.Port.project_id.not_in([network.project_id, ""]),
            ~m.Port.device_owner.startswith("network:dhcp")).limit(1)) or session.scalar(
            select(m.Subnet.id).where(m.Subnet.network_id == network.id,
                                      m.Subnet.project_id != network.project_id).limit(1))
        if others:
            raise neutron_error("InvalidSharedSetting", "Unable to reconfigure sharing "
                                f"settings for network {network.id}. Multiple tenants are "
                                "using it.", 409)

    def delete_network(self, session: Session, network: m.Network) -> None:
        """A network with no ports but its DHCP ports. The floating IPs of an external
        network that are associated with no port go first (neutron's
        delete_disassociated_floatingips, before the check); associated ones keep it in
        use."""
        for fip in session.scalars(select(m.FloatingIP).where(
                m.FloatingIP.floating_network_id == network.id,
                m.FloatingIP.fixed_port_id.is_(None))):
            port = session.get(m.Port, fip.floating_port_id)
            if port is not None:
                session.delete(port)
            session.delete(fip)
        session.flush()
        ports = session.scalars(select(m.Port).where(m.Port.network_id == network.id))
        blocking = [p for p in ports if not p.device_owner.startswith("network:dhcp")]
        if blocking:
            raise neutron_error("NetworkInUse", f"Unable to complete operation on network "
                                f"{network.id}. There are one or more ports still in use on "
                                "the network.", 409)
        # Its DHCP agents are told while their bindings still say who they are.
        self.notify_dhcp(session, network.id, "network_delete_end", {"network_id": network.id})
        session.delete(network)

    # -- subnets -------------------------------------------------------------------------

    def get_subnet(self, session: Session, subnet_id: str) -> m.Subnet:
        subnet = session.get(m.Subnet, subnet_id)
        if subnet is None:
            raise neutron_error("SubnetNotFound", f"Subnet {subnet_id} could not be found.", 404)
        return subnet

    def subnets_of(self, session: Session, network_id: str) -> list[m.Subnet]:
        return list(session.scalars(select(m.Subnet).where(m.Subnet.network_id == network_id)
                                    .order_by(m.Subnet.created_at, m.Subnet.id)))

    def create_subnet(self, session: Session, project_id: str,
                      fields: Mapping[str, Any]) -> m.Subnet:
        network = self.get_network(session, fields["network_id"])
        version = int(fields.get("ip_version", 4))
        if "cidr" not in fields or fields["cidr"] is None:
            raise BadRequest("Bad subnets request: a cidr must be specified in the absence "
                             "of a subnet pool.")
        cidr = ipam.parse_cidr(str(fields["cidr"]), version)
        _check_ipv6_modes(fields, version, cidr)
        for other in self.subnets_of(session, network.id):
            if ipaddress.ip_network(other.cidr).overlaps(cidr):
                raise BadRequest(f"Invalid input for operation: Requested subnet with cidr: "
                                 f"{cidr} for network: {network.id} overlaps with another "
                                 "subnet.")
        if "gateway_ip" in fields:
            gateway = fields["gateway_ip"]
            _check_gateway(gateway, version)
        else:
            gateway = ipam.default_gateway(cidr)
        pools = fields.get("allocation_pools") or ipam.default_pools(cidr, gateway)
        ipam.check_pools(cidr, list(pools), gateway)
        for server in fields.get("dns_nameservers") or []:
            try:
                ipaddress.ip_address(server)
            except ValueError:
                raise BadRequest(f"Invalid input for dns_nameservers. Reason: '{server}' is not "
                                 "a valid nameserver.") from None
        now = self.clock.now()
        subnet = m.Subnet(
            id=self.ids.uuid(), project_id=project_id, name=fields.get("name", ""),
            description=fields.get("description", ""), network_id=network.id,
            ip_version=version, cidr=str(cidr), gateway_ip=gateway,
            enable_dhcp=fields.get("enable_dhcp", True),
            allocation_pools=[dict(p) for p in pools],
            dns_nameservers=list(fields.get("dns_nameservers") or []),
            host_routes=[dict(r) for r in fields.get("host_routes") or []],
            ipv6_ra_mode=fields.get("ipv6_ra_mode"),
            ipv6_address_mode=fields.get("ipv6_address_mode"),
            subnetpool_id=None, service_types=list(fields.get("service_types") or []),
            tags=[], created_at=now, updated_at=now)
        session.add(subnet)
        network.updated_at = now
        network.revision_number += 1
        return subnet

    def add_subnet(self, session: Session, project_id: str, fields: Mapping[str, Any],
                   context: RequestContext) -> m.Subnet:
        """A subnet a project asks for (``POST /v2.0/subnets``): within its quota, its CIDR
        from the subnet pool it names (or the default pool) when it gives none, then its
        network's DHCP agents scheduled."""
        quotas.enforce(session, project_id, "subnet")
        pool = self.pools.for_subnet(session, fields, context)
        if pool is not None:
            cidr = fields.get("cidr")
            if cidr is None:
                cidr = self.pools.allocate_prefix(session, pool, fields.get("prefixlen"))
            fields = {**fields, "cidr": cidr, "ip_version": pool.ip_version}
        subnet = self.create_subnet(session, project_id, fields)
        subnet.subnetpool_id = None if pool is None else pool.id
        session.flush()
        self.schedule_dhcp(session, subnet.network_id)
        self.notify_dhcp(session, subnet.network_id, "subnet_create_end",
                         {"subnet": subnet_message(subnet)})
        return subnet

    def update_subnet(self, subnet: m.Subnet, fields: Mapping[str, Any]) -> None:
        """New attributes; a gateway or pools given must still fit the subnet. Its network's
        DHCP agents hear of it."""
        gateway = fields.get("gateway_ip", subnet.gateway_ip)
        _check_gateway(gateway, subnet.ip_version)
        if fields.get("enable_dhcp") is False and (subnet.ipv6_ra_mode
                                                   or subnet.ipv6_address_mode):
            raise attributes.invalid_input("Cannot disable enable_dhcp with ipv6 attributes "
                                           "set")
        if "allocation_pools" in fields or "gateway_ip" in fields:
            pools = fields.get("allocation_pools", subnet.allocation_pools)
            ipam.check_pools(ipam.parse_cidr(subnet.cidr, subnet.ip_version), list(pools),
                             gateway)
        _assign(subnet, "subnet", fields)
        session = object_session(subnet)
        if session is not None:
            self.notify_dhcp(session, subnet.network_id, "subnet_update_end",
                             {"subnet": subnet_message(subnet)})

    def delete_subnet(self, session: Session, subnet: m.Subnet) -> None:
        """A subnet with no ports' addresses but its DHCP ports'; on a SLAAC or
        DHCPv6-stateless subnet the ports' automatic addresses go with it (neutron's
        _remove_subnet_ip_allocations_from_ports), unless a router has an interface there."""
        blocking = ~m.Port.device_owner.startswith("network:dhcp")
        if _auto_address(subnet):
            blocking = m.Port.device_owner.in_(_ROUTER_INTERFACE_OWNERS)
        in_use = session.scalar(select(func.count()).select_from(m.IPAllocation).join(
            m.Port, m.Port.id == m.IPAllocation.port_id).where(
            m.IPAllocation.subnet_id == subnet.id, blocking)) or 0
        if in_use:
            raise neutron_error("SubnetInUse", f"Unable to complete operation on subnet "
                                f"{subnet.id}: One or more ports have an IP allocation from "
                                "this subnet.", 409)
        for allocation in session.scalars(select(m.IPAllocation).where(
                m.IPAllocation.subnet_id == subnet.id)):
            session.delete(allocation)
        self.notify_dhcp(session, subnet.network_id, "subnet_delete_end",
                         {"subnet_id": subnet.id})
        session.delete(subnet)

    # -- ports ---------------------------------------------------------------------------

    def get_port(self, session: Session, port_id: str) -> m.Port:
        port = session.get(m.Port, port_id)
        if port is None:
            raise neutron_error("PortNotFound", f"Port {port_id} could not be found.", 404)
        return port

    @staticmethod
    def fixed_ips(session: Session, port_ids: list[str]) -> dict[str, list[dict[str, str]]]:
        result: dict[str, list[dict[str, str]]] = {p: [] for p in port_ids}
        table = m.IPAllocation.__table__
        query = select(table.c.port_id, table.c.subnet_id, table.c.ip_address)
        # A few ports: their addresses by id. Many (a whole list): one pass over the table
        # beats thousands of bound ids (and SQLite caps them).
        if len(port_ids) <= _IDS_PER_QUERY:
            query = query.where(table.c.port_id.in_(port_ids))
        for port_id, subnet_id, address in session.execute(query.order_by(table.c.id)).all():
            found = result.get(port_id)
            if found is not None:
                found.append({"subnet_id": subnet_id, "ip_address": address})
        return result

    def new_mac(self, session: Session, network_id: str) -> str:
        for _ in range(16):
            tail = self.macs.randbytes(3)
            mac = MAC_PREFIX + "".join(f":{b:02x}" for b in tail)
            if session.scalar(select(m.Port.id).where(m.Port.network_id == network_id,
                                                      m.Port.mac_address == mac)) is None:
                return mac
        raise neutron_error("MacAddressGenerationFailure", "Unable to generate unique mac on "
                            f"network {network_id}.", 503)

    def _allocate(self, session: Session, network: m.Network, port_id: str,
                  requested: list[dict[str, Any]] | None,
                  mac: str = "", owner: str = "", *,
                  implicit: bool = True) -> list[tuple[str, str]]:
        """Addresses for a port, as neutron's _allocate_ips_for_port: those asked for, else
        one on the first IPv4 subnet and one on the first stateful IPv6 subnet; and, unless
        it is a router's interface, the EUI-64 address of ``mac`` on every SLAAC or
        DHCPv6-stateless subnet of the network (``implicit``: on creation; an update adds
        only what it names)."""
        subnets = {s.id: s for s in self.subnets_of(session, network.id)}
        router_port = owner in _ROUTER_INTERFACE_OWNERS
        wanted: list[tuple[m.Subnet, str | None]] = []
        if requested is None:
            ordered = list(subnets.values())
            v4 = [s for s in ordered if s.ip_version == 4][:1]
            v6 = [s for s in ordered if s.ip_version == 6 and not _auto_address(s)][:1]
            wanted = [(s, None) for s in (*v4, *v6)]
        else:
            for item in requested:
                subnet_id = item.get("subnet_id")
                address = item.get("ip_address")
                if subnet_id is None and address is not None:
                    subnet_id = next((s.id for s in subnets.values() if ipaddress.ip_address(
                        address) in ipaddress.ip_network(s.cidr)), None)
                    if subnet_id is None:
                        raise BadRequest(f"Invalid input for operation: IP address {address} "
                                         f"is not a valid IP for any of the subnets on the "
                                         f"specified network.")
                if subnet_id not in subnets:
                    if session.get(m.Subnet, subnet_id) is None:
                        raise neutron_error("SubnetNotFound",
                                            f"Subnet {subnet_id} could not be found.", 404)
                    raise BadRequest(f"Invalid input for operation: Failed to create port on "
                                     f"network {network.id}, because fixed_ips included "
                                     f"invalid subnet {subnet_id}.")
                subnet = subnets[subnet_id]
                if _auto_address(subnet) and not router_port:
                    auto = ipam.eui64(subnet.cidr, mac) if mac else None
                    if address is not None and address != auto:
                        raise neutron_error(
                            "AllocationOnAutoAddressSubnet", f"IPv6 address {address} cannot "
                            f"be directly assigned to a port on subnet {subnet.id} as the "
                            "subnet is configured for automatic addresses", 400)
                    if implicit:
                        continue  # added below with the network's other automatic ones
                    address = auto
                wanted.append((subnet, address))
        if implicit and mac and not router_port:
            wanted += [(s, ipam.eui64(s.cidr, mac)) for s in subnets.values()
                       if _auto_address(s)]
        allocations: list[tuple[str, str]] = []
        reserved = self.reserved if network.external else frozenset()
        # The free addresses are read and taken in one step across processes sharing the
        # database (in a fixed order, so two ports on the same subnets cannot deadlock);
        # the unique (subnet, address) key is the last word, retried as neutron does.
        for subnet_id in sorted({subnet.id for subnet, _ in wanted}):
            serialize(session, f"network:ipam:{subnet_id}")
        for subnet, address in wanted:
            if address is None:
                candidate = self._next_in_sequence(session, subnet, allocations)
                if candidate is not None and candidate not in reserved:
                    allocations.append((subnet.id, candidate))
                    continue
            used = set(session.scalars(select(m.IPAllocation.ip_address).where(
                m.IPAllocation.subnet_id == subnet.id)))
            used.update(a for s, a in allocations if s == subnet.id)
            # Taken as a port (the VIP's, say) would hold it: asked for, it is refused as
            # neutron refuses an allocated address.
            used.update(reserved)
            if address is not None:
                if ipaddress.ip_address(address) not in ipaddress.ip_network(subnet.cidr):
                    raise BadRequest(f"Invalid input for operation: IP address {address} is "
                                     f"not a valid IP for the specified subnet.")
                if address in used:
                    raise neutron_error("IpAddressAlreadyAllocated", f"IP address {address} "
                                        f"already allocated in subnet {subnet.id}", 409)
            else:
                address = ipam.next_free(subnet.allocation_pools, used)
                if address is None:
                    raise neutron_error("IpAddressGenerationFailure", "No more IP addresses "
                                        f"available on network {network.id}.", 409)
            allocations.append((subnet.id, address))
        for subnet_id, address in allocations:
            session.add(m.IPAllocation(port_id=port_id, subnet_id=subnet_id,
                                       network_id=network.id, ip_address=address))
        return allocations

    @staticmethod
    def _next_in_sequence(session: Session, subnet: m.Subnet,
                          pending: list[tuple[str, str]]) -> str | None:
        """The address after the ones handed out, when they were handed out in order:
        one count and one look-up instead of reading every address of the subnet."""
        count = session.scalar(select(func.count()).select_from(m.IPAllocation).where(
            m.IPAllocation.subnet_id == subnet.id)) or 0
        count += sum(1 for s, _ in pending if s == subnet.id)
        candidate = ipam.nth_candidate(subnet.allocation_pools, count)
        if candidate is None or any(a == candidate for _, a in pending):
            return None
        taken = session.scalar(select(m.IPAllocation.id).where(
            m.IPAllocation.subnet_id == subnet.id, m.IPAllocation.ip_address == candidate))
        return None if taken else candidate

    def default_security_group(self, session: Session, project_id: str) -> m.SecurityGroup:
        """The project's ``default`` group, made on first need with neutron's four rules."""
        group = session.scalar(select(m.SecurityGroup).where(
            m.SecurityGroup.project_id == project_id, m.SecurityGroup.is_default.is_(True)))
        if group is not None:
            return group
        now = self.clock.now()
        group = m.SecurityGroup(id=self.ids.uuid(), project_id=project_id, name="default",
                                description="Default security group", is_default=True,
                                tags=[], created_at=now, updated_at=now)
        session.add(group)
        session.flush()
        for direction, ethertype in (("ingress", "IPv4"), ("ingress", "IPv6"),
                                     ("egress", "IPv4"), ("egress", "IPv6")):
            session.add(m.SecurityGroupRule(
                id=self.ids.uuid(), project_id=project_id, security_group_id=group.id,
                direction=direction, ethertype=ethertype,
                remote_group_id=group.id if direction == "ingress" else None,
                created_at=now, updated_at=now))
        return group

    def create_port(self, session: Session, project_id: str,
                    fields: Mapping[str, Any]) -> m.Port:
        network = self.get_network(session, fields["network_id"])
        port_id = self.ids.uuid()
        mac = fields.get("mac_address") or self.new_mac(session, network.id)
        if fields.get("mac_address") and session.scalar(select(m.Port.id).where(
                m.Port.network_id == network.id, m.Port.mac_address == mac)):
            raise neutron_error("MacAddressInUse", f"Unable to complete operation for network "
                                f"{network.id}. The mac address {mac} is in use.", 409)
        port_security = fields.get("port_security_enabled", network.port_security_enabled)
        groups = fields.get("security_groups")
        owner = fields.get("device_owner", "")
        if groups is None:
            groups = [] if (not port_security or owner.startswith("network:")) else \
                [self.default_security_group(session, project_id).id]
        elif groups and not port_security:
            raise neutron_error("PortSecurityAndIPRequiredForSecurityGroups", "Port security "
                                "must be enabled and port must have an IP address in order to "
                                "use security groups.", 400)
        for group_id in groups:
            if session.get(m.SecurityGroup, group_id) is None:
                raise neutron_error("SecurityGroupNotFound",
                                    f"Security group {group_id} does not exist", 404)
        now = self.clock.now()
        port = m.Port(
            id=port_id, project_id=project_id, name=fields.get("name", ""),
            description=fields.get("description", ""), network_id=network.id,
            mac_address=mac, admin_state_up=fields.get("admin_state_up", True),
            status="DOWN", device_id=fields.get("device_id", ""), device_owner=owner,
            security_groups=list(groups),
            allowed_address_pairs=self.address_pairs(fields.get("allowed_address_pairs") or [],
                                                     mac),
            extra_dhcp_opts=[dict(o) for o in fields.get("extra_dhcp_opts") or []],
            port_security_enabled=port_security,
            binding_host_id=fields.get("binding:host_id") or "",
            binding_vnic_type=fields.get("binding:vnic_type", "normal"),
            binding_profile=dict(fields.get("binding:profile") or {}),
            dns_name=fields.get("dns_name", ""), tags=list(fields.get("tags") or []),
            created_at=now, updated_at=now)
        session.add(port)
        session.flush()
        self._allocate(session, network, port.id, fields.get("fixed_ips"), mac, owner)
        if self.port_events is not None:  # its status follows its host's L2 agent
            self.port_events.created(session, port)
        return port

    def add_port(self, session: Session, project_id: str, fields: Mapping[str, Any]) -> m.Port:
        """A port a project asks for (``POST /v2.0/ports``): within its quota."""
        quotas.enforce(session, project_id, "port")
        return self.create_port(session, project_id, fields)

    def update_port(self, session: Session, port: m.Port, fields: Mapping[str, Any]) -> None:
        """New attributes: the addresses asked for (those kept stay), address pairs with
        the port's MAC where they name none, a null profile or DHCP options emptied."""
        for name, value in fields.items():
            if name in _EMPTY_WHEN_NULL and value is None:
                value = _EMPTY_WHEN_NULL[name]
            if name == "fixed_ips":
                self.update_fixed_ips(session, port, list(value))
            elif name == "allowed_address_pairs":
                port.allowed_address_pairs = self.address_pairs(value, port.mac_address)
            else:
                setattr(port, attributes.column_of("port", name), value)

    @staticmethod
    def address_pairs(pairs: list[dict[str, Any]], mac: str) -> list[dict[str, str]]:
        """Allowed address pairs, each with a MAC (the port's own when not given)."""
        return [{"ip_address": str(p["ip_address"]), "mac_address": str(p.get("mac_address")
                                                                         or mac)}
                for p in pairs]

    def update_fixed_ips(self, session: Session, port: m.Port,
                         requested: list[dict[str, Any]]) -> None:
        """Replace a port's addresses: keep those still asked for, allocate the new ones."""
        current = {(a.subnet_id, a.ip_address): a for a in session.scalars(
            select(m.IPAllocation).where(m.IPAllocation.port_id == port.id))}
        keep: set[tuple[str, str]] = set()
        fresh: list[dict[str, Any]] = []
        for item in requested:
            match = next((key for key in current if
                          (item.get("ip_address") in (None, key[1]))
                          and (item.get("subnet_id") in (None, key[0]))
                          and key not in keep and item.get("ip_address") is not None), None)
            if match is not None:
                keep.add(match)
            else:
                fresh.append(item)
        for key, row in current.items():
            if key not in keep:
                session.delete(row)
        session.flush()
        if fresh:
            self._allocate(session, self.get_network(session, port.network_id), port.id, fresh,
                           port.mac_address, port.device_owner, implicit=False)

    def delete_port(self, session: Session, port: m.Port) -> None:
        """A port by itself; not one the L3 plugin owns (neutron's L3PortInUse)."""
        if port.device_owner in _L3_OWNERS:
            raise neutron_error("L3PortInUse", f"Port {port.id} cannot be deleted directly "
                                f"via the port API: has device owner {port.device_owner}.",
                                409)
        # Floating IPs on the port are let go, not deleted (neutron's disassociate).
        for fip in session.scalars(select(m.FloatingIP).where(
                m.FloatingIP.fixed_port_id == port.id)):
            fip.fixed_port_id = fip.fixed_ip_address = fip.router_id = None
            fip.status = "DOWN"
        if self.port_events is not None:
            self.port_events.deleted(session, port)
        session.delete(port)
