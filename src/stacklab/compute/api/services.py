"""``/os-services``: nova's services, up or down by their heartbeats; disable, force down."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call
from stacklab.clock import isotime
from stacklab.compute import models as m
from stacklab.compute.aggregates import AggregateView
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.schemas import SERVICE_ACTION, SERVICE_UPDATE


def render_service(call: Call, record: m.ServiceRecord,
                   aggregates: list[AggregateView] | None = None) -> dict[str, Any]:
    service = compute(call)
    body: dict[str, Any] = {
        "id": record.uuid if call.version_at_least("2.53") else record.id,
        "binary": record.binary, "host": record.host,
        "zone": service.service_zone(record, aggregates),
        "status": "disabled" if record.disabled else "enabled",
        "state": "up" if service.services.is_up(record) else "down",
        "updated_at": isotime(record.updated_at).removesuffix("Z") + ".000000"
        if record.updated_at else None,
        "disabled_reason": record.disabled_reason,
    }
    if call.version_at_least("2.11"):
        body["forced_down"] = record.forced_down
    return body


@api.route("GET", "/v2.1/os-services", policy="os_compute_api:os-services:list",
           target=project_target, expected_errors=())
async def list_services(call: Call) -> dict[str, Any]:
    service = compute(call)
    query = select(m.ServiceRecord).order_by(m.ServiceRecord.id)
    for name in ("host", "binary"):
        if call.query.get(name):
            query = query.where(getattr(m.ServiceRecord, name) == call.query[name])
    with service.db.session() as session:
        views = service.aggregates.views(session)
        return {"services": [render_service(call, r, views) for r in session.scalars(query)]}


def _by_host_binary(session: Session, host: str, binary: str) -> m.ServiceRecord:
    record = session.scalar(select(m.ServiceRecord).where(
        m.ServiceRecord.host == host, m.ServiceRecord.binary == binary))
    if record is None:
        raise NotFound(f"Service {binary} on host {host} could not be found.")
    return record


@api.route("PUT", "/v2.1/os-services/{action}", policy="os_compute_api:os-services:update",
           target=project_target, schema=SERVICE_ACTION, max_version="2.52",
           expected_errors=(400, 404))
async def update_service(call: Call) -> dict[str, Any]:
    """Before 2.53: PUT /os-services/{disable|disable-log-reason|enable|force-down}."""
    action = call.params["action"]
    body = call.body
    if "host" not in body or "binary" not in body:
        raise BadRequest("Invalid input for field/attribute: 'host' and 'binary' are required")
    service = compute(call)
    with service.db.session() as session:
        record = _by_host_binary(session, body["host"], body["binary"])
        result: dict[str, Any] = {"host": record.host, "binary": record.binary}
        if action in ("disable", "disable-log-reason"):
            record.disabled = True
            if action == "disable-log-reason":
                if not body.get("disabled_reason"):
                    raise BadRequest("Missing disabled reason field")
                record.disabled_reason = body["disabled_reason"]
                result["disabled_reason"] = record.disabled_reason
            result["status"] = "disabled"
        elif action == "enable":
            record.disabled, record.disabled_reason = False, None
            result["status"] = "enabled"
        elif action == "force-down" and call.version_at_least("2.11"):
            if not isinstance(body.get("forced_down"), bool):
                raise BadRequest("Invalid input for field/attribute forced_down.")
            record.forced_down = body["forced_down"]
            result["forced_down"] = record.forced_down
        else:
            raise NotFound(f"Unknown action {action}")
        record.updated_at = service.clock.now()
        return {"service": result}


@api.route("PUT", "/v2.1/os-services/{action}", policy="os_compute_api:os-services:update",
           target=project_target, schema=SERVICE_UPDATE, min_version="2.53",
           expected_errors=(400, 404))
async def update_service_by_id(call: Call) -> dict[str, Any]:
    """From 2.53: PUT /os-services/{service uuid} with the changes."""
    service = compute(call)
    changes = call.body
    if changes.get("disabled_reason") and changes.get("status") != "disabled":
        raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
    with service.db.session() as session:
        record = session.scalar(select(m.ServiceRecord).where(
            m.ServiceRecord.uuid == call.params["action"]))
        if record is None:
            raise NotFound(f"Service {call.params['action']} could not be found.")
        if "status" in changes:
            record.disabled = changes["status"] == "disabled"
            record.disabled_reason = changes.get("disabled_reason") if record.disabled else None
        if "forced_down" in changes:
            record.forced_down = changes["forced_down"]
        record.updated_at = service.clock.now()
        return {"service": render_service(call, record)}


@api.route("DELETE", "/v2.1/os-services/{service_id}", policy="os_compute_api:os-services:delete",
           target=project_target, status=204, expected_errors=(400, 404, 409))
async def delete_service(call: Call) -> None:
    service = compute(call)
    ident = call.params["service_id"]
    with service.db.session() as session:
        column = m.ServiceRecord.uuid if call.version_at_least("2.53") else m.ServiceRecord.id
        key: Any = ident if call.version_at_least("2.53") else _int(ident)
        record = session.scalar(select(m.ServiceRecord).where(column == key))
        if record is None:
            raise NotFound(f"Service {ident} could not be found.")
        session.delete(record)


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"Invalid uuid {text}") from None
