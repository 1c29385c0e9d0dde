"""The cyclic garbage collector held off while a large response is built.

A list of 10,000 ports allocates some 100,000 dicts and lists that all live until the body
is sent. Each few hundred allocations start a collection, and as the survivors pile up the
collector keeps deciding on full ones, each walking every object of the cloud (measured in a
process without ``gc.freeze``: close to half of the request's CPU time). Even in the server,
whose startup objects are frozen, the first collection after the build walks the whole body.
The bodies hold no cycles (refcounting frees them), so nothing is lost by collecting after
them: on an event loop the collector comes back once the loop turns again, by when the
response has been encoded and its body dropped.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside, nor (on an event loop) until the loop's next turn;
    nested pauses leave it to the outermost."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        try:
            asyncio.get_running_loop().call_soon(gc.enable)
        except RuntimeError:  # no loop: nothing else runs before the caller goes on
            gc.enable()
