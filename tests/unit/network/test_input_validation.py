"""Every Networking attribute, sent as every wrong JSON type, on create and on update: a 4xx
in neutron's format, never a 5xx; and the messages of the cases that used to be 500s.

The table names each resource's attributes itself (it is not read from
``stacklab.network.attributes``), and ``test_the_table_covers_every_attribute`` fails when
the attribute map grows an attribute the table does not send wrong values for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from stacklab.network import attributes
from unit.network.neutron_client import Neutron, expect_error

WRONG: list[Any] = [None, True, False, 0, -1, 1.5, 2**31, 2**40, 2**63, 2**64, "", "x",
                    "not-a-uuid", [], ["x"], [None], {}, {"x": 1}]

# resource -> (collection, attributes on create, attributes on update)
TABLE: dict[str, tuple[str, list[str], list[str]]] = {
    "network": ("networks", [
        "name", "description", "admin_state_up", "shared", "router:external", "mtu",
        "port_security_enabled", "provider:network_type", "provider:physical_network",
        "provider:segmentation_id", "availability_zone_hints", "is_default", "tenant_id",
        "project_id"], [
        "name", "description", "admin_state_up", "shared", "router:external", "mtu",
        "port_security_enabled", "is_default", "provider:network_type",
        "provider:physical_network", "provider:segmentation_id"]),
    "subnet": ("subnets", [
        "name", "description", "network_id", "ip_version", "cidr", "gateway_ip",
        "enable_dhcp", "allocation_pools", "dns_nameservers", "host_routes", "ipv6_ra_mode",
        "ipv6_address_mode", "service_types", "subnetpool_id", "prefixlen",
        "use_default_subnetpool", "tenant_id", "project_id"], [
        "name", "description", "gateway_ip", "enable_dhcp", "allocation_pools",
        "dns_nameservers", "host_routes", "service_types"]),
    "port": ("ports", [
        "name", "description", "network_id", "admin_state_up", "mac_address", "fixed_ips",
        "device_id", "device_owner", "security_groups", "allowed_address_pairs",
        "extra_dhcp_opts", "port_security_enabled", "binding:host_id", "binding:vnic_type",
        "binding:profile", "tags", "tenant_id", "project_id"], [
        "name", "description", "admin_state_up", "mac_address", "fixed_ips", "device_id",
        "device_owner", "security_groups", "allowed_address_pairs", "extra_dhcp_opts",
        "port_security_enabled", "binding:host_id", "binding:vnic_type", "binding:profile"]),
    "router": ("routers", [
        "name", "description", "admin_state_up", "external_gateway_info", "distributed", "ha",
        "availability_zone_hints", "flavor_id", "tenant_id", "project_id"], [
        "name", "description", "admin_state_up", "external_gateway_info", "distributed", "ha",
        "routes"]),
    "floatingip": ("floatingips", [
        "floating_network_id", "floating_ip_address", "subnet_id", "port_id",
        "fixed_ip_address", "description", "qos_policy_id", "dns_name", "dns_domain",
        "tenant_id", "project_id"], [
        "port_id", "fixed_ip_address", "description", "qos_policy_id"]),
    "security_group": ("security-groups", [
        "name", "description", "stateful", "tenant_id", "project_id"], [
        "name", "description", "stateful"]),
    "security_group_rule": ("security-group-rules", [
        "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
        "port_range_max", "remote_ip_prefix", "remote_group_id", "description", "tenant_id",
        "project_id"], []),
    "subnetpool": ("subnetpools", [
        "name", "description", "prefixes", "default_prefixlen", "min_prefixlen",
        "max_prefixlen", "shared", "is_default", "default_quota", "address_scope_id",
        "tenant_id", "project_id"], [
        "name", "description", "prefixes", "default_prefixlen", "min_prefixlen",
        "max_prefixlen", "is_default", "default_quota"]),
    "agent": ("agents", [], ["admin_state_up", "description"]),
    "metering_label": ("metering/metering-labels", [
        "name", "description", "shared", "tenant_id", "project_id"], []),
    "metering_label_rule": ("metering/metering-label-rules", [
        "metering_label_id", "direction", "excluded", "remote_ip_prefix", "source_ip_prefix",
        "destination_ip_prefix", "tenant_id", "project_id"], []),
}

# Attributes holding lists of objects (or one object): each key of an item gets every wrong
# value too, and so does the item itself.
NESTED: dict[str, list[str]] = {
    "fixed_ips": ["subnet_id", "ip_address"],
    "allowed_address_pairs": ["ip_address", "mac_address"],
    "extra_dhcp_opts": ["opt_name", "opt_value", "ip_version"],
    "host_routes": ["destination", "nexthop"],
    "routes": ["destination", "nexthop"],
    "allocation_pools": ["start", "end"],
    "external_gateway_info": ["network_id", "enable_snat", "external_fixed_ips"],
    "binding:profile": ["host"],
}
# A valid item for each: the wrong value replaces one key of it.
GOOD_ITEM: dict[str, Callable[[World], dict[str, Any]]] = {
    "fixed_ips": lambda w: {"subnet_id": w.subnet, "ip_address": "10.1.0.40"},
    "allowed_address_pairs": lambda w: {"ip_address": "10.1.0.41",
                                        "mac_address": "fa:16:3e:00:00:01"},
    "extra_dhcp_opts": lambda w: {"opt_name": "mtu", "opt_value": "1400", "ip_version": 4},
    "host_routes": lambda w: {"destination": "10.50.0.0/24", "nexthop": "10.1.0.9"},
    "routes": lambda w: {"destination": "10.50.0.0/24", "nexthop": "10.1.0.9"},
    "allocation_pools": lambda w: {"start": "10.2.0.10", "end": "10.2.0.20"},
    "external_gateway_info": lambda w: {"network_id": w.public, "enable_snat": True},
    "binding:profile": lambda w: {"host": "compute1"},
}
SINGLE = {"external_gateway_info", "binding:profile"}  # an object, not a list of them


@dataclass
class World:
    """One of each resource to update, and what a valid create body needs."""

    public: str
    network: str
    subnet: str
    port: str
    router: str
    floatingip: str
    security_group: str
    subnetpool: str
    agent: str
    metering_label: str
    failures: list[str] = field(default_factory=list)

    def target(self, resource: str) -> str:
        target: str = getattr(self, resource)
        return target

    def base(self, resource: str) -> dict[str, Any]:
        return {
            "network": {"name": "fuzz"},
            "subnet": {"network_id": self.network, "ip_version": 4, "cidr": "10.2.0.0/24"},
            "port": {"network_id": self.network},
            "router": {"name": "fuzz"},
            "floatingip": {"floating_network_id": self.public},
            "security_group": {"name": "fuzz"},
            "security_group_rule": {"security_group_id": self.security_group,
                                    "direction": "ingress"},
            "subnetpool": {"name": "fuzz", "prefixes": ["10.100.0.0/16"]},
            "metering_label": {"name": "fuzz"},
            "metering_label_rule": {"metering_label_id": self.metering_label,
                                    "direction": "ingress", "remote_ip_prefix": "10.3.0.0/24"},
        }[resource]


@pytest.fixture
def world(admin: Neutron) -> World:
    public = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]["id"]
    network = admin.create("networks", "network", name="target")
    subnet = admin.create("subnets", "subnet", network_id=network["id"], ip_version=4,
                          cidr="10.1.0.0/24")
    port = admin.create("ports", "port", network_id=network["id"])
    router = admin.create("routers", "router", name="target",
                          external_gateway_info={"network_id": public})
    admin.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
             {"subnet_id": subnet["id"]})
    fip = admin.create("floatingips", "floatingip", floating_network_id=public)
    group = admin.create("security-groups", "security_group", name="target")
    pool = admin.create("subnetpools", "subnetpool", name="target",
                        prefixes=["10.200.0.0/16"])
    agent = admin.ok("GET", "/v2.0/agents")["agents"][0]["id"]
    label = admin.create("metering/metering-labels", "metering_label", name="target")
    return World(public, network["id"], subnet["id"], port["id"], router["id"], fip["id"],
                 group["id"], pool["id"], agent, label["id"])


def _send(admin: Neutron, world: World, resource: str, collection: str, create: bool,
          fields: dict[str, Any]) -> None:
    if create:
        path, method = f"/v2.0/{collection}", "POST"
    else:
        path, method = f"/v2.0/{collection}/{world.target(resource)}", "PUT"
    response = admin.client.request(method, f"/networking{path}", json={resource: fields},
                                    headers={"X-Auth-Token": admin.token})
    admin.sent += 1
    if response.status_code >= 500 or (response.status_code >= 400 and set(
            response.json().get("NeutronError", {})) != {"type", "message", "detail"}):
        world.failures.append(f"{method} {path} {fields!r}: {response.status_code} "
                              f"{response.text[:200]}")
        return
    if create and response.status_code == 201:
        # A wrong type that is a valid value after all (a name of "x"): undo it, so that
        # quotas and overlaps stay as they were for the next request.
        created = response.json()[resource]["id"]
        admin.ok("DELETE", f"/v2.0/{collection}/{created}", status=204)
    if resource == "agent":
        admin.ok("PUT", path, {"agent": {"admin_state_up": True}})


def _variants(world: World, name: str) -> list[Any]:
    """Every wrong value for the attribute, then inside its items."""
    variants = list(WRONG)
    if name in NESTED:
        good = GOOD_ITEM[name](world)
        for key in NESTED[name]:
            for wrong in WRONG:
                item = {**good, key: wrong}
                variants.append(item if name in SINGLE else [item])
        if name not in SINGLE:
            variants += [[wrong] for wrong in WRONG]
    return variants


@pytest.mark.timeout(600)
@pytest.mark.parametrize("resource", sorted(TABLE))
def test_no_wrong_type_is_a_5xx(admin: Neutron, world: World, resource: str) -> None:
    collection, on_create, on_update = TABLE[resource]
    for create, names in ((True, on_create), (False, on_update)):
        for name in names:
            base = world.base(resource) if create else {}
            for wrong in _variants(world, name):
                _send(admin, world, resource, collection, create, {**base, name: wrong})
    # The whole body of the resource, and the resource's key, of every wrong type.
    for wrong in WRONG:
        for body in (wrong, {resource: wrong}):
            paths = [("POST", f"/v2.0/{collection}")] if on_create else []
            if on_update:
                paths.append(("PUT", f"/v2.0/{collection}/{world.target(resource)}"))
            for method, path in paths:
                response = admin.client.request(method, f"/networking{path}", json=body,
                                                headers={"X-Auth-Token": admin.token})
                admin.sent += 1
                # {"network": {}} is a valid create and a valid (empty) update.
                if response.status_code >= 500 or (
                        response.status_code < 400 and body != {resource: {}}):
                    world.failures.append(f"{method} {path} {body!r}: "
                                          f"{response.status_code} {response.text[:200]}")
                elif response.status_code == 201:
                    created = response.json()[resource]["id"]
                    admin.ok("DELETE", f"/v2.0/{collection}/{created}", status=204)
    assert not world.failures, "\n".join(world.failures[:40])
    print(f"{resource}: {admin.sent} requests")


@pytest.mark.parametrize("resource", sorted(TABLE))
def test_the_table_covers_every_attribute(resource: str) -> None:
    _, on_create, on_update = TABLE[resource]
    spec = attributes.RESOURCES[resource]
    assert set(on_create) == {n for n, a in spec.items() if a.post}
    assert set(on_update) == {n for n, a in spec.items() if a.put}


QUOTAS = ["network", "subnet", "port", "router", "floatingip", "security_group",
          "security_group_rule", "rbac_policy", "subnetpool", "check_limit"]


def test_no_wrong_quota_is_a_5xx(admin: Neutron, world: World) -> None:
    project = "0123456789abcdef0123456789abcdef"
    for name in QUOTAS:
        for wrong in [*WRONG, 2**31 - 1, -2]:
            admin.call("PUT", f"/v2.0/quotas/{project}", {"quota": {name: wrong}})
    for wrong in WRONG:
        admin.call("PUT", f"/v2.0/quotas/{project}", {"quota": wrong})
        admin.call("PUT", f"/v2.0/quotas/{project}", wrong)


def test_no_wrong_tag_is_a_5xx(admin: Neutron, world: World) -> None:
    for collection, target in (("networks", world.network), ("ports", world.port),
                               ("routers", world.router), ("subnets", world.subnet),
                               ("floatingips", world.floatingip),
                               ("security-groups", world.security_group),
                               ("subnetpools", world.subnetpool)):
        for wrong in WRONG:
            admin.call("PUT", f"/v2.0/{collection}/{target}/tags", {"tags": wrong})
            admin.call("PUT", f"/v2.0/{collection}/{target}/tags", {"tags": [wrong]})
            admin.call("PUT", f"/v2.0/{collection}/{target}/tags", wrong)
        for tag in ("x" * 256, "a,b", "%20", "t"):
            admin.call("PUT", f"/v2.0/{collection}/{target}/tags/{tag}")


def test_no_wrong_interface_body_is_a_5xx(admin: Neutron, world: World) -> None:
    for action in ("add_router_interface", "remove_router_interface"):
        path = f"/v2.0/routers/{world.router}/{action}"
        for wrong in WRONG:
            admin.call("PUT", path, wrong)
            admin.call("PUT", path, {"subnet_id": wrong})
            admin.call("PUT", path, {"port_id": wrong})
            admin.call("PUT", path, {"port_id": world.port, "subnet_id": wrong})


# -- the messages, as neutron words them ------------------------------------------------------

BIG = 2**40  # past every 32-bit column, short of what the request path itself refuses


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: Callable[[World], Any]
    kind: str
    message: Callable[[World], str]


CASES: dict[str, Case] = {
    "name-list": Case("POST", "/v2.0/networks", lambda w: {"network": {"name": ["a"]}},
                      "HTTPBadRequest", lambda w: "Invalid input for name. Reason: "
                      "'['a']' is not a valid string."),
    "name-dict": Case("POST", "/v2.0/networks", lambda w: {"network": {"name": {}}},
                      "HTTPBadRequest",
                      lambda w: "Invalid input for name. Reason: '{}' is not a valid string."),
    "name-null": Case("PUT", "/v2.0/networks/{network}", lambda w: {"network": {"name": None}},
                      "HTTPBadRequest", lambda w: "Invalid input for name. Reason: 'None' is "
                      "not a valid string."),
    "name-too-long": Case("POST", "/v2.0/ports",
                          lambda w: {"port": {"network_id": w.network, "name": "n" * 256}},
                          "HTTPBadRequest", lambda w: "Invalid input for name. Reason: "
                          f"'{'n' * 256}' exceeds maximum length of 255."),
    "network_id-list": Case("POST", "/v2.0/ports",
                            lambda w: {"port": {"network_id": [w.network]}}, "HTTPBadRequest",
                            lambda w: f"Invalid input for network_id. Reason: "
                            f"'['{w.network}']' is not a valid UUID."),
    "ip_version-null": Case("POST", "/v2.0/subnets", lambda w: {"subnet": {
        "network_id": w.network, "cidr": "10.3.0.0/24", "ip_version": None}}, "InvalidInput",
        lambda w: "Invalid input for operation: 'None' is not an integer."),
    "ip_version-5": Case("POST", "/v2.0/subnets", lambda w: {"subnet": {
        "network_id": w.network, "cidr": "10.3.0.0/24", "ip_version": 5}}, "HTTPBadRequest",
        lambda w: "Invalid input for ip_version. Reason: 5 is not in valid_values."),
    "admin_state_up-empty": Case("POST", "/v2.0/networks",
                                 lambda w: {"network": {"admin_state_up": ""}}, "InvalidInput",
                                 lambda w: "Invalid input for operation: '' cannot be "
                                 "converted to boolean."),
    "stateful-dict": Case("POST", "/v2.0/security-groups",
                          lambda w: {"security_group": {"name": "s", "stateful": {}}},
                          "InvalidInput", lambda w: "Invalid input for operation: '{}' cannot "
                          "be converted to boolean."),
    "segmentation_id-empty": Case("POST", "/v2.0/networks", lambda w: {"network": {
        "provider:network_type": "vlan", "provider:physical_network": "physnet1",
        "provider:segmentation_id": ""}}, "InvalidInput",
        lambda w: "Invalid input for operation: '' is not an integer."),
    "segmentation_id-big": Case("POST", "/v2.0/networks", lambda w: {"network": {
        "provider:network_type": "vlan", "provider:physical_network": "physnet1",
        "provider:segmentation_id": BIG}}, "InvalidInput",
        lambda w: "Invalid input for operation: segmentation_id out of range (1 through "
        "4094)."),
    "mtu-big": Case("POST", "/v2.0/networks", lambda w: {"network": {"mtu": BIG}},
                    "HTTPBadRequest", lambda w: f"Invalid input for mtu. Reason: '{BIG}' is too "
                    "large - must be no larger than '2147483647'."),
    "mtu-over-vxlan": Case("PUT", "/v2.0/networks/{network}",
                           lambda w: {"network": {"mtu": 1500}}, "InvalidInput",
                           lambda w: "Invalid input for operation: Requested MTU is too big, "
                           "maximum is 1450."),
    "mtu-negative": Case("POST", "/v2.0/networks", lambda w: {"network": {"mtu": -1}},
                         "HTTPBadRequest", lambda w: "Invalid input for mtu. Reason: '-1' "
                         "should be non-negative."),
    "quota-big": Case("PUT", "/v2.0/quotas/{project}", lambda w: {"quota": {"network": BIG}},
                      "HTTPBadRequest", lambda w: f"Invalid input for network. Reason: '{BIG}' "
                      "is too large - must be no larger than '2147483647'."),
    "quota-below-unlimited": Case("PUT", "/v2.0/quotas/{project}",
                                  lambda w: {"quota": {"port": -2}}, "HTTPBadRequest",
                                  lambda w: "Invalid input for port. Reason: '-2' is too small "
                                  "- must be at least '-1'."),
    "port-range-big": Case("POST", "/v2.0/security-group-rules", lambda w: {
        "security_group_rule": {"security_group_id": w.security_group, "direction": "ingress",
                                "protocol": "tcp", "port_range_min": BIG,
                                "port_range_max": BIG}}, "SecurityGroupInvalidPortValue",
        lambda w: f"Invalid value for port {BIG}."),
    "port-range-string": Case("POST", "/v2.0/security-group-rules", lambda w: {
        "security_group_rule": {"security_group_id": w.security_group, "direction": "ingress",
                                "protocol": "tcp", "port_range_min": "eighty"}},
        "SecurityGroupInvalidPortValue", lambda w: "Invalid value for port eighty."),
    "default_prefixlen-big": Case("PUT", "/v2.0/subnetpools/{subnetpool}", lambda w: {
        "subnetpool": {"default_prefixlen": BIG}}, "HTTPBadRequest",
        lambda w: f"Invalid input for default_prefixlen. Reason: '{BIG}' is too large - must "
        "be no larger than '2147483647'."),
    "default_prefixlen-out-of-bounds": Case("PUT", "/v2.0/subnetpools/{subnetpool}", lambda w: {
        "subnetpool": {"default_prefixlen": 40}}, "InvalidInput",
        lambda w: "Invalid input for operation: Illegal prefix bounds: prefixlen 40, "
        "min_prefixlen 16, max_prefixlen 32."),
    "security_groups-string": Case("PUT", "/v2.0/ports/{port}", lambda w: {"port": {
        "security_groups": "default"}}, "HTTPBadRequest",
        lambda w: "Invalid input for security_groups. Reason: 'default' is not a list."),
    "fixed_ips-bad-address": Case("PUT", "/v2.0/ports/{port}", lambda w: {"port": {
        "fixed_ips": [{"ip_address": 5}]}}, "HTTPBadRequest",
        lambda w: "Invalid input for fixed_ips. Reason: '5' is not a valid IP address."),
    "fixed_ips-empty-item": Case("PUT", "/v2.0/ports/{port}", lambda w: {"port": {
        "fixed_ips": [{}]}}, "InvalidInput",
        lambda w: "Invalid input for operation: IP allocation requires subnet_id or ip_address."),
    "gateway-of-the-other-version": Case("PUT", "/v2.0/subnets/{subnet}", lambda w: {"subnet": {
        "gateway_ip": "fe80::1"}}, "InvalidInput",
        lambda w: "Invalid input for operation: gateway_ip and IP version are incompatible."),
    "allowed_address_pairs-null": Case("PUT", "/v2.0/ports/{port}", lambda w: {"port": {
        "allowed_address_pairs": None}}, "HTTPBadRequest",
        lambda w: "Allowed address pairs must be a list."),
    "host_routes-keys": Case("PUT", "/v2.0/subnets/{subnet}", lambda w: {"subnet": {
        "host_routes": [{"destination": "10.9.0.0/24"}]}}, "HTTPBadRequest",
        lambda w: "Invalid input for host_routes. Reason: Validation of dictionary's keys "
        "failed. Expected keys: ['destination', 'nexthop'] Provided keys: ['destination']."),
    "gateway-snat-string": Case("PUT", "/v2.0/routers/{router}", lambda w: {"router": {
        "external_gateway_info": {"network_id": w.public, "enable_snat": "maybe"}}},
        "HTTPBadRequest", lambda w: "Invalid input for external_gateway_info. Reason: 'maybe' "
        "is not a valid boolean value."),
    "read-only-on-update": Case("PUT", "/v2.0/networks/{network}", lambda w: {"network": {
        "status": "DOWN"}}, "HTTPBadRequest",
        lambda w: "Cannot update read-only attribute status"),
    "not-allowed-in-post": Case("POST", "/v2.0/ports", lambda w: {"port": {
        "network_id": w.network, "status": "ACTIVE"}}, "HTTPBadRequest",
        lambda w: "Attribute 'status' not allowed in POST"),
    "required": Case("POST", "/v2.0/security-group-rules", lambda w: {
        "security_group_rule": {"direction": "ingress"}}, "HTTPBadRequest",
        lambda w: "Failed to parse request. Required attribute 'security_group_id' not "
        "specified"),
    "interface-both": Case("PUT", "/v2.0/routers/{router}/add_router_interface", lambda w: {
        "subnet_id": w.subnet, "port_id": w.port}, "BadRequest",
        lambda w: "Bad router request: Cannot specify both subnet-id and port-id."),
    "interface-not-uuid": Case("PUT", "/v2.0/routers/{router}/add_router_interface",
                               lambda w: {"port_id": ["x"]}, "BadRequest",
                               lambda w: "Bad router request: '['x']' is not a valid UUID."),
    "tags-not-strings": Case("PUT", "/v2.0/networks/{network}/tags", lambda w: {"tags": [1]},
                             "InvalidInput",
                             lambda w: "Invalid input for operation: '1' is not a valid string."),
    "agent-admin-state": Case("PUT", "/v2.0/agents/{agent}", lambda w: {"agent": {
        "admin_state_up": []}}, "InvalidInput",
        lambda w: "Invalid input for operation: '[]' cannot be converted to boolean."),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_message_is_neutrons(admin: Neutron, world: World, case: str) -> None:
    spec = CASES[case]
    path = spec.path.format(project="0123456789abcdef0123456789abcdef",
                            **{k: getattr(world, k) for k in (
                                "network", "subnet", "port", "router", "subnetpool", "agent")})
    expect_error(admin.call(spec.method, path, spec.body(world)), 400, spec.kind,
                 spec.message(world))


@pytest.mark.parametrize(("value", "stored"), [("true", True), ("0", False), (1, True),
                                                ("No", False)])
def test_booleans_are_converted_before_they_are_stored(admin: Neutron, value: Any,
                                                       stored: bool) -> None:
    created = admin.create("networks", "network", name="conv", admin_state_up=value)
    assert created["admin_state_up"] is stored
    shown = admin.ok("GET", f"/v2.0/networks/{created['id']}")["network"]
    assert shown["admin_state_up"] is stored


def test_numbers_in_strings_are_converted(admin: Neutron, world: World) -> None:
    rule = admin.create("security-group-rules", "security_group_rule",
                        security_group_id=world.security_group, direction="ingress",
                        protocol="tcp", port_range_min="22", port_range_max="22")
    assert (rule["port_range_min"], rule["port_range_max"]) == (22, 22)
    network = admin.create("networks", "network", name="mtu", mtu="1400")
    assert network["mtu"] == 1400


def test_a_valid_segmentation_id_in_use_is_409(admin: Neutron) -> None:
    body = {"provider:network_type": "vlan", "provider:physical_network": "physnet1",
            "provider:segmentation_id": 101}
    admin.create("networks", "network", name="v1", **body)
    expect_error(admin.call("POST", "/v2.0/networks", {"network": {"name": "v2", **body}}),
                 409, "VlanIdInUse", "Unable to create the network. The VLAN 101 on physical "
                 "network physnet1 is in use.")


# -- query strings, paths and raw bodies ------------------------------------------------------

COLLECTIONS = ["networks", "subnets", "ports", "routers", "floatingips", "security-groups",
               "security-group-rules", "subnetpools", "agents", "quotas", "extensions",
               "availability_zones", "metering/metering-labels",
               "metering/metering-label-rules", "service-providers"]
QUERY_KEYS = ["limit", "marker", "sort_key", "sort_dir", "page_reverse", "fields", "name",
              "id", "admin_state_up", "tags", "tags-any", "not-tags", "not-tags-any",
              "device_id", "network_id", "fixed_ips", "mtu", "shared", "status"]
QUERY_VALUES = ["", "x", "[", "-1", "0", str(2**64), "1e999", "true", "None", "a" * 5000]


def test_no_query_string_is_a_5xx(admin: Neutron, world: World) -> None:
    for collection in COLLECTIONS:
        for key in QUERY_KEYS:
            for value in QUERY_VALUES:
                admin.call("GET", f"/v2.0/{collection}?{key}={value}")
        admin.call("GET", f"/v2.0/{collection}?sort_key=name&sort_key=id&sort_dir=asc")
        admin.call("GET", f"/v2.0/{collection}?limit=1&page_reverse=True")


def test_availability_zones_page_by_name(admin: Neutron) -> None:
    first = admin.ok("GET", "/v2.0/availability_zones?limit=1")
    assert len(first["availability_zones"]) == 1
    marker = first["availability_zones"][0]["name"]
    assert any(f"marker={marker}" in link["href"]
               for link in first["availability_zones_links"])


def test_no_path_or_method_is_a_5xx(admin: Neutron, world: World) -> None:
    for collection in COLLECTIONS:
        for ident in ("x", "a" * 300, "00000000-0000-0000-0000-000000000000", "%C3%A9"):
            for method in ("GET", "PUT", "DELETE", "POST"):
                response = admin.client.request(method, f"/networking/v2.0/{collection}/{ident}",
                                                json={}, headers={"X-Auth-Token": admin.token})
                admin.sent += 1
                # 501 is stacklab's answer for what it does not serve, by design.
                assert response.status_code < 500 or response.status_code == 501, \
                    f"{method} {collection}/{ident}: {response.text}"


def test_a_network_s_type_and_physical_network_never_change(admin: Neutron) -> None:
    network = admin.create("networks", "network", name="p", **{
        "provider:network_type": "vlan", "provider:physical_network": "physnet1",
        "provider:segmentation_id": 120})
    message = ("Invalid input for operation: Plugin does not support updating the following "
               "provider network attributes: provider:physical_network, provider:network_type")
    for change in ({"provider:network_type": "vxlan"},
                   {"provider:physical_network": "physnet2"}):
        expect_error(admin.call("PUT", f"/v2.0/networks/{network['id']}",
                                {"network": change}), 400, "InvalidInput", message)
    # The same values are no change (heat sends every property it manages).
    same = admin.call("PUT", f"/v2.0/networks/{network['id']}", {"network": {
        "provider:network_type": "vlan", "provider:physical_network": "physnet1",
        "name": "renamed"}})
    assert same.status_code == 200, same.text
    assert same.json()["network"]["provider:network_type"] == "vlan"


def test_a_vlan_network_s_segmentation_id_may_change(admin: Neutron) -> None:
    network = admin.create("networks", "network", name="p", **{
        "provider:network_type": "vlan", "provider:physical_network": "physnet1",
        "provider:segmentation_id": 130})
    admin.create("networks", "network", name="q", **{
        "provider:network_type": "vlan", "provider:physical_network": "physnet1",
        "provider:segmentation_id": 131})
    moved = admin.call("PUT", f"/v2.0/networks/{network['id']}",
                       {"network": {"provider:segmentation_id": 132}})
    assert moved.status_code == 200, moved.text
    assert moved.json()["network"]["provider:segmentation_id"] == 132
    expect_error(admin.call("PUT", f"/v2.0/networks/{network['id']}",
                            {"network": {"provider:segmentation_id": 131}}),
                 409, "VlanIdInUse", "Unable to create the network. The VLAN 131 on physical "
                 "network physnet1 is in use.")
    flat = admin.create("networks", "network", name="f", **{
        "provider:network_type": "flat", "provider:physical_network": "physnet2"})
    expect_error(admin.call("PUT", f"/v2.0/networks/{flat['id']}",
                            {"network": {"provider:segmentation_id": 5}}),
                 400, "InvalidInput", "Invalid input for operation: segmentation_id specified "
                 "for flat provider network.")
