"""oslo.db's retry pauses, as neutron configures them."""

from __future__ import annotations

import random

from stacklab.api.db_retry import NEUTRON, DbRetry


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
