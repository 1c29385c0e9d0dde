#!/usr/bin/env python3
"""How long the API VIPs are gone under Pacemaker, in real time, against the formula.

A live ``stacklab up --ephemeral`` at ``ha_time_scale = 1.0`` with ``[stacklab]
vip_manager = pacemaker``. Per run:

- **power-off** of the VIPs' holder: the time from the fault's answer to the first
  ``/stacklab/v1/health`` poll (every 10 ms) without "no proxy holds the VIPs"
  (**VIPs up**), then without any outage (**served**: haproxy runs on the new holder),
  and a client's ``GET /identity/v3`` sent right after the fault (its SYN retransmitted
  after 1, 2, 4, 8 s). The formula: token 3 s + consensus 3.6 s (two nodes), the lab's
  priority-fencing-delay 3 s (the lost node ran the VIPs, the survivor has no majority),
  the fence device's off 1 s and on 1 s, the VIPs' start (instant): 11.6 s; haproxy's
  start 1 s more: 12.6 s;
- **haproxy-stop** on the holder: from the fault's answer until the health no longer says
  haproxy is not running on the VIPs' holder: the next 1 s monitor, then stop 1 s and
  start 1 s (in place), so 2-3 s; the third time on one node (migration-threshold 3)
  haproxy stops there, the VIPs move (instant) and haproxy starts on the other: 2-3 s too.

    python benchmarks/pacemaker_failover.py            # 3 runs of each fault
    python benchmarks/pacemaker_failover.py --runs 1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx

from live_cloud import Failure, Live, expect, log, now, running
from vip_failover import AUTH, NO_HOLDER, client_request, holder, wait_ready

TOKEN, CONSENSUS = 3.0, 3.6
PRIORITY_FENCING_DELAY, FENCE_OFF, FENCE_ON = 3.0, 1.0, 1.0
HAPROXY_START = 1.0
VIPS_UP = TOKEN + CONSENSUS + PRIORITY_FENCING_DELAY + FENCE_OFF + FENCE_ON
SERVED = VIPS_UP + HAPROXY_START
NOT_SERVING = "haproxy is not running on the VIP holder"


def power_off(live: Live, headers: dict[str, str]) -> dict[str, Any]:
    wait_ready(live)
    old = holder(live, headers)
    expect(httpx.post(f"{live.base}/stacklab/v1/nodes/{old}/down", headers=headers,
                      timeout=30), 200)
    started = now()
    client: dict[str, Any] = {}
    thread = threading.Thread(target=client_request, args=(live, client, started))
    thread.start()
    vips_up = served = None
    while now() - started < 60 and served is None:
        reasons = httpx.get(f"{live.base}/stacklab/v1/health",
                            timeout=5).json()["control_plane"]["reasons"]
        if vips_up is None and NO_HOLDER not in reasons:
            vips_up = now() - started
        if vips_up is not None and not any(NOT_SERVING in r for r in reasons):
            served = now() - started
        threading.Event().wait(0.01)
    thread.join()
    new = holder(live, headers)
    if vips_up is None or served is None or new == old:
        raise Failure(f"power-off of {old}: holder {new}, VIPs {vips_up}, served {served}")
    return {"fault": "power-off", "from": old, "to": new, "vips": vips_up,
            "served": served, "client": client}


def serving(live: Live) -> bool:
    reasons = httpx.get(f"{live.base}/stacklab/v1/health",
                        timeout=5).json()["control_plane"]["reasons"]
    return not any(NOT_SERVING in r or NO_HOLDER in r for r in reasons)


def haproxy_stop(live: Live, headers: dict[str, str]) -> dict[str, Any]:
    # Not "ready": the fail counts of earlier runs stay (failure-timeout 0) and keep the
    # lab degraded; what matters is that haproxy serves on the VIPs' holder.
    deadline = now() + 60
    while not serving(live):
        if now() > deadline:
            raise Failure("not serving after 60 s")
        threading.Event().wait(0.1)
    node = holder(live, headers)
    expect(httpx.post(f"{live.base}/stacklab/v1/nodes/{node}/services/haproxy/stop",
                      headers=headers, timeout=30), 200)
    started = now()
    back = None
    while now() - started < 30:
        if serving(live):
            back = now() - started
            break
        threading.Event().wait(0.01)
    if back is None:
        raise Failure(f"haproxy on {node} not restarted")
    return {"fault": "haproxy-stop", "from": node, "to": holder(live, headers),
            "served": back}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "stacklab.ini"
        config.write_text("[stacklab]\nha_time_scale = 1.0\nvip_manager = pacemaker\n")
        with running(Path(tmp), "--config", str(config)) as live:
            token = expect(httpx.post(f"{live.base}/stacklab/v1/auth/tokens", json=AUTH,
                                      timeout=30), 201).headers["X-Subject-Token"]
            headers = {"X-Auth-Token": token}
            for run in range(args.runs):
                row = power_off(live, headers)
                log(f"power-off run {run + 1}: {row['from']} -> {row['to']} VIPs in "
                    f"{row['vips']:.3f} s, served in {row['served']:.3f} s")
                rows.append(row)
            for run in range(args.runs):
                # The third failure on one node reaches migration-threshold: the VIPs
                # move with haproxy.
                row = haproxy_stop(live, headers)
                log(f"haproxy-stop run {run + 1}: {row['from']} -> {row['to']} served again "
                    f"in {row['served']:.3f} s")
                rows.append(row)
    print("| fault | holder → taker | VIPs up (s) | formula (s) | served (s) | formula (s) "
          "| client answered after (s) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        if row["fault"] == "power-off":
            client = row["client"]
            print(f"| power-off | {row['from']} → {row['to']} | {row['vips']:.3f} | "
                  f"{VIPS_UP:.1f} | {row['served']:.3f} | {SERVED:.1f} | "
                  f"{client.get('after', float('nan')):.3f} ({client.get('status')}) |")
        else:
            how = "restarted in place" if row["to"] == row["from"] else f"→ {row['to']}"
            print(f"| haproxy-stop | {row['from']} {how} | - | - | "
                  f"{row['served']:.3f} | 2.0-3.0 | - |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
