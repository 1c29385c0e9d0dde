"""Users, passwords, groups and membership (keystone's identity backend)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.identity import models as m
from stacklab.identity.errors import auth_failed, duplicate, not_found
from stacklab.identity.rows import filtered, row_or_404
from stacklab.identity.state import IdentityState

_USER_FIELDS = ("name", "enabled", "default_project_id", "description", "email", "options")


class Users:
    def __init__(self, state: IdentityState) -> None:
        self.state = state
        # What else goes with a deleted user (keystone's "user deleted" callbacks).
        self.on_delete: list[Callable[[Session, str], None]] = []

    def get_user(self, session: Session, user_id: str) -> m.User:
        return row_or_404(session, m.User, user_id, "user")

    def find_user(self, session: Session, *, id: str | None = None, name: str | None = None,
                  domain_id: str | None = None) -> m.User:
        if id is not None:
            return self.get_user(session, id)
        user = session.scalar(
            select(m.User).where(m.User.name == name, m.User.domain_id == domain_id))
        if user is None:
            raise not_found("user", str(name))
        return user

    def list_users(self, session: Session, filters: Mapping[str, Any]) -> list[m.User]:
        return filtered(session, m.User, filters, ("name", "domain_id", "enabled"), m.User.name)

    def create_user(self, session: Session, fields: Mapping[str, Any], default_domain_id: str,
                    user_id: str | None = None) -> m.User:
        domain_id = _new_in_domain(session, m.User, fields, default_domain_id)
        now = self.state.clock.now()
        password = fields.get("password")
        user = m.User(
            id=user_id or self.state.new_id(), name=fields["name"], domain_id=domain_id,
            enabled=fields.get("enabled", True),
            default_project_id=fields.get("default_project_id"),
            description=fields.get("description"), email=fields.get("email"),
            options=dict(fields.get("options", {})), created_at=now,
            password_hash=self.state.hasher.hash(password) if password else None,
            password_created_at=now if password else None,
            extra={k: v for k, v in fields.items()
                   if k not in (*_USER_FIELDS, "domain_id", "password")},
        )
        session.add(user)
        self.state.changed()
        return user

    def update_user(self, session: Session, user_id: str, fields: Mapping[str, Any]) -> m.User:
        user = self.get_user(session, user_id)
        if "domain_id" in fields and fields["domain_id"] != user.domain_id:
            raise BadRequest("Cannot change Domain ID")
        if "name" in fields and fields["name"] != user.name:
            _unique_in_domain(session, m.User, fields["name"], user.domain_id)
        for name in _USER_FIELDS:
            if name in fields:
                setattr(user, name, fields[name])
        extra = {k: v for k, v in fields.items()
                 if k not in (*_USER_FIELDS, "domain_id", "password", "id")}
        if extra:
            user.extra = {**user.extra, **extra}
        if fields.get("password"):
            self._set_password(user, fields["password"])
            self.state.revoke(session, user_id=user.id)
        if fields.get("enabled") is False:
            self.state.revoke(session, user_id=user.id)
        self.state.changed()
        return user

    def change_password(self, session: Session, user_id: str, original: str, new: str) -> None:
        user = self.get_user(session, user_id)
        if not self.state.hasher.verify(original, user.password_hash):
            raise auth_failed("The request you have made requires authentication.")
        self._set_password(user, new)
        self.state.revoke(session, user_id=user.id)
        self.state.changed()

    def _set_password(self, user: m.User, password: str) -> None:
        user.password_hash = self.state.hasher.hash(password)
        user.password_created_at = self.state.clock.now()

    def delete_user(self, session: Session, user_id: str) -> None:
        user = self.get_user(session, user_id)
        session.execute(delete(m.Assignment).where(m.Assignment.actor_id == user.id))
        session.execute(delete(m.Membership).where(m.Membership.user_id == user.id))
        session.execute(delete(m.AccessRule).where(m.AccessRule.user_id == user.id))
        session.delete(user)
        self.state.revoke(session, user_id=user.id)
        for hook in self.on_delete:
            hook(session, user.id)
        self.state.changed()

    def check_password(self, user: m.User, password: str) -> bool:
        return self.state.hasher.verify(password, user.password_hash)

    # -- groups ----------------------------------------------------------------------

    def get_group(self, session: Session, group_id: str) -> m.Group:
        return row_or_404(session, m.Group, group_id, "group")

    def list_groups(self, session: Session, filters: Mapping[str, Any]) -> list[m.Group]:
        return filtered(session, m.Group, filters, ("name", "domain_id"), m.Group.name)

    def create_group(self, session: Session, fields: Mapping[str, Any],
                     default_domain_id: str) -> m.Group:
        domain_id = _new_in_domain(session, m.Group, fields, default_domain_id)
        group = m.Group(id=self.state.new_id(), name=fields["name"], domain_id=domain_id,
                        description=fields.get("description"),
                        extra={k: v for k, v in fields.items()
                               if k not in ("name", "domain_id", "description")})
        session.add(group)
        self.state.changed()
        return group

    def update_group(self, session: Session, group_id: str,
                     fields: Mapping[str, Any]) -> m.Group:
        group = self.get_group(session, group_id)
        if "domain_id" in fields and fields["domain_id"] != group.domain_id:
            raise BadRequest("Cannot change Domain ID")
        for name in ("name", "description"):
            if name in fields:
                setattr(group, name, fields[name])
        self.state.changed()
        return group

    def delete_group(self, session: Session, group_id: str) -> None:
        group = self.get_group(session, group_id)
        for member in self.members(session, group.id):
            self.state.revoke(session, user_id=member.id)
        session.execute(delete(m.Assignment).where(m.Assignment.actor_id == group.id))
        session.execute(delete(m.Membership).where(m.Membership.group_id == group.id))
        session.delete(group)
        self.state.changed()

    def members(self, session: Session, group_id: str) -> list[m.User]:
        return list(session.scalars(
            select(m.User).join(m.Membership, m.Membership.user_id == m.User.id)
            .where(m.Membership.group_id == group_id).order_by(m.User.name)))

    def groups_of(self, session: Session, user_id: str) -> list[m.Group]:
        return list(session.scalars(
            select(m.Group).join(m.Membership, m.Membership.group_id == m.Group.id)
            .where(m.Membership.user_id == user_id).order_by(m.Group.name)))

    def add_member(self, session: Session, group_id: str, user_id: str) -> None:
        self.get_group(session, group_id)
        self.get_user(session, user_id)
        if session.get(m.Membership, (user_id, group_id)) is None:
            session.add(m.Membership(user_id=user_id, group_id=group_id))
        self.state.changed()

    def remove_member(self, session: Session, group_id: str, user_id: str) -> None:
        self.get_group(session, group_id)
        self.get_user(session, user_id)
        row = session.get(m.Membership, (user_id, group_id))
        if row is None:
            raise _not_a_member(user_id, group_id)
        session.delete(row)
        # Roles held through the group are gone: tokens carrying them must go too.
        self.state.revoke(session, user_id=user_id)
        self.state.changed()

    def is_member(self, session: Session, group_id: str, user_id: str) -> bool:
        self.get_group(session, group_id)
        self.get_user(session, user_id)
        return session.get(m.Membership, (user_id, group_id)) is not None


def _not_a_member(user_id: str, group_id: str) -> Exception:
    return NotFound(f"User {user_id} is not a member of group {group_id}.")


def _new_in_domain(session: Session, model: type[m.User] | type[m.Group],
                   fields: Mapping[str, Any], default_domain_id: str) -> str:
    """The domain a new user or group goes in: the body's, or the default; it must exist."""
    domain_id = fields.get("domain_id") or default_domain_id
    if session.get(m.Domain, domain_id) is None:
        raise not_found("domain", domain_id)
    _unique_in_domain(session, model, fields["name"], domain_id)
    return domain_id


def _unique_in_domain(session: Session, model: type[m.User] | type[m.Group], name: str,
                      domain_id: str) -> None:
    if session.scalar(select(model).where(model.name == name, model.domain_id == domain_id)):
        kind = "user" if model is m.User else "group"
        raise duplicate(kind, f"Duplicate entry found with name {name} at domain ID {domain_id}")
