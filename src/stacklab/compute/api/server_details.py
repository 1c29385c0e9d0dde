"""A server's sub-resources: metadata, tags, instance actions, remote consoles, migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.api.pagination import Nova, PageRequest, page_query
from stacklab.api.service import Call, Reply, schemas_from
from stacklab.compute import models as m
from stacklab.compute import quotas
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.api.servers import check_lock, get_instance, server_target
from stacklab.compute.api.views import host_id, usage_time
from stacklab.compute.consoles import require_host
from stacklab.compute.server_schemas import (
    METADATA_ITEM,
    METADATA_REPLACE,
    METADATA_UPDATE,
    REMOTE_CONSOLE_CREATE,
    TAGS_REPLACE,
)

_SERVER = "/v2.1/servers/{server_id}"


# -- metadata -------------------------------------------------------------------------------


def _check_metadata_quota(call: Call, metadata: dict[str, str]) -> None:
    quotas.check_metadata(compute(call).quotas.limits(call.context.project_id or "")[
        "metadata_items"], len(metadata))


@api.route("GET", f"{_SERVER}/metadata", policy="os_compute_api:server-metadata:index",
           target=server_target, expected_errors=404)
async def list_metadata(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        return {"metadata": dict(get_instance(call, session, call.params["server_id"])
                                 .metadata_)}


async def _write_metadata(call: Call, replace: bool) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        check_lock(call, instance)
        metadata = dict(call.body["metadata"]) if replace else \
            {**instance.metadata_, **call.body["metadata"]}
        _check_metadata_quota(call, metadata)
        instance.metadata_ = metadata
        instance.updated_at = compute(call).clock.now()
        return {"metadata": dict(metadata)}


@api.route("PUT", f"{_SERVER}/metadata", policy="os_compute_api:server-metadata:update_all",
           target=server_target, schema=schemas_from(METADATA_REPLACE),
           expected_errors=(400, 403, 404, 409))
async def replace_metadata(call: Call) -> dict[str, Any]:
    return await _write_metadata(call, replace=True)


@api.route("POST", f"{_SERVER}/metadata", policy="os_compute_api:server-metadata:create",
           target=server_target, schema=schemas_from(METADATA_UPDATE),
           expected_errors=(400, 403, 404, 409))
async def update_metadata(call: Call) -> dict[str, Any]:
    return await _write_metadata(call, replace=False)


@api.route("GET", f"{_SERVER}/metadata/{{key}}", policy="os_compute_api:server-metadata:show",
           target=server_target, expected_errors=404)
async def show_metadata_item(call: Call) -> dict[str, Any]:
    key = call.params["key"]
    with compute(call).db.session() as session:
        metadata = get_instance(call, session, call.params["server_id"]).metadata_
    if key not in metadata:
        raise NotFound("Metadata item was not found")
    return {"meta": {key: metadata[key]}}


@api.route("PUT", f"{_SERVER}/metadata/{{key}}", policy="os_compute_api:server-metadata:update",
           target=server_target, schema=schemas_from(METADATA_ITEM),
           expected_errors=(400, 403, 404, 409))
async def set_metadata_item(call: Call) -> dict[str, Any]:
    key = call.params["key"]
    item = call.body["meta"]
    if key not in item:
        raise BadRequest("Request body and URI mismatch")
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        check_lock(call, instance)
        metadata = {**instance.metadata_, key: item[key]}
        _check_metadata_quota(call, metadata)
        instance.metadata_ = metadata
        instance.updated_at = compute(call).clock.now()
    return {"meta": {key: item[key]}}


@api.route("DELETE", f"{_SERVER}/metadata/{{key}}",
           policy="os_compute_api:server-metadata:delete", target=server_target, status=204,
           expected_errors=(404, 409))
async def delete_metadata_item(call: Call) -> None:
    key = call.params["key"]
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        check_lock(call, instance)
        if key not in instance.metadata_:
            raise NotFound("Metadata item was not found")
        instance.metadata_ = {k: v for k, v in instance.metadata_.items() if k != key}


# -- tags (2.26) ------------------------------------------------------------------------------

_MAX_TAGS = 50


@api.route("GET", f"{_SERVER}/tags", policy="os_compute_api:os-server-tags:index",
           target=server_target,
           min_version="2.26", expected_errors=404)
async def list_tags(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        return {"tags": list(get_instance(call, session, call.params["server_id"]).tags)}


@api.route("PUT", f"{_SERVER}/tags", policy="os_compute_api:os-server-tags:update_all",
           target=server_target, schema=schemas_from(TAGS_REPLACE), min_version="2.26",
           expected_errors=(400, 404, 409))
async def replace_tags(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        instance.tags = list(dict.fromkeys(call.body["tags"]))
        return {"tags": list(instance.tags)}


@api.route("DELETE", f"{_SERVER}/tags", policy="os_compute_api:os-server-tags:delete_all",
           target=server_target, status=204,
           min_version="2.26", expected_errors=(404, 409))
async def delete_tags(call: Call) -> None:
    with compute(call).db.session() as session:
        get_instance(call, session, call.params["server_id"]).tags = []


@api.route("GET", f"{_SERVER}/tags/{{tag}}", policy="os_compute_api:os-server-tags:show",
           target=server_target, status=204,
           min_version="2.26", expected_errors=404)
async def check_tag(call: Call) -> None:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        if call.params["tag"] not in instance.tags:
            raise NotFound(f"Tag {call.params['tag']} could not be found.")


@api.route("PUT", f"{_SERVER}/tags/{{tag}}", policy="os_compute_api:os-server-tags:update",
           target=server_target, status=201,
           min_version="2.26", expected_errors=(400, 404, 409))
async def add_tag(call: Call) -> Reply:
    tag = call.params["tag"]
    if not tag or len(tag) > 60 or "," in tag or "/" in tag:
        raise BadRequest(f"Tag '{tag}' is invalid: 1 to 60 characters, no ',' or '/'.")
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        if tag in instance.tags:
            return Reply(None, status=204)
        if len(instance.tags) >= _MAX_TAGS:
            raise BadRequest(f"The number of tags exceeded the per-server limit {_MAX_TAGS}")
        instance.tags = [*instance.tags, tag]
    location = call.url_for(f"/v2.1/servers/{call.params['server_id']}/tags/{tag}")
    return Reply(None, status=201, headers={"Location": location})


@api.route("DELETE", f"{_SERVER}/tags/{{tag}}", policy="os_compute_api:os-server-tags:delete",
           target=server_target, status=204,
           min_version="2.26", expected_errors=(404, 409))
async def delete_tag(call: Call) -> None:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        if call.params["tag"] not in instance.tags:
            raise NotFound(f"Tag {call.params['tag']} could not be found.")
        instance.tags = [t for t in instance.tags if t != call.params["tag"]]


# -- instance actions --------------------------------------------------------------------------


def _render_action(call: Call, action: m.InstanceAction) -> dict[str, Any]:
    body: dict[str, Any] = {
        "action": action.action, "instance_uuid": action.instance_uuid,
        "message": action.message, "project_id": action.project_id,
        "request_id": action.request_id, "start_time": usage_time(action.start_time),
        "user_id": action.user_id}
    if call.version_at_least("2.58"):
        body["updated_at"] = usage_time(action.updated_at)
    return body


def _render_event(call: Call, event: m.InstanceActionEvent, project_id: str,
                  admin: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"event": event.event, "start_time": usage_time(event.start_time),
                            "finish_time": usage_time(event.finish_time),
                            "result": event.result}
    if admin:
        body["traceback"] = event.traceback
    if call.version_at_least("2.62"):
        body["hostId"] = host_id(project_id, event.host)
        if admin:
            body["host"] = event.host or ""
    if call.version_at_least("2.84"):
        body["details"] = event.details
    return body


# nova's instance actions (2.58+): [api] max_limit, and its own words for an unknown marker.
_ACTIONS = Nova(marker_message="Marker {marker} could not be found.")


def _instance_any_state(call: Call, session: Any) -> m.Instance:
    """Actions of deleted servers stay visible from 2.21."""
    instance = compute(call).instances.find(session, call.params["server_id"])
    if instance is None or (instance.deleted and not call.version_at_least("2.21")) or (
            instance.project_id != call.context.project_id and not call.context.is_admin):
        raise NotFound(f"Instance {call.params['server_id']} could not be found.")
    return instance


def _actions_target(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = _instance_any_state(call, session)
        return {"project_id": instance.project_id, "user_id": instance.user_id}


@api.route("GET", f"{_SERVER}/os-instance-actions",
           policy="os_compute_api:os-instance-actions:list", target=_actions_target,
           expected_errors=(400, 404))
async def list_instance_actions(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = _instance_any_state(call, session)
        actions = select(m.InstanceAction).where(
            m.InstanceAction.instance_uuid == instance.uuid)
        order: list[Any] = [m.InstanceAction.start_time.desc(), m.InstanceAction.id.desc()]
        if not call.version_at_least("2.58"):
            return {"instanceActions": [_render_action(call, a)
                                        for a in session.scalars(actions.order_by(*order))]}
        # nova reads no sort keys here: a page of the newest-first order.
        request = PageRequest(_ACTIONS.limit(call.query), call.query.get("marker"), ())
        page = page_query(session, actions, id_column=m.InstanceAction.request_id, order=order,
                          request=request, dialect=_ACTIONS)
        body: dict[str, Any] = {"instanceActions": [_render_action(call, row[0])
                                                    for row in page.items]}
    links = _ACTIONS.links(page, query=call.query, collection="actions", id_of=_request_id,
                           url=call.url_for(f"/v2.1/servers/{instance.uuid}/os-instance-actions"))
    if links:  # nova names this page's links plain "links"
        body["links"] = links["actions_links"]
    return body


def _request_id(row: Any) -> str:
    return str(row[0].request_id)


@api.route("GET", f"{_SERVER}/os-instance-actions/{{request_id}}",
           policy="os_compute_api:os-instance-actions:show", target=_actions_target,
           expected_errors=404)
async def show_instance_action(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = _instance_any_state(call, session)
        action = session.scalar(select(m.InstanceAction).where(
            m.InstanceAction.instance_uuid == instance.uuid,
            m.InstanceAction.request_id == call.params["request_id"]))
        if action is None:
            raise NotFound(f"Action for request_id {call.params['request_id']} on instance "
                           f"{instance.uuid} not found")
        events = list(session.scalars(select(m.InstanceActionEvent).where(
            m.InstanceActionEvent.action_id == action.id).order_by(m.InstanceActionEvent.id)))
    body = _render_action(call, action)
    target = {"project_id": instance.project_id, "user_id": instance.user_id}
    if call.version_at_least("2.51") or call.allows(
            "os_compute_api:os-instance-actions:events", target):
        admin = call.allows("os_compute_api:os-instance-actions:events:details", target) \
            if call.version_at_least("2.51") else True
        body["events"] = [_render_event(call, e, instance.project_id, admin) for e in events]
    return {"instanceAction": body}


# -- remote consoles (2.6) ---------------------------------------------------------------------

# spice-direct (2.99) is a SPICE console too; the schema of older versions refuses it first.
_PROTOCOL_TYPES = {"vnc": {"novnc", "xvpvnc"}, "spice": {"spice-html5", "spice-direct"},
                   "serial": {"serial"},
                   "rdp": {"rdp-html5"}, "mks": {"webmks"}}


@api.route("POST", f"{_SERVER}/remote-consoles", policy="os_compute_api:os-remote-consoles",
           target=server_target, schema=schemas_from(REMOTE_CONSOLE_CREATE), min_version="2.6",
           expected_errors=(400, 404, 409, 501))
async def create_remote_console(call: Call) -> dict[str, Any]:
    console = call.body["remote_console"]
    protocol, console_type = console["protocol"], console["type"]
    if console_type not in _PROTOCOL_TYPES.get(protocol, set()):
        raise BadRequest(f"Unsupported console type {console_type} for protocol {protocol}")
    if protocol in ("rdp", "mks", "spice") or console_type == "xvpvnc":
        raise BadRequest(f"Unavailable console type {console_type}.")
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        require_host(instance)
        if instance.power_state != 1:
            raise Conflict(f"Instance {instance.uuid} is not ready")
    return {"remote_console": {"protocol": protocol, "type": console_type,
                               "url": compute(call).consoles.url(console_type)}}


# -- migrations ----------------------------------------------------------------------------------


def _render_migration(call: Call, migration: m.Migration, ident: int, *,
                      hosts: bool = True) -> dict[str, Any]:
    # Without os-migrations:index:host the host fields are there, but null.
    source, dest = (migration.source_compute, migration.dest_compute) if hosts else (None, None)
    body: dict[str, Any] = {
        "id": ident, "instance_uuid": migration.instance_uuid, "status": migration.status,
        "source_compute": source, "source_node": source,
        "dest_compute": dest, "dest_node": dest,
        "dest_host": None, "old_instance_type_id": migration.old_flavor.get("id"),
        "new_instance_type_id": migration.new_flavor.get("id"),
        "created_at": usage_time(migration.created_at),
        "updated_at": usage_time(migration.updated_at)}
    if call.version_at_least("2.23"):
        body["migration_type"] = migration.migration_type
        if migration.migration_type == "live-migration" and migration.status in (
                "queued", "preparing", "running"):
            body["links"] = [{"rel": rel, "href": call.url_for(
                f"{'/v2.1' if rel == 'self' else ''}/servers/{migration.instance_uuid}"
                f"/migrations/{ident}")} for rel in ("self", "bookmark")]
    if call.version_at_least("2.59"):
        body["uuid"] = migration.uuid
    if call.version_at_least("2.80"):
        body["project_id"] = migration.project_id
        body["user_id"] = migration.user_id
    return body


@api.route("GET", "/v2.1/os-migrations", policy="os_compute_api:os-migrations:index",
           target=project_target, expected_errors=(400, 404))
async def list_migrations(call: Call) -> dict[str, Any]:
    query = select(m.Migration).order_by(m.Migration.created_at.desc(), m.Migration.id.desc())
    for name, column in (("instance_uuid", m.Migration.instance_uuid),
                         ("status", m.Migration.status),
                         ("migration_type", m.Migration.migration_type),
                         ("source_compute", m.Migration.source_compute)):
        if name in call.query:
            query = query.where(column == call.query[name])
    if "host" in call.query:
        host = call.query["host"]
        query = query.where((m.Migration.source_compute == host)
                            | (m.Migration.dest_compute == host))
    # nova: only the caller's own project without os-migrations:index:all_projects.
    project = call.query.get("project_id")
    if not project or project != call.context.project_id:
        call.authorize("os_compute_api:os-migrations:index:all_projects")
    # Filters at every version (the query schema names them only from 2.80).
    for name, column in (("project_id", m.Migration.project_id),
                         ("user_id", m.Migration.user_id)):
        if name in call.query:
            query = query.where(column == call.query[name])
    hosts = call.allows("os_compute_api:os-migrations:index:host")
    with compute(call).db.session() as session:
        rows = list(session.scalars(query))
        return {"migrations": [_render_migration(call, r, r.id, hosts=hosts) for r in rows]}
