"""Users, their passwords, groups and membership."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.config import Config
from stacklab.identity import schemas
from stacklab.identity.api.base import (
    api,
    backend,
    collection_links,
    flat,
    render_group,
    render_project,
    render_user,
)
from stacklab.identity.api.resource import Resource, domain_filter_target, serve
from stacklab.identity.errors import not_found


def _identity_list_limit(config: Config) -> int | None:
    return config.identity.list_limit


USERS = serve(Resource(
    "user", "users", "users", render_user, schemas.USER_CREATE, schemas.USER_UPDATE,
    filters=("name", "domain_id"), flags=("enabled",), target_keys=("id", "domain_id"),
    target_more=lambda user: {"user_id": user.id}, in_domain=True,
    list_target=domain_filter_target, list_limit=_identity_list_limit))
GROUPS = serve(Resource(
    "group", "groups", "users", render_group, schemas.GROUP_CREATE, schemas.GROUP_UPDATE,
    filters=("name", "domain_id"), target_keys=("id", "domain_id"), in_domain=True,
    list_target=domain_filter_target, list_limit=_identity_list_limit))


def _membership_target(call: Call) -> dict[str, Any]:
    """The group's target, and the user's when the path names one."""
    target = GROUPS.target(call)
    if "user_id" in call.params:
        user = USERS.load(call)
        target.update(flat("target.user", {"id": user.id, "domain_id": user.domain_id}))
    return target


# keystone checks no policy here: knowing the original password is the authorization.
@api.route("POST", "/v3/users/{user_id}/password", public=True, status=204,
           schema=schemas.USER_PASSWORD)
async def change_password(call: Call) -> None:
    fields = call.body["user"]
    with backend(call) as (service, session):
        service.users.change_password(session, call.params["user_id"],
                                      fields["original_password"], fields["password"])


@api.route("GET", "/v3/users/{user_id}/groups", policy="identity:list_groups_for_user",
           target=USERS.target)
async def list_user_groups(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        groups = service.users.groups_of(session, call.params["user_id"])
        return GROUPS.listing(call, groups, f"/v3/users/{call.params['user_id']}/groups")


@api.route("GET", "/v3/users/{user_id}/projects", policy="identity:list_user_projects",
           target=USERS.target)
async def list_user_projects(call: Call) -> dict[str, Any]:
    user_id = call.params["user_id"]
    with backend(call) as (service, session):
        projects = service.roles.projects_of(session, user_id)
        return {"projects": [render_project(call, p) for p in projects],
                "links": collection_links(call, f"/v3/users/{user_id}/projects")}


# -- group membership ------------------------------------------------------------------


@api.route("GET", "/v3/groups/{group_id}/users", policy="identity:list_users_in_group",
           target=_membership_target)
async def list_group_users(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        service.users.get_group(session, call.params["group_id"])
        users = service.users.members(session, call.params["group_id"])
        return USERS.listing(call, users, f"/v3/groups/{call.params['group_id']}/users")


@api.route("PUT", "/v3/groups/{group_id}/users/{user_id}", policy="identity:add_user_to_group",
           target=_membership_target, status=204, body_optional=True)
async def add_group_member(call: Call) -> None:
    with backend(call) as (service, session):
        service.users.add_member(session, call.params["group_id"], call.params["user_id"])


@api.route("HEAD", "/v3/groups/{group_id}/users/{user_id}",
           policy="identity:check_user_in_group", target=_membership_target, status=204)
async def check_group_member(call: Call) -> None:
    with backend(call) as (service, session):
        if not service.users.is_member(session, call.params["group_id"],
                                       call.params["user_id"]):
            raise not_found("membership", call.params["user_id"])


@api.route("GET", "/v3/groups/{group_id}/users/{user_id}",
           policy="identity:check_user_in_group", target=_membership_target, status=204)
async def check_group_member_get(call: Call) -> None:
    await check_group_member(call)


@api.route("DELETE", "/v3/groups/{group_id}/users/{user_id}",
           policy="identity:remove_user_from_group", target=_membership_target, status=204)
async def remove_group_member(call: Call) -> None:
    with backend(call) as (service, session):
        service.users.remove_member(session, call.params["group_id"], call.params["user_id"])
