"""Users, their passwords, groups and membership."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import (
    api,
    collection_links,
    flat,
    identity,
    query_bool,
    render_group,
    render_project,
    render_user,
)
from stacklab.identity.errors import not_found


def _user_target(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        user = session.get(m.User, call.params["user_id"])
        if user is None:
            raise not_found("user", call.params["user_id"])
        return {**flat("target.user", {"id": user.id, "domain_id": user.domain_id}),
                "user_id": user.id}


def _group_target(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        group = session.get(m.Group, call.params["group_id"])
        if group is None:
            raise not_found("group", call.params["group_id"])
        target = flat("target.group", {"id": group.id, "domain_id": group.domain_id})
        if "user_id" in call.params:
            user = session.get(m.User, call.params["user_id"])
            if user is None:
                raise not_found("user", call.params["user_id"])
            target.update(flat("target.user", {"id": user.id, "domain_id": user.domain_id}))
        return target


def _domain_filter_target(call: Call) -> dict[str, Any]:
    return {"target.domain_id": call.query.get("domain_id"),
            "domain_id": call.query.get("domain_id")}


def _default_domain(call: Call) -> str:
    return call.context.domain_id or call.cloud.config.identity.default_domain_id


# -- users -----------------------------------------------------------------------------


@api.route("GET", "/v3/users", policy="identity:list_users", target=_domain_filter_target)
async def list_users(call: Call) -> dict[str, Any]:
    service = identity(call)
    filters = {"name": call.query.get("name"), "domain_id": call.query.get("domain_id"),
               "enabled": query_bool(call, "enabled")}
    with service.db.session() as session:
        users = service.users.list_users(session, filters)
        return {"users": [render_user(call, u) for u in users],
                "links": collection_links(call, "/v3/users")}


def _new_user_target(call: Call) -> dict[str, Any]:
    domain_id = call.body["user"].get("domain_id") or _default_domain(call)
    return flat("target.user", {"domain_id": domain_id})


@api.route("POST", "/v3/users", policy="identity:create_user", target=_new_user_target,
           status=201, schema=schemas.USER_CREATE)
async def create_user(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        user = service.users.create_user(session, call.body["user"], _default_domain(call))
        return {"user": render_user(call, user)}


@api.route("GET", "/v3/users/{user_id}", policy="identity:get_user", target=_user_target)
async def get_user(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"user": render_user(call, service.users.get_user(session,
                                                                 call.params["user_id"]))}


@api.route("PATCH", "/v3/users/{user_id}", policy="identity:update_user", target=_user_target,
           schema=schemas.USER_UPDATE)
async def update_user(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        user = service.users.update_user(session, call.params["user_id"], call.body["user"])
        return {"user": render_user(call, user)}


@api.route("DELETE", "/v3/users/{user_id}", policy="identity:delete_user", target=_user_target,
           status=204)
async def delete_user(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.users.delete_user(session, call.params["user_id"])


# keystone checks no policy here: knowing the original password is the authorization.
@api.route("POST", "/v3/users/{user_id}/password", public=True, status=204,
           schema=schemas.USER_PASSWORD)
async def change_password(call: Call) -> None:
    service = identity(call)
    fields = call.body["user"]
    with service.db.session() as session:
        service.users.change_password(session, call.params["user_id"],
                                      fields["original_password"], fields["password"])


@api.route("GET", "/v3/users/{user_id}/groups", policy="identity:list_groups_for_user",
           target=_user_target)
async def list_user_groups(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        groups = service.users.groups_of(session, call.params["user_id"])
        return {"groups": [render_group(call, g) for g in groups],
                "links": collection_links(call, f"/v3/users/{call.params['user_id']}/groups")}


@api.route("GET", "/v3/users/{user_id}/projects", policy="identity:list_user_projects",
           target=_user_target)
async def list_user_projects(call: Call) -> dict[str, Any]:
    service = identity(call)
    user_id = call.params["user_id"]
    with service.db.session() as session:
        service.users.get_user(session, user_id)
        group_ids = {g.id for g in service.users.groups_of(session, user_id)}
        mine = [a for a in service.roles.direct_assignments(session)
                if (a.actor_kind == "user" and a.actor_id == user_id)
                or (a.actor_kind == "group" and a.actor_id in group_ids)]
        ids = sorted({a.scope_id for a in service.roles.effective_assignments(session, mine)
                      if a.scope_kind == "project"})
        projects = [p for p in (session.get(m.Project, i) for i in ids) if p is not None]
        return {"projects": [render_project(call, p) for p in projects],
                "links": collection_links(call, f"/v3/users/{user_id}/projects")}


# -- groups ----------------------------------------------------------------------------


@api.route("GET", "/v3/groups", policy="identity:list_groups", target=_domain_filter_target)
async def list_groups(call: Call) -> dict[str, Any]:
    service = identity(call)
    filters = {"name": call.query.get("name"), "domain_id": call.query.get("domain_id")}
    with service.db.session() as session:
        groups = service.users.list_groups(session, filters)
        return {"groups": [render_group(call, g) for g in groups],
                "links": collection_links(call, "/v3/groups")}


def _new_group_target(call: Call) -> dict[str, Any]:
    domain_id = call.body["group"].get("domain_id") or _default_domain(call)
    return flat("target.group", {"domain_id": domain_id})


@api.route("POST", "/v3/groups", policy="identity:create_group", target=_new_group_target,
           status=201, schema=schemas.GROUP_CREATE)
async def create_group(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        group = service.users.create_group(session, call.body["group"], _default_domain(call))
        return {"group": render_group(call, group)}


@api.route("GET", "/v3/groups/{group_id}", policy="identity:get_group", target=_group_target)
async def get_group(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"group": render_group(call, service.users.get_group(session,
                                                                    call.params["group_id"]))}


@api.route("PATCH", "/v3/groups/{group_id}", policy="identity:update_group",
           target=_group_target, schema=schemas.GROUP_UPDATE)
async def update_group(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        group = service.users.update_group(session, call.params["group_id"],
                                           call.body["group"])
        return {"group": render_group(call, group)}


@api.route("DELETE", "/v3/groups/{group_id}", policy="identity:delete_group",
           target=_group_target, status=204)
async def delete_group(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.users.delete_group(session, call.params["group_id"])


@api.route("GET", "/v3/groups/{group_id}/users", policy="identity:list_users_in_group",
           target=_group_target)
async def list_group_users(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        service.users.get_group(session, call.params["group_id"])
        users = service.users.members(session, call.params["group_id"])
        return {"users": [render_user(call, u) for u in users],
                "links": collection_links(call, f"/v3/groups/{call.params['group_id']}/users")}


@api.route("PUT", "/v3/groups/{group_id}/users/{user_id}", policy="identity:add_user_to_group",
           target=_group_target, status=204, body_optional=True)
async def add_group_member(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.users.add_member(session, call.params["group_id"], call.params["user_id"])


@api.route("HEAD", "/v3/groups/{group_id}/users/{user_id}",
           policy="identity:check_user_in_group", target=_group_target, status=204)
async def check_group_member(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        if not service.users.is_member(session, call.params["group_id"],
                                       call.params["user_id"]):
            raise not_found("membership", call.params["user_id"])


@api.route("GET", "/v3/groups/{group_id}/users/{user_id}",
           policy="identity:check_user_in_group", target=_group_target, status=204)
async def check_group_member_get(call: Call) -> None:
    await check_group_member(call)


@api.route("DELETE", "/v3/groups/{group_id}/users/{user_id}",
           policy="identity:remove_user_from_group", target=_group_target, status=204)
async def remove_group_member(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.users.remove_member(session, call.params["group_id"], call.params["user_id"])
