"""The request context: who is calling, with which scope, under which request id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestContext:
    request_id: str
    global_request_id: str | None = None
    auth_token: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    user_domain_id: str | None = None
    user_domain_name: str | None = None
    project_id: str | None = None
    project_name: str | None = None
    project_domain_id: str | None = None
    project_domain_name: str | None = None
    domain_id: str | None = None
    domain_name: str | None = None
    system_scope: str | None = None
    roles: list[str] = field(default_factory=list)
    audit_ids: list[str] = field(default_factory=list)
    application_credential_id: str | None = None
    # A trust-scoped token's trust (oslo.context's trust_id): the call is delegated.
    trust_id: str | None = None
    # An OAuth1 token's access token (keystone's oauth_access_token_id): delegated too.
    access_token_id: str | None = None
    is_admin_project: bool = True
    authenticated: bool = False

    @property
    def scoped(self) -> bool:
        """Whether the token names a project, a domain or the system (not unscoped)."""
        return bool(self.project_id or self.domain_id or self.system_scope)

    @property
    def is_delegated_auth(self) -> bool:
        """A trust's or an OAuth1 access token's token: oslo.context's is_delegated_auth."""
        return bool(self.trust_id or self.access_token_id)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def policy_credentials(self) -> dict[str, Any]:
        """The credentials dict oslo.policy reads (as oslo.context's to_policy_values)."""
        return {
            "user_id": self.user_id,
            "user_domain_id": self.user_domain_id,
            "project_id": self.project_id,
            "project_domain_id": self.project_domain_id,
            "domain_id": self.domain_id,
            "system_scope": self.system_scope,
            "roles": self.roles,
            "is_admin_project": self.is_admin_project,
            # nova and glance mark a context admin when it holds the admin role
            # ("context_is_admin"); their rules then test is_admin:True.
            "is_admin": self.is_admin,
            "service_user_id": None,
            "service_roles": [],
            "service_project_id": None,
            "token": self._token_view(),
        }

    def policy_key(self) -> tuple[Any, ...]:
        """What ``policy_credentials`` is made of, as one hashable value: two contexts with
        the same key get the same policy decisions."""
        return (self.user_id, self.user_domain_id, self.project_id, self.project_domain_id,
                self.domain_id, self.system_scope, tuple(self.roles), self.is_admin_project)

    def _token_view(self) -> dict[str, Any]:
        """The token as keystone's rules see it (token.domain.id, token.project.domain.id).

        Unset parts are left out rather than set to None, so that a check such
        as ``token.domain.id:%(target.domain.id)s`` can never match None to None.
        """
        token: dict[str, Any] = {}
        if self.user_id:
            token["user"] = {"id": self.user_id, "domain": {"id": self.user_domain_id}}
        if self.domain_id:
            token["domain"] = {"id": self.domain_id}
        if self.project_id:
            token["project"] = {"id": self.project_id,
                                "domain": {"id": self.project_domain_id}}
        return token
