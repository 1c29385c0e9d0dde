"""``/os-hypervisors``: the lab's compute nodes, their capacity and state."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.pagination import Nova, PageRequest, page_items
from stacklab.api.service import Call
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.scheduler.hosts import RESERVED_HOST_MEMORY_MB

# The simulated hypervisor reports itself as libvirt/QEMU does (8.2.0 encoded as nova does).
HYPERVISOR_TYPE = "QEMU"
HYPERVISOR_VERSION = 8002000

# [api] max_limit; nova pages hypervisors by id, in the compute nodes' order.
NOVA = Nova(default_dir="asc")


# oslo's is_uuid_like: 32 hex digits, dashes anywhere.


def _node_uuid(record: m.ServiceRecord) -> str:
    # A compute node has its own uuid in nova; ours is derived from its service's.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"stacklab-compute-node:{record.uuid}"))


def _records(session: Session) -> list[m.ServiceRecord]:
    return list(session.scalars(select(m.ServiceRecord).where(
        m.ServiceRecord.binary == "nova-compute").order_by(m.ServiceRecord.id)))


def _summary(call: Call, record: m.ServiceRecord) -> dict[str, Any]:
    service = compute(call)
    return {"id": _node_uuid(record) if call.version_at_least("2.53") else record.id,
            "hypervisor_hostname": record.host,
            "state": "up" if service.services.is_up(record) else "down",
            "status": "disabled" if record.disabled else "enabled"}


def _detail(call: Call, record: m.ServiceRecord) -> dict[str, Any]:
    service = compute(call)
    node = service.topology_node(record.host)
    body = _summary(call, record)
    body.update({
        "hypervisor_type": HYPERVISOR_TYPE, "hypervisor_version": HYPERVISOR_VERSION,
        "host_ip": node.addresses.get("management") or next(iter(node.addresses.values()), ""),
        "service": {"host": record.host, "disabled_reason": record.disabled_reason,
                    "id": record.uuid if call.version_at_least("2.53") else record.id},
    })
    if call.version_at_least("2.88"):
        # 2.88 folds the uptime call into the detail; a host that is down has none.
        body["uptime"] = host_uptime(service.clock.now(), record.created_at) \
            if service.services.is_up(record) else None
        return body
    used = service.usage_on_host(record.host)
    # nova's resource tracker counts the host's reserved memory as used.
    memory_used = used["memory_mb"] + RESERVED_HOST_MEMORY_MB
    cpu_info: Any = {"arch": "x86_64", "model": "Nehalem", "vendor": "Intel",
                     "topology": {"cells": 1, "sockets": 1, "cores": node.vcpus, "threads": 1},
                     "features": []}
    body.update({
        "vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.disk_gb,
        "vcpus_used": used["vcpus"], "memory_mb_used": memory_used,
        "local_gb_used": used["local_gb"], "free_ram_mb": node.memory_mb - memory_used,
        "free_disk_gb": node.disk_gb - used["local_gb"], "current_workload": 0,
        "running_vms": used["servers"], "disk_available_least": node.disk_gb - used["local_gb"],
        "cpu_info": cpu_info if call.version_at_least("2.28") else json.dumps(cpu_info),
    })
    return body


def _find(call: Call, session: Session, ident: str) -> m.ServiceRecord:
    """nova's ``_validate_id`` then the look-up: from 2.53 an id that is no uuid is a 400,
    before it an id that is no integer is simply not found."""
    if call.version_at_least("2.53"):
        try:
            uuid.UUID(ident)
        except ValueError:
            raise BadRequest(f"Invalid uuid {ident}") from None
    for record in _records(session):
        key = _node_uuid(record) if call.version_at_least("2.53") else str(record.id)
        if key == ident:
            return record
    raise NotFound(f"Hypervisor with ID '{ident}' could not be found.")


def _servers(session: Session, host: str) -> list[dict[str, str]]:
    """The servers on a host, as nova lists them: the hypervisor's name for each
    (``instance-%08x``), not the user's."""
    rows = session.execute(select(m.Instance.id, m.Instance.uuid).where(
        m.Instance.host == host, m.Instance.deleted.is_(False)).order_by(m.Instance.id))
    return [{"name": f"instance-{row.id:08x}", "uuid": row.uuid} for row in rows]


def _matching(session: Session, pattern: str) -> list[m.ServiceRecord]:
    """nova's ``compute_node_search_by_hypervisor``: host names containing ``pattern``."""
    found = [r for r in _records(session) if pattern.lower() in r.host.lower()]
    if not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return found


# The query parameters from 2.53 (nova's schema refuses any other there).
_QUERY_2_53 = frozenset({"limit", "marker", "hypervisor_hostname_pattern", "with_servers"})
_PATTERN = re.compile(r"^[a-zA-Z0-9-._]{1,255}$")
_STRICT_BOOL = {"true": True, "1": True, "on": True, "yes": True,
                "false": False, "0": False, "off": False, "no": False}


def _with_servers(call: Call) -> bool:
    """``with_servers`` (2.53+), read as oslo's strict ``bool_from_string``."""
    raw = call.query.get("with_servers")
    if raw is None or not call.version_at_least("2.53"):
        return False
    value = _STRICT_BOOL.get(raw.strip().lower())
    if value is None:
        raise BadRequest(f"Invalid input for query parameters with_servers. Value: {raw}. "
                         f"'{raw}' is not one of the accepted boolean strings")
    return value


def _check_query(call: Call, allowed: frozenset[str]) -> None:
    if not call.version_at_least("2.53"):
        return
    extra = sorted(set(call.query.keys()) - allowed)
    if extra:
        raise BadRequest("Invalid input for query parameters "
                         f"{extra[0]}. Value: {call.query[extra[0]]}. Additional properties "
                         f"are not allowed ('{extra[0]}' was unexpected)")


def _list(call: Call, detail: bool) -> dict[str, Any]:
    _check_query(call, _QUERY_2_53)
    with_servers = _with_servers(call)
    pattern = call.query.get("hypervisor_hostname_pattern") \
        if call.version_at_least("2.53") else None
    paged = call.version_at_least("2.33")
    path = "/v2.1/os-hypervisors/detail" if detail else "/v2.1/os-hypervisors"
    render = _detail if detail else _summary
    with compute(call).db.session() as session:
        if pattern is not None:
            if not _PATTERN.match(pattern):
                raise BadRequest("Invalid input for query parameters "
                                 f"hypervisor_hostname_pattern. Value: {pattern}.")
            if "limit" in call.query or "marker" in call.query:
                raise BadRequest("Paging over hypervisors with the hypervisor_hostname_pattern "
                                 "query parameter is not supported.")
            records = _matching(session, pattern)
            paged = False
        else:
            records = _records(session)
        # nova's hypervisors take limit and marker only, never a sort.
        request = PageRequest(NOVA.limit(call.query), call.query.get("marker"), ()) \
            if paged else None
        if request is not None:
            page = page_items(records, request, NOVA, id_of=lambda r: _ident(call, r))
            records = page.items
        body: dict[str, Any] = {"hypervisors": []}
        for record in records:
            entry = render(call, record)
            if with_servers:
                # 2.75: asked for, an empty list is shown rather than no key.
                servers = _servers(session, record.host)
                if servers or call.version_at_least("2.75"):
                    entry["servers"] = servers
            body["hypervisors"].append(entry)
    if request is not None:
        body.update(NOVA.links(page, query=call.query, url=call.url_for(path),
                               collection="hypervisors", id_of=lambda r: _ident(call, r)))
    return body


def _ident(call: Call, record: m.ServiceRecord) -> str:
    return _node_uuid(record) if call.version_at_least("2.53") else str(record.id)


@api.route("GET", "/v2.1/os-hypervisors", policy="os_compute_api:os-hypervisors:list",
           target=project_target, expected_errors=(400, 404))
async def list_hypervisors(call: Call) -> dict[str, Any]:
    return _list(call, detail=False)


@api.route("GET", "/v2.1/os-hypervisors/detail",
           policy="os_compute_api:os-hypervisors:list-detail", target=project_target,
           expected_errors=(400, 404))
async def list_hypervisors_detail(call: Call) -> dict[str, Any]:
    return _list(call, detail=True)


@api.route("GET", "/v2.1/os-hypervisors/statistics",
           policy="os_compute_api:os-hypervisors:statistics", target=project_target,
           max_version="2.87", expected_errors=())
async def hypervisor_statistics(call: Call) -> dict[str, Any]:
    fields = ("vcpus", "memory_mb", "local_gb", "vcpus_used", "memory_mb_used", "local_gb_used",
              "free_ram_mb", "free_disk_gb", "current_workload", "running_vms",
              "disk_available_least")
    with compute(call).db.session() as session:
        details = [_detail(call, r) for r in _records(session)]
    totals = {name: sum(d[name] for d in details) for name in fields}
    return {"hypervisor_statistics": {"count": len(details), **totals}}


@api.route("GET", "/v2.1/os-hypervisors/{hypervisor_id}",
           policy="os_compute_api:os-hypervisors:show", target=project_target,
           expected_errors=(400, 404))
async def show_hypervisor(call: Call) -> dict[str, Any]:
    _check_query(call, frozenset({"with_servers"}))
    with_servers = _with_servers(call)
    with compute(call).db.session() as session:
        record = _find(call, session, call.params["hypervisor_id"])
        body = _detail(call, record)
        if with_servers:
            servers = _servers(session, record.host)
            if servers or call.version_at_least("2.75"):
                body["servers"] = servers
        return {"hypervisor": body}


@api.route("GET", "/v2.1/os-hypervisors/{hypervisor_id}/uptime",
           policy="os_compute_api:os-hypervisors:uptime", target=project_target,
           max_version="2.87", expected_errors=(400, 404, 501))
async def hypervisor_uptime(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        record = _find(call, session, call.params["hypervisor_id"])
        body = _summary(call, record)
        if not service.services.is_up(record):
            raise BadRequest(f"Compute service of {record.host} is unavailable at this time.")
        body["uptime"] = host_uptime(service.clock.now(), record.created_at)
        return {"hypervisor": body}


def host_uptime(now: float, since: float) -> str:
    """What libvirt's driver reports: the host's ``uptime`` line, up since its service
    first registered (the lab's nodes boot with the cloud)."""
    clock = time.strftime("%H:%M:%S", time.gmtime(now))
    minutes = max(0, int(now - since)) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    up = f"{days} day{'s' if days != 1 else ''}, " if days else ""
    up += f"{hours:2d}:{mins:02d}" if hours else f"{mins} min"
    return f" {clock} up {up},  0 users,  load average: 0.00, 0.00, 0.00"


@api.route("GET", "/v2.1/os-hypervisors/{pattern}/search",
           policy="os_compute_api:os-hypervisors:search", target=project_target,
           max_version="2.52", expected_errors=404)
async def search_hypervisors(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        return {"hypervisors": [_summary(call, r)
                                for r in _matching(session, call.params["pattern"])]}


@api.route("GET", "/v2.1/os-hypervisors/{pattern}/servers",
           policy="os_compute_api:os-hypervisors:servers", target=project_target,
           max_version="2.52", expected_errors=404)
async def hypervisor_servers(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        hypervisors = []
        for record in _matching(session, call.params["pattern"]):
            entry = _summary(call, record)
            servers = _servers(session, record.host)
            if servers:
                entry["servers"] = servers
            hypervisors.append(entry)
        return {"hypervisors": hypervisors}
