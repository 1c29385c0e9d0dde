"""Application credentials and stored credentials."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.errors import Forbidden
from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import api, backend, collection_links, flat, identity, link
from stacklab.identity.api.resource import Resource, serve


def _user_path_target(call: Call) -> dict[str, Any]:
    return {**flat("target.user", {"id": call.params["user_id"]}),
            "user_id": call.params["user_id"]}


def _app_cred_target(call: Call) -> dict[str, Any]:
    """keystone checks ownership against the credential's real owner, not the path's user."""
    owner = call.params["user_id"]
    with identity(call).db.session() as session:
        credential = session.get(m.ApplicationCredential, call.params["credential_id"])
        if credential is not None:
            owner = credential.user_id
    return {**flat("target.user", {"id": owner}), "user_id": owner}


def _not_delegated(call: Call) -> None:
    """keystone refuses trust-scoped tokens here: an application credential made through
    a trust would outlive the trust and lose the delegation chain that audits it."""
    if call.context.is_delegated_auth:
        raise Forbidden("Cannot manage application credentials with a token issued via "
                        "delegation.")


def _naive_time(moment: float) -> str:
    """An application credential's expiry as keystone's JSON encoder writes a datetime:
    UTC, microseconds, no zone designator (Tempest compares it with ``isoformat()``)."""
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def render_app_cred(call: Call, session: Session, c: m.ApplicationCredential) -> dict[str, Any]:
    roles = [r for r in (session.get(m.Role, i) for i in c.role_ids) if r is not None]
    return {
        "id": c.id, "name": c.name, "description": c.description, "user_id": c.user_id,
        "project_id": c.project_id, "system": c.system,
        "expires_at": _naive_time(c.expires_at) if c.expires_at else None,
        "unrestricted": c.unrestricted,
        "roles": [{"id": r.id, "name": r.name, "domain_id": r.domain_id} for r in roles],
        "access_rules": list(c.access_rules),
        "links": link(call, f"/v3/users/{c.user_id}/application_credentials/{c.id}"),
    }


@api.route("POST", "/v3/users/{user_id}/application_credentials",
           policy="identity:create_application_credential", target=_user_path_target,
           status=201, schema=schemas.APP_CRED_CREATE)
async def create_app_cred(call: Call) -> dict[str, Any]:
    _not_delegated(call)
    with backend(call) as (service, session):
        credential, secret = service.app_creds.create(
            session, call.context, call.params["user_id"], call.body["application_credential"])
        return {"application_credential": {**render_app_cred(call, session, credential),
                                           "secret": secret}}


@api.route("GET", "/v3/users/{user_id}/application_credentials",
           policy="identity:list_application_credentials", target=_user_path_target)
async def list_app_creds(call: Call) -> dict[str, Any]:
    _not_delegated(call)
    user_id = call.params["user_id"]
    with backend(call) as (service, session):
        service.users.get_user(session, user_id)
        creds = service.app_creds.list(session, user_id, call.query.get("name"))
        return {"application_credentials": [render_app_cred(call, session, c) for c in creds],
                "links": collection_links(call, f"/v3/users/{user_id}/application_credentials")}


@api.route("GET", "/v3/users/{user_id}/application_credentials/{credential_id}",
           policy="identity:get_application_credential", target=_app_cred_target)
async def get_app_cred(call: Call) -> dict[str, Any]:
    _not_delegated(call)
    with backend(call) as (service, session):
        c = service.app_creds.get(session, call.params["user_id"], call.params["credential_id"])
        return {"application_credential": render_app_cred(call, session, c)}


@api.route("DELETE", "/v3/users/{user_id}/application_credentials/{credential_id}",
           policy="identity:delete_application_credential", target=_app_cred_target,
           status=204)
async def delete_app_cred(call: Call) -> None:
    _not_delegated(call)
    with backend(call) as (service, session):
        service.app_creds.delete(session, call.params["user_id"], call.params["credential_id"])


# -- access rules ----------------------------------------------------------------------


def render_access_rule(call: Call, user_id: str, rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, "links": link(call, f"/v3/users/{user_id}/access_rules/{rule['id']}")}


@api.route("GET", "/v3/users/{user_id}/access_rules", policy="identity:list_access_rules",
           target=_user_path_target)
async def list_access_rules(call: Call) -> dict[str, Any]:
    _not_delegated(call)
    user_id = call.params["user_id"]
    with backend(call) as (service, session):
        rules = service.app_creds.access_rules(session, user_id, call.query)
    return {"access_rules": [render_access_rule(call, user_id, r) for r in rules],
            "links": collection_links(call, f"/v3/users/{user_id}/access_rules")}


@api.route("GET", "/v3/users/{user_id}/access_rules/{access_rule_id}",
           policy="identity:get_access_rule", target=_user_path_target)
async def get_access_rule(call: Call) -> dict[str, Any]:
    _not_delegated(call)
    user_id = call.params["user_id"]
    with backend(call) as (service, session):
        rule = service.app_creds.access_rule(session, user_id, call.params["access_rule_id"])
    return {"access_rule": render_access_rule(call, user_id, rule)}


@api.route("DELETE", "/v3/users/{user_id}/access_rules/{access_rule_id}",
           policy="identity:delete_access_rule", target=_user_path_target, status=204)
async def delete_access_rule(call: Call) -> None:
    _not_delegated(call)
    with backend(call) as (service, session):
        service.app_creds.delete_access_rule(session, call.params["user_id"],
                                             call.params["access_rule_id"])


# -- credentials -----------------------------------------------------------------------


def render_credential(call: Call, c: m.Credential) -> dict[str, Any]:
    return {"id": c.id, "user_id": c.user_id, "project_id": c.project_id, "type": c.type,
            "blob": c.blob, "links": link(call, f"/v3/credentials/{c.id}")}


def _own_credentials(call: Call) -> dict[str, Any]:
    """keystone asks whether a caller not on the system may list credentials of its own."""
    target = call.default_target()
    if not call.context.system_scope:
        target.update(flat("target.credential", {"user_id": call.context.user_id}))
    return target


def _may_see(call: Call, credential: m.Credential) -> bool:
    """keystone lists only the credentials the caller could show."""
    return call.allows("identity:get_credential",
                       flat("target.credential", {"user_id": credential.user_id}))


CREDENTIALS = serve(Resource(
    "credential", "credentials", "credentials", render_credential, schemas.CREDENTIAL_CREATE,
    schemas.CREDENTIAL_UPDATE, filters=("user_id", "type"), target_keys=("user_id",),
    new_target_keys=("user_id",), list_target=_own_credentials, visible=_may_see))


# -- EC2 credentials (OS-EC2) ----------------------------------------------------------


def _ec2_target(call: Call) -> dict[str, Any]:
    return {**flat("target.credential", {"user_id": call.params["user_id"]}),
            "user_id": call.params["user_id"]}


def render_ec2(call: Call, c: m.Credential) -> dict[str, Any]:
    blob = json.loads(c.blob)
    return {"user_id": c.user_id, "tenant_id": c.project_id, "access": blob.get("access"),
            "secret": blob.get("secret"), "trust_id": blob.get("trust_id"),
            "links": link(call, f"/v3/users/{c.user_id}/credentials/OS-EC2/{blob.get('access')}")}


@api.route("POST", "/v3/users/{user_id}/credentials/OS-EC2",
           policy="identity:ec2_create_credential", target=_ec2_target, status=201,
           schema=schemas.EC2_CREATE)
async def create_ec2(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        credential = service.credentials.create_ec2(session, call.params["user_id"],
                                                    call.body["tenant_id"])
        return {"credential": render_ec2(call, credential)}


@api.route("GET", "/v3/users/{user_id}/credentials/OS-EC2",
           policy="identity:ec2_list_credentials", target=_ec2_target)
async def list_ec2(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        creds = service.credentials.list_credentials(
            session, {"user_id": call.params["user_id"], "type": "ec2"})
        return {"credentials": [render_ec2(call, c) for c in creds],
                "links": collection_links(call, call.request.url.path)}


@api.route("GET", "/v3/users/{user_id}/credentials/OS-EC2/{access}",
           policy="identity:ec2_get_credential", target=_ec2_target)
async def get_ec2(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        return {"credential": render_ec2(call, service.credentials.get_ec2(
            session, call.params["user_id"], call.params["access"]))}


@api.route("DELETE", "/v3/users/{user_id}/credentials/OS-EC2/{access}",
           policy="identity:ec2_delete_credential", target=_ec2_target, status=204)
async def delete_ec2(call: Call) -> None:
    with backend(call) as (service, session):
        service.credentials.delete_ec2(session, call.params["user_id"], call.params["access"])
