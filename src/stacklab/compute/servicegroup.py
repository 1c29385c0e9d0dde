"""nova's service group: services heartbeat, and are up while their heartbeat is recent.

Defaults and rules are nova's DB driver (ha-semantics.md §5.1): a report every
``report_interval`` (10 s) after an initial delay of 5 s; a service is up
while its last heartbeat (or, before any, its creation) is at most
``service_down_time`` (60 s) old, and never while an operator forced it down.

Those seconds are the lab's (``lab_clock``, ``[stacklab] ha_time_scale``): the
reports are paced by it and a heartbeat's age is read on it, while the records
keep the wall clock's stamps (``updated_at`` is what clients see).

The reports ride on the control plane, as nova's do: nova-compute has no database
access, so its report is a call to nova-conductor over the bus (``Service.save``
through the conductor), which saves it through the internal VIP to a Galera member;
the conductors and schedulers save their own through that same way. A report that
gets no answer within ``rpc_response_timeout`` (the broker paused, no conductor
connected) or meets a database out of reach is lost, so with the control plane gone
for longer than ``service_down_time`` healthy computes look down (ha-semantics §4.3:
"Lost connection to nova-conductor for reporting service status.").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from stacklab.bus.interface import Bus, MessagingTimeout, Target, on_host
from stacklab.clock import Clock
from stacklab.compute import models as m
from stacklab.ha.heartbeats import INITIAL_REPORTING_DELAY, report_is_recent, save_own_report
from stacklab.ids import IdSource
from stacklab.store.database import Database, DBConnectionError

LOG = logging.getLogger("nova.servicegroup.drivers.db")
# How a nova-compute's report (host, binary) reaches the database.
Reporter = Callable[[str, str], Coroutine[Any, Any, None]]

# Binaries nova registers per role, and the topic each listens on.
TOPICS = {"nova-compute": "compute", "nova-scheduler": "scheduler",
          "nova-conductor": "conductor"}


def is_up(record: m.ServiceRecord | Any, lab_clock: Clock, service_down_time: float) -> bool:
    """``record`` is a service row, or any object with its forced_down, last_seen_up and
    created_at (the scheduler reads plain rows); its heartbeat's age is read on
    ``lab_clock``, in the lab's seconds."""
    if record.forced_down:
        return False
    return report_is_recent(record.last_seen_up, record.created_at, lab_clock,
                            service_down_time)


# Built once: building a statement costs more than running it (heartbeats run all day).
_SAVE_REPORT = update(m.ServiceRecord).where(
    m.ServiceRecord.host == bindparam("b_host"), m.ServiceRecord.binary == bindparam("b_binary"),
).values(last_seen_up=bindparam("b_now"), updated_at=bindparam("b_now"),
         report_count=m.ServiceRecord.report_count + 1)


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

    def save_report(self, host: str, binary: str) -> bool:
        """One service's report saved (nova's ``Service.save``: ``report_count += 1``), by
        whichever process does the saving; whether the service has a row."""
        now = self.clock.now()
        # One UPDATE of the changed columns (no read first).
        with self.db.connection() as connection:
            saved = connection.execute(_SAVE_REPORT, {"b_host": host, "b_binary": binary,
                                                      "b_now": now})
            return bool(saved.rowcount)

    async def run(self, reachable: Callable[[str], bool],
                  running: Callable[[str, str], bool] | None = None,
                  via_conductor: Reporter | None = None) -> None:
        """Report forever, at nova's pace (cancel the task to stop). ``via_conductor``: how
        a nova-compute's report reaches the database (over the bus, through a conductor);
        the other services save theirs from their own node."""
        await self.lab_clock.sleep(INITIAL_REPORTING_DELAY)
        in_flight: dict[tuple[str, str], asyncio.Task[None]] = {}
        while True:
            self.report_round(reachable, running, via_conductor, in_flight)
            await self.lab_clock.sleep(self.report_interval)

    def report_round(self, reachable: Callable[[str], bool],
                     running: Callable[[str, str], bool] | None,
                     via_conductor: Reporter | None,
                     in_flight: dict[tuple[str, str], asyncio.Task[None]]) -> None:
        """Each running service reports once; one whose last report still waits for its
        answer skips this turn (nova's looping call runs one report at a time)."""
        with self.db.connection() as connection:
            services = [(row.host, row.binary) for row in connection.execute(
                select(m.ServiceRecord.host, m.ServiceRecord.binary))]
        for host, binary in services:
            if not reachable(host) or (running is not None and not running(host, binary)):
                continue
            if via_conductor is None:
                self.save_report(host, binary)
                continue
            if binary != "nova-compute":
                self._save_own(host, binary)
                continue
            previous = in_flight.get((host, binary))
            if previous is not None and not previous.done():
                continue
            task = asyncio.get_running_loop().create_task(via_conductor(host, binary))
            in_flight[(host, binary)] = task

    def _save_own(self, host: str, binary: str) -> None:
        save_own_report(host, binary, host, lambda: int(self.save_report(host, binary)), LOG)

    def is_up(self, record: m.ServiceRecord) -> bool:
        return is_up(record, self.lab_clock, self.service_down_time)


def conductor_reporter(bus: Bus) -> Reporter:
    """How a nova-compute's report travels: a call from its node to a conductor, which
    saves it (nova's servicegroup DB driver, ``Service.save`` over the conductor API)."""

    async def report(host: str, binary: str) -> None:
        with on_host(host):
            try:
                await bus.call(Target("conductor"), "report_service_state", host=host,
                               binary=binary)
            except MessagingTimeout:
                LOG.warning("Lost connection to nova-conductor for reporting service status. "
                            "(%s on %s)", binary, host)
            except DBConnectionError as exc:
                LOG.warning("Lost connection to the database for reporting service status "
                            "(%s on %s): %s", binary, host, exc)
            except Exception:
                LOG.exception("Unexpected error while reporting service status")

    return report
