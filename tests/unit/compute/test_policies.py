"""nova's default rules, evaluated through stacklab's PolicyEngine (real oslo.policy).

Tokens are project-scoped and carry roles as keystone expands implied roles
(admin implies member implies reader). Targets are built the way nova's API
builds them: the server's project for server operations, the caller's project
for collections, the requested user for key pairs, and nothing for admin APIs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.errors import Forbidden
from stacklab.api.policy import PolicyEngine
from stacklab.compute.policies import RULES, RULES_BY_NAME

ALICE = "u-alice"
BOB = "u-bob"
PROJECT = "p-alpha"
OTHER_PROJECT = "p-beta"

ADMIN_ROLES = ("admin", "manager", "member", "reader")
MEMBER_ROLES = ("member", "reader")


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine(RULES)


def on_project(*roles: str, user_id: str = ALICE, project_id: str = PROJECT) -> RequestContext:
    return RequestContext(request_id="req-test", user_id=user_id, project_id=project_id,
                          roles=list(roles), authenticated=True)


def server_target(project_id: str = PROJECT, user_id: str = ALICE) -> dict[str, str]:
    return {"project_id": project_id, "user_id": user_id}


def test_rules_have_unique_names_and_resolvable_references(engine: PolicyEngine) -> None:
    assert len(RULES_BY_NAME) == len(RULES)
    assert set(engine.rules()) >= set(RULES_BY_NAME)
    referenced = {m for r in RULES for m in re.findall(r"rule:(\w+)", r.check_str)}
    assert referenced <= set(RULES_BY_NAME)
    api_rules = [r for r in RULES if ":" in r.name]
    assert api_rules and all(r.scope_types == ("project",) for r in api_rules)


def test_check_strings_are_nova_s_as_operators_see_them() -> None:
    assert RULES_BY_NAME["os_compute_api:servers:create"].check_str == (
        "rule:project_member_or_admin")
    assert RULES_BY_NAME["os_compute_api:os-keypairs:show"].check_str == (
        "(rule:context_is_admin) or user_id:%(user_id)s")
    assert RULES_BY_NAME["project_reader_api"].check_str == (
        "role:reader and project_id:%(project_id)s")
    assert RULES_BY_NAME["compute:servers:resize:cross_cell"].check_str == "!"


@pytest.mark.parametrize("rule", ["os_compute_api:servers:create",
                                  "os_compute_api:servers:show",
                                  "os_compute_api:servers:delete"])
def test_member_manages_servers_of_own_project(engine: PolicyEngine, rule: str) -> None:
    assert engine.allows(rule, server_target(), on_project(*MEMBER_ROLES))


@pytest.mark.parametrize("rule", ["os_compute_api:servers:create",
                                  "os_compute_api:servers:show",
                                  "os_compute_api:servers:delete",
                                  "os_compute_api:servers:reboot"])
def test_member_of_another_project_is_refused(engine: PolicyEngine, rule: str) -> None:
    outsider = on_project(*MEMBER_ROLES, user_id=BOB, project_id=OTHER_PROJECT)
    with pytest.raises(Forbidden):
        engine.authorize(rule, server_target(), outsider)


def test_server_user_id_in_target_does_not_matter(engine: PolicyEngine) -> None:
    # nova passes the server's user_id for delete, but no default reads it:
    # a colleague in the same project may delete Alice's server.
    colleague = on_project(*MEMBER_ROLES, user_id=BOB)
    assert engine.allows("os_compute_api:servers:delete", server_target(), colleague)


def test_reader_shows_but_cannot_create_or_delete(engine: PolicyEngine) -> None:
    reader = on_project("reader")
    assert engine.allows("os_compute_api:servers:show", server_target(), reader)
    assert engine.allows("os_compute_api:servers:detail", server_target(), reader)
    assert not engine.allows("os_compute_api:servers:create", server_target(), reader)
    assert not engine.allows("os_compute_api:servers:delete", server_target(), reader)


def test_missing_project_in_target_fails_closed(engine: PolicyEngine) -> None:
    member = on_project(*MEMBER_ROLES)
    assert not engine.allows("os_compute_api:servers:show", {}, member)
    assert not engine.allows("os_compute_api:servers:show", {"project_id": None}, member)


def test_admin_acts_on_any_project_s_server(engine: PolicyEngine) -> None:
    admin = on_project(*ADMIN_ROLES, user_id=BOB, project_id=OTHER_PROJECT)
    assert engine.allows("os_compute_api:servers:delete", server_target(), admin)
    assert engine.allows("os_compute_api:servers:index:get_all_tenants", {}, admin)
    assert not engine.allows("os_compute_api:servers:index:get_all_tenants", {},
                             on_project(*MEMBER_ROLES))


@pytest.mark.parametrize("rule", ["os_compute_api:os-flavor-manage:create",
                                  "os_compute_api:os-hypervisors:list",
                                  "os_compute_api:os-services:list"])
def test_only_admin_reaches_cloud_wide_apis(engine: PolicyEngine, rule: str) -> None:
    assert engine.allows(rule, {}, on_project(*ADMIN_ROLES))
    assert not engine.allows(rule, {}, on_project(*MEMBER_ROLES))
    assert not engine.allows(rule, {}, on_project("reader"))
    # Even a member naming his own project in the target gets nothing.
    assert not engine.allows(rule, {"project_id": PROJECT}, on_project(*MEMBER_ROLES))


@pytest.mark.parametrize("rule", ["os_compute_api:os-keypairs:create",
                                  "os_compute_api:os-keypairs:show",
                                  "os_compute_api:os-keypairs:delete",
                                  "os_compute_api:os-keypairs:index"])
def test_user_manages_own_keypairs_only(engine: PolicyEngine, rule: str) -> None:
    alice = on_project(*MEMBER_ROLES)
    assert engine.allows(rule, {"user_id": ALICE}, alice)
    assert not engine.allows(rule, {"user_id": BOB}, alice)
    # Key pairs belong to the user, not the project: another project scope still works.
    assert engine.allows(rule, {"user_id": ALICE},
                         on_project("reader", project_id=OTHER_PROJECT))


def test_admin_reaches_other_users_keypairs(engine: PolicyEngine) -> None:
    admin = on_project(*ADMIN_ROLES, user_id=BOB)
    assert engine.allows("os_compute_api:os-keypairs:show", {"user_id": ALICE}, admin)
    assert engine.allows("os_compute_api:os-keypairs:index", {"user_id": ALICE}, admin)
    assert engine.allows("os_compute_api:os-keypairs:delete", {"user_id": ALICE}, admin)


def test_member_gets_limits_but_not_another_project_s(engine: PolicyEngine) -> None:
    member = on_project(*MEMBER_ROLES)
    assert engine.allows("os_compute_api:limits", {}, member)
    assert engine.allows("os_compute_api:limits", {"project_id": PROJECT}, member)
    assert not engine.allows("os_compute_api:limits:other_project",
                             {"project_id": PROJECT}, member)


def test_quota_show_reads_the_project_in_the_url(engine: PolicyEngine) -> None:
    reader = on_project("reader")
    assert engine.allows("os_compute_api:os-quota-sets:show", {"project_id": PROJECT}, reader)
    assert not engine.allows("os_compute_api:os-quota-sets:show",
                             {"project_id": OTHER_PROJECT}, reader)


def test_manager_migrates_own_project_s_servers_only_without_host(
    engine: PolicyEngine,
) -> None:
    manager = on_project("manager", "member", "reader")
    assert engine.allows("os_compute_api:os-migrate-server:migrate", server_target(), manager)
    assert not engine.allows("os_compute_api:os-migrate-server:migrate:host",
                             server_target(), manager)
    assert not engine.allows("os_compute_api:os-migrate-server:migrate", server_target(),
                             on_project(*MEMBER_ROLES))


def test_service_role_delivers_external_events(engine: PolicyEngine) -> None:
    assert engine.allows("os_compute_api:os-server-external-events:create", {},
                         on_project("service"))
    assert not engine.allows("os_compute_api:os-server-external-events:create", {},
                             on_project(*MEMBER_ROLES))


def test_cross_cell_resize_is_denied_even_to_admin(engine: PolicyEngine) -> None:
    assert not engine.allows("compute:servers:resize:cross_cell", server_target(),
                             on_project(*ADMIN_ROLES))


def test_system_scoped_token_is_refused_by_project_scoped_rules(engine: PolicyEngine) -> None:
    system_admin = RequestContext(request_id="req-test", user_id=BOB, system_scope="all",
                                  roles=list(ADMIN_ROLES), authenticated=True)
    assert not engine.allows("os_compute_api:os-hypervisors:list", {}, system_admin)


def test_operator_override_replaces_a_default(engine: PolicyEngine, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"os_compute_api:os-hypervisors:list": "rule:project_reader_api"\n')
    overridden = PolicyEngine(RULES, policy_file=str(policy_file))
    reader = on_project("reader")
    assert overridden.allows("os_compute_api:os-hypervisors:list", {"project_id": PROJECT},
                             reader)
    assert not engine.allows("os_compute_api:os-hypervisors:list", {"project_id": PROJECT},
                             reader)


def test_unregistered_rule_is_an_error(engine: PolicyEngine) -> None:
    with pytest.raises(RuntimeError):
        engine.allows("os_compute_api:servers:frobnicate", {}, on_project(*ADMIN_ROLES))
