"""nova's service group in virtual time: heartbeats, service_down_time, forced down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from stacklab.clock import ScaledClock, VirtualClock
from stacklab.compute import models as m
from stacklab.compute.servicegroup import INITIAL_REPORTING_DELAY, ServiceGroup
from stacklab.ids import IdSource
from stacklab.store.database import Database

HOSTS = [("compute1.openstack.local", "nova-compute"),
         ("compute2.openstack.local", "nova-compute"),
         ("controller1.openstack.local", "nova-scheduler")]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def group(clock: VirtualClock) -> Iterator[ServiceGroup]:
    db = Database("sqlite://")
    db.upgrade()
    service_group = ServiceGroup(db, clock, IdSource(1), report_interval=10,
                                 service_down_time=60)
    with db.session() as session:
        service_group.register(session, HOSTS)
    yield service_group
    db.dispose()


def states(group: ServiceGroup) -> dict[str, bool]:
    with group.db.session() as session:
        return {f"{r.host}/{r.binary}": group.is_up(r)
                for r in session.scalars(select(m.ServiceRecord))}


def test_a_new_service_counts_as_up_from_its_creation(group: ServiceGroup,
                                                      clock: VirtualClock) -> None:
    assert all(states(group).values())
    clock.advance(60)
    assert all(states(group).values())
    clock.advance(0.5)
    assert not any(states(group).values())


def test_a_silent_host_goes_down_after_service_down_time(group: ServiceGroup,
                                                         clock: VirtualClock) -> None:
    down = {"compute2.openstack.local"}

    async def scenario() -> None:
        task = asyncio.create_task(group.run(lambda host: host not in down))
        # 5 s initial delay, then a report every 10 s: at 120 s compute2 has been
        # silent since its creation (over 60 s), the others reported at 115 s.
        await clock.run_for(120)
        task.cancel()

    asyncio.run(scenario())
    assert states(group) == {
        "compute1.openstack.local/nova-compute": True,
        "compute2.openstack.local/nova-compute": False,
        "controller1.openstack.local/nova-scheduler": True,
    }
    with group.db.session() as session:
        counts = {r.host: r.report_count for r in session.scalars(select(m.ServiceRecord))}
    expected_reports = int((120 - INITIAL_REPORTING_DELAY) // 10) + 1
    assert counts["compute1.openstack.local"] == expected_reports
    assert counts["compute2.openstack.local"] == 0


def test_down_is_seen_exactly_at_the_boundary(group: ServiceGroup, clock: VirtualClock) -> None:
    group.heartbeat(lambda host: True)
    clock.advance(60)
    assert all(states(group).values())  # elapsed == service_down_time is still up
    clock.advance(0.001)
    assert not any(states(group).values())


def test_forced_down_wins_over_a_fresh_heartbeat(group: ServiceGroup) -> None:
    with group.db.session() as session:
        record = session.scalar(select(m.ServiceRecord).where(
            m.ServiceRecord.host == "compute1.openstack.local"))
        assert record is not None
        record.forced_down = True
    group.heartbeat(lambda host: True)
    assert states(group)["compute1.openstack.local/nova-compute"] is False


def test_register_is_idempotent(group: ServiceGroup) -> None:
    with group.db.session() as session:
        group.register(session, HOSTS)
    assert len(states(group)) == 3


def test_on_the_labs_clock_reports_and_down_time_run_at_its_pace(clock: VirtualClock) -> None:
    db = Database("sqlite://")
    db.upgrade()
    lab = ScaledClock(clock, 0.25)  # [stacklab] ha_time_scale: four times faster
    group = ServiceGroup(db, clock, IdSource(1), report_interval=10, service_down_time=60,
                         lab_clock=lab)
    with db.session() as session:
        group.register(session, HOSTS)

    async def scenario() -> None:
        task = asyncio.create_task(group.run(lambda host: True))
        # The first report after 5 lab seconds (1.25 s), then one every 10 (2.5 s).
        await clock.run_for(1.25 + 2.5 * 4)
        task.cancel()

    asyncio.run(scenario())
    with db.session() as session:
        rows = list(session.scalars(select(m.ServiceRecord)))
        # Five reports, the last stamped with the wall clock's time.
        assert {(r.report_count, r.updated_at) for r in rows} == {(5, clock.now())}
    # Up for 60 lab seconds after it (15 s of wall time), down after.
    clock.advance(15)
    assert all(states(group).values())
    clock.advance(0.001)
    assert not any(states(group).values())
    db.dispose()
