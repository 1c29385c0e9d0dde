"""auto-allocated-topology over HTTP: the lab's default external network and default subnet
pool let a project get its network, router and subnet once; a dry run only checks; delete
takes it all down (neutron's AutoAllocatedTopologyMixin)."""

from __future__ import annotations

from typing import Any

from unit.network.neutron_client import Neutron, Tenant, expect_error

PATH = "/v2.0/auto-allocated-topology"


def _public(admin: Neutron) -> dict[str, Any]:
    network: dict[str, Any] = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]
    return network


def test_the_lab_has_a_default_external_network_and_pool(admin: Neutron) -> None:
    public = _public(admin)
    assert (public["router:external"], public["is_default"]) == (True, True)
    pools = admin.ok("GET", "/v2.0/subnetpools?is_default=true")["subnetpools"]
    assert [(p["ip_version"], p["shared"]) for p in pools] == [(4, True)]
    extensions = {e["alias"] for e in admin.ok("GET", "/v2.0/extensions")["extensions"]}
    assert "auto-allocated-topology" in extensions


def test_a_project_gets_its_topology_once_and_deletes_it(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    dry = a.neutron.ok("GET", f"{PATH}/{a.project_id}?fields=dry-run")
    assert dry == {"auto_allocated_topology": {"id": "dry-run=pass",
                                               "tenant_id": a.project_id}}
    assert a.neutron.ok("GET", "/v2.0/networks?shared=false&tenant_id=" + a.project_id)[
        "networks"] == []  # a dry run makes nothing
    made = a.neutron.ok("GET", f"{PATH}/{a.project_id}")["auto_allocated_topology"]
    assert made["tenant_id"] == a.project_id
    net = a.neutron.ok("GET", f"/v2.0/networks/{made['id']}")["network"]
    assert (net["name"], net["admin_state_up"], net["project_id"]) == (
        "auto_allocated_network", True, a.project_id)
    assert "is_default" not in net  # an internal network has none
    subnet = a.neutron.ok("GET", f"/v2.0/subnets/{net['subnets'][0]}")["subnet"]
    assert subnet["name"] == "auto_allocated_subnet_v4"
    assert subnet["cidr"].startswith("10.0.") and subnet["cidr"].endswith("/26")
    routers = a.neutron.ok("GET", "/v2.0/routers")["routers"]
    assert [r["name"] for r in routers] == ["auto_allocated_router"]
    assert routers[0]["external_gateway_info"]["network_id"] == _public(admin)["id"]
    interfaces = a.neutron.ok("GET", f"/v2.0/ports?device_id={routers[0]['id']}"
                                     f"&network_id={net['id']}")["ports"]
    assert [p["fixed_ips"][0]["subnet_id"] for p in interfaces] == [subnet["id"]]
    # Asked again (also as "None", the caller's project): the same network, nothing new.
    assert a.neutron.ok("GET", f"{PATH}/None")["auto_allocated_topology"]["id"] == made["id"]
    assert len(a.neutron.ok("GET", "/v2.0/routers")["routers"]) == 1
    a.neutron.ok("DELETE", f"{PATH}/{a.project_id}", status=204)
    for collection in ("networks", "subnets", "routers"):
        assert a.neutron.ok("GET", f"/v2.0/{collection}?tenant_id={a.project_id}")[
            collection] == []
    a.neutron.ok("DELETE", f"{PATH}/{a.project_id}", status=204)  # nothing left: still 204
    # And a new one can be made after.
    again = a.neutron.ok("GET", f"{PATH}/{a.project_id}")["auto_allocated_topology"]
    assert again["id"] != made["id"]


def test_another_project_s_topology_is_the_admin_s_business(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    expect_error(b.neutron.call("GET", f"{PATH}/{a.project_id}"), 403, "NotAuthorized",
                 "Not authorized.")
    expect_error(b.neutron.call("DELETE", f"{PATH}/{a.project_id}"), 403, "NotAuthorized")
    made = admin.ok("GET", f"{PATH}/{a.project_id}")["auto_allocated_topology"]
    assert a.neutron.ok("GET", f"{PATH}/{a.project_id}")["auto_allocated_topology"] == made
    expect_error(a.neutron.call("GET", f"{PATH}/{a.project_id}?fields=id"), 400,
                 "BadRequest", "Bad auto_allocate request: Unrecognized field.")


def test_without_a_default_external_network_it_is_a_deployment_error(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    public = _public(admin)
    admin.ok("PUT", f"/v2.0/networks/{public['id']}", {"network": {"is_default": False}})
    for query in ("?fields=dry-run", ""):
        expect_error(a.neutron.call("GET", f"{PATH}/{a.project_id}{query}"), 409,
                     "AutoAllocationFailure",
                     "Deployment error: No default router:external network.")
    assert a.neutron.ok("GET", f"/v2.0/networks?tenant_id={a.project_id}")["networks"] == []


def test_one_default_external_network_and_only_the_admin_sets_it(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    public = _public(admin)
    expect_error(admin.call("POST", "/v2.0/networks", {"network": {
        "name": "ext2", "router:external": True, "is_default": True}}), 409,
        "DefaultExternalNetworkExists",
        f"A default external network already exists: {public['id']}.")
    other = admin.create("networks", "network", name="ext2", **{"router:external": True})
    assert other["is_default"] is False
    expect_error(admin.call("PUT", f"/v2.0/networks/{other['id']}", {"network": {
        "is_default": True}}), 409, "DefaultExternalNetworkExists")
    expect_error(a.neutron.call("POST", "/v2.0/networks", {"network": {
        "name": "mine", "is_default": True}}), 403, "PolicyNotAuthorized")
    assert "is_default" not in a.neutron.create("networks", "network", name="plain",
                                                is_default=False)
