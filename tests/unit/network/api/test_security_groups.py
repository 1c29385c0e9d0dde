"""Security groups and their rules over HTTP: the rule's policy target is its group's owner,
and the ``default`` group keeps its name (neutron's securitygroups extension and DB mixin)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from unit.network.neutron_client import Neutron, Tenant, expect_error, member


def _default(tenant: Tenant) -> dict[str, Any]:
    groups = tenant.neutron.ok("GET", "/v2.0/security-groups?name=default")["security_groups"]
    assert len(groups) == 1, groups
    group: dict[str, Any] = groups[0]
    return group


def test_a_member_adds_and_removes_rules_of_its_own_group(
        tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    group = a.neutron.create("security-groups", "security_group", name="web")
    # Tempest's body: every attribute given, the unset ones as null.
    rule = a.neutron.create("security-group-rules", "security_group_rule",
                            security_group_id=group["id"], direction="ingress",
                            ethertype="IPv4", protocol="tcp", port_range_min=77,
                            port_range_max=77, remote_group_id=None, remote_ip_prefix=None)
    assert (rule["project_id"], rule["security_group_id"]) == (a.project_id, group["id"])
    a.neutron.ok("GET", f"/v2.0/security-group-rules/{rule['id']}")
    a.neutron.ok("DELETE", f"/v2.0/security-group-rules/{rule['id']}", status=204)
    # In the default group too.
    a.neutron.create("security-group-rules", "security_group_rule",
                     security_group_id=_default(a)["id"], direction="ingress",
                     protocol="icmp")


def test_a_rule_the_admin_adds_to_a_member_s_group_is_the_member_s(
        admin: Neutron, tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    group = a.neutron.create("security-groups", "security_group", name="g")
    rule = admin.create("security-group-rules", "security_group_rule",
                        security_group_id=group["id"], direction="egress", protocol="udp")
    assert rule["project_id"] == a.project_id
    assert a.neutron.ok("GET", f"/v2.0/security-group-rules/{rule['id']}")[
        "security_group_rule"]["id"] == rule["id"]
    a.neutron.ok("DELETE", f"/v2.0/security-group-rules/{rule['id']}", status=204)


def test_a_reader_may_see_rules_but_not_add_them(client: TestClient, admin: Neutron) -> None:
    reader = member(client, admin, "sg-readers", role="reader")
    group = admin.create("security-groups", "security_group", name="g",
                         project_id=reader.project_id)
    expect_error(reader.neutron.call("POST", "/v2.0/security-group-rules", {
        "security_group_rule": {"security_group_id": group["id"], "direction": "ingress"}}),
        403, "PolicyNotAuthorized", "rule:create_security_group_rule is disallowed by policy")
    assert reader.neutron.ok("GET", f"/v2.0/security-groups/{group['id']}")


def test_the_default_group_keeps_its_name(tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    default = _default(a)
    path = f"/v2.0/security-groups/{default['id']}"
    expect_error(a.neutron.call("PUT", path, {"security_group": {"name": "other"}}), 409,
                 "SecurityGroupCannotUpdateDefault",
                 "Updating default security group not allowed.")
    # Its description may change.
    changed = a.neutron.ok("PUT", path, {"security_group": {"description": "mine"}})
    assert changed["security_group"]["description"] == "mine"
    expect_error(a.neutron.call("DELETE", path), 409, "SecurityGroupCannotRemoveDefault",
                 "Insufficient rights for removing default security group.")


@pytest.mark.parametrize("name", ["default", "Default", "DEFAULT"])
def test_no_other_group_may_be_named_default(tenants: tuple[Tenant, Tenant, Tenant],
                                             name: str) -> None:
    a, _, _ = tenants
    expect_error(a.neutron.call("POST", "/v2.0/security-groups",
                                {"security_group": {"name": name}}), 409,
                 "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
    group = a.neutron.create("security-groups", "security_group", name="g")
    expect_error(a.neutron.call("PUT", f"/v2.0/security-groups/{group['id']}",
                                {"security_group": {"name": name}}), 409,
                 "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")


def _rule(tenant: Tenant, group: dict[str, Any], **fields: Any) -> Any:
    return tenant.neutron.call("POST", "/v2.0/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", **fields}})


@pytest.mark.parametrize(("fields", "kind", "message"), [
    ({"protocol": "tcp", "port_range_min": 80, "port_range_max": 79},
     "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ({"protocol": "tcp", "port_range_max": 6}, "SecurityGroupInvalidPortRange",
     "For TCP/UDP protocols, port_range_min must be <= port_range_max"),
    ({"protocol": "udp", "port_range_min": 0, "port_range_max": 10},
     "SecurityGroupInvalidPortValue", "Invalid value for port 0"),
    ({"protocol": "icmp", "port_range_min": 1, "port_range_max": 256},
     "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255."),
    ({"protocol": "icmp", "port_range_min": 300, "port_range_max": 1},
     "SecurityGroupInvalidIcmpValue",
     "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255."),
    ({"protocol": "ipv6-icmp", "ethertype": "IPv6", "port_range_max": 6},
     "SecurityGroupMissingIcmpType",
     "ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing."),
    ({"port_range_min": 22, "port_range_max": 22}, "SecurityGroupProtocolRequiredWithPorts",
     "Must also specify protocol if port range is given."),
    ({"protocol": "gre", "port_range_min": 22, "port_range_max": 22},
     "SecurityGroupInvalidProtocolForPort", "Ports cannot be specified for protocol 47. "
     "Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE."),
])
def test_port_ranges_are_checked_per_protocol(tenants: tuple[Tenant, Tenant, Tenant],
                                              fields: dict[str, Any], kind: str,
                                              message: str) -> None:
    a, _, _ = tenants
    group = a.neutron.create("security-groups", "security_group", name="ports")
    expect_error(_rule(a, group, **fields), 400, kind, message)


def test_icmp_type_and_code_within_range_are_taken(
        tenants: tuple[Tenant, Tenant, Tenant]) -> None:
    a, _, _ = tenants
    group = a.neutron.create("security-groups", "security_group", name="icmp")
    response = _rule(a, group, protocol="icmp", port_range_min=8, port_range_max=0)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("wanted", ["bad_group_id", "7c1c6ab9-3a52-4a8e-9d2b-1f0c2b0f4e11"])
def test_a_group_id_that_names_no_group_is_not_found(
        tenants: tuple[Tenant, Tenant, Tenant], wanted: str) -> None:
    # neutron takes any string here (no UUID check): what names nothing is not found.
    a, _, _ = tenants
    group = a.neutron.create("security-groups", "security_group", name="remote")
    expect_error(_rule(a, group, protocol="tcp", remote_group_id=wanted), 404,
                 "SecurityGroupNotFound")
    expect_error(a.neutron.call("POST", "/v2.0/security-group-rules", {"security_group_rule": {
        "security_group_id": wanted, "direction": "ingress"}}), 404, "SecurityGroupNotFound")


def test_a_rule_keeps_its_prefix_as_given_and_shows_its_network(admin: Neutron) -> None:
    """neutron's _validate_ip_prefix: the host bits stay in remote_ip_prefix, a bare address
    gets its full mask, IPv6 as well; normalized_cidr is the network, and filters by it."""
    group = admin.create("security-groups", "security_group", name="cidrs")
    made = {}
    for ethertype, given, kept, network in (
            ("IPv4", "10.2.3.124/24", "10.2.3.124/24", "10.2.3.0/24"),
            ("IPv4", "192.0.2.7", "192.0.2.7/32", "192.0.2.7/32"),
            ("IPv6", "2001:DB8::1/64", "2001:db8::1/64", "2001:db8::/64")):
        rule = admin.create("security-group-rules", "security_group_rule",
                            security_group_id=group["id"], direction="ingress",
                            ethertype=ethertype, remote_ip_prefix=given)
        assert (rule["remote_ip_prefix"], rule["normalized_cidr"]) == (kept, network)
        made[network] = rule["id"]
    listed = admin.ok("GET", "/v2.0/security-group-rules?normalized_cidr=10.2.3.0/24")
    assert [r["id"] for r in listed["security_group_rules"]] == [made["10.2.3.0/24"]]
    # The same network with other host bits is another rule, as upstream's duplicate key.
    admin.create("security-group-rules", "security_group_rule", security_group_id=group["id"],
                 direction="ingress", remote_ip_prefix="10.2.3.0/24")
    expect_error(admin.call("POST", "/v2.0/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress",
        "remote_ip_prefix": "10.2.3.124/24"}}), 409, "SecurityGroupRuleExists")
    expect_error(admin.call("POST", "/v2.0/security-group-rules", {"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv4",
        "remote_ip_prefix": "2001:db8::5/64"}}), 400, "SecurityGroupRuleParameterConflict",
        "Conflicting value ethertype IPv4 for CIDR 2001:db8::5/64")
    # No prefix, no normalized_cidr.
    rule = admin.create("security-group-rules", "security_group_rule",
                        security_group_id=group["id"], direction="egress", protocol="tcp")
    assert (rule["remote_ip_prefix"], rule["normalized_cidr"]) == (None, None)
