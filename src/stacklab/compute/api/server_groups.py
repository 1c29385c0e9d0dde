"""``/os-server-groups``: affinity and anti-affinity groups (members arrive with servers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Forbidden, NotFound
from stacklab.api.query import int_param
from stacklab.api.service import Call, schemas_from
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.schemas import SERVER_GROUP_CREATE
from stacklab.store.locks import serialize


def render_group(call: Call, group: m.ServerGroup) -> dict[str, Any]:
    body: dict[str, Any] = {"id": group.uuid, "name": group.name,
                            "members": list(group.members)}
    if call.version_at_least("2.64"):
        body["policy"] = group.policy
        body["rules"] = dict(group.rules)
    else:
        body["policies"] = [group.policy]
        body["metadata"] = {}
    if call.version_at_least("2.13"):
        body["project_id"] = group.project_id
        body["user_id"] = group.user_id
    return body


def _get(call: Call, session: Session, group_id: str) -> m.ServerGroup:
    group = session.scalar(select(m.ServerGroup).where(m.ServerGroup.uuid == group_id))
    if group is None or (group.project_id != call.context.project_id
                         and not call.context.is_admin):
        raise NotFound(f"Instance group {group_id} could not be found.")
    return group


@api.route("POST", "/v2.1/os-server-groups", policy="os_compute_api:os-server-groups:create",
           target=project_target, schema=schemas_from(SERVER_GROUP_CREATE),
           expected_errors=(400, 403, 409))
async def create_group(call: Call) -> dict[str, Any]:
    fields = call.body["server_group"]
    policy = fields["policy"] if call.version_at_least("2.64") else fields["policies"][0]
    rules = dict(fields.get("rules") or {})
    if rules and policy != "anti-affinity":
        raise BadRequest(f"Only anti-affinity policy supports rules; policy is {policy}.")
    if "max_server_per_host" in rules:
        rules["max_server_per_host"] = int(rules["max_server_per_host"])
    service = compute(call)
    project = call.context.project_id or ""
    with service.db.session() as session:
        serialize(session, f"compute:quota:{project}")  # counted and created as one step
        used = session.scalar(select(func.count()).select_from(m.ServerGroup).where(
            m.ServerGroup.project_id == project)) or 0
        if 0 <= service.quotas.limits(project)["server_groups"] <= used:
            raise Forbidden("Quota exceeded, too many server groups.")
        group = m.ServerGroup(uuid=service.ids.uuid(), name=fields["name"], policy=policy,
                              rules=rules, members=[], project_id=project,
                              user_id=call.context.user_id or "",
                              created_at=service.clock.now())
        session.add(group)
        return {"server_group": render_group(call, group)}


@api.route("GET", "/v2.1/os-server-groups", policy="os_compute_api:os-server-groups:index",
           target=project_target, expected_errors=400)
async def list_groups(call: Call) -> dict[str, Any]:
    service = compute(call)
    query = select(m.ServerGroup).order_by(m.ServerGroup.id)
    all_projects = call.query.get("all_projects", "").lower() in ("1", "true", "yes")
    if all_projects:
        call.authorize("os_compute_api:os-server-groups:index:all_projects",
                       project_target(call))
    else:
        query = query.where(m.ServerGroup.project_id == call.context.project_id)
    offset = int_param(call.query, "offset", minimum=0) or 0
    limit = int_param(call.query, "limit", minimum=0)
    with service.db.session() as session:
        groups = list(session.scalars(query))[offset:]
        if limit is not None:
            groups = groups[:limit]
        return {"server_groups": [render_group(call, g) for g in groups]}


def _group_target(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        group = _get(call, session, call.params["group_id"])
        return {"project_id": group.project_id, "user_id": group.user_id}


@api.route("GET", "/v2.1/os-server-groups/{group_id}",
           policy="os_compute_api:os-server-groups:show", target=_group_target, expected_errors=404)
async def show_group(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        return {"server_group": render_group(call, _get(call, session,
                                                        call.params["group_id"]))}


@api.route("DELETE", "/v2.1/os-server-groups/{group_id}",
           policy="os_compute_api:os-server-groups:delete", target=_group_target, status=204,
           expected_errors=404)
async def delete_group(call: Call) -> None:
    with compute(call).db.session() as session:
        session.delete(_get(call, session, call.params["group_id"]))
