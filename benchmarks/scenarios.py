#!/usr/bin/env python3
"""How fast scenarios run in virtual time: lab seconds per wall second, and randomized runs
per minute.

1. ``lab hour``: the full 12-node lab in-process on a virtual clock (heartbeats, agents'
   reports, keepalived, HAProxy's checks, Galera), with a workload: a network with two
   DHCP agents, an HA router, a server, and a probe issuing a token and listing servers
   and networks every 10 lab seconds through the VIP, while the lab loses and regains a
   network node and a controller. One lab hour (``--quick``: 10 minutes), run as a
   scenario by the in-process runner; the figure is lab seconds per wall second, with the
   lab's build and start counted apart. Target (issue 12): 700x or more.
2. ``lab hour, idle``: the same lab with no workload and no fault, for comparison.
3. ``randomized``: ``run_seeds`` over N seeds (the lab built once, each seed forked from
   it) with the CLI's default 6 random faults and with the test's 3: runs per minute.

    python benchmarks/scenarios.py --quick   # about half a minute
    python benchmarks/scenarios.py           # the recorded figures

The machine has 2 cores shared with whatever else runs: the figures say the load average
they were taken under, and each comes with the CPU time it took (this process's for the
lab hours, the forked seeds' for the randomized runs), what it would take on a machine
of its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from stacklab.scenarios.format import parse
from stacklab.scenarios.randomized import run_seeds
from stacklab.scenarios.run import run_virtual

# Wall-clock measurement is the point here: the determinism rule is for the server's core.
now = time.perf_counter


def lab_hour(seconds: float, *, workload: bool) -> dict[str, Any]:
    quarter = seconds / 6
    steps: list[dict[str, Any]] = [{"wait": quarter}]
    if workload:
        steps += [{"act": {"action": "power_off", "node": "network2"}}, {"wait": quarter},
                  {"act": {"action": "power_on", "node": "network2"}}, {"wait": quarter},
                  {"act": {"action": "power_off", "node": "controller1"}}, {"wait": quarter},
                  {"act": "heal"}, {"wait": quarter}, {"wait": quarter},
                  {"expect": {"probe": {"since": 60, "errors": {"max": 0}}}}]
    else:
        steps += [{"wait": seconds - quarter}]
    document: dict[str, Any] = {"name": "benchmark-hour", "steps": steps}
    if workload:
        document["setup"] = [{"network": {"name": "n1"}},
                             {"router": {"name": "r1", "ha": True, "networks": ["n1"],
                                         "gateway": True}},
                             {"server": {"name": "vm1", "network": "n1"}}]
        document["probe"] = {"interval": 10,
                             "calls": ["token_issue", "server_list", "network_list"]}
    scenario = parse(document, "benchmark")
    # The build and start, alone: what every run pays before its lab time begins.
    empty = parse({"name": "benchmark-start", "steps": [{"wait": 0}]}, "benchmark")
    run_virtual(empty, probe=False)  # imports and first-use caches out of the way
    began, start_cpu = now(), time.process_time()
    run_virtual(empty, probe=False)
    start, start_cpu = now() - began, time.process_time() - start_cpu
    began, cpu = now(), time.process_time()
    report = run_virtual(scenario, probe=workload)
    wall, cpu = now() - began, time.process_time() - cpu
    body = report.render()
    calls = sum(entry["ok"] + entry["errors"] for entry in body["probe"].values())
    return {"lab_seconds": body["lab_seconds"], "wall": wall, "start": start,
            "passed": report.passed, "calls": calls,
            "rate": body["lab_seconds"] / max(wall - start, 1e-9),
            # This process's own CPU: what the figure would be on a machine not shared.
            "cpu": cpu, "cpu_rate": body["lab_seconds"] / max(cpu - start_cpu, 1e-9),
            "rate_with_start": body["lab_seconds"] / wall}


def randomized(seeds: int, steps: int) -> dict[str, Any]:
    began = now()
    outcomes = run_seeds(list(range(seeds)), steps=steps)
    wall = now() - began
    # The children's CPU (each seed runs in one) and this process's.
    children = os.times().children_user + os.times().children_system
    return {"seeds": seeds, "steps": steps, "wall": wall, "children_cpu": children,
            "violations": sum(len(o.violations) for o in outcomes),
            "per_minute": seeds / wall * 60,
            "lab_seconds": sum(o.lab_seconds for o in outcomes)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--seeds", type=int, help="randomized seeds per figure")
    args = parser.parse_args()
    logging.getLogger().addHandler(logging.NullHandler())
    seconds = 600.0 if args.quick else 3600.0
    seeds = args.seeds or (10 if args.quick else 100)
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    busy = lab_hour(seconds, workload=True)
    idle = lab_hour(seconds, workload=False)
    runs = []
    for steps in (6, 3):
        before = os.times().children_user + os.times().children_system
        found = randomized(seeds, steps)
        found["children_cpu"] -= before
        runs.append(found)
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print("| figure | value | notes |")
    print("|---|---|---|")
    for name, found in (("lab with workload", busy), ("lab, idle", idle)):
        print(f"| {name}: lab seconds per wall second | {found['rate']:.0f}x | "
              f"{found['lab_seconds']:.0f} lab s in {found['wall'] - found['start']:.2f} s "
              f"after a {found['start']:.2f} s build and start "
              f"({found['rate_with_start']:.0f}x counting it); "
              f"{found['cpu_rate']:.0f}x per CPU second of this process; {found['calls']} probe "
              f"calls; scenario {'passed' if found['passed'] else 'FAILED'} |")
    for found in runs:
        print(f"| randomized, {found['steps']} faults a seed: runs per minute | "
              f"{found['per_minute']:.0f} | {found['seeds']} seeds in {found['wall']:.1f} s "
              f"({found['lab_seconds']:.0f} lab s), the seeds' CPU {found['children_cpu']:.1f} s "
              f"({found['seeds'] / max(found['children_cpu'], 1e-9) * 60:.0f} a CPU minute); "
              f"{found['violations']} violations |")
    return 0 if busy["passed"] and idle["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
