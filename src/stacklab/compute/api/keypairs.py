"""``/os-keypairs``."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply, schemas_from
from stacklab.clock import isotime
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute
from stacklab.compute.schemas import KEYPAIR_CREATE


def _owner(call: Call, requested: str | None) -> str:
    """Whose key pairs: one's own, or (2.10+, admins) another user's."""
    if requested and call.version_at_least("2.10"):
        return requested
    return call.context.user_id or ""


def _summary(call: Call, k: m.KeyPair) -> dict[str, Any]:
    body: dict[str, Any] = {"name": k.name, "public_key": k.public_key,
                            "fingerprint": k.fingerprint}
    if call.version_at_least("2.2"):
        body["type"] = k.type
    return body


@api.route("POST", "/v2.1/os-keypairs", schema=schemas_from(KEYPAIR_CREATE),
           expected_errors=(400, 403, 409))
async def create_keypair(call: Call) -> Reply:
    fields = call.body["keypair"]
    user_id = _owner(call, fields.get("user_id"))
    call.authorize("os_compute_api:os-keypairs:create", {"user_id": user_id})
    service = compute(call)
    with service.db.session() as session:
        keypair, private = service.keypairs.create(
            session, user_id, fields["name"], fields.get("public_key"),
            fields.get("type", "ssh"))
        body = {**_summary(call, keypair), "user_id": keypair.user_id}
    if private is not None:
        body["private_key"] = private
    # 2.2 made creation answer 201 instead of 200.
    return Reply({"keypair": body}, status=201 if call.version_at_least("2.2") else 200)


@api.route("GET", "/v2.1/os-keypairs", expected_errors=400)
async def list_keypairs(call: Call) -> dict[str, Any]:
    user_id = _owner(call, call.query.get("user_id"))
    call.authorize("os_compute_api:os-keypairs:index", {"user_id": user_id})
    service = compute(call)
    with service.db.session() as session:
        keypairs = service.keypairs.list_keypairs(session, user_id)
        return {"keypairs": [{"keypair": _summary(call, k)} for k in keypairs]}


@api.route("GET", "/v2.1/os-keypairs/{name}", expected_errors=404)
async def show_keypair(call: Call) -> dict[str, Any]:
    user_id = _owner(call, call.query.get("user_id"))
    call.authorize("os_compute_api:os-keypairs:show", {"user_id": user_id})
    service = compute(call)
    with service.db.session() as session:
        k = service.keypairs.get(session, user_id, call.params["name"])
        return {"keypair": {**_summary(call, k), "id": k.id, "user_id": k.user_id,
                            "created_at": isotime(k.created_at).removesuffix("Z") + ".000000",
                            "deleted": False, "deleted_at": None, "updated_at": None}}


@api.route("DELETE", "/v2.1/os-keypairs/{name}", expected_errors=404)
async def delete_keypair(call: Call) -> Reply:
    user_id = _owner(call, call.query.get("user_id"))
    call.authorize("os_compute_api:os-keypairs:delete", {"user_id": user_id})
    service = compute(call)
    with service.db.session() as session:
        session.delete(service.keypairs.get(session, user_id, call.params["name"]))
    return Reply(None, status=204 if call.version_at_least("2.2") else 202)
