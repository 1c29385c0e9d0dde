"""References across projects: what a Networking body names is resolved as the caller sees it.

Three projects of members (a, b, c) and the admin. Project a owns a private network and
subnet, a port, a router with a gateway, a floating IP, a security group and a subnet pool;
b owns the same kinds of things. Every create or update of b's that names one of a's
resources answers as neutron does: not found (404, the resource's own type) for what b
cannot see, 403 for a port or subnet on a network b sees but neither owns nor shares (the
external ``public``), 400 where neutron answers 400. The controls show the same bodies work
with b's own resources, with a shared network, and for the admin, who may name anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from unit.network.neutron_client import Neutron, Tenant, expect_error


@dataclass
class Owned:
    network: str
    subnet: str
    port: str
    router: str
    gateway_port: str
    floatingip: str
    group: str
    pool: str


@dataclass
class Scene:
    admin: Neutron
    a: Tenant
    b: Tenant
    c: Tenant
    public: str
    public_subnet: str
    shared: str
    shared_subnet: str
    of_a: Owned
    of_b: Owned


def _own(tenant: Tenant, public: str, cidr: str) -> Owned:
    api = tenant.neutron
    network = api.create("networks", "network", name=f"{tenant.name}-net")
    subnet = api.create("subnets", "subnet", network_id=network["id"], ip_version=4,
                        cidr=f"{cidr}.0/24")
    port = api.create("ports", "port", network_id=network["id"],
                      fixed_ips=[{"subnet_id": subnet["id"]}])
    router = api.create("routers", "router", name=f"{tenant.name}-router",
                        external_gateway_info={"network_id": public})
    api.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
           {"subnet_id": subnet["id"]})
    fip = api.create("floatingips", "floatingip", floating_network_id=public)
    group = api.create("security-groups", "security_group", name=f"{tenant.name}-sg")
    pool = api.create("subnetpools", "subnetpool", name=f"{tenant.name}-pool",
                      prefixes=[f"{cidr.rsplit('.', 1)[0]}.128.0/20"])
    return Owned(network["id"], subnet["id"], port["id"], router["id"], "", fip["id"],
                 group["id"], pool["id"])


@pytest.fixture
def scene(admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> Scene:
    a, b, c = tenants
    public = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]["id"]
    public_subnet = admin.ok("GET", "/v2.0/subnets?name=public-subnet")["subnets"][0]["id"]
    shared = admin.create("networks", "network", name="shared", shared=True)
    shared_subnet = admin.create("subnets", "subnet", network_id=shared["id"], ip_version=4,
                                 cidr="10.30.0.0/24")
    of_a, of_b = _own(a, public, "10.10.0"), _own(b, public, "10.20.0")
    gateway = admin.ok("GET", f"/v2.0/ports?device_id={of_a.router}"
                              "&device_owner=network:router_gateway")["ports"]
    of_a.gateway_port = gateway[0]["id"]
    return Scene(admin, a, b, c, public, public_subnet, shared["id"], shared_subnet["id"],
                 of_a, of_b)


@dataclass(frozen=True)
class Check:
    """One request by ``who`` and the answer neutron gives it."""

    who: str  # "a", "b", "c" or "admin"
    method: str
    path: Callable[[Scene], str]
    body: Callable[[Scene], Any]
    status: int
    kind: str | None = None
    message: Callable[[Scene], str] | None = None


def _sg_missing(s: Scene) -> str:
    return f"Security group {s.of_a.group} does not exist"


LEAKS: dict[str, Check] = {
    # ports
    "port-on-a-private-network": Check(
        "b", "POST", lambda s: "/v2.0/ports",
        lambda s: {"port": {"network_id": s.of_a.network}}, 404, "NetworkNotFound",
        lambda s: f"Network {s.of_a.network} could not be found."),
    "port-on-the-external-network": Check(
        "b", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {"network_id": s.public}},
        403, "HTTPForbidden",
        lambda s: f"Tenant {s.b.project_id} not allowed to create port on this network"),
    "port-create-with-a-group": Check(
        "b", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {
            "network_id": s.of_b.network, "security_groups": [s.of_a.group]}},
        404, "SecurityGroupNotFound", _sg_missing),
    "port-update-with-a-group": Check(
        "b", "PUT", lambda s: f"/v2.0/ports/{s.of_b.port}",
        lambda s: {"port": {"security_groups": [s.of_a.group]}}, 404,
        "SecurityGroupNotFound", _sg_missing),
    "port-create-with-a-subnet": Check(
        "b", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {
            "network_id": s.of_b.network, "fixed_ips": [{"subnet_id": s.of_a.subnet}]}},
        404, "SubnetNotFound", lambda s: f"Subnet {s.of_a.subnet} could not be found."),
    "port-update-with-a-subnet": Check(
        "b", "PUT", lambda s: f"/v2.0/ports/{s.of_b.port}",
        lambda s: {"port": {"fixed_ips": [{"subnet_id": s.of_a.subnet}]}}, 404,
        "SubnetNotFound"),
    "port-for-another-project": Check(
        "b", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {
            "network_id": s.of_b.network, "project_id": s.a.project_id}}, 400,
        "HTTPBadRequest", lambda s: "Specifying 'project_id' or 'tenant_id' other than the "
        "authenticated project in request is not allowed for current user."),
    # subnets
    "subnet-on-a-private-network": Check(
        "b", "POST", lambda s: "/v2.0/subnets", lambda s: {"subnet": {
            "network_id": s.of_a.network, "ip_version": 4, "cidr": "10.99.0.0/24"}},
        404, "NetworkNotFound"),
    "subnet-on-the-external-network": Check(
        "b", "POST", lambda s: "/v2.0/subnets", lambda s: {"subnet": {
            "network_id": s.public, "ip_version": 4, "cidr": "10.99.0.0/24"}},
        403, "HTTPForbidden",
        lambda s: f"Tenant {s.b.project_id} not allowed to create subnet on this network"),
    "subnet-from-a-pool": Check(
        "b", "POST", lambda s: "/v2.0/subnets", lambda s: {"subnet": {
            "network_id": s.of_b.network, "ip_version": 4, "subnetpool_id": s.of_a.pool}},
        404, "SubnetPoolNotFound"),
    # routers
    "interface-with-a-port": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}/add_router_interface",
        lambda s: {"port_id": s.of_a.port}, 404, "PortNotFound",
        lambda s: f"Port {s.of_a.port} could not be found."),
    "interface-with-a-subnet": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}/add_router_interface",
        lambda s: {"subnet_id": s.of_a.subnet}, 404, "SubnetNotFound"),
    "interface-removal-by-a-subnet": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}/remove_router_interface",
        lambda s: {"subnet_id": s.of_a.subnet}, 404, "SubnetNotFound"),
    "interface-of-c-with-b-port": Check(
        "c", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}/add_router_interface",
        lambda s: {"port_id": s.of_b.port}, 404, "RouterNotFound"),
    "gateway-create-on-a-private-network": Check(
        "b", "POST", lambda s: "/v2.0/routers", lambda s: {"router": {
            "external_gateway_info": {"network_id": s.of_a.network}}}, 404,
        "NetworkNotFound"),
    "gateway-update-on-a-private-network": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}", lambda s: {"router": {
            "external_gateway_info": {"network_id": s.of_a.network}}}, 404,
        "NetworkNotFound"),
    "gateway-with-a-subnet": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}", lambda s: {"router": {
            "external_gateway_info": {"network_id": s.public, "external_fixed_ips": [
                {"subnet_id": s.of_a.subnet}]}}}, 403, "PolicyNotAuthorized"),
    # floating IPs
    "floatingip-on-a-private-network": Check(
        "b", "POST", lambda s: "/v2.0/floatingips",
        lambda s: {"floatingip": {"floating_network_id": s.of_a.network}}, 404,
        "NetworkNotFound"),
    "floatingip-create-with-a-port": Check(
        "b", "POST", lambda s: "/v2.0/floatingips", lambda s: {"floatingip": {
            "floating_network_id": s.public, "port_id": s.of_a.port}}, 404, "PortNotFound"),
    "floatingip-update-with-a-port": Check(
        "b", "PUT", lambda s: f"/v2.0/floatingips/{s.of_b.floatingip}",
        lambda s: {"floatingip": {"port_id": s.of_a.port}}, 404, "PortNotFound"),
    "floatingip-with-a-subnet": Check(
        "b", "POST", lambda s: "/v2.0/floatingips", lambda s: {"floatingip": {
            "floating_network_id": s.public, "subnet_id": s.of_a.subnet}}, 404,
        "SubnetNotFound"),
    # security group rules
    "rule-with-a-remote-group": Check(
        "b", "POST", lambda s: "/v2.0/security-group-rules", lambda s: {
            "security_group_rule": {"security_group_id": s.of_b.group, "direction": "ingress",
                                    "remote_group_id": s.of_a.group}}, 404,
        "SecurityGroupNotFound", _sg_missing),
    "rule-in-a-group": Check(
        "b", "POST", lambda s: "/v2.0/security-group-rules", lambda s: {
            "security_group_rule": {"security_group_id": s.of_a.group,
                                    "direction": "ingress"}}, 404, "SecurityGroupNotFound"),
    # tags: the look-up is the resource's own
    "tags-of-a-network": Check(
        "b", "PUT", lambda s: f"/v2.0/networks/{s.of_a.network}/tags/x", lambda s: None,
        404, "NetworkNotFound"),
    "tags-of-a-port": Check(
        "b", "PUT", lambda s: f"/v2.0/ports/{s.of_a.port}/tags/x", lambda s: None, 404,
        "PortNotFound"),
    "tags-of-a-router-gateway-port": Check(
        "b", "PUT", lambda s: f"/v2.0/ports/{s.of_a.gateway_port}/tags", lambda s: {
            "tags": ["mine"]}, 404, "PortNotFound"),
    "tags-of-a-router": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_a.router}/tags/x", lambda s: None, 404,
        "RouterNotFound"),
    "tags-of-a-floatingip": Check(
        "b", "DELETE", lambda s: f"/v2.0/floatingips/{s.of_a.floatingip}/tags",
        lambda s: None, 404, "FloatingIPNotFound"),
    "tags-of-a-group": Check(
        "b", "PUT", lambda s: f"/v2.0/security-groups/{s.of_a.group}/tags/x", lambda s: None,
        404, "SecurityGroupNotFound"),
    "tags-of-a-pool": Check(
        "b", "PUT", lambda s: f"/v2.0/subnetpools/{s.of_a.pool}/tags/x", lambda s: None, 404,
        "SubnetPoolNotFound"),
}

CONTROLS: dict[str, Check] = {
    "port-with-own-group-and-subnet": Check(
        "b", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {
            "network_id": s.of_b.network, "security_groups": [s.of_b.group],
            "fixed_ips": [{"subnet_id": s.of_b.subnet}]}}, 201),
    "port-on-a-shared-network": Check(
        "b", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {
            "network_id": s.shared, "fixed_ips": [{"subnet_id": s.shared_subnet}]}}, 201),
    "interface-with-own-port": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}/add_router_interface",
        lambda s: {"port_id": s.of_b.port}, 400, "BadRequest"),  # same subnet: overlap
    "interface-on-a-shared-subnet": Check(
        "b", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}/add_router_interface",
        lambda s: {"subnet_id": s.shared_subnet}, 200),
    "rule-with-own-remote-group": Check(
        "b", "POST", lambda s: "/v2.0/security-group-rules", lambda s: {
            "security_group_rule": {"security_group_id": s.of_b.group, "direction": "ingress",
                                    "remote_group_id": s.of_b.group}}, 201),
    "floatingip-with-own-port": Check(
        "b", "PUT", lambda s: f"/v2.0/floatingips/{s.of_b.floatingip}",
        lambda s: {"floatingip": {"port_id": s.of_b.port}}, 200),
    "admin-port-for-b-with-a-group": Check(
        "admin", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {
            "network_id": s.of_b.network, "project_id": s.b.project_id,
            "security_groups": [s.of_a.group]}}, 201),
    "admin-interface-with-a-port": Check(
        "admin", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}/add_router_interface",
        lambda s: {"port_id": s.of_a.port}, 200),
    "admin-gateway-with-a-subnet-of-public": Check(
        "admin", "PUT", lambda s: f"/v2.0/routers/{s.of_b.router}", lambda s: {"router": {
            "external_gateway_info": {"network_id": s.public, "external_fixed_ips": [
                {"subnet_id": s.public_subnet}]}}}, 200),
    "admin-rule-with-a-remote-group": Check(
        "admin", "POST", lambda s: "/v2.0/security-group-rules", lambda s: {
            "security_group_rule": {"security_group_id": s.of_b.group, "direction": "ingress",
                                    "remote_group_id": s.of_a.group}}, 201),
    "admin-port-on-the-external-network": Check(
        "admin", "POST", lambda s: "/v2.0/ports", lambda s: {"port": {
            "network_id": s.public}}, 201),
}


def _run(scene: Scene, check: Check) -> None:
    api = scene.admin if check.who == "admin" else getattr(scene, check.who).neutron
    response = api.call(check.method, check.path(scene), check.body(scene))
    if check.status >= 400:
        expect_error(response, check.status, check.kind or "",
                     check.message(scene) if check.message else None)
    else:
        assert response.status_code == check.status, response.text


@pytest.mark.parametrize("name", sorted(LEAKS))
def test_a_reference_out_of_reach_is_refused(scene: Scene, name: str) -> None:
    _run(scene, LEAKS[name])


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_a_reference_within_reach_is_taken(scene: Scene, name: str) -> None:
    _run(scene, CONTROLS[name])


def test_a_refused_port_is_left_as_it_was(scene: Scene) -> None:
    before = scene.b.neutron.ok("GET", f"/v2.0/ports/{scene.of_b.port}")["port"]
    for body in ({"security_groups": [scene.of_a.group]},
                 {"fixed_ips": [{"subnet_id": scene.of_a.subnet}]}):
        assert scene.b.neutron.call("PUT", f"/v2.0/ports/{scene.of_b.port}",
                                    {"port": body}).status_code == 404
    after = scene.b.neutron.ok("GET", f"/v2.0/ports/{scene.of_b.port}")["port"]
    assert (after["security_groups"], after["fixed_ips"]) == (before["security_groups"],
                                                              before["fixed_ips"])
    port = scene.a.neutron.ok("GET", f"/v2.0/ports/{scene.of_a.port}")["port"]
    assert port["device_id"] == ""


def test_a_network_others_use_stays_shared(scene: Scene) -> None:
    port = scene.b.neutron.create("ports", "port", network_id=scene.shared)
    unshare = {"network": {"shared": False}}
    expect_error(scene.admin.call("PUT", f"/v2.0/networks/{scene.shared}", unshare), 409,
                 "InvalidSharedSetting", f"Unable to reconfigure sharing settings for network "
                 f"{scene.shared}. Multiple tenants are using it.")
    scene.b.neutron.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    shown = scene.admin.ok("PUT", f"/v2.0/networks/{scene.shared}", unshare)["network"]
    assert shown["shared"] is False


@pytest.mark.parametrize(("path", "body", "kind", "what"), [
    ("/v2.0/routers", lambda i: {"router": {"name": "r", "flavor_id": i}}, "FlavorNotFound",
     "Flavor"),
    ("/v2.0/floatingips", None, "QosPolicyNotFound", "QoS policy"),
    ("/v2.0/subnetpools", lambda i: {"subnetpool": {"prefixes": ["10.60.0.0/16"],
                                                    "address_scope_id": i}},
     "AddressScopeNotFound", "Address scope"),
])
def test_a_reference_to_a_kind_not_served_is_not_found(
        scene: Scene, path: str, body: Callable[[str], Any] | None, kind: str,
        what: str) -> None:
    wanted = "5f0e2b6a-6f5e-4a51-9a6c-0d7b8c1e2f3a"
    payload = body(wanted) if body else {"floatingip": {"floating_network_id": scene.public,
                                                        "qos_policy_id": wanted}}
    expect_error(scene.b.neutron.call("POST", path, payload), 404, kind,
                 f"{what} {wanted} could not be found.")


def test_a_list_by_address_shows_only_what_the_caller_may_see(scene: Scene) -> None:
    # b's network has the same range as a's: both projects hold a port at the same address.
    a_port = scene.a.neutron.ok("GET", f"/v2.0/ports/{scene.of_a.port}")["port"]
    address = a_port["fixed_ips"][0]["ip_address"]
    network = scene.b.neutron.create("networks", "network", name="same-range")
    subnet = scene.b.neutron.create("subnets", "subnet", network_id=network["id"],
                                    ip_version=4, cidr="10.10.0.0/24")
    mine = scene.b.neutron.create("ports", "port", network_id=network["id"],
                                  fixed_ips=[{"ip_address": address}])
    for query in (f"fixed_ips=ip_address={address}", "fixed_ips=ip_address_substr=10.10.0.",
                  f"fixed_ips=subnet_id={scene.of_a.subnet}"):
        listed = scene.b.neutron.ok("GET", f"/v2.0/ports?{query}")["ports"]
        assert {p["project_id"] for p in listed} <= {scene.b.project_id}, query
        assert scene.of_a.port not in {p["id"] for p in listed}, query
    assert [p["id"] for p in scene.b.neutron.ok(
        "GET", f"/v2.0/ports?fixed_ips=ip_address={address}")["ports"]] == [mine["id"]]
    assert subnet["id"] != scene.of_a.subnet
    # The admin sees both.
    both = scene.admin.ok("GET", f"/v2.0/ports?fixed_ips=ip_address={address}")["ports"]
    assert {scene.of_a.port, mine["id"]} <= {p["id"] for p in both}
