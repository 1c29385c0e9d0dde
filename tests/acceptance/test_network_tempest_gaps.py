"""What Tempest found missing in Networking, driven by the real clients on a live cloud: a
member's rules in its own security group, bulk creates (openstacksdk), metering and service
providers (the CLI), and a port list by address that shows another project nothing."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from acceptance.conftest import LiveCloud
from acceptance.test_network import (
    Member,
    Neutron,
    Nova,
    Trash,
    assert_neutron_error,
    assert_spec_shape,
    make_member,
    token,
    unique,
)

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def admin(live: LiveCloud) -> Iterator[Neutron]:
    client = Neutron(live, token(live))
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def identity(live: LiveCloud) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=f"{live.url}/identity/v3", timeout=30,
                          headers={"X-Auth-Token": token(live)})
    yield client
    client.close()


@pytest.fixture(scope="module")
def members(live: LiveCloud, identity: httpx.Client) -> Iterator[tuple[Member, Member]]:
    pair = (make_member(live, identity), make_member(live, identity))
    yield pair
    for user in pair:
        user.drop(identity)


@pytest.fixture
def trash(live: LiveCloud, admin: Neutron) -> Iterator[Trash]:
    nova = Nova(live, admin.client.headers["X-Auth-Token"])
    bin_ = Trash(admin, nova)
    yield bin_
    bin_.empty()
    nova.client.close()


def test_a_member_adds_a_rule_to_its_own_group_with_the_cli(
        live: LiveCloud, members: tuple[Member, Member], trash: Trash) -> None:
    user = members[0]
    name = unique("sg")
    group = live.openstack_json(*user.cli_args, "security", "group", "create", name)
    trash.add("security-groups", group)
    rule = live.openstack_json(*user.cli_args, "security", "group", "rule", "create",
                               "--ingress", "--protocol", "tcp", "--dst-port", "8080", name)
    assert (rule["project_id"], rule["security_group_id"], rule["port_range_min"]) == (
        user.project_id, group["id"], 8080)
    shown = user.neutron.get(f"/v2.0/security-group-rules/{rule['id']}")
    assert_spec_shape(shown, "/v2.0/security-group-rules/{id}", "GET", 200)
    live.openstack(*user.cli_args, "security", "group", "rule", "delete", rule["id"])


def test_the_sdk_creates_ports_in_bulk_all_or_none(
        live: LiveCloud, members: tuple[Member, Member], trash: Trash) -> None:
    user = members[0]
    conn = live.connect(username=user.name, password="pw", project_name=user.name)
    try:
        network = conn.network.create_network(name=unique("bulk"))
        trash.add("networks", {"id": network.id})
        conn.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.77.0.0/24")
        ports = list(conn.network.create_ports([
            {"network_id": network.id, "name": f"p{n}"} for n in range(3)]))
        assert [p.name for p in ports] == ["p0", "p1", "p2"]
        assert len({p.fixed_ips[0]["ip_address"] for p in ports}) == 3
        for port in ports:
            trash.add("ports", {"id": port.id})
        # One address asked twice: the whole request is refused, nothing is made. (The
        # DHCP agents' ports may come meanwhile, over a broker: only the user's count.)
        def users_ports() -> set[str]:
            return {p.id for p in conn.network.ports(network_id=network.id)
                    if p.device_owner != "network:dhcp"}

        before = users_ports()
        refused = user.neutron.call("POST", "/v2.0/ports", json={"ports": [
            {"network_id": network.id, "fixed_ips": [{"ip_address": "10.77.0.200"}]},
            {"network_id": network.id, "fixed_ips": [{"ip_address": "10.77.0.200"}]}]})
        assert_neutron_error(refused, 409, "IpAddressAlreadyAllocated")
        assert users_ports() == before
    finally:
        conn.close()


def test_another_project_lists_no_port_by_this_one_s_address(
        live: LiveCloud, members: tuple[Member, Member], trash: Trash) -> None:
    owner, other = members
    network = trash.add("networks", owner.neutron.create("networks", "network",
                                                         name=unique("addr")))
    owner.neutron.create("subnets", "subnet", network_id=network["id"], ip_version=4,
                         cidr="10.78.0.0/24")
    port = trash.add("ports", owner.neutron.create("ports", "port",
                                                   network_id=network["id"]))
    address = port["fixed_ips"][0]["ip_address"]
    mine = live.openstack_json(*owner.cli_args, "port", "list", "--fixed-ip",
                               f"ip-address={address}")
    assert [p["ID"] for p in mine] == [port["id"]]
    theirs = live.openstack_json(*other.cli_args, "port", "list", "--fixed-ip",
                                 f"ip-address={address}")
    assert theirs == []


def test_metering_with_the_cli(live: LiveCloud, admin: Neutron) -> None:
    name = unique("meter")
    meter = live.openstack_json("network", "meter", "create", "--description", "counted",
                                name)
    try:
        assert (meter["name"], meter["description"], meter["shared"]) == (
            name, "counted", False)
        rule = live.openstack_json("network", "meter", "rule", "create", "--ingress",
                                   "--remote-ip-prefix", "10.0.0.0/24", name)
        assert (rule["direction"], rule["remote_ip_prefix"], rule["is_excluded"],
                rule["metering_label_id"]) == ("ingress", "10.0.0.0/24", False, meter["id"])
        listed = live.openstack_json("network", "meter", "list")
        assert name in {m["Name"] for m in listed}
        rules = live.openstack_json("network", "meter", "rule", "list")
        assert rule["id"] in {r["ID"] for r in rules}
        overlap = admin.call("POST", "/v2.0/metering/metering-label-rules", json={
            "metering_label_rule": {"metering_label_id": meter["id"], "direction": "ingress",
                                    "remote_ip_prefix": "10.0.0.128/25"}})
        assert_neutron_error(overlap, 409, "MeteringLabelRuleOverlaps")
    finally:
        live.openstack("network", "meter", "delete", meter["id"])
    assert admin.call("GET", f"/v2.0/metering/metering-labels/{meter['id']}"
                      ).status_code == 404


def test_service_providers_with_the_cli(live: LiveCloud) -> None:
    providers = live.openstack_json("network", "service", "provider", "list")
    assert {(p["Service Type"], p["Name"]) for p in providers} == {
        ("L3_ROUTER_NAT", name) for name in ("dvrha", "dvr", "ha", "single_node")}
