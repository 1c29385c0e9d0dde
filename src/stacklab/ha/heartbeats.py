"""The heartbeat rules nova's and cinder's services share (``oslo.service`` reporting, the
servicegroup DB driver): a first report some seconds after start, then one every
``report_interval``; a service is up while its last report, or its creation before any,
is at most ``service_down_time`` old. The ages are read on the lab's clock, while rows keep
wall-clock stamps (``updated_at`` is what clients see)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from stacklab.clock import Clock
from stacklab.ha.route import working_on
from stacklab.store.database import DBConnectionError

# nova/service.py and cinder/service.py: the first report waits for the service to start.
INITIAL_REPORTING_DELAY = 5.0


def report_is_recent(last_report: float | None, created: float, lab_clock: Clock,
                     service_down_time: float) -> bool:
    """Whether a service whose last report is ``last_report`` (None before its first)
    counts as up, in the lab's seconds."""
    seen = last_report if last_report is not None else created
    return abs(lab_clock.now() - lab_clock.from_wall(seen)) <= service_down_time


def save_own_report(node: str, binary: str, host: str, save: Callable[[], int],
                    log: logging.Logger) -> int:
    """A service that writes the database itself saves its report from its own node
    (through the internal VIP to a Galera member); one that cannot reach the database is
    lost, with the warning the service logs. Returns how many rows were saved."""
    try:
        with working_on(node):
            return save()
    except DBConnectionError as exc:
        log.warning("Lost connection to the database for reporting service status "
                    "(%s on %s): %s", binary, host, exc)
        return 0
