"""Usage over a period, a host's resources and the audit periods, without HTTP."""

from __future__ import annotations

import datetime as dt

import pytest

from stacklab.api.errors import BadRequest
from stacklab.compute import usage
from stacklab.compute.usage import UsageRow

HOUR = 3600.0
DAY0 = dt.datetime(2026, 1, 10, tzinfo=dt.UTC).timestamp()
FLAVOR = {"name": "m1.small", "vcpus": 2, "memory_mb": 1024, "root_gb": 10, "ephemeral_gb": 5}


def _row(uuid: str, project: str, launched: float | None, terminated: float | None = None,
         state: str = "active") -> UsageRow:
    return UsageRow(uuid, f"vm-{uuid}", project, FLAVOR, state, launched, terminated)


def test_hours_are_clipped_to_the_period() -> None:
    begin, stop = usage.utc(DAY0), usage.utc(DAY0 + 10 * HOUR)
    rows = [
        _row("a", "p1", DAY0 - 5 * HOUR),                                # whole period
        _row("b", "p1", DAY0 + 2 * HOUR, DAY0 + 5 * HOUR, "deleted"),    # 3 h inside
        _row("c", "p2", DAY0 + 8 * HOUR),                                # last 2 h
        _row("d", "p2", None, state="building"),                         # never ran
    ]
    now = DAY0 + 20 * HOUR
    p1, p2 = usage.tenant_usages(rows, begin, stop, now, detailed=True)
    assert p1["tenant_id"] == "p1" and p1["total_hours"] == pytest.approx(13.0)
    assert p1["total_vcpus_usage"] == pytest.approx(26.0)
    assert p1["total_memory_mb_usage"] == pytest.approx(13 * 1024)
    assert p1["total_local_gb_usage"] == pytest.approx(13 * 15)
    assert (p1["start"], p1["stop"]) == ("2026-01-10T00:00:00.000000",
                                         "2026-01-10T10:00:00.000000")
    ended = p1["server_usages"][1]
    assert (ended["state"], ended["uptime"], ended["ended_at"]) == (
        "terminated", 3 * 3600, "2026-01-10T05:00:00.000000")
    assert p1["server_usages"][0]["uptime"] == 25 * 3600  # until now, not the period's end
    assert [s["hours"] for s in p2["server_usages"]] == [pytest.approx(2.0), 0.0]
    brief = usage.tenant_usages(rows, begin, stop, now, detailed=False)
    assert all("server_usages" not in s for s in brief)


def test_the_period_and_its_refusals() -> None:
    now = DAY0
    begin, stop = usage.period("2026-01-01T00:00:00", "2027-01-01 00:00:00.5", now)
    assert begin == dt.datetime(2026, 1, 1) and stop == usage.utc(now)  # no later than now
    with pytest.raises(BadRequest, match="cannot occur after the end"):
        usage.period("2026-01-09T00:00:00", "2026-01-08T00:00:00", now)
    with pytest.raises(BadRequest, match="Invalid datetime string"):
        usage.period("last week", None, now)


def test_a_page_of_servers_after_a_marker() -> None:
    rows = [_row(u, "p", DAY0) for u in "abc"]
    assert [r.uuid for r in usage.page(rows, 2, None)] == ["a", "b"]
    assert [r.uuid for r in usage.page(rows, 2, "b")] == ["c"]
    with pytest.raises(BadRequest, match="Marker z could not be found"):
        usage.page(rows, 2, "z")


def test_host_resources_rows() -> None:
    rows = usage.host_resources(
        "h", {"vcpus": 8, "memory_mb": 16384, "local_gb": 100},
        {"vcpus": 4, "memory_mb": 2560, "local_gb": 30},
        [("p1", 2, 1024, FLAVOR), ("p2", 2, 1024, FLAVOR), ("p1", 2, 1024, FLAVOR)])
    assert [r["resource"]["project"] for r in rows] == [
        "(total)", "(used_now)", "(used_max)", "p1", "p2"]
    assert rows[2]["resource"] == {"host": "h", "project": "(used_max)", "cpu": 6,
                                   "memory_mb": 3072, "disk_gb": 45}
    assert rows[3]["resource"]["cpu"] == 4


def test_audit_periods_are_the_last_whole_month() -> None:
    assert usage.last_audit_period(dt.datetime(2026, 3, 15, 12)) == (
        dt.datetime(2026, 2, 1), dt.datetime(2026, 3, 1))
    # On the first instant of a month, that month has not begun to end yet.
    assert usage.last_audit_period(dt.datetime(2026, 3, 1)) == (
        dt.datetime(2026, 1, 1), dt.datetime(2026, 2, 1))
    assert usage.last_audit_period(dt.datetime(2026, 1, 20)) == (
        dt.datetime(2025, 12, 1), dt.datetime(2026, 1, 1))
    assert usage.parse_audit_before("2026-01-20 10:00:00.25") == dt.datetime(
        2026, 1, 20, 10, 0, 0, 250000)
    with pytest.raises(BadRequest, match="Invalid timestamp for date 2026-01-20"):
        usage.parse_audit_before("2026-01-20")
    log = usage.audit_log(["c1", "c2"], dt.datetime(2025, 12, 1), dt.datetime(2026, 1, 1))
    assert log["overall_status"] == "0 of 2 hosts done. 0 errors."
    assert log["hosts_not_run"] == ["c1", "c2"]
    assert log["period_beginning"] == "2025-12-01 00:00:00"


def test_no_times_is_an_empty_period_at_now() -> None:
    begin, stop = usage.period(None, "", DAY0)
    assert begin == stop == usage.utc(DAY0)
    assert usage.tenant_usages([_row("a", "p", DAY0 - HOUR)], begin, stop, DAY0,
                               detailed=False)[0]["total_hours"] == 0
