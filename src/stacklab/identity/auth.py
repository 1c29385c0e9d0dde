"""Authentication: token issue (password, token, application credential), validation, revocation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Forbidden, NotFound, Unauthorized
from stacklab.clock import isotime
from stacklab.identity import models as m
from stacklab.identity.catalog import Catalog
from stacklab.identity.credentials import ApplicationCredentials
from stacklab.identity.oauth1 import OAuth1, SignedRequest
from stacklab.identity.resources import Resources
from stacklab.identity.roles import SYSTEM, Roles
from stacklab.identity.state import IdentityState
from stacklab.identity.tokens import METHODS, FernetTokens, TokenFormatError, TokenPayload
from stacklab.identity.trusts import Trusts
from stacklab.identity.users import Users


@dataclass
class TokenInfo:
    """A valid token and everything its response and the request context need."""

    payload: TokenPayload
    user: dict[str, Any]
    roles: list[dict[str, str]]
    project: dict[str, Any] | None = None
    domain: dict[str, Any] | None = None
    application_credential: dict[str, Any] | None = None
    # keystone treats every token as an admin-project token unless [resource]
    # admin_project_name is set, and then leaves the key out of the token body.
    is_admin_project: bool = True
    extras: dict[str, Any] = field(default_factory=dict)
    # A trust-scoped token: its ``OS-TRUST:trust`` body, and when the trust ends.
    trust: dict[str, Any] | None = None
    trust_expires_at: float | None = None
    # An OAuth1 token's ``OS-OAUTH1`` body (its access token and consumer).
    oauth: dict[str, str] | None = None

    @property
    def role_names(self) -> list[str]:
        return [r["name"] for r in self.roles]


class Authenticator:
    def __init__(self, state: IdentityState, resources: Resources, users: Users, roles: Roles,
                 catalog: Catalog, app_creds: ApplicationCredentials, trusts: Trusts,
                 oauth1: OAuth1) -> None:
        self.state = state
        self.resources = resources
        self.users = users
        self.roles = roles
        self.catalog = catalog
        self.app_creds = app_creds
        self.trusts = trusts
        self.oauth1 = oauth1
        self.tokens: FernetTokens | None = None

    # -- keys ------------------------------------------------------------------------

    def load_keys(self) -> None:
        with self.state.db.session() as session:
            rows = list(session.scalars(select(m.FernetKey).order_by(m.FernetKey.index.desc())))
            if not rows:
                rows = [m.FernetKey(index=1, key=FernetTokens.new_key(self.state.ids).decode()),
                        m.FernetKey(index=0, key=FernetTokens.new_key(self.state.ids).decode())]
                session.add_all(rows)
        # Newest (primary) first; index 0 is the staged key, as keystone-manage sets them up.
        self.tokens = FernetTokens([r.key.encode() for r in rows], self.state.ids.stream("tokens"))

    def _fernet(self) -> FernetTokens:
        if self.tokens is None:
            raise RuntimeError("identity keys are not loaded")
        return self.tokens

    # -- issue -----------------------------------------------------------------------

    def authenticate(self, session: Session, auth: Mapping[str, Any],
                     signed: SignedRequest | None = None) -> TokenInfo:
        """Check the credentials and the scope; what the new token will say. ``signed`` is
        the request itself, which the ``oauth1`` method checks the signature of."""
        identity = auth["identity"]
        methods = list(identity["methods"])
        scope = auth.get("scope")
        now = self.state.clock.now()
        expires_at = now + self.state.config.token.expiration
        audit_ids = [self._fernet().new_audit_id()]
        app_cred_id: str | None = None
        if "oauth1" in methods:
            if signed is None:
                raise Unauthorized("Could not validate the access token")
            access = self.oauth1.check_signed_token_request(session, signed)
            # keystone's oauth1 method decides the scope: the access token's project.
            payload = TokenPayload(user_id=access.authorizing_user_id, methods=("oauth1",),
                                   expires_at=expires_at, issued_at=now,
                                   audit_ids=tuple(audit_ids), project_id=access.project_id,
                                   access_token_id=access.id)
            return self.token_info(session, payload)
        if "application_credential" in methods:
            if scope is not None:
                raise Unauthorized("Application credentials cannot request a scope.")
            credential, user = self._application_credential(session,
                                                            identity["application_credential"])
            app_cred_id = credential.id
            if credential.expires_at is not None:
                expires_at = min(expires_at, credential.expires_at)
            scope = {"project": {"id": credential.project_id}}
        elif "password" in methods:
            user = self._password_user(session, identity.get("password", {}))
        elif "token" in methods:
            old = self.validate(identity.get("token", {}).get("id", ""))
            if old.payload.application_credential_id:
                raise Forbidden("Unable to rescope a token made with an application credential.")
            if old.payload.access_token_id:
                raise Forbidden("You are not authorized to perform the requested action: "
                                "Cannot use an OAuth1 token to create another token.")
            if old.payload.trust_id:
                raise Forbidden("You are not authorized to perform the requested action: Using "
                                "trust-scoped token to create another token. Create a new "
                                "trust-scoped token instead.")
            user = self.users.get_user(session, old.payload.user_id)
            expires_at = old.payload.expires_at
            audit_ids.append(old.payload.audit_ids[-1])
            # keystone's token method keeps the methods the first token was got with.
            methods = [m for m in METHODS if m in {*methods, *old.payload.methods}]
            if scope is None and old.payload.scope_kind != "unscoped":
                raise Forbidden("Rescoping a scoped token to an unscoped one is not allowed.")
        else:
            raise Unauthorized(f"Unsupported authentication method: {', '.join(methods)}")
        if not user.enabled:
            raise Unauthorized("The request you have made requires authentication.")
        self._check_domain_enabled(session, user.domain_id)
        trust = self._trust_scope(session, user, scope)
        if trust is not None:
            project_id, domain_id, system = trust.project_id, None, None
        else:
            project_id, domain_id, system = self._resolve_scope(session, user, scope)
        payload = TokenPayload(user_id=user.id, methods=tuple(methods), expires_at=expires_at,
                               issued_at=now, audit_ids=tuple(audit_ids), project_id=project_id,
                               domain_id=domain_id, system=system,
                               application_credential_id=app_cred_id,
                               trust_id=trust.id if trust is not None else None)
        if trust is not None:
            info = self.token_info(session, payload)
            # A use is counted only once the token is sure to be issued.
            self.trusts.consume(session, trust)
            return info
        if app_cred_id is None and project_id is None and domain_id is None and system is None \
                and scope is None and user.default_project_id:
            # keystone scopes a scope-less request to the user's default project when it can.
            project = session.get(m.Project, user.default_project_id)
            if project is not None and project.enabled and \
                    self.roles.roles_for(session, user.id, "project", project.id):
                payload = TokenPayload(**{**payload.__dict__, "project_id": project.id})
        return self.token_info(session, payload)

    def peek(self, token: str) -> TokenPayload:
        """Decrypt a token without judging it (expiry, revocation are not checked)."""
        return self._fernet().decode(token)

    def issue(self, payload: TokenPayload) -> str:
        return self._fernet().encode(payload)

    def _password_user(self, session: Session, password: Mapping[str, Any]) -> m.User:
        ref = password.get("user") or {}
        try:
            user = self._find_user(session, ref)
        except NotFound:
            raise Unauthorized() from None
        if "password" not in ref or not self.users.check_password(user, str(ref["password"])):
            raise Unauthorized()
        return user

    def _find_user(self, session: Session, ref: Mapping[str, Any]) -> m.User:
        if ref.get("id"):
            return self.users.get_user(session, ref["id"])
        if not ref.get("name"):
            raise BadRequest("Invalid input for field 'identity/password/user': the user needs "
                             "an 'id', or a 'name' and a 'domain'")
        domain = ref.get("domain") or {}
        if not domain:
            raise BadRequest("Expecting to find domain in user. The server could not comply with "
                             "the request since it is either malformed or otherwise incorrect.")
        domain_row = self.resources.find_domain(session, id=domain.get("id"),
                                                name=domain.get("name"))
        return self.users.find_user(session, name=ref["name"], domain_id=domain_row.id)

    def _application_credential(self, session: Session, ref: Mapping[str, Any]) \
            -> tuple[m.ApplicationCredential, m.User]:
        try:
            if ref.get("id"):
                credential = self.app_creds.get_any(session, ref["id"])
                user = self.users.get_user(session, credential.user_id)
            else:
                user = self._find_user(session, ref.get("user") or {})
                credential = self.app_creds.find(session, user.id, ref.get("name", ""))
        except NotFound:
            raise Unauthorized() from None
        if not self.state.hasher.verify(str(ref.get("secret", "")), credential.secret_hash):
            raise Unauthorized()
        if credential.expires_at is not None and credential.expires_at <= self.state.clock.now():
            raise Unauthorized("The application credential has expired.")
        return credential, user

    def _trust_scope(self, session: Session, user: m.User, scope: Any) -> m.Trust | None:
        """The trust a ``{"OS-TRUST:trust": {"id": ...}}`` scope names; only its trustee
        may use it, and a trust that is gone fails the authentication."""
        if not isinstance(scope, Mapping) or "OS-TRUST:trust" not in scope:
            return None
        if len(scope) != 1:
            raise BadRequest("Expecting to find system, project, domain, OS-TRUST:trust or "
                             "unscoped in scope. The server could not comply with the request "
                             "since it is either malformed or otherwise incorrect. The client "
                             "is assumed to be in error.")
        trust_id = (scope["OS-TRUST:trust"] or {}).get("id")
        if not trust_id:
            raise BadRequest("Expecting to find trust_id in trust. The server could not comply "
                             "with the request since it is either malformed or otherwise "
                             "incorrect. The client is assumed to be in error.")
        try:
            trust = self.trusts.get(session, str(trust_id))
        except NotFound as exc:
            raise Unauthorized(exc.message) from None
        if trust.project_id:
            project = session.get(m.Project, trust.project_id)
            if project is None or not project.enabled:
                raise Unauthorized(f"Could not find project: {trust.project_id}.")
        if user.id != trust.trustee_user_id:
            raise Forbidden("User is not a trustee.")
        return trust

    def _resolve_scope(self, session: Session, user: m.User, scope: Any) \
            -> tuple[str | None, str | None, str | None]:
        if scope is None or scope == "unscoped":
            return None, None, None
        if not isinstance(scope, Mapping):
            raise BadRequest("Invalid input for field 'auth/scope'")
        if "project" in scope:
            ref = scope["project"]
            try:
                if ref.get("id"):
                    project = self.resources.get_project(session, ref["id"])
                else:
                    domain_ref = ref.get("domain") or {}
                    if not domain_ref:
                        raise BadRequest("Expecting to find domain in project.")
                    domain = self.resources.find_domain(session, id=domain_ref.get("id"),
                                                        name=domain_ref.get("name"))
                    project = self.resources.find_project(session, name=ref.get("name"),
                                                          domain_id=domain.id)
            except NotFound as exc:
                raise Unauthorized(exc.message) from None
            return project.id, None, None
        if "domain" in scope:
            ref = scope["domain"]
            try:
                domain = self.resources.find_domain(session, id=ref.get("id"),
                                                    name=ref.get("name"))
            except NotFound as exc:
                raise Unauthorized(exc.message) from None
            return None, domain.id, None
        if "system" in scope:
            if scope["system"] != {"all": True}:
                raise BadRequest("Invalid input for field 'auth/scope/system'")
            return None, None, "all"
        raise BadRequest("Invalid input for field 'auth/scope'")

    def _check_domain_enabled(self, session: Session, domain_id: str) -> None:
        domain = session.get(m.Domain, domain_id)
        if domain is None or not domain.enabled:
            raise Unauthorized("The request you have made requires authentication.")

    # -- validate --------------------------------------------------------------------

    def validate(self, token: str, *, allow_expired: bool = False) -> TokenInfo:
        """Decode a token and check it is still good; raises 404 if not (keystone's answer)."""
        try:
            payload = self._fernet().decode(token)
        except TokenFormatError:
            raise NotFound("Could not recognize Fernet token") from None
        now = self.state.clock.now()
        window = self.state.config.token.allow_expired_window if allow_expired else 0
        if payload.expires_at + window <= now:
            raise NotFound("The token has expired.")
        info = self.state.cached(
            ("token-info", payload.user_id, payload.project_id, payload.domain_id,
             payload.system, payload.application_credential_id, payload.trust_id,
             payload.access_token_id),
            lambda: self._token_info_or_none(payload))
        if info is None:
            raise NotFound("Failed to validate token")
        if info.trust_expires_at is not None and now > info.trust_expires_at:
            raise NotFound(f"Could not find trust: {payload.trust_id}.")
        role_ids = frozenset(r["id"] for r in info.roles)
        if self.state.revocations.is_revoked(
                payload, role_ids, info.user["domain"]["id"],
                (info.project or {}).get("domain", {}).get("id")):
            raise NotFound("Failed to validate token")
        return TokenInfo(payload, info.user, info.roles, info.project, info.domain,
                         info.application_credential, info.is_admin_project,
                         trust=info.trust, trust_expires_at=info.trust_expires_at,
                         oauth=info.oauth)

    def _token_info_or_none(self, payload: TokenPayload) -> TokenInfo | None:
        try:
            with self.state.db.session() as session:
                return self.token_info(session, payload)
        except (Unauthorized, NotFound, Forbidden):
            return None

    def _user_ref(self, session: Session, user_id: str) -> dict[str, Any]:
        """A token's user; 401 if it or its domain is gone or disabled."""
        user = session.get(m.User, user_id)
        if user is None or not user.enabled:
            raise Unauthorized()
        user_domain = session.get(m.Domain, user.domain_id)
        if user_domain is None or not user_domain.enabled:
            raise Unauthorized()
        return {"id": user.id, "name": user.name,
                "domain": {"id": user_domain.id, "name": user_domain.name},
                "password_expires_at": _iso_or_none(user.password_expires_at)}

    def _trust_info(self, session: Session, payload: TokenPayload) -> TokenInfo:
        """A trust-scoped token: the trustee's (or, impersonating, the trustor's) token
        on the trust's project, with the trust's roles the trustor still holds."""
        trust = self.trusts.get(session, payload.trust_id or "", uses=False)
        if payload.user_id != trust.trustee_user_id:
            raise Forbidden("User is not a trustee.")
        trustee = self._user_ref(session, trust.trustee_user_id)
        trustor = self._user_ref(session, trust.trustor_user_id)
        project_ref = None
        if trust.project_id:
            project = session.get(m.Project, trust.project_id)
            domain = session.get(m.Domain, project.domain_id) if project is not None else None
            if project is None or not project.enabled or domain is None or not domain.enabled:
                raise Unauthorized(f"Could not find project: {trust.project_id}.")
            project_ref = {"id": project.id, "name": project.name,
                           "domain": {"id": domain.id, "name": domain.name}}
        roles = self.trusts.delegated_roles(session, trust)
        return TokenInfo(
            payload=payload, user=trustor if trust.impersonation else trustee,
            roles=[{"id": r.id, "name": r.name} for r in roles], project=project_ref,
            trust={"id": trust.id, "trustor_user": {"id": trust.trustor_user_id},
                   "trustee_user": {"id": trust.trustee_user_id},
                   "impersonation": trust.impersonation},
            trust_expires_at=trust.expires_at)

    def _oauth_info(self, session: Session, payload: TokenPayload) -> TokenInfo:
        """An OAuth1 token: the authorizing user on the access token's project, with the
        roles it delegates that the user still holds; gone with its access token."""
        access = session.get(m.OAuthAccessToken, payload.access_token_id)
        if access is None or access.authorizing_user_id != payload.user_id:
            raise Unauthorized("Could not validate the access token")
        user_ref = self._user_ref(session, payload.user_id)
        project = session.get(m.Project, access.project_id)
        domain = session.get(m.Domain, project.domain_id) if project is not None else None
        if project is None or not project.enabled or domain is None or not domain.enabled:
            raise Unauthorized(f"Could not find project: {access.project_id}.")
        delegated = set(access.role_ids)
        roles = [r for r in self.roles.roles_for(session, payload.user_id, "project", project.id)
                 if r.id in delegated]
        if not roles:
            raise Unauthorized(f"User {payload.user_id} has no access to project {project.id}")
        return TokenInfo(
            payload=payload, user=user_ref, roles=[{"id": r.id, "name": r.name} for r in roles],
            project={"id": project.id, "name": project.name,
                     "domain": {"id": domain.id, "name": domain.name}},
            oauth={"access_token_id": access.id, "consumer_id": access.consumer_id})

    def token_info(self, session: Session, payload: TokenPayload) -> TokenInfo:
        """The subject, scope and roles of a token, from the store; 401 if they no longer hold."""
        if payload.trust_id:
            return self._trust_info(session, payload)
        if payload.access_token_id:
            return self._oauth_info(session, payload)
        user_ref = self._user_ref(session, payload.user_id)
        user_id = payload.user_id
        project_ref = domain_ref = None
        if payload.project_id:
            project = session.get(m.Project, payload.project_id)
            if project is None or not project.enabled:
                raise Unauthorized(f"Could not find project: {payload.project_id}.")
            domain = session.get(m.Domain, project.domain_id)
            if domain is None or not domain.enabled:
                raise Unauthorized()
            project_ref = {"id": project.id, "name": project.name,
                           "domain": {"id": domain.id, "name": domain.name}}
            roles = self.roles.roles_for(session, user_id, "project", project.id)
            scope_desc = f"project {project.id}"
        elif payload.domain_id:
            domain = session.get(m.Domain, payload.domain_id)
            if domain is None or not domain.enabled:
                raise Unauthorized()
            domain_ref = {"id": domain.id, "name": domain.name}
            roles = self.roles.roles_for(session, user_id, "domain", domain.id)
            scope_desc = f"domain {domain.id}"
        elif payload.system:
            roles = self.roles.roles_for(session, user_id, "system", SYSTEM)
            scope_desc = "the system"
        else:
            roles = []
            scope_desc = ""
        app_cred_ref = None
        if payload.application_credential_id:
            credential = session.get(m.ApplicationCredential, payload.application_credential_id)
            if credential is None:
                raise Unauthorized()
            allowed = set(credential.role_ids)
            roles = [r for r in roles if r.id in allowed]
            app_cred_ref = {"id": credential.id, "name": credential.name,
                            "restricted": not credential.unrestricted}
        if payload.scope_kind != "unscoped" and not roles:
            raise Unauthorized(f"User {user_id} has no access to {scope_desc}")
        return TokenInfo(
            payload=payload, user=user_ref,
            roles=[{"id": r.id, "name": r.name} for r in roles],
            project=project_ref, domain=domain_ref, application_credential=app_cred_ref,
        )

    # -- render ----------------------------------------------------------------------

    def render(self, session: Session | None, info: TokenInfo, *,
               with_catalog: bool) -> dict[str, Any]:
        """A token's body; ``session`` None: the catalog, if not cached, is read in a
        session of its own."""
        payload = info.payload
        token: dict[str, Any] = {
            "methods": list(payload.methods),
            "user": info.user,
            "audit_ids": list(payload.audit_ids),
            "expires_at": isotime(payload.expires_at, subsecond=True),
            "issued_at": isotime(payload.issued_at, subsecond=True),
        }
        if info.trust is not None:
            token["OS-TRUST:trust"] = info.trust
            if info.project is not None:
                token["project"] = info.project
        elif info.project is not None:
            token["project"] = info.project
            token["is_domain"] = False
        elif info.domain is not None:
            token["domain"] = info.domain
        elif payload.system:
            token["system"] = {payload.system: True}
        if payload.scope_kind != "unscoped":
            token["roles"] = info.roles
            if with_catalog:
                project = token.get("project")
                token["catalog"] = self.catalog.render(
                    session, project["id"] if isinstance(project, dict) else None)
        if info.oauth is not None:
            token["OS-OAUTH1"] = info.oauth
        if info.application_credential is not None:
            token["application_credential"] = info.application_credential
        return {"token": token}

    def fill_context(self, info: TokenInfo, context: RequestContext) -> None:
        payload = info.payload
        context.authenticated = True
        # Impersonating, a trust's token is the trustor's to every service.
        context.user_id = info.user["id"]
        context.user_name = info.user["name"]
        context.user_domain_id = info.user["domain"]["id"]
        context.user_domain_name = info.user["domain"]["name"]
        if info.project is not None:
            context.project_id = info.project["id"]
            context.project_name = info.project["name"]
            context.project_domain_id = info.project["domain"]["id"]
            context.project_domain_name = info.project["domain"]["name"]
        if info.domain is not None:
            context.domain_id = info.domain["id"]
            context.domain_name = info.domain["name"]
        context.system_scope = payload.system
        context.roles = info.role_names
        context.audit_ids = list(payload.audit_ids)
        context.application_credential_id = payload.application_credential_id
        context.trust_id = payload.trust_id
        context.access_token_id = payload.access_token_id
        context.is_admin_project = info.is_admin_project

    def revoke(self, session: Session, payload: TokenPayload) -> None:
        self.state.revoke(session, audit_id=payload.audit_ids[0])


def _iso_or_none(moment: float | None) -> str | None:
    return isotime(moment, subsecond=True) if moment is not None else None
