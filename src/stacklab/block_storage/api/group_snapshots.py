"""Group snapshots (3.14, cinder/api/v3/group_snapshots.py and its view): create, list,
show, delete, and the admin's reset_status (3.19)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import (
    api,
    block_storage,
    project_target,
    sorted_page,
    timestamp,
)
from stacklab.block_storage.api.volumes import caller
from stacklab.block_storage.group_snapshots import (
    GROUP_SNAPSHOT_STATUSES,
    group_snapshot_not_found,
)
from stacklab.block_storage.groups import check_not_reserved

GS = "/v3/group_snapshots/{group_snapshot_id}"
# cinder/api/v3/resource_filters.json "group_snapshot", and what a list also takes.
FILTERS = frozenset({"name", "status", "group_id"})
PAGING = frozenset({"limit", "marker", "offset", "sort", "sort_key", "sort_dir",
                    "all_tenants"})
SORTABLE = ("id", "name", "status", "created_at", "updated_at", "group_id", "project_id")

CREATE = s._wrapped("group_snapshot", {
    "type": "object",
    "properties": {"group_id": s.UUID, "name": s.NULLABLE_NAME,
                   "description": s.DESCRIPTION},
    "required": ["group_id"], "additionalProperties": False})
RESET_STATUS = s._wrapped("reset_status", {
    "type": "object", "properties": {"status": {"type": "string"}},
    "required": ["status"], "additionalProperties": False})


def group_snapshot_target(row: m.GroupSnapshot) -> dict[str, Any]:
    return {"project_id": row.project_id, "user_id": row.user_id, "id": row.id}


def summary(row: m.GroupSnapshot) -> dict[str, Any]:
    # group_type_id is there for the CGs migrated to groups (cinder's note).
    return {"id": row.id, "name": row.name, "group_type_id": row.group_type_id}


def detail(call: Call, row: m.GroupSnapshot) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id, "group_id": row.group_id, "group_type_id": row.group_type_id,
        "status": row.status, "created_at": timestamp(row.created_at), "name": row.name,
        "description": row.description}
    if call.version_at_least("3.58") and call.allows(
            "group:group_snapshot_project_attribute", group_snapshot_target(row)):
        body["project_id"] = row.project_id
    return body


def _load(call: Call, session: Any, rule: str) -> m.GroupSnapshot:
    row = block_storage(call).group_snapshots.get(session, call.params["group_snapshot_id"],
                                                  caller(call))
    call.authorize(rule, group_snapshot_target(row))
    return row


@api.route("POST", "/v3/group_snapshots", min_version="3.14", status=202, schema=CREATE,
           expected_errors=(400, 403, 404, 413))
async def create_group_snapshot(call: Call) -> dict[str, Any]:
    fields = call.body["group_snapshot"]
    service = block_storage(call)
    with service.db.session() as session:
        group = service.groups.get(session, fields["group_id"], caller(call))
        call.authorize("group:create_group_snapshot", {
            "project_id": group.project_id, "user_id": group.user_id, "id": group.id})
        check_not_reserved(session, group.group_type_id)
        row, cast = service.group_snapshots.create(session, caller(call), group, fields)
        body = summary(row)
    service.send(cast)
    return {"group_snapshot": body}


async def _list(call: Call, detailed: bool) -> dict[str, Any]:
    query = call.query
    paginated = call.version_at_least("3.29")
    if call.version_at_least("3.31"):
        unknown = sorted(k for k in query if k not in FILTERS | PAGING)
        if unknown:
            raise BadRequest(f"Invalid filter keys: {', '.join(unknown)}")
    service = block_storage(call)
    with service.db.session() as session:
        statement = select(m.GroupSnapshot).order_by(m.GroupSnapshot.created_at,
                                                     m.GroupSnapshot.id)
        # Before 3.29 cinder reads no query at all: a project's own, even for an admin.
        if not (paginated and call.context.is_admin and "all_tenants" in query):
            statement = statement.where(
                m.GroupSnapshot.project_id == call.context.project_id)
        if paginated:
            for key in FILTERS:
                if key in query:
                    statement = statement.where(getattr(m.GroupSnapshot, key) == query[key])
        rows = list(session.scalars(statement))
        links: dict[str, Any] = {}
        if paginated:
            rows, links = sorted_page(
                call, rows, "group_snapshots/detail" if detailed else "group_snapshots",
                "group_snapshot", sortable=SORTABLE, marker_error=group_snapshot_not_found)
        if detailed:
            items = [detail(call, row) for row in rows]
        else:
            items = [{"id": row.id, "name": row.name} for row in rows]
    return {"group_snapshots": items, **links}


@api.route("GET", "/v3/group_snapshots", min_version="3.14",
           policy="group:get_all_group_snapshots", target=project_target,
           expected_errors=(400, 404))
async def list_group_snapshots(call: Call) -> dict[str, Any]:
    return await _list(call, False)


@api.route("GET", "/v3/group_snapshots/detail", min_version="3.14",
           policy="group:get_all_group_snapshots", target=project_target,
           expected_errors=(400, 404))
async def list_group_snapshots_detail(call: Call) -> dict[str, Any]:
    return await _list(call, True)


@api.route("GET", GS, min_version="3.14", expected_errors=(403, 404))
async def show_group_snapshot(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"group_snapshot": detail(call, _load(call, session,
                                                     "group:get_group_snapshot"))}


@api.route("DELETE", GS, min_version="3.14", status=202, expected_errors=(400, 403, 404))
async def delete_group_snapshot(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        row = _load(call, session, "group:delete_group_snapshot")
        check_not_reserved(session, row.group_type_id)
        cast = service.group_snapshots.delete(session, row)
    service.send(cast)
    return Reply(None, status=202)


api.action_route(f"{GS}/action", status=202, expected_errors=(400, 403, 404))


@api.action(f"{GS}/action", "reset_status", schema=RESET_STATUS, min_version="3.19")
async def reset_group_snapshot_status(call: Call) -> Reply:
    status = call.body["reset_status"]["status"]
    # cinder's group_snapshot_status format check, before the snapshot is looked up.
    if not status.strip():
        raise BadRequest("Invalid GroupSnapshot Status: The 'status' can not be empty.")
    if status.lower() not in GROUP_SNAPSHOT_STATUSES:
        raise BadRequest(f"Invalid GroupSnapshot Status: Group snapshot status: {status} is "
                         f"invalid, valid statuses are: {GROUP_SNAPSHOT_STATUSES}.")
    service = block_storage(call)
    with service.db.session() as session:
        row = _load(call, session, "group:reset_group_snapshot_status")
        service.group_snapshots.reset_status(row, status.lower())
    return Reply(None, status=202)
