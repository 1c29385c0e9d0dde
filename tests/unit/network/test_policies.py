"""neutron's default rules, evaluated by stacklab's PolicyEngine (oslo.policy underneath).

Targets are built in the shapes documented in ``stacklab.network.policies``: the
resource's attributes with its ``project_id``, plus ``network:project_id`` for ports and
subnets, ``security_group:project_id`` for security group rules and
``ext_parent:project_id`` for QoS rules and the like. Tokens are project-scoped and carry
roles as keystone's implied roles expand them (admin > manager > member > reader).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.policy import PolicyEngine
from stacklab.network.policies import RULES, RULES_BY_NAME

OWN = "p-alpha"
OTHER = "p-beta"

ADMIN = ("admin", "manager", "member", "reader")
MANAGER = ("manager", "member", "reader")
MEMBER = ("member", "reader")
READER = ("reader",)
SERVICE = ("service",)


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine(RULES)


def on_project(roles: tuple[str, ...], project: str = OWN) -> RequestContext:
    return RequestContext(request_id="req-test", user_id="u-alice", user_domain_id="default",
                          project_id=project, project_domain_id="default",
                          roles=list(roles), authenticated=True)


def network(project: str = OWN, **attributes: Any) -> dict[str, Any]:
    """A network (or a proposed one) as neutron's API layer presents it to policy."""
    return {"id": "net-1", "project_id": project, "tenant_id": project, "shared": False,
            "router:external": False, **attributes}


def port(project: str = OWN, network_project: str = OWN, **attributes: Any) -> dict[str, Any]:
    return {"id": "port-1", "project_id": project, "tenant_id": project,
            "network_id": "net-1", "network:project_id": network_project,
            "device_owner": "", **attributes}


HELPER_RULES = {
    "context_is_admin", "context_with_global_access", "service_api", "owner",
    "admin_or_owner", "context_is_advsvc", "admin_or_network_owner",
    "admin_owner_or_network_owner", "network_owner", "admin_only", "regular_user", "shared",
    "default", "admin_or_ext_parent_owner", "ext_parent_owner", "sg_owner",
    "shared_address_groups", "shared_address_scopes", "external", "network_device",
    "admin_or_data_plane_int", "shared_qos_policy", "restrict_wildcard", "admin_or_sg_owner",
    "admin_owner_or_sg_owner", "shared_security_group", "rule_default_sg", "external_network",
    "shared_subnetpools",
}


def test_rule_names_are_unique_and_scoped_as_neutron_registers_them(
    engine: PolicyEngine,
) -> None:
    assert len(RULES) == len(RULES_BY_NAME) == 365
    assert {r.name for r in RULES if not r.scope_types} == HELPER_RULES
    assert all(r.scope_types == ("project",) for r in RULES if r.name not in HELPER_RULES)
    assert all(r.description for r in RULES)
    assert set(engine.rules()) >= set(RULES_BY_NAME)
    referenced = {m for r in RULES for m in re.findall(r"rule:([\w-]+)", r.check_str)}
    assert referenced <= set(RULES_BY_NAME)


def test_check_strings_keep_neutron_spelling() -> None:
    expected = {
        "context_is_admin": "role:admin",
        "admin_only": "rule:context_is_admin",
        "default": "rule:admin_or_owner",
        "regular_user": "",
        "network_owner": "project_id:%(network:project_id)s",
        "shared": "field:networks:shared=True",
        "network_device": "field:port:device_owner=~^network:",
        "create_network": "(rule:admin_only) or (role:member and project_id:%(project_id)s)",
        "create_network:shared": "rule:admin_only",
        "get_network": (
            "(rule:admin_only) or (role:reader and project_id:%(project_id)s) or "
            "rule:service_api or rule:shared or rule:external or rule:context_is_advsvc"),
        "create_port": (
            "(rule:admin_only) or (rule:service_api) or role:member and rule:network_owner "
            "or rule:shared"),
        "create_port:device_owner": (
            "not rule:network_device or (rule:admin_only) or (rule:service_api) or "
            "role:member and rule:network_owner"),
        "get_port": (
            "(rule:admin_only) or (rule:service_api) or role:reader and rule:network_owner "
            "or role:reader and project_id:%(project_id)s"),
        "get_port:binding:host_id": "(rule:admin_only) or (rule:service_api)",
        "create_port:binding:profile": "rule:service_api",
        "update_port:data_plane_status": "rule:admin_only or role:data_plane_integrator",
        "get_subnet": (
            "role:reader and project_id:%(project_id)s or rule:shared or "
            "rule:external_network or (rule:admin_only) or (role:reader and "
            "rule:network_owner) or rule:service_api"),
        "get_address_scope": (
            "rule:admin_only or role:reader and project_id:%(project_id)s or "
            "rule:shared_address_scopes"),
        "create_floatingip:floating_ip_address": (
            "(rule:admin_only) or (role:manager and project_id:%(project_id)s)"),
        "create_security_group_rule": "(rule:admin_only) or (role:member and rule:sg_owner)",
        "create_policy_bandwidth_limit_rule": (
            "(rule:admin_only) or (role:manager and rule:ext_parent_owner)"),
        "get_alias_minimum_packet_rate_rule": "rule:get_policy_minimum_packet_rate_rule",
        "restrict_wildcard": (
            "(not field:rbac_policy:target_tenant=* and not field:rbac_policy:target_project=*)"
            " or rule:admin_only"),
        "get_availability_zone": "role:reader",
        "get_quota": "(rule:admin_only) or (role:manager and project_id:%(project_id)s)",
        "get_agent": "rule:admin_only",
    }
    assert {name: RULES_BY_NAME[name].check_str for name in expected} == expected


def test_admin_may_create_a_shared_network_for_any_project(engine: PolicyEngine) -> None:
    admin = on_project(ADMIN, OTHER)
    proposal = network(OWN, shared=True)
    for rule in ("create_network", "create_network:shared", "create_network:router:external",
                 "create_network:provider:network_type",
                 "create_network:provider:segmentation_id"):
        assert engine.allows(rule, proposal, admin), rule


def test_member_creates_networks_in_own_project_only(engine: PolicyEngine) -> None:
    member = on_project(MEMBER)
    assert engine.allows("create_network", network(OWN), member)
    assert engine.allows("create_network:port_security_enabled", network(OWN), member)
    assert not engine.allows("create_network", network(OTHER), member)


@pytest.mark.parametrize("rule", ["create_network:shared", "create_network:router:external",
                                  "create_network:is_default", "create_network:segments",
                                  "create_network:provider:network_type",
                                  "create_network:provider:physical_network",
                                  "create_network:provider:segmentation_id",
                                  "update_network:shared", "update_network:router:external"])
def test_member_may_not_make_a_network_shared_external_or_provider(
    engine: PolicyEngine, rule: str,
) -> None:
    assert not engine.allows(rule, network(OWN), on_project(MEMBER))
    assert not engine.allows(rule, network(OWN), on_project(MANAGER))


@pytest.mark.parametrize("rule", ["create_network", "create_subnet", "create_port",
                                  "create_router", "create_floatingip",
                                  "create_security_group", "create_subnetpool", "create_trunk"])
def test_reader_may_not_create(engine: PolicyEngine, rule: str) -> None:
    target = port() if rule in ("create_subnet", "create_port") else network()
    assert not engine.allows(rule, target, on_project(READER))
    assert engine.allows(rule, target, on_project(MEMBER))


def test_reader_sees_own_project_s_networks_and_ports(engine: PolicyEngine) -> None:
    reader = on_project(READER)
    assert engine.allows("get_network", network(), reader)
    assert engine.allows("get_port", port(), reader)
    assert not engine.allows("get_network", network(OTHER), reader)


def test_member_may_not_see_another_project_s_port(engine: PolicyEngine) -> None:
    stranger = on_project(MEMBER, OTHER)
    assert not engine.allows("get_port", port(), stranger)
    assert not engine.allows("update_port", port(), stranger)
    assert not engine.allows("delete_port", port(), stranger)
    assert engine.allows("get_port", port(), on_project(ADMIN, OTHER))


def test_network_owner_sees_and_deletes_others_ports_on_his_network(
    engine: PolicyEngine,
) -> None:
    # A port an admin (or a shared-network user) made on Alice's network.
    foreign_port = port(OTHER, network_project=OWN)
    alice = on_project(MEMBER)
    assert engine.allows("get_port", foreign_port, alice)
    assert engine.allows("delete_port", foreign_port, alice)
    # ...but update_port reads only the port's own project.
    assert not engine.allows("update_port", foreign_port, alice)


@pytest.mark.parametrize("rule", ["get_port:binding:host_id", "get_port:binding:vif_type",
                                  "get_port:binding:vif_details", "get_port:binding:profile",
                                  "create_port:binding:host_id",
                                  "update_port:binding:host_id"])
def test_binding_details_are_for_admins_and_services(engine: PolicyEngine, rule: str) -> None:
    assert not engine.allows(rule, port(), on_project(MEMBER))
    assert not engine.allows(rule, port(), on_project(MANAGER))
    assert engine.allows(rule, port(), on_project(ADMIN, OTHER))
    assert engine.allows(rule, port(), on_project(SERVICE, OTHER))


def test_binding_profile_is_written_by_services_only_not_even_admins(
    engine: PolicyEngine,
) -> None:
    for rule in ("create_port:binding:profile", "update_port:binding:profile",
                 "create_port_binding", "activate"):
        assert not engine.allows(rule, port(), on_project(ADMIN)), rule
        assert engine.allows(rule, port(), on_project(SERVICE, OTHER)), rule


def test_member_vnic_type_but_not_mac_on_another_project_s_network(
    engine: PolicyEngine,
) -> None:
    member = on_project(MEMBER)
    on_foreign_net = port(OWN, network_project=OTHER)
    assert engine.allows("create_port:binding:vnic_type", on_foreign_net, member)
    assert not engine.allows("create_port:mac_address", on_foreign_net, member)
    assert not engine.allows("create_port:fixed_ips:ip_address", on_foreign_net, member)
    assert engine.allows("create_port:mac_address", port(), member)


def test_changing_a_port_s_mac_needs_the_network_owner_s_manager(engine: PolicyEngine) -> None:
    assert not engine.allows("update_port:mac_address", port(), on_project(MEMBER))
    assert engine.allows("update_port:mac_address", port(), on_project(MANAGER))


def test_subnets_go_on_one_s_own_network(engine: PolicyEngine) -> None:
    member = on_project(MEMBER)
    assert engine.allows("create_subnet", {"project_id": OWN, "network:project_id": OWN},
                         member)
    # Owning the subnet is not enough: the network must be one's own too.
    assert not engine.allows("create_subnet", {"project_id": OWN, "network:project_id": OTHER},
                             member)
    assert not engine.allows("create_subnet:segment_id", {"project_id": OWN,
                                                          "network:project_id": OWN}, member)


def test_router_gateway_options(engine: PolicyEngine) -> None:
    member = on_project(MEMBER)
    router = {"project_id": OWN}
    assert engine.allows("create_router:external_gateway_info:network_id", router, member)
    assert not engine.allows("create_router:external_gateway_info:enable_snat", router, member)
    assert not engine.allows("create_router:external_gateway_info:external_fixed_ips", router,
                             member)
    assert not engine.allows("create_router:ha", router, member)
    assert not engine.allows("get_router:distributed", router, member)
    assert engine.allows("add_router_interface", router, member)
    assert not engine.allows("add_router_interface", {"project_id": OTHER}, member)


def test_chosen_floating_ip_address_needs_a_manager(engine: PolicyEngine) -> None:
    fip = {"project_id": OWN}
    assert engine.allows("create_floatingip", fip, on_project(MEMBER))
    assert not engine.allows("create_floatingip:floating_ip_address", fip, on_project(MEMBER))
    assert engine.allows("create_floatingip:floating_ip_address", fip, on_project(MANAGER))


def test_security_group_rules_follow_the_group_s_project(engine: PolicyEngine) -> None:
    member = on_project(MEMBER)
    own_group_rule = {"project_id": OWN, "security_group:project_id": OWN}
    foreign_group_rule = {"project_id": OWN, "security_group:project_id": OTHER}
    assert engine.allows("create_security_group_rule", own_group_rule, member)
    assert not engine.allows("create_security_group_rule", foreign_group_rule, member)
    assert engine.allows("get_security_group_rule", own_group_rule, on_project(READER))


def test_qos_is_for_project_managers(engine: PolicyEngine) -> None:
    policy = {"project_id": OWN}
    rule_of_policy = {"ext_parent:project_id": OWN}
    assert not engine.allows("create_policy", policy, on_project(MEMBER))
    assert engine.allows("create_policy", policy, on_project(MANAGER))
    assert engine.allows("get_policy", policy, on_project(READER))
    assert not engine.allows("create_policy_bandwidth_limit_rule", rule_of_policy,
                             on_project(MEMBER))
    assert engine.allows("create_policy_bandwidth_limit_rule", rule_of_policy,
                         on_project(MANAGER))
    assert not engine.allows("create_policy_bandwidth_limit_rule", {"ext_parent:project_id":
                                                                    OTHER}, on_project(MANAGER))
    # The alias rule defers to the policy-level one by name.
    assert engine.allows("get_alias_minimum_packet_rate_rule", rule_of_policy,
                         on_project(READER))


def test_quotas(engine: PolicyEngine) -> None:
    own = {"project_id": OWN}
    assert not engine.allows("get_quota", own, on_project(MEMBER))
    assert engine.allows("get_quota", own, on_project(MANAGER))
    assert not engine.allows("update_quota", own, on_project(MANAGER))
    assert engine.allows("update_quota", own, on_project(ADMIN, OTHER))


@pytest.mark.parametrize("rule", ["get_agent", "update_agent", "delete_agent",
                                  "create_dhcp-network", "get_dhcp-networks",
                                  "delete_dhcp-network", "create_l3-router", "get_l3-routers",
                                  "delete_l3-router", "get_dhcp-agents", "get_l3-agents",
                                  "create_segment", "get_network_segment_range",
                                  "create_default_security_group_rule"])
def test_infrastructure_is_admin_only(engine: PolicyEngine, rule: str) -> None:
    assert engine.allows(rule, {"project_id": OWN}, on_project(ADMIN, OTHER))
    assert not engine.allows(rule, {"project_id": OWN}, on_project(MANAGER))


@pytest.mark.parametrize("rule", ["get_availability_zone", "get_flavor", "get_rule_type",
                                  "get_service_provider", "get_default_security_group_rule"])
def test_catalogue_reads_need_only_a_reader_role(engine: PolicyEngine, rule: str) -> None:
    assert engine.allows(rule, {}, on_project(READER, OTHER))
    assert not engine.allows(rule, {}, on_project(()))


def test_ip_availability_is_not_for_project_users(engine: PolicyEngine) -> None:
    assert not engine.allows("get_network_ip_availability", network(), on_project(MANAGER))
    assert engine.allows("get_network_ip_availability", network(), on_project(SERVICE))


def test_default_rule_lets_any_role_of_the_owning_project(engine: PolicyEngine) -> None:
    # What neutron falls back to for attribute rules it does not register.
    assert engine.allows("default", {"project_id": OWN}, on_project(READER))
    assert not engine.allows("default", {"project_id": OTHER}, on_project(MEMBER))


def test_missing_project_in_target_fails_closed(engine: PolicyEngine) -> None:
    assert not engine.allows("get_network", {}, on_project(MEMBER))
    assert not engine.allows("get_port", {"project_id": None, "network:project_id": None},
                             on_project(MEMBER))


def test_system_and_domain_scoped_admins_are_refused(engine: PolicyEngine) -> None:
    system = RequestContext(request_id="req-test", user_id="u-sys", system_scope="all",
                            roles=list(ADMIN), authenticated=True)
    domain = RequestContext(request_id="req-test", user_id="u-dom", domain_id="default",
                            roles=list(ADMIN), authenticated=True)
    for ctx in (system, domain):
        assert not engine.allows("get_network", network(), ctx)
        assert not engine.allows("get_agent", {}, ctx)


def test_operator_override_replaces_a_default(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"create_network:shared": "rule:create_network"\n')
    overridden = PolicyEngine(RULES, policy_file=str(policy_file))
    assert overridden.allows("create_network:shared", network(), on_project(MEMBER))


# neutron evaluates ``field:`` with its own FieldCheck; oslo's generic check, which
# stacklab's engine uses, finds no credential named "field" and answers False, so
# ``rule:shared``/``rule:external`` never hold and ``not field:...`` always does.
def test_anyone_may_read_a_shared_network(engine: PolicyEngine) -> None:
    assert engine.allows("get_network", network(OTHER, shared=True), on_project(READER))


def test_anyone_may_read_an_external_network(engine: PolicyEngine) -> None:
    assert engine.allows("get_network", network(OTHER, **{"router:external": True}),
                         on_project(READER))


def test_member_may_plug_a_port_into_a_shared_network(engine: PolicyEngine) -> None:
    assert engine.allows("create_port", port(OWN, network_project=OTHER, shared=True),
                         on_project(MEMBER))


def test_member_may_not_take_a_router_port_on_another_s_network(engine: PolicyEngine) -> None:
    router_port = port(OWN, network_project=OTHER, device_owner="network:router_interface")
    assert not engine.allows("create_port:device_owner", router_port, on_project(MEMBER))


def test_only_admin_may_share_with_every_project(engine: PolicyEngine) -> None:
    wildcard = {"project_id": OWN, "target_project": "*"}
    assert not engine.allows("create_rbac_policy:target_project", wildcard, on_project(MEMBER))
