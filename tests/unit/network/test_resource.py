"""The generic list and show of ports, networks, subnets and security groups: filters on any
attribute, tags, sorting and pages cut in SQL, with neutron's links and messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from stacklab.network.api import ports as ports_api
from stacklab.network.api.views import (
    FLOATINGIP_ATTRIBUTES,
    NETWORK_ATTRIBUTES,
    PORT_ATTRIBUTES,
    ROUTER_ATTRIBUTES,
    RULE_ATTRIBUTES,
    SECURITY_GROUP_ATTRIBUTES,
    SUBNET_ATTRIBUTES,
    SUBNETPOOL_ATTRIBUTES,
)
from unit.network.neutron_client import Neutron, Tenant, expect_error


@pytest.fixture
def five(admin: Neutron) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """A network with a subnet and five ports p0..p4 (odd ones bound, tagged in turn)."""
    net = admin.create("networks", "network", name="five")
    subnet = admin.create("subnets", "subnet", network_id=net["id"], cidr="10.9.0.0/24",
                          ip_version=4)
    ports = []
    for n in range(5):
        port = admin.create("ports", "port", network_id=net["id"], name=f"p{n}",
                            description=str(n % 2),
                            **({"binding:host_id": "compute1"} if n % 2 else {}))
        tags = [f"t{n % 3}", "all"] if n < 4 else []
        admin.ok("PUT", f"/v2.0/ports/{port['id']}/tags", {"tags": tags})
        ports.append(admin.ok("GET", f"/v2.0/ports/{port['id']}")["port"])
    return net, subnet, ports


def names(body: dict[str, Any], key: str = "ports") -> list[str]:
    return [item["name"] for item in body[key]]


def test_declared_attributes_are_what_bodies_show(
        admin: Neutron, five: tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]
) -> None:
    net, subnet, ports = five
    group = admin.create("security-groups", "security_group", name="g")
    assert tuple(ports[0]) == PORT_ATTRIBUTES
    # An internal network shows no is_default (auto-allocated-topology extends external
    # ones only).
    assert tuple(admin.ok("GET", f"/v2.0/networks/{net['id']}")["network"]) == tuple(
        a for a in NETWORK_ATTRIBUTES if a != "is_default")
    public = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]
    assert tuple(public) == NETWORK_ATTRIBUTES
    assert tuple(admin.ok("GET", f"/v2.0/subnets/{subnet['id']}")["subnet"]) == \
        SUBNET_ATTRIBUTES
    assert tuple(group) == SECURITY_GROUP_ATTRIBUTES


def test_filters_on_stored_and_computed_attributes(
        admin: Neutron, five: tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]
) -> None:
    net, subnet, ports = five
    # The network's DHCP ports (bound too) are left out by their owner.
    on = f"/v2.0/ports?network_id={net['id']}&device_owner="
    assert sorted(names(admin.ok("GET", f"{on}&description=1"))) == ["p1", "p3"]
    assert sorted(names(admin.ok("GET", f"{on}&name=p0&name=p4"))) == ["p0", "p4"]
    assert sorted(names(admin.ok("GET", f"{on}&binding:vif_type=ovs"))) == ["p1", "p3"]
    assert sorted(names(admin.ok("GET", f"{on}&binding:host_id=compute1"))) == ["p1", "p3"]
    assert names(admin.ok("GET", f"{on}&admin_state_up=FALSE")) == []
    assert len(admin.ok("GET", f"{on}&admin_state_up=true")["ports"]) == 5
    assert names(admin.ok("GET", f"{on}&revision_number=x")) == []
    address = ports[2]["fixed_ips"][0]["ip_address"]
    assert names(admin.ok("GET", f"{on}&fixed_ips=ip_address%3D{address}")) == ["p2"]
    assert len(admin.ok("GET", f"{on}&fixed_ips=subnet_id%3D{subnet['id']}")["ports"]) == 5
    assert names(admin.ok("GET", f"{on}&fixed_ips=bogus")) == []
    # An attribute ports do not have filters nothing out (neutron ignores it).
    assert len(admin.ok("GET", f"{on}&flavor=x")["ports"]) == 5
    # A huge number is no match, not an error of the store.
    assert names(admin.ok("GET", f"{on}&revision_number={2**64}")) == []
    nets = admin.ok("GET", f"/v2.0/networks?subnets={subnet['id']}")["networks"]
    assert [n["id"] for n in nets] == [net["id"]]
    external = admin.ok("GET", "/v2.0/networks?router:external=True")["networks"]
    assert external and all(n["router:external"] for n in external)
    by_type = admin.ok("GET", "/v2.0/networks?provider:network_type=flat")["networks"]
    assert [n["name"] for n in by_type] == ["public"]
    no_gateway = admin.ok("GET", f"/v2.0/subnets?network_id={net['id']}&gateway_ip=null")
    assert no_gateway["subnets"] == []


def test_tag_filters(admin: Neutron,
                     five: tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]) -> None:
    net, _, _ = five
    on = f"/v2.0/ports?network_id={net['id']}&device_owner="
    assert sorted(names(admin.ok("GET", f"{on}&tags=t0,all"))) == ["p0", "p3"]
    assert sorted(names(admin.ok("GET", f"{on}&tags-any=t1,t2"))) == ["p1", "p2"]
    assert sorted(names(admin.ok("GET", f"{on}&not-tags=t0,all"))) == ["p1", "p2", "p4"]
    assert sorted(names(admin.ok("GET", f"{on}&not-tags-any=t0,t1"))) == ["p2", "p4"]
    assert sorted(names(admin.ok("GET", f"{on}&tags=all&not-tags-any=t2"))) == \
        ["p0", "p1", "p3"]


def test_sorting_and_its_errors(
        admin: Neutron, five: tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]
) -> None:
    net, _, _ = five
    on = f"/v2.0/ports?network_id={net['id']}&device_owner="
    body = admin.ok("GET", f"{on}&sort_key=description&sort_key=name&sort_dir=desc"
                           "&sort_dir=asc")
    assert names(body) == ["p1", "p3", "p0", "p2", "p4"]
    expect_error(admin.call("GET", f"{on}&sort_key=name"), 400, "HTTPBadRequest",
                 "The number of sort_keys and sort_dirs must be same")
    expect_error(admin.call("GET", f"{on}&sort_key=bogus&sort_dir=asc"), 400,
                 "HTTPBadRequest", "['bogus'] is invalid attribute for sort_keys")
    expect_error(admin.call("GET", f"{on}&sort_key=name&sort_dir=up"), 400,
                 "HTTPBadRequest",
                 "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'")


def _link(body: dict[str, Any], rel: str) -> dict[str, str]:
    href = next(link["href"] for link in body["ports_links"] if link["rel"] == rel)
    return dict(parse_qsl(urlsplit(href).query))


def test_pages_forward_and_back_with_neutrons_links(
        admin: Neutron, five: tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]
) -> None:
    net, _, ports = five
    on = (f"/v2.0/ports?network_id={net['id']}&device_owner=&sort_key=name&sort_dir=asc"
          "&limit=2")
    first = admin.ok("GET", on)
    assert names(first) == ["p0", "p1"]
    assert sorted(link["rel"] for link in first["ports_links"]) == ["next", "previous"]
    following = _link(first, "next")
    assert following["marker"] == ports[1]["id"] and following["limit"] == "2"
    second = admin.ok("GET", f"{on}&marker={following['marker']}")
    assert names(second) == ["p2", "p3"]
    last = admin.ok("GET", f"{on}&marker={ports[3]['id']}")
    assert names(last) == ["p4"]
    assert [link["rel"] for link in last["ports_links"]] == ["previous"]
    back = _link(last, "previous")
    assert back == {**back, "marker": ports[4]["id"], "page_reverse": "True"}
    before = admin.ok("GET", f"{on}&marker={ports[4]['id']}&page_reverse=True")
    assert names(before) == ["p2", "p3"]
    start = admin.ok("GET", f"{on}&marker={ports[1]['id']}&page_reverse=True")
    assert names(start) == ["p0"]
    assert [link["rel"] for link in start["ports_links"]] == ["next"]
    tail = admin.ok("GET", f"{on}&page_reverse=True")
    assert names(tail) == ["p3", "p4"]
    expect_error(admin.call("GET", f"{on}&marker=nope"), 404, "NotFound",
                 "Marker nope could not be found.")
    expect_error(admin.call("GET", "/v2.0/ports?limit=x"), 400, "InvalidInput",
                 "Invalid input for operation: 'x' is not an integer.")


def test_a_limited_list_renders_only_its_page(
        admin: Neutron, monkeypatch: pytest.MonkeyPatch,
        five: tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]) -> None:
    net, _, _ = five
    rendered: list[str] = []
    original = ports_api.render_port

    def counting(row: Any, fixed_ips: Sequence[Any]) -> dict[str, Any]:
        rendered.append(row.id)
        return original(row, fixed_ips)

    # The routes hold the declared PORT; its renderer renders each row with render_port.
    monkeypatch.setattr(ports_api, "render_port", counting)
    body = admin.ok("GET", f"/v2.0/ports?network_id={net['id']}&limit=2")
    assert len(body["ports"]) == 2 and rendered == [p["id"] for p in body["ports"]]
    fields = admin.ok("GET", f"/v2.0/ports?network_id={net['id']}&fields=id&fields=name")
    assert {tuple(p) for p in fields["ports"]} == {("id", "name")}


def test_members_see_their_own_and_what_policy_lets_them(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    net = a.neutron.create("networks", "network", name="a-net")
    a.neutron.create("subnets", "subnet", network_id=net["id"], cidr="10.8.0.0/24",
                     ip_version=4)
    port = a.neutron.create("ports", "port", network_id=net["id"], name="a-port")
    mine = a.neutron.ok("GET", "/v2.0/ports?device_owner=")["ports"]
    assert [p["id"] for p in mine] == [port["id"]]
    # The network's DHCP ports are the network owner's to see.
    dhcp = a.neutron.ok("GET", "/v2.0/ports?device_owner=network:dhcp")["ports"]
    assert len(dhcp) == 2 and {p["network_id"] for p in dhcp} == {net["id"]}
    # Admin-only attributes are not shown, and filtering on them finds nothing.
    assert "binding:host_id" not in mine[0] and "provider:network_type" not in \
        a.neutron.ok("GET", f"/v2.0/networks/{net['id']}")["network"]
    assert a.neutron.ok("GET", "/v2.0/ports?binding:host_id=")["ports"] == []
    assert b.neutron.ok("GET", "/v2.0/ports")["ports"] == []
    assert net["id"] not in [n["id"] for n in b.neutron.ok("GET", "/v2.0/networks")["networks"]]
    assert b.neutron.ok("GET", "/v2.0/subnets?network_id=" + net["id"])["subnets"] == []
    expect_error(b.neutron.call("GET", f"/v2.0/ports/{port['id']}"), 404, "PortNotFound",
                 f"Port {port['id']} could not be found.")
    groups = b.neutron.ok("GET", "/v2.0/security-groups")["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    assert {g["project_id"] for g in groups} == {b.project_id}


def test_rules_and_pools_list_through_the_same_controller(admin: Neutron) -> None:
    group = admin.create("security-groups", "security_group", name="web")
    rule = admin.create("security-group-rules", "security_group_rule",
                        security_group_id=group["id"], direction="ingress",
                        protocol="tcp", port_range_min=80, port_range_max=80,
                        remote_ip_prefix="10.0.0.0/8")
    assert tuple(rule) == RULE_ATTRIBUTES
    of_group = f"/v2.0/security-group-rules?security_group_id={group['id']}"
    assert len(admin.ok("GET", of_group)["security_group_rules"]) == 3  # and two egress
    assert [r["id"] for r in admin.ok("GET", f"{of_group}&port_range_min=80")[
        "security_group_rules"]] == [rule["id"]]
    assert [r["id"] for r in admin.ok("GET", f"{of_group}&normalized_cidr=10.0.0.0/8")[
        "security_group_rules"]] == [rule["id"]]
    # Rules show no tags: asking for one finds none.
    assert admin.ok("GET", f"{of_group}&tags=x")["security_group_rules"] == []
    paged = admin.ok("GET", f"{of_group}&limit=1")
    link = paged["security_group_rules_links"][0]["href"]
    assert urlsplit(link).path.endswith("/v2.0/security-group-rules")
    pool = admin.create("subnetpools", "subnetpool", name="pool", prefixes=["10.200.0.0/16"],
                        default_prefixlen=24)
    assert tuple(pool) == SUBNETPOOL_ATTRIBUTES
    by_prefix = admin.ok("GET", "/v2.0/subnetpools?prefixes=10.200.0.0/16")["subnetpools"]
    assert [p["id"] for p in by_prefix] == [pool["id"]]
    assert admin.ok("GET", "/v2.0/subnetpools?address_scope_id=x")["subnetpools"] == []
    # (the lab's default pool has none either)
    assert pool["id"] in [p["id"] for p in admin.ok(
        "GET", "/v2.0/subnetpools?address_scope_id=")["subnetpools"]]


def test_routers_list_with_their_gateways(admin: Neutron,
                                          tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    public = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]
    router = a.neutron.create("routers", "router", name="r-a",
                              external_gateway_info={"network_id": public["id"]})
    assert tuple(router) == tuple(k for k in ROUTER_ATTRIBUTES if k not in ("distributed",
                                                                             "ha"))
    listed = a.neutron.ok("GET", "/v2.0/routers")["routers"]
    assert listed == [router]
    assert listed[0]["external_gateway_info"]["external_fixed_ips"]
    assert b.neutron.ok("GET", "/v2.0/routers")["routers"] == []
    # ha is the admin's to see, and so to filter on.
    assert a.neutron.ok("GET", "/v2.0/routers?ha=true")["routers"] == []
    shown = admin.ok("GET", f"/v2.0/routers?id={router['id']}")["routers"][0]
    assert tuple(shown) == ROUTER_ATTRIBUTES and shown["ha"] is True
    assert admin.ok("GET", f"/v2.0/routers?id={router['id']}&ha=false")["routers"] == []


def test_floating_ips_filter_on_their_port(admin: Neutron,
                                           five: tuple[dict[str, Any], dict[str, Any],
                                                       list[dict[str, Any]]]) -> None:
    _, subnet, ports = five
    public = admin.ok("GET", "/v2.0/networks?name=public")["networks"][0]
    router = admin.create("routers", "router", name="r",
                          external_gateway_info={"network_id": public["id"]})
    admin.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
             {"subnet_id": subnet["id"]})
    free = admin.create("floatingips", "floatingip", floating_network_id=public["id"])
    bound = admin.create("floatingips", "floatingip", floating_network_id=public["id"],
                         port_id=ports[0]["id"])
    assert tuple(bound) == FLOATINGIP_ATTRIBUTES
    by_port = admin.ok("GET", f"/v2.0/floatingips?port_id={ports[0]['id']}")["floatingips"]
    assert by_port == [bound] and by_port[0]["port_details"]["name"] == "p0"
    unbound = admin.ok("GET", "/v2.0/floatingips?port_id=null")["floatingips"]
    assert [f["id"] for f in unbound] == [free["id"]]


def test_tenant_id_filters_and_sorts_as_project_id(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, b, _ = tenants
    for tenant in (a, b):
        tenant.neutron.create("networks", "network", name=f"{tenant.name}-owned")
    mine = admin.ok("GET", f"/v2.0/networks?tenant_id={a.project_id}")["networks"]
    assert [n["name"] for n in mine] == ["proj-a-owned"]
    assert admin.ok("GET", f"/v2.0/networks?tenant_id={a.project_id}"
                           f"&project_id={a.project_id}")["networks"] == mine
    ordered = admin.ok("GET", "/v2.0/networks?sort_key=tenant_id&sort_dir=desc")["networks"]
    projects = [n["tenant_id"] for n in ordered]
    assert projects == sorted(projects, reverse=True)
