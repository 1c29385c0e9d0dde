"""oslo.db's ``wrap_db_retry`` around a service's handlers: a request that meets a database
it cannot reach (``DBConnectionError``: MySQL's 2002, 2003, 2006, 2013, Galera's 1047) is run
again after a pause, up to ``max_retries`` times, before the error reaches the client.

neutron wraps every API controller method this way (neutron_lib.db.api: 20 retries, from
0.5 s, doubling with jitter, at most 10 s apart), so while HAProxy moves the database to a
Galera member that serves, networking calls take longer instead of failing. nova, cinder,
glance and keystone do not retry connection errors in their APIs.

A deadlock (``DBDeadlock``: MySQL 1213, which Galera's certification failures surface as,
and PostgreSQL's deadlock and serialization failures) is retried by every service, as
nova's and cinder's database APIs do with ``wrap_db_retry(retry_on_deadlock=True)``; a
duplicate key (``DBDuplicateEntry``: another request took the address or the VRID first)
only by neutron, whose retry_db_errors counts it retriable and whose handlers then pick
again.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from stacklab.store.errors import DBConnectionError, DBDeadlock, DBDuplicateEntry


@dataclass(frozen=True, slots=True)
class DbRetry:
    max_retries: int = 20
    retry_interval: float = 1.0
    inc_retry_interval: bool = True
    max_retry_interval: float = 10.0
    jitter: bool = False
    # Which errors are run again (oslo.db's retry_on_disconnect, retry_on_deadlock, and
    # neutron's exception_checker for DBDuplicateEntry).
    on_disconnect: bool = True
    on_deadlock: bool = True
    on_duplicate: bool = False

    def retries(self, error: BaseException) -> bool:
        """Whether ``error`` is one this policy runs the request again for."""
        if isinstance(error, DBConnectionError):
            return self.on_disconnect
        if isinstance(error, DBDeadlock):
            return self.on_deadlock
        return isinstance(error, DBDuplicateEntry) and self.on_duplicate

    def pauses(self, rng: random.Random) -> Iterator[float]:
        """The pause before each retry, as oslo.db draws them: the first is
        ``retry_interval``; then the interval doubles, a pause is drawn below it with
        jitter, and none is longer than ``max_retry_interval``."""
        pause = interval = self.retry_interval
        for _ in range(self.max_retries):
            yield pause
            if self.inc_retry_interval:
                interval *= 2
                pause = min(rng.uniform(0, interval) if self.jitter else interval,
                            self.max_retry_interval)


# neutron_lib.db.api's _retry_db_errors.
NEUTRON = DbRetry(max_retries=20, retry_interval=0.5, jitter=True, on_duplicate=True)
# nova's and cinder's wrap_db_retry(max_retries=5, retry_on_deadlock=True): what every
# other service's requests get.
DEADLOCK = DbRetry(max_retries=5, on_disconnect=False)
