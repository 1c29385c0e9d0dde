#!/usr/bin/env python3
"""Block Storage (cinder) benchmarks of a live ``stacklab up``: create latency, attach cycles,
lists of 10,000 volumes, and the Ceph backend's degraded and unavailable timings.

Every request goes to a cloud this script starts (``stacklab up --ephemeral`` on a free
127.0.0.1 port, the built-in 12-node lab, a ``--config`` lifting cinder's quotas and
giving each LVM backend a 100,000 GB volume group so 10,000 volumes fit), through httpx
with a project-scoped admin token and ``OpenStack-API-Version: volume 3.44``. Every
response's status is checked: anything unexpected, or a volume that ends in ``error``,
stops the run with the response. Every loop is bounded by count and by time; the clock
is the wall clock of this process (``time.perf_counter``), never the server's. Before
each figure the script waits for a quiet machine (``--wait-idle``) and each figure says
the CPU other processes used meanwhile (``others … cores``).

    python benchmarks/block_storage.py --quick     # smoke run, about a minute
    python benchmarks/block_storage.py             # the recorded run, a few minutes

Sections (``--sections create,cycles,list,ceph``):

create  create-to-available latency: N sequential ``POST /v3/volumes`` of an empty 1 GiB
        volume, each polled with ``GET /v3/volumes/{id}`` every 2 ms until available;
        the volumes are deleted after each batch of 50 (unmeasured).
cycles  create → available → attach → detach → delete cycles per second with 10
        concurrent client processes for a fixed time: ``POST /v3/volumes``, poll until
        available, ``POST /v3/attachments`` (with a connector and an instance uuid, as
        nova's ``attachment_create``/``attachment_update``), ``POST .../action``
        ``os-complete`` (the volume is then in-use), ``DELETE /v3/attachments/{id}``
        (detach: available again), ``DELETE /v3/volumes/{id}``, poll until 404. A
        cycle counts once its volume is gone.
list    ``GET /v3/volumes/detail`` and ``GET /v3/volumes`` with 10,000 volumes in the
        project, p50/p99 of 20 each. The volumes are made through the API
        (``POST /v3/volumes`` from 10 client processes, then waited for until none is
        ``creating``). Neither request gives a limit: cinder then pages at its
        ``osapi_max_limit`` (1,000), as the unit test says, so a response holds 1,000
        volumes and a ``volumes_links`` next link.
ceph    with ``enabled_backends = lvm,ceph`` and a ``ceph`` volume type: create-to-
        available p50 on a healthy cluster, with storage1's ``ceph-osd`` stopped
        (degraded: one copy), and the time a create takes to fail (``error``) with both
        storage nodes powered off (no quorum: cinder waits ``rados_connect_timeout``,
        5 s of the lab's clock).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import httpx

from bench_identity import (
    Bystanders,
    cpu_seconds,
    machine_description,
    proc_status_kib,
    wait_until_quiet,
)
from live_cloud import (
    STACKLAB,
    Failure,
    Live,
    Results,
    expect,
    log,
    ms,
    running,
    spread,
    standard_options,
    with_overrides,
)

now = time.perf_counter  # a stopwatch outside the server, not the server's clock

MICROVERSION = "volume 3.44"   # attachments with os-complete
PASSWORD_AUTH = {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
}}
# cinder's quotas with -1 for unlimited, and LVM volume groups large enough for the list
# section's 10,000 1 GiB volumes (the storage nodes' disks are smaller).
CONFIG = ("[DEFAULT]\nquota_volumes = -1\nquota_gigabytes = -1\nquota_snapshots = -1\n"
          "[lvm]\nvolume_group_size_gb = 100000\n")
CEPH_CONFIG = CONFIG.replace("[DEFAULT]\n", "[DEFAULT]\nenabled_backends = lvm,ceph\n")
# What os-brick tells cinder of compute1 (nova's connector), for attachment_update.
CONNECTOR = {"platform": "x86_64", "os_type": "linux", "ip": "10.10.10.61",
             "host": "compute1", "multipath": False,
             "initiator": "iqn.2004-10.com.ubuntu:01:bench"}


@dataclass(frozen=True)
class Settings:
    creates: int        # create section: measured sequential creates
    warmup: int
    poll: float         # seconds between two GETs of one volume
    clients: int        # cycles and list filling
    duration: float     # cycles: seconds of the measured window
    existing: int       # list section: volumes in the project
    list_runs: int
    ceph_creates: int
    limit: float        # seconds any one loop may take at most
    wait_idle: float


FULL = Settings(creates=200, warmup=10, poll=0.002, clients=10, duration=30.0,
                existing=10_000, list_runs=20, ceph_creates=20, limit=600.0, wait_idle=60.0)
QUICK = Settings(creates=40, warmup=5, poll=0.002, clients=10, duration=5.0,
                 existing=2000, list_runs=5, ceph_creates=5, limit=120.0, wait_idle=0.0)


# -- HTTP --------------------------------------------------------------------------------


def issue_token(base: str) -> str:
    response = expect(httpx.post(f"{base}/identity/v3/auth/tokens?nocatalog",
                                 json=PASSWORD_AUTH, timeout=30), 201)
    return response.headers["X-Subject-Token"]


def api(base: str, token: str) -> httpx.Client:
    """One keep-alive connection to the Block Storage API, as the admin of project admin."""
    return httpx.Client(base_url=f"{base}/volume", timeout=60, headers={
        "X-Auth-Token": token, "OpenStack-API-Version": MICROVERSION,
        "Accept": "application/json"})


def create(client: httpx.Client, name: str, volume_type: str | None = None) -> str:
    body: dict[str, Any] = {"size": 1, "name": name}
    if volume_type:
        body["volume_type"] = volume_type
    response = expect(client.post("/v3/volumes", json={"volume": body}), 202)
    volume_id: str = response.json()["volume"]["id"]
    return volume_id


def wait_status(client: httpx.Client, volume_id: str, wanted: str, interval: float,
                limit: float, *, failed: Sequence[str] = ("error",)) -> str:
    """Poll until the volume's status is ``wanted`` (or one of ``failed``, then returned
    only if ``wanted`` is among them); ``"gone"`` waits for its 404."""
    deadline = now() + limit
    while True:
        response = expect(client.get(f"/v3/volumes/{volume_id}"), 200, 404)
        if response.status_code == 404:
            if wanted == "gone":
                return "gone"
            raise Failure(f"volume {volume_id} vanished while waiting for {wanted}")
        status: str = response.json()["volume"]["status"]
        if status == wanted:
            return status
        if status in failed:
            raise Failure(f"volume {volume_id} is {status}: {response.text[:600]}")
        if now() > deadline:
            raise Failure(f"volume {volume_id} still {status} after {limit:.0f} s")
        time.sleep(interval)


def delete_all(client: httpx.Client, ids: Sequence[str], limit: float) -> None:
    for volume_id in ids:
        expect(client.delete(f"/v3/volumes/{volume_id}"), 202)
    for volume_id in ids:
        wait_status(client, volume_id, "gone", 0.01, limit, failed=("error_deleting",))


def config_file(workdir: Path, text: str, name: str) -> Path:
    path = workdir / name
    path.write_text(text)
    return path


# -- 1. create to available -----------------------------------------------------------


def create_latencies(client: httpx.Client, count: int, settings: Settings, prefix: str,
                     volume_type: str | None = None,
                     check: Callable[[], None] = lambda: None) -> list[float]:
    samples: list[float] = []
    made: list[str] = []
    for n in range(count):
        check()
        began = now()
        volume_id = create(client, f"{prefix}-{n}", volume_type)
        wait_status(client, volume_id, "available", settings.poll, settings.limit)
        samples.append(now() - began)
        made.append(volume_id)
        if len(made) == 50:
            delete_all(client, made, settings.limit)
            made.clear()
    delete_all(client, made, settings.limit)
    return samples


def bench_create(settings: Settings, workdir: Path, results: Results) -> None:
    section = "create to available"
    with running(workdir, "--config", str(config_file(workdir, CONFIG, "cinder.ini"))) as live:
        token = issue_token(live.base)
        pid = live.process.pid
        with api(live.base, token) as client:
            create_latencies(client, settings.warmup, settings, "warm", check=live.check)
            wait_until_quiet(settings.wait_idle, [pid])
            others = Bystanders([pid])
            cpu = cpu_seconds([pid])
            samples = create_latencies(client, settings.creates, settings, "lat",
                                       check=live.check)
            server_cpu = cpu_seconds([pid]) - cpu
        stats = spread(samples)
        results.raw["create"] = stats
        results.add(section, f"empty 1 GiB volume, POST → available, p50 / p99 of "
                    f"{len(samples)}", f"{ms(stats['p50'])} / {ms(stats['p99'])}", "",
                    f"max {ms(stats['max'])}; polled every {settings.poll * 1000:.0f} ms; "
                    f"server CPU {server_cpu:.1f} s in all (deletes included); "
                    f"{others.note()}")


# -- 2. create / attach / detach / delete cycles -------------------------------------------


@dataclass(frozen=True)
class CycleReport:
    cycles: int
    steps: dict[str, list[float]]
    cpu: float
    error: str


def one_cycle(client: httpx.Client, name: str, poll: float, limit: float,
              steps: dict[str, list[float]]) -> None:
    def lap(step: str, began: float) -> float:
        t = now()
        steps.setdefault(step, []).append(t - began)
        return t

    t = now()
    volume_id = create(client, name)
    wait_status(client, volume_id, "available", poll, limit)
    t = lap("create → available", t)
    attachment = expect(client.post("/v3/attachments", json={"attachment": {
        "volume_uuid": volume_id, "instance_uuid": str(uuid.uuid4()),
        "connector": CONNECTOR}}), 200).json()["attachment"]
    t = lap("attachment create (reserve + connect)", t)
    expect(client.post(f"/v3/attachments/{attachment['id']}/action",
                       json={"os-complete": None}), 204)
    t = lap("os-complete (in-use)", t)
    expect(client.delete(f"/v3/attachments/{attachment['id']}"), 200)
    t = lap("attachment delete (detach)", t)
    expect(client.delete(f"/v3/volumes/{volume_id}"), 202)
    wait_status(client, volume_id, "gone", poll, limit, failed=("error_deleting",))
    lap("delete → 404", t)


def _cycle_client(base: str, token: str, index: int, duration: float, poll: float,
                  limit: float, start_at: float, out: Queue[CycleReport]) -> None:
    steps: dict[str, list[float]] = {}
    cycles = 0
    error = ""
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    cpu = time.process_time()
    stop_at = start_at + duration
    try:
        with api(base, token) as client:
            while time.monotonic() < stop_at:
                one_cycle(client, f"cycle-{index}-{cycles}", poll, limit, steps)
                cycles += 1
    except Exception as exc:   # reported to the parent, which fails the run
        error = f"{type(exc).__name__}: {exc}"
    out.put(CycleReport(cycles, steps, time.process_time() - cpu, error))


def run_clients(target: Callable[..., None], args: Callable[[int], tuple[Any, ...]],
                clients: int, live: Live, limit: float) -> tuple[list[Any], float, float]:
    """Start ``clients`` processes together; their reports, the wall time from the common
    start to the last report, and the server's CPU meanwhile."""
    ctx = mp.get_context("fork")
    out: Queue[Any] = ctx.Queue()
    start_at = time.monotonic() + 0.5
    workers = [ctx.Process(target=target, args=(*args(i), start_at, out))
               for i in range(clients)]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, start_at - time.monotonic()))
    pid = live.process.pid
    cpu = cpu_seconds([pid])
    reports: list[Any] = []
    deadline = now() + limit
    while len(reports) < clients:
        try:
            reports.append(out.get(timeout=0.2))
        except Exception:   # queue.Empty
            live.check()
            if now() > deadline:
                raise Failure(f"clients not done within {limit:.0f} s") from None
    wall = time.monotonic() - start_at
    server_cpu = cpu_seconds([pid]) - cpu
    for worker in workers:
        worker.join(timeout=10)
    failed = [r.error for r in reports if r.error]
    if failed:
        raise Failure(f"a client failed: {failed[0]}")
    return reports, wall, server_cpu


def bench_cycles(settings: Settings, workdir: Path, results: Results) -> None:
    section = f"cycles, {settings.clients} clients"
    with running(workdir, "--config", str(config_file(workdir, CONFIG, "cinder.ini"))) as live:
        token = issue_token(live.base)
        with api(live.base, token) as client:   # warm the paths up, unmeasured
            for n in range(3):
                one_cycle(client, f"warm-{n}", settings.poll, settings.limit, {})
        pid = live.process.pid
        wait_until_quiet(settings.wait_idle, [pid])
        others = Bystanders([pid])
        reports, wall, server_cpu = run_clients(
            _cycle_client, lambda i: (live.base, token, i, settings.duration, settings.poll,
                                      settings.limit), settings.clients, live,
            settings.duration + settings.limit)
        note = others.note()
    # Clients finish the cycle they are in when the window closes: the rate is over the
    # whole time to the last report.
    cycles = sum(r.cycles for r in reports)
    client_cpu = sum(r.cpu for r in reports)
    steps: dict[str, list[float]] = {}
    for report in reports:
        for step, samples in report.steps.items():
            steps.setdefault(step, []).extend(samples)
    results.raw["cycles"] = {"cycles": cycles, "wall": wall, "server_cpu": server_cpu,
                             "client_cpu": client_cpu,
                             "steps": {k: spread(v) for k, v in steps.items()}}
    results.add(section, "create → available → attach → os-complete → detach → delete → "
                "404, cycles per second", f"{cycles / wall:.1f}/s", "",
                f"{cycles} cycles in {wall:.1f} s; server CPU {server_cpu / wall:.2f} "
                f"cores, clients {client_cpu / wall:.2f}; polling every "
                f"{settings.poll * 1000:.0f} ms; {note}")
    for step, samples in steps.items():
        stats = spread(samples)
        results.add(section, f"  {step}, p50 / p99", f"{ms(stats['p50'])} / "
                    f"{ms(stats['p99'])}")


# -- 3. lists with 10,000 volumes ------------------------------------------------------


@dataclass(frozen=True)
class FillReport:
    made: int
    posts: list[float]
    cpu: float
    error: str


def _fill_client(base: str, token: str, index: int, count: int, start_at: float,
                 out: Queue[FillReport]) -> None:
    posts: list[float] = []
    error = ""
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    cpu = time.process_time()
    try:
        with api(base, token) as client:
            for n in range(count):
                began = now()
                create(client, f"bulk-{index}-{n}")
                posts.append(now() - began)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    out.put(FillReport(len(posts), posts, time.process_time() - cpu, error))


def count_status(client: httpx.Client, status: str) -> int:
    body = expect(client.get("/v3/volumes", params={"status": status, "with_count": "true",
                                                      "limit": 1},
                             headers={"OpenStack-API-Version": "volume 3.45"}), 200).json()
    return int(body["count"])


def bench_list(settings: Settings, workdir: Path, results: Results) -> None:
    section = f"list, {settings.existing} volumes"
    with running(workdir, "--config", str(config_file(workdir, CONFIG, "cinder.ini"))) as live:
        token = issue_token(live.base)
        pid = live.process.pid
        shares = [settings.existing // settings.clients
                  + (1 if i < settings.existing % settings.clients else 0)
                  for i in range(settings.clients)]
        others = Bystanders([pid])
        began = now()
        reports, posted, _ = run_clients(
            _fill_client, lambda i: (live.base, token, i, shares[i]), settings.clients,
            live, settings.limit)
        with api(live.base, token) as client:
            deadline = now() + settings.limit
            while count_status(client, "creating"):
                live.check()
                if now() > deadline:
                    raise Failure(f"volumes still creating after {settings.limit:.0f} s")
                time.sleep(0.2)
            filled = now() - began
            available = count_status(client, "available")
            if available != settings.existing:
                raise Failure(f"{available} volumes available of {settings.existing}")
            posts = spread([x for r in reports for x in r.posts])
            results.add(section, f"{settings.existing} volumes by {settings.clients} "
                        "clients until all available", f"{filled:.1f} s",
                        "", f"{settings.existing / filled:.0f}/s; POST p50 "
                        f"{ms(posts['p50'])}, p99 {ms(posts['p99'])}; all POSTs answered "
                        f"after {posted:.1f} s; {others.note()}")
            results.add(section, "server VmRSS with them",
                        f"{proc_status_kib(pid, 'VmRSS') / 1024:.0f} MiB")
            for path in ("/v3/volumes/detail", "/v3/volumes"):
                wait_until_quiet(settings.wait_idle, [pid])
                others = Bystanders([pid])
                cpu = cpu_seconds([pid])
                samples: list[float] = []
                size = 0
                for run in range(settings.list_runs + 2):   # 2 unmeasured first
                    t = now()
                    response = expect(client.get(path), 200)
                    elapsed = now() - t
                    body = response.json()
                    if len(body["volumes"]) != 1000 or not body.get("volumes_links"):
                        raise Failure(f"GET {path}: {len(body['volumes'])} volumes, links "
                                      f"{body.get('volumes_links')}")
                    size = len(response.content)
                    if run >= 2:
                        samples.append(elapsed)
                server = (cpu_seconds([pid]) - cpu) / (settings.list_runs + 2)
                stats = spread(samples)
                results.raw.setdefault("list", {})[path] = stats
                results.add(section, f"GET {path} (1,000 a page), p50 / p99 of "
                            f"{len(samples)}", f"{ms(stats['p50'])} / {ms(stats['p99'])}",
                            "≤ 150 ms" if path.endswith("detail") else "",
                            f"max {ms(stats['max'])}; server CPU {ms(server)} a request; "
                            f"{size / 1e6:.2f} MB a response; {others.note()}")


# -- 4. the Ceph backend -----------------------------------------------------------------


def lab_fault(live: Live, token: str, path: str, body: dict[str, Any] | None) -> None:
    expect(httpx.post(f"{live.base}/stacklab{path}", json=body, timeout=60,
                      headers={"X-Auth-Token": token}), 200)


def bench_ceph(settings: Settings, workdir: Path, results: Results) -> None:
    section = "ceph backend"
    config = config_file(workdir, CEPH_CONFIG, "cinder-ceph.ini")
    with running(workdir, "--config", str(config)) as live:
        token = issue_token(live.base)
        pid = live.process.pid
        with api(live.base, token) as client:
            expect(client.post("/v3/types", json={"volume_type": {
                "name": "ceph", "extra_specs": {"volume_backend_name": "ceph"}}}), 200)
            create_latencies(client, 3, settings, "warm", "ceph", live.check)
            for label, fault in (
                    ("healthy", None),
                    ("storage1's ceph-osd stopped (degraded, one copy)",
                     {"action": "stop_service", "node": "storage1", "service": "ceph-osd"})):
                if fault is not None:
                    lab_fault(live, token, "/v1/faults", fault)
                wait_until_quiet(settings.wait_idle, [pid])
                others = Bystanders([pid])
                samples = create_latencies(client, settings.ceph_creates, settings, "ceph",
                                           "ceph", live.check)
                stats = spread(samples)
                results.raw.setdefault("ceph", {})[label] = stats
                results.add(section, f"{label}: POST → available, p50 / p99 of "
                            f"{len(samples)}", f"{ms(stats['p50'])} / {ms(stats['p99'])}",
                            "", others.note())
            lab_fault(live, token, "/v1/faults/heal", None)
            for node in ("storage1", "storage2"):
                lab_fault(live, token, f"/v1/nodes/{node}/down", None)
            others = Bystanders([pid])
            began = now()
            volume_id = create(client, "ceph-down", "ceph")
            wait_status(client, volume_id, "error", 0.01, settings.limit, failed=())
            failed_after = now() - began
            host = expect(client.get(f"/v3/volumes/{volume_id}"), 200).json()["volume"].get(
                "os-vol-host-attr:host")
            # Where it failed: the scheduler (no backend took it) or cinder-volume (after
            # rados_connect_timeout, 5 s of the lab's clock).
            where = (f"failed on {host} (cinder-volume)" if host else
                     "never scheduled: no backend passed the filters")
            results.raw.setdefault("ceph", {})["unavailable"] = failed_after
            results.add(section, "both storage nodes off (no quorum): POST → error",
                        f"{failed_after:.2f} s", "", f"{where}; {others.note()}")


# -- main --------------------------------------------------------------------------------


SECTIONS: dict[str, Callable[[Settings, Path, Results], None]] = {
    "create": bench_create, "cycles": bench_cycles, "list": bench_list, "ceph": bench_ceph}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    standard_options(parser)
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma list of: {', '.join(SECTIONS)}")
    parser.add_argument("--creates", type=int, help="measured sequential creates")
    parser.add_argument("--clients", type=int, help="client processes (cycles, list fill)")
    parser.add_argument("--duration", type=float, help="seconds of the cycles window")
    parser.add_argument("--existing", type=int, help="volumes of the list section")
    args = parser.parse_args(argv)

    base = QUICK if args.quick else FULL
    overrides = {"creates": args.creates, "clients": args.clients, "duration": args.duration,
                 "existing": args.existing, "wait_idle": args.wait_idle}
    settings = with_overrides(base, overrides)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section: {', '.join(sorted(unknown))}")
    if not STACKLAB.exists():
        raise SystemExit(f"{STACKLAB} not found: run with the venv's python")

    results = Results()
    results.raw["machine"] = machine_description()
    results.raw["load_average"] = os.getloadavg()
    results.raw["settings"] = asdict(settings)
    log(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
        f"{os.cpu_count()} CPUs")
    began = now()
    with tempfile.TemporaryDirectory(prefix="stacklab-bench-volumes-") as tmp:
        for name in sections:
            log(f"{name} ...")
            SECTIONS[name](settings, Path(tmp), results)
    results.raw["elapsed"] = now() - began
    results.raw["load_average_after"] = os.getloadavg()
    log(f"done in {results.raw['elapsed']:.0f} s; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results.print_table()
    results.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
