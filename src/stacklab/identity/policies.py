"""Keystone's default policy rules, as data for oslo.policy.

Read from openstack/keystone master, commit 30ef2ffa65a3486ef882f00538e20f2253c57d4c
(2026-07-17, "Merge 'Make JWT token signing algorithm configurable'"), files
``keystone/common/policies/base.py`` and the per-resource modules beside it.

Rule names and check strings are an interface: operators override them by name in a
policy file, and tools such as ``oslopolicy-checker`` reason about the strings. So both
are kept character for character as keystone registers them; only the layout of this
module and the descriptions are ours.

Things worth knowing when enforcing these rules:

* ``admin_required`` is ``role:admin or is_admin:1`` with no scope check, and since
  keystone 25.0.0 (2024.1, "Consistent and Secure RBAC phase 1") the admin-only rules
  list ``project`` among their scope types. An ``admin`` on *any* project is therefore a
  cloud administrator; ``system_scope:all`` is only demanded of readers.
* oslo.policy >= 4 defaults ``enforce_new_defaults`` to True, and the 6.x series no
  longer has an ``enforce_scope`` switch at all: a rule's scope types are always
  checked. oslo.policy picks the token scope from the credentials: ``system`` (copied
  from ``system_scope``) wins, then a truthy ``domain_id``, and anything else counts as
  ``project`` (unscoped tokens included). Rules with no scope types skip the check.
* ``%(target.project.id)s`` is plain ``%``-formatting against the target mapping, so the
  target must be *flat*, with dotted keys, as keystone's ``flatten_dict`` makes it:
  ``{"target.project.id": ...}``. A missing key makes that one check False, not an
  error. The left-hand side of a check (``token.domain.id``) is instead walked through
  nested credentials.
* Credentials must carry ``domain_id: None`` for non-domain tokens, as keystone's
  request context does: ``not domain_id:None`` (identity:list_roles) turns True when
  the key is absent.
* Keystone builds the target from the database and the URL path only; request bodies
  and query filters go under ``request_body`` / ``filter_attr`` since CVE-2026-42999,
  so they can never overwrite ``target.*`` or path values such as ``user_id``.
* For application credentials, keystone replaces the path's ``user_id`` with the
  credential's real owner before checking ``rule:owner``.
"""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

# Scope sets as keystone declares them. Admin-only rules say ("system", "project"): a
# domain-scoped admin token is refused even though it has the admin role.
ANY_SCOPE: tuple[str, ...] = ("system", "domain", "project")
SYSTEM_OR_PROJECT: tuple[str, ...] = ("system", "project")
PROJECT_ONLY: tuple[str, ...] = ("project",)
NO_SCOPE: tuple[str, ...] = ()

# APIs keystone deliberately leaves outside policy enforcement. Changing one's own
# password is guarded by the original password, not by a rule, so operators cannot
# restrict it in a policy file. OAuth1's request and access tokens are guarded by the
# consumer's signature (and the access token by the verifier a user's authorization gave).
UNENFORCED_APIS: tuple[str, ...] = (
    "POST /v3/auth/tokens",
    "POST /v3/users/{user_id}/password",
    "POST /v3/OS-OAUTH1/request_token",
    "POST /v3/OS-OAUTH1/access_token",
)

# ---- check-string building blocks -------------------------------------------------------
# Keystone spells the same logic two ways ("rule:admin_required or ..." and
# "(rule:admin_required) or ..."), depending on the file; the exact spelling is kept so
# that generated sample policy files match upstream's byte for byte.

_ADMIN = "rule:admin_required"
_PADMIN = f"({_ADMIN})"
_SYS_READER = "(role:reader and system_scope:all)"
_SYS_ADMIN = "(role:admin and system_scope:all)"
_ADMIN_OR_SYS_READER = f"{_ADMIN} or {_SYS_READER}"
_PADMIN_OR_SYS_READER = f"{_PADMIN} or {_SYS_READER}"

# A project's owning domain must be compared only when it is set: a root project (a
# domain itself) has domain_id None, and so do project-scoped credentials, and
# None == None must not grant access (keystone bug 2138295).
_PROJECT_IN_MY_DOMAIN = (
    "domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s"
)
_PROJECT_READ = (
    f"{_PADMIN_OR_SYS_READER} or (role:reader and {_PROJECT_IN_MY_DOMAIN}) "
    "or project_id:%(target.project.id)s"
)
_PROJECT_WRITE = f"{_PADMIN} or (role:manager and {_PROJECT_IN_MY_DOMAIN})"

_USER_WRITE = f"{_PADMIN} or (role:manager and token.domain.id:%(target.user.domain_id)s)"

_GROUP_READ = f"{_PADMIN_OR_SYS_READER} or (role:reader and domain_id:%(target.group.domain_id)s)"
_GROUP_WRITE = f"{_PADMIN} or (role:manager and domain_id:%(target.group.domain_id)s)"
_GROUP_AND_USER_IN_MY_DOMAIN = (
    "domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s"
)
_MEMBERSHIP_WRITE = f"{_PADMIN} or (role:manager and {_GROUP_AND_USER_IN_MY_DOMAIN})"

_ASSIGNMENTS_READ = f"{_PADMIN_OR_SYS_READER} or (role:reader and domain_id:%(target.domain_id)s)"

_CREDENTIAL_OWNER = "user_id:%(target.credential.user_id)s"


def _grant_in_my_domain(role: str) -> str:
    """A domain-scoped ``role`` holder acting on an actor and a target of its domain.

    One rule guards user and group grants on both projects and domains, so all four
    (actor, target) pairings are spelled out; the ones the request lacks are False.
    """
    actors = ("%(target.user.domain_id)s", "%(target.group.domain_id)s")
    targets = ("%(target.project.domain_id)s", "%(target.domain.id)s")
    return " or ".join(
        f"(role:{role} and domain_id:{actor} and domain_id:{target})"
        for actor in actors
        for target in targets
    )


# A domain may hand out global roles and its own domain-specific roles only.
_ROLE_GLOBAL_OR_MINE = "domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s"
_GRANT_READ = (
    f"{_PADMIN} or ({_SYS_READER} or ({_grant_in_my_domain('reader')}) "
    f"and ({_ROLE_GLOBAL_OR_MINE}))"
)
_GRANT_LIST = f"{_PADMIN} or ({_SYS_READER} or {_grant_in_my_domain('reader')})"
_GRANT_WRITE = (
    f"{_PADMIN} or ({_grant_in_my_domain('admin')}) and ({_ROLE_GLOBAL_OR_MINE}) "
    f"or ({_grant_in_my_domain('manager')}) and rule:domain_managed_target_role"
)

_LIMIT_READ = (
    f"{_ADMIN_OR_SYS_READER} or "
    "(domain_id:%(target.limit.domain.id)s or domain_id:%(target.limit.project.domain_id)s) "
    "or (project_id:%(target.limit.project_id)s and not None:%(target.limit.project_id)s)"
)


def _identity(
    action: str, check_str: str, scope_types: tuple[str, ...], description: str
) -> PolicyRule:
    return PolicyRule(f"identity:{action}", check_str, scope_types, description)


def _admin_only(action: str, description: str) -> PolicyRule:
    return _identity(action, _ADMIN, SYSTEM_OR_PROJECT, description)


def _admin_or_system_reader(action: str, description: str) -> PolicyRule:
    return _identity(action, _ADMIN_OR_SYS_READER, SYSTEM_OR_PROJECT, description)


# ---- rules keystone registers without an "identity:" prefix ------------------------------
# Other rules reach them with "rule:<name>"; no scope types, so they never reject a token
# on scope themselves.

BASE_RULES: list[PolicyRule] = [
    PolicyRule(
        "admin_required",
        "role:admin or is_admin:1",
        description="Holder of the admin role, whatever the token's scope.",
    ),
    PolicyRule(
        "service_role", "role:service", description="A service user (holder of the service role)."
    ),
    PolicyRule(
        "service_or_admin",
        "rule:admin_required or rule:service_role",
        description="Either an admin or a service user.",
    ),
    PolicyRule(
        "owner",
        "user_id:%(user_id)s",
        description="The caller is the user named in the request path.",
    ),
    PolicyRule(
        "admin_or_owner",
        "rule:admin_required or rule:owner",
        description="An admin, or the user named in the request path.",
    ),
    PolicyRule(
        "token_subject",
        "user_id:%(target.token.user_id)s",
        description="The caller owns the token given in X-Subject-Token.",
    ),
    PolicyRule(
        "admin_or_token_subject",
        "rule:admin_required or rule:token_subject",
        description="An admin, or the owner of the subject token.",
    ),
    PolicyRule(
        "service_admin_or_token_subject",
        "rule:service_or_admin or rule:token_subject",
        description="An admin, a service user, or the owner of the subject token.",
    ),
    PolicyRule(
        "domain_managed_target_role",
        "'manager':%(target.role.name)s or 'member':%(target.role.name)s"
        " or 'reader':%(target.role.name)s",
        description="Roles a domain manager may see and assign; never admin, so a "
        "manager cannot raise anyone above itself.",
    ),
]

TOKEN_RULES: list[PolicyRule] = [
    _identity(
        "check_token",
        f"{_ADMIN_OR_SYS_READER} or rule:token_subject",
        ANY_SCOPE,
        "HEAD /v3/auth/tokens: is the subject token valid?",
    ),
    _identity(
        "validate_token",
        f"{_ADMIN_OR_SYS_READER} or rule:service_role or rule:token_subject",
        ANY_SCOPE,
        "GET /v3/auth/tokens: validate and show the subject token.",
    ),
    _identity(
        "revoke_token",
        f"{_ADMIN} or rule:token_subject",
        ANY_SCOPE,
        "DELETE /v3/auth/tokens: revoke the subject token.",
    ),
]

PROJECT_RULES: list[PolicyRule] = [
    _identity(
        "get_project",
        _PROJECT_READ,
        ANY_SCOPE,
        "Show a project: admins, system or owning-domain readers, or anyone "
        "scoped to that very project.",
    ),
    _identity(
        "list_projects",
        f"{_PADMIN_OR_SYS_READER} or (role:reader and domain_id:%(target.domain_id)s)",
        ANY_SCOPE,
        "List projects, optionally by domain.",
    ),
    _identity(
        "list_user_projects",
        f"{_PADMIN_OR_SYS_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(target.user.id)s",
        ANY_SCOPE,
        "GET /v3/users/{user_id}/projects: a user's projects.",
    ),
    _identity(
        "create_project",
        _PROJECT_WRITE,
        ANY_SCOPE,
        "Create a project; domain managers may do so inside their domain.",
    ),
    _identity("update_project", _PROJECT_WRITE, ANY_SCOPE, "Update a project."),
    _identity("delete_project", _PROJECT_WRITE, ANY_SCOPE, "Delete a project."),
    _identity("list_project_tags", _PROJECT_READ, ANY_SCOPE, "List a project's tags."),
    _identity("get_project_tag", _PROJECT_READ, ANY_SCOPE, "Test whether a project has a tag."),
    _identity(
        "update_project_tags", _PROJECT_WRITE, ANY_SCOPE, "Replace a project's whole tag list."
    ),
    _identity("create_project_tag", _PROJECT_WRITE, ANY_SCOPE, "Add one tag to a project."),
    _identity("delete_project_tags", _PROJECT_WRITE, ANY_SCOPE, "Clear a project's tags."),
    _identity("delete_project_tag", _PROJECT_WRITE, ANY_SCOPE, "Remove one tag from a project."),
]

DOMAIN_RULES: list[PolicyRule] = [
    _identity(
        "get_domain",
        f"{_ADMIN_OR_SYS_READER} or token.domain.id:%(target.domain.id)s"
        " or token.project.domain.id:%(target.domain.id)s",
        ANY_SCOPE,
        "Show a domain: any role is enough when the token is scoped to the domain or "
        "to one of its projects.",
    ),
    _identity(
        "list_domains",
        f"{_ADMIN_OR_SYS_READER} or (role:reader and domain_id:%(target.domain.id)s)",
        ANY_SCOPE,
        "List domains.",
    ),
    _admin_only("create_domain", "Create a domain."),
    _admin_only("update_domain", "Update a domain."),
    _admin_only("delete_domain", "Delete a domain."),
]

USER_RULES: list[PolicyRule] = [
    _identity(
        "get_user",
        f"{_PADMIN_OR_SYS_READER} or "
        "(role:reader and token.domain.id:%(target.user.domain_id)s) "
        "or user_id:%(target.user.id)s",
        ANY_SCOPE,
        "Show a user; everybody may read their own record.",
    ),
    _identity(
        "list_users",
        f"{_PADMIN_OR_SYS_READER} or (role:reader and domain_id:%(target.domain_id)s)",
        ANY_SCOPE,
        "List users.",
    ),
    # Both are registered for /v3/auth/{projects,domains} but keystone enforces
    # get_auth_projects / get_auth_domains there; these names are only kept so that
    # operators' files naming them still load. Left without scope: unscoped tokens use them.
    _identity(
        "list_projects_for_user",
        "",
        NO_SCOPE,
        "Projects the caller can scope to (registered, not enforced upstream).",
    ),
    _identity(
        "list_domains_for_user",
        "",
        NO_SCOPE,
        "Domains the caller can scope to (registered, not enforced upstream).",
    ),
    _identity(
        "create_user",
        _USER_WRITE,
        ANY_SCOPE,
        "Create a user; domain managers may do so in their domain.",
    ),
    _identity(
        "update_user",
        _USER_WRITE,
        ANY_SCOPE,
        "Update a user. Changing one's own password is a separate, unchecked API.",
    ),
    _identity("delete_user", _USER_WRITE, ANY_SCOPE, "Delete a user."),
]

GROUP_RULES: list[PolicyRule] = [
    _identity("get_group", _GROUP_READ, ANY_SCOPE, "Show a group."),
    _identity("list_groups", _GROUP_READ, ANY_SCOPE, "List groups."),
    _identity(
        "list_groups_for_user",
        f"{_PADMIN_OR_SYS_READER} or (role:reader and domain_id:%(target.user.domain_id)s)"
        " or user_id:%(user_id)s",
        ANY_SCOPE,
        "List the groups a user belongs to.",
    ),
    _identity("create_group", _GROUP_WRITE, ANY_SCOPE, "Create a group."),
    _identity("update_group", _GROUP_WRITE, ANY_SCOPE, "Update a group."),
    _identity("delete_group", _GROUP_WRITE, ANY_SCOPE, "Delete a group."),
    _identity("list_users_in_group", _GROUP_READ, ANY_SCOPE, "List a group's members."),
    _identity(
        "remove_user_from_group",
        _MEMBERSHIP_WRITE,
        ANY_SCOPE,
        "Take a user out of a group; a domain manager needs both in its domain.",
    ),
    _identity(
        "check_user_in_group",
        f"{_PADMIN_OR_SYS_READER} or (role:reader and {_GROUP_AND_USER_IN_MY_DOMAIN})",
        ANY_SCOPE,
        "Test whether a user is in a group.",
    ),
    _identity("add_user_to_group", _MEMBERSHIP_WRITE, ANY_SCOPE, "Put a user into a group."),
]

ROLE_RULES: list[PolicyRule] = [
    _identity(
        "get_role",
        f"({_ADMIN_OR_SYS_READER}) or (role:manager and rule:domain_managed_target_role)",
        ANY_SCOPE,
        "Show a role; domain managers see the roles they may assign.",
    ),
    # The manager branch wants a domain-scoped token; roles have no owning domain to
    # compare with, so a non-None domain_id in the credentials is the whole test.
    _identity(
        "list_roles",
        f"({_ADMIN_OR_SYS_READER}) or (role:manager and not domain_id:None)",
        ANY_SCOPE,
        "List global roles.",
    ),
    _admin_only("create_role", "Create a global role."),
    _admin_only("update_role", "Update a global role."),
    _admin_only("delete_role", "Delete a global role."),
    _admin_or_system_reader("get_domain_role", "Show a domain-specific role."),
    _admin_or_system_reader("list_domain_roles", "List roles of one domain (?domain_id=)."),
    _admin_only("create_domain_role", "Create a domain-specific role."),
    _admin_only("update_domain_role", "Update a domain-specific role."),
    _admin_only("delete_domain_role", "Delete a domain-specific role."),
]

IMPLIED_ROLE_RULES: list[PolicyRule] = [
    _admin_or_system_reader("get_implied_role", "Show one prior-role -> implied-role rule."),
    _admin_or_system_reader("list_implied_roles", "List what a prior role implies."),
    _admin_only("create_implied_role", "Make one role imply another."),
    _admin_only("delete_implied_role", "Drop an implication between roles."),
    _admin_or_system_reader("list_role_inference_rules", "List every implication rule."),
    _admin_or_system_reader("check_implied_role", "Test whether a role implies another."),
]

ASSIGNMENT_RULES: list[PolicyRule] = [
    _identity("list_role_assignments", _ASSIGNMENTS_READ, ANY_SCOPE, "GET /v3/role_assignments."),
    _identity(
        "list_role_assignments_for_tree",
        _ASSIGNMENTS_READ,
        ANY_SCOPE,
        "GET /v3/role_assignments?include_subtree: assignments below a project.",
    ),
    # One rule per verb covers user and group grants on projects and domains, inherited or
    # not: the target carries whichever of user/group and project/domain the path names.
    _identity("check_grant", _GRANT_READ, ANY_SCOPE, "Test for one role grant."),
    _identity(
        "list_grants", _GRANT_LIST, ANY_SCOPE, "List an actor's roles on a project or a domain."
    ),
    _identity(
        "create_grant",
        _GRANT_WRITE,
        ANY_SCOPE,
        "Grant a role; domain managers only manager/member/reader.",
    ),
    _identity("revoke_grant", _GRANT_WRITE, ANY_SCOPE, "Revoke a role; same limits as granting."),
    _admin_or_system_reader("list_system_grants_for_user", "List a user's system roles."),
    _admin_or_system_reader("check_system_grant_for_user", "Test a user's system role."),
    _admin_only("create_system_grant_for_user", "Give a user a role on the system."),
    _admin_only("revoke_system_grant_for_user", "Take a system role from a user."),
    _admin_or_system_reader("list_system_grants_for_group", "List a group's system roles."),
    _admin_or_system_reader("check_system_grant_for_group", "Test a group's system role."),
    _admin_only("create_system_grant_for_group", "Give a group a role on the system."),
    _admin_only("revoke_system_grant_for_group", "Take a system role from a group."),
]

CATALOG_RULES: list[PolicyRule] = [
    _admin_or_system_reader("get_service", "Show a catalog service."),
    _admin_or_system_reader("list_services", "List catalog services."),
    _admin_only("create_service", "Create a catalog service."),
    _admin_only("update_service", "Update a catalog service."),
    _admin_only("delete_service", "Delete a catalog service."),
    _admin_or_system_reader("get_endpoint", "Show an endpoint."),
    _admin_or_system_reader("list_endpoints", "List endpoints."),
    _admin_only("create_endpoint", "Create an endpoint."),
    _admin_only("update_endpoint", "Update an endpoint."),
    _admin_only("delete_endpoint", "Delete an endpoint."),
    # Region reads are open to every scoped token: clients need them to pick endpoints.
    _identity("get_region", "", ANY_SCOPE, "Show a region."),
    _identity("list_regions", "", ANY_SCOPE, "List regions."),
    _admin_only("create_region", "Create a region (POST, or PUT with a chosen id)."),
    _admin_only("update_region", "Update a region."),
    _admin_only("delete_region", "Delete a region."),
]

APPLICATION_CREDENTIAL_RULES: list[PolicyRule] = [
    _identity(
        "get_application_credential",
        f"{_PADMIN_OR_SYS_READER} or rule:owner",
        SYSTEM_OR_PROJECT,
        "Show an application credential.",
    ),
    _identity(
        "list_application_credentials",
        f"{_PADMIN_OR_SYS_READER} or rule:owner",
        SYSTEM_OR_PROJECT,
        "List a user's application credentials.",
    ),
    # Project scope only: the new credential is bound to the token's project.
    _identity(
        "create_application_credential",
        "user_id:%(user_id)s",
        PROJECT_ONLY,
        "Create an application credential for oneself.",
    ),
    _identity(
        "delete_application_credential",
        "rule:admin_or_owner",
        SYSTEM_OR_PROJECT,
        "Delete an application credential.",
    ),
]

# Unlike most rules these were not widened to project admins in 2024.1: only a
# system-scoped reader/admin or the owner passes.
ACCESS_RULE_RULES: list[PolicyRule] = [
    _identity(
        "get_access_rule",
        f"{_SYS_READER} or user_id:%(target.user.id)s",
        SYSTEM_OR_PROJECT,
        "Show an application-credential access rule.",
    ),
    _identity(
        "list_access_rules",
        f"{_SYS_READER} or user_id:%(target.user.id)s",
        SYSTEM_OR_PROJECT,
        "List a user's access rules.",
    ),
    _identity(
        "delete_access_rule",
        f"{_SYS_ADMIN} or user_id:%(target.user.id)s",
        SYSTEM_OR_PROJECT,
        "Delete an access rule.",
    ),
]

CREDENTIAL_RULES: list[PolicyRule] = [
    _identity(
        "get_credential",
        f"{_PADMIN_OR_SYS_READER} or {_CREDENTIAL_OWNER}",
        ANY_SCOPE,
        "Show a credential (/v3/credentials).",
    ),
    # Keystone checks list_credentials once per listed credential to filter the result.
    _identity(
        "list_credentials",
        f"{_PADMIN_OR_SYS_READER} or {_CREDENTIAL_OWNER}",
        ANY_SCOPE,
        "List credentials.",
    ),
    _identity(
        "create_credential", f"{_PADMIN} or {_CREDENTIAL_OWNER}", ANY_SCOPE, "Create a credential."
    ),
    _identity(
        "update_credential", f"{_PADMIN} or {_CREDENTIAL_OWNER}", ANY_SCOPE, "Update a credential."
    ),
    _identity(
        "delete_credential", f"{_PADMIN} or {_CREDENTIAL_OWNER}", ANY_SCOPE, "Delete a credential."
    ),
]

# Anyone holding a valid token; no scope types since unscoped tokens call these too.
AUTH_RULES: list[PolicyRule] = [
    _identity("get_auth_catalog", "", NO_SCOPE, "GET /v3/auth/catalog."),
    _identity("get_auth_projects", "", NO_SCOPE, "GET /v3/auth/projects: projects to scope to."),
    _identity("get_auth_domains", "", NO_SCOPE, "GET /v3/auth/domains: domains to scope to."),
    _identity("get_auth_system", "", NO_SCOPE, "GET /v3/auth/system: system scope if granted."),
]

LIMIT_RULES: list[PolicyRule] = [
    _identity("get_limit_model", "", ANY_SCOPE, "Show the limit enforcement model."),
    _identity(
        "get_limit",
        _LIMIT_READ,
        ANY_SCOPE,
        "Show a project or domain limit; any token scoped to its owner may.",
    ),
    _identity(
        "list_limits",
        "",
        ANY_SCOPE,
        "List limits (keystone filters the result to the caller's scope).",
    ),
    _admin_only("create_limits", "Create limits (plural: the API takes a batch)."),
    _admin_only("update_limit", "Update a limit."),
    _admin_only("delete_limit", "Delete a limit."),
    _identity("get_registered_limit", "", ANY_SCOPE, "Show a registered (default) limit."),
    _identity("list_registered_limits", "", ANY_SCOPE, "List registered limits."),
    _admin_only("create_registered_limits", "Create registered limits (a batch)."),
    _admin_only("update_registered_limit", "Update a registered limit."),
    _admin_only("delete_registered_limit", "Delete a registered limit."),
]

REVOCATION_RULES: list[PolicyRule] = [
    _identity(
        "list_revoke_events",
        "rule:service_or_admin",
        SYSTEM_OR_PROJECT,
        "GET /v3/OS-REVOKE/events.",
    ),
]

# EC2-style credentials (``openstack ec2 credentials ...``): owners manage their own.
EC2_CREDENTIAL_RULES: list[PolicyRule] = [
    _identity(
        "ec2_get_credential",
        f"{_PADMIN_OR_SYS_READER} or user_id:%(target.credential.user_id)s",
        SYSTEM_OR_PROJECT,
        "Show an EC2 credential.",
    ),
    _identity(
        "ec2_list_credentials",
        f"{_PADMIN_OR_SYS_READER} or rule:owner",
        SYSTEM_OR_PROJECT,
        "List a user's EC2 credentials.",
    ),
    _identity(
        "ec2_create_credential",
        f"{_PADMIN} or (role:member and user_id:%(target.credential.user_id)s)",
        SYSTEM_OR_PROJECT,
        "Create an EC2 credential.",
    ),
    _identity(
        "ec2_delete_credential",
        f"{_PADMIN} or (role:member and user_id:%(target.credential.user_id)s)",
        SYSTEM_OR_PROJECT,
        "Delete an EC2 credential.",
    ),
]

_TRUSTOR = "user_id:%(target.trust.trustor_user_id)s"
_TRUSTEE = "user_id:%(target.trust.trustee_user_id)s"
_SYS_READER_BARE = "role:reader and system_scope:all"
_TRUST_READ = f"({_ADMIN}) or ({_SYS_READER_BARE} or {_TRUSTOR} or {_TRUSTEE})"

# Trusts are project-scoped to create (keystone's FIXME: no system trusts yet).
TRUST_RULES: list[PolicyRule] = [
    _identity("create_trust", _TRUSTOR, PROJECT_ONLY, "Create a trust, as its trustor."),
    _admin_or_system_reader("list_trusts", "List every trust."),
    _identity(
        "list_trusts_for_trustor",
        f"({_ADMIN}) or ({_SYS_READER_BARE} or {_TRUSTOR})",
        SYSTEM_OR_PROJECT,
        "List the trusts of a trustor (?trustor_user_id=).",
    ),
    _identity(
        "list_trusts_for_trustee",
        f"({_ADMIN}) or ({_SYS_READER_BARE} or {_TRUSTEE})",
        SYSTEM_OR_PROJECT,
        "List the trusts of a trustee (?trustee_user_id=).",
    ),
    _identity("list_roles_for_trust", _TRUST_READ, SYSTEM_OR_PROJECT,
              "List the roles a trust delegates."),
    _identity("get_role_for_trust", _TRUST_READ, SYSTEM_OR_PROJECT,
              "Test whether a trust delegates a role."),
    _identity("delete_trust", f"{_ADMIN} or {_TRUSTOR}", SYSTEM_OR_PROJECT, "Revoke a trust."),
    _identity("get_trust", _TRUST_READ, SYSTEM_OR_PROJECT, "Show a trust."),
]

DOMAIN_CONFIG_RULES: list[PolicyRule] = [
    _admin_only("create_domain_config", "Create (or replace) a domain's configuration."),
    _admin_or_system_reader("get_domain_config", "Show a domain's configuration."),
    # Anyone with a token may read the password rules, whatever its scope.
    _identity("get_security_compliance_domain_config", "", ANY_SCOPE,
              "Show the default domain's security compliance (password) rules."),
    _admin_only("update_domain_config", "Update a domain's configuration."),
    _admin_only("delete_domain_config", "Delete a domain's configuration."),
    _admin_or_system_reader("get_domain_config_default",
                            "Show the defaults a domain's configuration overrides."),
]

POLICY_BLOB_RULES: list[PolicyRule] = [
    _admin_or_system_reader("get_policy", "Show a policy blob (/v3/policies, deprecated)."),
    _admin_or_system_reader("list_policies", "List policy blobs."),
    _admin_only("create_policy", "Create a policy blob."),
    _admin_only("update_policy", "Update a policy blob."),
    _admin_only("delete_policy", "Delete a policy blob."),
]

ENDPOINT_FILTER_RULES: list[PolicyRule] = [
    _admin_only("create_endpoint_group", "Create an endpoint group."),
    _admin_or_system_reader("list_endpoint_groups", "List endpoint groups."),
    _admin_or_system_reader("get_endpoint_group", "Show an endpoint group."),
    _admin_only("update_endpoint_group", "Update an endpoint group."),
    _admin_only("delete_endpoint_group", "Delete an endpoint group."),
    _admin_or_system_reader("list_projects_associated_with_endpoint_group",
                            "List the projects an endpoint group is associated with."),
    _admin_or_system_reader("list_endpoints_associated_with_endpoint_group",
                            "List the endpoints an endpoint group selects."),
    _admin_or_system_reader("get_endpoint_group_in_project",
                            "Show an endpoint group's association with a project."),
    _admin_or_system_reader("list_endpoint_groups_for_project",
                            "List the endpoint groups associated with a project."),
    _admin_only("add_endpoint_group_to_project", "Associate an endpoint group with a project."),
    _admin_only("remove_endpoint_group_from_project",
                "Remove an endpoint group's association with a project."),
    _admin_or_system_reader("list_projects_for_endpoint",
                            "List the projects an endpoint is associated with."),
    _admin_only("add_endpoint_to_project", "Associate an endpoint with a project."),
    _admin_or_system_reader("check_endpoint_in_project",
                            "Test an endpoint's association with a project."),
    _admin_or_system_reader("list_endpoints_for_project",
                            "List the endpoints associated with a project."),
    _admin_only("remove_endpoint_from_project",
                "Remove an endpoint's association with a project."),
]

CONSUMER_RULES: list[PolicyRule] = [
    _admin_or_system_reader("get_consumer", "Show an OAuth1 consumer."),
    _admin_or_system_reader("list_consumers", "List OAuth1 consumers."),
    _admin_only("create_consumer", "Create an OAuth1 consumer."),
    _admin_only("update_consumer", "Update an OAuth1 consumer."),
    _admin_only("delete_consumer", "Delete an OAuth1 consumer."),
]

# OAuth1's request-token authorization and a user's access tokens: admin only, of a
# project-scoped token, as keystone registers them.
ACCESS_TOKEN_RULES: list[PolicyRule] = [
    _identity("authorize_request_token", _ADMIN, PROJECT_ONLY,
              "Authorize an OAuth1 request token with some of one's roles."),
    _identity("get_access_token", _ADMIN, PROJECT_ONLY, "Show an OAuth1 access token."),
    _identity("get_access_token_role", _ADMIN, PROJECT_ONLY,
              "Show a role an OAuth1 access token delegates."),
    _identity("list_access_tokens", _ADMIN, PROJECT_ONLY, "List a user's OAuth1 access tokens."),
    _identity("list_access_token_roles", _ADMIN, PROJECT_ONLY,
              "List the roles an OAuth1 access token delegates."),
    _identity("delete_access_token", _ADMIN, PROJECT_ONLY, "Revoke an OAuth1 access token."),
]

POLICY_ASSOCIATION_RULES: list[PolicyRule] = [
    _admin_only("create_policy_association_for_endpoint",
                "Associate a policy with an endpoint."),
    _admin_or_system_reader("check_policy_association_for_endpoint",
                            "Test a policy's association with an endpoint."),
    _admin_only("delete_policy_association_for_endpoint",
                "Remove a policy's association with an endpoint."),
    _admin_only("create_policy_association_for_service", "Associate a policy with a service."),
    _admin_or_system_reader("check_policy_association_for_service",
                            "Test a policy's association with a service."),
    _admin_only("delete_policy_association_for_service",
                "Remove a policy's association with a service."),
    _admin_only("create_policy_association_for_region_and_service",
                "Associate a policy with a service in a region."),
    _admin_or_system_reader("check_policy_association_for_region_and_service",
                            "Test a policy's association with a service in a region."),
    _admin_only("delete_policy_association_for_region_and_service",
                "Remove a policy's association with a service in a region."),
    _admin_or_system_reader("get_policy_for_endpoint", "Show the policy of an endpoint."),
    _admin_or_system_reader("list_endpoints_for_policy", "List the endpoints of a policy."),
]

RULES: list[PolicyRule] = [
    *BASE_RULES,
    *TOKEN_RULES,
    *PROJECT_RULES,
    *DOMAIN_RULES,
    *USER_RULES,
    *GROUP_RULES,
    *ROLE_RULES,
    *IMPLIED_ROLE_RULES,
    *ASSIGNMENT_RULES,
    *CATALOG_RULES,
    *APPLICATION_CREDENTIAL_RULES,
    *ACCESS_RULE_RULES,
    *CREDENTIAL_RULES,
    *EC2_CREDENTIAL_RULES,
    *AUTH_RULES,
    *LIMIT_RULES,
    *REVOCATION_RULES,
    *TRUST_RULES,
    *DOMAIN_CONFIG_RULES,
    *POLICY_BLOB_RULES,
    *ENDPOINT_FILTER_RULES,
    *CONSUMER_RULES,
    *ACCESS_TOKEN_RULES,
    *POLICY_ASSOCIATION_RULES,
]

RULES_BY_NAME: dict[str, PolicyRule] = {rule.name: rule for rule in RULES}
