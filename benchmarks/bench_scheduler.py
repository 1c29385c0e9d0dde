#!/usr/bin/env python3
"""Scheduler decision time: ``Scheduler.select_destinations`` for one instance over N hosts.

Pure CPU, no server: builds N HostStates (varied sizes and usage, a few down
or disabled, two zones), then times RUNS decisions per scenario and prints
p50 / p99 / max in milliseconds as a Markdown table. Bounded: RUNS decisions
per row, each row also stopped after --limit seconds.

    python benchmarks/bench_scheduler.py --hosts 1000,10000 --runs 200
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from stacklab.compute.scheduler import (
    ANTI_AFFINITY,
    SOFT_ANTI_AFFINITY,
    FlavorSpec,
    HostState,
    RequestSpec,
    Scheduler,
    ServerGroupSpec,
)
from stacklab.ids import IdSource

now = time.perf_counter


def build_hosts(count: int, ids: IdSource) -> list[HostState]:
    hosts = []
    for n in range(count):
        vcpus = (16, 32, 64)[n % 3]
        memory = (65536, 131072, 262144)[n % 3]
        instances = {f"inst-{n}-{i}": ("group-a" if i == 0 and n % 50 == 0 else None)
                     for i in range(ids.randint(0, 8))}
        hosts.append(HostState(
            host=f"compute{n}.openstack.local", availability_zone="nova" if n % 4 else "az2",
            vcpus=vcpus, memory_mb=memory, disk_gb=2000,
            vcpus_used=2 * len(instances), memory_mb_used=4096 * len(instances),
            disk_gb_used=40 * len(instances), instances=instances,
            service_up=n % 97 != 0, service_disabled=n % 89 == 0))
    return hosts


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="1000,10000")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds per row at most")
    args = parser.parse_args()

    flavor = FlavorSpec(vcpus=2, memory_mb=4096, root_gb=40)
    scenarios: dict[str, Callable[[int], RequestSpec]] = {
        "plain": lambda _: RequestSpec(flavor=flavor),
        "zone az2": lambda _: RequestSpec(flavor=flavor, availability_zone="az2"),
        "anti-affinity": lambda _: RequestSpec(
            flavor=flavor, group=ServerGroupSpec("group-a", ANTI_AFFINITY)),
        "soft-anti-affinity": lambda _: RequestSpec(
            flavor=flavor, group=ServerGroupSpec("group-a", SOFT_ANTI_AFFINITY)),
        "image x86_64 + capability": lambda _: RequestSpec(
            flavor=FlavorSpec(vcpus=2, memory_mb=4096, root_gb=40,
                              extra_specs={"capabilities:hypervisor_type": "s== QEMU"}),
            image_properties={"hw_architecture": "x86_64"}),
    }
    scheduler = Scheduler()
    print("| hosts | request | runs | p50 ms | p99 ms | max ms |")
    print("|---:|---|---:|---:|---:|---:|")
    for count in (int(c) for c in args.hosts.split(",")):
        hosts = build_hosts(count, IdSource(count))
        for label, make in scenarios.items():
            samples: list[float] = []
            deadline = now() + args.limit
            for run in range(args.runs):
                request = make(run)
                start = now()
                scheduler.select_destinations(request, hosts, 1)
                samples.append((now() - start) * 1000)
                if now() > deadline:
                    break
            print(f"| {count} | {label} | {len(samples)} | {statistics.median(samples):.2f} "
                  f"| {percentile(samples, 0.99):.2f} | {max(samples):.2f} |", flush=True)


if __name__ == "__main__":
    main()
