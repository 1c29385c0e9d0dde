"""``/servers``: create, list, show, update and delete, as nova-api does them.

Creating a server records it (BUILD/scheduling) and casts the build to the
conductor; the answer (202) does not wait for the server to be ACTIVE.
"""

from __future__ import annotations

import re
from typing import Any

import re2
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest, Conflict, Forbidden, NotFound
from stacklab.api.pagination import next_link
from stacklab.api.query import int_param, timestamp_param
from stacklab.api.service import Call, Reply, schemas_from
from stacklab.bus.interface import Target
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.api.base import api, compute, links, project_target
from stacklab.compute.api.views import render_server
from stacklab.compute.glance import GlanceError, image_properties
from stacklab.compute.neutron import NeutronError
from stacklab.compute.server_schemas import SERVER_CREATE, SERVER_UPDATE
from stacklab.compute.service import ComputeService

MAX_LIMIT = 1000  # [api] max_limit
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # an invalid pattern is the client's 400, not a log line


def bus_context(call: Call) -> dict[str, Any]:
    context = call.context
    return {"request_id": context.request_id, "global_request_id": context.global_request_id,
            "user_id": context.user_id, "project_id": context.project_id,
            "is_admin": context.is_admin}


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


def _ref(value: str) -> str:
    """nova accepts an id or a URL ending with it for imageRef and flavorRef."""
    return value.rstrip("/").rsplit("/", 1)[-1]


def sanitize_hostname(name: str) -> str:
    """nova's ``sanitize_hostname``: what a display name becomes as a guest hostname."""
    hostname = name.lower()
    hostname = re.sub(r"[ _.]", "-", hostname)
    hostname = re.sub(r"[^\w.-]+", "", hostname, flags=re.ASCII)
    hostname = hostname.strip(".-")[:63]
    return hostname or "server"


def _flavor_snapshot(flavor: m.Flavor) -> dict[str, Any]:
    return {"id": flavor.id, "flavorid": flavor.flavorid, "name": flavor.name,
            "vcpus": flavor.vcpus, "memory_mb": flavor.memory_mb, "root_gb": flavor.root_gb,
            "ephemeral_gb": flavor.ephemeral_gb, "swap": flavor.swap,
            "extra_specs": dict(flavor.extra_specs)}


def load_flavor(call: Call, session: Session, ref: str, *,
                message: str = "Invalid flavorRef provided.") -> dict[str, Any]:
    service = compute(call)
    try:
        flavor = service.flavors.get(session, _ref(str(ref)), call.context.project_id,
                                     call.context.is_admin)
    except NotFound:
        raise BadRequest(message) from None
    return _flavor_snapshot(flavor)


async def load_image(call: Call, ref: str, *,
                     missing: str = "Can not find requested image") -> dict[str, Any]:
    """The image to boot from: visible to the caller and active (nova answers 400 otherwise).

    Asked of the Image API with the caller's own token, so only what the
    caller may see resolves.
    """
    glance = compute(call).glance
    if glance is None:
        raise BadRequest(missing)
    try:
        image = await glance.show(_ref(ref), token=call.context.auth_token or "")
    except GlanceError as exc:
        if exc.status < 500:  # not found, not visible, not an image id at all
            raise BadRequest(missing) from None
        raise
    if image["status"] != "active":
        raise BadRequest(f"Image {image['id']} is not active.")
    return {"id": image["id"], "name": image["name"], "min_ram": image.get("min_ram") or 0,
            "min_disk": image.get("min_disk") or 0, "size": image.get("size") or 0,
            "properties": image_properties(image)}


def _check_flavor_fits_image(flavor: dict[str, Any], image: dict[str, Any]) -> None:
    if flavor["memory_mb"] < image["min_ram"]:
        raise BadRequest("Flavor's memory is too small for requested image.")
    if flavor["root_gb"]:
        if image["min_disk"] > flavor["root_gb"]:
            raise BadRequest("Flavor's disk is too small for requested image. Flavor disk is "
                             f"{flavor['root_gb'] * 1024 ** 3} bytes, minimum requested disk is "
                             f"{image['min_disk'] * 1024 ** 3} bytes.")
        if image["size"] > flavor["root_gb"] * 1024 ** 3:
            raise BadRequest("Flavor's disk is too small for requested image. Flavor disk is "
                             f"{flavor['root_gb'] * 1024 ** 3} bytes, image is "
                             f"{image['size']} bytes.")


def _networks(call: Call, requested: Any) -> Any:
    """``auto``, ``none`` or a list. Until Networking exists, a list names nothing that exists."""
    if requested is None:
        return "auto"
    if isinstance(requested, str):
        return requested
    for network in requested:
        if network.get("port"):
            raise BadRequest(f"Port {network['port']} could not be found.")
        if network.get("uuid"):
            raise BadRequest(f"Network {network['uuid']} could not be found.")
    return requested


async def _resolve_networks(call: Call, requested: Any) -> Any:
    neutron = compute(call).neutron
    if neutron is None or call.cloud.app is None:
        return _networks(call, requested)
    try:
        return await neutron.resolve_networks(requested, call.context.project_id or "",
                                              call.headers.get("X-Auth-Token", ""))
    except NeutronError as exc:
        raise ApiError(exc.message, status=exc.status if exc.status < 500 else 500) from None


async def _check_security_groups(call: Call, requested: Any) -> None:
    """The groups asked for, resolved with the user's own token (nova's 400 if unknown)."""
    neutron = compute(call).neutron
    names = [g["name"] for g in requested or []]
    if neutron is None or call.cloud.app is None or not names:
        return
    try:
        await neutron.check_security_groups(names, call.context.project_id or "",
                                            call.headers.get("X-Auth-Token", ""))
    except NeutronError as exc:
        raise ApiError(exc.message, status=exc.status if exc.status < 500 else 500) from None


def _block_devices(server: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The mappings to keep, and whether the root disk is a volume."""
    mappings = server.get("block_device_mapping_v2") or []
    kept: list[dict[str, Any]] = []
    for bdm in mappings:
        if bdm.get("destination_type", "volume") == "volume" or \
                bdm.get("source_type") in ("volume", "snapshot"):
            raise BadRequest("Block Device Mapping is Invalid: volumes need the Block Storage "
                             "service, which this cloud does not run yet.")
        kept.append(dict(bdm))
    if server.get("block_device_mapping"):
        raise BadRequest("Block Device Mapping is Invalid: volumes need the Block Storage "
                         "service, which this cloud does not run yet.")
    return kept, False


def check_quota(call: Call, service: ComputeService, flavor: dict[str, Any],
                min_count: int, max_count: int) -> int:
    """How many servers of ``flavor`` may be created (max_count if they fit, else 403)."""
    project = call.context.project_id or ""
    quota = service.quota(project)
    used = service.usage(project, call.context.user_id or "")
    limits = {"instances": (quota["instances"], used["instances"], 1),
              "cores": (quota["cores"], used["cores"], flavor["vcpus"]),
              "ram": (quota["ram"], used["ram"], flavor["memory_mb"])}
    allowed = max_count
    for limit, in_use, each in limits.values():
        if limit >= 0 and each:
            allowed = min(allowed, (limit - in_use) // each)
    if allowed >= min_count:
        return allowed
    overs = [name for name, (limit, in_use, each) in limits.items()
             if limit >= 0 and in_use + each * min_count > limit]
    name = overs[0]
    limit, in_use, each = limits[name]
    raise Forbidden(f"Quota exceeded for {name}: Requested {each * min_count}, but already "
                    f"used {in_use} of {limit} {name}")


def _hints(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {})


def _server_group(call: Call, session: Session, hints: dict[str, Any],
                  count: int) -> m.ServerGroup | None:
    group_id = hints.get("group")
    if isinstance(group_id, list):
        group_id = group_id[0] if group_id else None
    if not group_id:
        return None
    group = session.scalar(select(m.ServerGroup).where(m.ServerGroup.uuid == group_id))
    if group is None or (group.project_id != call.context.project_id
                         and not call.context.is_admin):
        raise BadRequest(f"Invalid server group {group_id}: Instance group {group_id} could "
                         "not be found.")
    allowed = compute(call).quota(group.project_id)["server_group_members"]
    if 0 <= allowed < len(group.members) + count:
        raise Forbidden("Quota exceeded, too many servers in group")
    return group


@api.route("POST", "/v2.1/servers", policy="os_compute_api:servers:create",
           target=project_target, status=202, schema=schemas_from(SERVER_CREATE),
           expected_errors=(400, 403, 404, 409, 413, 500, 503))
async def create_server(call: Call) -> Any:
    server: dict[str, Any] = call.body["server"]
    service = compute(call)
    context = call.context
    hints = _hints(call.body)
    block_devices, boot_from_volume = _block_devices(server)
    image_ref = server.get("imageRef") or ""
    if not image_ref:
        image_ref = next((b.get("uuid", "") for b in block_devices
                          if b.get("source_type") == "image"
                          and str(b.get("boot_index")) == "0"), "")
    if not image_ref and not boot_from_volume:
        raise BadRequest("Missing imageRef attribute")
    image = await load_image(call, image_ref) if image_ref else None
    networks = await _resolve_networks(call, server.get("networks"))
    await _check_security_groups(call, server.get("security_groups"))
    allowed_metadata = service.quota(context.project_id or "")["metadata_items"]
    if 0 <= allowed_metadata < len(server.get("metadata") or {}):
        raise Forbidden(f"Quota exceeded for metadata_items: Requested "
                        f"{len(server['metadata'])}, but already used 0 of "
                        f"{allowed_metadata} metadata_items")
    zone = server.get("availability_zone") or None
    forced_host = server.get("host")
    if zone and ":" in zone:
        call.authorize("os_compute_api:servers:create:forced_host", project_target(call))
        zone, _, forced_host = zone.partition(":")
        forced_host = forced_host.split(":")[0] or None
        zone = zone or None
    if zone and zone not in service.availability_zones():
        raise BadRequest("The requested availability zone is not available")
    if forced_host and forced_host not in service.placement.providers:
        raise BadRequest(f"Compute host {forced_host} could not be found.")
    min_count = int(server.get("min_count", 1))
    max_count = int(server.get("max_count", min_count))
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    with service.db.session() as session:
        flavor = load_flavor(call, session, server["flavorRef"])
        if image is not None:
            _check_flavor_fits_image(flavor, image)
            if flavor["root_gb"] == 0 and not call.allows(
                    "os_compute_api:servers:create:zero_disk_flavor", project_target(call)):
                raise Forbidden("Only volume-backed servers are allowed for flavors with "
                                "zero disk.")
        key_data = None
        if server.get("key_name"):
            try:
                key_data = service.keypairs.get(session, context.user_id or "",
                                                server["key_name"]).public_key
            except NotFound:
                raise BadRequest("Invalid key_name provided.") from None
        count = check_quota(call, service, flavor, min_count, max_count)
        group = _server_group(call, session, hints, count)
        reservation_id = "r-" + service.ids.hex_id()[:8]
        now = service.clock.now()
        uuids: list[str] = []
        for index in range(count):
            name = server["name"] if count == 1 else f"{server['name']}-{index + 1}"
            hostname = server.get("hostname") or sanitize_hostname(name)
            if count > 1 and server.get("hostname"):
                hostname = f"{hostname}-{index + 1}"
            instance = m.Instance(
                uuid=service.ids.uuid(), name=name, hostname=hostname,
                description=server.get("description"), project_id=context.project_id or "",
                user_id=context.user_id or "", image_ref=image["id"] if image else "",
                flavor=flavor, vcpus=flavor["vcpus"], memory_mb=flavor["memory_mb"],
                vm_state=states.BUILDING, task_state=states.SCHEDULING,
                power_state=states.NOSTATE, key_name=server.get("key_name"),
                key_data=key_data, user_data=server.get("user_data"),
                config_drive="True" if server.get("config_drive") in (True, "True", "true")
                else "", access_ipv4=server.get("accessIPv4") or "",
                access_ipv6=server.get("accessIPv6") or "",
                disk_config=server.get("OS-DCF:diskConfig", "MANUAL"),
                metadata_=dict(server.get("metadata") or {}),
                system_metadata={}, tags=list(dict.fromkeys(server.get("tags") or [])),
                security_groups=[g["name"] for g in server.get("security_groups")
                                 or [{"name": "default"}]],
                networks=networks, addresses={}, block_devices=block_devices,
                scheduler_hints=hints, server_group=group.uuid if group else None,
                trusted_certs=server.get("trusted_image_certificates"),
                reservation_id=reservation_id, launch_index=index,
                availability_zone=zone, requested_zone=zone,
                created_at=now, updated_at=now)
            session.add(instance)
            session.flush()
            service.instances.start_action(session, instance, "create", bus_context(call))
            uuids.append(instance.uuid)
        if group is not None:
            group.members = [*group.members, *uuids]
        admin_pass = server.get("adminPass") or service.ids.urlsafe_token(9)
    spec: dict[str, Any] = {
        "flavor": flavor, "image_properties": image["properties"] if image else {},
        "availability_zone": zone, "scheduler_hints": hints,
        "group": {"uuid": group.uuid, "policy": group.policy, "rules": dict(group.rules)}
        if group else None,
        "force_hosts": [forced_host] if forced_host else [],
        "boot_from_volume": boot_from_volume,
    }
    await service.bus.cast(Target("conductor"), "build_instances", instance_uuids=uuids,
                           spec=spec, ctxt=bus_context(call))
    await service.settle(uuids)
    if server.get("return_reservation_id"):
        return {"reservation_id": reservation_id}
    first = uuids[0]
    body: dict[str, Any] = {
        "id": first, "links": links(call, "servers", first),
        "OS-DCF:diskConfig": server.get("OS-DCF:diskConfig", "MANUAL"),
        "security_groups": [{"name": name} for name in
                            [g["name"] for g in server.get("security_groups")
                             or [{"name": "default"}]]],
        "adminPass": admin_pass,
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
    project = params.get("project_id") or params.get("tenant_id")
    if project and admin_filters:
        query = query.where(m.Instance.project_id == project)
    elif not all_tenants:
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
    for tag_filter in ("tags", "tags-any", "not-tags", "not-tags-any"):
        if tag_filter in params:
            python[tag_filter] = [t for t in params[tag_filter].split(",") if t]
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
    if any(key.endswith(("tags", "tags-any")) for key in filters):
        wanted.append(m.Instance.tags)
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
    if not any(key.endswith(("tags", "tags-any")) for key in filters):
        return True
    tags = set(instance.tags)
    if "tags" in filters and not set(filters["tags"]) <= tags:
        return False
    if "tags-any" in filters and not set(filters["tags-any"]) & tags:
        return False
    if "not-tags" in filters and set(filters["not-tags"]) <= tags and filters["not-tags"]:
        return False
    return not ("not-tags-any" in filters and set(filters["not-tags-any"]) & tags)


def _sort(call: Call) -> list[Any]:
    getlist = call.query.getlist
    keys = list(getlist("sort_key"))
    dirs = list(getlist("sort_dir"))
    admin = call.context.is_admin
    order: list[Any] = []
    for index, key in enumerate(keys):
        column = _SORT_KEYS.get(key)
        if column is None or (key in _ADMIN_SORT_KEYS and not admin):
            raise BadRequest(f"Invalid sort_key {key}" if column is None else
                             f"Only administrators can sort servers by {key}")
        direction = dirs[index] if index < len(dirs) else "desc"
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort_dir {direction}")
        order.append(column.asc() if direction == "asc" else column.desc())
    if not order:
        order = [m.Instance.created_at.desc()]
    order.append(m.Instance.id.desc())
    return order


def _list(call: Call, detail: bool) -> dict[str, Any]:
    service = compute(call)
    limit = int_param(call.query, "limit", minimum=0)
    limit = MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)
    marker = call.query.get("marker")
    query, python = _filtered(call, select(m.Instance.uuid), detail)
    query = query.order_by(*_sort(call))
    with service.db.session() as session:
        if python:
            # The same query, reading the columns the filters need instead of the ids.
            rows = session.execute(query.with_only_columns(*_filter_columns(python)))
            uuids = [r.uuid for r in rows if _python_match(r, python)]
        else:
            uuids = list(session.scalars(query))
        start = 0
        if marker is not None:
            try:
                start = uuids.index(marker) + 1
            except ValueError:
                raise BadRequest(f"marker [{marker}] not found") from None
        page = uuids[start:start + limit]
        if detail:
            loaded = {r.uuid: r for r in session.scalars(
                select(m.Instance).where(m.Instance.uuid.in_(page)))} if page else {}
            servers = [render_server(call, loaded[u]) for u in page]
        else:
            # The summary shows id, name and links only: no need for whole rows.
            names = dict(session.execute(select(m.Instance.uuid, m.Instance.name).where(
                m.Instance.uuid.in_(page))).all()) if page else {}
            servers = [{"id": u, "name": names[u], "links": links(call, "servers", u)}
                       for u in page]
    body: dict[str, Any] = {"servers": servers}
    if page and len(page) == limit and start + limit < len(uuids) + (1 if limit else 0):
        path = "/servers/detail" if detail else "/servers"
        body["servers_links"] = [{"rel": "next", "href": next_link(
            call.url_for(f"/v2.1{path}"), call.query, page[-1])}]
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
           expected_errors=(400, 404))
async def update_server(call: Call) -> dict[str, Any]:
    fields = call.body["server"]
    service = compute(call)
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        if "name" in fields:
            instance.name = fields["name"]
        if "description" in fields:
            instance.description = fields["description"]
        if "hostname" in fields:
            instance.hostname = fields["hostname"]
        if "accessIPv4" in fields:
            instance.access_ipv4 = fields["accessIPv4"] or ""
        if "accessIPv6" in fields:
            instance.access_ipv6 = fields["accessIPv6"] or ""
        if "OS-DCF:diskConfig" in fields:
            instance.disk_config = fields["OS-DCF:diskConfig"]
        instance.updated_at = service.clock.now()
    return {"server": render_server(call, instance, full=False, show_groups=True)}


def _user_ports(instance: m.Instance) -> set[str]:
    """Ports the user brought: on delete nova unbinds them instead of deleting them."""
    requests = instance.networks if isinstance(instance.networks, list) else []
    return {r["port_id"] for r in requests if isinstance(r, dict) and r.get("port_id")}


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
        service.instances.start_action(session, instance, "delete", bus_context(call))
        if instance.task_state == states.DELETING:
            return
        # Read before a local delete marks it deleted.
        shelved_image = instance.system_metadata.get("shelved_image_id") \
            if instance.vm_state in (states.SHELVED, states.SHELVED_OFFLOADED) else None
        if instance.vm_state == states.RESIZED:
            service.confirm_on_delete(session, instance)
        record = service.service_record(instance.host) if instance.host else None
        host_up = record is not None and service.services.is_up(record)
        if not host_up:
            # nova-api's "local delete": no compute to ask, the record goes now.
            service.delete_row(session, instance)
            local = instance.uuid
        else:
            local = None
            instance.task_state = states.DELETING
            instance.updated_at = service.clock.now()
        host = instance.host
        preserved = _user_ports(instance)
    # A shelved server's snapshot dies with it, as nova-api deletes it (through glance).
    await service.delete_image(shelved_image)
    if local is not None:
        await service.release_network(local, preserved)
        return
    await service.bus.cast(Target("compute", host), "terminate_instance",
                           instance_uuid=call.params["server_id"], ctxt=bus_context(call))
    await service.settle([call.params["server_id"]])
