"""nova's default policy rules for the operations stacklab serves (interim subset)."""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

_ADMIN = "role:admin"
_PROJECT_READER = "role:reader and project_id:%(project_id)s"
_ANY = ("project",)

RULES: list[PolicyRule] = [
    PolicyRule("context_is_admin", _ADMIN),
    PolicyRule("admin_api", _ADMIN),
    PolicyRule("os_compute_api:os-flavor-manage:create", "rule:context_is_admin", _ANY),
    PolicyRule("os_compute_api:os-flavor-manage:update", "rule:context_is_admin", _ANY),
    PolicyRule("os_compute_api:os-flavor-manage:delete", "rule:context_is_admin", _ANY),
    PolicyRule("os_compute_api:os-flavor-extra-specs:index", f"{_PROJECT_READER}", _ANY),
    PolicyRule("os_compute_api:os-flavor-extra-specs:show", f"{_PROJECT_READER}", _ANY),
    PolicyRule("os_compute_api:os-flavor-extra-specs:create", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-flavor-extra-specs:update", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-flavor-extra-specs:delete", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-flavor-access", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-flavor-access:add_tenant_access", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-flavor-access:remove_tenant_access", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-keypairs:index", "(rule:admin_api) or user_id:%(user_id)s",
               _ANY),
    PolicyRule("os_compute_api:os-keypairs:show", "(rule:admin_api) or user_id:%(user_id)s",
               _ANY),
    PolicyRule("os_compute_api:os-keypairs:create", "(rule:admin_api) or user_id:%(user_id)s",
               _ANY),
    PolicyRule("os_compute_api:os-keypairs:delete", "(rule:admin_api) or user_id:%(user_id)s",
               _ANY),
    PolicyRule("os_compute_api:limits", "@", _ANY),
    PolicyRule("os_compute_api:os-availability-zone:list", "@", _ANY),
    PolicyRule("os_compute_api:os-availability-zone:detail", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-services:list", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-hypervisors:list", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-hypervisors:list-detail", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-hypervisors:show", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-hypervisors:statistics", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-services:update", _ADMIN, _ANY),
    PolicyRule("os_compute_api:os-services:delete", _ADMIN, _ANY),
]
