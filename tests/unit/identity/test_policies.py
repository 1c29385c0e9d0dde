"""Keystone's default rules, evaluated by the real oslo.policy engine.

How oslo.policy reads the two dicts these tests build:

* Credentials: the token scope is taken from the keys, in this order: a truthy
  ``system_scope`` (copied to ``system`` by ``enforce``) means system scope, else a
  truthy ``domain_id`` means domain scope, else the token counts as project-scoped
  (even an unscoped one). ``roles`` feeds ``role:`` checks; ``user_id``,
  ``project_id`` and ``domain_id`` feed the generic ``key:value`` checks. As in
  keystone's request context, ``domain_id`` is present and None for non-domain tokens.
* Target: ``%(target.project.id)s`` is ``%``-formatting, so the target is a flat dict
  whose keys contain the dots, the shape keystone's ``flatten_dict`` produces. Path
  values such as ``user_id`` sit at the top level.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from oslo_config import cfg
from oslo_policy import policy

from stacklab.identity.policies import RULES, RULES_BY_NAME

ALICE = "u-alice"
BOB = "u-bob"
PROJECT = "p-alpha"
OTHER_PROJECT = "p-beta"
DOMAIN = "d-acme"


@pytest.fixture(scope="module")
def enforcer() -> policy.Enforcer:
    # Enforcer(..., use_conf=False) never copies registered defaults into its rule set
    # (load_rules only does so on the use_conf path), so every check would fail closed.
    # Use the conf path with an initialised, empty config and a policy file that cannot
    # exist; without the overrides, oslo.config would look for policy.yaml in ~ and /etc.
    conf = cfg.ConfigOpts()
    conf(args=[], default_config_files=[], default_config_dirs=[])
    e = policy.Enforcer(conf, policy_file="/nonexistent/stacklab/policy.yaml")
    conf.set_override("policy_dirs", [], group="oslo_policy")
    e.register_defaults(
        [
            policy.RuleDefault(r.name, r.check_str, scope_types=list(r.scope_types) or None)
            for r in RULES
        ]
    )
    e.load_rules()
    return e


def creds(
    *roles: str,
    user_id: str = ALICE,
    project_id: str | None = None,
    domain_id: str | None = None,
    system: bool = False,
) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "roles": list(roles),
        "project_id": project_id,
        "domain_id": domain_id,
        "system_scope": "all" if system else None,
    }


def on_project(*roles: str, user_id: str = ALICE, project_id: str = PROJECT) -> dict[str, Any]:
    return creds(*roles, user_id=user_id, project_id=project_id)


def flatten(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flatten(value, dotted))
        else:
            flat[dotted] = value
    return flat


def test_rules_load_with_unique_names_and_resolvable_references(
    enforcer: policy.Enforcer,
) -> None:
    assert len(RULES_BY_NAME) == len(RULES)
    assert set(enforcer.rules) == set(RULES_BY_NAME)
    referenced = {m for r in RULES for m in re.findall(r"rule:(\w+)", r.check_str)}
    assert referenced <= set(RULES_BY_NAME)
    assert enforcer.check_rules(raise_on_violation=True)


def test_project_admin_administers_the_whole_cloud(enforcer: policy.Enforcer) -> None:
    admin = on_project("admin", "member", "reader")
    new_project = {"target.project.domain_id": "default"}
    assert enforcer.enforce("identity:create_project", new_project, admin)
    assert enforcer.enforce("identity:list_users", {}, admin)
    assert enforcer.enforce("identity:create_domain", {}, admin)


@pytest.mark.parametrize("roles", [("member", "reader"), ("reader",)])
def test_member_and_reader_cannot_administer(
    enforcer: policy.Enforcer, roles: tuple[str, ...]
) -> None:
    assert not enforcer.enforce("identity:list_users", {}, on_project(*roles))
    assert not enforcer.enforce(
        "identity:create_project", {"target.project.domain_id": "default"}, on_project(*roles)
    )


def test_reader_gets_own_project_only_with_flat_target(enforcer: policy.Enforcer) -> None:
    nested = {"target": {"project": {"id": PROJECT, "domain_id": "default"}}}
    reader = on_project("reader")
    assert enforcer.enforce("identity:get_project", flatten(nested), reader)
    assert enforcer.enforce("identity:get_project", {"target.project.id": PROJECT}, reader)
    assert not enforcer.enforce(
        "identity:get_project", {"target.project.id": OTHER_PROJECT}, on_project("reader")
    )
    # Nested, the %(target.project.id)s lookup raises KeyError, which oslo reads as False.
    assert not enforcer.enforce("identity:get_project", nested, on_project("reader"))


def test_project_scoped_none_domain_does_not_match_root_project(
    enforcer: policy.Enforcer,
) -> None:
    # A domain is a project with domain_id None; project tokens carry domain_id None too.
    root = {"target.project.id": "default", "target.project.domain_id": None}
    assert not enforcer.enforce("identity:update_project", root, on_project("manager"))
    assert not enforcer.enforce("identity:get_project", root, on_project("reader"))


def test_domain_manager_manages_projects_of_its_domain(enforcer: policy.Enforcer) -> None:
    manager = creds("manager", "member", "reader", domain_id=DOMAIN)
    assert enforcer.enforce(
        "identity:create_project", {"target.project.domain_id": DOMAIN}, manager
    )
    assert not enforcer.enforce(
        "identity:create_project", {"target.project.domain_id": "default"}, dict(manager)
    )


def test_user_lists_only_own_application_credentials(enforcer: policy.Enforcer) -> None:
    assert enforcer.enforce(
        "identity:list_application_credentials", {"user_id": ALICE}, on_project("member")
    )
    assert not enforcer.enforce(
        "identity:list_application_credentials", {"user_id": BOB}, on_project("member")
    )
    assert enforcer.enforce(
        "identity:list_application_credentials", {"user_id": BOB}, creds("reader", system=True)
    )


def test_scope_types_are_enforced_from_credential_keys(enforcer: policy.Enforcer) -> None:
    domain_admin = creds("admin", domain_id=DOMAIN)
    assert not enforcer.enforce("identity:create_domain", {}, domain_admin)
    with pytest.raises(policy.InvalidScope):
        enforcer.enforce("identity:create_domain", {}, dict(domain_admin), do_raise=True)
    # Application credentials are bound to a project, so system tokens may not create one.
    assert not enforcer.enforce(
        "identity:create_application_credential", {"user_id": ALICE}, creds("admin", system=True)
    )
    assert enforcer.enforce(
        "identity:create_application_credential", {"user_id": ALICE}, on_project("member")
    )
    # No scope_types on the auth rules: a token without any scope passes.
    assert enforcer.enforce("identity:get_auth_projects", {}, creds())


def test_list_roles_manager_branch_needs_domain_id_in_credentials(
    enforcer: policy.Enforcer,
) -> None:
    assert enforcer.enforce("identity:list_roles", {}, creds("manager", domain_id=DOMAIN))
    assert not enforcer.enforce("identity:list_roles", {}, on_project("manager"))
    # Why credentials must carry domain_id=None: without the key the negated check passes.
    keyless = on_project("manager")
    del keyless["domain_id"]
    assert enforcer.enforce("identity:list_roles", {}, keyless)


def test_domain_manager_grants_only_lesser_roles_inside_its_domain(
    enforcer: policy.Enforcer,
) -> None:
    grant = {
        "target.user.domain_id": DOMAIN,
        "target.project.domain_id": DOMAIN,
        "target.role.domain_id": None,
    }
    manager = creds("manager", domain_id=DOMAIN)
    assert enforcer.enforce(
        "identity:create_grant", {**grant, "target.role.name": "member"}, dict(manager)
    )
    assert not enforcer.enforce(
        "identity:create_grant", {**grant, "target.role.name": "admin"}, dict(manager)
    )
    assert not enforcer.enforce(
        "identity:create_grant",
        {**grant, "target.project.domain_id": "default", "target.role.name": "member"},
        dict(manager),
    )


def test_token_validation_by_subject_or_service(enforcer: policy.Enforcer) -> None:
    bobs_token = {"target.token.user_id": BOB}
    assert enforcer.enforce("identity:validate_token", bobs_token, on_project("service"))
    assert enforcer.enforce(
        "identity:validate_token", bobs_token, on_project("member", user_id=BOB)
    )
    assert not enforcer.enforce("identity:validate_token", bobs_token, on_project("member"))
    assert not enforcer.enforce("identity:revoke_token", bobs_token, on_project("service"))
