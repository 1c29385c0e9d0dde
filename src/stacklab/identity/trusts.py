"""OS-TRUST: a trustor delegates some of its roles on a project to a trustee.

keystone's rules (keystone/api/trusts.py and keystone/trust/core.py): the
trustor creates the trust with roles it holds on the project; a trust is gone
for every purpose once deleted, expired or out of uses; a trust-scoped
token may create a further trust only within its trust's redelegation depth,
roles, expiry and impersonation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Forbidden
from stacklab.identity import models as m
from stacklab.identity.errors import not_found
from stacklab.identity.expiry import parse_expiration
from stacklab.identity.roles import Roles
from stacklab.identity.state import IdentityState

_KNOWN = ("trustor_user_id", "trustee_user_id", "project_id", "impersonation", "expires_at",
          "remaining_uses", "allow_redelegation", "redelegation_count", "roles",
          "redelegated_trust_id", "id", "deleted_at")


def forbidden_action(action: str) -> Forbidden:
    """keystone's ForbiddenAction wording."""
    return Forbidden(f"You are not authorized to perform the requested action: {action}.")


@dataclass(frozen=True)
class Caller:
    """Who asks, as keystone's trust API sees the token."""

    user_id: str
    trust_id: str | None = None  # set for a trust-scoped token: the call redelegates
    methods: tuple[str, ...] = ()


class Trusts:
    def __init__(self, state: IdentityState, roles: Roles) -> None:
        self.state = state
        self.roles = roles

    @property
    def max_redelegation_count(self) -> int:
        return self.state.config.trust.max_redelegation_count

    # -- reading ---------------------------------------------------------------------

    def get(self, session: Session, trust_id: str, *, uses: bool = True) -> m.Trust:
        """A live trust: keystone's 404 for one deleted, expired or (``uses``) out of uses.

        The tokens a trust already gave outlive its last use: their validation passes
        ``uses=False``.
        """
        trust = session.get(m.Trust, trust_id)
        if trust is None or not self.usable(trust, uses=uses):
            raise not_found("trust", trust_id)
        # A redelegated trust holds only while every trustee up its chain does.
        for parent in self.pedigree(session, trust)[1:]:
            agent = session.get(m.User, parent.trustee_user_id)
            if agent is None or not agent.enabled:
                raise Forbidden("One of the trust agents is disabled or deleted")
        return trust

    def usable(self, trust: m.Trust, *, uses: bool = True) -> bool:
        if trust.deleted_at is not None:
            return False
        if trust.expires_at is not None and self.state.clock.now() > trust.expires_at:
            return False
        return not uses or trust.remaining_uses is None or trust.remaining_uses > 0

    def list_trusts(self, session: Session, *, trustor_user_id: str | None = None,
             trustee_user_id: str | None = None) -> list[m.Trust]:
        """Trusts not deleted (expired ones included, as keystone lists them)."""
        query = select(m.Trust).where(m.Trust.deleted_at.is_(None)).order_by(m.Trust.id)
        if trustor_user_id:
            query = query.where(m.Trust.trustor_user_id == trustor_user_id)
        elif trustee_user_id:
            query = query.where(m.Trust.trustee_user_id == trustee_user_id)
        return list(session.scalars(query))

    def roles_of(self, session: Session, trust: m.Trust) -> list[m.Role]:
        """The trust's roles that still exist."""
        found = (session.get(m.Role, role_id) for role_id in trust.role_ids)
        return [role for role in found if role is not None]

    def role_of(self, session: Session, trust: m.Trust, role_id: str) -> m.Role:
        if role_id not in trust.role_ids:
            raise not_found("role", role_id)
        return self.roles.get_role(session, role_id)

    def pedigree(self, session: Session, trust: m.Trust) -> list[m.Trust]:
        """The trust, then the trust it was redelegated from, up to the original one."""
        chain = [trust]
        while chain[-1].redelegated_trust_id:
            parent = session.get(m.Trust, chain[-1].redelegated_trust_id)
            if parent is None:
                break
            chain.append(parent)
        return chain

    # -- creating --------------------------------------------------------------------

    def create(self, session: Session, caller: Caller, fields: Mapping[str, Any]) -> m.Trust:
        """A new trust from the caller's own roles (or its trust's, when redelegating)."""
        self.refuse_application_credential(caller)
        project_id = fields.get("project_id") or None
        if project_id and not fields.get("roles"):
            raise forbidden_action("At least one role should be specified")
        if caller.user_id != fields["trustor_user_id"]:
            raise forbidden_action("The authenticated user should match the trustor")
        if session.get(m.User, fields["trustee_user_id"]) is None:
            raise not_found("user", fields["trustee_user_id"])
        role_ids = [self._role_id(session, ref) for ref in fields.get("roles") or []]
        parent = self.get(session, caller.trust_id) if caller.trust_id else None
        held = self._trustor_roles(session, fields["trustor_user_id"], project_id, parent)
        for role_id in role_ids:
            if role_id not in held:
                raise not_found("role", role_id)
        given_expiry = fields.get("expires_at")
        expires_at = parse_expiration(given_expiry, self.state.clock.now()) \
            if given_expiry is not None else None
        trust = m.Trust(
            id=self.state.new_id(), trustor_user_id=fields["trustor_user_id"],
            trustee_user_id=fields["trustee_user_id"], project_id=project_id,
            impersonation=bool(fields["impersonation"]), expires_at=expires_at,
            remaining_uses=fields.get("remaining_uses"), role_ids=list(dict.fromkeys(role_ids)),
            extra={k: v for k, v in fields.items() if k not in _KNOWN})
        self._set_redelegation(session, trust, fields, parent)
        session.add(trust)
        self.state.changed()
        return trust

    def _role_id(self, session: Session, ref: Mapping[str, Any]) -> str:
        """A role named by id is taken as it is; one named by name must be unique."""
        if ref.get("id"):
            return str(ref["id"])
        found = list(session.scalars(select(m.Role).where(m.Role.name == ref.get("name"))))
        if len(found) != 1:
            raise not_found("role", str(ref.get("name")))
        return found[0].id

    def _trustor_roles(self, session: Session, trustor_user_id: str, project_id: str | None,
                       parent: m.Trust | None) -> set[str]:
        """The roles the original trustor holds on the original project (none without a
        project): a redelegation can hand on no more than the first trust's trustor holds."""
        if not project_id:
            return set()
        if session.get(m.Project, project_id) is None:
            raise not_found("project", project_id)
        if parent is not None:
            original = self.pedigree(session, parent)[-1]
            trustor_user_id = original.trustor_user_id
            project_id = original.project_id or project_id
        return {role.id for role in self.roles.roles_for(session, trustor_user_id, "project",
                                                         project_id, domain_roles=True)}

    def _set_redelegation(self, session: Session, trust: m.Trust, fields: Mapping[str, Any],
                          parent: m.Trust | None) -> None:
        most = self.max_redelegation_count
        requested = fields.get("redelegation_count")
        redelegatable = bool(fields.get("allow_redelegation")) and requested != 0
        if not redelegatable:
            trust.redelegation_count = requested = 0
        else:
            if requested and requested > most:
                raise Forbidden(f"Requested redelegation depth of {requested} is greater than "
                                f"allowed {most}")
            if trust.remaining_uses is not None:
                raise BadRequest("remaining_uses must not be set if redelegation is allowed")
        if parent is not None:
            trust.redelegated_trust_id = parent.id
            remaining = (parent.redelegation_count or 0) - 1
            if redelegatable and requested and requested != remaining:
                raise Forbidden('Modifying "redelegation_count" upon redelegation is forbidden. '
                                "Omitting this parameter is advised.")
            if trust.redelegation_count is None:
                trust.redelegation_count = remaining
            for ancestor in self.pedigree(session, parent):
                self._check_redelegation(ancestor, trust)
        if trust.redelegation_count is None:
            trust.redelegation_count = requested if requested is not None else most

    def _check_redelegation(self, parent: m.Trust, trust: m.Trust) -> None:
        most = self.max_redelegation_count
        depth = parent.redelegation_count or 0
        if not 0 < depth <= most:
            raise Forbidden(f"Remaining redelegation depth of {depth} out of allowed range of "
                            f"[0..{most}]")
        if trust.remaining_uses is not None:
            raise Forbidden(f'Field "remaining_uses" is set to {trust.remaining_uses} while it '
                            "must not be set in order to redelegate a trust")
        if trust.expires_at is not None:
            if parent.expires_at is not None and parent.expires_at < trust.expires_at:
                raise Forbidden("Requested expiration time is more than redelegated trust can "
                                "provide")
        else:
            trust.expires_at = parent.expires_at
        if not set(trust.role_ids) <= set(parent.role_ids):
            raise Forbidden("Some of requested roles are not in redelegated trust")
        if trust.impersonation and not parent.impersonation:
            raise Forbidden("Impersonation is not allowed because redelegated trust does not "
                            f"specify impersonation. Redelegated trust id: {parent.id}")

    # -- using and ending ------------------------------------------------------------

    def consume(self, session: Session, trust: m.Trust) -> None:
        """One token issued through the trust: one use fewer, if its uses are counted."""
        if trust.remaining_uses is None:
            return
        if trust.remaining_uses <= 0:
            raise Forbidden(f"No remaining uses for trust: {trust.id}.")
        trust.remaining_uses -= 1
        self.state.changed()

    def delegated_roles(self, session: Session, trust: m.Trust) -> list[m.Role]:
        """What a token of the trust carries: its roles (and those they imply) that the
        original trustor still holds on the project; 403 once one is lost."""
        original = self.pedigree(session, trust)[-1]
        held = {role.id for role in self.roles.roles_for(
            session, original.trustor_user_id, "project", trust.project_id or "",
            domain_roles=True)}
        wanted: dict[str, None] = {}
        for role_id in trust.role_ids:
            wanted[role_id] = None
            for implied in self.roles.implied_closure(session, role_id):
                wanted[implied] = None
        roles: list[m.Role] = []
        if not set(wanted) <= held:
            raise Forbidden("Trustee has no delegated roles.")
        for role_id in wanted:
            role = session.get(m.Role, role_id)
            if role is not None and role.domain_id is None:
                roles.append(role)
        return sorted(roles, key=lambda role: role.id)

    def delete(self, session: Session, trust_id: str) -> None:
        """Soft-delete the trust and, first, every trust redelegated from it."""
        trust = session.get(m.Trust, trust_id)
        if trust is None or trust.deleted_at is not None:
            raise not_found("trust", trust_id)
        for child in session.scalars(select(m.Trust).where(
                m.Trust.redelegated_trust_id == trust.id, m.Trust.deleted_at.is_(None))):
            self.delete(session, child.id)
        trust.deleted_at = self.state.clock.now()
        self.state.changed()

    def delete_for_user(self, session: Session, user_id: str) -> None:
        """A deleted user's trusts go with it, as trustor or trustee."""
        for trust in session.scalars(select(m.Trust).where(
                m.Trust.deleted_at.is_(None),
                (m.Trust.trustor_user_id == user_id) | (m.Trust.trustee_user_id == user_id))):
            trust.deleted_at = self.state.clock.now()
        self.state.changed()

    @staticmethod
    def refuse_application_credential(caller: Caller) -> None:
        if "application_credential" in caller.methods:
            raise forbidden_action("Using method 'application_credential' is not allowed for "
                                   "managing trusts.")
