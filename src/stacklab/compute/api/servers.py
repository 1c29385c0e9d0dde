"""``/servers``: create, list, show, update and delete, as nova-api does them.

Creating a server records it (BUILD/scheduling) and casts the build to the
conductor; the answer (202) does not wait for the server to be ACTIVE.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import re2
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from stacklab.api.collector import collector_paused
from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.api.pagination import Nova, PageRequest, Refusal, Sort, Window, page_items, page_query
from stacklab.api.query import timestamp_param
from stacklab.api.service import Call, Reply, schemas_from
from stacklab.api.tag_filters import TagFilter
from stacklab.compute import diagnostics, instances, states
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute, links, project_target
from stacklab.compute.api.views import render_server
from stacklab.compute.builds import BuildRequest
from stacklab.compute.builds import reference as _ref
from stacklab.compute.server_schemas import SERVER_CREATE, SERVER_UPDATE

NOVA = Nova()  # [api] max_limit 1000
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # an invalid pattern is the client's 400, not a log line


def bus_context(call: Call) -> dict[str, Any]:
    return instances.bus_context(call.context)


def not_found(server_id: str) -> NotFound:
    return NotFound(f"Instance {server_id} could not be found.")


def get_instance(call: Call, session: Session, server_id: str) -> m.Instance:
    """The caller's server (any server for an admin), or nova's 404."""
    instance = compute(call).instances.find(session, server_id)
    if instance is None or instance.deleted:
        raise not_found(server_id)
    if instance.project_id != call.context.project_id and not call.context.is_admin:
        raise not_found(server_id)
    return instance


def server_target(call: Call) -> dict[str, Any]:
    """nova's policy target for one server: its project and user."""
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        return {"project_id": instance.project_id, "user_id": instance.user_id}


# -- create ---------------------------------------------------------------------------------


def _build_request(call: Call) -> BuildRequest:
    """The create's body as plain values; a zone naming a host is for those the policy allows."""
    server: dict[str, Any] = call.body["server"]
    zone = server.get("availability_zone") or None
    forced_host = server.get("host")
    if zone and ":" in zone:
        call.authorize("os_compute_api:servers:create:forced_host", project_target(call))
        zone, _, forced_host = zone.partition(":")
        forced_host = forced_host.split(":")[0] or None
        zone = zone or None
    min_count = int(server.get("min_count", 1))
    legacy = server.get("block_device_mapping") or []
    modern = server.get("block_device_mapping_v2") or []
    if legacy and modern:
        raise BadRequest("Using different block_device_mapping syntaxes is not allowed")
    return BuildRequest(
        name=server["name"], flavor_ref=server["flavorRef"],
        image_ref=server.get("imageRef") or "",
        block_devices=list(legacy or modern), legacy_block_devices=bool(legacy),
        networks=server.get("networks"),
        security_groups=[g["name"] for g in server.get("security_groups") or []],
        metadata=dict(server.get("metadata") or {}), zone=zone, forced_host=forced_host,
        min_count=min_count, max_count=int(server.get("max_count", min_count)),
        hostname=server.get("hostname"), description=server.get("description"),
        key_name=server.get("key_name"), user_data=server.get("user_data"),
        config_drive=server.get("config_drive") in (True, "True", "true"),
        access_ipv4=instances.access_ip(server.get("accessIPv4")),
        access_ipv6=instances.access_ip(server.get("accessIPv6")),
        disk_config=server.get("OS-DCF:diskConfig", "MANUAL"),
        tags=list(server.get("tags") or []),
        trusted_certs=server.get("trusted_image_certificates"),
        admin_pass=server.get("adminPass"),
        hints=dict(call.body.get("os:scheduler_hints")
                   or call.body.get("OS-SCH-HNT:scheduler_hints") or {}))


@api.route("POST", "/v2.1/servers", policy="os_compute_api:servers:create",
           target=project_target, status=202, schema=schemas_from(SERVER_CREATE),
           expected_errors=(400, 403, 404, 409, 413, 500, 503))
async def create_server(call: Call) -> Any:
    request = _build_request(call)
    if request.block_devices:
        call.authorize("os_compute_api:servers:create:attach_volume", project_target(call))
    built = await compute(call).builds.create(
        call.context, request, zero_disk_allowed=call.allows(
            "os_compute_api:servers:create:zero_disk_flavor", project_target(call)),
        multiattach_ok=call.version_at_least("2.60"))
    if call.body["server"].get("return_reservation_id"):
        return {"reservation_id": built.reservation_id}
    first = built.uuids[0]
    body: dict[str, Any] = {
        "id": first, "links": links(call, "servers", first),
        "OS-DCF:diskConfig": request.disk_config,
        "security_groups": [{"name": name} for name in request.security_groups or ["default"]],
        "adminPass": built.admin_pass,
    }
    return Reply({"server": body}, headers={"Location": links(call, "servers", first)[0]["href"]})


# -- list ---------------------------------------------------------------------------------

_SORT_KEYS = {
    "created_at": m.Instance.created_at, "updated_at": m.Instance.updated_at,
    "display_name": m.Instance.name, "uuid": m.Instance.uuid,
    "vm_state": m.Instance.vm_state, "task_state": m.Instance.task_state,
    "power_state": m.Instance.power_state, "launched_at": m.Instance.launched_at,
    "terminated_at": m.Instance.terminated_at, "availability_zone": m.Instance.availability_zone,
    "key_name": m.Instance.key_name, "locked": m.Instance.locked,
    "hostname": m.Instance.hostname, "image_ref": m.Instance.image_ref,
    "project_id": m.Instance.project_id, "user_id": m.Instance.user_id,
    "access_ip_v4": m.Instance.access_ipv4, "access_ip_v6": m.Instance.access_ipv6,
    "config_drive": m.Instance.config_drive, "progress": m.Instance.progress,
    "reservation_id": m.Instance.reservation_id, "launch_index": m.Instance.launch_index,
    "host": m.Instance.host, "node": m.Instance.node,
}
_ADMIN_SORT_KEYS = {"host", "node"}


def _truthy(value: str) -> bool:
    return value.lower() in ("1", "true", "t", "yes", "y", "on")


def _filtered(call: Call, query: Select[Any], detail: bool) -> tuple[Select[Any], dict[str, Any]]:
    """Apply nova's filters; returns the query and the filters done in Python."""
    params = call.query
    context = call.context
    rule = "os_compute_api:servers:detail" if detail else "os_compute_api:servers:index"
    admin_filters = call.allows("os_compute_api:servers:allow_all_filters",
                                project_target(call))
    all_tenants = "all_tenants" in params and (params["all_tenants"] == ""
                                               or _truthy(params["all_tenants"]))
    if all_tenants:
        call.authorize(f"{rule}:get_all_tenants", project_target(call))
    if all_tenants:
        project = params.get("project_id") or params.get("tenant_id")
        if project and admin_filters:
            query = query.where(m.Instance.project_id == project)
    else:
        # As nova (bug 1185290): without all_tenants, tenant_id and project_id are ignored
        # and the list is the caller's own project's, an admin's too.
        query = query.where(m.Instance.project_id == context.project_id)
    deleted = admin_filters and _truthy(params.get("deleted", "false"))
    query = query.where(m.Instance.deleted.is_(deleted))
    python: dict[str, Any] = {}
    if "status" in params:
        vm_states, task_states = states.states_from_status(params["status"].upper())
        if not vm_states:
            if call.version_at_least("2.38"):
                raise BadRequest("Invalid status value")
            python["nothing"] = True
        query = query.where(m.Instance.vm_state.in_(vm_states))
        # As nova: a status that is its vm_states' default matches them whatever the task
        # (ACTIVE lists a rebooting server too); others name their task states.
        if task_states is not None:
            query = query.where(m.Instance.task_state.in_(task_states))
    if "image" in params:
        query = query.where(m.Instance.image_ref == _ref(params["image"]))
    if "reservation_id" in params:
        query = query.where(m.Instance.reservation_id == params["reservation_id"])
    since = timestamp_param(params, "changes-since")
    if since is not None:
        query = query.where(m.Instance.updated_at >= since)
    before = timestamp_param(params, "changes-before")
    if before is not None:
        query = query.where(m.Instance.updated_at <= before)
    if "name" in params:
        python["name"] = regex_filter("name", params["name"])
    if "flavor" in params:
        python["flavor"] = _ref(params["flavor"])
    query = query.where(*TagFilter.read(params, repeatable=False).conditions(m.Instance.tags))
    if "ip" in params or "ip6" in params:
        name = "ip" if params.get("ip") else "ip6"
        python["ip"] = regex_filter(name, params.get(name) or "")
    if admin_filters:
        for name, column in (("host", m.Instance.host), ("node", m.Instance.node),
                             ("user_id", m.Instance.user_id),
                             ("availability_zone", m.Instance.availability_zone),
                             ("key_name", m.Instance.key_name),
                             ("hostname", m.Instance.hostname)):
            if name in params:
                query = query.where(column == params[name])
        if "locked" in params:
            query = query.where(m.Instance.locked.is_(_truthy(params["locked"])))
    elif call.version_at_least("2.83"):
        for name, column in (("user_id", m.Instance.user_id),
                             ("availability_zone", m.Instance.availability_zone),
                             ("key_name", m.Instance.key_name)):
            if name in params:
                query = query.where(column == params[name])
        if "locked" in params and call.version_at_least("2.73"):
            query = query.where(m.Instance.locked.is_(_truthy(params["locked"])))
    return query, python


def regex_filter(name: str, pattern: str) -> Any:
    """A filter's pattern compiled by RE2, which matches in time linear in the text.

    nova hands these patterns to the database's REGEXP; Python's backtracking engine
    would let one ``^(a+)+$`` stall the whole cloud. RE2 has no backreferences or
    lookarounds: such a pattern is refused like an invalid one, as nova's "regex"
    format check refuses what its engine cannot compile.
    """
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {pattern}. "
                         f"'{pattern}' is not a 'regex'") from None


def _filter_columns(filters: dict[str, Any]) -> list[Any]:
    """The columns the Python filters read: loading whole rows of 10,000 servers costs."""
    wanted: list[Any] = [m.Instance.uuid]
    for key, column in (("name", m.Instance.name), ("flavor", m.Instance.flavor),
                        ("ip", m.Instance.addresses)):
        if key in filters:
            wanted.append(column)
    return wanted


def _python_match(instance: Any, filters: dict[str, Any]) -> bool:
    if filters.get("nothing"):
        return False
    if "name" in filters and not filters["name"].search(instance.name or ""):
        return False
    if "flavor" in filters and instance.flavor.get("flavorid") != filters["flavor"]:
        return False
    if "ip" in filters:
        ips = [a["addr"] for addrs in instance.addresses.values() for a in addrs]
        if not any(filters["ip"].search(ip) for ip in ips):
            return False
    return True


def _refuse_sort(call: Call) -> Refusal:
    admin = call.context.is_admin

    def refuse(key: str) -> Exception | None:
        if key in _ADMIN_SORT_KEYS and not admin:
            return BadRequest(f"Only administrators can sort servers by {key}")
        return None
    return refuse


def _order(sort: Sort) -> list[Any]:
    order: list[Any] = [_SORT_KEYS[key].asc() if direction == "asc" else
                        _SORT_KEYS[key].desc() for key, direction in sort]
    order = order or [m.Instance.created_at.desc()]
    return [*order, m.Instance.id.desc()]


def _list(call: Call, detail: bool) -> dict[str, Any]:
    service = compute(call)
    limit = NOVA.limit(call.query)
    query, python = _filtered(call, select(m.Instance.uuid), detail)
    request = PageRequest(limit, call.query.get("marker"),
                          NOVA.sort(call.query, _SORT_KEYS, _refuse_sort(call)))
    order = _order(request.sort)
    # A thousand rendered servers: built without the collector walking the cloud meanwhile.
    with collector_paused(), service.db.session() as session:
        if python:
            # The same query, reading the columns the filters need instead of the ids.
            rows = session.execute(query.order_by(*order).with_only_columns(
                *_filter_columns(python)))
            uuids = [r.uuid for r in rows if _python_match(r, python)]
            # Sorted in SQL already: the window only finds the marker and cuts.
            page = page_items(uuids, replace(request, sort=()), NOVA, id_of=str)
        else:
            cut = page_query(session, query, id_column=m.Instance.uuid, order=order,
                             request=request, dialect=NOVA)
            page = Window([r.uuid for r in cut.items], request, cut.more)
        if detail:
            loaded = {r.uuid: r for r in session.scalars(
                select(m.Instance).where(m.Instance.uuid.in_(page.items)))} \
                if page.items else {}
            servers = [render_server(call, loaded[u]) for u in page.items]
        else:
            # The summary shows id, name and links only: no need for whole rows.
            names = dict(session.execute(select(m.Instance.uuid, m.Instance.name).where(
                m.Instance.uuid.in_(page.items))).all()) if page.items else {}
            servers = [{"id": u, "name": names[u], "links": links(call, "servers", u)}
                       for u in page.items]
    body: dict[str, Any] = {"servers": servers}
    path = "/servers/detail" if detail else "/servers"
    body.update(NOVA.links(page, query=call.query, url=call.url_for(f"/v2.1{path}"),
                           collection="servers", id_of=str))
    return body


@api.route("GET", "/v2.1/servers", policy="os_compute_api:servers:index",
           target=project_target, expected_errors=(400, 403))
async def list_servers(call: Call) -> dict[str, Any]:
    return _list(call, detail=False)


@api.route("GET", "/v2.1/servers/detail", policy="os_compute_api:servers:detail",
           target=project_target, expected_errors=(400, 403))
async def list_servers_detail(call: Call) -> dict[str, Any]:
    return _list(call, detail=True)


# -- one server ---------------------------------------------------------------------------


@api.route("GET", "/v2.1/servers/{server_id}", policy="os_compute_api:servers:show",
           target=server_target, expected_errors=404)
async def show_server(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
    return {"server": render_server(call, instance, show_groups=True)}


@api.route("PUT", "/v2.1/servers/{server_id}", policy="os_compute_api:servers:update",
           target=server_target, schema=schemas_from(SERVER_UPDATE),
           expected_errors=(400, 404, 409))
async def update_server(call: Call) -> dict[str, Any]:
    service = compute(call)
    fields = call.body["server"]
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        if "pinned_availability_zone" in fields:  # 2.104: its schema alone takes it
            service.instances.pin_zone(instance, fields["pinned_availability_zone"])
        service.instances.edit(instance, fields)
    return {"server": render_server(call, instance, full=False, show_groups=True)}


@api.route("GET", "/v2.1/servers/{server_id}/os-server-password",
           policy="os_compute_api:os-server-password:show", target=server_target,
           expected_errors=404)
async def show_server_password(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        return {"password": diagnostics.password(instance)}


@api.route("DELETE", "/v2.1/servers/{server_id}/os-server-password",
           policy="os_compute_api:os-server-password:clear", target=server_target, status=204,
           expected_errors=404)
async def clear_server_password(call: Call) -> None:
    with compute(call).db.session() as session:
        diagnostics.clear_password(get_instance(call, session, call.params["server_id"]))


@api.route("GET", "/v2.1/servers/{server_id}/diagnostics",
           policy="os_compute_api:os-server-diagnostics", target=server_target,
           expected_errors=(400, 404, 409, 501))
async def show_server_diagnostics(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
    # From 2.48 one shape for every driver; before it, the driver's own keys.
    return await diagnostics.ask(service, instance, standard=call.version_at_least("2.48"),
                                 context=call.context)


def check_lock(call: Call, instance: m.Instance) -> None:
    """nova's ``check_instance_lock``: a locked server refuses changes, except from admins."""
    if instance.locked and not call.context.is_admin:
        raise Conflict(f"Instance {instance.uuid} is locked")


@api.route("DELETE", "/v2.1/servers/{server_id}", policy="os_compute_api:servers:delete",
           target=server_target, status=204, expected_errors=(404, 409))
async def delete_server(call: Call) -> None:
    service = compute(call)
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        check_lock(call, instance)
    await service.deletes.delete(instance.uuid, call.context)
