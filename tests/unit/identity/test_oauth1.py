"""OS-OAUTH1's exchange without HTTP: request tokens, authorization, access tokens and the
oauth1 auth method, signed by oauthlib's client side, on the injected virtual clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from oauthlib import oauth1 as oauthlib1

from stacklab.api.errors import BadRequest, Forbidden, NotFound, Unauthorized
from stacklab.clock import VirtualClock
from stacklab.identity import models as m
from stacklab.identity.oauth1 import SignedRequest
from stacklab.identity.service import IdentityService

BASE = "http://lab.example:5000/identity/v3"


@dataclass
class Lab:
    user: str
    project: str
    lent: str  # a role the user holds and lends the consumer
    kept: str  # a role the user holds and keeps
    consumer: str
    consumer_secret: str


def setup(identity: IdentityService) -> Lab:
    with identity.db.session() as session:
        user = identity.users.create_user(session, {"name": "owner", "password": "pw"},
                                          "default")
        project = identity.resources.create_project(session, {"name": "p"}, "default")
        roles = [identity.roles.create_role(session, {"name": n}) for n in ("lent", "kept")]
        session.flush()
        for role in roles:
            identity.roles.grant(session, "user", user.id, "project", project.id, role.id)
        consumer = identity.oauth1.create_consumer(session, {"description": "app"})
        return Lab(user.id, project.id, roles[0].id, roles[1].id, consumer.id, consumer.secret)


def clock(identity: IdentityService) -> VirtualClock:
    assert isinstance(identity.state.clock, VirtualClock)
    return identity.state.clock


def signed(identity: IdentityService, path: str, secret: str, key: str, *,
           token: str | None = None, token_secret: str | None = None,
           verifier: str | None = None, headers: dict[str, str] | None = None,
           callback: str | None = None) -> SignedRequest:
    client = oauthlib1.Client(key, client_secret=secret, resource_owner_key=token,
                              resource_owner_secret=token_secret, verifier=verifier,
                              callback_uri=callback, signature_method=oauthlib1.SIGNATURE_HMAC,
                              timestamp=str(int(clock(identity).now())), nonce="0123456789abcdef")
    uri, signed_headers, _body = client.sign(BASE + path, http_method="POST")
    return SignedRequest(uri=uri, method="POST", headers={**(headers or {}), **signed_headers})


def request_token(identity: IdentityService, lab: Lab, *, secret: str | None = None
                  ) -> tuple[str, str]:
    with identity.db.session() as session:
        token = identity.oauth1.create_request_token(
            session, signed(identity, "/OS-OAUTH1/request_token", secret or lab.consumer_secret,
                            lab.consumer, callback="oob",
                            headers={"Requested-Project-Id": lab.project}), lab.project)
        return token.id, token.request_secret


def authorize(identity: IdentityService, lab: Lab, token_id: str) -> str:
    with identity.db.session() as session:
        token = identity.oauth1.authorize_request_token(session, token_id, lab.user,
                                                        [{"id": lab.lent}])
        assert token.verifier is not None
        return token.verifier


def access_token(identity: IdentityService, lab: Lab) -> tuple[str, str]:
    token_id, token_secret = request_token(identity, lab)
    verifier = authorize(identity, lab, token_id)
    with identity.db.session() as session:
        access = identity.oauth1.create_access_token(session, signed(
            identity, "/OS-OAUTH1/access_token", lab.consumer_secret, lab.consumer,
            token=token_id, token_secret=token_secret, verifier=verifier))
        return access.id, access.access_secret


def oauth_token(identity: IdentityService, lab: Lab, access: tuple[str, str]) -> str:
    request = signed(identity, "/auth/tokens", lab.consumer_secret, lab.consumer,
                     token=access[0], token_secret=access[1])
    with identity.db.session() as session:
        info = identity.auth.authenticate(
            session, {"identity": {"methods": ["oauth1"], "oauth1": {}}}, request)
    return identity.auth.issue(info.payload)


def test_the_exchange_gives_a_token_with_the_lent_roles_only(started: IdentityService) -> None:
    lab = setup(started)
    access = access_token(started, lab)
    info = started.auth.validate(oauth_token(started, lab, access))
    assert info.project is not None and info.project["id"] == lab.project
    assert [r["id"] for r in info.roles] == [lab.lent]
    assert info.payload.methods == ("oauth1",)
    with started.db.session() as session:
        body = started.auth.render(session, info, with_catalog=False)["token"]
        # The request token is spent by the exchange.
        assert session.scalars(m.OAuthRequestToken.__table__.select()).all() == []
    assert body["OS-OAUTH1"] == {"access_token_id": access[0], "consumer_id": lab.consumer}


def test_deleting_the_access_token_revokes_its_tokens(started: IdentityService) -> None:
    lab = setup(started)
    access = access_token(started, lab)
    token = oauth_token(started, lab, access)
    started.auth.validate(token)
    with started.db.session() as session, pytest.raises(Unauthorized):
        started.oauth1.delete_access_token(session, "someone-else", access[0])
    with started.db.session() as session:
        started.oauth1.delete_access_token(session, lab.user, access[0])
    with pytest.raises(NotFound):
        started.auth.validate(token)


def test_a_signature_with_the_wrong_secret_is_refused(started: IdentityService) -> None:
    lab = setup(started)
    with pytest.raises(Unauthorized, match="Invalid signature"):
        request_token(started, lab, secret="not-the-secret")
    access = access_token(started, lab)
    with pytest.raises(Unauthorized, match="Could not validate the access token"):
        oauth_token(started, lab, (access[0], "not-the-token-secret"))


def test_a_stale_timestamp_is_refused_by_the_clouds_clock(started: IdentityService) -> None:
    lab = setup(started)
    request = signed(started, "/OS-OAUTH1/request_token", lab.consumer_secret, lab.consumer,
                     callback="oob")
    clock(started).advance(601)
    with started.db.session() as session, pytest.raises(Unauthorized):
        started.oauth1.create_request_token(session, request, lab.project)


def test_request_token_needs_project_and_consumer_key(started: IdentityService) -> None:
    lab = setup(started)
    request = signed(started, "/OS-OAUTH1/request_token", lab.consumer_secret, lab.consumer,
                     callback="oob")
    with started.db.session() as session:
        with pytest.raises(BadRequest, match="Requested-Project-Id"):
            started.oauth1.create_request_token(session, request, None)
        with pytest.raises(NotFound):
            started.oauth1.create_request_token(session, request, "nope")
        with pytest.raises(BadRequest, match="Authorization"):
            started.oauth1.create_request_token(
                session, SignedRequest(BASE, "POST", {}), lab.project)


def test_expired_request_token_cannot_be_authorized(started: IdentityService) -> None:
    lab = setup(started)
    token_id, _secret = request_token(started, lab)
    clock(started).advance(started.state.config.oauth1.request_token_duration + 1)
    with pytest.raises(Unauthorized, match="Request token is expired"):
        authorize(started, lab, token_id)


def test_only_held_roles_can_be_lent(started: IdentityService) -> None:
    lab = setup(started)
    token_id, _secret = request_token(started, lab)
    with started.db.session() as session:
        other = started.roles.create_role(session, {"name": "not-held"})
        session.flush()
        with pytest.raises(Unauthorized, match="does not have role required"):
            started.oauth1.authorize_request_token(session, token_id, lab.user,
                                                   [{"id": other.id}])
        token = started.oauth1.authorize_request_token(session, token_id, lab.user,
                                                       [{"name": "lent"}])
        assert token.role_ids == [lab.lent]
        assert token.verifier is not None and len(token.verifier) == 8


def test_a_wrong_verifier_is_refused(started: IdentityService) -> None:
    lab = setup(started)
    token_id, token_secret = request_token(started, lab)
    verifier = authorize(started, lab, token_id)
    wrong = "abcdefgh" if verifier != "abcdefgh" else "hgfedcba"
    with started.db.session() as session, pytest.raises(Unauthorized, match="verifier"):
        started.oauth1.create_access_token(session, signed(
            started, "/OS-OAUTH1/access_token", lab.consumer_secret, lab.consumer,
            token=token_id, token_secret=token_secret, verifier=wrong))


def test_an_unauthorized_request_token_buys_no_access_token(started: IdentityService) -> None:
    lab = setup(started)
    token_id, token_secret = request_token(started, lab)
    with started.db.session() as session, pytest.raises(Unauthorized):
        started.oauth1.create_access_token(session, signed(
            started, "/OS-OAUTH1/access_token", lab.consumer_secret, lab.consumer,
            token=token_id, token_secret=token_secret, verifier="abcdefgh"))


def test_an_expired_access_token_signs_no_token(started: IdentityService) -> None:
    lab = setup(started)
    access = access_token(started, lab)
    clock(started).advance(started.state.config.oauth1.access_token_duration + 1)
    with pytest.raises(Unauthorized, match="Access token is expired"):
        oauth_token(started, lab, access)


def test_an_oauth1_token_cannot_be_rescoped(started: IdentityService) -> None:
    lab = setup(started)
    token = oauth_token(started, lab, access_token(started, lab))
    with started.db.session() as session, pytest.raises(Forbidden, match="OAuth1"):
        started.auth.authenticate(session, {"identity": {
            "methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"id": lab.project}}})


def test_deleting_the_consumer_takes_its_access_tokens(started: IdentityService) -> None:
    lab = setup(started)
    token = oauth_token(started, lab, access_token(started, lab))
    with started.db.session() as session:
        started.oauth1.delete_consumer(session, lab.consumer)
    with pytest.raises(NotFound):
        started.auth.validate(token)
    with started.db.session() as session:
        assert started.oauth1.list_access_tokens(session, lab.user) == []



def test_a_request_token_request_without_callback_is_a_400(started: IdentityService) -> None:
    lab = setup(started)
    # RFC 5849 requires oauth_callback on a request token request; oauthlib says what lacks.
    request = signed(started, "/OS-OAUTH1/request_token", lab.consumer_secret, lab.consumer)
    with started.db.session() as session, pytest.raises(BadRequest, match="Validation failed"):
        started.oauth1.create_request_token(session, request, lab.project)
