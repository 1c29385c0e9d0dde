"""What the servers used over a period (``os-simple-tenant-usage``), what a host holds
(``os-hosts/{host}``) and the instance usage audit periods (``os-instance_usage_audit_log``).

Times are nova's: naive UTC datetimes, rendered with microseconds and no zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest
from stacklab.compute import models as m

# nova's _parse_datetime tries these, in order.
_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def utc(moment: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).replace(tzinfo=None)


def render_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")


def parse_period_time(text: str | None, now: float) -> dt.datetime:
    """A ``start`` or ``end`` parameter: now when absent or empty, else one of nova's
    three formats (a 400 otherwise)."""
    if not text:
        return utc(now)
    for form in _FORMATS:
        try:
            return dt.datetime.strptime(text, form)
        except ValueError:
            continue
    raise BadRequest("Invalid datetime string: Datetime is in invalid format")


def period(start: str | None, end: str | None, now: float) -> tuple[dt.datetime, dt.datetime]:
    """The period asked for, its end brought back to now (nova counts nothing ahead)."""
    begin, stop = parse_period_time(start, now), parse_period_time(end, now)
    # Neither given, nova reads its clock twice and gets an instant-long period; a clock
    # read once gives an empty one, which is no caller's mistake.
    if not begin < stop and (start or end):
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return begin, min(stop, utc(now))


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One server's columns, as the usage report reads them."""

    uuid: str
    name: str
    project_id: str
    flavor: Mapping[str, Any]
    vm_state: str
    launched_at: float | None
    terminated_at: float | None


def active_in_window(session: Session, begin: dt.datetime, stop: dt.datetime,
                     project_id: str | None) -> list[UsageRow]:
    """nova's ``instance_get_active_by_window_joined``: servers launched before the end
    and not terminated before the start, deleted ones included, oldest first."""
    begin_s = begin.replace(tzinfo=dt.UTC).timestamp()
    stop_s = stop.replace(tzinfo=dt.UTC).timestamp()
    query = (select(m.Instance.uuid, m.Instance.name, m.Instance.project_id, m.Instance.flavor,
                    m.Instance.vm_state, m.Instance.launched_at, m.Instance.terminated_at)
             .where(or_(m.Instance.terminated_at.is_(None), m.Instance.terminated_at > begin_s),
                    m.Instance.launched_at < stop_s)
             .order_by(m.Instance.created_at, m.Instance.id))
    if project_id is not None:
        query = query.where(m.Instance.project_id == project_id)
    return [UsageRow(*row) for row in session.execute(query)]


def page(rows: Sequence[UsageRow], limit: int, marker: str | None) -> list[UsageRow]:
    """The servers after ``marker`` (a server uuid; an unknown one is a 400), at most
    ``limit`` of them."""
    start = 0
    if marker is not None:
        at = next((i for i, row in enumerate(rows) if row.uuid == marker), None)
        if at is None:
            raise BadRequest(f"Marker {marker} could not be found.")
        start = at + 1
    return list(rows[start:start + limit])


def _hours(row: UsageRow, begin: dt.datetime, stop: dt.datetime) -> float:
    if row.launched_at is None:
        return 0.0
    launched = utc(row.launched_at)
    terminated = utc(row.terminated_at) if row.terminated_at is not None else None
    if (terminated is not None and terminated < begin) or launched > stop:
        return 0.0
    end = min(stop, terminated) if terminated is not None else stop
    return (end - max(launched, begin)).total_seconds() / 3600.0


def tenant_usages(rows: Iterable[UsageRow], begin: dt.datetime, stop: dt.datetime,
                  now: float, *, detailed: bool) -> list[dict[str, Any]]:
    """One summary per project (in the order its first server comes), with each server's
    usage when ``detailed``."""
    summaries: dict[str, dict[str, Any]] = {}
    for row in rows:
        flavor = row.flavor or {}
        hours = _hours(row, begin, stop)
        launched = utc(row.launched_at or 0)
        ended = utc(row.terminated_at) if row.terminated_at is not None else None
        uptime = (ended or utc(now)) - launched
        server = {
            "hours": hours, "flavor": flavor.get("name", ""), "instance_id": row.uuid,
            "name": row.name, "tenant_id": row.project_id,
            "memory_mb": int(flavor.get("memory_mb", 0)),
            "local_gb": int(flavor.get("root_gb", 0)) + int(flavor.get("ephemeral_gb", 0)),
            "vcpus": int(flavor.get("vcpus", 0)),
            "started_at": render_time(launched),
            "ended_at": render_time(ended) if ended is not None else None,
            "state": "terminated" if ended is not None else row.vm_state,
            "uptime": max(0, int(uptime.total_seconds())),
        }
        summary = summaries.get(row.project_id)
        if summary is None:
            summary = summaries[row.project_id] = {
                "tenant_id": row.project_id, "total_local_gb_usage": 0,
                "total_vcpus_usage": 0, "total_memory_mb_usage": 0, "total_hours": 0,
                "start": render_time(begin), "stop": render_time(stop)}
            if detailed:
                summary["server_usages"] = []
        summary["total_local_gb_usage"] += server["local_gb"] * hours
        summary["total_vcpus_usage"] += server["vcpus"] * hours
        summary["total_memory_mb_usage"] += server["memory_mb"] * hours
        summary["total_hours"] += hours
        if detailed:
            summary["server_usages"].append(server)
    return list(summaries.values())


# -- what a host holds (os-hosts/{host}) ------------------------------------------------


def host_resources(host: str, totals: Mapping[str, int], used_now: Mapping[str, int],
                   servers: Iterable[tuple[str, int, int, Mapping[str, Any]]]
                   ) -> list[dict[str, Any]]:
    """nova's host resource rows: ``(total)``, ``(used_now)`` (the compute node's
    figures), ``(used_max)`` (the servers' flavors summed), then one per project.

    ``servers`` are (project, vcpus, memory_mb, flavor) of the host's servers.
    """
    def row(project: str, cpu: int, memory: int, disk: int) -> dict[str, Any]:
        return {"resource": {"host": host, "project": project, "cpu": cpu,
                             "memory_mb": memory, "disk_gb": disk}}

    rows = [row("(total)", totals["vcpus"], totals["memory_mb"], totals["local_gb"]),
            row("(used_now)", used_now["vcpus"], used_now["memory_mb"], used_now["local_gb"])]
    by_project: dict[str, list[int]] = {}
    maximum = [0, 0, 0]
    for project, vcpus, memory, flavor in servers:
        disk = int(flavor.get("root_gb", 0)) + int(flavor.get("ephemeral_gb", 0))
        sums = by_project.setdefault(project, [0, 0, 0])
        for target in (sums, maximum):
            target[0] += vcpus
            target[1] += memory
            target[2] += disk
    rows.append(row("(used_max)", *maximum))
    rows.extend(row(project, *sums) for project, sums in by_project.items())
    return rows


# -- instance usage audit (os-instance_usage_audit_log) ---------------------------------


def last_audit_period(before: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """nova's ``last_completed_audit_period`` for ``[DEFAULT] instance_usage_audit_period``
    ``month`` (its default): the last whole month ending before ``before``."""
    end = dt.datetime(before.year, before.month, 1)
    if end >= before:
        end = _month_before(end)
    return _month_before(end), end


def _month_before(moment: dt.datetime) -> dt.datetime:
    if moment.month == 1:
        return moment.replace(year=moment.year - 1, month=12)
    return moment.replace(month=moment.month - 1)


def parse_audit_before(text: str) -> dt.datetime:
    """The ``before`` of ``GET /os-instance_usage_audit_log/{before}``."""
    form = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
    try:
        return dt.datetime.strptime(text, form)
    except ValueError:
        raise BadRequest(f"Invalid timestamp for date {text}") from None


def audit_log(hosts: Sequence[str], begin: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The audit of one period across the computes. ``[DEFAULT] instance_usage_audit`` is
    off (nova's default), so no compute has run it: every host is "not run"."""
    return {
        "period_beginning": str(begin), "period_ending": str(end),
        "num_hosts": len(hosts), "num_hosts_done": 0, "num_hosts_running": 0,
        "num_hosts_not_run": len(hosts), "hosts_not_run": list(hosts),
        "total_instances": 0, "total_errors": 0,
        "overall_status": ("ALL" if not hosts else f"0 of {len(hosts)}")
        + " hosts done. 0 errors.",
        "log": {},
    }
