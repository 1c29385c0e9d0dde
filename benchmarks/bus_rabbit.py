#!/usr/bin/env python3
"""The bus on a real RabbitMQ (``[DEFAULT] transport_url``) against the in-process bus: an
RPC call's round trip, casts per second (sent and handled), and a notification's latency
from ``notify`` to a subscriber's callback.

Both buses in one process on the real clock, an endpoint and a subscriber of their own; the
broker is the machine's (127.0.0.1:5672, guest/guest, or STACKLAB_BENCH_RABBIT_URL without a
vhost), in a vhost made for the run with ``rabbitmqctl`` and deleted after. Each figure is
the median of the per-batch medians (the casts: of the batches' rates).

    python benchmarks/bus_rabbit.py --quick   # a few seconds
    python benchmarks/bus_rabbit.py           # the recorded figures
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from stacklab.bus import InProcessBus, Notification, Target
from stacklab.bus.rabbit import RabbitBus
from stacklab.clock import RealClock

# Wall-clock measurement is the point here: the determinism rule is for the server's core.
now = time.perf_counter

SERVER = os.environ.get("STACKLAB_BENCH_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
TARGET = Target("bench", "controller1.openstack.local")


class Endpoint:
    def __init__(self) -> None:
        self.casts = 0
        self.done: asyncio.Event | None = None
        self.expected = 0

    def ping(self, value: int) -> int:
        return value

    def note(self, value: int) -> None:
        self.casts += 1
        if self.done is not None and self.casts >= self.expected:
            self.done.set()


async def calls(bus: Any, size: int) -> float:
    times = []
    for index in range(size):
        started = now()
        assert await bus.call(TARGET, "ping", value=index) == index
        times.append(now() - started)
    return statistics.median(times)


async def casts(bus: Any, endpoint: Endpoint, size: int) -> float:
    endpoint.casts, endpoint.expected, endpoint.done = 0, size, asyncio.Event()
    started = now()
    for index in range(size):
        bus.cast_nowait(TARGET, "note", value=index)
    await endpoint.done.wait()
    return size / (now() - started)


async def notifications(bus: Any, seen: list[float], size: int) -> float:
    times = []
    for index in range(size):
        count = len(seen)
        started = now()
        await bus.notify("nova-compute", "compute.instance.update", {"index": index})
        while len(seen) == count:
            await asyncio.sleep(0)
        times.append(seen[-1] - started)
    return statistics.median(times)


async def measure(bus: Any, batches: int, size: int) -> dict[str, float]:
    endpoint = Endpoint()
    bus.listen(TARGET, endpoint)
    seen: list[float] = []

    def arrived(_: Notification) -> None:
        seen.append(now())

    bus.subscribe("compute.instance.*", arrived)
    if isinstance(bus, RabbitBus):
        await bus.drain()
    await calls(bus, 20)  # warm up: connection, reply queue, exchanges
    rtt, rate, latency = [], [], []
    for _ in range(batches):
        rtt.append(await calls(bus, size))
        rate.append(await casts(bus, endpoint, size * 5))
        latency.append(await notifications(bus, seen, size))
    return {"call_ms": statistics.median(rtt) * 1000, "casts_per_s": statistics.median(rate),
            "notify_ms": statistics.median(latency) * 1000}


def ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    batches, size = (3, 50) if args.quick else (9, 200)
    vhost = f"stacklab_bench_{uuid.uuid4().hex[:8]}"
    ctl("add_vhost", vhost)
    ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    try:
        async def run() -> dict[str, dict[str, float]]:
            rabbit = RabbitBus(SERVER.rstrip("/") + "/" + vhost,
                               exchanges={"bench": "nova"}, publishers={"nova-compute": "nova"})
            try:
                on_broker = await measure(rabbit, batches, size)
            finally:
                await rabbit.aclose()
            in_process = await measure(InProcessBus(RealClock()), batches, size)
            return {"in process": in_process, "RabbitMQ": on_broker}

        figures = asyncio.run(run())
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True,
                       check=False, timeout=60)
    print(f"{'bus':<12} {'call round trip':>16} {'casts/s':>10} {'notify -> subscriber':>21}")
    for name, values in figures.items():
        print(f"{name:<12} {values['call_ms']:>13.3f} ms {values['casts_per_s']:>10.0f} "
              f"{values['notify_ms']:>18.3f} ms")


if __name__ == "__main__":
    main()
