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
