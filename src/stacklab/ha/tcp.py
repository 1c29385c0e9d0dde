"""A TCP connection's handshake over a lab link that may be slow or lossy.

Linux's client retransmits an unanswered SYN after its initial RTO (1 s,
``TCP_TIMEOUT_INIT``), doubling each time; the connection is up one round trip after the
first SYN that gets through and is answered. Whoever connects (HAProxy to a backend, a
check) gives up at its own connect timeout.
"""

from __future__ import annotations

from collections.abc import Callable

SYN_RTO_INIT = 1.0  # TCP_TIMEOUT_INIT

# One packet one way: its delay, or None when it does not arrive.
Send = Callable[[], float | None]


def handshake(there: Send, back: Send, timeout: float) -> float | None:
    """Seconds from the first SYN until the connection is up, or None when no SYN and its
    answer get through within ``timeout``."""
    sent_at, rto = 0.0, SYN_RTO_INIT
    while sent_at < timeout:
        out = there()
        if out is not None:
            answer = back()
            if answer is not None and sent_at + out + answer <= timeout:
                return sent_at + out + answer
        sent_at += rto
        rto = min(rto * 2, RTO_MAX)
    return None


# Linux's smallest retransmission timeout on an established connection (TCP_RTO_MIN), and
# how many times it retransmits before the connection is given up (net.ipv4.tcp_retries2).
RTO_MIN = 0.2
RTO_MAX = 120.0
RETRIES2 = 15


def exchange(there: Send, back: Send, rto: float = RTO_MIN) -> float | None:
    """Seconds from sending a request on an established connection until its answer is
    back, the request retransmitted (RTO doubling) until one copy and its answer get
    through; None when ``RETRIES2`` retransmissions were not enough (the connection dies)."""
    sent_at = 0.0
    for _ in range(RETRIES2 + 1):
        out = there()
        if out is not None:
            answer = back()
            if answer is not None:
                return sent_at + out + answer
        sent_at += rto
        rto = min(rto * 2, RTO_MAX)
    return None


def deliver(there: Send, back: Send, rto: float = RTO_MIN) -> float | None:
    """Seconds from sending a segment on an established connection until its first copy
    arrives (one way: what a frame published to the broker, or delivered by it, takes).
    The sender retransmits (RTO doubling) until a copy and its ACK get through; None when
    ``RETRIES2`` retransmissions were not enough: the connection dies, and whether the
    peer got the segment is unknown to the sender."""
    sent_at = 0.0
    arrived: float | None = None
    for _ in range(RETRIES2 + 1):
        out = there()
        if out is not None:
            if arrived is None:
                arrived = sent_at + out
            if back() is not None:
                return arrived
        sent_at += rto
        rto = min(rto * 2, RTO_MAX)
    return None
