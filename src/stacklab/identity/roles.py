"""Roles, implied roles, role assignments, and the roles a token carries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Forbidden
from stacklab.identity import models as m
from stacklab.identity.errors import duplicate, not_found
from stacklab.identity.rows import row_or_404
from stacklab.identity.state import IdentityState

Scope = TypeVar("Scope", m.Project, m.Domain)
SYSTEM = "system"  # the target id of system assignments (keystone uses "system")
KINDS = {
    ("user", "project"): "UserProject",
    ("group", "project"): "GroupProject",
    ("user", "domain"): "UserDomain",
    ("group", "domain"): "GroupDomain",
    ("user", "system"): "UserSystem",
    ("group", "system"): "GroupSystem",
}


@dataclass(frozen=True)
class EffectiveAssignment:
    """One row of a role assignment list (keystone's shape, before rendering)."""

    role_id: str
    actor_kind: str  # "user" | "group"
    actor_id: str
    scope_kind: str  # "project" | "domain" | "system"
    scope_id: str
    inherited: bool = False
    via_group_id: str | None = None  # set when expanded from a group (effective)
    prior_role_id: str | None = None  # set when implied by another role (effective)
    # When inherited down to a project: where it was assigned, as "domains/<id>" or
    # "projects/<id>" (the path keystone's assignment link names).
    assigned_on: str | None = None


@dataclass(frozen=True)
class AssignmentQuery:
    """What ``GET /v3/role_assignments`` asks for (keystone's query parameters)."""

    effective: bool = False  # groups expanded, inheritance pushed down, implied roles added
    role_id: str | None = None
    user_id: str | None = None
    group_id: str | None = None
    project_id: str | None = None
    include_subtree: bool = False  # the project's descendants too
    domain_id: str | None = None
    system: bool = False
    inherited_only: bool = False

    def matches(self, a: EffectiveAssignment, subtree: set[str]) -> bool:
        if self.role_id and a.role_id != self.role_id:
            return False
        if self.user_id and (a.actor_kind != "user" or a.actor_id != self.user_id):
            return False
        if self.group_id:
            # An effective list has no group rows: it names the group users hold roles through.
            if self.effective and a.via_group_id != self.group_id:
                return False
            if not self.effective and (a.actor_kind != "group" or a.actor_id != self.group_id):
                return False
        if self.project_id and not (a.scope_kind == "project" and (
                a.scope_id == self.project_id or a.scope_id in subtree)):
            return False
        if self.domain_id and not (a.scope_kind == "domain" and a.scope_id == self.domain_id):
            return False
        if self.system and a.scope_kind != "system":
            return False
        return not (self.inherited_only and not a.inherited)


class Roles:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    # -- roles -----------------------------------------------------------------------

    def get_role(self, session: Session, role_id: str) -> m.Role:
        return row_or_404(session, m.Role, role_id, "role")

    def find_role(self, session: Session, name: str, domain_id: str | None = None) -> m.Role:
        role = session.scalar(select(m.Role).where(m.Role.name == name,
                                                   m.Role.domain_id == domain_id))
        if role is None:
            raise not_found("role", name)
        return role

    def list_roles(self, session: Session, filters: Mapping[str, Any]) -> list[m.Role]:
        query = select(m.Role).order_by(m.Role.name)
        query = query.where(m.Role.domain_id == filters.get("domain_id"))
        if filters.get("name") is not None:
            query = query.where(m.Role.name == filters["name"])
        return list(session.scalars(query))

    def create_role(self, session: Session, fields: Mapping[str, Any],
                    role_id: str | None = None) -> m.Role:
        domain_id = fields.get("domain_id")
        if domain_id is not None and session.get(m.Domain, domain_id) is None:
            raise not_found("domain", domain_id)
        name = fields["name"]
        if session.scalar(select(m.Role).where(m.Role.name == name,
                                               m.Role.domain_id == domain_id)):
            raise duplicate("role", f"Duplicate entry found with name {name}")
        role = m.Role(id=role_id or self.state.new_id(), name=name, domain_id=domain_id,
                      description=fields.get("description"),
                      options=dict(fields.get("options", {})),
                      extra={k: v for k, v in fields.items()
                             if k not in ("name", "domain_id", "description", "options")})
        session.add(role)
        self.state.changed()
        return role

    def update_role(self, session: Session, role_id: str, fields: Mapping[str, Any]) -> m.Role:
        role = self.get_role(session, role_id)
        # An immutable role accepts only the update that lifts its immutability.
        lifting = (fields.get("options") or {}).get("immutable") is False
        if role.options.get("immutable") and not lifting:
            raise Forbidden(f"Role {role.id} is immutable.")
        if "domain_id" in fields and fields["domain_id"] != role.domain_id:
            raise BadRequest("Cannot change the domain of a role.")
        if "name" in fields and fields["name"] != role.name and session.scalar(select(
                m.Role).where(m.Role.name == fields["name"], m.Role.domain_id == role.domain_id)):
            raise duplicate("role", f"Duplicate entry found with name {fields['name']}")
        for name in ("name", "description", "options"):
            if name in fields:
                setattr(role, name, fields[name])
        self.state.changed()
        return role

    def delete_role(self, session: Session, role_id: str) -> None:
        role = self.get_role(session, role_id)
        if role.options.get("immutable"):
            raise Forbidden(f"Role {role.id} is immutable.")
        session.execute(delete(m.Assignment).where(m.Assignment.role_id == role.id))
        session.execute(delete(m.ImpliedRole).where(
            (m.ImpliedRole.prior_role_id == role.id) | (m.ImpliedRole.implied_role_id == role.id)))
        session.delete(role)
        self.state.revoke(session, role_id=role.id)
        self.state.changed()

    # -- implied roles ---------------------------------------------------------------

    def implied_by(self, session: Session, prior_role_id: str) -> list[m.Role]:
        return list(session.scalars(
            select(m.Role).join(m.ImpliedRole, m.ImpliedRole.implied_role_id == m.Role.id)
            .where(m.ImpliedRole.prior_role_id == prior_role_id).order_by(m.Role.name)))

    def all_inferences(self, session: Session) -> list[m.ImpliedRole]:
        return list(session.scalars(select(m.ImpliedRole)))

    def create_inference(self, session: Session, prior_id: str,
                         implied_id: str) -> tuple[m.Role, m.Role]:
        prior = self.get_role(session, prior_id)
        implied = self.get_role(session, implied_id)
        if implied.name in self._prohibited_implied():
            raise Forbidden(f"{implied.name} may not be implied by another role.")
        if prior_id == implied_id or prior_id in self._closure(session, implied_id):
            raise Forbidden("Implied roles may not form a cycle.")
        if session.get(m.ImpliedRole, (prior_id, implied_id)) is None:
            session.add(m.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
        self.state.changed()
        return prior, implied

    def _prohibited_implied(self) -> set[str]:
        # keystone's [assignment] prohibited_implied_role default.
        return {"admin"}

    def check_inference(self, session: Session, prior_id: str,
                        implied_id: str) -> tuple[m.Role, m.Role]:
        prior = self.get_role(session, prior_id)
        implied = self.get_role(session, implied_id)
        if session.get(m.ImpliedRole, (prior_id, implied_id)) is None:
            raise not_found("role inference", f"{prior_id} implies {implied_id}")
        return prior, implied

    def delete_inference(self, session: Session, prior_id: str, implied_id: str) -> None:
        self.check_inference(session, prior_id, implied_id)
        session.execute(delete(m.ImpliedRole).where(m.ImpliedRole.prior_role_id == prior_id,
                                                    m.ImpliedRole.implied_role_id == implied_id))
        self.state.changed()

    def implied_closure(self, session: Session, role_id: str) -> list[str]:
        """Every role ``role_id`` implies, directly or not."""
        return list(self._closure(session, role_id))

    def _closure(self, session: Session, role_id: str) -> dict[str, str | None]:
        """Every role reachable from ``role_id`` by implication, mapped to its prior role."""
        edges = self.state.cached("inference-edges", lambda: [
            (r.prior_role_id, r.implied_role_id) for r in self.all_inferences(session)])
        found: dict[str, str | None] = {}
        frontier = [role_id]
        while frontier:
            current = frontier.pop()
            for prior, implied in edges:
                if prior == current and implied not in found and implied != role_id:
                    found[implied] = prior
                    frontier.append(implied)
        return found

    # -- grants ----------------------------------------------------------------------

    def grant(self, session: Session, actor: str, actor_id: str, scope: str, scope_id: str,
              role_id: str, inherited: bool = False) -> None:
        self.get_role(session, role_id)
        kind = KINDS[(actor, scope)]
        key = (kind, actor_id, scope_id, role_id, inherited)
        if session.get(m.Assignment, key) is None:
            session.add(m.Assignment(kind=kind, actor_id=actor_id, target_id=scope_id,
                                     role_id=role_id, inherited=inherited))
        self.state.changed()

    def check_grant(self, session: Session, actor: str, actor_id: str, scope: str,
                    scope_id: str, role_id: str, inherited: bool = False) -> None:
        self.get_role(session, role_id)
        key = (KINDS[(actor, scope)], actor_id, scope_id, role_id, inherited)
        if session.get(m.Assignment, key) is None:
            raise not_found("role assignment",
                            f"role {role_id} for {actor} {actor_id} on {scope} {scope_id}")

    def revoke_grant(self, session: Session, actor: str, actor_id: str, scope: str,
                     scope_id: str, role_id: str, inherited: bool = False) -> None:
        self.check_grant(session, actor, actor_id, scope, scope_id, role_id, inherited)
        session.execute(delete(m.Assignment).where(
            m.Assignment.kind == KINDS[(actor, scope)], m.Assignment.actor_id == actor_id,
            m.Assignment.target_id == scope_id, m.Assignment.role_id == role_id,
            m.Assignment.inherited == inherited))
        user_ids = [actor_id] if actor == "user" else list(session.scalars(
            select(m.Membership.user_id).where(m.Membership.group_id == actor_id)))
        for user_id in user_ids:
            if scope == "project":
                self.state.revoke(session, user_id=user_id, project_id=scope_id)
            elif scope == "domain":
                self.state.revoke(session, user_id=user_id, domain_id=scope_id)
            else:
                self.state.revoke(session, user_id=user_id)
        self.state.changed()

    def grants(self, session: Session, actor: str, actor_id: str, scope: str, scope_id: str,
               inherited: bool = False) -> list[m.Role]:
        return list(session.scalars(
            select(m.Role).join(m.Assignment, m.Assignment.role_id == m.Role.id).where(
                m.Assignment.kind == KINDS[(actor, scope)], m.Assignment.actor_id == actor_id,
                m.Assignment.target_id == scope_id, m.Assignment.inherited == inherited)
            .order_by(m.Role.name)))

    # -- the assignment list and what a token carries --------------------------------

    def direct_assignments(self, session: Session) -> list[EffectiveAssignment]:
        result = []
        for row in session.scalars(select(m.Assignment)):
            actor, scope = _split_kind(row.kind)
            result.append(EffectiveAssignment(row.role_id, actor, row.actor_id, scope,
                                              row.target_id, row.inherited))
        return result

    def effective_assignments(self, session: Session,
                              direct: list[EffectiveAssignment]) -> list[EffectiveAssignment]:
        """Groups expanded to their members, inheritance pushed down, implied roles added."""
        members: dict[str, list[str]] = {}
        for row in session.scalars(select(m.Membership)):
            members.setdefault(row.group_id, []).append(row.user_id)
        projects = list(session.scalars(select(m.Project)))
        expanded: list[EffectiveAssignment] = []
        for a in direct:
            users = [(a.actor_id, None)] if a.actor_kind == "user" else \
                [(u, a.actor_id) for u in members.get(a.actor_id, [])]
            targets: list[tuple[str, str, str | None]]
            if not a.inherited:
                targets = [(a.scope_kind, a.scope_id, None)]
            elif a.scope_kind == "domain":
                targets = [("project", p.id, f"domains/{a.scope_id}") for p in projects
                           if p.domain_id == a.scope_id]
            else:
                targets = [("project", p.id, f"projects/{a.scope_id}")
                           for p in _descendants(projects, a.scope_id)]
            for user_id, via in users:
                for scope_kind, scope_id, assigned_on in targets:
                    expanded.append(EffectiveAssignment(
                        a.role_id, "user", user_id, scope_kind, scope_id, False, via, None,
                        assigned_on))
        with_implied: list[EffectiveAssignment] = []
        seen: set[tuple[str, str, str, str]] = set()
        for a in expanded:
            for role_id, prior in [(a.role_id, None), *self._closure(session, a.role_id).items()]:
                key = (role_id, a.actor_id, a.scope_kind, a.scope_id)
                if key in seen:
                    continue
                seen.add(key)
                with_implied.append(EffectiveAssignment(
                    role_id, "user", a.actor_id, a.scope_kind, a.scope_id, False,
                    a.via_group_id, prior, a.assigned_on))
        return with_implied

    def list_assignments(self, session: Session,
                         query: AssignmentQuery) -> list[EffectiveAssignment]:
        rows = self.direct_assignments(session)
        if query.effective:
            # As keystone's effective list: a domain-specific role is no role a token
            # carries (the global roles it implies are).
            global_roles = set(session.scalars(select(m.Role.id).where(
                m.Role.domain_id.is_(None))))
            rows = [a for a in self.effective_assignments(session, rows)
                    if a.role_id in global_roles]
        subtree: set[str] = set()
        if query.project_id and query.include_subtree:
            projects = list(session.scalars(select(m.Project)))
            subtree = {p.id for p in _descendants(projects, query.project_id)}
        return [a for a in rows if query.matches(a, subtree)]

    def projects_of(self, session: Session, user_id: str) -> list[m.Project]:
        """The projects a user holds a role on: its own, its groups', inherited ones."""
        return self._scopes_of(session, user_id, m.Project, "project")

    def domains_of(self, session: Session, user_id: str) -> list[m.Domain]:
        return self._scopes_of(session, user_id, m.Domain, "domain")

    def _scopes_of(self, session: Session, user_id: str, model: type[Scope],
                   kind: str) -> list[Scope]:
        group_ids = set(session.scalars(
            select(m.Membership.group_id).where(m.Membership.user_id == user_id)))
        mine = [a for a in self.direct_assignments(session)
                if (a.actor_kind == "user" and a.actor_id == user_id)
                or (a.actor_kind == "group" and a.actor_id in group_ids)]
        ids = sorted({a.scope_id for a in self.effective_assignments(session, mine)
                      if a.scope_kind == kind and a.actor_id == user_id})
        return [row for row in (session.get(model, i) for i in ids) if row is not None]

    def roles_for(self, session: Session, user_id: str, scope_kind: str,
                  scope_id: str, *, domain_roles: bool = False) -> list[m.Role]:
        """The roles (implied ones included) a token of this user and scope carries:
        global roles only, as keystone strips domain-specific ones, unless
        ``domain_roles`` (what a trustor may delegate)."""
        def compute() -> list[m.Role]:
            group_ids = list(session.scalars(
                select(m.Membership.group_id).where(m.Membership.user_id == user_id)))
            actors = [user_id, *group_ids]
            targets: list[tuple[str, bool]] = [(scope_id, False)]
            if scope_kind == "project":
                project = session.get(m.Project, scope_id)
                if project is not None:
                    targets.append((project.domain_id, True))
                    current = project
                    while current.parent_id:
                        parent = session.get(m.Project, current.parent_id)
                        if parent is None:
                            break
                        targets.append((parent.id, True))
                        current = parent
            role_ids: set[str] = set()
            for target_id, inherited in targets:
                role_ids.update(session.scalars(select(m.Assignment.role_id).where(
                    m.Assignment.actor_id.in_(actors), m.Assignment.target_id == target_id,
                    m.Assignment.inherited == inherited)))
            for role_id in list(role_ids):
                role_ids.update(self._closure(session, role_id))
            roles = [session.get(m.Role, r) for r in sorted(role_ids)]
            # Copies, not the session's rows: the cache outlives the session, and a
            # session that fails after this expires every row it loaded.
            return [m.Role(id=r.id, name=r.name, domain_id=r.domain_id,
                           description=r.description, options=dict(r.options),
                           extra=dict(r.extra))
                    for r in roles if r is not None and (domain_roles or r.domain_id is None)]

        return self.state.cached(("roles", user_id, scope_kind, scope_id, domain_roles),
                                 compute)


def _split_kind(kind: str) -> tuple[str, str]:
    for (actor, scope), name in KINDS.items():
        if name == kind:
            return actor, scope
    raise ValueError(kind)


def _descendants(projects: list[m.Project], root_id: str) -> list[m.Project]:
    found: list[m.Project] = []
    frontier = {root_id}
    while frontier:
        children = [p for p in projects if p.parent_id in frontier]
        found.extend(children)
        frontier = {p.id for p in children}
    return found
