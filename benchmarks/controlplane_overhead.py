#!/usr/bin/env python3
"""What the lab's request path costs: each API request through the simulated VIP holder,
its HAProxy and (for the store) the Galera block, against the same requests sent straight
to a controller.

One in-process cloud (ASGI, no socket, the real clock), one client; batches alternate
between the two ways on the same cloud, so that its state (tokens, rows) is the same for
both. Each figure is the median of the per-batch medians; the overhead is the median of
the ratios of neighbouring batches (a pair is measured within a few milliseconds, so a
machine busy with other work disturbs both alike). Last, the request path's own steps
timed alone: entering (VIP holder, HAProxy's choice) and the store's gate (per session).

    python benchmarks/controlplane_overhead.py --quick   # a few seconds
    python benchmarks/controlplane_overhead.py           # the recorded figures
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import httpx

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.config import Config, lab_defaults
from stacklab.ha import route as routes
from stacklab.ha.route import Routed

# Wall-clock measurement is the point here: the determinism rule is for the server's core.
now = time.perf_counter

AUTH = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
REQUESTS = [
    ("GET /identity/v3 (no token, no store)", "GET", "/identity/v3", None),
    ("GET /v3/auth/tokens (validate)", "GET", "/identity/v3/auth/tokens", None),
    ("GET /compute/v2.1/flavors/detail", "GET", "/compute/v2.1/flavors/detail", None),
    ("GET /networking/v2.0/networks", "GET", "/networking/v2.0/networks", None),
    ("POST /v3/auth/tokens (issue)", "POST", "/identity/v3/auth/tokens", AUTH),
]


def routed(cloud: Cloud, through_lab: bool) -> None:
    """Through the VIP, HAProxy and Galera, or straight to a controller and the store."""
    cloud.controlplane.enabled = through_lab
    cloud.db.gate = cloud.controlplane.check_database if through_lab else None


async def batch(cloud: Cloud, client: httpx.AsyncClient, method: str, path: str, body: Any,
                headers: dict[str, str], size: int) -> float:
    times = []
    for _ in range(size):
        # The lab's timers due by now (HAProxy's checks, keepalived's adverts, Galera) fire
        # here, outside the timing, as the background task of a served cloud fires them
        # whichever way requests go; else the first request through the VIP after a
        # straight batch would pay for the lab's life during it.
        cloud.controlplane.time.sync()
        started = now()
        response = await client.request(method, path, json=body, headers=headers)
        times.append(now() - started)
        assert response.status_code < 300, response.text
    return statistics.median(times)


Row = tuple[str, float, float, float]


async def measure(cloud: Cloud, batches: int, size: int) -> list[Row]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(cloud)),
                               base_url="http://stacklab.bench")
    try:
        issued = await client.post("/identity/v3/auth/tokens", json=AUTH)
        token = issued.headers["X-Subject-Token"]
        headers = {"X-Auth-Token": token, "X-Subject-Token": token}
        rows = []
        for label, method, path, body in REQUESTS:
            direct: list[float] = []
            through: list[float] = []
            for index in range(batches):
                # Alternate which way goes first, so warm-up and drift favour neither.
                for through_lab in ((False, True) if index % 2 == 0 else (True, False)):
                    routed(cloud, through_lab)
                    median = await batch(cloud, client, method, path, body, headers, size)
                    (through if through_lab else direct).append(median)
            ratio = statistics.median(t / d for d, t in zip(direct, through, strict=True))
            rows.append((label, statistics.median(direct), statistics.median(through),
                         ratio - 1))
        return rows
    finally:
        routed(cloud, True)
        await client.aclose()


async def path_steps(cloud: Cloud, count: int) -> tuple[float, float]:
    """Microseconds to enter (VIP, HAProxy) and to pass the store's gate once."""
    routed(cloud, True)
    plane = cloud.controlplane
    started = now()
    for _ in range(count):
        entry = await plane.enter("compute")
    entered = now()
    assert isinstance(entry, Routed)
    bound = routes.bind(entry.route)
    try:
        for _ in range(count):
            plane.check_database()
    finally:
        routes.unbind(bound)
    gated = now()
    return (entered - started) / count * 1e6, (gated - entered) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer, smaller batches")
    parser.add_argument("--batches", type=int, default=None)
    parser.add_argument("--size", type=int, default=None, help="requests per batch")
    args = parser.parse_args()
    batches = args.batches or (4 if args.quick else 20)
    size = args.size or (20 if args.quick else 100)
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    config.stacklab.seed = 1
    cloud = Cloud(config)
    cloud.start("http://stacklab.bench")
    try:
        rows = asyncio.run(measure(cloud, batches, size))
        enter, gate = asyncio.run(path_steps(cloud, 20 * size))
    finally:
        # After the loop: the casts requests left in flight are cancelled with it, not
        # run against a store already closed.
        cloud.stop()
    print(f"{batches} batches of {size} requests per way, in-process, one client\n")
    print("| request | straight to a controller (ms) | through VIP + HAProxy + Galera (ms) "
          "| overhead |")
    print("|---|---:|---:|---:|")
    for label, direct, through, overhead in rows:
        print(f"| {label} | {direct * 1000:.3f} | {through * 1000:.3f} | "
              f"{overhead * 100:+.1f} % |")
    print(f"\nthe path's own steps: entering {enter:.1f} us per request, "
          f"the store's gate {gate:.1f} us per session")


if __name__ == "__main__":
    main()
