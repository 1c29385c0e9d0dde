"""The generic controller's routes: what ``serve`` declares for a resource, member actions
(a router's interfaces) and the routes ``guarded`` by a rule on the caller's own project
(agents), each with neutron's order of checks and its words."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.network.api import api
from unit.network.neutron_client import Neutron, Tenant, expect_error, member

MISSING = "7c1c6ab9-3a52-4a8e-9d2b-1f0c2b0f4e11"


def _routes(collection: str) -> set[tuple[str, str]]:
    base = f"/v2.0/{collection}"
    return {(op.method, op.path.replace(base, "")) for op in api.operations
            if op.path == base or op.path.startswith(base + "/{")}


def test_serve_declares_the_writes_a_resource_gives_steps_for() -> None:
    crud = {("GET", ""), ("GET", "/{id}"), ("POST", ""), ("PUT", "/{id}"), ("DELETE", "/{id}")}
    assert crud <= _routes("routers")
    assert crud <= _routes("floatingips")
    assert crud <= _routes("security-groups")
    # A rule is created and deleted, never updated (neutron has no PUT for it).
    assert _routes("security-group-rules") == crud - {("PUT", "/{id}")}
    assert {("PUT", "/{id}/add_router_interface"),
            ("PUT", "/{id}/remove_router_interface")} <= _routes("routers")


def _router_with_subnet(tenant: Tenant) -> tuple[dict[str, Any], dict[str, Any]]:
    neutron = tenant.neutron
    router = neutron.create("routers", "router", name="r")
    net = neutron.create("networks", "network", name="n")
    subnet = neutron.create("subnets", "subnet", network_id=net["id"], cidr="10.42.0.0/24",
                            ip_version=4)
    return router, subnet


def _interface(neutron: Neutron, router_id: str, action: str, body: Any) -> Any:
    return neutron.call("PUT", f"/v2.0/routers/{router_id}/{action}", body)


def test_a_member_action_checks_the_body_before_it_finds_the_router(admin: Neutron) -> None:
    expect_error(_interface(admin, MISSING, "add_router_interface", {}), 400, "BadRequest",
                 "Bad router request: Either subnet_id or port_id must be specified.")
    expect_error(_interface(admin, MISSING, "add_router_interface", {"subnet_id": MISSING}),
                 404, "RouterNotFound", f"Router {MISSING} could not be found")


def test_a_member_action_on_another_project_s_router_finds_none(
        tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    router, subnet = _router_with_subnet(a)
    for action in ("add_router_interface", "remove_router_interface"):
        expect_error(_interface(b.neutron, router["id"], action, {"subnet_id": subnet["id"]}),
                     404, "RouterNotFound", f"Router {router['id']} could not be found")


def test_a_member_action_asks_its_own_rule_of_the_router(client: TestClient,
                                                          admin: Neutron) -> None:
    # A reader of the router's project sees it (get_router) but may not change it.
    reader = member(client, admin, "readers", role="reader")
    router = admin.create("routers", "router", name="r", project_id=reader.project_id)
    reader.neutron.ok("GET", f"/v2.0/routers/{router['id']}")
    expect_error(_interface(reader.neutron, router["id"], "add_router_interface",
                            {"subnet_id": MISSING}),
                 403, "PolicyNotAuthorized", "rule:add_router_interface is disallowed by policy")


def test_a_member_action_answers_what_the_action_did(
        tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    router, subnet = _router_with_subnet(a)
    added = a.neutron.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                         {"subnet_id": subnet["id"]})
    assert (added["id"], added["subnet_id"], added["subnet_ids"], added["project_id"]) == (
        router["id"], subnet["id"], [subnet["id"]], a.project_id)
    port = a.neutron.ok("GET", f"/v2.0/ports/{added['port_id']}")["port"]
    assert (port["device_id"], port["fixed_ips"][0]["ip_address"]) == (
        router["id"], subnet["gateway_ip"])
    removed = a.neutron.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface",
                           {"subnet_id": subnet["id"]})
    assert removed["port_id"] == added["port_id"]
    expect_error(a.neutron.call("GET", f"/v2.0/ports/{added['port_id']}"), 404,
                 "PortNotFound")


def test_a_guarded_route_asks_its_rule_before_anything_else(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    denied = {"GET": "get_agent", "PUT": "update_agent", "DELETE": "delete_agent"}
    for method, rule in denied.items():
        # Neither a missing agent nor a body that is no agent's answers before the rule.
        expect_error(a.neutron.call(method, f"/v2.0/agents/{MISSING}", {"x": 1}), 403,
                     "PolicyNotAuthorized", f"rule:{rule} is disallowed by policy")
    expect_error(a.neutron.call("GET", f"/v2.0/agents/{MISSING}/l3-routers"), 403,
                 "PolicyNotAuthorized", "rule:get_l3-routers is disallowed by policy")
    expect_error(admin.call("GET", f"/v2.0/agents/{MISSING}"), 404, "AgentNotFound",
                 f"Agent {MISSING} could not be found.")
    # The list leaves out what the rule hides rather than refusing.
    assert a.neutron.ok("GET", "/v2.0/agents") == {"agents": []}
    assert admin.ok("GET", "/v2.0/agents")["agents"]


# -- bulk create -----------------------------------------------------------------------------


def test_every_created_resource_may_be_created_in_bulk() -> None:
    # serve declares one create for all: ports, networks, subnets, rules, metering...
    for collection in ("networks", "subnets", "ports", "routers", "floatingips",
                       "security-groups", "security-group-rules", "subnetpools",
                       "metering/metering-labels", "metering/metering-label-rules"):
        assert ("POST", "") in _routes(collection), collection


def _user_ports(tenant: Tenant, network_id: str) -> list[dict[str, Any]]:
    """The ports of a network but its DHCP agents' (which come and go on their own)."""
    ports = tenant.neutron.ok("GET", f"/v2.0/ports?network_id={network_id}")["ports"]
    return [p for p in ports if p["device_owner"] != "network:dhcp"]


def test_a_bulk_create_answers_201_with_every_resource_in_order(
        tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    networks = a.neutron.ok("POST", "/v2.0/networks", {"networks": [
        {"name": "n1"}, {"network": {"name": "n2", "admin_state_up": False}}]}, 201)
    assert list(networks) == ["networks"]
    assert [(n["name"], n["admin_state_up"], n["project_id"]) for n in networks["networks"]] \
        == [("n1", True, a.project_id), ("n2", False, a.project_id)]
    net = networks["networks"][0]["id"]
    subnets = a.neutron.ok("POST", "/v2.0/subnets", {"subnets": [
        {"network_id": net, "cidr": "10.1.0.0/24", "ip_version": 4},
        {"network_id": net, "cidr": "fd10::/64", "ip_version": 6}]}, 201)["subnets"]
    assert [s["cidr"] for s in subnets] == ["10.1.0.0/24", "fd10::/64"]
    ports = a.neutron.ok("POST", "/v2.0/ports", {"ports": [
        {"network_id": net, "name": f"p{n}"} for n in range(3)]}, 201)["ports"]
    # One transaction, addresses handed out in order and none twice.
    v4 = [ipaddress.ip_address(p["fixed_ips"][0]["ip_address"]) for p in ports]
    assert v4 == sorted(set(v4)) and len(v4) == 3
    assert {p["id"] for p in _user_ports(a, net)} == {p["id"] for p in ports}


def test_a_bulk_create_makes_all_or_none(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    net = a.neutron.create("networks", "network", name="n")
    a.neutron.create("subnets", "subnet", network_id=net["id"], cidr="10.2.0.0/24",
                     ip_version=4)
    # The third port asks for the address the first one takes: nothing is created.
    expect_error(a.neutron.call("POST", "/v2.0/ports", {"ports": [
        {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.2.0.9"}]},
        {"network_id": net["id"]},
        {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.2.0.9"}]}]}), 409,
        "IpAddressAlreadyAllocated")
    assert _user_ports(a, net["id"]) == []
    # A body refused by the attribute map refuses the whole request before anything.
    expect_error(a.neutron.call("POST", "/v2.0/networks", {"networks": [
        {"name": "fine"}, {"name": "bad", "admin_state_up": "maybe"}]}), 400, "InvalidInput")
    assert a.neutron.ok("GET", "/v2.0/networks?name=fine")["networks"] == []


def test_a_bulk_create_checks_each_item_s_policy_before_creating(
        tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    own = a.neutron.create("networks", "network", name="own")
    foreign = b.neutron.create("networks", "network", name="foreign")
    expect_error(a.neutron.call("POST", "/v2.0/ports", {"ports": [
        {"network_id": own["id"]}, {"network_id": foreign["id"]}]}), 404, "NetworkNotFound")
    expect_error(a.neutron.call("POST", "/v2.0/networks", {"networks": [
        {"name": "x"}, {"name": "y", "shared": True}]}), 403, "PolicyNotAuthorized")
    assert _user_ports(a, own["id"]) == []
    assert [n["name"] for n in a.neutron.ok("GET", "/v2.0/networks")["networks"]
            if n["project_id"] == a.project_id] == ["own"]


@pytest.mark.parametrize(("body", "message"), [
    ({"ports": []}, "Resources required"),
    ({"ports": {"name": "x"}}, "Object 'port' contains invalid data"),
    ({"ports": 5}, "Body contains invalid data"),
    ({"ports": ["x"]}, "Object 'port' contains invalid data"),
])
def test_a_bulk_body_that_holds_no_resources_is_refused(
        admin: Neutron, body: dict[str, Any], message: str) -> None:
    expect_error(admin.call("POST", "/v2.0/ports", body), 400, "BadRequest", message)


def test_security_group_rules_in_bulk_belong_to_their_groups(
        tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    group = a.neutron.create("security-groups", "security_group", name="g")
    rules = a.neutron.ok("POST", "/v2.0/security-group-rules", {"security_group_rules": [
        {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp",
         "port_range_min": port, "port_range_max": port} for port in (22, 80)]},
        201)["security_group_rules"]
    assert [(r["port_range_min"], r["project_id"]) for r in rules] == [
        (22, a.project_id), (80, a.project_id)]
