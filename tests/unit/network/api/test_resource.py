"""The generic controller's routes: what ``serve`` declares for a resource, member actions
(a router's interfaces) and the routes ``guarded`` by a rule on the caller's own project
(agents), each with neutron's order of checks and its words."""

from __future__ import annotations

from typing import Any

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
