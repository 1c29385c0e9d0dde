"""neutron's default policy rules, as data for oslo.policy.

Read from openstack/neutron master at commit 2131d26f73262ec89a5d3e3e0d65521df4908e65
(2026-08-07) and neutron-lib at 6cd671a8c4614b5ac798fb858d5d32add3419d88: all 365 rules,
in neutron's registration order, names and check strings character for character. Scope
and deprecations, what the check strings read and how neutron applies them (per-attribute
checks, 403 or 404, tags, quotas) is in docs/policies/network.md.
"""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

PROJECT: tuple[str, ...] = ("project",)
NO_SCOPE: tuple[str, ...] = ()

# ---- check-string building blocks, spelled as neutron-lib and neutron compose them ----

ADMIN = "rule:admin_only"
SERVICE = "rule:service_api"
ADVSVC = "rule:context_is_advsvc"
# Any reader of any project: for catalogue-like resources (flavors, AZs, rule types).
ANY_READER = "role:reader"
_PROJECT_MANAGER = "role:manager and project_id:%(project_id)s"
_PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
_PROJECT_READER = "role:reader and project_id:%(project_id)s"
_PARENT_MANAGER = "role:manager and rule:ext_parent_owner"
_PARENT_MEMBER = "role:member and rule:ext_parent_owner"
_PARENT_READER = "role:reader and rule:ext_parent_owner"
_NET_OWNER_MANAGER = "role:manager and rule:network_owner"
_NET_OWNER_MEMBER = "role:member and rule:network_owner"
_NET_OWNER_READER = "role:reader and rule:network_owner"
_SG_OWNER_MEMBER = "role:member and rule:sg_owner"
_SG_OWNER_READER = "role:reader and rule:sg_owner"

ADMIN_OR_SERVICE = f"({ADMIN}) or ({SERVICE})"
ADMIN_OR_PROJECT_MANAGER = f"({ADMIN}) or ({_PROJECT_MANAGER})"
ADMIN_OR_PROJECT_MEMBER = f"({ADMIN}) or ({_PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"({ADMIN}) or ({_PROJECT_READER})"
ADMIN_OR_PARENT_MANAGER = f"({ADMIN}) or ({_PARENT_MANAGER})"
ADMIN_OR_PARENT_MEMBER = f"({ADMIN}) or ({_PARENT_MEMBER})"
ADMIN_OR_PARENT_READER = f"({ADMIN}) or ({_PARENT_READER})"
ADMIN_OR_NET_OWNER_MEMBER = f"({ADMIN}) or ({_NET_OWNER_MEMBER})"
ADMIN_OR_NET_OWNER_READER = f"({ADMIN}) or ({_NET_OWNER_READER})"
ADMIN_OR_SG_OWNER_MEMBER = f"({ADMIN}) or ({_SG_OWNER_MEMBER})"
ADMIN_OR_SG_OWNER_READER = f"({ADMIN}) or ({_SG_OWNER_READER})"

# Composites neutron spells out per rule (its own order and bracketing, which oslo reads
# with "and" binding tighter than "or").
ADMIN_OR_PROJECT_MEMBER_OR_SERVICE = f"{ADMIN_OR_PROJECT_MEMBER} or {SERVICE}"
ADMIN_SERVICE_OR_NET_OWNER_MEMBER = f"{ADMIN_OR_SERVICE} or {_NET_OWNER_MEMBER}"
ADMIN_SERVICE_NET_OWNER_MEMBER_OR_SHARED = f"{ADMIN_SERVICE_OR_NET_OWNER_MEMBER} or rule:shared"
ADMIN_OR_NET_OWNER_MEMBER_OR_SERVICE = f"{ADMIN_OR_NET_OWNER_MEMBER} or {SERVICE}"
PROJECT_MEMBER_OR_ADMIN_OR_NET_OWNER_MEMBER = f"{_PROJECT_MEMBER} or {ADMIN_OR_NET_OWNER_MEMBER}"
NOT_NETWORK_DEVICE_OR_NET_OWNER = f"not rule:network_device or {ADMIN_SERVICE_OR_NET_OWNER_MEMBER}"
_NO_WILDCARD_TARGET = (
    "not field:rbac_policy:target_tenant=* and not field:rbac_policy:target_project=*"
)


def _helper(name: str, check_str: str, description: str) -> PolicyRule:
    """A rule neutron registers without a scope, to be named by other rules."""
    return PolicyRule(name, check_str, NO_SCOPE, description)


def _api(name: str, check_str: str, description: str) -> PolicyRule:
    return PolicyRule(name, check_str, PROJECT, description)


BASE_RULES: list[PolicyRule] = [
    _helper("context_is_admin", "role:admin", "Who neutron treats as a cloud administrator."),
    _helper("context_with_global_access", "!",
            "Contexts that see every project's resources; nobody by default."),
    _helper("service_api", "role:service", "Other OpenStack services calling neutron."),
    _helper("owner", "project_id:%(project_id)s", "The caller's project owns the resource."),
    _helper("admin_or_owner", "rule:context_is_admin or rule:owner",
            "An admin, or anyone in the owning project (legacy; also the fallback)."),
    _helper("context_is_advsvc", "role:advsvc",
            "Legacy advanced-services role; deprecated for the service role."),
    _helper("admin_or_network_owner",
            "rule:context_is_admin or project_id:%(network:project_id)s",
            "An admin, or anyone in the project of the resource's network (legacy)."),
    _helper("admin_owner_or_network_owner", "rule:owner or rule:admin_or_network_owner",
            "Owner, network owner or admin (legacy)."),
    _helper("network_owner", "project_id:%(network:project_id)s",
            "The caller's project owns the network the resource is on."),
    _helper("admin_only", "rule:context_is_admin", "Administrators only."),
    _helper("regular_user", "", "Anyone authenticated (legacy)."),
    _helper("shared", "field:networks:shared=True", "The network is shared."),
    # Also oslo's default_rule: what a name missing from the rules falls back to.
    _helper("default", "rule:admin_or_owner", "Fallback for names with no rule."),
    _helper("admin_or_ext_parent_owner",
            "rule:context_is_admin or project_id:%(ext_parent:project_id)s",
            "An admin, or anyone in the parent resource's project (legacy)."),
    _helper("ext_parent_owner", "project_id:%(ext_parent:project_id)s",
            "The caller's project owns the parent resource (QoS policy, floating IP, ...)."),
    _helper("sg_owner", "project_id:%(security_group:project_id)s",
            "The caller's project owns the security group of a rule."),
]

ADDRESS_GROUP_RULES: list[PolicyRule] = [
    _helper("shared_address_groups", "field:address_groups:shared=True",
            "The address group is shared through RBAC."),
    _api("create_address_group", ADMIN_OR_PROJECT_MEMBER, "Create an address group."),
    _api("get_address_group", f"{ADMIN_OR_PROJECT_READER} or rule:shared_address_groups",
         "Show or list address groups."),
    _api("update_address_group", ADMIN_OR_PROJECT_MEMBER, "Rename or describe an address group."),
    _api("delete_address_group", ADMIN_OR_PROJECT_MEMBER, "Delete an address group."),
    _api("add_addresses", ADMIN_OR_PROJECT_MEMBER, "Add CIDRs to an address group."),
    _api("remove_addresses", ADMIN_OR_PROJECT_MEMBER, "Remove CIDRs from an address group."),
]

ADDRESS_SCOPE_RULES: list[PolicyRule] = [
    _helper("shared_address_scopes", "field:address_scopes:shared=True",
            "The address scope is shared."),
    _api("create_address_scope", ADMIN_OR_PROJECT_MEMBER, "Create an address scope."),
    _api("create_address_scope:shared", ADMIN, "Create an address scope already shared."),
    # The one read rule neutron leaves unbracketed.
    _api("get_address_scope",
         f"{ADMIN} or {_PROJECT_READER} or rule:shared_address_scopes",
         "Show or list address scopes."),
    _api("update_address_scope", ADMIN_OR_PROJECT_MEMBER, "Update an address scope."),
    _api("update_address_scope:shared", ADMIN, "Change whether an address scope is shared."),
    _api("delete_address_scope", ADMIN_OR_PROJECT_MEMBER, "Delete an address scope."),
]

AGENT_RULES: list[PolicyRule] = [
    _api("create_agent", ADMIN, "Register an agent (no API route; agents report over RPC)."),
    _api("get_agent", ADMIN, "Show or list agents."),
    _api("update_agent", ADMIN, "Change an agent's admin_state_up or description."),
    _api("delete_agent", ADMIN, "Delete an agent."),
    _api("create_dhcp-network", ADMIN, "Schedule a network to a DHCP agent."),
    _api("get_dhcp-networks", ADMIN, "List the networks a DHCP agent serves."),
    _api("delete_dhcp-network", ADMIN, "Remove a network from a DHCP agent."),
    _api("create_l3-router", ADMIN, "Schedule a router to an L3 agent."),
    _api("get_l3-routers", ADMIN, "List the routers an L3 agent hosts."),
    _api("update_l3-router", ADMIN, "Change a router's binding to an L3 agent."),
    _api("delete_l3-router", ADMIN, "Remove a router from an L3 agent."),
    _api("get_dhcp-agents", ADMIN, "List the DHCP agents serving a network."),
    _api("get_l3-agents", ADMIN, "List the L3 agents hosting a router."),
]

AUTO_ALLOCATED_TOPOLOGY_RULES: list[PolicyRule] = [
    _api("get_auto_allocated_topology", ADMIN_OR_PROJECT_READER,
         "Get (creating if needed) a project's auto-allocated network."),
    _api("delete_auto_allocated_topology", ADMIN_OR_PROJECT_MEMBER,
         "Tear down a project's auto-allocated network."),
]

AVAILABILITY_ZONE_RULES: list[PolicyRule] = [
    _api("get_availability_zone", ANY_READER, "List network availability zones."),
]

DEFAULT_SECURITY_GROUP_RULE_RULES: list[PolicyRule] = [
    _api("create_default_security_group_rule", ADMIN,
         "Add a rule to the template of every new security group."),
    _api("get_default_security_group_rule", ANY_READER,
         "Show or list the security group rule templates."),
    _api("delete_default_security_group_rule", ADMIN, "Remove a security group rule template."),
]

EVPN_RULES: list[PolicyRule] = [
    _api("create_router:evpn_vni", ADMIN, "Give a new router an EVPN VNI."),
    _api("get_router:evpn_vni", ADMIN_OR_PROJECT_READER, "See a router's EVPN VNI."),
]

FLAVOR_RULES: list[PolicyRule] = [
    _api("create_flavor", ADMIN, "Create a networking service flavor."),
    _api("get_flavor", ANY_READER, "Show or list service flavors."),
    _api("update_flavor", ADMIN, "Update a service flavor."),
    _api("delete_flavor", ADMIN, "Delete a service flavor."),
    _api("create_service_profile", ADMIN, "Create a service profile."),
    _api("get_service_profile", ADMIN, "Show or list service profiles."),
    _api("update_service_profile", ADMIN, "Update a service profile."),
    _api("delete_service_profile", ADMIN, "Delete a service profile."),
    # A plain RuleDefault upstream, scoped but undocumented: no GET route uses it.
    _api("get_flavor_service_profile", ADMIN_OR_PROJECT_READER,
         "See a flavor's association with a profile (only read when dissociating)."),
    _api("create_flavor_service_profile", ADMIN, "Associate a flavor with a service profile."),
    _api("delete_flavor_service_profile", ADMIN, "Dissociate a flavor from a service profile."),
]

FLOATINGIP_RULES: list[PolicyRule] = [
    _api("create_floatingip", ADMIN_OR_PROJECT_MEMBER, "Allocate a floating IP."),
    _api("create_floatingip:floating_ip_address", ADMIN_OR_PROJECT_MANAGER,
         "Allocate a floating IP at a chosen address."),
    _api("create_floatingip:tags", ADMIN_OR_PROJECT_MEMBER, "Add tags to a floating IP."),
    _api("get_floatingip", ADMIN_OR_PROJECT_READER, "Show or list floating IPs."),
    _api("get_floatingip:tags", ADMIN_OR_PROJECT_READER, "Read a floating IP's tags."),
    _api("update_floatingip", ADMIN_OR_PROJECT_MEMBER,
         "Associate, disassociate or describe a floating IP."),
    _api("update_floatingip:tags", ADMIN_OR_PROJECT_MEMBER, "Replace a floating IP's tags."),
    _api("delete_floatingip", ADMIN_OR_PROJECT_MEMBER, "Release a floating IP."),
    _api("delete_floatingip:tags", ADMIN_OR_PROJECT_MEMBER, "Remove a floating IP's tags."),
]

FLOATINGIP_POOL_RULES: list[PolicyRule] = [
    _api("get_floatingip_pool", ADMIN_OR_PROJECT_READER,
         "List the subnets floating IPs can come from."),
]

FLOATINGIP_PORT_FORWARDING_RULES: list[PolicyRule] = [
    _api("create_floatingip_port_forwarding", ADMIN_OR_PARENT_MEMBER,
         "Forward a port of a floating IP to an internal address."),
    _api("get_floatingip_port_forwarding", ADMIN_OR_PARENT_READER,
         "Show or list a floating IP's port forwardings."),
    _api("update_floatingip_port_forwarding", ADMIN_OR_PARENT_MEMBER,
         "Change a port forwarding."),
    _api("delete_floatingip_port_forwarding", ADMIN_OR_PARENT_MEMBER,
         "Remove a port forwarding."),
]

CONNTRACK_HELPER_RULES: list[PolicyRule] = [
    _api("create_router_conntrack_helper", ADMIN_OR_PARENT_MEMBER,
         "Add a conntrack helper to a router."),
    _api("get_router_conntrack_helper", ADMIN_OR_PARENT_READER,
         "Show or list a router's conntrack helpers."),
    _api("update_router_conntrack_helper", ADMIN_OR_PARENT_MEMBER,
         "Change a router's conntrack helper."),
    _api("delete_router_conntrack_helper", ADMIN_OR_PARENT_MEMBER,
         "Remove a router's conntrack helper."),
]

LOCAL_IP_RULES: list[PolicyRule] = [
    _api("create_local_ip", ADMIN_OR_PROJECT_MEMBER, "Create a local IP."),
    _api("get_local_ip", ADMIN_OR_PROJECT_READER, "Show or list local IPs."),
    _api("update_local_ip", ADMIN_OR_PROJECT_MEMBER, "Rename or describe a local IP."),
    _api("delete_local_ip", ADMIN_OR_PROJECT_MEMBER, "Delete a local IP."),
]

LOCAL_IP_ASSOCIATION_RULES: list[PolicyRule] = [
    _api("create_local_ip_port_association", ADMIN_OR_PARENT_MEMBER,
         "Associate a local IP with a port."),
    _api("get_local_ip_port_association", ADMIN_OR_PARENT_READER,
         "Show or list a local IP's port associations."),
    _api("delete_local_ip_port_association", ADMIN_OR_PARENT_MEMBER,
         "Remove a local IP's association with a port."),
]

LOGGING_RULES: list[PolicyRule] = [
    _api("get_loggable_resource", ADMIN_OR_PROJECT_MANAGER,
         "List the resource types that can be logged."),
    _api("create_log", ADMIN_OR_PROJECT_MANAGER, "Start a network log."),
    _api("get_log", ADMIN_OR_PROJECT_MANAGER, "Show or list network logs."),
    _api("update_log", ADMIN_OR_PROJECT_MANAGER, "Enable, disable or describe a network log."),
    _api("delete_log", ADMIN_OR_PROJECT_MANAGER, "Delete a network log."),
]

METERING_RULES: list[PolicyRule] = [
    _api("create_metering_label", ADMIN_OR_PROJECT_MANAGER, "Create a metering label."),
    _api("get_metering_label", ADMIN_OR_PROJECT_READER, "Show or list metering labels."),
    _api("delete_metering_label", ADMIN_OR_PROJECT_MANAGER, "Delete a metering label."),
    _api("create_metering_label_rule", ADMIN_OR_PROJECT_MANAGER,
         "Add a traffic rule to a metering label."),
    _api("get_metering_label_rule", ADMIN_OR_PROJECT_READER,
         "Show or list metering label rules."),
    _api("delete_metering_label_rule", ADMIN_OR_PROJECT_MANAGER,
         "Remove a metering label rule."),
]

NDP_PROXY_RULES: list[PolicyRule] = [
    _api("create_ndp_proxy", ADMIN_OR_PROJECT_MEMBER, "Publish an IPv6 address by NDP proxy."),
    _api("get_ndp_proxy", ADMIN_OR_PROJECT_READER, "Show or list NDP proxies."),
    _api("update_ndp_proxy", ADMIN_OR_PROJECT_MEMBER, "Rename or describe an NDP proxy."),
    _api("delete_ndp_proxy", ADMIN_OR_PROJECT_MEMBER, "Delete an NDP proxy."),
]

NETWORK_RULES: list[PolicyRule] = [
    _helper("external", "field:networks:router:external=True",
            "The network is external (routers take gateways and floating IPs from it)."),
    _api("create_network", ADMIN_OR_PROJECT_MEMBER, "Create a network."),
    _api("create_network:shared", ADMIN, "Create a network shared with every project."),
    _api("create_network:router:external", ADMIN, "Create an external network."),
    _api("create_network:is_default", ADMIN,
         "Mark a new network as the default external one (auto-allocation)."),
    _api("create_network:port_security_enabled", ADMIN_OR_PROJECT_MEMBER,
         "Choose port security for a new network."),
    _api("create_network:segments", ADMIN, "Give a new network several segments."),
    _api("create_network:provider:network_type", ADMIN,
         "Choose a new network's type (flat, vlan, vxlan, ...)."),
    _api("create_network:provider:physical_network", ADMIN,
         "Choose the physical network a new network is on."),
    _api("create_network:provider:segmentation_id", ADMIN,
         "Choose a new network's VLAN ID or tunnel key."),
    _api("create_network:tags", ADMIN_OR_PROJECT_MEMBER, "Add tags to a network."),
    _api("get_network",
         f"{ADMIN_OR_PROJECT_READER} or {SERVICE} or rule:shared or rule:external or {ADVSVC}",
         "Show or list networks (own, shared or external)."),
    _api("get_network:segments", ADMIN, "See a network's segments."),
    _api("get_network:provider:network_type", ADMIN, "See a network's type."),
    _api("get_network:provider:physical_network", ADMIN, "See a network's physical network."),
    _api("get_network:provider:segmentation_id", ADMIN,
         "See a network's VLAN ID or tunnel key."),
    _api("get_network:tags",
         f"{ADMIN_OR_PROJECT_READER} or rule:shared or rule:external or {ADVSVC}",
         "Read a network's tags."),
    _api("update_network", ADMIN_OR_PROJECT_MEMBER, "Update a network."),
    _api("update_network:segments", ADMIN, "Change a network's segments."),
    _api("update_network:shared", ADMIN, "Share or unshare a network with every project."),
    _api("update_network:provider:network_type", ADMIN, "Change a network's type."),
    _api("update_network:provider:physical_network", ADMIN,
         "Change a network's physical network."),
    _api("update_network:provider:segmentation_id", ADMIN,
         "Change a network's VLAN ID or tunnel key."),
    _api("update_network:router:external", ADMIN, "Make a network external or internal."),
    _api("update_network:is_default", ADMIN,
         "Mark or unmark a network as the default external one."),
    _api("update_network:port_security_enabled", ADMIN_OR_PROJECT_MEMBER,
         "Change a network's port security."),
    _api("update_network:tags", ADMIN_OR_PROJECT_MEMBER, "Replace a network's tags."),
    _api("delete_network", ADMIN_OR_PROJECT_MEMBER, "Delete a network."),
    _api("delete_network:tags", ADMIN_OR_PROJECT_MEMBER, "Remove a network's tags."),
]

NETWORK_IP_AVAILABILITY_RULES: list[PolicyRule] = [
    _api("get_network_ip_availability", ADMIN_OR_SERVICE,
         "Show or list IP address usage per network and subnet."),
]

NETWORK_SEGMENT_RANGE_RULES: list[PolicyRule] = [
    _api("create_network_segment_range", ADMIN, "Create a segment range."),
    _api("create_network_segment_range:tags", ADMIN, "Add tags to a segment range."),
    _api("get_network_segment_range", ADMIN, "Show or list segment ranges."),
    _api("get_network_segment_range:tags", ADMIN, "Read a segment range's tags."),
    _api("update_network_segment_range", ADMIN, "Update a segment range."),
    _api("update_network_segment_range:tags", ADMIN, "Replace a segment range's tags."),
    _api("delete_network_segment_range", ADMIN, "Delete a segment range."),
    _api("delete_network_segment_range:tags", ADMIN, "Remove a segment range's tags."),
]

PORT_BINDING_RULES: list[PolicyRule] = [
    _api("get_port_binding", ADMIN_OR_SERVICE, "Show or list a port's host bindings."),
    _api("create_port_binding", SERVICE, "Bind a port to a host (nova, live migration)."),
    _api("delete_port_binding", SERVICE, "Remove a port's binding to a host."),
    _api("activate", SERVICE, "Make one of a port's bindings the active one."),
]

PORT_RULES: list[PolicyRule] = [
    _helper("network_device", "field:port:device_owner=~^network:",
            "The port belongs to neutron itself (router, DHCP, ...)."),
    _helper("admin_or_data_plane_int", "rule:context_is_admin or role:data_plane_integrator",
            "An admin, or a data plane integrator (legacy)."),
    _api("create_port", ADMIN_SERVICE_NET_OWNER_MEMBER_OR_SHARED,
         "Create a port on one's own network or a shared one."),
    _api("create_port:device_id", ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
         "Set the device a new port is attached to."),
    _api("create_port:device_owner", NOT_NETWORK_DEVICE_OR_NET_OWNER,
         "Set a new port's device_owner (network:* only on one's own network)."),
    _api("create_port:mac_address", ADMIN_SERVICE_OR_NET_OWNER_MEMBER,
         "Choose a new port's MAC address."),
    _api("create_port:fixed_ips", ADMIN_SERVICE_NET_OWNER_MEMBER_OR_SHARED,
         "Give a new port fixed_ips."),
    _api("create_port:fixed_ips:ip_address", ADMIN_SERVICE_OR_NET_OWNER_MEMBER,
         "Choose a new port's IP address."),
    _api("create_port:fixed_ips:subnet_id", ADMIN_SERVICE_NET_OWNER_MEMBER_OR_SHARED,
         "Choose the subnet of a new port's address."),
    _api("create_port:port_security_enabled", ADMIN_SERVICE_OR_NET_OWNER_MEMBER,
         "Choose port security for a new port."),
    _api("create_port:binding:host_id", ADMIN_OR_SERVICE, "Bind a new port to a host."),
    _api("create_port:binding:profile", SERVICE, "Set a new port's binding profile."),
    _api("create_port:binding:vnic_type", ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
         "Choose a new port's vNIC type (normal, direct, ...)."),
    _api("create_port:allowed_address_pairs", ADMIN_OR_NET_OWNER_MEMBER_OR_SERVICE,
         "Give a new port allowed address pairs."),
    _api("create_port:allowed_address_pairs:mac_address",
         ADMIN_OR_NET_OWNER_MEMBER_OR_SERVICE, "Set the MAC of an allowed address pair."),
    _api("create_port:allowed_address_pairs:ip_address",
         ADMIN_OR_NET_OWNER_MEMBER_OR_SERVICE, "Set the IP of an allowed address pair."),
    _api("create_port:hints", ADMIN, "Give a new port backend hints."),
    _api("create_port:trusted", ADMIN, "Mark a new port trusted (SR-IOV)."),
    _api("create_port:tags", f"{ADMIN_OR_PROJECT_MEMBER} or {ADVSVC}",
         "Add tags to a port."),
    _api("get_port",
         f"{ADMIN_OR_SERVICE} or {_NET_OWNER_READER} or {_PROJECT_READER}",
         "Show or list ports (own, or on one's own network)."),
    _api("get_port:binding:vif_type", ADMIN_OR_SERVICE, "See a port's VIF type."),
    _api("get_port:binding:vif_details", ADMIN_OR_SERVICE, "See a port's VIF details."),
    _api("get_port:binding:host_id", ADMIN_OR_SERVICE, "See the host a port is bound to."),
    _api("get_port:binding:profile", ADMIN_OR_SERVICE, "See a port's binding profile."),
    _api("get_port:resource_request", ADMIN, "See the placement resources a port asks for."),
    _api("get_port:hints", ADMIN, "See a port's backend hints."),
    _api("get_port:trusted", ADMIN, "See whether a port is trusted."),
    _api("get_port:tags",
         f"{ADVSVC} or {ADMIN_OR_NET_OWNER_READER} or {_PROJECT_READER}",
         "Read a port's tags."),
    _api("update_port", f"{ADMIN_OR_SERVICE} or {_PROJECT_MEMBER}", "Update a port."),
    _api("update_port:device_id", ADMIN_OR_PROJECT_MEMBER_OR_SERVICE,
         "Change the device a port is attached to."),
    _api("update_port:device_owner", NOT_NETWORK_DEVICE_OR_NET_OWNER,
         "Change a port's device_owner (network:* only on one's own network)."),
    _api("update_port:mac_address", f"{ADMIN_OR_SERVICE} or {_NET_OWNER_MANAGER}",
         "Change a port's MAC address."),
    _api("update_port:fixed_ips", ADMIN_SERVICE_OR_NET_OWNER_MEMBER,
         "Change a port's fixed_ips."),
    _api("update_port:fixed_ips:ip_address", ADMIN_SERVICE_OR_NET_OWNER_MEMBER,
         "Choose a port's IP address."),
    _api("update_port:fixed_ips:subnet_id", ADMIN_SERVICE_NET_OWNER_MEMBER_OR_SHARED,
         "Choose the subnet of a port's address."),
    _api("update_port:port_security_enabled", ADMIN_SERVICE_OR_NET_OWNER_MEMBER,
         "Turn a port's port security on or off."),
    _api("update_port:binding:host_id", ADMIN_OR_SERVICE, "Bind a port to another host."),
    _api("update_port:binding:profile", SERVICE, "Change a port's binding profile."),
    _api("update_port:binding:vnic_type", f"{ADMIN_OR_SERVICE} or {_PROJECT_MEMBER}",
         "Change a port's vNIC type."),
    _api("update_port:allowed_address_pairs", ADMIN_OR_NET_OWNER_MEMBER_OR_SERVICE,
         "Change a port's allowed address pairs."),
    _api("update_port:allowed_address_pairs:mac_address",
         ADMIN_OR_NET_OWNER_MEMBER_OR_SERVICE, "Set the MAC of an allowed address pair."),
    _api("update_port:allowed_address_pairs:ip_address",
         ADMIN_OR_NET_OWNER_MEMBER_OR_SERVICE, "Set the IP of an allowed address pair."),
    _api("update_port:data_plane_status", f"{ADMIN} or role:data_plane_integrator",
         "Report a port's data plane status."),
    _api("update_port:hints", ADMIN, "Change a port's backend hints."),
    _api("update_port:trusted", ADMIN, "Mark a port trusted or not."),
    _api("update_port:tags", f"{ADMIN_OR_PROJECT_MEMBER} or {ADVSVC}",
         "Replace a port's tags."),
    _api("delete_port",
         f"{ADMIN_SERVICE_OR_NET_OWNER_MEMBER} or {_PROJECT_MEMBER}",
         "Delete a port (own, or on one's own network)."),
    _api("delete_port:tags", f"{ADVSVC} or {PROJECT_MEMBER_OR_ADMIN_OR_NET_OWNER_MEMBER}",
         "Remove a port's tags."),
]

PVLAN_RULES: list[PolicyRule] = [
    _api("create_port:pvlan_type", ADMIN_OR_PROJECT_MEMBER, "Set a new port's private VLAN type."),
    _api("create_port:pvlan_community", ADMIN_OR_PROJECT_MEMBER,
         "Set a new port's private VLAN community."),
    _api("update_port:pvlan_type", ADMIN_OR_PROJECT_MEMBER, "Change a port's private VLAN type."),
    _api("update_port:pvlan_community", ADMIN_OR_PROJECT_MEMBER,
         "Change a port's private VLAN community."),
    _api("get_port:pvlan_type", ADMIN_OR_PROJECT_READER, "See a port's private VLAN type."),
    _api("get_port:pvlan_community", ADMIN_OR_PROJECT_READER,
         "See a port's private VLAN community."),
    _api("create_network:pvlan", ADMIN_OR_PROJECT_MEMBER, "Make a new network a private VLAN."),
    _api("update_network:pvlan", ADMIN_OR_PROJECT_MEMBER, "Change a network's private VLAN flag."),
    _api("get_network:pvlan", ADMIN_OR_PROJECT_READER, "See a network's private VLAN flag."),
]


QOS_RULES: list[PolicyRule] = [
    _helper("shared_qos_policy", "field:policies:shared=True", "The QoS policy is shared."),
    _api("get_policy", f"{ADMIN_OR_PROJECT_READER} or rule:shared_qos_policy",
         "Show or list QoS policies."),
    _api("get_policy:tags", f"{ADMIN_OR_PROJECT_READER} or rule:shared_qos_policy",
         "Read a QoS policy's tags."),
    _api("create_policy", ADMIN_OR_PROJECT_MANAGER, "Create a QoS policy."),
    _api("create_policy:tags", ADMIN_OR_PROJECT_MANAGER, "Add tags to a QoS policy."),
    _api("update_policy", ADMIN_OR_PROJECT_MANAGER, "Update a QoS policy."),
    _api("update_policy:tags", ADMIN_OR_PROJECT_MANAGER, "Replace a QoS policy's tags."),
    _api("delete_policy", ADMIN_OR_PROJECT_MANAGER, "Delete a QoS policy."),
    _api("delete_policy:tags", ADMIN_OR_PROJECT_MANAGER, "Remove a QoS policy's tags."),
    _api("get_rule_type", ANY_READER, "List the QoS rule types the backends support."),
    _api("get_policy_bandwidth_limit_rule", ADMIN_OR_PARENT_READER,
         "Show or list a bandwidth limit rule of a QoS policy."),
    _api("create_policy_bandwidth_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Add a bandwidth limit rule to a QoS policy."),
    _api("update_policy_bandwidth_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a bandwidth limit rule of a QoS policy."),
    _api("delete_policy_bandwidth_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a bandwidth limit rule of a QoS policy."),
    _api("get_policy_packet_rate_limit_rule", ADMIN_OR_PARENT_READER,
         "Show or list a packet rate limit rule of a QoS policy."),
    _api("create_policy_packet_rate_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Add a packet rate limit rule to a QoS policy."),
    _api("update_policy_packet_rate_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a packet rate limit rule of a QoS policy."),
    _api("delete_policy_packet_rate_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a packet rate limit rule of a QoS policy."),
    _api("get_policy_dscp_marking_rule", ADMIN_OR_PARENT_READER,
         "Show or list a DSCP marking rule of a QoS policy."),
    _api("create_policy_dscp_marking_rule", ADMIN_OR_PARENT_MANAGER,
         "Add a DSCP marking rule to a QoS policy."),
    _api("update_policy_dscp_marking_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a DSCP marking rule of a QoS policy."),
    _api("delete_policy_dscp_marking_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a DSCP marking rule of a QoS policy."),
    _api("get_policy_minimum_bandwidth_rule", ADMIN_OR_PARENT_READER,
         "Show or list a minimum bandwidth rule of a QoS policy."),
    _api("create_policy_minimum_bandwidth_rule", ADMIN_OR_PARENT_MANAGER,
         "Add a minimum bandwidth rule to a QoS policy."),
    _api("update_policy_minimum_bandwidth_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a minimum bandwidth rule of a QoS policy."),
    _api("delete_policy_minimum_bandwidth_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a minimum bandwidth rule of a QoS policy."),
    _api("get_policy_minimum_packet_rate_rule", ADMIN_OR_PARENT_READER,
         "Show or list a minimum packet rate rule of a QoS policy."),
    _api("create_policy_minimum_packet_rate_rule", ADMIN_OR_PARENT_MANAGER,
         "Add a minimum packet rate rule to a QoS policy."),
    _api("update_policy_minimum_packet_rate_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a minimum packet rate rule of a QoS policy."),
    _api("delete_policy_minimum_packet_rate_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a minimum packet rate rule of a QoS policy."),
    # The alias API reaches a QoS rule by its own id, without its policy's.
    _api("get_alias_bandwidth_limit_rule", ADMIN_OR_PARENT_READER,
         "Show a bandwidth limit rule by its own id."),
    _api("update_alias_bandwidth_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a bandwidth limit rule by its own id."),
    _api("delete_alias_bandwidth_limit_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a bandwidth limit rule by its own id."),
    _api("get_alias_dscp_marking_rule", ADMIN_OR_PARENT_READER,
         "Show a DSCP marking rule by its own id."),
    _api("update_alias_dscp_marking_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a DSCP marking rule by its own id."),
    _api("delete_alias_dscp_marking_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a DSCP marking rule by its own id."),
    _api("get_alias_minimum_bandwidth_rule", ADMIN_OR_PARENT_READER,
         "Show a minimum bandwidth rule by its own id."),
    _api("update_alias_minimum_bandwidth_rule", ADMIN_OR_PARENT_MANAGER,
         "Change a minimum bandwidth rule by its own id."),
    _api("delete_alias_minimum_bandwidth_rule", ADMIN_OR_PARENT_MANAGER,
         "Remove a minimum bandwidth rule by its own id."),
    # The newest alias rules defer to their policy-level twins by name instead.
    _api("get_alias_minimum_packet_rate_rule", "rule:get_policy_minimum_packet_rate_rule",
         "Show a minimum packet rate rule by its own id."),
    _api("update_alias_minimum_packet_rate_rule",
         "rule:update_policy_minimum_packet_rate_rule",
         "Change a minimum packet rate rule by its own id."),
    _api("delete_alias_minimum_packet_rate_rule",
         "rule:delete_policy_minimum_packet_rate_rule",
         "Remove a minimum packet rate rule by its own id."),
]

QUOTA_RULES: list[PolicyRule] = [
    # Always checked against the caller's own project (see the module docstring).
    _api("get_quota", ADMIN_OR_PROJECT_MANAGER,
         "List all quotas, or show another project's."),
    _api("update_quota", ADMIN, "Set a project's quotas."),
    _api("delete_quota", ADMIN, "Reset a project's quotas to the defaults."),
]

RBAC_RULES: list[PolicyRule] = [
    _helper("restrict_wildcard", f"({_NO_WILDCARD_TARGET}) or {ADMIN}",
            "Only admins may share with every project ('*') (legacy)."),
    _api("create_rbac_policy", ADMIN_OR_PROJECT_MEMBER,
         "Share a resource with another project."),
    _api("create_rbac_policy:target_tenant", f"{ADMIN} or ({_NO_WILDCARD_TARGET})",
         "Name the target of a new RBAC policy by the deprecated target_tenant."),
    _api("create_rbac_policy:target_project",
         f"{ADMIN} or not field:rbac_policy:target_project=*",
         "Choose the project a new RBAC policy shares with ('*' for admins)."),
    _api("update_rbac_policy", ADMIN_OR_PROJECT_MEMBER, "Update an RBAC policy."),
    _api("update_rbac_policy:target_tenant", f"{ADMIN} or ({_NO_WILDCARD_TARGET})",
         "Change an RBAC policy's deprecated target_tenant."),
    _api("update_rbac_policy:target_project",
         f"{ADMIN} or not field:rbac_policy:target_project=*",
         "Change the project an RBAC policy shares with."),
    _api("get_rbac_policy", ADMIN_OR_PROJECT_READER, "Show or list RBAC policies."),
    _api("delete_rbac_policy", ADMIN_OR_PROJECT_MEMBER, "Stop sharing through an RBAC policy."),
]

ROUTER_RULES: list[PolicyRule] = [
    _api("create_router", ADMIN_OR_PROJECT_MEMBER, "Create a router."),
    _api("create_router:distributed", ADMIN, "Create a distributed (DVR) router."),
    _api("create_router:ha", ADMIN, "Create a highly available (VRRP) router."),
    _api("create_router:external_gateway_info", ADMIN_OR_PROJECT_MEMBER,
         "Give a new router an external gateway."),
    _api("create_router:external_gateway_info:network_id", ADMIN_OR_PROJECT_MEMBER,
         "Choose a new router's external network."),
    _api("create_router:external_gateway_info:enable_snat", ADMIN,
         "Choose whether a new router does SNAT."),
    _api("create_router:external_gateway_info:external_fixed_ips", ADMIN,
         "Choose a new router's gateway addresses."),
    _api("create_router:enable_default_route_bfd", ADMIN,
         "Turn on BFD for a new router's default routes."),
    _api("create_router:enable_default_route_ecmp", ADMIN,
         "Turn on ECMP for a new router's default routes."),
    _api("create_router:tags", ADMIN_OR_PROJECT_MEMBER, "Add tags to a router."),
    _api("get_router", ADMIN_OR_PROJECT_READER, "Show or list routers."),
    _api("get_router:distributed", ADMIN, "See whether a router is distributed."),
    _api("get_router:ha", ADMIN, "See whether a router is highly available."),
    _api("get_router:tags", ADMIN_OR_PROJECT_READER, "Read a router's tags."),
    _api("update_router", ADMIN_OR_PROJECT_MEMBER, "Update a router."),
    _api("update_router:distributed", ADMIN, "Make a router distributed or not."),
    _api("update_router:ha", ADMIN, "Make a router highly available or not."),
    _api("update_router:external_gateway_info", ADMIN_OR_PROJECT_MEMBER,
         "Set or clear a router's external gateway."),
    _api("update_router:external_gateway_info:network_id", ADMIN_OR_PROJECT_MEMBER,
         "Choose a router's external network."),
    _api("update_router:external_gateway_info:enable_snat", ADMIN,
         "Turn a router's SNAT on or off."),
    _api("update_router:external_gateway_info:external_fixed_ips", ADMIN,
         "Choose a router's gateway addresses."),
    _api("update_router:enable_default_route_bfd", ADMIN,
         "Turn BFD on a router's default routes on or off."),
    _api("update_router:enable_default_route_ecmp", ADMIN,
         "Turn ECMP on a router's default routes on or off."),
    _api("update_router:tags", ADMIN_OR_PROJECT_MEMBER, "Replace a router's tags."),
    _api("delete_router", ADMIN_OR_PROJECT_MEMBER, "Delete a router."),
    _api("delete_router:tags", ADMIN_OR_PROJECT_MEMBER, "Remove a router's tags."),
    _api("add_router_interface", ADMIN_OR_PROJECT_MEMBER,
         "Attach a subnet or port to a router."),
    _api("remove_router_interface", ADMIN_OR_PROJECT_MEMBER,
         "Detach a subnet or port from a router."),
    _api("add_extraroutes", ADMIN_OR_PROJECT_MEMBER, "Add static routes to a router."),
    _api("remove_extraroutes", ADMIN_OR_PROJECT_MEMBER, "Remove static routes from a router."),
    _api("add_external_gateways", ADMIN_OR_PROJECT_MEMBER,
         "Add external gateways to a router (multihoming)."),
    _api("add_external_gateways:external_gateways", ADMIN_OR_PROJECT_MEMBER,
         "Give the gateways to add."),
    _api("add_external_gateways:external_gateways:network_id", ADMIN_OR_PROJECT_MEMBER,
         "Choose an added gateway's external network."),
    _api("add_external_gateways:external_gateways:enable_snat", ADMIN,
         "Choose whether an added gateway does SNAT."),
    _api("add_external_gateways:external_gateways:external_fixed_ips", ADMIN,
         "Choose an added gateway's addresses."),
    _api("update_external_gateways", ADMIN_OR_PROJECT_MEMBER,
         "Change a router's external gateways."),
    _api("update_external_gateways:external_gateways", ADMIN_OR_PROJECT_MEMBER,
         "Give the gateways to change."),
    _api("update_external_gateways:external_gateways:network_id", ADMIN_OR_PROJECT_MEMBER,
         "Choose a changed gateway's external network."),
    _api("update_external_gateways:external_gateways:enable_snat", ADMIN,
         "Turn a gateway's SNAT on or off."),
    _api("update_external_gateways:external_gateways:external_fixed_ips", ADMIN,
         "Choose a changed gateway's addresses."),
    _api("remove_external_gateways", ADMIN_OR_PROJECT_MEMBER,
         "Remove external gateways from a router."),
    _api("remove_external_gateways:external_gateways", ADMIN_OR_PROJECT_MEMBER,
         "Give the gateways to remove."),
]

SECURITY_GROUP_RULES: list[PolicyRule] = [
    _helper("admin_or_sg_owner",
            "rule:context_is_admin or project_id:%(security_group:project_id)s",
            "An admin, or anyone in the security group's project (legacy)."),
    _helper("admin_owner_or_sg_owner", "rule:owner or rule:admin_or_sg_owner",
            "Owner, security group owner or admin (legacy)."),
    _helper("shared_security_group", "field:security_groups:shared=True",
            "The security group is shared through RBAC."),
    _helper("rule_default_sg", "field:security_group_rules:belongs_to_default_sg=True",
            "The rule belongs to a project's default security group."),
    _api("create_security_group", ADMIN_OR_PROJECT_MEMBER, "Create a security group."),
    _api("create_security_group:tags", ADMIN_OR_PROJECT_MEMBER,
         "Add tags to a security group."),
    _api("get_security_group", f"{ADMIN_OR_PROJECT_READER} or rule:shared_security_group",
         "Show or list security groups."),
    _api("get_security_group:tags",
         f"{ADMIN_OR_PROJECT_READER} or rule:shared_security_group",
         "Read a security group's tags."),
    _api("update_security_group", ADMIN_OR_PROJECT_MEMBER, "Update a security group."),
    _api("update_security_group:tags", ADMIN_OR_PROJECT_MEMBER,
         "Replace a security group's tags."),
    _api("delete_security_group", ADMIN_OR_PROJECT_MEMBER, "Delete a security group."),
    _api("delete_security_group:tags", ADMIN_OR_PROJECT_MEMBER,
         "Remove a security group's tags."),
    _api("create_security_group_rule", ADMIN_OR_SG_OWNER_MEMBER,
         "Add a rule to one's own security group."),
    _api("get_security_group_rule", ADMIN_OR_SG_OWNER_READER,
         "Show or list the rules of one's own security groups."),
    _api("delete_security_group_rule", ADMIN_OR_SG_OWNER_MEMBER,
         "Remove a rule from one's own security group."),
]

SECURITY_GROUP_DEFAULT_STATEFULNESS_RULES: list[PolicyRule] = [
    _api("create_security_groups_default_statefulness", ADMIN_OR_PROJECT_MANAGER,
         "Set whether a project's new security groups are stateful."),
    _api("get_security_groups_default_statefulness", ADMIN_OR_PROJECT_READER,
         "See whether a project's new security groups are stateful."),
    _api("update_security_groups_default_statefulness", ADMIN_OR_PROJECT_MANAGER,
         "Change whether a project's new security groups are stateful."),
    _api("delete_security_groups_default_statefulness", ADMIN_OR_PROJECT_MANAGER,
         "Return a project's new security groups to the configured statefulness."),
]

SEGMENT_RULES: list[PolicyRule] = [
    _api("create_segment", ADMIN, "Add a segment to a network."),
    _api("create_segments_tags", ADMIN, "Add tags to a segment (never enforced)."),
    _api("get_segment", ADMIN, "Show or list segments."),
    _api("get_segments_tags", ADMIN, "Read a segment's tags (never enforced)."),
    _api("update_segment", ADMIN, "Rename or describe a segment."),
    _api("update_segments_tags", ADMIN, "Replace a segment's tags (never enforced)."),
    _api("delete_segment", ADMIN, "Delete a segment."),
    _api("delete_segments_tags", ADMIN, "Remove a segment's tags (never enforced)."),
]

SERVICE_TYPE_RULES: list[PolicyRule] = [
    _api("get_service_provider", ANY_READER, "List the service providers."),
]

SUBNET_RULES: list[PolicyRule] = [
    _helper("external_network", "field:subnets:router:external=True",
            "The subnet is on an external network."),
    _api("create_subnet", ADMIN_OR_NET_OWNER_MEMBER, "Create a subnet on one's own network."),
    _api("create_subnet:segment_id", ADMIN, "Put a new subnet on a given segment."),
    _api("create_subnet:service_types", ADMIN,
         "Restrict a new subnet to some device owners."),
    _api("create_subnet:tags", PROJECT_MEMBER_OR_ADMIN_OR_NET_OWNER_MEMBER,
         "Add tags to a subnet."),
    _api("get_subnet",
         f"{_PROJECT_READER} or rule:shared or rule:external_network or "
         f"{ADMIN_OR_NET_OWNER_READER} or {SERVICE}",
         "Show or list subnets (own, on shared or external networks)."),
    _api("get_subnet:segment_id", ADMIN, "See the segment a subnet is on."),
    _api("get_subnet:tags",
         f"{_PROJECT_READER} or rule:shared or rule:external_network or "
         f"{ADMIN_OR_NET_OWNER_READER}",
         "Read a subnet's tags."),
    _api("update_subnet", PROJECT_MEMBER_OR_ADMIN_OR_NET_OWNER_MEMBER, "Update a subnet."),
    _api("update_subnet:segment_id", ADMIN, "Move a subnet to a segment."),
    _api("update_subnet:service_types", ADMIN, "Change a subnet's device-owner restriction."),
    _api("update_subnet:tags", PROJECT_MEMBER_OR_ADMIN_OR_NET_OWNER_MEMBER,
         "Replace a subnet's tags."),
    _api("delete_subnet", PROJECT_MEMBER_OR_ADMIN_OR_NET_OWNER_MEMBER, "Delete a subnet."),
    _api("delete_subnet:tags", PROJECT_MEMBER_OR_ADMIN_OR_NET_OWNER_MEMBER,
         "Remove a subnet's tags."),
]

SUBNETPOOL_RULES: list[PolicyRule] = [
    _helper("shared_subnetpools", "field:subnetpools:shared=True", "The subnet pool is shared."),
    _api("create_subnetpool", ADMIN_OR_PROJECT_MEMBER, "Create a subnet pool."),
    _api("create_subnetpool:shared", ADMIN, "Create a subnet pool shared with every project."),
    _api("create_subnetpool:is_default", ADMIN, "Create the default subnet pool."),
    _api("create_subnetpool:tags", ADMIN_OR_PROJECT_MEMBER, "Add tags to a subnet pool."),
    _api("get_subnetpool", f"{ADMIN_OR_PROJECT_READER} or rule:shared_subnetpools",
         "Show or list subnet pools."),
    _api("get_subnetpool:tags", f"{ADMIN_OR_PROJECT_READER} or rule:shared_subnetpools",
         "Read a subnet pool's tags."),
    _api("update_subnetpool", ADMIN_OR_PROJECT_MEMBER, "Update a subnet pool."),
    _api("update_subnetpool:is_default", ADMIN,
         "Make a subnet pool the default, or not."),
    _api("update_subnetpool:tags", ADMIN_OR_PROJECT_MEMBER, "Replace a subnet pool's tags."),
    _api("delete_subnetpool", ADMIN_OR_PROJECT_MEMBER, "Delete a subnet pool."),
    _api("delete_subnetpool:tags", ADMIN_OR_PROJECT_MEMBER, "Remove a subnet pool's tags."),
    _api("onboard_network_subnets", ADMIN_OR_PROJECT_MEMBER,
         "Adopt a network's existing subnets into a subnet pool."),
    _api("add_prefixes", ADMIN_OR_PROJECT_MEMBER, "Add prefixes to a subnet pool."),
    _api("remove_prefixes", ADMIN_OR_PROJECT_MEMBER, "Remove prefixes from a subnet pool."),
]

TRUNK_RULES: list[PolicyRule] = [
    _api("create_trunk", ADMIN_OR_PROJECT_MEMBER, "Create a trunk on a parent port."),
    _api("create_trunk:tags", ADMIN_OR_PROJECT_MEMBER, "Add tags to a trunk."),
    _api("get_trunk", ADMIN_OR_PROJECT_READER, "Show or list trunks."),
    _api("get_trunk:tags", ADMIN_OR_PROJECT_READER, "Read a trunk's tags."),
    _api("update_trunk", ADMIN_OR_PROJECT_MEMBER, "Update a trunk."),
    _api("update_trunk:tags", ADMIN_OR_PROJECT_MEMBER, "Replace a trunk's tags."),
    _api("delete_trunk", ADMIN_OR_PROJECT_MEMBER, "Delete a trunk."),
    _api("delete_trunk:tags", ADMIN_OR_PROJECT_MEMBER, "Remove a trunk's tags."),
    _api("get_subports", ADMIN_OR_PROJECT_READER, "List a trunk's subports."),
    _api("add_subports", ADMIN_OR_PROJECT_MEMBER, "Add subports to a trunk."),
    _api("remove_subports", ADMIN_OR_PROJECT_MEMBER, "Remove subports from a trunk."),
]

# In the order neutron.conf.policies.list_rules() chains its modules.
RULES: list[PolicyRule] = [
    *BASE_RULES, *ADDRESS_GROUP_RULES, *ADDRESS_SCOPE_RULES, *AGENT_RULES,
    *AUTO_ALLOCATED_TOPOLOGY_RULES, *AVAILABILITY_ZONE_RULES,
    *DEFAULT_SECURITY_GROUP_RULE_RULES, *EVPN_RULES, *FLAVOR_RULES, *FLOATINGIP_RULES,
    *FLOATINGIP_POOL_RULES, *FLOATINGIP_PORT_FORWARDING_RULES, *CONNTRACK_HELPER_RULES,
    *LOCAL_IP_RULES, *LOCAL_IP_ASSOCIATION_RULES, *LOGGING_RULES, *METERING_RULES,
    *NDP_PROXY_RULES, *NETWORK_RULES, *NETWORK_IP_AVAILABILITY_RULES,
    *NETWORK_SEGMENT_RANGE_RULES, *PORT_BINDING_RULES, *PORT_RULES, *PVLAN_RULES, *QOS_RULES,
    *QUOTA_RULES, *RBAC_RULES, *ROUTER_RULES, *SECURITY_GROUP_RULES,
    *SECURITY_GROUP_DEFAULT_STATEFULNESS_RULES, *SEGMENT_RULES, *SERVICE_TYPE_RULES,
    *SUBNET_RULES, *SUBNETPOOL_RULES, *TRUNK_RULES,
]
RULES_BY_NAME: dict[str, PolicyRule] = {rule.name: rule for rule in RULES}
