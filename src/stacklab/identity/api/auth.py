"""``/v3/auth/*``: issue, validate, check and revoke tokens; what a token may scope to."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import Forbidden, Unauthorized
from stacklab.api.service import Call, Reply
from stacklab.identity import schemas
from stacklab.identity.api.base import (
    api,
    backend,
    collection_links,
    identity,
    link,
    query_flag,
    render_domain,
    render_project,
)
from stacklab.identity.api.oauth1 import signed_request
from stacklab.identity.auth import TokenInfo
from stacklab.identity.roles import SYSTEM


@api.route("POST", "/v3/auth/tokens", public=True, status=201, schema=schemas.AUTH)
async def issue_token(call: Call) -> Reply:
    with backend(call) as (service, session):
        info = service.auth.authenticate(session, call.body["auth"], signed_request(call))
        token = service.auth.issue(info.payload)
        body = service.auth.render(session, info, with_catalog=not query_flag(call, "nocatalog"))
    return Reply(body, headers={"X-Subject-Token": token})


def _subject(call: Call) -> TokenInfo:
    subject = call.headers.get("x-subject-token")
    if not subject:
        raise Unauthorized("The request you have made requires authentication: "
                           "X-Subject-Token is missing.")
    return identity(call).auth.validate(subject, allow_expired=query_flag(call, "allow_expired"))


def _token_target(call: Call) -> dict[str, Any]:
    subject = call.headers.get("x-subject-token", "")
    try:
        user_id = identity(call).auth.peek(subject).user_id
    except ValueError:
        user_id = None
    return {"target.token.user_id": user_id}


@api.route("GET", "/v3/auth/tokens", policy="identity:validate_token", target=_token_target)
async def validate_token(call: Call) -> Reply:
    info = _subject(call)
    # No session of its own: the token's body is all in memory once the catalog is cached.
    body = identity(call).auth.render(None, info,
                                      with_catalog=not query_flag(call, "nocatalog"))
    return Reply(body, headers={"X-Subject-Token": call.headers["x-subject-token"]})


@api.route("HEAD", "/v3/auth/tokens", policy="identity:check_token", target=_token_target)
async def check_token(call: Call) -> Reply:
    _subject(call)
    return Reply(status=200)


@api.route("DELETE", "/v3/auth/tokens", policy="identity:revoke_token", target=_token_target,
           status=204)
async def revoke_token(call: Call) -> None:
    info = _subject(call)
    with backend(call) as (service, session):
        service.auth.revoke(session, info.payload)


@api.route("GET", "/v3/auth/catalog", policy="identity:get_auth_catalog")
async def auth_catalog(call: Call) -> dict[str, Any]:
    if not call.context.project_id:
        raise Forbidden("A project-scoped token is required to produce a service catalog.")
    with backend(call) as (service, session):
        return {"catalog": service.catalog.render(session, call.context.project_id),
                "links": collection_links(call, "/v3/auth/catalog")}


@api.route("GET", "/v3/auth/projects", policy="identity:get_auth_projects")
async def auth_projects(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        projects = service.roles.projects_of(session, call.context.user_id or "")
        return {"projects": [render_project(call, p) for p in projects if p.enabled],
                "links": collection_links(call, "/v3/auth/projects")}


@api.route("GET", "/v3/auth/domains", policy="identity:get_auth_domains")
async def auth_domains(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        domains = service.roles.domains_of(session, call.context.user_id or "")
        return {"domains": [render_domain(call, d) for d in domains if d.enabled],
                "links": collection_links(call, "/v3/auth/domains")}


@api.route("GET", "/v3/auth/system", policy="identity:get_auth_system")
async def auth_system(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        has_roles = bool(service.roles.roles_for(session, call.context.user_id or "", "system",
                                                 SYSTEM))
    return {"system": [{"all": True}] if has_roles else [],
            "links": link(call, "/v3/auth/system")}
