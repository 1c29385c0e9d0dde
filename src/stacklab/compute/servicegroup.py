"""nova's service group: services heartbeat, and are up while their heartbeat is recent.

Defaults and rules are nova's DB driver (ha-semantics.md §5.1): a report every
``report_interval`` (10 s) after an initial delay of 5 s; a service is up
while its last heartbeat (or, before any, its creation) is at most
``service_down_time`` (60 s) old, and never while an operator forced it down.

Those seconds are the lab's (``lab_clock``, ``[stacklab] ha_time_scale``): the
reports are paced by it and a heartbeat's age is read on it, while the records
keep the wall clock's stamps (``updated_at`` is what clients see).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.clock import Clock
from stacklab.compute import models as m
from stacklab.ids import IdSource
from stacklab.store.database import Database

INITIAL_REPORTING_DELAY = 5.0
# Binaries nova registers per role, and the topic each listens on.
TOPICS = {"nova-compute": "compute", "nova-scheduler": "scheduler",
          "nova-conductor": "conductor"}


def is_up(record: m.ServiceRecord | Any, lab_clock: Clock, service_down_time: float) -> bool:
    """``record`` is a service row, or any object with its forced_down, last_seen_up and
    created_at (the scheduler reads plain rows); its heartbeat's age is read on
    ``lab_clock``, in the lab's seconds."""
    if record.forced_down:
        return False
    last_heartbeat = record.last_seen_up if record.last_seen_up is not None \
        else record.created_at
    return abs(lab_clock.now() - lab_clock.from_wall(last_heartbeat)) <= service_down_time


class ServiceGroup:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, *, report_interval: float,
                 service_down_time: float, lab_clock: Clock | None = None) -> None:
        self.db = db
        # Stamps the records (wall time).
        self.clock = clock
        # Paces the reports and ages the heartbeats: the lab's time.
        self.lab_clock = lab_clock or clock
        self.ids = ids
        self.report_interval = report_interval
        self.service_down_time = service_down_time

    def register(self, session: Session, hosts: Iterable[tuple[str, str]]) -> None:
        """Make sure each (host, binary) has its row, as a starting service creates it."""
        existing = {(r.host, r.binary) for r in session.scalars(select(m.ServiceRecord))}
        for host, binary in hosts:
            if (host, binary) not in existing:
                session.add(m.ServiceRecord(
                    uuid=self.ids.uuid(), host=host, binary=binary, topic=TOPICS[binary],
                    created_at=self.clock.now(), updated_at=None))

    def heartbeat(self, reachable: Callable[[str], bool],
                  running: Callable[[str, str], bool] | None = None) -> int:
        """One round of reports: every service on a reachable host reports, unless its
        process (``running(host, binary)``) is stopped. Returns how many."""
        now = self.clock.now()
        count = 0
        with self.db.session() as session:
            for record in session.scalars(select(m.ServiceRecord)):
                if reachable(record.host) and (running is None
                                               or running(record.host, record.binary)):
                    record.last_seen_up = now
                    record.updated_at = now
                    record.report_count += 1
                    count += 1
        return count

    async def run(self, reachable: Callable[[str], bool],
                  running: Callable[[str, str], bool] | None = None) -> None:
        """Report forever, at nova's pace (cancel the task to stop)."""
        await self.lab_clock.sleep(INITIAL_REPORTING_DELAY)
        while True:
            self.heartbeat(reachable, running)
            await self.lab_clock.sleep(self.report_interval)

    def is_up(self, record: m.ServiceRecord) -> bool:
        return is_up(record, self.lab_clock, self.service_down_time)
