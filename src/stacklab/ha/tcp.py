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
        rto *= 2
    return None
