"""cinder's legacy consistency groups and their snapshots (cinder/api/contrib/
consistencygroups.py, cgsnapshots.py and their views), at every v3 microversion.

Since Pike a consistency group is a generic group of the reserved group type
``default_cgsnapshot_type`` and a cgsnapshot a group snapshot of one: these routes speak
the old shapes (``consistencygroup``, ``cgsnapshot``, comma-separated ``volume_types``) over
the group and group snapshot code, and the generic group APIs refuse to change groups of
that type (``groups.check_not_reserved``). Bodies are checked by cinder's loose schemas
(cinder/api/schemas/consistencygroups.py, cgsnapshots.py: other keys allowed), then by
the controllers' own checks.

The consistency group list pages as cinder's (``marker``, ``limit``, ``offset``, sort keys,
filters on the group's columns: another key lists nothing, as cinder's
``is_valid_model_filters``); the cgsnapshot list is the caller's project's, cut by
``offset`` and ``limit`` alone (``common.limited``). ``DELETE`` on a consistency group is
the delete action without a body (cinder routes it to the same method, whose schema check
then fails for want of a body: a 500 there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import select

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import (
    api,
    block_storage,
    limited,
    project_target,
    sorted_page,
    timestamp,
)
from stacklab.block_storage.api.volumes import caller
from stacklab.block_storage.groups import DEFAULT_CGSNAPSHOT_TYPE, group_not_found

CG = "/v3/consistencygroups/{consistencygroup_id}"
CGS = "/v3/cgsnapshots/{cgsnapshot_id}"
_STRING: dict[str, Any] = {"type": "string"}


def _loose(key: str, properties: dict[str, Any], *required: str) -> dict[str, Any]:
    """cinder's deprecated-API schemas: ``key``'s object required, other keys allowed."""
    return {"type": "object",
            "properties": {key: {"type": "object", "properties": properties,
                                 "required": list(required), "additionalProperties": True}},
            "required": [key], "additionalProperties": True}


_NAMES = {"name": s.NULLABLE_NAME, "description": s.DESCRIPTION}
# volume_types: cinder's schema takes anything and then splits it; a string here, so that
# another type is a 400 rather than cinder's 500.
CG_CREATE = _loose("consistencygroup", {**_NAMES, "volume_types": _STRING},
                   "volume_types")
CG_FROM_SOURCE = _loose("consistencygroup-from-src", {
    **_NAMES, "cgsnapshot_id": _STRING, "source_cgid": _STRING})
CG_UPDATE = _loose("consistencygroup", {
    **_NAMES, "add_volumes": {"type": ["string", "null"]},
    "remove_volumes": {"type": ["string", "null"]}})
# The body is optional: the element with an optional force, an empty object or null.
CG_DELETE: dict[str, Any] = {"oneOf": [
    _loose("consistencygroup", {"force": s.BOOLEAN}),
    {"type": "object", "properties": {}, "additionalProperties": False},
    {"type": "null"}]}
CGSNAPSHOT_CREATE = _loose("cgsnapshot", {
    "consistencygroup_id": _STRING, "name": _STRING, "description": _STRING},
    "consistencygroup_id")
# cinder's Group columns a list may filter on (stacklab's names for them).
CG_FILTERS = frozenset({"id", "user_id", "project_id", "host", "availability_zone", "name",
                        "description", "group_type_id", "status", "group_snapshot_id",
                        "source_group_id", "replication_status"})
PAGING = frozenset({"marker", "limit", "offset", "sort", "sort_key", "sort_dir"})


def _fields(call: Call, key: str) -> dict[str, Any]:
    """The checked body's element, its name and description stripped (cinder's
    ``clean_name_and_description``)."""
    fields = dict(call.body[key])
    for field in ("name", "description"):
        if isinstance(fields.get(field), str):
            fields[field] = fields[field].strip()
    return fields


# -- consistency groups -------------------------------------------------------------------------

Row = TypeVar("Row", m.Group, m.GroupSnapshot)


def _target(row: m.Group | m.GroupSnapshot) -> dict[str, Any]:
    return {"project_id": row.project_id, "user_id": row.user_id, "id": row.id}


def _cg_detail(group: m.Group) -> dict[str, Any]:
    return {"id": group.id, "status": group.status,
            "availability_zone": group.availability_zone,
            "created_at": timestamp(group.created_at), "name": group.name,
            "description": group.description, "volume_types": list(group.volume_type_ids)}


def _summary(row: m.Group | m.GroupSnapshot) -> dict[str, Any]:
    return {"id": row.id, "name": row.name}


def _authorized(call: Call, row: Row, rule: str) -> Row:
    call.authorize(rule, _target(row))
    return row


def _cg(call: Call, session: Any, rule: str) -> m.Group:
    return _authorized(call, block_storage(call).groups.get(
        session, call.params["consistencygroup_id"], caller(call)), rule)


@api.route("POST", "/v3/consistencygroups", status=202, schema=CG_CREATE,
           policy="group:create", target=project_target,
           expected_errors=(400, 403, 404, 413))
async def create_consistencygroup(call: Call) -> dict[str, Any]:
    fields = _fields(call, "consistencygroup")
    name = fields.get("name")
    volume_types = fields["volume_types"]
    if not volume_types:
        raise BadRequest(f"volume_types must be provided to create consistency group "
                         f"{name}.")
    service = block_storage(call)
    with service.db.session() as session:
        reserved = session.scalars(select(m.GroupType).where(
            m.GroupType.name == DEFAULT_CGSNAPSHOT_TYPE)).first()
        if reserved is None:
            raise BadRequest(f"Group type {DEFAULT_CGSNAPSHOT_TYPE} not found. Rerun "
                             "migration script to create the default cgsnapshot type.")
        group, cast = service.groups.create(session, caller(call), {
            "name": name, "description": fields.get("description"),
            "group_type": reserved.id,
            "volume_types": [t for t in volume_types.rstrip(",").split(",") if t],
            "availability_zone": fields.get("availability_zone")}, zones=service.zones())
        body = _summary(group)
    service.send(cast)
    return {"consistencygroup": body}


@api.route("POST", "/v3/consistencygroups/create_from_src", status=202,
           schema=CG_FROM_SOURCE, policy="group:create", target=project_target,
           expected_errors=(400, 403, 404, 413))
async def create_consistencygroup_from_source(call: Call) -> dict[str, Any]:
    fields = _fields(call, "consistencygroup-from-src")
    name = fields.get("name")
    cgsnapshot_id = fields.get("cgsnapshot_id")
    source_cgid = fields.get("source_cgid")
    if not cgsnapshot_id and not source_cgid:
        raise BadRequest("Either 'cgsnapshot_id' or 'source_cgid' must be provided to create "
                         f"consistency group {name} from source.")
    if cgsnapshot_id and source_cgid:
        raise BadRequest("Cannot provide both 'cgsnapshot_id' and 'source_cgid' to create "
                         f"consistency group {name} from source.")
    service = block_storage(call)
    with service.db.session() as session:
        group, cast = service.group_snapshots.create_group(session, caller(call), {
            "name": name, "description": fields.get("description"),
            "group_snapshot_id": cgsnapshot_id, "source_group_id": source_cgid},
            zones=service.zones())
        body = _summary(group)
    service.send(cast)
    return {"consistencygroup": body}


def _list(call: Call, model: type[m.Group] | type[m.GroupSnapshot], collection: str,
          detail: Callable[[Any], dict[str, Any]] | None) -> dict[str, Any]:
    """One of the two lists: the consistency groups paged and filtered as cinder's
    group API, the cgsnapshots the caller's own, cut by ``common.limited``."""
    query = call.query
    with block_storage(call).db.session() as session:
        statement = select(model).order_by(model.created_at.desc(), model.id.desc())
        if model is m.Group:
            filters = {k: v for k, v in query.items() if k not in PAGING}
            if call.context.is_admin and "all_tenants" in filters:
                del filters["all_tenants"]
            else:
                statement = statement.where(model.project_id == call.context.project_id)
            if not set(filters) <= CG_FILTERS:
                rows: list[Any] = []
            else:
                rows = list(session.scalars(statement.filter_by(**filters)))
            rows, links = sorted_page(call, rows, f"{collection}/detail" if detail else
                                      collection, "consistencygroup",
                                      marker_error=group_not_found)
        else:
            statement = statement.where(model.project_id == call.context.project_id)
            rows, links = limited(call, list(session.scalars(statement))), {}
        items = [(detail or _summary)(row) for row in rows]
    return {collection: items, **links}


@api.route("GET", "/v3/consistencygroups", policy="group:get_all", target=project_target,
           expected_errors=(400, 404))
async def list_consistencygroups(call: Call) -> dict[str, Any]:
    return _list(call, m.Group, "consistencygroups", None)


@api.route("GET", "/v3/consistencygroups/detail", policy="group:get_all",
           target=project_target, expected_errors=(400, 404))
async def list_consistencygroups_detail(call: Call) -> dict[str, Any]:
    return _list(call, m.Group, "consistencygroups", _cg_detail)


@api.route("GET", CG, expected_errors=(403, 404))
async def show_consistencygroup(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"consistencygroup": _cg_detail(_cg(call, session, "group:get"))}


@api.route("PUT", f"{CG}/update", status=202, schema=CG_UPDATE,
           expected_errors=(400, 403, 404))
async def update_consistencygroup_action(call: Call) -> None:
    """The same update as the member action cinder's router also maps."""
    await update_consistencygroup(call)


@api.route("PUT", CG, status=202, schema=CG_UPDATE, expected_errors=(400, 403, 404))
async def update_consistencygroup(call: Call) -> None:
    fields = _fields(call, "consistencygroup")
    add, remove = fields.get("add_volumes"), fields.get("remove_volumes")
    if not (fields.get("name") or fields.get("description") or add or remove):
        raise BadRequest("Name, description, add_volumes, and remove_volumes can not be all "
                         "empty in the request body.")
    service = block_storage(call)
    with service.db.session() as session:
        group = _cg(call, session, "group:update")
        service.groups.update(session, group, {
            "name": fields.get("name"), "description": fields.get("description"),
            "add_volumes": add, "remove_volumes": remove})


def _delete(call: Call, force: bool) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        group = _cg(call, session, "group:delete")
        cast = service.groups.delete(session, group, force)
    service.send(cast)
    return Reply(None, status=202)


@api.route("POST", f"{CG}/delete", status=202, body_optional=True, schema=CG_DELETE,
           expected_errors=(400, 403, 404))
async def delete_consistencygroup(call: Call) -> Reply:
    """``force`` deletes the group's volumes with it (the group API's delete_volumes)."""
    body = call.body
    return _delete(call, bool(body) and s.as_bool(body["consistencygroup"].get("force",
                                                                               False)))


@api.route("DELETE", CG, status=202, expected_errors=(400, 403, 404))
async def delete_consistencygroup_without_body(call: Call) -> Reply:
    return _delete(call, False)


# -- cgsnapshots --------------------------------------------------------------------------------

def _cgsnapshot_detail(row: m.GroupSnapshot) -> dict[str, Any]:
    return {"id": row.id, "consistencygroup_id": row.group_id, "status": row.status,
            "created_at": timestamp(row.created_at), "name": row.name,
            "description": row.description}


def _cgsnapshot(call: Call, session: Any, rule: str) -> m.GroupSnapshot:
    return _authorized(call, block_storage(call).group_snapshots.get(
        session, call.params["cgsnapshot_id"], caller(call)), rule)


@api.route("POST", "/v3/cgsnapshots", status=202, schema=CGSNAPSHOT_CREATE,
           expected_errors=(400, 403, 404, 413))
async def create_cgsnapshot(call: Call) -> dict[str, Any]:
    fields = _fields(call, "cgsnapshot")
    service = block_storage(call)
    with service.db.session() as session:
        group = service.groups.get(session, fields["consistencygroup_id"], caller(call))
        call.authorize("group:create_group_snapshot", _target(group))
        row, cast = service.group_snapshots.create(session, caller(call), group, {
            "name": fields.get("name"), "description": fields.get("description")})
        body = _summary(row)
    service.send(cast)
    return {"cgsnapshot": body}


@api.route("GET", "/v3/cgsnapshots", policy="group:get_all_group_snapshots",
           target=project_target, expected_errors=(400,))
async def list_cgsnapshots(call: Call) -> dict[str, Any]:
    return _list(call, m.GroupSnapshot, "cgsnapshots", None)


@api.route("GET", "/v3/cgsnapshots/detail", policy="group:get_all_group_snapshots",
           target=project_target, expected_errors=(400,))
async def list_cgsnapshots_detail(call: Call) -> dict[str, Any]:
    return _list(call, m.GroupSnapshot, "cgsnapshots", _cgsnapshot_detail)


@api.route("GET", CGS, expected_errors=(403, 404))
async def show_cgsnapshot(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"cgsnapshot": _cgsnapshot_detail(
            _cgsnapshot(call, session, "group:get_group_snapshot"))}


@api.route("DELETE", CGS, status=202, expected_errors=(400, 403, 404))
async def delete_cgsnapshot(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        row = _cgsnapshot(call, session, "group:delete_group_snapshot")
        cast = service.group_snapshots.delete(session, row)
    service.send(cast)
    return Reply(None, status=202)
