"""``/v3/OS-TRUST/trusts``: create, list, show and delete trusts, and the roles they delegate."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.service import Call
from stacklab.clock import isotime
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import (
    api,
    backend,
    collection_links,
    flat,
    identity,
    link,
    render_role,
)
from stacklab.identity.trusts import Caller, Trusts

PATH = "/v3/OS-TRUST/trusts"


def _caller(call: Call, session: Session) -> Caller:
    """The user who authenticated: a trust token's trustee even when it impersonates."""
    context = call.context
    user_id = context.user_id or ""
    if context.trust_id:
        trust = session.get(m.Trust, context.trust_id)
        if trust is not None:
            user_id = trust.trustee_user_id
    methods = ("application_credential",) if context.application_credential_id else ()
    return Caller(user_id, context.trust_id, methods)


def _trust_target(call: Call) -> dict[str, Any]:
    """The trust the path names, read first: a missing one is keystone's 404, not a 403."""
    with backend(call) as (service, session):
        trust = service.trusts.get(session, call.params["trust_id"])
        return flat("target.trust", {"id": trust.id, "trustor_user_id": trust.trustor_user_id,
                                     "trustee_user_id": trust.trustee_user_id,
                                     "project_id": trust.project_id})


def _new_trust_target(call: Call) -> dict[str, Any]:
    fields = call.body["trust"]
    return flat("target.trust", {key: fields.get(key) for key in (
        "trustor_user_id", "trustee_user_id", "project_id")})


def render_trust(call: Call, session: Session, trust: m.Trust, *,
                 with_roles: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        **trust.extra, "id": trust.id, "trustor_user_id": trust.trustor_user_id,
        "trustee_user_id": trust.trustee_user_id, "project_id": trust.project_id,
        "impersonation": trust.impersonation,
        "expires_at": isotime(trust.expires_at, subsecond=True)
        if trust.expires_at is not None else None,
        "remaining_uses": trust.remaining_uses,
        "redelegated_trust_id": trust.redelegated_trust_id,
        "redelegation_count": trust.redelegation_count, "deleted_at": None,
        "links": link(call, f"{PATH}/{trust.id}"),
    }
    if with_roles:
        body["roles"] = [render_role(call, role)
                         for role in identity(call).trusts.roles_of(session, trust)]
        body["roles_links"] = collection_links(call, f"{PATH}/{trust.id}/roles")
    return body


@api.route("POST", PATH, policy="identity:create_trust", target=_new_trust_target, status=201,
           schema=schemas.TRUST_CREATE)
async def create_trust(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        trust = service.trusts.create(session, _caller(call, session), call.body["trust"])
        session.flush()
        return {"trust": render_trust(call, session, trust)}


# keystone's flask routes ignore a trailing slash, and Tempest's trusts client lists with one.
@api.route("GET", f"{PATH}/")
@api.route("GET", PATH)
async def list_trusts(call: Call) -> dict[str, Any]:
    """keystone picks the rule by the filter: the trustor's, the trustee's, or all trusts."""
    trustor = call.query.get("trustor_user_id")
    trustee = call.query.get("trustee_user_id")
    if trustor:
        call.authorize("identity:list_trusts_for_trustor",
                       flat("target.trust", {"trustor_user_id": trustor}))
    elif trustee:
        call.authorize("identity:list_trusts_for_trustee",
                       flat("target.trust", {"trustee_user_id": trustee}))
    else:
        call.authorize("identity:list_trusts")
    with backend(call) as (service, session):
        Trusts.refuse_application_credential(_caller(call, session))
        trusts = service.trusts.list_trusts(session, trustor_user_id=trustor,
                                            trustee_user_id=trustee)
        return {"trusts": [render_trust(call, session, t, with_roles=False) for t in trusts],
                "links": collection_links(call, PATH)}


@api.route("GET", f"{PATH}/{{trust_id}}", policy="identity:get_trust", target=_trust_target)
async def show_trust(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        Trusts.refuse_application_credential(_caller(call, session))
        trust = service.trusts.get(session, call.params["trust_id"])
        return {"trust": render_trust(call, session, trust)}


@api.route("DELETE", f"{PATH}/{{trust_id}}", policy="identity:delete_trust",
           target=_trust_target, status=204)
async def delete_trust(call: Call) -> None:
    with backend(call) as (service, session):
        Trusts.refuse_application_credential(_caller(call, session))
        service.trusts.delete(session, call.params["trust_id"])


@api.route("GET", f"{PATH}/{{trust_id}}/roles", policy="identity:list_roles_for_trust",
           target=_trust_target)
async def list_trust_roles(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        Trusts.refuse_application_credential(_caller(call, session))
        trust = service.trusts.get(session, call.params["trust_id"])
        return {"roles": [render_role(call, r) for r in service.trusts.roles_of(session, trust)],
                "links": collection_links(call, f"{PATH}/{trust.id}/roles")}


@api.route("GET", f"{PATH}/{{trust_id}}/roles/{{role_id}}",
           policy="identity:get_role_for_trust", target=_trust_target)
async def show_trust_role(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        Trusts.refuse_application_credential(_caller(call, session))
        trust = service.trusts.get(session, call.params["trust_id"])
        return {"role": render_role(call, service.trusts.role_of(session, trust,
                                                                 call.params["role_id"]))}
