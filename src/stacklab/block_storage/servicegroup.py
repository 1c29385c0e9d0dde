"""cinder's services: which run where, their heartbeats, and whether each is up.

cinder-scheduler runs on every node that runs the process (the controllers); cinder-volume
runs one service per enabled backend on each of its nodes, named ``<host>@<backend>``
where the host is the backend's ``backend_host`` or the node's name (cinder/cmd/volume.py),
so two nodes with one ``backend_host`` are one service, active/passive.

Each service reports every ``report_interval`` (10 s) while its process runs on a powered
node (cinder/service.py ``report_state``: ``updated_at`` and ``report_count``); it is up
while that report is at most ``service_down_time`` (60 s) old (cinder/utils.py
``service_expired_time``). As nova's service group here (compute/servicegroup.py), the
seconds are the lab's: reports paced and ages read on ``lab_clock``, stamps in wall time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from stacklab.block_storage import models as m
from stacklab.clock import Clock
from stacklab.ha.heartbeats import INITIAL_REPORTING_DELAY, report_is_recent, save_own_report
from stacklab.ids import IdSource
from stacklab.store.database import Database

LOG = logging.getLogger("cinder.service")

SCHEDULER = "cinder-scheduler"
VOLUME = "cinder-volume"
BACKUP = "cinder-backup"
# The topic each binary's RPC server consumes (cinder/common/constants.py).
TOPICS = {SCHEDULER: "cinder-scheduler", VOLUME: "cinder-volume", BACKUP: "cinder-backup"}


# Built once: building a statement costs more than running it (heartbeats run all day).
_SAVE_REPORT = update(m.VolumeService).where(
    m.VolumeService.host == bindparam("b_host"), m.VolumeService.binary == bindparam("b_binary"),
).values(updated_at=bindparam("b_now"), report_count=m.VolumeService.report_count + 1,
         node=bindparam("b_node"))


@dataclass(frozen=True, slots=True)
class ServiceProcess:
    """One cinder service process: its binary, the host it reports as, its node."""

    binary: str
    host: str
    node: str
    zone: str

    @property
    def topic(self) -> str:
        return TOPICS[self.binary]


def is_up(record: m.VolumeService, lab_clock: Clock, service_down_time: float) -> bool:
    """cinder's ``Service.is_up``: the last report (or, before any, the creation) is no
    older than ``service_down_time``, read in the lab's seconds."""
    return report_is_recent(record.updated_at, record.created_at, lab_clock,
                            service_down_time)


class VolumeServices:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, *, report_interval: float,
                 service_down_time: float, lab_clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock
        self.lab_clock = lab_clock or clock
        self.ids = ids
        self.report_interval = report_interval
        self.service_down_time = service_down_time

    def register(self, session: Session, processes: Iterable[ServiceProcess]) -> None:
        """Each (host, binary) gets its row once, as a starting cinder service creates it;
        a second node of one ``backend_host`` finds the row already there."""
        existing = {(r.host, r.binary): r for r in session.scalars(select(m.VolumeService))}
        for process in processes:
            if (process.host, process.binary) in existing:
                continue
            record = m.VolumeService(
                uuid=self.ids.uuid(), host=process.host, binary=process.binary,
                topic=process.topic, node=process.node, availability_zone=process.zone,
                created_at=self.clock.now(), updated_at=None, modified_at=None)
            session.add(record)
            existing[(process.host, process.binary)] = record

    def heartbeat(self, processes: Iterable[ServiceProcess],
                  running: Callable[[str, str], bool]) -> int:
        """One round of reports: each process running on its node saves its own report for
        its host (the node that reports last is the one the row names), from that node:
        through the internal VIP to a Galera member, as cinder's services write the
        database themselves. A report that cannot reach the database is lost. Returns how
        many were saved."""
        saved = 0
        for process in processes:
            if not running(process.node, process.binary):
                continue
            saved += save_own_report(process.node, process.binary, process.host,
                                     partial(self._save, process), LOG)
        return saved

    def _save(self, process: ServiceProcess) -> int:
        # One UPDATE, as cinder's Service.save writes the changed columns (no read first).
        with self.db.connection() as connection:
            saved = connection.execute(_SAVE_REPORT, {
                "b_host": process.host, "b_binary": process.binary,
                "b_now": self.clock.now(), "b_node": process.node})
            return 1 if saved.rowcount else 0

    async def run(self, processes: Callable[[], Iterable[ServiceProcess]],
                  running: Callable[[str, str], bool]) -> None:
        """Report forever, at cinder's pace (cancel the task to stop)."""
        await self.lab_clock.sleep(INITIAL_REPORTING_DELAY)
        while True:
            self.heartbeat(processes(), running)
            await self.lab_clock.sleep(self.report_interval)

    def is_up(self, record: m.VolumeService) -> bool:
        return is_up(record, self.lab_clock, self.service_down_time)
