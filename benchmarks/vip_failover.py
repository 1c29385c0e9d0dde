#!/usr/bin/env python3
"""How long the API VIP is gone when its holder fails, in real time, against VRRP's formula.

A live ``stacklab up --ephemeral`` at ``ha_time_scale = 1.0`` (the lab's real timers). Per
run: the script finds the VIP holder (``stacklab status``'s ``vips`` section), then
either powers it off or stops its keepalived cleanly, and measures

- **takeover**: from the fault's answer to the first ``/stacklab/v1/health`` poll (every
  10 ms) that no longer says "no proxy holds the VIPs";
- **client**: a ``GET /identity/v3`` sent right after the fault: while nobody holds the
  VIP its SYN is retransmitted (after 1, 2, 4 … s), so it is answered at the first
  retransmit after the takeover.

keepalived on the proxies as kolla configures it: ``advert_int 1``, ``nopreempt``,
priority 1 (proxy1) and 2 (proxy2). A backup declares the master dead when it has heard
no advert for Master_Down_Interval = 3 × advert_int + (256 − priority)/256 s, counted
from the last advert, which the master sent up to one advert_int before the power-off:
the takeover lands in [MDI − 1 s, MDI]. A clean stop sends a priority-0 advert, after
which the backup waits only its skew time, (256 − priority)/256 s.

    python benchmarks/vip_failover.py            # 3 runs of each fault
    python benchmarks/vip_failover.py --runs 1
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

ADVERT_INT = 1.0
PRIORITY = {"proxy1": 1, "proxy2": 2}
NO_HOLDER = "no proxy holds the VIPs"
AUTH = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
    "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}


def window(fault: str, taker: str) -> tuple[float, float]:
    """When VRRP says the backup ``taker`` takes over, in seconds after the fault."""
    skew = (256 - PRIORITY[taker]) / 256
    if fault == "stop":
        return skew, skew
    mdi = 3 * ADVERT_INT + skew
    return mdi - ADVERT_INT, mdi


def holder(live: Live, headers: dict[str, str]) -> str:
    status = expect(httpx.get(f"{live.base}/stacklab/v1/status", headers=headers,
                              timeout=30), 200).json()
    vips = next(s for s in status["sections"] if s["name"] == "vips")
    return str(vips["rows"][0][3])


def wait_ready(live: Live, timeout: float = 120.0) -> None:
    deadline = now() + timeout
    while httpx.get(f"{live.base}/stacklab/v1/health", timeout=5).json()["status"] != "ready":
        if now() > deadline:
            raise Failure(f"not ready after {timeout:.0f} s")
        live.check()
        threading.Event().wait(0.1)


def client_request(live: Live, result: dict[str, Any], started: float) -> None:
    try:
        answer = httpx.get(f"{live.base}/identity/v3", timeout=60)
        result["status"] = answer.status_code
    except httpx.TransportError as error:
        result["status"] = type(error).__name__
    result["after"] = now() - started


def one_run(live: Live, headers: dict[str, str], fault: str) -> dict[str, Any]:
    wait_ready(live)
    old = holder(live, headers)
    taker = "proxy2" if old == "proxy1" else "proxy1"
    path = (f"/stacklab/v1/nodes/{old}/down" if fault == "power-off"
            else f"/stacklab/v1/nodes/{old}/services/keepalived/stop")
    expect(httpx.post(f"{live.base}{path}", headers=headers, timeout=30), 200)
    started = now()
    client: dict[str, Any] = {}
    thread = threading.Thread(target=client_request, args=(live, client, started))
    thread.start()
    takeover = None
    while now() - started < 30:
        reasons = httpx.get(f"{live.base}/stacklab/v1/health",
                            timeout=5).json()["control_plane"]["reasons"]
        if NO_HOLDER not in reasons:
            takeover = now() - started
            break
        threading.Event().wait(0.01)
    thread.join()
    new = holder(live, headers)
    if takeover is None or new != taker:
        raise Failure(f"{fault} of {old}: holder {new}, takeover {takeover}")
    # Undo: the old holder back as a backup (nopreempt: the new one keeps the VIPs).
    undo = (f"/stacklab/v1/nodes/{old}/up" if fault == "power-off"
            else f"/stacklab/v1/nodes/{old}/services/keepalived/start")
    expect(httpx.post(f"{live.base}{undo}", headers=headers, timeout=30), 200)
    low, high = window(fault, taker)
    return {"fault": fault, "from": old, "to": taker, "takeover": takeover,
            "low": low, "high": high, "client": client}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "stacklab.ini"
        config.write_text("[stacklab]\nha_time_scale = 1.0\n")
        with running(Path(tmp), "--config", str(config)) as live:
            token = expect(httpx.post(f"{live.base}/stacklab/v1/auth/tokens", json=AUTH,
                                      timeout=30), 201).headers["X-Subject-Token"]
            headers = {"X-Auth-Token": token}
            for fault in ("power-off", "stop"):
                for run in range(args.runs):
                    row = one_run(live, headers, fault)
                    log(f"{fault} run {run + 1}: {row['from']} -> {row['to']} "
                        f"in {row['takeover']:.3f} s")
                    rows.append(row)
    print("| fault | holder → taker | takeover (s) | VRRP window (s) | within 10 % | "
          "client's request answered after (s) |")
    print("|---|---|---:|---|---|---:|")
    for row in rows:
        low, high = row["low"], row["high"]
        inside = low * 0.9 <= row["takeover"] <= high * 1.1 + 0.05
        span = f"{low:.3f}" if low == high else f"{low:.3f}–{high:.3f}"
        client = row["client"]
        print(f"| {row['fault']} | {row['from']} → {row['to']} | {row['takeover']:.3f} | "
              f"{span} | {'yes' if inside else 'NO'} | "
              f"{client.get('after', float('nan')):.3f} ({client.get('status')}) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
