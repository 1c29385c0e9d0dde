"""A TCP handshake over a slow or lossy link: SYNs retransmitted after 1, 2, 4 … s; a segment
on an established connection retransmitted from 200 ms until it and its ACK get through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacklab.ha.tcp import deliver, exchange, handshake


def packets(*delays: float | None) -> Iterator[float | None]:
    yield from delays


def test_a_clean_link_connects_in_one_round_trip() -> None:
    assert handshake(lambda: 0.0, lambda: 0.0, 10.0) == 0.0
    assert handshake(lambda: 0.2, lambda: 0.3, 10.0) == 0.5


def test_lost_syns_are_retransmitted_after_one_then_two_seconds() -> None:
    out = packets(None, None, 0.1)
    # SYNs at 0, 1 and 3 s.
    assert handshake(lambda: next(out), lambda: 0.1, 10.0) == pytest.approx(3.2)
    lost_answer = packets(0.1, 0.1)
    back = packets(None, 0.1)
    assert handshake(lambda: next(lost_answer), lambda: next(back), 10.0) == pytest.approx(1.2)


def test_nothing_within_the_connect_timeout_is_a_timeout() -> None:
    assert handshake(lambda: None, lambda: 0.0, 10.0) is None
    assert handshake(lambda: 3.0, lambda: 3.0, 2.0) is None  # too slow for the timeout
    out = packets(None, None, 0.1)
    assert handshake(lambda: next(out), lambda: 0.1, 2.0) is None  # the third SYN is at 3 s


def test_an_exchange_retransmits_from_200_ms_and_gives_up_after_15_retries() -> None:
    assert exchange(lambda: 0.1, lambda: 0.1) == pytest.approx(0.2)
    out = packets(None, None, 0.1)
    # Sent at 0, 0.2 and 0.6 s.
    assert exchange(lambda: next(out), lambda: 0.1) == pytest.approx(0.8)
    sent: list[int] = []

    def lost() -> None:
        sent.append(1)
        return None

    assert exchange(lost, lambda: 0.0) is None
    assert len(sent) == 16  # the first send and tcp_retries2 retransmissions


def test_a_segment_arrives_with_its_first_copy_that_gets_through() -> None:
    assert deliver(lambda: 0.05, lambda: 0.05) == pytest.approx(0.05)
    out = packets(None, None, 0.05)
    # Copies at 0, 0.2 and 0.6 s: the third arrives at 0.65.
    assert deliver(lambda: next(out), lambda: 0.05) == pytest.approx(0.65)
    # The first copy arrived but its ACK was lost: the retransmission changes nothing for
    # the receiver, which had it at 0.05.
    back = packets(None, 0.05)
    assert deliver(lambda: 0.05, lambda: next(back)) == pytest.approx(0.05)


def test_a_segment_never_acknowledged_kills_the_connection() -> None:
    assert deliver(lambda: None, lambda: 0.0) is None
    assert deliver(lambda: 0.0, lambda: None) is None
