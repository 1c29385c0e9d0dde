"""OS-OAUTH1: consumers (the generic controller), the request/authorize/access exchange and
a user's access tokens. The signed requests' checks are ``identity/oauth1.py``'s."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from stacklab.api.service import Call
from stacklab.clock import isotime
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import api, backend, collection_links, link, role_ref
from stacklab.identity.api.resource import Resource, serve
from stacklab.identity.oauth1 import SignedRequest, refuse_delegated


def render_consumer(call: Call, c: m.OAuthConsumer) -> dict[str, Any]:
    body: dict[str, Any] = {**c.extra, "id": c.id, "description": c.description,
                            "links": link(call, f"/v3/OS-OAUTH1/consumers/{c.id}")}
    # keystone shows the secret once, in the answer to the create.
    if call.request.method == "POST":
        body["secret"] = c.secret
    return body


CONSUMERS = serve(Resource(
    "consumer", "consumers", "oauth1", render_consumer, schemas.CONSUMER_CREATE,
    schemas.CONSUMER_UPDATE, prefix="OS-OAUTH1/"))


def signed_request(call: Call) -> SignedRequest:
    """The request as its signer saw it: the URL it called (query included), the method
    and headers. keystone hands oauthlib no body: only the query's parameters count."""
    return SignedRequest(uri=str(call.request.url), method=call.request.method,
                         headers=dict(call.request.headers))


def _form(fields: dict[str, str]) -> Response:
    text = "&".join(f"{k}={v}" for k, v in fields.items())
    return Response(text, status_code=201, media_type="application/x-www-form-urlencoded")


def _token_fields(token_id: str, secret: str, expires_at: float | None) -> dict[str, str]:
    fields = {"oauth_token": token_id, "oauth_token_secret": secret}
    if expires_at is not None:
        fields["oauth_expires_at"] = isotime(expires_at, subsecond=True)
    return fields


@api.route("POST", "/v3/OS-OAUTH1/request_token", public=True, status=201, body_optional=True)
async def create_request_token(call: Call) -> Response:
    with backend(call) as (service, session):
        token = service.oauth1.create_request_token(
            session, signed_request(call), call.headers.get("requested-project-id"))
        fields = _token_fields(token.id, token.request_secret, token.expires_at)
    return _form(fields)


@api.route("POST", "/v3/OS-OAUTH1/access_token", public=True, status=201, body_optional=True)
async def create_access_token(call: Call) -> Response:
    with backend(call) as (service, session):
        token = service.oauth1.create_access_token(session, signed_request(call))
        fields = _token_fields(token.id, token.access_secret, token.expires_at)
    return _form(fields)


@api.route("PUT", "/v3/OS-OAUTH1/authorize/{request_token_id}",
           policy="identity:authorize_request_token", schema=schemas.REQUEST_TOKEN_AUTHORIZE)
async def authorize_request_token(call: Call) -> dict[str, Any]:
    refuse_delegated(call.context.is_delegated_auth
                     or bool(call.context.application_credential_id),
                     "authorize a request token")
    with backend(call) as (service, session):
        token = service.oauth1.authorize_request_token(
            session, call.params["request_token_id"], call.context.user_id or "",
            call.body["roles"])
        return {"token": {"oauth_verifier": token.verifier}}


# -- a user's access tokens ------------------------------------------------------------

USER_TOKENS = "/v3/users/{user_id}/OS-OAUTH1/access_tokens"


def render_access_token(call: Call, t: m.OAuthAccessToken) -> dict[str, Any]:
    base = f"/v3/users/{t.authorizing_user_id}/OS-OAUTH1/access_tokens/{t.id}"
    return {"id": t.id, "consumer_id": t.consumer_id, "project_id": t.project_id,
            "authorizing_user_id": t.authorizing_user_id,
            "expires_at": isotime(t.expires_at, subsecond=True) if t.expires_at else None,
            "links": {**link(call, base), "roles": call.url_for(f"{base}/roles")}}


def _manage(call: Call) -> None:
    refuse_delegated(call.context.is_delegated_auth
                     or bool(call.context.application_credential_id),
                     "manage OAuth access tokens")


@api.route("GET", USER_TOKENS, policy="identity:list_access_tokens")
async def list_access_tokens(call: Call) -> dict[str, Any]:
    _manage(call)
    user_id = call.params["user_id"]
    with backend(call) as (service, session):
        tokens = service.oauth1.list_access_tokens(session, user_id)
        return {"access_tokens": [render_access_token(call, t) for t in tokens],
                "links": collection_links(call, f"/v3/users/{user_id}/OS-OAUTH1/access_tokens")}


@api.route("GET", f"{USER_TOKENS}/{{access_token_id}}", policy="identity:get_access_token")
async def show_access_token(call: Call) -> dict[str, Any]:
    _manage(call)
    with backend(call) as (service, session):
        token = service.oauth1.users_access_token(session, call.params["user_id"],
                                                  call.params["access_token_id"])
        return {"access_token": render_access_token(call, token)}


@api.route("DELETE", f"{USER_TOKENS}/{{access_token_id}}", policy="identity:delete_access_token",
           status=204)
async def delete_access_token(call: Call) -> None:
    _manage(call)
    with backend(call) as (service, session):
        service.oauth1.delete_access_token(session, call.params["user_id"],
                                           call.params["access_token_id"])


@api.route("GET", f"{USER_TOKENS}/{{access_token_id}}/roles",
           policy="identity:list_access_token_roles")
async def list_access_token_roles(call: Call) -> dict[str, Any]:
    _manage(call)
    user_id, token_id = call.params["user_id"], call.params["access_token_id"]
    with backend(call) as (service, session):
        token = service.oauth1.users_access_token(session, user_id, token_id)
        roles = [r for r in (session.get(m.Role, rid) for rid in token.role_ids) if r]
        return {"roles": [role_ref(call, r) for r in roles],
                "links": collection_links(call, f"{USER_TOKENS}/{token_id}/roles".replace(
                    "{user_id}", user_id))}


@api.route("GET", f"{USER_TOKENS}/{{access_token_id}}/roles/{{role_id}}",
           policy="identity:get_access_token_role")
async def show_access_token_role(call: Call) -> dict[str, Any]:
    _manage(call)
    with backend(call) as (service, session):
        role = service.oauth1.access_token_role(session, call.params["user_id"],
                                                call.params["access_token_id"],
                                                call.params["role_id"])
        return {"role": role_ref(call, role)}
