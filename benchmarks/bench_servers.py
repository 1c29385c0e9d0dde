#!/usr/bin/env python3
"""Compute servers benchmarks of a live ``stacklab up``: boot latency, concurrent creates, lists.

Every request goes to a cloud this script starts (``stacklab up --ephemeral``
on a free 127.0.0.1 port, ``[stacklab] boot_profile = fast``, the default),
through httpx with a project-scoped admin token and ``OpenStack-API-Version:
compute 2.96``. Every response's status is checked: anything unexpected, or
a server that ends in ERROR, stops the run with the response. Every loop is
bounded by count and by time. The figures are printed as a Markdown table.

    python benchmarks/bench_servers.py --quick     # smoke run, about a minute
    python benchmarks/bench_servers.py             # the recorded run, a few minutes

Sections (``--sections boot,concurrent,list``):

boot        boot-to-ACTIVE latency on the built-in 12-node lab: N sequential creates
            (networks "none", a 64 MB / 1 vCPU / 1 GB flavor, the CirrOS image), each
            polled with GET /servers/{id} until ACTIVE; the servers are deleted (and
            waited for until 404) after each batch, since the lab's two computes hold
            4 such servers each (1 vCPU at cpu_allocation_ratio 4).
concurrent  1,000 servers created by 20 concurrent client processes on a 100-compute
            topology, timed until all are ACTIVE, in two ways: "fire" (the clients POST
            back to back, one watcher lists until none is left in BUILD) and "wait"
            (each client POSTs one server and polls it until ACTIVE before the next, as
            ``openstack server create --wait`` does).
list        GET /servers/detail?limit=1000 and GET /servers?limit=1000 with 10,000
            servers in the project (created 500 a request with min_count/max_count on
            the 100-compute topology), p50/p99 of 20 requests each.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import httpx
import yaml

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
    ms,
    running,
    spread,
    standard_options,
    with_overrides,
)
from stacklab.topology.loader import default_lab_data, topology_from_data

now = time.perf_counter  # a stopwatch outside the server, not the server's clock

MICROVERSION = "compute 2.96"
CIRROS = "cirros-0.6.2-x86_64-disk"
FLAVOR = {"name": "bench.64", "ram": 64, "vcpus": 1, "disk": 1}
PASSWORD_AUTH = {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
}}
# nova's [quota] with -1 for unlimited, which check_quota honours (limit >= 0 only).
UNLIMITED_QUOTA = "[quota]\ninstances = -1\ncores = -1\nram = -1\n"
# The 100-node topology: the lab's compute1/compute2 (1536 MB, 1 vCPU each) replaced by
# computes large enough for 10,000 such servers: 128 each at cpu_allocation_ratio 4
# (RAM (65536 - 512) / 64 = 1016, disk 1000 GB), 12,800 in all.
COMPUTE_SIZE = {"memory_mb": 65536, "vcpus": 32, "disk_gb": 1000}


@dataclass(frozen=True)
class Settings:
    boots: int               # boot section: measured sequential creates
    batch: int               # servers alive at once before they are deleted
    warmup: int              # unmeasured boots first
    poll: float              # seconds between two GET /servers/{id} of the boot section
    computes: int            # compute nodes of the large topology
    total: int               # concurrent section: servers to create
    clients: int
    watch_poll: float        # concurrent "fire": seconds between two watcher lists
    wait_poll: float         # concurrent "wait": seconds between two GETs of a client
    existing: int            # list section: servers in the project
    per_request: int         # min_count = max_count of each create of the list section
    list_runs: int
    limit: float             # seconds any one loop may take at most
    wait_idle: float


FULL = Settings(boots=200, batch=8, warmup=8, poll=0.002, computes=100, total=1000,
                clients=20, watch_poll=0.02, wait_poll=0.02, existing=10_000, per_request=500,
                list_runs=20, limit=300.0, wait_idle=60.0)
QUICK = Settings(boots=40, batch=8, warmup=8, poll=0.002, computes=100, total=200,
                 clients=20, watch_poll=0.02, wait_poll=0.02, existing=2000, per_request=500,
                 list_runs=5, limit=60.0, wait_idle=0.0)


# -- the cloud ---------------------------------------------------------------------------


def large_topology(computes: int) -> dict[str, Any]:
    """The lab, its two computes replaced by ``computes`` large ones (one ``count:`` entry)."""
    data: dict[str, Any] = default_lab_data()
    nodes = [n for n in data["nodes"] if "compute" not in n["roles"]]
    # .111 onwards is free on both networks (the lab uses .51-.110); a /24 holds 144 more.
    if computes > 144:
        raise SystemExit("--computes: at most 144 fit the lab's /24 networks")
    nodes.append({"name": "compute{n}", "count": computes, "roles": ["compute"],
                  **COMPUTE_SIZE,
                  "addresses": {"management": "10.10.10.111", "overlay": "10.20.20.111"}})
    data["nodes"] = nodes
    topology_from_data(data, source="bench topology")   # fail here, not in the server
    return data


# -- HTTP --------------------------------------------------------------------------------




def issue_token(base: str) -> str:
    response = expect(httpx.post(f"{base}/identity/v3/auth/tokens?nocatalog",
                                 json=PASSWORD_AUTH, timeout=30), 201)
    return response.headers["X-Subject-Token"]


def api(base: str, token: str) -> httpx.Client:
    """One keep-alive connection to the compute API, as the admin of project admin."""
    return httpx.Client(base_url=f"{base}/compute/v2.1", timeout=60, headers={
        "X-Auth-Token": token, "OpenStack-API-Version": MICROVERSION,
        "Accept": "application/json"})


@dataclass(frozen=True)
class Boot:
    """What a create needs: the image and flavor ids."""

    image: str
    flavor: str

    def body(self, name: str, count: int = 1) -> dict[str, Any]:
        server: dict[str, Any] = {"name": name, "imageRef": self.image,
                                  "flavorRef": self.flavor, "networks": "none"}
        if count > 1:
            server.update(min_count=count, max_count=count)
        return {"server": server}


def prepare(base: str, token: str) -> Boot:
    images = expect(httpx.get(f"{base}/image/v2/images", params={"name": CIRROS},
                              headers={"X-Auth-Token": token}, timeout=30), 200)
    found = images.json()["images"]
    if not found:
        raise Failure(f"no image {CIRROS} in the cloud")
    with api(base, token) as client:
        flavor = expect(client.post("/flavors", json={"flavor": FLAVOR}), 200)
    return Boot(found[0]["id"], flavor.json()["flavor"]["id"])


def create(client: httpx.Client, boot: Boot, name: str, count: int = 1) -> str:
    response = expect(client.post("/servers", json=boot.body(name, count)), 202)
    server_id: str = response.json()["server"]["id"]
    return server_id


def wait_active(client: httpx.Client, server_id: str, interval: float, limit: float) -> int:
    """Poll until ACTIVE; returns the number of GETs. ERROR or a time-out is a failure."""
    deadline = now() + limit
    polls = 0
    while True:
        server = expect(client.get(f"/servers/{server_id}"), 200).json()["server"]
        polls += 1
        status = server["status"]
        if status == "ACTIVE":
            return polls
        if status != "BUILD":
            raise Failure(f"server {server_id} went {status}: {server.get('fault')}")
        if now() > deadline:
            raise Failure(f"server {server_id} still BUILD after {limit:.0f} s")
        time.sleep(interval)


def delete_and_wait(client: httpx.Client, server_ids: Sequence[str], limit: float) -> None:
    for server_id in server_ids:
        expect(client.delete(f"/servers/{server_id}"), 204)
    deadline = now() + limit
    for server_id in server_ids:
        while expect(client.get(f"/servers/{server_id}"), 200, 404).status_code == 200:
            if now() > deadline:
                raise Failure(f"server {server_id} not gone {limit:.0f} s after its delete")
            time.sleep(0.002)


def listed(client: httpx.Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every server of a list, following the next links (``limit`` per page)."""
    servers: list[dict[str, Any]] = []
    query = {"limit": 1000, **params}
    for _ in range(1000):
        body = expect(client.get(path, params=query), 200).json()
        servers += body["servers"]
        nexts = [link for link in body.get("servers_links", []) if link["rel"] == "next"]
        if not nexts or not body["servers"]:
            return servers
        query["marker"] = body["servers"][-1]["id"]
    raise Failure(f"{path}: more than 1000 pages")


def any_building(client: httpx.Client) -> bool:
    """Whether a server of the project is not ACTIVE yet (BUILD, or ERROR: checked later).

    Sorting by ``vm_state`` (a nova sort key) descending puts ``error`` and
    ``building`` before ``active``: the first server is ACTIVE only once they all
    are. ``?status=BUILD`` would be the obvious question, but before commit
    122df04 stacklab's status filter matched only ``building`` servers with no
    task state (not those in networking, block_device_mapping or spawning), so it
    answered "none" too early; the sort works on every version.
    """
    first = expect(client.get("/servers/detail", params={
        "sort_key": "vm_state", "sort_dir": "desc", "limit": 1}), 200).json()["servers"]
    return bool(first) and first[0]["status"] != "ACTIVE"


def check_all_active(client: httpx.Client, expected: int) -> None:
    errors = listed(client, "/servers/detail", status="ERROR")
    if errors:
        raise Failure(f"{len(errors)} servers in ERROR, first: {errors[0].get('fault')}")
    active = len(listed(client, "/servers", status="ACTIVE"))
    if active != expected:
        raise Failure(f"{active} servers ACTIVE, expected {expected}")


# -- 1. boot to ACTIVE, sequential -------------------------------------------------------


def bench_boot(settings: Settings, workdir: Path, results: Results) -> None:
    section = "boot to ACTIVE"
    with running(workdir) as live:
        token = issue_token(live.base)
        boot = prepare(live.base, token)
        wait_until_quiet(settings.wait_idle, [live.process.pid])
        others = Bystanders([live.process.pid])
        latencies: list[float] = []
        accepted: list[float] = []
        polls: list[int] = []
        deadline = now() + settings.limit
        with api(live.base, token) as client:
            done = -settings.warmup
            while done < settings.boots:
                alive: list[str] = []
                for _ in range(min(settings.batch, settings.boots - done)):
                    started = now()
                    server_id = create(client, boot, f"boot-{done}")
                    posted = now()
                    count = wait_active(client, server_id, settings.poll, 60)
                    ended = now()
                    alive.append(server_id)
                    if done >= 0:
                        latencies.append(ended - started)
                        accepted.append(posted - started)
                        polls.append(count)
                    done += 1
                delete_and_wait(client, alive, 60)
                live.check()
                if now() > deadline:
                    break
        note = others.note()
    results.raw["boot"] = {"create_to_active": spread(latencies), "post": spread(accepted),
                           "polls": polls}
    n = len(latencies)
    stats = spread(latencies)
    results.add(section, f"POST /servers → GET shows ACTIVE, p50 / p99 of {n}",
                f"{ms(stats['p50'])} / {ms(stats['p99'])}", "p50 ≤ 100 ms",
                f"max {ms(stats['max'])}; polled every {settings.poll * 1000:.0f} ms "
                f"(median {sorted(polls)[len(polls) // 2]} GETs); 12-node lab, "
                f"batches of {settings.batch} deleted between; {settings.warmup} unmeasured "
                f"boots first; {note}")
    post = spread(accepted)
    results.add(section, f"POST /servers alone (202), p50 / p99 of {n}",
                f"{ms(post['p50'])} / {ms(post['p99'])}", "", f"max {ms(post['max'])}")


# -- 2. 1,000 servers, 20 clients ----------------------------------------------------------


@dataclass(frozen=True)
class ClientReport:
    posted: int
    finished_at: float          # time.monotonic(): one clock for every process
    last_post_at: float
    latencies: list[float]      # "wait" mode: POST → ACTIVE of each server
    polls: int
    cpu: float
    error: str


def _client(mode: str, base: str, token: str, boot: Boot, count: int, index: int,
            start_at: float, poll: float, limit: float, out: Queue[ClientReport]) -> None:
    latencies: list[float] = []
    posted = polls = 0
    error = ""
    last_post_at = start_at
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    cpu = time.process_time()
    try:
        with api(base, token) as client:
            for n in range(count):
                started = now()
                server_id = create(client, boot, f"c{index}-{n}")
                posted += 1
                last_post_at = time.monotonic()
                if mode == "wait":
                    polls += wait_active(client, server_id, poll, limit)
                    latencies.append(now() - started)
    except Exception as exc:   # reported to the parent, which fails the run
        error = f"{type(exc).__name__}: {exc}"
    out.put(ClientReport(posted, time.monotonic(), last_post_at, latencies, polls,
                         time.process_time() - cpu, error))


def concurrent_run(mode: str, settings: Settings, live: Live, token: str, boot: Boot,
                   results: Results, offset: int) -> None:
    section = f"{settings.total} servers, {settings.clients} clients"
    pid = live.process.pid
    wait_until_quiet(settings.wait_idle, [pid])
    shares = [settings.total // settings.clients
              + (1 if i < settings.total % settings.clients else 0)
              for i in range(settings.clients)]
    ctx = mp.get_context("fork")
    out: Queue[ClientReport] = ctx.Queue()
    start_at = time.monotonic() + 0.5
    workers = [ctx.Process(target=_client, args=(mode, live.base, token, boot, share, i,
                                                 start_at, settings.wait_poll, settings.limit,
                                                 out))
               for i, share in enumerate(shares)]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu_before = cpu_seconds([pid])
    others = Bystanders([pid])
    reports: list[ClientReport] = []
    watches = 0
    all_active_at = 0.0
    with api(live.base, token) as watcher:
        deadline = now() + settings.limit
        while True:
            while True:
                try:
                    reports.append(out.get_nowait())
                except Exception:   # queue.Empty
                    break
            failed = [r.error for r in reports if r.error]
            if failed:
                raise Failure(f"a client failed: {failed[0]}")
            if len(reports) == len(workers):
                if mode == "wait":
                    all_active_at = max(r.finished_at for r in reports)
                    break
                # Every POST answered: done once nothing is left in BUILD.
                watches += 1
                if not any_building(watcher):
                    all_active_at = time.monotonic()
                    break
            live.check()
            if now() > deadline:
                raise Failure(f"{mode}: not all ACTIVE within {settings.limit:.0f} s")
            time.sleep(settings.watch_poll if mode == "fire" else 0.05)
        server_cpu = cpu_seconds([pid]) - cpu_before
        note = others.note()
        for worker in workers:
            worker.join(timeout=10)
        check_all_active(watcher, offset + settings.total)
    wall = all_active_at - start_at
    posts_done = max(r.last_post_at for r in reports) - start_at
    client_cpu = sum(r.cpu for r in reports)
    posted = sum(r.posted for r in reports)
    results.raw.setdefault("concurrent", {})[mode] = {
        "wall": wall, "posts_done": posts_done, "posted": posted, "server_cpu": server_cpu,
        "client_cpu": client_cpu, "watches": watches,
        "latency": spread([x for r in reports for x in r.latencies]) if mode == "wait" else None}
    cpu_note = (f"server CPU {server_cpu / wall:.2f} cores, clients {client_cpu / wall:.2f}; "
                f"{settings.computes} computes; {note}")
    if mode == "fire":
        results.add(section, "fire: all POSTs, then all ACTIVE (a watcher lists "
                    f"every {settings.watch_poll * 1000:.0f} ms)",
                    f"{wall:.2f} s", "≤ 10 s",
                    f"POSTs answered after {posts_done:.2f} s ({posted / posts_done:.0f} "
                    f"creates/s accepted); {cpu_note}")
        results.add(section, "fire: servers ACTIVE per second", f"{posted / wall:.0f}/s")
    else:
        stats = spread([x for r in reports for x in r.latencies])
        polls = sum(r.polls for r in reports)
        results.add(section, "wait: each client POSTs, polls until ACTIVE, next",
                    f"{wall:.2f} s", "≤ 10 s",
                    f"{posted / wall:.0f} servers ACTIVE/s; POST → ACTIVE p50 / p99 "
                    f"{ms(stats['p50'])} / {ms(stats['p99'])}; {polls} GETs, every "
                    f"{settings.wait_poll * 1000:.0f} ms; {cpu_note}")


def bench_concurrent(settings: Settings, workdir: Path, results: Results,
                     modes: Sequence[str]) -> None:
    topology = workdir / "topology-large.yaml"
    topology.write_text(yaml.safe_dump(large_topology(settings.computes), sort_keys=False))
    config = workdir / "quota.ini"
    config.write_text(UNLIMITED_QUOTA)
    offset = 0
    with running(workdir, "--topology", str(topology), "--config", str(config)) as live:
        token = issue_token(live.base)
        boot = prepare(live.base, token)
        for mode in modes:
            concurrent_run(mode, settings, live, token, boot, results, offset)
            offset += settings.total


# -- 3. listing 10,000 servers -----------------------------------------------------------


def bench_list(settings: Settings, workdir: Path, results: Results) -> None:
    section = f"list, {settings.existing} servers"
    topology = workdir / "topology-large.yaml"
    topology.write_text(yaml.safe_dump(large_topology(settings.computes), sort_keys=False))
    config = workdir / "quota.ini"
    config.write_text(UNLIMITED_QUOTA)
    with running(workdir, "--topology", str(topology), "--config", str(config)) as live:
        pid = live.process.pid
        token = issue_token(live.base)
        boot = prepare(live.base, token)
        with api(live.base, token) as client:
            wait_until_quiet(settings.wait_idle, [pid])
            others = Bystanders([pid])
            started = now()
            posts: list[float] = []
            made = 0
            while made < settings.existing:
                count = min(settings.per_request, settings.existing - made)
                posted = now()
                create(client, boot, f"bulk-{made}", count)
                posts.append(now() - posted)
                made += count
            deadline = now() + settings.limit
            while any_building(client):
                live.check()
                if now() > deadline:
                    raise Failure(f"servers still BUILD after {settings.limit:.0f} s")
                time.sleep(0.05)
            filled = now() - started
            note = others.note()
            check_all_active(client, settings.existing)
            results.add(section, f"create {settings.existing} ({len(posts)} POSTs of "
                        f"min_count = max_count = {settings.per_request}) until all ACTIVE",
                        f"{filled:.1f} s", "",
                        f"POST p50 {ms(spread(posts)['p50'])}, max {ms(max(posts))}; {note}")
            results.add(section, "server VmRSS with them",
                        f"{proc_status_kib(pid, 'VmRSS') / 1024:.0f} MiB")
            for path, what in (("/servers/detail", "GET /servers/detail?limit=1000"),
                               ("/servers", "GET /servers?limit=1000")):
                wait_until_quiet(settings.wait_idle, [pid])
                others = Bystanders([pid])
                samples: list[float] = []
                size = 0
                for run in range(settings.list_runs + 2):   # 2 unmeasured first
                    began = now()
                    response = expect(client.get(path, params={"limit": 1000}), 200)
                    elapsed = now() - began
                    body = response.json()
                    if len(body["servers"]) != 1000 or not body.get("servers_links"):
                        raise Failure(f"{what}: {len(body['servers'])} servers, links "
                                      f"{body.get('servers_links')}")
                    size = len(response.content)
                    if run >= 2:
                        samples.append(elapsed)
                stats = spread(samples)
                results.raw.setdefault("list", {})[what] = stats
                results.add(section, f"{what}, p50 / p99 of {len(samples)}",
                            f"{ms(stats['p50'])} / {ms(stats['p99'])}",
                            "≤ 150 ms" if "detail" in path else "",
                            f"max {ms(stats['max'])}; {size / 1e6:.2f} MB a response; "
                            f"{others.note()}")


# -- main --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    standard_options(parser)
    parser.add_argument("--sections", default="boot,concurrent,list",
                        help="comma list of: boot, concurrent, list")
    parser.add_argument("--modes", default="fire,wait",
                        help="concurrent section: fire, wait or both")
    parser.add_argument("--boots", type=int, help="measured sequential boots")
    parser.add_argument("--total", type=int, help="servers of the concurrent section")
    parser.add_argument("--clients", type=int, help="client processes of the concurrent section")
    parser.add_argument("--existing", type=int, help="servers of the list section")
    parser.add_argument("--computes", type=int, help="compute nodes of the large topology")
    args = parser.parse_args(argv)

    base = QUICK if args.quick else FULL
    overrides = {"boots": args.boots, "total": args.total, "clients": args.clients,
                 "existing": args.existing, "computes": args.computes,
                 "wait_idle": args.wait_idle}
    settings = with_overrides(base, overrides)
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = (sections - {"boot", "concurrent", "list"}) | (set(modes) - {"fire", "wait"})
    if unknown:
        raise SystemExit(f"unknown section or mode: {', '.join(sorted(unknown))}")
    if not STACKLAB.exists():
        raise SystemExit(f"{STACKLAB} not found: run with the venv's python")

    results = Results()
    results.raw["machine"] = machine_description()
    results.raw["settings"] = asdict(settings)
    began = now()
    with tempfile.TemporaryDirectory(prefix="stacklab-bench-servers-") as tmp:
        workdir = Path(tmp)
        if "boot" in sections:
            print("boot to ACTIVE ...", file=sys.stderr)
            bench_boot(settings, workdir, results)
        if "concurrent" in sections:
            print("concurrent creates ...", file=sys.stderr)
            bench_concurrent(settings, workdir, results, modes)
        if "list" in sections:
            print("list ...", file=sys.stderr)
            bench_list(settings, workdir, results)
    return results.finish(now() - began, args.json)


if __name__ == "__main__":
    sys.exit(main())
