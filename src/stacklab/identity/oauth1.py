"""OS-OAUTH1: consumers, and the signed OAuth 1.0a exchange keystone serves.

A consumer asks for a request token for a project, a user authorizes it with some of
their roles on that project (getting a verifier), the consumer trades token and verifier
for an access token, and signs token requests (the ``oauth1`` auth method) with it: the
tokens it gets carry the authorized roles only, and die with the access token. Signatures
are HMAC-SHA1, checked by oauthlib's server endpoints as keystone checks them; what
oauthlib would ask of the wall clock (the timestamp window) is asked of ours instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from oauthlib import oauth1 as oauthlib1
from oauthlib.oauth1.rfc5849 import utils as oauth_utils
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Forbidden, NotFound, Unauthorized
from stacklab.identity import models as m
from stacklab.identity.roles import Roles
from stacklab.identity.rows import row_or_404
from stacklab.identity.state import IdentityState

# keystone's verifiers: 8 letters and digits, without the ones people misread.
VERIFIER_CHARS = "".join(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                         "0123456789" if c not in "jiIl1oO0")
# oauthlib's default window for a request's timestamp, measured on the cloud's clock.
TIMESTAMP_LIFETIME = 600
_HEX = set("abcdef0123456789")


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers: the URL the client used, the method, headers and the body."""

    uri: str
    method: str
    headers: Mapping[str, str]
    body: str = ""


def oauth_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The ``oauth_*`` parameters of the Authorization header; 400 without one (keystone's
    OAuthHeadersMissingError)."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if not value:
        raise BadRequest("No Authorization headers found, cannot proceed with OAuth related "
                         "calls")
    try:
        return dict(oauth_utils.parse_authorization_header(value))
    except (ValueError, TypeError):
        raise BadRequest("Invalid OAuth Authorization header") from None


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise BadRequest(f"Expecting to find {name} in request. The server could not comply "
                         "with the request since it is either malformed or otherwise "
                         "incorrect. The client is assumed to be in error.")
    return value


class _Validator(oauthlib1.RequestValidator):  # type: ignore[misc]
    """keystone's OAuthValidator over one session, with the cloud's clock."""

    def __init__(self, session: Session, now: float) -> None:
        super().__init__()
        self.session = session
        self.now = now

    enforce_ssl = False
    # oauthlib compares timestamps with time.time(); validate_timestamp_and_nonce does it
    # with the cloud's clock instead, so this window only has to let every request through.
    timestamp_lifetime = 10 ** 12

    @property
    def safe_characters(self) -> set[str]:
        return _HEX

    def _check_token(self, token: str) -> bool:
        return set(token) <= _HEX and len(token) == 32

    def check_client_key(self, client_key: str) -> bool:
        return self._check_token(client_key)

    def check_request_token(self, request_token: str) -> bool:
        return self._check_token(request_token)

    def check_access_token(self, access_token: str) -> bool:
        return self._check_token(access_token)

    def check_nonce(self, nonce: str) -> bool:
        return set(nonce) <= _HEX

    def check_verifier(self, verifier: str) -> bool:
        return len(verifier) == 8 and set(verifier) <= set(VERIFIER_CHARS)

    @property
    def dummy_client(self) -> str:
        return "0" * 32

    @property
    def dummy_request_token(self) -> str:
        return "0" * 32

    @property
    def dummy_access_token(self) -> str:
        return "0" * 32

    def get_client_secret(self, client_key: str, request: Any) -> str:
        consumer = self.session.get(m.OAuthConsumer, client_key)
        return consumer.secret if consumer is not None else "dummy"

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        row = self.session.get(m.OAuthRequestToken, token)
        return row.request_secret if row is not None else "dummy"

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        row = self.session.get(m.OAuthAccessToken, token)
        return row.access_secret if row is not None else "dummy"

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def get_redirect_uri(self, token: str, request: Any) -> str:
        return "oob"

    def get_rsa_key(self, client_key: str, request: Any) -> str:
        return ""

    def invalidate_request_token(self, client_key: str, request_token: str,
                                 request: Any) -> None:
        # The access token's creation deletes the request token.
        return None

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return self.session.get(m.OAuthConsumer, client_key) is not None

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        row = self.session.get(m.OAuthRequestToken, token)
        return row is not None and row.consumer_id == client_key

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        row = self.session.get(m.OAuthAccessToken, token)
        return row is not None and row.consumer_id == client_key

    def validate_timestamp_and_nonce(self, client_key: str, timestamp: str, nonce: str,
                                     request: Any, request_token: str | None = None,
                                     access_token: str | None = None) -> bool:
        try:
            return abs(self.now - int(timestamp)) <= TIMESTAMP_LIFETIME
        except ValueError:
            return False

    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Any) -> bool:
        return True

    def validate_requested_realms(self, client_key: str, realms: Any, request: Any) -> bool:
        return True

    def validate_realms(self, client_key: str, token: str, request: Any, uri: Any = None,
                        realms: Any = None) -> bool:
        return True

    def validate_verifier(self, client_key: str, token: str, verifier: str,
                          request: Any) -> bool:
        row = self.session.get(m.OAuthRequestToken, token)
        return row is not None and row.verifier == verifier

    def verify_request_token(self, token: str, request: Any) -> bool:
        return isinstance(token, str)

    def verify_realms(self, token: str, realms: Any, request: Any) -> bool:
        return True

    def save_access_token(self, token: Any, request: Any) -> None:
        return None

    def save_request_token(self, token: Any, request: Any) -> None:
        return None

    def save_verifier(self, token: Any, verifier: Any, request: Any) -> None:
        return None


def _generated(*args: Any, **kwargs: Any) -> str:
    # oauthlib's endpoints make a token of their own for a response keystone never sends.
    return "0" * 32


class OAuth1:
    """Consumers, request and access tokens, and the check of a signed token request."""

    def __init__(self, state: IdentityState, roles: Roles) -> None:
        self.state = state
        self.roles = roles

    # -- consumers -------------------------------------------------------------------

    def get_consumer(self, session: Session, consumer_id: str) -> m.OAuthConsumer:
        return row_or_404(session, m.OAuthConsumer, consumer_id, "consumer")

    def list_consumers(self, session: Session,
                       filters: Mapping[str, Any]) -> list[m.OAuthConsumer]:
        return list(session.scalars(select(m.OAuthConsumer).order_by(m.OAuthConsumer.id)))

    def create_consumer(self, session: Session, fields: Mapping[str, Any]) -> m.OAuthConsumer:
        consumer = m.OAuthConsumer(
            id=self.state.new_id(), description=fields.get("description"),
            secret=self.state.ids.hex_id(),
            extra={k: v for k, v in fields.items() if k not in ("id", "description", "secret")})
        session.add(consumer)
        return consumer

    def update_consumer(self, session: Session, consumer_id: str,
                        fields: Mapping[str, Any]) -> m.OAuthConsumer:
        consumer = self.get_consumer(session, consumer_id)
        if "description" in fields:
            consumer.description = fields["description"]
        extra = {k: v for k, v in fields.items() if k not in ("id", "description")}
        if extra:
            consumer.extra = {**consumer.extra, **extra}
        return consumer

    def delete_consumer(self, session: Session, consumer_id: str) -> None:
        consumer = self.get_consumer(session, consumer_id)
        # keystone deletes the consumer's tokens with it; the tokens signed with them die.
        session.execute(delete(m.OAuthRequestToken).where(
            m.OAuthRequestToken.consumer_id == consumer.id))
        session.execute(delete(m.OAuthAccessToken).where(
            m.OAuthAccessToken.consumer_id == consumer.id))
        session.delete(consumer)
        self.state.changed()

    # -- the exchange ----------------------------------------------------------------

    def _expiry(self, duration: int) -> float | None:
        return self.state.clock.now() + duration if duration > 0 else None

    def _alive(self, expires_at: float | None, what: str) -> None:
        if expires_at is not None and self.state.clock.now() > expires_at:
            raise Unauthorized(f"{what} is expired")

    def get_request_token(self, session: Session, token_id: str) -> m.OAuthRequestToken:
        row = session.get(m.OAuthRequestToken, token_id)
        if row is None:
            raise NotFound("Could not find request token.")
        return row

    def get_access_token(self, session: Session, token_id: str) -> m.OAuthAccessToken:
        row = session.get(m.OAuthAccessToken, token_id)
        if row is None:
            raise NotFound("Could not find access token.")
        return row

    def create_request_token(self, session: Session, signed: SignedRequest,
                             project_id: str | None) -> m.OAuthRequestToken:
        params = oauth_headers(signed.headers)
        consumer_id = _required(params, "oauth_consumer_key")
        if not project_id:
            _required({}, "Requested-Project-Id")
        project = session.get(m.Project, project_id)
        if project is None:
            raise NotFound(f"Could not find project: {project_id}.")
        self.get_consumer(session, consumer_id)
        endpoint = oauthlib1.RequestTokenEndpoint(_Validator(session, self.state.clock.now()),
                                                  token_generator=_generated)
        _headers, body, _status = endpoint.create_request_token_response(
            signed.uri, http_method=signed.method, body=signed.body or None,
            headers=dict(signed.headers))
        _check_response(body)
        token = m.OAuthRequestToken(
            id=self.state.new_id(), request_secret=self.state.ids.hex_id(),
            consumer_id=consumer_id, requested_project_id=str(project_id), role_ids=[],
            expires_at=self._expiry(self.state.config.oauth1.request_token_duration))
        session.add(token)
        return token

    def authorize_request_token(self, session: Session, token_id: str, user_id: str,
                                roles: list[Mapping[str, Any]]) -> m.OAuthRequestToken:
        """The user lends the named roles (each of which they hold on the requested project)."""
        token = self.get_request_token(session, token_id)
        self._alive(token.expires_at, "Request token")
        wanted: set[str] = set()
        for ref in roles:
            if "id" in ref:
                role = session.get(m.Role, ref["id"])
                if role is None:
                    raise NotFound(f"Could not find role: {ref['id']}.")
            else:
                found = session.scalar(select(m.Role).where(
                    m.Role.name == ref.get("name"), m.Role.domain_id.is_(None)))
                if found is None:
                    raise NotFound(f"Could not find role: {ref.get('name')}.")
                role = found
            wanted.add(role.id)
        held = {r.id for r in self.roles.roles_for(session, user_id, "project",
                                                   token.requested_project_id)}
        if not wanted <= held:
            raise Unauthorized("authorizing user does not have role required")
        token.authorizing_user_id = user_id
        token.role_ids = sorted(wanted)
        raw = self.state.ids.randbytes(8)
        token.verifier = "".join(VERIFIER_CHARS[b % len(VERIFIER_CHARS)] for b in raw)
        return token

    def create_access_token(self, session: Session, signed: SignedRequest) -> m.OAuthAccessToken:
        params = oauth_headers(signed.headers)
        consumer_id = _required(params, "oauth_consumer_key")
        request_token_id = _required(params, "oauth_token")
        verifier = _required(params, "oauth_verifier")
        request_token = self.get_request_token(session, request_token_id)
        self._alive(request_token.expires_at, "Request token")
        if session.get(m.OAuthConsumer, consumer_id) is None:
            raise Unauthorized("Provided consumer does not exist.")
        if request_token.consumer_id != consumer_id:
            raise Unauthorized("Provided consumer key does not match stored consumer key.")
        endpoint = oauthlib1.AccessTokenEndpoint(_Validator(session, self.state.clock.now()),
                                                 token_generator=_generated)
        _headers, body, _status = endpoint.create_access_token_response(
            signed.uri, http_method=signed.method, body=signed.body or None,
            headers=dict(signed.headers))
        if not body:
            if request_token.verifier != verifier:
                raise Unauthorized("Provided verifier does not match stored verifier")
            raise Unauthorized("Invalid signature")
        _check_response(body)
        if not request_token.authorizing_user_id:
            raise Unauthorized("Request Token does not have an authorizing user id.")
        token = m.OAuthAccessToken(
            id=self.state.new_id(), access_secret=self.state.ids.hex_id(),
            consumer_id=consumer_id, authorizing_user_id=request_token.authorizing_user_id,
            project_id=request_token.requested_project_id, role_ids=list(request_token.role_ids),
            expires_at=self._expiry(self.state.config.oauth1.access_token_duration))
        session.add(token)
        session.delete(request_token)
        return token

    def check_signed_token_request(self, session: Session,
                                   signed: SignedRequest) -> m.OAuthAccessToken:
        """The ``oauth1`` auth method: the access token a validly signed request names."""
        params = oauth_headers(signed.headers)
        token = self.get_access_token(session, _required(params, "oauth_token"))
        self._alive(token.expires_at, "Access token")
        endpoint = oauthlib1.ResourceEndpoint(_Validator(session, self.state.clock.now()),
                                              token_generator=_generated)
        valid, _request = endpoint.validate_protected_resource_request(
            signed.uri, http_method=signed.method, body=signed.body or None,
            headers=dict(signed.headers), realms=None)
        if not valid:
            raise Unauthorized("Could not validate the access token")
        return token

    # -- a user's access tokens ------------------------------------------------------

    def list_access_tokens(self, session: Session, user_id: str) -> list[m.OAuthAccessToken]:
        return list(session.scalars(select(m.OAuthAccessToken).where(
            m.OAuthAccessToken.authorizing_user_id == user_id).order_by(m.OAuthAccessToken.id)))

    def users_access_token(self, session: Session, user_id: str,
                           token_id: str) -> m.OAuthAccessToken:
        token = self.get_access_token(session, token_id)
        if token.authorizing_user_id != user_id:
            raise NotFound("Could not find access token.")
        return token

    def access_token_role(self, session: Session, user_id: str, token_id: str,
                          role_id: str) -> m.Role:
        token = self.get_access_token(session, token_id)
        if token.authorizing_user_id != user_id:
            raise Unauthorized("User IDs do not match")
        role = session.get(m.Role, role_id) if role_id in token.role_ids else None
        if role is None:
            raise NotFound(f"Could not find role: {role_id}.")
        return role

    def delete_access_token(self, session: Session, user_id: str, token_id: str) -> None:
        """Delete it; every token it signed for stops validating (``token_info`` asks for it)."""
        token = self.get_access_token(session, token_id)
        if token.authorizing_user_id != user_id:
            raise Unauthorized("User IDs do not match")
        session.delete(token)
        self.state.changed()

    def delete_for_user(self, session: Session, user_id: str) -> None:
        session.execute(delete(m.OAuthAccessToken).where(
            m.OAuthAccessToken.authorizing_user_id == user_id))


def _check_response(body: str | None) -> None:
    """keystone's reading of oauthlib's answer: none is a bad signature (401); an ``error``
    parameter is what was wrong with the request (400), as is any parameter but OAuth's."""
    if not body:
        raise Unauthorized("Invalid signature")
    params = dict(parse_qsl(body))
    if "error" in params:
        raise BadRequest(f"Validation failed with errors: {params['error']}, detail "
                         f"message is: {params.get('error_description', '')}.")
    if any(not name.startswith("oauth_") for name in params):
        raise BadRequest("Unknown parameters found,please provide only oauth parameters.")


def refuse_delegated(is_delegated: bool, what: str) -> None:
    if is_delegated:
        raise Forbidden(f"Cannot {what} with a token issued via delegation.")
