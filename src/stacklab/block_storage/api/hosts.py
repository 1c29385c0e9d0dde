"""os-hosts (cinder/api/contrib/hosts.py, deprecated but served): the enabled cinder
services by host, and what one cinder-volume host holds, by project."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import NotFound
from stacklab.api.service import Call
from stacklab.block_storage import models as m
from stacklab.block_storage.api.base import api, block_storage, project_target, timestamp
from stacklab.block_storage.servicegroup import VOLUME

_POLICY = "volume_extension:hosts"


@api.route("GET", "/v3/os-hosts", policy=_POLICY, target=project_target,
           expected_errors=())
async def list_hosts(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    zone = call.query.get("zone")
    hosts = []
    # Only enabled services are listed, so every row says "enabled".
    for record in service.list_services():
        if record.disabled or (zone and record.availability_zone != zone):
            continue
        hosts.append({
            "host_name": record.host, "service": record.topic,
            "zone": record.availability_zone,
            "service-status": "available" if service.services.is_up(record)
            else "unavailable",
            "service-state": "enabled", "last-update": timestamp(record.updated_at)})
    return {"hosts": hosts}


@api.route("GET", "/v3/os-hosts/{host}", policy=_POLICY, target=project_target,
           expected_errors=(404,))
async def show_host(call: Call) -> dict[str, Any]:
    wanted = call.params["host"]
    service = block_storage(call)
    records = [r for r in service.list_services(host=wanted, binary=VOLUME) if not r.disabled]
    if not records:
        raise NotFound(f"Service {VOLUME} could not be found on host {wanted}.")
    backend = records[0].host
    with service.db.session() as session:
        # A backend's volumes are on its pools (host#pool).
        volumes = [v for v in session.scalars(select(m.Volume))
                   if v.host is not None and (v.host == backend
                                              or v.host.startswith(f"{backend}#"))]
        on_host = {v.id for v in volumes}
        snapshots = [s for s in session.scalars(select(m.Snapshot))
                     if s.volume_id in on_host]
    rows = [_row(wanted, "(total)", volumes, snapshots)]
    for project in dict.fromkeys(v.project_id for v in volumes):
        rows.append(_row(wanted, project, [v for v in volumes if v.project_id == project],
                         [s for s in snapshots if s.project_id == project]))
    return {"host": rows}


def _row(host: str, project: str, volumes: list[m.Volume],
         snapshots: list[m.Snapshot]) -> dict[str, Any]:
    # Counts and sizes as strings, as cinder's view gives them.
    return {"resource": {
        "host": host, "project": project, "volume_count": str(len(volumes)),
        "total_volume_gb": str(sum(v.size for v in volumes)),
        "snapshot_count": str(len(snapshots)),
        "total_snapshot_gb": str(sum(s.volume_size for s in snapshots))}}
