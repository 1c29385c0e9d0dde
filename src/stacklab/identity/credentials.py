"""Application credentials and stored credentials (EC2 key pairs, TOTP secrets, ...)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Forbidden
from stacklab.clock import Clock
from stacklab.identity import models as m
from stacklab.identity.errors import duplicate, not_found
from stacklab.identity.expiry import parse_expiration
from stacklab.identity.roles import Roles
from stacklab.identity.rows import filtered, row_or_404
from stacklab.identity.state import IdentityState


class ApplicationCredentials:
    def __init__(self, state: IdentityState, roles: Roles) -> None:
        self.state = state
        self.roles = roles

    def create(self, session: Session, caller: RequestContext, user_id: str,
                   fields: Mapping[str, Any]) -> tuple[m.ApplicationCredential, str]:
        """A credential of the caller's own, on its token's project, with at most its roles."""
        if caller.user_id != user_id:
            raise Forbidden("You are not authorized to perform the requested action: "
                            "identity:create_application_credential.")
        if not caller.project_id:
            raise Forbidden("An application credential can only be created with a "
                            "project-scoped token.")
        if caller.application_credential_id:
            current = session.get(m.ApplicationCredential, caller.application_credential_id)
            if current is not None and not current.unrestricted:
                raise Forbidden("Using a restricted application credential to create another "
                                "application credential is not allowed.")
        token_roles = self.roles.roles_for(session, user_id, "project", caller.project_id)
        return self._create(session, user_id, caller.project_id, [r.id for r in token_roles],
                            fields, self.state.clock)

    def _create(self, session: Session, user_id: str, project_id: str,
                token_role_ids: list[str], fields: Mapping[str, Any],
                clock: Clock) -> tuple[m.ApplicationCredential, str]:
        if session.scalar(select(m.ApplicationCredential).where(
                m.ApplicationCredential.user_id == user_id,
                m.ApplicationCredential.name == fields["name"])):
            raise duplicate("application credential",
                            f"An application credential with name {fields['name']} already "
                            "exists for this user")
        role_ids: list[str] = []
        for ref in fields.get("roles") or []:
            role = self.roles.get_role(session, ref["id"]) if "id" in ref else \
                self.roles.find_role(session, ref["name"], ref.get("domain_id"))
            if role.id not in token_role_ids:
                raise Forbidden(f"Invalid application credential: the user does not hold role "
                                f"{role.name} on project {project_id}")
            role_ids.append(role.id)
        if not role_ids:
            role_ids = list(token_role_ids)
        given = fields.get("expires_at")
        expires_at = parse_expiration(given, clock.now()) if given else None
        secret = fields.get("secret") or self.state.ids.urlsafe_token(64)
        credential = m.ApplicationCredential(
            id=self.state.new_id(), name=fields["name"], user_id=user_id, project_id=project_id,
            secret_hash=self.state.hasher.hash(secret), description=fields.get("description"),
            expires_at=expires_at, unrestricted=bool(fields.get("unrestricted", False)),
            role_ids=role_ids,
            access_rules=self._access_rules(session, user_id, fields.get("access_rules") or []))
        session.add(credential)
        self.state.changed()
        return credential, secret

    def _access_rules(self, session: Session, user_id: str,
                      wanted: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Give each rule an id; a rule named by id is one this user already has, and a new
        rule becomes one of the user's (keystone keeps it after the credential goes)."""
        known = {rule["id"]: rule for rule in self.access_rules(session, user_id)}
        rules = []
        for rule in wanted:
            if "id" in rule:
                if rule["id"] not in known:
                    raise not_found("access rule", rule["id"])
                rules.append(known[rule["id"]])
                continue
            same = next((r for r in known.values() if all(
                r.get(k) == rule.get(k) for k in ("path", "method", "service"))), None)
            if same is None:
                same = {"id": self.state.new_id(), "path": rule.get("path"),
                        "method": rule.get("method"), "service": rule.get("service")}
                session.add(m.AccessRule(user_id=user_id, **same))
                known[same["id"]] = same
            rules.append(same)
        return rules

    def access_rules(self, session: Session, user_id: str,
                     filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """A user's access rules, those whose service, path and method are the filters'
        where they give one. Credentials made before rules had their own table hold the
        only copy of theirs: those count too."""
        seen: dict[str, dict[str, Any]] = {
            row.id: {"id": row.id, "path": row.path, "method": row.method,
                     "service": row.service}
            for row in session.scalars(select(m.AccessRule).where(
                m.AccessRule.user_id == user_id).order_by(m.AccessRule.id))}
        for credential in self.list(session, user_id):
            for rule in credential.access_rules:
                seen.setdefault(rule["id"], rule)
        wanted = {k: v for k, v in (filters or {}).items()
                  if k in ("service", "path", "method") and v}
        return [rule for rule in seen.values()
                if all(rule.get(k) == v for k, v in wanted.items())]

    def access_rule(self, session: Session, user_id: str, rule_id: str) -> dict[str, Any]:
        for rule in self.access_rules(session, user_id):
            if rule["id"] == rule_id:
                return rule
        raise not_found("access rule", rule_id)

    def delete_access_rule(self, session: Session, user_id: str, rule_id: str) -> None:
        """Delete a rule no application credential of the user's uses any more."""
        self.access_rule(session, user_id, rule_id)
        if any(rule["id"] == rule_id for credential in self.list(session, user_id)
               for rule in credential.access_rules):
            raise Forbidden(f"Cannot delete access rule {rule_id}: it is in use by an "
                            "application credential.")
        row = session.get(m.AccessRule, rule_id)
        if row is not None:
            session.delete(row)

    def get(self, session: Session, user_id: str, credential_id: str) -> m.ApplicationCredential:
        credential = session.get(m.ApplicationCredential, credential_id)
        if credential is None or credential.user_id != user_id:
            raise not_found("application credential", credential_id)
        return credential

    def get_any(self, session: Session, credential_id: str) -> m.ApplicationCredential:
        return row_or_404(session, m.ApplicationCredential, credential_id, "application credential")

    def find(self, session: Session, user_id: str, name: str) -> m.ApplicationCredential:
        credential = session.scalar(select(m.ApplicationCredential).where(
            m.ApplicationCredential.user_id == user_id, m.ApplicationCredential.name == name))
        if credential is None:
            raise not_found("application credential", name)
        return credential

    def list(self, session: Session, user_id: str, name: str | None = None) \
            -> list[m.ApplicationCredential]:
        query = select(m.ApplicationCredential).where(
            m.ApplicationCredential.user_id == user_id).order_by(m.ApplicationCredential.name)
        if name is not None:
            query = query.where(m.ApplicationCredential.name == name)
        return list(session.scalars(query))

    def delete(self, session: Session, user_id: str, credential_id: str) -> None:
        credential = self.get(session, user_id, credential_id)
        session.delete(credential)
        self.state.revoke(session, application_credential_id=credential.id)
        self.state.changed()


class Credentials:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def create_credential(self, session: Session, fields: Mapping[str, Any]) -> m.Credential:
        if session.get(m.User, fields["user_id"]) is None:
            raise not_found("user", fields["user_id"])
        credential_id = self.state.new_id()
        if fields["type"] == "ec2":
            # keystone derives an EC2 credential's id from its access key.
            try:
                access = json.loads(fields["blob"])["access"]
            except (ValueError, KeyError, TypeError):
                raise BadRequest("Invalid blob in credential: an ec2 credential needs a JSON "
                                 "blob with 'access' and 'secret'") from None
            if not fields.get("project_id"):
                raise BadRequest("Invalid input for field 'project_id': an ec2 credential "
                                 "needs a project")
            credential_id = hashlib.sha256(str(access).encode()).hexdigest()
            if session.get(m.Credential, credential_id) is not None:
                raise duplicate("credential", f"Duplicate ID, {credential_id}")
        credential = m.Credential(id=credential_id, user_id=fields["user_id"],
                                  project_id=fields.get("project_id"), type=fields["type"],
                                  blob=fields["blob"])
        session.add(credential)
        return credential

    def create_ec2(self, session: Session, user_id: str, project_id: str) -> m.Credential:
        """OS-EC2: a new access and secret key pair of the user's, for the project."""
        ids = self.state.ids
        blob = {"access": ids.hex_id(), "secret": ids.hex_id(), "trust_id": None}
        row_or_404(session, m.User, user_id, "user")
        row_or_404(session, m.Project, project_id, "project")
        return self.create_credential(session, {"user_id": user_id, "project_id": project_id,
                                                "type": "ec2", "blob": json.dumps(blob)})

    def get_ec2(self, session: Session, user_id: str, access: str) -> m.Credential:
        # keystone derives an EC2 credential's id from its access key.
        credential = session.get(m.Credential, hashlib.sha256(access.encode()).hexdigest())
        if credential is None or credential.type != "ec2" or credential.user_id != user_id:
            raise not_found("credential", access)
        return credential

    def delete_ec2(self, session: Session, user_id: str, access: str) -> None:
        session.delete(self.get_ec2(session, user_id, access))

    def get_credential(self, session: Session, credential_id: str) -> m.Credential:
        return row_or_404(session, m.Credential, credential_id, "credential")

    def list_credentials(self, session: Session, filters: Mapping[str, Any]) -> list[m.Credential]:
        return filtered(session, m.Credential, filters, ("user_id", "type"), m.Credential.id)

    def update_credential(self, session: Session, credential_id: str,
                          fields: Mapping[str, Any]) -> m.Credential:
        credential = self.get_credential(session, credential_id)
        for name in ("user_id", "project_id", "type", "blob"):
            if name in fields:
                setattr(credential, name, fields[name])
        return credential

    def delete_credential(self, session: Session, credential_id: str) -> None:
        session.delete(self.get_credential(session, credential_id))
