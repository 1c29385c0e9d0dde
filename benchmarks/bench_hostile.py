#!/usr/bin/env python3
"""Hostile filters against a live ``stacklab up``: nova's regular-expression filters.

``GET /servers?name=^(a+)+$`` over servers named ``aaa…ab``: a backtracking engine
(Python's ``re``) needs time doubling with every ``a`` on each name, so one request
would hold the whole one-process cloud for hours. stacklab compiles these filters with
RE2, which runs in time linear in the text. This script measures:

- the filter over N servers (default 10,000, created 500 a request with
  min_count/max_count on the 100-compute topology, each named ``"a" * 30 + "b-<i>"``):
  a plain pattern, then pathological ones, p50 / p99 / max of R requests each;
- the latency of other requests (``GET /compute/v2.1/flavors`` and a token validation)
  while a client sends the pathological filter back to back, against the same figure
  measured idle: other users keep being served;
- that invalid patterns (``ip=[``, a backreference RE2 does not take) answer 400;
- for scale, what Python's ``re`` takes for ``^(a+)+$`` on one such name of n ``a``s,
  in this process (never sent to the server): it doubles with every character.

    python benchmarks/bench_hostile.py --quick    # 1,000 servers, about 30 s
    python benchmarks/bench_hostile.py            # 10,000 servers, about 2 minutes
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import yaml

from bench_servers import (
    UNLIMITED_QUOTA,
    any_building,
    api,
    issue_token,
    large_topology,
    prepare,
)
from live_cloud import STACKLAB, Failure, expect, log, ms, running, spread

now = time.perf_counter
NAME = "a" * 30 + "b"
PATHOLOGICAL = ["^(a+)+$", "(a|aa)+$", "(a*)*c", "^(a|a?)+$", "(.*a){25}$"]


def timed(client: httpx.Client, path: str, params: dict[str, str], runs: int,
          expected: int) -> tuple[dict[str, float], int]:
    samples: list[float] = []
    count = 0
    for _ in range(runs):
        began = now()
        body = expect(client.get(path, params=params), 200).json()
        samples.append(now() - began)
        count = len(body["servers"])
    if count != expected:
        raise Failure(f"{path} {params}: {count} servers, expected {expected}")
    return spread(samples), count


def row(measure: str, stats: dict[str, float], note: str = "") -> None:
    measure = measure.replace("|", "\\|")  # a pattern's alternation, not a column
    print(f"| {measure} | {ms(stats['p50'])} | {ms(stats['p99'])} | {ms(stats['max'])} | "
          f"{int(stats['count'])} | {note} |", flush=True)


def background_load(base: str, token: str, stop: threading.Event,
                    sent: list[float]) -> None:
    """Send the pathological filter back to back until told to stop."""
    with api(base, token) as client:
        while not stop.is_set():
            began = now()
            expect(client.get("/servers", params={"name": PATHOLOGICAL[0]}), 200)
            sent.append(now() - began)


def others(base: str, token: str, seconds: float) -> dict[str, list[float]]:
    """Latency of other users' requests for ``seconds``: a flavor list, a token check."""
    samples: dict[str, list[float]] = {"GET /compute/v2.1/flavors": [],
                                       "GET /identity/v3/auth/tokens": []}
    headers = {"X-Auth-Token": token}
    with httpx.Client(base_url=base, timeout=60) as client:
        deadline = now() + seconds
        while now() < deadline:
            began = now()
            expect(client.get("/compute/v2.1/flavors", headers=headers), 200)
            samples["GET /compute/v2.1/flavors"].append(now() - began)
            began = now()
            expect(client.get("/identity/v3/auth/tokens",
                              headers={**headers, "X-Subject-Token": token}), 200)
            samples["GET /identity/v3/auth/tokens"].append(now() - began)
    return samples


def python_re_cost(max_seconds: float) -> list[tuple[int, float]]:
    """What Python's backtracking engine spends on one name, n = 16, 17, ...: doubling."""
    figures: list[tuple[int, float]] = []
    pattern = re.compile(PATHOLOGICAL[0])
    for n in range(16, 40):
        began = now()
        pattern.search("a" * n + "b")
        elapsed = now() - began
        figures.append((n, elapsed))
        if elapsed > max_seconds:
            break
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 servers, fewer runs")
    parser.add_argument("--servers", type=int, help="servers to create (default 10,000)")
    parser.add_argument("--runs", type=int, help="requests per figure (default 20)")
    parser.add_argument("--computes", type=int, default=100)
    args = parser.parse_args(argv)
    total = args.servers or (1000 if args.quick else 10000)
    runs = args.runs or (5 if args.quick else 20)
    if not STACKLAB.exists():
        raise SystemExit(f"{STACKLAB} not found: run with the venv's python")

    with tempfile.TemporaryDirectory(prefix="stacklab-bench-hostile-") as tmp:
        workdir = Path(tmp)
        topology = workdir / "topology-large.yaml"
        topology.write_text(yaml.safe_dump(large_topology(args.computes), sort_keys=False))
        config = workdir / "quota.ini"
        config.write_text(UNLIMITED_QUOTA)
        with running(workdir, "--topology", str(topology), "--config", str(config)) as live:
            token = issue_token(live.base)
            boot = prepare(live.base, token)
            with api(live.base, token) as client:
                log(f"creating {total} servers named {NAME}-<i> ...")
                began = now()
                made = 0
                while made < total:
                    count = min(500, total - made)
                    expect(client.post("/servers", json=boot.body(NAME, count)), 202)
                    made += count
                while any_building(client):
                    live.check()
                    if now() - began > 600:
                        raise Failure("servers still BUILD after 600 s")
                    time.sleep(0.1)
                log(f"{total} servers ACTIVE in {now() - began:.1f} s")

                print(f"\n{total} servers named `{NAME}-<i>`; `GET /compute/v2.1/servers` "
                      "(limit 1000, the default page), admin token, microversion 2.96\n")
                print("| request | p50 | p99 | max | requests | notes |")
                print("|---|---|---|---|---|---|")
                page = min(total, 1000)
                stats, _ = timed(client, "/servers", {}, runs, page)
                row("no filter", stats)
                stats, _ = timed(client, "/servers", {"name": "^a+b"}, runs, page)
                row("`name=^a+b` (every server matches)", stats)
                for pattern in PATHOLOGICAL:
                    stats, _ = timed(client, "/servers", {"name": pattern}, runs, 0)
                    row(f"`name={pattern}` (none matches)", stats,
                        "target < 100 ms" if pattern == PATHOLOGICAL[0] else "")
                stats, _ = timed(client, "/servers", {"ip": "^(1+)+$"}, runs, 0)
                row("`ip=^(1+)+$`", stats, "servers have no addresses (networks none)")

                for params in ({"ip": "["}, {"name": "(a)\\1"}, {"name": "(?=a)"}):
                    answer = client.get("/servers", params=params)
                    if answer.status_code != 400:
                        raise Failure(f"{params}: {answer.status_code} {answer.text[:200]}")
                    print(f"| `{next(iter(params))}={next(iter(params.values()))}` | 400 | "
                          f"| | 1 | {answer.json()['badRequest']['message']} |")

            seconds = 5.0 if args.quick else 10.0
            idle = others(live.base, token, seconds)
            stop = threading.Event()
            hostile: list[float] = []
            load = threading.Thread(target=background_load,
                                    args=(live.base, token, stop, hostile))
            load.start()
            try:
                loaded = others(live.base, token, seconds)
            finally:
                stop.set()
                load.join()
            live.check()
            print(f"\nOther users' requests, {seconds:.0f} s each, one client, idle and while "
                  f"another client sends `name={PATHOLOGICAL[0]}` back to back "
                  f"({len(hostile)} of them, p50 {ms(spread(hostile)['p50'])})\n")
            print("| request | idle p50 / p99 | under the hostile filter p50 / p99 / max |")
            print("|---|---|---|")
            for what in idle:
                quiet, busy = spread(idle[what]), spread(loaded[what])
                print(f"| {what} | {ms(quiet['p50'])} / {ms(quiet['p99'])} | "
                      f"{ms(busy['p50'])} / {ms(busy['p99'])} / {ms(busy['max'])} |")

    print(f"\nFor scale, Python's `re` (backtracking) on one name `'a' * n + 'b'` with "
          f"`{PATHOLOGICAL[0]}`, in this process:\n")
    print("| n | time |")
    print("|---|---|")
    for n, elapsed in python_re_cost(0.5 if args.quick else 2.0):
        print(f"| {n} | {ms(elapsed)} |")
    print(file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
