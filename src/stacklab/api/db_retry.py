"""oslo.db's ``wrap_db_retry`` around a service's handlers: a request that meets a database
it cannot reach (``DBConnectionError``: MySQL's 2002, 2003, 2006, 2013, Galera's 1047) is run
again after a pause, up to ``max_retries`` times, before the error reaches the client.

neutron wraps every API controller method this way (neutron_lib.db.api: 20 retries, from
0.5 s, doubling with jitter, at most 10 s apart), so while HAProxy moves the database to a
Galera member that serves, networking calls take longer instead of failing. nova, cinder,
glance and keystone do not retry connection errors in their APIs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DbRetry:
    max_retries: int = 20
    retry_interval: float = 1.0
    inc_retry_interval: bool = True
    max_retry_interval: float = 10.0
    jitter: bool = False

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
NEUTRON = DbRetry(max_retries=20, retry_interval=0.5, jitter=True)
