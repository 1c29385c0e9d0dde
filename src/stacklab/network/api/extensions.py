"""Version discovery and ``/v2.0/extensions``: what clients probe before they ask."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import ApiError
from stacklab.api.service import Call
from stacklab.network.api.base import api

# (alias, name, description): only what stacklab implements, since clients take
# an extension's presence as a promise (openstacksdk and the CLI probe this list).
EXTENSIONS = (
    ("agent", "agent", "The agent management extension."),
    ("dhcp_agent_scheduler", "DHCP Agent Scheduler", "Schedule networks among dhcp agents"),
    ("l3_agent_scheduler", "L3 Agent Scheduler", "Schedule routers among l3 agents"),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("availability_zone", "Availability Zone", "The availability zone extension."),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for "
     "network."),
    ("router_availability_zone", "Router Availability Zone", "Availability zone support for "
     "router."),
    ("l2_adjacency", "L2 Adjacency", "Display L2 Adjacency for Neutron Networks."),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet "
     "pool"),
    ("auto-allocated-topology", "Auto Allocated Topology Services", "Auto Allocated Topology "
     "Services."),
    ("default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a "
     "subnetpool as the default."),
    ("subnet-service-types", "Subnet service types", "Provides ability to set the subnet "
     "service_types field"),
    ("stateful-security-group", "Stateful security group", "Indicates if the security group "
     "is stateful or not"),
    ("security-groups-normalized-cidr", "Normalized CIDR field for security group rules",
     "Add new field with normalized remote_ip_prefix cidr in SG rule"),
    ("dvr", "Distributed Virtual Router", "Enables configuration of Distributed Virtual "
     "Routers."),
    ("ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router "
     "abstraction for specifying whether SNAT should occur on the external gateway"),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    ("fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to "
     "Floating IP resource"),
    ("l3-ha", "HA Router extension", "Adds HA capability to routers."),
    ("router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 "
     "Neutron networks and access to external networks via a NAT gateway."),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external "
     "application"),
    ("external-net", "Neutron external network", "Adds external network attribute to network "
     "resource."),
    ("extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP."),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("pagination", "Pagination support", "Extension that indicates that pagination is "
     "enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field "
     "is enabled."),
    ("quotas", "Quota management support", "Expose functions for quotas management per "
     "project"),
    ("quota-check-limit", "Quota engine limit check", "Support for checking the resource "
     "usage before applying a new quota limit"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage "
     "statistics per project"),
    ("standard-attr-tag", "Tag support for resources with standard attribute", "Enables to "
     "set tag on resources with standard attribute."),
    ("tag-creation", "Tag creation extension", "Allow to create multiple tags for a "
     "resource"),
    ("tag-ports-during-bulk-creation", "Tag Ports During Bulk Creation", "Allow to tag ports "
     "during bulk creation"),
    ("ip-substring-filtering", "IP address substring filtering", "Provides IP address "
     "substring filtering when listing ports"),
    ("metering", "Neutron Metering", "Neutron Metering extension."),
    ("metering_source_and_destination_fields", "Neutron Metering with source and destination "
     "filtering", "Neutron Metering extension that enables the use of source and destination "
     "IP prefixes to create metering label rules."),
    ("service-type", "Neutron Service Type Management", "API for retrieving service "
     "providers for Neutron advanced services"),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical "
     "networks"),
    ("security-group", "security-group", "The security groups extension."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions "
     "to standard attributes"),
    ("standard-attr-revisions", "Resource revision numbers", "This extension will display the "
     "revision number of neutron resources."),
    ("standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields "
     "to all Neutron resources that have Neutron standard attributes."),
)


def _render(alias: str, name: str, description: str) -> dict[str, Any]:
    return {"alias": alias, "name": name, "description": description, "links": [],
            "updated": "2013-01-01T10:00:00-00:00"}


@api.route("GET", "/", public=True)
async def versions(call: Call) -> dict[str, Any]:
    return {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [
        {"rel": "self", "href": call.url_for("/v2.0/")}]}]}


_RESOURCES = ("networks", "subnets", "subnetpools", "ports", "routers", "floatingips",
              "security-groups", "security-group-rules", "agents", "quotas", "extensions")


@api.route("GET", "/v2.0/")
async def resources(call: Call) -> dict[str, Any]:
    return {"resources": [{"name": c.rstrip("s").replace("-", "_"), "collection": c,
                           "links": [{"rel": "self", "href": call.url_for(f"/v2.0/{c}")}]}
                          for c in _RESOURCES]}


@api.route("GET", "/v2.0/extensions")
async def list_extensions(call: Call) -> dict[str, Any]:
    return {"extensions": [_render(*e) for e in EXTENSIONS]}


@api.route("GET", "/v2.0/extensions/{alias}")
async def show_extension(call: Call) -> dict[str, Any]:
    for extension in EXTENSIONS:
        if extension[0] == call.params["alias"]:
            return {"extension": _render(*extension)}
    raise ApiError("The resource could not be found.", status=404, kind="HTTPNotFound")
