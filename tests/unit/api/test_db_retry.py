"""oslo.db's retry pauses, as neutron configures them."""

from __future__ import annotations

import random

from stacklab.api.db_retry import DEADLOCK, NEUTRON, DbRetry
from stacklab.store.errors import DBConnectionError, DBDeadlock, DBDuplicateEntry


def test_without_jitter_the_pauses_double_up_to_the_cap() -> None:
    pauses = list(DbRetry(max_retries=7, retry_interval=1.0).pauses(random.Random(1)))
    assert pauses == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]


def test_neutrons_pauses_are_drawn_below_the_doubling_interval_and_repeat_by_seed() -> None:
    pauses = list(NEUTRON.pauses(random.Random(7)))
    assert len(pauses) == 20 and pauses[0] == 0.5
    for index, pause in enumerate(pauses[1:], start=1):
        assert 0 <= pause <= min(0.5 * 2 ** index, 10.0)
    assert pauses == list(NEUTRON.pauses(random.Random(7)))


def test_no_increase_keeps_the_first_interval() -> None:
    flat = DbRetry(max_retries=3, retry_interval=0.2, inc_retry_interval=False)
    assert list(flat.pauses(random.Random(0))) == [0.2, 0.2, 0.2]


def test_what_each_policy_runs_again() -> None:
    lost, deadlock, duplicate = (DBConnectionError(2013, "HY000", "Lost connection"),
                                 DBDeadlock("1213"), DBDuplicateEntry("1062"))
    # neutron_lib's retry_db_errors: all three; nova's and cinder's wrap_db_retry
    # (retry_on_deadlock): deadlocks only.
    assert all(NEUTRON.retries(error) for error in (lost, deadlock, duplicate))
    assert DEADLOCK.retries(deadlock)
    assert not DEADLOCK.retries(lost) and not DEADLOCK.retries(duplicate)
    assert not NEUTRON.retries(RuntimeError("not the database's"))
