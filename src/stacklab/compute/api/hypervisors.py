"""``/os-hypervisors``: the lab's compute nodes, their capacity and state."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.scheduler.hosts import RESERVED_HOST_MEMORY_MB

# The simulated hypervisor reports itself as libvirt/QEMU does (8.2.0 encoded as nova does).
HYPERVISOR_TYPE = "QEMU"
HYPERVISOR_VERSION = 8002000


# oslo's is_uuid_like: 32 hex digits, dashes anywhere.
_UUID_LIKE = re.compile(r"^(?:-*[0-9a-fA-F]){32}-*$")


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
        body["uptime"] = None
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
    for record in _records(session):
        key = _node_uuid(record) if call.version_at_least("2.53") else str(record.id)
        if key == ident:
            return record
    if call.version_at_least("2.53") and not _UUID_LIKE.match(ident):
        raise BadRequest(f"Invalid uuid {ident}")  # before 2.53 any unknown id is a 404
    raise NotFound(f"Hypervisor with ID '{ident}' could not be found.")


@api.route("GET", "/v2.1/os-hypervisors", policy="os_compute_api:os-hypervisors:list",
           target=project_target, expected_errors=(400, 404))
async def list_hypervisors(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        return {"hypervisors": [_summary(call, r) for r in _records(session)]}


@api.route("GET", "/v2.1/os-hypervisors/detail",
           policy="os_compute_api:os-hypervisors:list-detail", target=project_target,
           expected_errors=(400, 404))
async def list_hypervisors_detail(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        return {"hypervisors": [_detail(call, r) for r in _records(session)]}


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
    with compute(call).db.session() as session:
        return {"hypervisor": _detail(call, _find(call, session, call.params["hypervisor_id"]))}
