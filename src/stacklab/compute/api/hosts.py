"""``/os-hosts`` (deprecated, gone from 2.43): nova's hosts, what each holds, and the
host-level actions the libvirt driver does not implement (501)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import NotFound, NotImplementedOperation
from stacklab.api.service import Call
from stacklab.compute import models as m
from stacklab.compute import usage
from stacklab.compute.api.base import api, compute, no_target
from stacklab.compute.scheduler.hosts import RESERVED_HOST_MEMORY_MB

_LAST = "2.42"
_STATE = {"type": "string",
          "enum": ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"]}
UPDATE = {"type": "object", "additionalProperties": False,
          "properties": {"status": _STATE, "maintenance_mode": _STATE},
          "anyOf": [{"required": ["status"]}, {"required": ["maintenance_mode"]}]}
# What nova answers when its driver (libvirt) raises NotImplementedError.
_UNSUPPORTED = "The requested functionality is not supported."


def _compute_record(session: Session, host: str) -> m.ServiceRecord:
    """The host's nova-compute: nova reaches a host through its cell's host mapping, which
    only computes have."""
    record = session.scalar(select(m.ServiceRecord).where(
        m.ServiceRecord.binary == "nova-compute", m.ServiceRecord.host == host))
    if record is None:
        raise NotFound(f"Host '{host}' is not mapped to any cell")
    return record


@api.route("GET", "/v2.1/os-hosts", policy="os_compute_api:os-hosts:list",
           target=no_target, max_version=_LAST, expected_errors=())
async def list_hosts(call: Call) -> dict[str, Any]:
    zone = call.query.get("zone")
    hosts = []
    for service_zone, record in compute(call).service_zones():
        # nova lists the enabled services, of one zone when asked (an empty zone is none).
        if record.disabled or (zone and service_zone != zone):
            continue
        hosts.append({"host_name": record.host, "service": record.topic, "zone": service_zone})
    return {"hosts": hosts}


@api.route("GET", "/v2.1/os-hosts/{host_name}", policy="os_compute_api:os-hosts:show",
           target=no_target, max_version=_LAST, expected_errors=404)
async def show_host(call: Call) -> dict[str, Any]:
    service = compute(call)
    host = call.params["host_name"]
    with service.db.session() as session:
        _compute_record(session, host)
        servers = [(row.project_id, row.vcpus, row.memory_mb, row.flavor or {})
                   for row in session.execute(select(
                       m.Instance.project_id, m.Instance.vcpus, m.Instance.memory_mb,
                       m.Instance.flavor).where(m.Instance.host == host,
                                                m.Instance.deleted.is_(False))
                       .order_by(m.Instance.id))]
    node = service.topology_node(host)
    used = service.usage_on_host(host)
    totals = {"vcpus": node.vcpus, "memory_mb": node.memory_mb, "local_gb": node.disk_gb}
    # The compute node's own figures: its reserved memory counts as used.
    used_now = {"vcpus": used["vcpus"], "memory_mb": used["memory_mb"] + RESERVED_HOST_MEMORY_MB,
                "local_gb": used["local_gb"]}
    return {"host": usage.host_resources(host, totals, used_now, servers)}


def _unsupported(call: Call) -> None:
    """Check the host as nova-api does, then answer as the libvirt driver makes it."""
    with compute(call).db.session() as session:
        _compute_record(session, call.params["host_name"])
    raise NotImplementedOperation(_UNSUPPORTED)


@api.route("PUT", "/v2.1/os-hosts/{host_name}", policy="os_compute_api:os-hosts:update",
           target=no_target, schema=UPDATE, max_version=_LAST,
           expected_errors=(400, 404, 501))
async def update_host(call: Call) -> dict[str, Any]:
    _unsupported(call)
    return {}


@api.route("GET", "/v2.1/os-hosts/{host_name}/reboot", policy="os_compute_api:os-hosts:reboot",
           target=no_target, max_version=_LAST, expected_errors=(400, 404, 501))
async def reboot_host(call: Call) -> dict[str, Any]:
    _unsupported(call)
    return {}


@api.route("GET", "/v2.1/os-hosts/{host_name}/shutdown",
           policy="os_compute_api:os-hosts:shutdown", target=no_target,
           max_version=_LAST, expected_errors=(400, 404, 501))
async def shutdown_host(call: Call) -> dict[str, Any]:
    _unsupported(call)
    return {}


@api.route("GET", "/v2.1/os-hosts/{host_name}/startup", policy="os_compute_api:os-hosts:start",
           target=no_target, max_version=_LAST, expected_errors=(400, 404, 501))
async def startup_host(call: Call) -> dict[str, Any]:
    _unsupported(call)
    return {}
