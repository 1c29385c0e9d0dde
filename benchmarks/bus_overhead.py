#!/usr/bin/env python3
"""What riding on the simulated RabbitMQ costs the bus: RPC calls and casts through the
lab's broker (each message asks whether its sender's and its consumer's nodes are
connected, a reply whether both ends still are) against the same bus with no broker
under it, as before.

One cloud's bus and control plane (the real clock, an event loop, no HTTP); an endpoint
listening as a conductor would on controller1, the messages sent from compute1. Batches
alternate between the two ways; each figure is the median of the per-batch medians, the
overhead the median of the ratios of neighbouring batches.

    python benchmarks/bus_overhead.py --quick   # a second or two
    python benchmarks/bus_overhead.py           # the recorded figures
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from stacklab.bus import Target, on_host
from stacklab.cloud import Cloud
from stacklab.config import Config, lab_defaults

# Wall-clock measurement is the point here: the determinism rule is for the server's core.
now = time.perf_counter

SENDER = "compute1.openstack.local"
SERVER = "controller1.openstack.local"
TARGET = Target("bench", SERVER)


class Endpoint:
    def __init__(self) -> None:
        self.casts = 0

    def ping(self, value: int) -> int:
        return value

    def note(self, value: int) -> None:
        self.casts += 1


async def calls(cloud: Cloud, size: int) -> float:
    times = []
    with on_host(SENDER):
        for index in range(size):
            started = now()
            assert await cloud.bus.call(TARGET, "ping", value=index) == index
            times.append(now() - started)
    return statistics.median(times)


async def casts(cloud: Cloud, size: int) -> float:
    """Per cast, from sending to its handler having run."""
    started = now()
    with on_host(SENDER):
        for index in range(size):
            await cloud.bus.cast(TARGET, "note", value=index)
    await cloud.bus.drain()
    return (now() - started) / size


async def measure(cloud: Cloud, batches: int, size: int) -> list[tuple[str, float, float,
                                                                       float]]:
    endpoint = Endpoint()
    listener = cloud.bus.listen(TARGET, endpoint)
    broker = cloud.bus.transport
    rows = []
    try:
        for label, work in (("call (request and reply)", calls),
                            ("cast (sent and handled)", casts)):
            before: list[float] = []
            through: list[float] = []
            for index in range(batches):
                for ride in ((False, True) if index % 2 == 0 else (True, False)):
                    cloud.bus.transport = broker if ride else None
                    (through if ride else before).append(await work(cloud, size))
            ratio = statistics.median(t / b for b, t in zip(before, through, strict=True))
            rows.append((label, statistics.median(before), statistics.median(through),
                         ratio - 1))
    finally:
        cloud.bus.transport = broker
        listener.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller batches")
    parser.add_argument("--batches", type=int, default=None)
    parser.add_argument("--size", type=int, default=None, help="messages per batch")
    args = parser.parse_args()
    batches = args.batches or (4 if args.quick else 20)
    size = args.size or (200 if args.quick else 1000)
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    config.stacklab.seed = 1
    cloud = Cloud(config)
    cloud.start("http://stacklab.bench")
    try:
        rows = asyncio.run(measure(cloud, batches, size))
    finally:
        cloud.stop()
    print(f"{batches} batches of {size} messages per way, in-process, "
          f"{SENDER} -> {SERVER}\n")
    print("| message | no broker (us) | through the lab's RabbitMQ (us) | overhead |")
    print("|---|---:|---:|---:|")
    for label, before, through, overhead in rows:
        print(f"| {label} | {before * 1e6:.1f} | {through * 1e6:.1f} | "
              f"{overhead * 100:+.1f} % |")


if __name__ == "__main__":
    main()
