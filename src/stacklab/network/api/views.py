"""Neutron resources as the API shows them."""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Row, RowMapping

from stacklab.clock import isotime
from stacklab.network import models as m

# What each resource's body shows, in the renderers' order (the generic controller's
# filters and sort keys are checked against them; a unit test keeps them in step).
STANDARD_ATTRIBUTES = ("id", "name", "tenant_id", "project_id", "description", "tags",
                       "created_at", "updated_at", "revision_number")
NETWORK_ATTRIBUTES = (*STANDARD_ATTRIBUTES, "admin_state_up", "status", "subnets", "shared",
                      "router:external", "mtu", "port_security_enabled",
                      "provider:network_type", "provider:physical_network",
                      "provider:segmentation_id", "availability_zone_hints",
                      "availability_zones", "l2_adjacency", "is_default")
SUBNET_ATTRIBUTES = (*STANDARD_ATTRIBUTES, "network_id", "ip_version", "cidr", "gateway_ip",
                     "enable_dhcp", "allocation_pools", "dns_nameservers", "host_routes",
                     "ipv6_ra_mode", "ipv6_address_mode", "subnetpool_id", "service_types")
PORT_ATTRIBUTES = (*STANDARD_ATTRIBUTES, "network_id", "mac_address", "admin_state_up",
                   "status", "device_id", "device_owner", "fixed_ips", "security_groups",
                   "allowed_address_pairs", "extra_dhcp_opts", "port_security_enabled",
                   "binding:host_id", "binding:vif_type", "binding:vif_details",
                   "binding:vnic_type", "binding:profile")
SECURITY_GROUP_ATTRIBUTES = (*STANDARD_ATTRIBUTES, "stateful", "security_group_rules")
RULE_ATTRIBUTES = ("id", "tenant_id", "project_id", "security_group_id", "direction",
                   "ethertype", "protocol", "port_range_min", "port_range_max",
                   "remote_ip_prefix", "remote_group_id", "normalized_cidr", "description",
                   "tags", "revision_number", "created_at", "updated_at")
ROUTER_ATTRIBUTES = (*STANDARD_ATTRIBUTES, "admin_state_up", "status", "external_gateway_info",
                     "routes", "distributed", "ha", "availability_zone_hints",
                     "availability_zones", "flavor_id")
FLOATINGIP_ATTRIBUTES = ("id", "tenant_id", "project_id", "description", "tags",
                         "created_at", "updated_at", "revision_number",
                         "floating_network_id", "floating_ip_address", "router_id", "port_id",
                         "fixed_ip_address", "status", "port_details", "qos_policy_id",
                         "port_forwardings")
SUBNETPOOL_ATTRIBUTES = (*STANDARD_ATTRIBUTES, "ip_version", "prefixes", "default_prefixlen",
                         "min_prefixlen", "max_prefixlen", "shared", "is_default",
                         "default_quota", "address_scope_id")


@functools.lru_cache(maxsize=4096)
def _at_second(second: int) -> str:
    return isotime(second)


def _time(moment: float) -> str:
    """``isotime``, which shows whole seconds: a list's rows share a few thousand of them."""
    return _at_second(math.floor(moment))


class _Attributes(Mapping[str, Any]):
    """An ORM object read as a mapping of its columns."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getitem__(self, key: str) -> Any:
        return getattr(self._row, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._row.__table__.c.keys())

    def __len__(self) -> int:
        return len(self._row.__table__.c)


def fields_of(row: Any) -> Mapping[Any, Any]:
    """A row's columns by name: a SQL row's own mapping (read by key it is several times
    faster than by attribute, which counts over a list of 10,000 ports), an ORM object
    adapted, a mapping as it is."""
    kind = row.__class__
    if kind is RowMapping or kind is dict:
        return row  # type: ignore[no-any-return]
    if isinstance(row, Row):
        return row._mapping
    return row if isinstance(row, Mapping) else _Attributes(row)


def _standard(item: Any) -> dict[str, Any]:
    row = fields_of(item)
    return {"id": row["id"], "name": row["name"], "tenant_id": row["project_id"],
            "project_id": row["project_id"], "description": row["description"],
            "tags": list(row["tags"]), "created_at": _time(row["created_at"]),
            "updated_at": _time(row["updated_at"]), "revision_number": row["revision_number"]}


def render_network(item: Any, subnets: list[str]) -> dict[str, Any]:
    network = fields_of(item)
    return {
        **_standard(network), "admin_state_up": network["admin_state_up"],
        "status": network["status"], "subnets": subnets, "shared": network["shared"],
        "router:external": network["external"],
        "mtu": network["mtu"], "port_security_enabled": network["port_security_enabled"],
        "provider:network_type": network["network_type"],
        "provider:physical_network": network["physical_network"],
        "provider:segmentation_id": network["segmentation_id"],
        "availability_zone_hints": list(network["availability_zone_hints"]),
        "availability_zones": ["nova"] if subnets else [], "l2_adjacency": True,
        # auto-allocated-topology extends external networks only (upstream's extender
        # reads the external network's row, which an internal network has not).
        **({"is_default": network["is_default"]} if network["external"] else {}),
    }


def render_subnet(item: Any) -> dict[str, Any]:
    subnet = fields_of(item)
    return {
        **_standard(subnet), "network_id": subnet["network_id"], "ip_version": subnet["ip_version"],
        "cidr": subnet["cidr"], "gateway_ip": subnet["gateway_ip"],
        "enable_dhcp": subnet["enable_dhcp"],
        "allocation_pools": [dict(p) for p in subnet["allocation_pools"]],
        "dns_nameservers": list(subnet["dns_nameservers"]),
        "host_routes": [dict(r) for r in subnet["host_routes"]],
        "ipv6_ra_mode": subnet["ipv6_ra_mode"], "ipv6_address_mode": subnet["ipv6_address_mode"],
        "subnetpool_id": subnet["subnetpool_id"], "service_types": list(subnet["service_types"]),
    }


# What ML2's Open vSwitch driver binds a port with.
_OVS_VIF_DETAILS = {"port_filter": True, "connectivity": "l2", "ovs_hybrid_plug": False,
                    "datapath_type": "system", "bridge_name": "br-int"}


# The columns a port body reads, in one order. A list's SQL rows (the table's columns, in
# order, then any parent's) give them by position, which over 10,000 ports is a third faster
# than by name; anything else (an ORM object, a mapping) gives them by name.
_PORT_COLUMNS = ("id", "name", "project_id", "description", "tags", "created_at",
                 "updated_at", "revision_number", "network_id", "mac_address",
                 "admin_state_up", "status", "device_id", "device_owner", "security_groups",
                 "allowed_address_pairs", "extra_dhcp_opts", "port_security_enabled",
                 "binding_host_id", "binding_vnic_type", "binding_profile")
_port_columns_of_row = operator.itemgetter(*(
    list(m.Port.__table__.c.keys()).index(name) for name in _PORT_COLUMNS))


def render_port(item: Any, fixed_ips: list[dict[str, str]]) -> dict[str, Any]:
    if isinstance(item, Row):
        values = _port_columns_of_row(item)
    else:
        port = fields_of(item)
        values = tuple(port[name] for name in _PORT_COLUMNS)
    (port_id, name, project, description, tags, created_at, updated_at, revision, network_id,
     mac_address, admin_state_up, status, device_id, device_owner, security_groups, pairs,
     dhcp_opts, port_security, host, vnic_type, profile) = values
    bound = bool(host)
    return {
        "id": port_id, "name": name, "tenant_id": project, "project_id": project,
        "description": description, "tags": list(tags),
        "created_at": _time(created_at), "updated_at": _time(updated_at),
        "revision_number": revision,
        "network_id": network_id, "mac_address": mac_address,
        "admin_state_up": admin_state_up, "status": status,
        "device_id": device_id, "device_owner": device_owner,
        "fixed_ips": fixed_ips, "security_groups": list(security_groups),
        "allowed_address_pairs": [dict(p) for p in pairs],
        "extra_dhcp_opts": [dict(o) for o in dhcp_opts],
        "port_security_enabled": port_security,
        "binding:host_id": host,
        "binding:vif_type": "ovs" if bound else "unbound",
        "binding:vif_details": dict(_OVS_VIF_DETAILS) if bound else {},
        "binding:vnic_type": vnic_type,
        "binding:profile": dict(profile),
    }


def render_rule(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id, "tenant_id": rule.project_id, "project_id": rule.project_id,
        "security_group_id": rule.security_group_id, "direction": rule.direction,
        "ethertype": rule.ethertype, "protocol": rule.protocol,
        "port_range_min": rule.port_range_min, "port_range_max": rule.port_range_max,
        "remote_ip_prefix": rule.remote_ip_prefix, "remote_group_id": rule.remote_group_id,
        "normalized_cidr": rule.normalized_cidr,
        "description": rule.description, "tags": [], "revision_number": rule.revision_number,
        "created_at": _time(rule.created_at), "updated_at": _time(rule.updated_at),
    }


def render_security_group(group: Any, rules: Sequence[Any]) -> dict[str, Any]:
    return {**_standard(group), "stateful": group.stateful,
            "security_group_rules": [render_rule(r) for r in rules]}


def render_router(router: m.Router, gateway_ips: list[dict[str, str]]) -> dict[str, Any]:
    gateway = None
    if router.gw_network_id:
        gateway = {"network_id": router.gw_network_id, "enable_snat": router.enable_snat,
                   "external_fixed_ips": gateway_ips}
    return {
        **_standard(router), "admin_state_up": router.admin_state_up, "status": router.status,
        "external_gateway_info": gateway, "routes": [dict(r) for r in router.routes],
        "distributed": router.distributed, "ha": router.ha,
        "availability_zone_hints": list(router.availability_zone_hints),
        "availability_zones": ["nova"], "flavor_id": None,
    }


def render_floatingip(fip: m.FloatingIP, port: m.Port | None) -> dict[str, Any]:
    details = None
    if port is not None:
        details = {"name": port.name, "network_id": port.network_id,
                   "mac_address": port.mac_address, "admin_state_up": port.admin_state_up,
                   "status": port.status, "device_id": port.device_id,
                   "device_owner": port.device_owner}
    standard = _standard(fip)
    del standard["name"]  # floating IPs have none
    return {
        **standard, "floating_network_id": fip.floating_network_id,
        "floating_ip_address": fip.floating_ip_address, "router_id": fip.router_id,
        "port_id": fip.fixed_port_id, "fixed_ip_address": fip.fixed_ip_address,
        "status": fip.status, "port_details": details, "qos_policy_id": None,
        "port_forwardings": [],
    }
