"""``/v2/images/{image_id}/members``: sharing an image with other projects."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import Forbidden
from stacklab.api.service import Call
from stacklab.image import schemas
from stacklab.image.api.base import api, image_target, images, render_member


def _member_target(call: Call, target: dict[str, Any], member_id: str) -> dict[str, Any]:
    """A member acting on its own membership stands as the project of the target."""
    if member_id == call.context.project_id:
        return {**target, "member_id": member_id, "project_id": member_id}
    return {**target, "member_id": member_id}


@api.route("POST", "/v2/images/{image_id}/members", schema=schemas.MEMBER_CREATE)
async def add_member(call: Call) -> dict[str, Any]:
    service = images(call)
    member_id = call.body["member"]
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("add_member", _member_target(call, image_target(image, call), member_id))
        if image.owner != call.context.project_id and not call.context.is_admin:
            raise Forbidden("Only the owner of an image may share it.")
        return render_member(service.add_member(session, image, member_id))


@api.route("GET", "/v2/images/{image_id}/members")
async def list_members(call: Call) -> dict[str, Any]:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        target = image_target(image, call)
        if "member_id" in target:
            target = _member_target(call, target, target["member_id"])
        call.authorize("get_members", target)
        members = service.members(session, image)
        if image.owner != call.context.project_id and not call.context.is_admin:
            # A member sees only its own membership.
            members = [m for m in members if m.member_id == call.context.project_id]
        return {"members": [render_member(m) for m in members],
                "schema": "/v2/schemas/members"}


@api.route("GET", "/v2/images/{image_id}/members/{member_id}")
async def get_member(call: Call) -> dict[str, Any]:
    service = images(call)
    member_id = call.params["member_id"]
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("get_member", _member_target(call, image_target(image, call), member_id))
        return render_member(service.get_member(session, image, member_id))


@api.route("PUT", "/v2/images/{image_id}/members/{member_id}", schema=schemas.MEMBER_UPDATE)
async def update_member(call: Call) -> dict[str, Any]:
    service = images(call)
    member_id = call.params["member_id"]
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("modify_member",
                       _member_target(call, image_target(image, call), member_id))
        if member_id != call.context.project_id and not call.context.is_admin:
            raise Forbidden("Only the member itself may accept or reject a shared image.")
        member = service.get_member(session, image, member_id)
        member.status = call.body["status"]
        member.updated_at = service.clock.now()
        return render_member(member)


@api.route("DELETE", "/v2/images/{image_id}/members/{member_id}", status=204)
async def delete_member(call: Call) -> None:
    service = images(call)
    member_id = call.params["member_id"]
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("delete_member",
                       _member_target(call, image_target(image, call), member_id))
        if image.owner != call.context.project_id and not call.context.is_admin:
            raise Forbidden("Only the owner of an image may stop sharing it.")
        session.delete(service.get_member(session, image, member_id))
