"""The lab across processes: one runtime's faults and one central log, whatever the shape.

Every process of the multi-process shape builds the whole cloud, so each has its own
``Runtime`` (powered nodes, stopped processes, the network's faults) and its own
``CentralLogStore``. The lab's API is served by keystone's process(es) only. Two
things make them one lab again, without any service knowing the shape:

* ``SharedLab``: a change of the runtime in a process that serves the lab's API (a
  fault asked of the API, the CLI or a scenario) is written to the store
  (``stacklab_lab_state``: the faults in force and a version) and cast to every process
  on a fanout topic (``stacklab_lab``). Each process makes its own runtime match it
  (``Runtime.converge``), so its followers react as in one process: a powered-off
  compute node's nova-compute process stops reporting, its RPC servers stop consuming.
  A process that starts later (or missed a cast while the broker was away) reads the
  store: at its start and then every ``POLL`` seconds.
* ``LogShipper``: each process's records, tagged with the process, are cast in batches
  to the processes that serve the lab's API (``stacklab_logs``), which keep them in
  their central store, so ``/stacklab/v1/logs?request_id=...`` finds a request's records
  in nova-api's and nova-compute's processes alike. The outbox is bounded and shipping
  never blocks a service: what does not fit, or what the broker does not take within
  ``SEND_TIMEOUT``, is dropped and counted (``dropped``).

The embedded shape (one process) builds neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from stacklab.bus.interface import Bus, Target
from stacklab.lab.models import LabState
from stacklab.observability.logging import CentralLogStore
from stacklab.store.database import Database
from stacklab.topology import Change, Follower, Runtime

LOG = logging.getLogger(__name__)

# The fanout topics every process (the lab's state), or every process serving the lab's
# API (the logs), consumes: no binary of the lab runs them (cloud.rabbit_bus).
LAB_TOPIC = "stacklab_lab"
LOGS_TOPIC = "stacklab_logs"
SHARED_TOPICS = frozenset({LAB_TOPIC, LOGS_TOPIC})

_ROW = 1
# The lab's control plane's loggers (ha/): keepalived, HAProxy, Galera, RabbitMQ, Pacemaker.
CONTROL_PLANE_LOGGERS = ("stacklab.ha.",)


def read_state(db: Database | Engine) -> tuple[int, dict[str, Any]]:
    """The version and the faults kept in the store ((0, {}) when none were written);
    ``db`` a cloud's store, or an engine of its own (the supervisor's)."""
    # The store's own engine, not a session: the lab's bookkeeping is out of band (its
    # console), so a fault that leaves no Galera member does not keep itself unread.
    engine = db if isinstance(db, Engine) else db.engine
    with engine.begin() as connection:
        row = connection.execute(
            select(LabState.version, LabState.faults).where(LabState.id == _ROW)).first()
    if row is None:
        return 0, {}
    return int(row.version), dict(row.faults or {})


def powered_off(faults: Mapping[str, Any]) -> frozenset[str]:
    """The nodes (FQDNs) that ``faults`` (as ``Runtime.faults`` shows them) power off.

    Only ``nodes_down`` takes a node's power, whatever asked for it (``stacklab node
    down``, a power fault, a scenario, Pacemaker's fencing: all go through
    ``Runtime.power_off``). A stopped service (``stopped_services``), a node cut off a
    network or from other nodes, a slow or lossy link leave the node powered."""
    return frozenset(str(fqdn) for fqdn in faults.get("nodes_down", ()) or ())


def stopped_services(faults: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """The (node FQDN, binary) pairs that ``faults`` stop (``Runtime.stop_service``:
    ``stacklab fault stop NODE SERVICE``, the lab API's ``.../services/{service}/stop``, a
    scenario), whether or not their node is powered."""
    return frozenset((str(entry["node"]), str(entry["service"]))
                     for entry in faults.get("services_stopped", ()) or ())


def write_state(db: Database, faults: Mapping[str, Any]) -> int:
    """Keep ``faults`` as the lab's, one version on from the last; the new version."""
    with db.engine.begin() as connection:
        current = connection.execute(
            select(LabState.version).where(LabState.id == _ROW).with_for_update()).scalar()
        values = {"faults": dict(faults), "updated_at": time.time()}
        if current is None:
            version = 1
            connection.execute(insert(LabState).values(id=_ROW, version=version, **values))
        else:
            version = int(current) + 1
            connection.execute(update(LabState).where(LabState.id == _ROW)
                               .values(version=version, **values))
    return version


def clear_state(db: Database) -> None:
    """Forget the faults of a previous run: a cloud starts with every node up."""
    with db.engine.begin() as connection:
        connection.execute(delete(LabState))


class _LabEndpoint:
    """What the ``stacklab_lab`` fanout calls (only public methods are reachable)."""

    def __init__(self, shared: SharedLab) -> None:
        self._shared = shared

    def changed(self, version: int, faults: dict[str, Any]) -> None:
        self._shared.apply(version, faults)


class SharedLab:
    """This process's runtime kept equal to the lab's, and (``writes``: a process that
    serves the lab's API) its own changes made the lab's."""

    POLL = 2.0

    def __init__(self, runtime: Runtime, db: Database, bus: Bus, *, writes: bool) -> None:
        self.runtime = runtime
        self.db = db
        self.bus = bus
        self.writes = writes
        self.version = 0
        self._converging = False
        runtime.subscribe(Follower("shared lab", changed=self._changed))
        bus.listen(Target(LAB_TOPIC), _LabEndpoint(self))

    def _changed(self, change: Change) -> None:
        if self._converging or not self.writes:
            return
        faults = self.runtime.faults()
        try:
            self.version = write_state(self.db, faults)
        except Exception:
            # The store itself away (not the lab's Galera: this is out of band): the
            # change stays this process's; the followers after this one still hear of it.
            LOG.exception("The lab's state could not be written: the other processes "
                          "do not see this change")
            return
        self.bus.cast_nowait(Target(LAB_TOPIC, fanout=True), "changed",
                             version=self.version, faults=faults)

    def apply(self, version: int, faults: Mapping[str, Any]) -> bool:
        """Make this runtime the lab's as of ``version`` (an older one changes nothing);
        whether it changed."""
        if version <= self.version:
            return False
        self.version = version
        self._converging = True
        try:
            changed = self.runtime.converge(faults)
        finally:
            self._converging = False
        if changed:
            in_force = {key: value for key, value in self.runtime.faults().items() if value}
            LOG.info("The lab's faults (version %d) are now this process's: %s", version,
                     in_force or "none")
        return changed

    def catch_up(self) -> bool:
        """Read the lab's state from the store and apply it if it is newer."""
        version, faults = read_state(self.db)
        return self.apply(version, faults)

    async def run(self) -> None:
        """Read the store now and then: what a cast did not bring (the broker was away)."""
        while True:
            await asyncio.sleep(self.POLL)
            try:
                self.catch_up()
            except Exception:  # the store away: the next round tries again
                LOG.debug("Reading the lab's state from the store failed", exc_info=True)


class _LogsEndpoint:
    def __init__(self, logs: CentralLogStore, sender: str) -> None:
        self._logs = logs
        self._sender = sender

    def records(self, sender: str, records: list[dict[str, Any]]) -> None:
        if sender != self._sender:  # this process's own are in its store already
            self._logs.add(records)


class LogShipper:
    """This process's records, cast in batches to the processes serving the lab's API."""

    CAPACITY = 10000
    BATCH = 500
    INTERVAL = 0.2
    SEND_TIMEOUT = 5.0

    def __init__(self, logs: CentralLogStore, bus: Bus, *, process: str, sender: str,
                 collects: bool) -> None:
        self.logs = logs
        self.bus = bus
        self.sender = sender
        self.outbox: deque[dict[str, Any]] = deque()
        self.sent = 0
        self.dropped = 0
        logs.process = process
        logs.forward = self.offer
        if collects:
            bus.listen(Target(LOGS_TOPIC), _LogsEndpoint(logs, sender))

    def offer(self, record: dict[str, Any]) -> None:
        """Queue one record (a logging handler's call: it never waits).

        The lab's control plane runs in every process on the same faults, so what it logs
        on its own (a VIP moving, a Galera member leaving: no request's) would be in the
        central store once per process: those lines stay in their process, and the lab
        API's processes show their own (as ``/stacklab/v1/ha``). A request's (HAProxy's
        line for it) is shipped."""
        if (str(record.get("logger", "")).startswith(CONTROL_PLANE_LOGGERS)
                and not record.get("request_id")):
            return
        if len(self.outbox) >= self.CAPACITY:
            self.dropped += 1
            return
        self.outbox.append(record)

    async def ship(self) -> None:
        """Send what is queued, a batch at a time; a batch the broker does not take in
        time is dropped (counted), and the rest waits for the next round."""
        while self.outbox:
            batch = [self.outbox.popleft()
                     for _ in range(min(self.BATCH, len(self.outbox)))]
            try:
                await asyncio.wait_for(self.bus.cast(
                    Target(LOGS_TOPIC, fanout=True), "records", sender=self.sender,
                    records=batch), self.SEND_TIMEOUT)
            except Exception:
                self.dropped += len(batch)
                return
            self.sent += len(batch)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.INTERVAL)
            with contextlib.suppress(Exception):
                await self.ship()
