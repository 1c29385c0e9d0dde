"""The policy engine: oslo.policy with registered defaults, overrides and scope checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.errors import Forbidden
from stacklab.api.policy import PolicyEngine, PolicyRule
from stacklab.identity.policies import RULES

PROJECT = "p-alpha"
SMALL_RULES = [
    PolicyRule("admin_required", "role:admin"),
    PolicyRule("owner", "user_id:%(user_id)s"),
    PolicyRule("demo:get_thing", "rule:admin_required or rule:owner"),
    PolicyRule("demo:delete_thing", "rule:admin_required", scope_types=("project",)),
    PolicyRule("demo:system_only", "role:admin", scope_types=("system",)),
    PolicyRule("demo:anyone", ""),
]


def project_context(*roles: str, user: str = "u-alice", project: str = PROJECT) -> RequestContext:
    return RequestContext(request_id="req-test", user_id=user, project_id=project,
                          project_domain_id="default", user_domain_id="default",
                          roles=list(roles), authenticated=True)


def system_context(*roles: str) -> RequestContext:
    return RequestContext(request_id="req-test", user_id="u-sys", user_domain_id="default",
                          system_scope="all", roles=list(roles), authenticated=True)


def target(**values: Any) -> dict[str, Any]:
    return {"project_id": PROJECT, "user_id": "u-someone", **values}


@pytest.fixture(scope="module")
def small() -> PolicyEngine:
    return PolicyEngine(SMALL_RULES)


@pytest.fixture(scope="module")
def identity() -> PolicyEngine:
    return PolicyEngine(RULES)


def test_policy_credentials_shape() -> None:
    creds = project_context("reader").policy_credentials()
    assert creds["roles"] == ["reader"]
    assert creds["project_id"] == PROJECT
    # keystone's context carries domain_id and system_scope as None for project tokens.
    assert "domain_id" in creds and creds["domain_id"] is None
    assert creds["system_scope"] is None
    assert creds["token"]["project"] == {"id": PROJECT, "domain": {"id": "default"}}
    assert "domain" not in creds["token"]


def test_small_rules_admin_and_owner(small: PolicyEngine) -> None:
    small.authorize("demo:get_thing", target(), project_context("admin"))
    small.authorize("demo:get_thing", target(user_id="u-alice"), project_context("member"))
    assert small.allows("demo:get_thing", target(), project_context("member")) is False


def test_small_rules_denial_is_403_naming_the_rule(small: PolicyEngine) -> None:
    with pytest.raises(Forbidden) as caught:
        small.authorize("demo:get_thing", target(), project_context("reader"))
    assert caught.value.status == 403
    assert caught.value.message == (
        "You are not authorized to perform the requested action: demo:get_thing."
    )


def test_an_empty_check_string_allows_anyone(small: PolicyEngine) -> None:
    assert small.allows("demo:anyone", {}, project_context()) is True


def test_allows_returns_a_bool(small: PolicyEngine) -> None:
    assert small.allows("demo:delete_thing", target(), project_context("admin")) is True
    assert small.allows("demo:delete_thing", target(), project_context("reader")) is False


def test_a_system_only_rule_refuses_a_project_scoped_admin(small: PolicyEngine) -> None:
    with pytest.raises(Forbidden, match="demo:system_only"):
        small.authorize("demo:system_only", target(), project_context("admin"))
    assert small.allows("demo:system_only", target(), system_context("admin")) is True


def test_a_project_only_rule_refuses_a_system_scoped_admin(small: PolicyEngine) -> None:
    assert small.allows("demo:delete_thing", target(), system_context("admin")) is False


def test_rules_lists_the_registered_check_strings(small: PolicyEngine) -> None:
    rules = small.rules()
    assert rules["demo:delete_thing"] == "rule:admin_required"
    assert rules["demo:get_thing"] == "(rule:admin_required or rule:owner)"


def test_an_unregistered_rule_is_a_programming_error(small: PolicyEngine) -> None:
    with pytest.raises(RuntimeError, match="demo:no_such_rule"):
        small.authorize("demo:no_such_rule", target(), project_context("admin"))


def test_an_unregistered_rule_is_never_allowed(small: PolicyEngine) -> None:
    # It fails closed, even for an admin: as an error, not as a quiet False.
    with pytest.raises(RuntimeError, match="not registered"):
        small.allows("demo:no_such_rule", target(), project_context("admin"))


# -- keystone's own rules ------------------------------------------------------------------


def test_identity_admin_on_a_project_may_manage_the_catalog(identity: PolicyEngine) -> None:
    admin = project_context("admin", "member", "reader")
    identity.authorize("identity:create_service", {}, admin)
    identity.authorize("identity:list_services", {}, admin)


def test_identity_project_reader_is_refused_with_the_rule_name(identity: PolicyEngine) -> None:
    with pytest.raises(Forbidden) as caught:
        identity.authorize("identity:list_services", {}, project_context("reader"))
    assert "identity:list_services" in caught.value.message
    assert identity.allows("identity:create_service", {}, project_context("reader")) is False


def test_identity_system_reader_may_read_but_not_write(identity: PolicyEngine) -> None:
    reader = system_context("reader")
    assert identity.allows("identity:list_services", {}, reader) is True
    assert identity.allows("identity:create_service", {}, reader) is False


def test_identity_domain_scoped_admin_is_refused_admin_only_rules(
        identity: PolicyEngine) -> None:
    domain_admin = RequestContext(request_id="req-test", user_id="u-d", user_domain_id="d1",
                                  domain_id="d1", roles=["admin"], authenticated=True)
    assert identity.allows("identity:create_service", {}, domain_admin) is False


def test_identity_owner_rule_uses_the_path_user(identity: PolicyEngine) -> None:
    ctx = project_context("member", user="u-alice")
    target_self = {"target.user.id": "u-alice", "target.user.domain_id": "default"}
    target_other = {"target.user.id": "u-bob", "target.user.domain_id": "default"}
    assert identity.allows("identity:get_user", target_self, ctx) is True
    assert identity.allows("identity:get_user", target_other, ctx) is False


def test_remembered_decisions_follow_every_part_of_the_credentials_and_target() -> None:
    engine = PolicyEngine(SMALL_RULES)
    member = project_context("member")
    # Asked twice, the second answer comes from memory and is the same.
    for _ in range(2):
        assert engine.allows("demo:get_thing", target(user_id="u-alice"), member) is True
        assert engine.allows("demo:get_thing", target(), member) is False
    # Whoever differs in a single role, user or scope gets a decision of their own.
    assert engine.allows("demo:get_thing", target(), project_context("member", "admin"))
    assert not engine.allows("demo:get_thing", target(user_id="u-alice"),
                             project_context("member", user="u-bob"))
    assert not engine.allows("demo:delete_thing", target(), system_context("admin"))
    assert engine.allows("demo:delete_thing", target(), project_context("admin"))
    # A context whose roles change afterwards is judged on its roles now.
    member.roles.append("admin")
    assert engine.allows("demo:get_thing", target(), member) is True


def test_a_whole_resource_as_target_is_judged_each_time() -> None:
    engine = PolicyEngine(SMALL_RULES)
    resource = target(user_id="u-alice", tags=["a"], extra={"x": 1})
    assert engine.allows("demo:get_thing", resource, project_context("member")) is True
    assert engine.allows("demo:get_thing", resource | {"user_id": "u-eve"},
                         project_context("member")) is False


# -- overrides -----------------------------------------------------------------------------


def test_a_yaml_policy_file_overrides_a_rule(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"identity:list_services": "role:reader"\n')
    engine = PolicyEngine(RULES, policy_file=str(policy_file))
    reader = project_context("reader")
    assert engine.allows("identity:list_services", {}, reader) is True
    # Later checks keep the override (oslo reloads rules on every enforce).
    assert engine.allows("identity:list_services", {}, reader) is True
    # Rules the file does not name keep their defaults.
    assert engine.allows("identity:create_service", {}, reader) is False
    assert engine.rules()["identity:list_services"] == "role:reader"


def test_an_override_can_also_tighten_a_rule(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"demo:anyone": "role:admin"\n')
    engine = PolicyEngine(SMALL_RULES, policy_file=str(policy_file))
    with pytest.raises(Forbidden, match="demo:anyone"):
        engine.authorize("demo:anyone", {}, project_context("member"))
    assert engine.allows("demo:anyone", {}, project_context("admin")) is True


def test_load_overrides_after_construction_accepts_json(tmp_path: Path) -> None:
    engine = PolicyEngine(SMALL_RULES)
    assert engine.allows("demo:delete_thing", target(), project_context("member")) is False
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({"demo:delete_thing": "role:member"}))
    engine.load_overrides(policy_file)
    assert engine.allows("demo:delete_thing", target(), project_context("member")) is True


def test_an_override_keeps_the_rules_scope_types(tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text('"demo:system_only": "role:reader"\n')
    engine = PolicyEngine(SMALL_RULES, policy_file=str(policy_file))
    assert engine.allows("demo:system_only", {}, system_context("reader")) is True
    assert engine.allows("demo:system_only", {}, project_context("reader")) is False


def test_a_missing_policy_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        PolicyEngine(SMALL_RULES, policy_file=str(tmp_path / "absent.yaml"))
