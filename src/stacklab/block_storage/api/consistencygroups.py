"""cinder's legacy consistency groups and their snapshots (cinder/api/contrib/
consistencygroups.py, cgsnapshots.py and their views), at every v3 microversion.

Since Pike a consistency group is a generic group of the reserved group type
``default_cgsnapshot_type`` and a cgsnapshot a group snapshot of one: these routes speak
the old shapes (``consistencygroup``, ``cgsnapshot``, comma-separated ``volume_types``) over
the group and group snapshot code, and the generic group APIs refuse to change groups of
that type (``groups.check_not_reserved``). Bodies are checked as cinder's contrib
controllers check them (a missing element, then each field), not by a JSON schema.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import api, block_storage, project_target, timestamp
from stacklab.block_storage.api.volumes import caller
from stacklab.block_storage.groups import DEFAULT_CGSNAPSHOT_TYPE

CG = "/v3/consistencygroups/{consistencygroup_id}"
CGS = "/v3/cgsnapshots/{cgsnapshot_id}"


def _element(call: Call, key: str) -> dict[str, Any]:
    """cinder's ``assert_valid_body``: the body is an object holding ``key``'s object."""
    body = call.body
    if not isinstance(body, dict) or key not in body:
        raise BadRequest(f"Missing required element '{key}' in request body.")
    inner = body[key]
    if not isinstance(inner, dict):
        raise BadRequest("Malformed request body.")
    for field in ("name", "description"):
        value = inner.get(field)
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise BadRequest(f"{field.capitalize()} has more than 255 characters."
                             if isinstance(value, str) else f"{field} must be a string.")
    return inner


def _ids(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadRequest(f"{field} must be a string.")


# -- consistency groups -------------------------------------------------------------------------

def _target(group: m.Group) -> dict[str, Any]:
    return {"project_id": group.project_id, "user_id": group.user_id, "id": group.id}


def _cg_detail(group: m.Group) -> dict[str, Any]:
    return {"id": group.id, "status": group.status,
            "availability_zone": group.availability_zone,
            "created_at": timestamp(group.created_at), "name": group.name,
            "description": group.description, "volume_types": list(group.volume_type_ids)}


def _cg(call: Call, session: Any, rule: str) -> m.Group:
    group = block_storage(call).groups.get(session, call.params["consistencygroup_id"],
                                           caller(call))
    call.authorize(rule, _target(group))
    return group


@api.route("POST", "/v3/consistencygroups", status=202, body_optional=True,
           policy="group:create", target=project_target,
           expected_errors=(400, 403, 404, 413))
async def create_consistencygroup(call: Call) -> dict[str, Any]:
    fields = _element(call, "consistencygroup")
    name = fields.get("name")
    volume_types = _ids(fields.get("volume_types"), "volume_types")
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
        body = {"id": group.id, "name": group.name}
    service.send(cast)
    return {"consistencygroup": body}


@api.route("POST", "/v3/consistencygroups/create_from_src", status=202, body_optional=True,
           policy="group:create", target=project_target,
           expected_errors=(400, 403, 404, 413))
async def create_consistencygroup_from_source(call: Call) -> dict[str, Any]:
    fields = _element(call, "consistencygroup-from-src")
    name = fields.get("name")
    cgsnapshot_id = _ids(fields.get("cgsnapshot_id"), "cgsnapshot_id")
    source_cgid = _ids(fields.get("source_cgid"), "source_cgid")
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
        body = {"id": group.id, "name": group.name}
    service.send(cast)
    return {"consistencygroup": body}


async def _list_cgs(call: Call, detail: bool) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        statement = select(m.Group).order_by(m.Group.created_at.desc(), m.Group.id)
        if not (call.context.is_admin and s.as_bool(call.query.get("all_tenants", "0"))):
            statement = statement.where(m.Group.project_id == call.context.project_id)
        rows = list(session.scalars(statement))
        items = [_cg_detail(g) if detail else {"id": g.id, "name": g.name} for g in rows]
    return {"consistencygroups": items}


@api.route("GET", "/v3/consistencygroups", policy="group:get_all", target=project_target,
           expected_errors=(400,))
async def list_consistencygroups(call: Call) -> dict[str, Any]:
    return await _list_cgs(call, False)


@api.route("GET", "/v3/consistencygroups/detail", policy="group:get_all",
           target=project_target, expected_errors=(400,))
async def list_consistencygroups_detail(call: Call) -> dict[str, Any]:
    return await _list_cgs(call, True)


@api.route("GET", CG, expected_errors=(403, 404))
async def show_consistencygroup(call: Call) -> dict[str, Any]:
    with block_storage(call).db.session() as session:
        return {"consistencygroup": _cg_detail(_cg(call, session, "group:get"))}


@api.route("PUT", f"{CG}/update", status=202, body_optional=True,
           expected_errors=(400, 403, 404))
async def update_consistencygroup_action(call: Call) -> None:
    """The same update as the member action cinder's router also maps."""
    await update_consistencygroup(call)


@api.route("PUT", CG, status=202, body_optional=True, expected_errors=(400, 403, 404))
async def update_consistencygroup(call: Call) -> None:
    if not call.body:
        raise BadRequest("Missing request body.")
    fields = _element(call, "consistencygroup")
    add = _ids(fields.get("add_volumes"), "add_volumes")
    remove = _ids(fields.get("remove_volumes"), "remove_volumes")
    if not (fields.get("name") or fields.get("description") or add or remove):
        raise BadRequest("Name, description, add_volumes, and remove_volumes can not be all "
                         "empty in the request body.")
    service = block_storage(call)
    with service.db.session() as session:
        group = _cg(call, session, "group:update")
        service.groups.update(session, group, {
            "name": fields.get("name"), "description": fields.get("description"),
            "add_volumes": add, "remove_volumes": remove})


@api.route("POST", f"{CG}/delete", status=202, body_optional=True,
           expected_errors=(400, 403, 404))
async def delete_consistencygroup(call: Call) -> Reply:
    force = False
    if call.body:
        fields = _element(call, "consistencygroup")
        raw = fields.get("force", False)
        try:
            force = s.as_bool(raw)
        except (ValueError, TypeError, BadRequest):
            raise BadRequest(f"Invalid value '{raw}' for force.") from None
    service = block_storage(call)
    with service.db.session() as session:
        group = _cg(call, session, "group:delete")
        cast = service.groups.delete(session, group, force)
    service.send(cast)
    return Reply(None, status=202)


# -- cgsnapshots --------------------------------------------------------------------------------

def _cgsnapshot_detail(row: m.GroupSnapshot) -> dict[str, Any]:
    return {"id": row.id, "consistencygroup_id": row.group_id, "status": row.status,
            "created_at": timestamp(row.created_at), "name": row.name,
            "description": row.description}


def _cgsnapshot(call: Call, session: Any, rule: str) -> m.GroupSnapshot:
    row = block_storage(call).group_snapshots.get(session, call.params["cgsnapshot_id"],
                                                  caller(call))
    call.authorize(rule, {"project_id": row.project_id, "user_id": row.user_id,
                          "id": row.id})
    return row


@api.route("POST", "/v3/cgsnapshots", status=202, body_optional=True,
           expected_errors=(400, 403, 404, 413))
async def create_cgsnapshot(call: Call) -> dict[str, Any]:
    fields = _element(call, "cgsnapshot")
    group_id = _ids(fields.get("consistencygroup_id"), "consistencygroup_id")
    if not group_id:
        raise BadRequest("'consistencygroup_id' must be specified")
    service = block_storage(call)
    with service.db.session() as session:
        group = service.groups.get(session, group_id, caller(call))
        call.authorize("group:create_group_snapshot", _target(group))
        row, cast = service.group_snapshots.create(session, caller(call), group, {
            "name": fields.get("name"), "description": fields.get("description")})
        body = {"id": row.id, "name": row.name}
    service.send(cast)
    return {"cgsnapshot": body}


async def _list_cgsnapshots(call: Call, detail: bool) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        statement = select(m.GroupSnapshot).order_by(m.GroupSnapshot.created_at.desc(),
                                                     m.GroupSnapshot.id)
        if not (call.context.is_admin and s.as_bool(call.query.get("all_tenants", "0"))):
            statement = statement.where(
                m.GroupSnapshot.project_id == call.context.project_id)
        rows = list(session.scalars(statement))
        items = [_cgsnapshot_detail(r) if detail else {"id": r.id, "name": r.name}
                 for r in rows]
    return {"cgsnapshots": items}


@api.route("GET", "/v3/cgsnapshots", policy="group:get_all_group_snapshots",
           target=project_target, expected_errors=(400,))
async def list_cgsnapshots(call: Call) -> dict[str, Any]:
    return await _list_cgsnapshots(call, False)


@api.route("GET", "/v3/cgsnapshots/detail", policy="group:get_all_group_snapshots",
           target=project_target, expected_errors=(400,))
async def list_cgsnapshots_detail(call: Call) -> dict[str, Any]:
    return await _list_cgsnapshots(call, True)


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
