"""``/os-simple-tenant-usage`` and ``/os-instance_usage_audit_log``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.api.errors import NotFound
from stacklab.api.pagination import Nova, next_link
from stacklab.api.service import Call
from stacklab.compute import models as m
from stacklab.compute import usage
from stacklab.compute.api.base import api, compute, project_target

# [api] max_limit: nova reads at most this many servers per report, paged from 2.40.
NOVA = Nova()


def _report(call: Call, project_id: str | None, detailed: bool,
            collection: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    service = compute(call)
    now = service.clock.now()
    begin, stop = usage.period(call.query.get("start"), call.query.get("end"), now)
    paged = call.version_at_least("2.40")
    limit = NOVA.limit(call.query) if paged else NOVA.max_limit
    marker = call.query.get("marker") if paged else None
    assert limit is not None
    with service.db.session() as session:
        rows = usage.page(usage.active_in_window(session, begin, stop, project_id),
                          limit, marker)
    summaries = usage.tenant_usages(rows, begin, stop, now, detailed=detailed)
    links: dict[str, Any] = {}
    # As nova's collection links: a full page points past its last server.
    if paged and rows and len(rows) == limit:
        url = call.url_for(f"/v2.1/{collection}")
        links = {"rel": "next", "href": next_link(url, call.query, rows[-1].uuid)}
    return summaries, links


@api.route("GET", "/v2.1/os-simple-tenant-usage",
           policy="os_compute_api:os-simple-tenant-usage:list", target=project_target,
           expected_errors=400)
async def list_usage(call: Call) -> dict[str, Any]:
    detailed = call.query.get("detailed", "0") == "1"
    summaries, link = _report(call, None, detailed, "os-simple-tenant-usage")
    body: dict[str, Any] = {"tenant_usages": summaries}
    if link:
        body["tenant_usages_links"] = [link]
    return body


def _project_target(call: Call) -> dict[str, Any]:
    return {"project_id": call.params["project_id"], "user_id": call.context.user_id}


@api.route("GET", "/v2.1/os-simple-tenant-usage/{project_id}",
           policy="os_compute_api:os-simple-tenant-usage:show", target=_project_target,
           expected_errors=400)
async def show_usage(call: Call) -> dict[str, Any]:
    project = call.params["project_id"]
    summaries, link = _report(call, project, True, f"os-simple-tenant-usage/{project}")
    body: dict[str, Any] = {"tenant_usage": summaries[0] if summaries else {}}
    if link:
        body["tenant_usage_links"] = [link]
    return body


@api.route("GET", "/v2.1/os-simple-tenant-usage/", expected_errors=404)
async def no_project(call: Call) -> None:
    """A project id of "" matches none of nova's routes: its router's 404, where stacklab's
    would say 501."""
    raise NotFound("The resource could not be found.")


def _compute_hosts(call: Call) -> list[str]:
    with compute(call).db.session() as session:
        return list(session.scalars(select(m.ServiceRecord.host).where(
            m.ServiceRecord.binary == "nova-compute").order_by(m.ServiceRecord.id)))


@api.route("GET", "/v2.1/os-instance_usage_audit_log",
           policy="os_compute_api:os-instance-usage-audit-log:list", target=project_target,
           expected_errors=())
async def list_audit_logs(call: Call) -> dict[str, Any]:
    begin, end = usage.last_audit_period(usage.utc(compute(call).clock.now()))
    return {"instance_usage_audit_logs": usage.audit_log(_compute_hosts(call), begin, end)}


@api.route("GET", "/v2.1/os-instance_usage_audit_log/{before}",
           policy="os_compute_api:os-instance-usage-audit-log:show", target=project_target,
           expected_errors=400)
async def show_audit_log(call: Call) -> dict[str, Any]:
    begin, end = usage.last_audit_period(usage.parse_audit_before(call.params["before"]))
    return {"instance_usage_audit_log": usage.audit_log(_compute_hosts(call), begin, end)}
