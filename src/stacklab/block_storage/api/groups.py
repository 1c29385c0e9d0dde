"""Group types with their group specs (3.11, cinder/api/v3/group_types.py,
group_specs.py) and generic volume groups (3.13, cinder/api/v3/groups.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import BadRequest, NotFound
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
from stacklab.block_storage.groups import (
    check_not_reserved,
    group_not_found,
    group_type_not_found,
)

GT = "/v3/group_types/{group_type_id}"
G = "/v3/groups/{group_id}"
_OPTIONAL_NAME: dict[str, Any] = {"type": ["string", "null"], "minLength": 0,
                                  "maxLength": 255}
TYPE_CREATE = s._wrapped("group_type", {
    "type": "object",
    "properties": {"name": s.NAME, "description": s.DESCRIPTION, "is_public": s.BOOLEAN,
                   "group_specs": s.SPECS},
    "required": ["name"], "additionalProperties": False})
TYPE_UPDATE = s._wrapped("group_type", {
    "type": "object",
    "properties": {"name": {"type": ["string", "null"], "minLength": 1, "maxLength": 255},
                   "description": s.DESCRIPTION, "is_public": s.BOOLEAN},
    "additionalProperties": False})
SPECS_CREATE = s._wrapped("group_specs", {**s.SPECS, "minProperties": 1})
SPEC_UPDATE: dict[str, Any] = {**s.SPECS, "minProperties": 1, "maxProperties": 1}
GROUP_CREATE = s._wrapped("group", {
    "type": "object",
    "properties": {"name": _OPTIONAL_NAME, "description": s.DESCRIPTION,
                   "group_type": {"type": "string", "minLength": 1, "maxLength": 255},
                   "volume_types": {"type": "array", "minItems": 1,
                                    "items": {"type": "string", "minLength": 1,
                                              "maxLength": 255}},
                   "availability_zone": _OPTIONAL_NAME},
    "required": ["group_type", "volume_types"], "additionalProperties": False})
_VOLUME_IDS: dict[str, Any] = {"type": ["string", "null"], "minLength": 0,
                               "maxLength": 65535}
GROUP_UPDATE = s._wrapped("group", {
    "type": "object",
    "properties": {"name": _OPTIONAL_NAME, "description": s.DESCRIPTION,
                   "add_volumes": _VOLUME_IDS, "remove_volumes": _VOLUME_IDS},
    "additionalProperties": False})
GROUP_DELETE = s._wrapped("delete", {
    "type": "object", "properties": {"delete-volumes": s.BOOLEAN},
    "additionalProperties": False})
CREATE_FROM_SOURCE = s._wrapped("create-from-src", {
    "type": "object",
    "properties": {"description": s.DESCRIPTION, "name": s.NULLABLE_NAME,
                   "source_group_id": s.UUID, "group_snapshot_id": s.UUID},
    "oneOf": [{"required": ["group_snapshot_id"]}, {"required": ["source_group_id"]}],
    "additionalProperties": False})
GROUP_RESET = s._wrapped("reset_status", {
    "type": "object", "properties": {"status": {"type": "string"}},
    "required": ["status"], "additionalProperties": False})


# -- group types -------------------------------------------------------------------------------

def render_type(call: Call, row: m.GroupType) -> dict[str, Any]:
    body: dict[str, Any] = {"id": row.id, "name": row.name, "description": row.description,
                            "is_public": row.is_public}
    if call.allows("group:access_group_types_specs", project_target(call)):
        body["group_specs"] = dict(row.group_specs)
    return body


def _type(call: Call, session: Any) -> m.GroupType:
    return block_storage(call).groups.find_type(session, call.params["group_type_id"],
                                                call.context.is_admin)


@api.route("GET", "/v3/group_types", min_version="3.11", expected_errors=(400,))
async def list_group_types(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    raw = call.query.get("is_public")
    is_public = None if raw is None or raw.lower() == "none" else s.as_bool(raw)
    with service.db.session() as session:
        rows = service.groups.list_types(session, call.context.is_admin,
                                         True if is_public is None and not
                                         call.context.is_admin else is_public)
        page, page_links = sorted_page(call, rows, "group_types", "group_type")
        return {"group_types": [render_type(call, row) for row in page], **page_links}


@api.route("GET", "/v3/group_types/default", min_version="3.11", expected_errors=(404,))
async def default_group_type(call: Call) -> dict[str, Any]:
    # stacklab sets no default_group_type, as cinder's default configuration.
    raise group_type_not_found("default")


@api.route("GET", GT, min_version="3.11", expected_errors=(404,))
async def show_group_type(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"group_type": render_type(call, _type(call, session))}


@api.route("POST", "/v3/group_types", min_version="3.11", status=202, schema=TYPE_CREATE,
           policy="group:group_types:create", target=project_target,
           expected_errors=(400, 403, 409))
async def create_group_type(call: Call) -> dict[str, Any]:
    fields = dict(call.body["group_type"])
    if "is_public" in fields:
        fields["is_public"] = s.as_bool(fields["is_public"])
    service = block_storage(call)
    with service.db.session() as session:
        return {"group_type": render_type(call, service.groups.create_type(session, fields))}


@api.route("PUT", GT, min_version="3.11", schema=TYPE_UPDATE,
           policy="group:group_types:update", target=project_target,
           expected_errors=(400, 403, 404, 409))
async def update_group_type(call: Call) -> dict[str, Any]:
    fields = dict(call.body["group_type"])
    if fields.get("is_public") is not None:
        fields["is_public"] = s.as_bool(fields["is_public"])
    service = block_storage(call)
    with service.db.session() as session:
        row = _type(call, session)
        service.groups.update_type(session, row, fields)
        return {"group_type": render_type(call, row)}


@api.route("DELETE", GT, min_version="3.11", status=202, policy="group:group_types:delete",
           target=project_target, expected_errors=(400, 403, 404))
async def delete_group_type(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        service.groups.delete_type(session, _type(call, session))


@api.route("GET", f"{GT}/group_specs", min_version="3.11",
           policy="group:group_types_specs:get_all", target=project_target,
           expected_errors=(403, 404))
async def list_group_specs(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"group_specs": dict(_type(call, session).group_specs)}


@api.route("POST", f"{GT}/group_specs", min_version="3.11", status=202,
           schema=SPECS_CREATE,
           policy="group:group_types_specs:create", target=project_target,
           expected_errors=(400, 403, 404))
async def create_group_specs(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    specs = call.body["group_specs"]
    with service.db.session() as session:
        service.groups.set_specs(_type(call, session), specs)
    return {"group_specs": dict(specs)}


@api.route("GET", f"{GT}/group_specs/{{key}}", min_version="3.11",
           policy="group:group_types_specs:get", target=project_target,
           expected_errors=(403, 404))
async def show_group_spec(call: Call) -> dict[str, Any]:
    key = call.params["key"]
    with block_storage(call).db.session() as session:
        row = _type(call, session)
        if key not in row.group_specs:
            raise NotFound(f"Group Type {row.id} has no specs with key {key}.")
        return {key: row.group_specs[key]}


@api.route("PUT", f"{GT}/group_specs/{{key}}", min_version="3.11", schema=SPEC_UPDATE,
           policy="group:group_types_specs:update", target=project_target,
           expected_errors=(400, 403, 404))
async def update_group_spec(call: Call) -> dict[str, Any]:
    key = call.params["key"]
    if key not in call.body:
        raise BadRequest("Request body and URI mismatch")
    service = block_storage(call)
    with service.db.session() as session:
        service.groups.set_specs(_type(call, session), {key: call.body[key]})
    return {key: call.body[key]}


@api.route("DELETE", f"{GT}/group_specs/{{key}}", min_version="3.11", status=202,
           policy="group:group_types_specs:delete", target=project_target,
           expected_errors=(403, 404))
async def delete_group_spec(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        service.groups.delete_spec(_type(call, session), call.params["key"])


# -- groups -------------------------------------------------------------------------------------

def group_target(group: m.Group) -> dict[str, Any]:
    return {"project_id": group.project_id, "user_id": group.user_id, "id": group.id}


def render_group(call: Call, session: Any, group: m.Group) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group.id, "status": group.status,
        "availability_zone": group.availability_zone,
        "created_at": timestamp(group.created_at), "name": group.name,
        "description": group.description, "group_type": group.group_type_id,
        "volume_types": list(group.volume_type_ids)}
    if call.version_at_least("3.14"):
        body["group_snapshot_id"] = group.group_snapshot_id
        body["source_group_id"] = group.source_group_id
    if call.version_at_least("3.25") and s.as_bool(call.query.get("list_volume", "false")):
        body["volumes"] = [v.id for v in block_storage(call).groups.members(session,
                                                                             group.id)]
    if call.version_at_least("3.38"):
        body["replication_status"] = group.replication_status
    if call.version_at_least("3.58") and call.allows("group:group_project_attribute",
                                                     group_target(group)):
        body["project_id"] = group.project_id
    return body


def _group(call: Call, session: Any, rule: str) -> m.Group:
    group = block_storage(call).groups.get(session, call.params["group_id"], caller(call))
    call.authorize(rule, group_target(group))
    return group


@api.route("POST", "/v3/groups", min_version="3.13", status=202, schema=GROUP_CREATE,
           policy="group:create", target=project_target,
           expected_errors=(400, 403, 404, 413))
async def create_group(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        group, cast = service.groups.create(session, caller(call), call.body["group"],
                                            zones=service.zones())
        body = {"id": group.id, "name": group.name}
    service.send(cast)
    return {"group": body}


api.action_route("/v3/groups/action", status=202, policy="group:create",
                 target=project_target, expected_errors=(400, 403, 404, 413))


@api.action("/v3/groups/action", "create-from-src", schema=CREATE_FROM_SOURCE,
            min_version="3.14")
async def create_group_from_source(call: Call) -> Reply:
    """A group from a group snapshot or another group (cinder's create_from_src)."""
    service = block_storage(call)
    with service.db.session() as session:
        group, cast = service.group_snapshots.create_group(
            session, caller(call), call.body["create-from-src"], zones=service.zones())
        body = {"id": group.id, "name": group.name}
    service.send(cast)
    return Reply({"group": body}, status=202)


async def _list_groups(call: Call, detail: bool) -> dict[str, Any]:
    service = block_storage(call)
    query = call.query
    with service.db.session() as session:
        statement = select(m.Group)
        if not (call.context.is_admin and s.as_bool(query.get("all_tenants", "0"))):
            statement = statement.where(m.Group.project_id == call.context.project_id)
        for key in ("name", "status", "availability_zone"):
            if key in query:
                statement = statement.where(getattr(m.Group, key) == query[key])
        rows = list(session.scalars(statement))
        page, page_links = sorted_page(call, rows, "groups/detail" if detail else "groups",
                                       "group", marker_error=group_not_found)
        if detail:
            items = [render_group(call, session, g) for g in page]
        else:
            items = [{"id": g.id, "name": g.name} for g in page]
    return {"groups": items, **page_links}


@api.route("GET", "/v3/groups", min_version="3.13", policy="group:get_all",
           target=project_target, expected_errors=(400,))
async def list_groups(call: Call) -> dict[str, Any]:
    return await _list_groups(call, False)


@api.route("GET", "/v3/groups/detail", min_version="3.13", policy="group:get_all",
           target=project_target, expected_errors=(400,))
async def list_groups_detail(call: Call) -> dict[str, Any]:
    return await _list_groups(call, True)


@api.route("GET", G, min_version="3.13", expected_errors=(404,))
async def show_group(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"group": render_group(call, session, _group(call, session, "group:get"))}


@api.route("PUT", G, min_version="3.13", status=202, schema=GROUP_UPDATE,
           expected_errors=(400, 404))
async def update_group(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        group = _group(call, session, "group:update")
        check_not_reserved(session, group.group_type_id)
        service.groups.update(session, group, call.body["group"])


api.action_route(f"{G}/action", status=202, expected_errors=(400, 404))


@api.action(f"{G}/action", "delete", schema=GROUP_DELETE, min_version="3.13")
async def delete_group(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        group = _group(call, session, "group:delete")
        check_not_reserved(session, group.group_type_id)
        cast = service.groups.delete(session, group, s.as_bool(
            (call.body["delete"] or {}).get("delete-volumes", False)))
    service.send(cast)
    return Reply(None, status=202)


@api.action(f"{G}/action", "reset_status", schema=GROUP_RESET, min_version="3.20")
async def reset_group_status(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        group = _group(call, session, "group:reset_status")
        service.groups.reset_status(group, call.body["reset_status"]["status"])
    return Reply(None, status=202)

