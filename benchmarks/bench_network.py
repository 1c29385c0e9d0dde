#!/usr/bin/env python3
"""Networking benchmarks of a live ``stacklab up``: ports, port lists, HA routers, VRRP failover.

Every request goes to a cloud this script starts (``stacklab up --ephemeral``
on a free 127.0.0.1 port, one fresh cloud per section), through httpx with a
project-scoped admin token (admin/secret, project admin, domain Default).
Every response's status is checked: anything unexpected stops the run with
the response. Every loop is bounded by count and by time. The figures are
printed as a Markdown table on stdout (progress on stderr).

    python benchmarks/bench_network.py --quick     # smoke run, about two minutes
    python benchmarks/bench_network.py             # the recorded run, about ten minutes

Sections (``--sections ports,list,routers,failover,profile``):

ports     neutron quotas lifted (port, network, subnet: -1), N networks with one /20
          subnet each; 2,000 ports created by 20 client processes (one keep-alive
          connection each, POST back to back, networks taken in turn): ports/s and the
          p50/p99 of one create.
list      the same cloud filled to exactly 10,000 ports (same 20 clients; that rate is
          reported too), then GET /networking/v2.0/ports and ?limit=1000, p50/p99 of 20,
          and the server's CPU time a request (its threads' schedstat).
routers   HA routers (the lab's default: l3_ha, two L3 agents each, ha- ports, a VRID
          and a VRRP group per router), router quota lifted: routers/s sequential (one
          client) and with 10 client processes, each in a fresh cloud; then checks that
          every router has two L3 agents, two ha- ports, and that each elects exactly
          one active agent.
failover  VRRP failover in real time ([stacklab] ha_time_scale = 1.0): an HA router,
          wait until exactly one agent reports ha_state active, power that agent's node
          off (POST /stacklab/v1/nodes/<fqdn>/down) and time until the other agent
          reports active; power it back up, wait until the router settles, repeat. The
          figure is compared with keepalived's formula (below).
profile   the port creates and lists again, in-process (a Cloud driven through httpx's
          ASGITransport on this process's event loop) under cProfile: the hot spots,
          printed on stderr and written as .prof files to --profile-dir.

The failover formula. neutron writes keepalived.conf with priority 50, advert_int
ha_vrrp_advert_int = 2 s, nopreempt, VRRPv2. A backup takes over once it has heard
no advert for Master_Down_Interval = 3 x advert_int + Skew_Time, with the v2 skew
(256 - 50) / 256 s: 6.80 s after the *last advert it heard*. The L3 agent then
tells the server one batch later (ha_vrrp_advert_int, 2 s). The master advertises
every 2 s, so powering it off lands a uniformly random 0-2 s after its last advert:
failover = 8.80 s - phase, between 6.80 and 8.80 s (8.80 is the worst case). The
script estimates each run's phase from when the master was elected (its report
arrives one batch after the election) and prints that run's predicted figure too;
``--phases 0.05,1,1.95`` powers the master off at chosen points of that cycle instead
(expected 8.75, 7.80 and 6.85 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import functools
import inspect
import io
import multiprocessing as mp
import pstats
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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

NET = "/networking/v2.0"
PASSWORD_AUTH = {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
}}
UNLIMITED_PORTS = {"quota": {"port": -1, "network": -1, "subnet": -1}}
UNLIMITED_ROUTERS = {"quota": {"router": -1}}
HA_OWNER = "network:router_ha_interface"
# neutron's keepalived.conf for an HA router (agent/linux/keepalived.py, conf/agent/l3/ha.py),
# written out here, not imported, so the benchmark checks the implementation against it.
HA_PRIORITY = 50
ADVERT_INT = 2.0               # [DEFAULT] ha_vrrp_advert_int
SKEW_V2 = (256 - HA_PRIORITY) / 256          # RFC 3768 §6.1, in seconds
MASTER_DOWN = 3 * ADVERT_INT + SKEW_V2       # 6.80 s
REPORT_BATCH = ADVERT_INT                    # the L3 agent's BatchNotifier interval
FAILOVER_WORST = MASTER_DOWN + REPORT_BATCH  # 8.80 s
FAILOVER_BEST = FAILOVER_WORST - ADVERT_INT  # 6.80 s


@dataclass(frozen=True)
class Settings:
    networks: int            # networks with one /20 subnet each
    ports: int               # ports section: ports created by the clients
    clients: int             # client processes creating ports
    existing: int            # list section: ports in the cloud when listing
    list_runs: int
    routers: int             # routers section: HA routers per run (sequential, concurrent)
    router_clients: int
    failovers: int
    poll: float              # seconds between two GET .../l3-agents while timing a failover
    phases: tuple[float, ...]  # failover: power off this long after an advert (empty: at once)
    limit: float             # seconds any one loop may take at most
    wait_idle: float


FULL = Settings(networks=5, ports=2000, clients=20, existing=10_000, list_runs=20,
                routers=200, router_clients=10, failovers=3, poll=0.02, phases=(),
                limit=600.0, wait_idle=60.0)
QUICK = Settings(networks=5, ports=300, clients=20, existing=1500, list_runs=5,
                 routers=40, router_clients=10, failovers=1, poll=0.02, phases=(),
                 limit=120.0, wait_idle=0.0)


# -- the cloud ---------------------------------------------------------------------------


# -- HTTP --------------------------------------------------------------------------------


def issue_token(base: str) -> tuple[str, str]:
    """A project-scoped admin token, and the project's id."""
    response = expect(httpx.post(f"{base}/identity/v3/auth/tokens?nocatalog",
                                 json=PASSWORD_AUTH, timeout=30), 201)
    return response.headers["X-Subject-Token"], response.json()["token"]["project"]["id"]


def api(base: str, token: str) -> httpx.Client:
    """One keep-alive connection, as the admin of project admin."""
    return httpx.Client(base_url=base, timeout=120, headers={
        "X-Auth-Token": token, "Accept": "application/json"})


def make_networks(client: httpx.Client, project: str, count: int) -> list[str]:
    """Quotas lifted, then ``count`` networks with a /20 each (10.0.0.0/20, 10.0.16.0/20...)."""
    expect(client.put(f"{NET}/quotas/{project}", json=UNLIMITED_PORTS), 200)
    networks = []
    for n in range(count):
        net = expect(client.post(f"{NET}/networks", json={"network": {
            "name": f"bench-net-{n}"}}), 201).json()["network"]
        cidr = f"10.{n // 16}.{(n % 16) * 16}.0/20"
        expect(client.post(f"{NET}/subnets", json={"subnet": {
            "network_id": net["id"], "ip_version": 4, "cidr": cidr,
            "name": f"bench-subnet-{n}"}}), 201)
        networks.append(net["id"])
    return networks


def server_cpu(pid: int) -> float:
    """Seconds the server's threads have run on a CPU (the scheduler's own count, in ns;
    /proc/<pid>/stat counts in 10 ms ticks, too coarse for one request)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def port_count(client: httpx.Client) -> int:
    body = expect(client.get(f"{NET}/ports", params={"fields": "id"}), 200).json()
    return len(body["ports"])


# -- concurrent creates: client processes --------------------------------------------------


@dataclass(frozen=True)
class ClientReport:
    created: int
    latencies: list[float]
    ids: list[str]
    first_at: float          # time.monotonic(): one clock for every process
    finished_at: float
    cpu: float
    error: str


def _client(base: str, token: str, path: str, key: str, bodies: list[dict[str, Any]],
            start_at: float, out: Queue[ClientReport]) -> None:
    latencies: list[float] = []
    ids: list[str] = []
    error = ""
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    first_at = time.monotonic()
    cpu = time.process_time()
    try:
        with api(base, token) as client:
            for body in bodies:
                started = now()
                response = expect(client.post(path, json=body), 201)
                latencies.append(now() - started)
                ids.append(response.json()[key]["id"])
    except Exception as exc:   # reported to the parent, which fails the run
        error = f"{type(exc).__name__}: {exc}"
    out.put(ClientReport(len(ids), latencies, ids, first_at, time.monotonic(),
                         time.process_time() - cpu, error))


@dataclass(frozen=True)
class Burst:
    wall: float
    latencies: list[float]
    ids: list[str]
    server_cpu: float
    client_cpu: float
    others: str

    @property
    def rate(self) -> float:
        return len(self.ids) / self.wall


def burst(live: Live, token: str, path: str, key: str, bodies: Sequence[dict[str, Any]],
          clients: int, limit: float) -> Burst:
    """POST every body, spread over ``clients`` processes sending back to back."""
    pid = live.process.pid
    shares = [list(bodies[i::clients]) for i in range(clients)]
    ctx = mp.get_context("fork")
    out: Queue[ClientReport] = ctx.Queue()
    start_at = time.monotonic() + 0.5
    workers = [ctx.Process(target=_client, args=(live.base, token, path, key, share,
                                                 start_at, out))
               for share in shares if share]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu_before = cpu_seconds([pid])
    others = Bystanders([pid])
    reports: list[ClientReport] = []
    deadline = now() + limit
    try:
        while len(reports) < len(workers):
            try:
                reports.append(out.get(timeout=0.2))
            except Exception:   # queue.Empty
                live.check()
                if now() > deadline:
                    raise Failure(f"POST {path}: not done within {limit:.0f} s") from None
        server_cpu = cpu_seconds([pid]) - cpu_before
        note = others.note()
    finally:
        for worker in workers:
            worker.join(timeout=10)
            if worker.is_alive():
                worker.kill()
    failed = [r.error for r in reports if r.error]
    if failed:
        raise Failure(f"a client failed: {failed[0]}")
    wall = max(r.finished_at for r in reports) - min(r.first_at for r in reports)
    ids = [i for r in reports for i in r.ids]
    if len(ids) != len(bodies) or len(set(ids)) != len(ids):
        raise Failure(f"POST {path}: {len(ids)} answers ({len(set(ids))} distinct) for "
                      f"{len(bodies)} creates")
    return Burst(wall, [x for r in reports for x in r.latencies], ids, server_cpu,
                 sum(r.cpu for r in reports), note)


def port_bodies(networks: Sequence[str], count: int, offset: int) -> list[dict[str, Any]]:
    return [{"port": {"network_id": networks[(offset + i) % len(networks)],
                      "name": f"bench-port-{offset + i}"}} for i in range(count)]


def report_burst(results: Results, section: str, what: str, unit: str, run: Burst) -> None:
    stats = spread(run.latencies)
    results.add(section, f"{what}: {unit}/s", f"{run.rate:.0f}/s",
                note=f"{len(run.ids)} in {run.wall:.2f} s; server CPU "
                f"{run.server_cpu / run.wall:.2f} cores, clients "
                f"{run.client_cpu / run.wall:.2f}; {run.others}")
    results.add(section, f"{what}: one create, p50 / p99", f"{ms(stats['p50'])} / "
                f"{ms(stats['p99'])}", note=f"max {ms(stats['max'])}")


# -- 1 and 2. ports: creates, then lists ----------------------------------------------------


def bench_ports(settings: Settings, workdir: Path, results: Results,
                sections: set[str]) -> None:
    with running(workdir) as live:
        pid = live.process.pid
        token, project = issue_token(live.base)
        with api(live.base, token) as client:
            networks = make_networks(client, project, settings.networks)
            made = 0
            if "ports" in sections:
                section = "ports"
                wait_until_quiet(settings.wait_idle, [pid])
                run = burst(live, token, f"{NET}/ports", "port",
                            port_bodies(networks, settings.ports, made),
                            settings.clients, settings.limit)
                made += settings.ports
                results.raw["ports"] = {"rate": run.rate, "wall": run.wall,
                                        "latency": spread(run.latencies)}
                report_burst(results, section, f"{settings.ports} ports, {settings.clients} "
                             f"clients, {settings.networks} networks with a /20", "ports", run)
            if "list" not in sections:
                return
            section = f"list, {settings.existing} ports"
            missing = settings.existing - port_count(client)
            if missing < 0:
                raise Failure(f"already more than {settings.existing} ports")
            if missing:
                wait_until_quiet(settings.wait_idle, [pid])
                run = burst(live, token, f"{NET}/ports", "port",
                            port_bodies(networks, missing, made), settings.clients,
                            settings.limit)
                results.raw["fill"] = {"rate": run.rate, "wall": run.wall,
                                       "latency": spread(run.latencies)}
                report_burst(results, section, f"filling up to {settings.existing} "
                             f"(+{missing}), same clients", "ports", run)
            total = port_count(client)
            if total != settings.existing:
                raise Failure(f"{total} ports listed, expected {settings.existing}")
            results.add(section, "server VmRSS with them",
                        f"{proc_status_kib(pid, 'VmRSS') / 1024:.0f} MiB")
            for params, what, expected in (
                    ({}, "GET /v2.0/ports", settings.existing),
                    ({"limit": 1000}, "GET /v2.0/ports?limit=1000", 1000)):
                wait_until_quiet(settings.wait_idle, [pid])
                others = Bystanders([pid])
                samples: list[float] = []
                cpu: list[float] = []
                size = 0
                for n in range(settings.list_runs + 2):   # 2 unmeasured first
                    began, began_cpu = now(), server_cpu(pid)
                    response = expect(client.get(f"{NET}/ports", params=params), 200)
                    elapsed, used = now() - began, server_cpu(pid) - began_cpu
                    body = response.json()
                    if len(body["ports"]) != expected:
                        raise Failure(f"{what}: {len(body['ports'])} ports, expected {expected}")
                    if params and not body.get("ports_links"):
                        raise Failure(f"{what}: no next link")
                    size = len(response.content)
                    if n >= 2:
                        samples.append(elapsed)
                        cpu.append(used)
                stats = spread(samples)
                cpu_stats = spread(cpu)
                results.raw.setdefault("list", {})[what] = {**stats, "server_cpu": cpu_stats}
                results.add(section, f"{what}, p50 / p99 of {len(samples)}",
                            f"{ms(stats['p50'])} / {ms(stats['p99'])}",
                            note=f"max {ms(stats['max'])}; {size / 1e6:.2f} MB a response; "
                            f"{others.note()}")
                # What the server itself spent: less swayed by other processes than the
                # wall clock when the machine is not idle.
                results.add(section, f"{what}, server CPU a request, p50 / p99",
                            f"{ms(cpu_stats['p50'])} / {ms(cpu_stats['p99'])}")


# -- 3. HA router creation -----------------------------------------------------------------


def router_agents(client: httpx.Client, router_id: str) -> list[dict[str, Any]]:
    agents: list[dict[str, Any]] = expect(client.get(
        f"{NET}/routers/{router_id}/l3-agents"), 200).json()["agents"]
    return agents


def check_routers(client: httpx.Client, router_ids: Sequence[str], limit: float) -> float:
    """Two L3 agents and two ha- ports each; every router elects one active agent.

    Returns the seconds until the last router had exactly one active agent.
    """
    ha_ports = expect(client.get(f"{NET}/ports", params={"device_owner": HA_OWNER}),
                      200).json()["ports"]
    per_router: dict[str, int] = {}
    for port in ha_ports:
        per_router[port["device_id"]] = per_router.get(port["device_id"], 0) + 1
    wrong = [r for r in router_ids if per_router.get(r) != 2]
    if wrong:
        raise Failure(f"{len(wrong)} routers without two ha- ports, first {wrong[0]}: "
                      f"{per_router.get(wrong[0])}")
    started = now()
    pending = list(router_ids)
    deadline = started + limit
    while pending:
        still = []
        for router_id in pending:
            agents = router_agents(client, router_id)
            if len(agents) != 2 or not all(a["alive"] for a in agents):
                raise Failure(f"router {router_id}: {len(agents)} L3 agents: {agents}")
            states = sorted(str(a.get("ha_state")) for a in agents)
            if states != ["active", "standby"]:
                still.append(router_id)
        pending = still
        if pending:
            if now() > deadline:
                raise Failure(f"{len(pending)} routers without exactly one active agent "
                              f"after {limit:.0f} s")
            time.sleep(0.2)
    return now() - started


def bench_routers(settings: Settings, workdir: Path, results: Results) -> None:
    section = f"HA routers, {settings.routers} a run"
    for mode in ("sequential", "concurrent"):
        with running(workdir) as live:
            pid = live.process.pid
            token, project = issue_token(live.base)
            with api(live.base, token) as client:
                expect(client.put(f"{NET}/quotas/{project}", json=UNLIMITED_ROUTERS), 200)
                # The project's first HA router also makes its HA network and subnet:
                # one unmeasured router first, in both modes.
                first = expect(client.post(f"{NET}/routers", json={"router": {
                    "name": "bench-router-first"}}), 201).json()["router"]
                if first["ha"] is not True:
                    raise Failure(f"a router of the lab is not HA: {first}")
                bodies = [{"router": {"name": f"bench-router-{i}"}}
                          for i in range(settings.routers)]
                wait_until_quiet(settings.wait_idle, [pid])
                if mode == "sequential":
                    others = Bystanders([pid])
                    cpu_before = cpu_seconds([pid])
                    latencies: list[float] = []
                    ids: list[str] = []
                    began = now()
                    for body in bodies:
                        t = now()
                        reply = expect(client.post(f"{NET}/routers", json=body), 201)
                        latencies.append(now() - t)
                        ids.append(reply.json()["router"]["id"])
                    wall = now() - began
                    run = Burst(wall, latencies, ids, cpu_seconds([pid]) - cpu_before, 0.0,
                                others.note())
                    what = "sequential, 1 client"
                else:
                    run = burst(live, token, f"{NET}/routers", "router", bodies,
                                settings.router_clients, settings.limit)
                    what = f"{settings.router_clients} clients"
                report_burst(results, section, what, "routers", run)
                quarter = max(1, len(run.latencies) // 4)
                early = spread(run.latencies[:quarter]) if mode == "sequential" else None
                late = spread(run.latencies[-quarter:]) if mode == "sequential" else None
                if early and late:
                    results.add(section, f"{what}: p50 of the first / last {quarter} creates",
                                f"{ms(early['p50'])} / {ms(late['p50'])}")
                elected = check_routers(client, [first["id"], *run.ids], settings.limit)
                results.raw.setdefault("routers", {})[mode] = {
                    "rate": run.rate, "wall": run.wall, "latency": spread(run.latencies),
                    "elected_after": elected}
                results.add(section, f"{what}: checks", "ok",
                            note=f"{len(run.ids) + 1} routers with 2 L3 agents and 2 ha- ports "
                            f"each; all had exactly one active agent {elected:.1f} s after "
                            "the last create")


# -- 4. VRRP failover ------------------------------------------------------------------------


def states_of(client: httpx.Client, router_id: str) -> dict[str, str]:
    return {a["host"]: a.get("ha_state", "") for a in router_agents(client, router_id)}


def wait_for(client: httpx.Client, router_id: str, done: Callable[[dict[str, str]], bool],
             poll: float, limit: float, what: str) -> tuple[float, dict[str, str]]:
    """Poll the router's L3 agents until ``done``; the time of the first poll that saw it."""
    deadline = now() + limit
    while True:
        states = states_of(client, router_id)
        seen = now()
        if done(states):
            return seen, states
        if seen > deadline:
            raise Failure(f"{what}: not within {limit:.0f} s; last ha_states {states}")
        time.sleep(poll)


def one_active(states: dict[str, str]) -> bool:
    return sorted(states.values()) == ["active", "standby"]


def predicted_failover(down_at: float, master_at: float) -> tuple[float, float]:
    """The formula's figure for a master powered off at ``down_at``, elected at ``master_at``.

    The master advertises at master_at + 2k; the backup's timer runs from the last
    advert it heard. Returns (prediction, phase since that advert).
    """
    phase = (down_at - master_at) % ADVERT_INT
    return FAILOVER_WORST - phase, phase


def bench_failover(settings: Settings, workdir: Path, results: Results) -> None:
    section = "VRRP failover, ha_time_scale 1.0"
    config = workdir / "failover.ini"
    config.write_text("[stacklab]\nha_time_scale = 1.0\n")
    with running(workdir, "--config", str(config)) as live:
        pid = live.process.pid
        token, _ = issue_token(live.base)
        with api(live.base, token) as client:
            created = now()
            router = expect(client.post(f"{NET}/routers", json={"router": {
                "name": "bench-failover"}}), 201).json()["router"]
            if router["ha"] is not True:
                raise Failure(f"the router is not HA: {router}")
            router_id = router["id"]
            seen, states = wait_for(client, router_id, one_active, settings.poll, 60,
                                    "first election")
            # Stable over a whole report batch: no second report is on its way.
            time.sleep(REPORT_BATCH + 0.5)
            if not one_active(states_of(client, router_id)):
                raise Failure(f"election not stable: {states_of(client, router_id)}")
            election = seen - created
            results.add(section, "router create → exactly one agent active",
                        f"{election:.2f} s",
                        note=f"formula {MASTER_DOWN + REPORT_BATCH:.2f} s (Master_Down_Interval "
                        f"{MASTER_DOWN:.2f} s from start in BACKUP + {REPORT_BATCH:.0f} s "
                        f"report batch); polled every {settings.poll * 1000:.0f} ms")
            master_at = seen - REPORT_BATCH
            runs: list[dict[str, Any]] = []
            powered_off: set[str] = set()
            try:
                for n in range(settings.failovers):
                    active = next(h for h, s in states.items() if s == "active")
                    other = next(h for h in states if h != active)
                    wait_until_quiet(min(settings.wait_idle, 20), [pid])
                    others = Bystanders([pid])
                    if settings.phases:
                        # Power off at a chosen point between two of the master's adverts.
                        wanted = settings.phases[n % len(settings.phases)]
                        time.sleep((wanted - (now() - master_at)) % ADVERT_INT)
                    down_at = now()
                    expect(client.post(f"/stacklab/v1/nodes/{active}/down"), 200)
                    answered = now() - down_at
                    powered_off.add(active)
                    def took_over(s: dict[str, str], o: str = other) -> bool:
                        return s.get(o) == "active"

                    def settled_on(s: dict[str, str], o: str = other) -> bool:
                        return one_active(s) and s.get(o) == "active"

                    taken, during = wait_for(client, router_id, took_over, settings.poll, 60,
                                             f"failover {n + 1} to {other}")
                    failover = taken - down_at
                    predicted, phase = predicted_failover(down_at, master_at)
                    note = others.note()
                    # The new master was elected one report batch before its report showed.
                    master_at = taken - REPORT_BATCH
                    up_at = now()
                    expect(client.post(f"/stacklab/v1/nodes/{active}/up"), 200)
                    powered_off.discard(active)
                    settled, states = wait_for(client, router_id, settled_on, settings.poll,
                                               60, f"settling after {active} came back")
                    time.sleep(REPORT_BATCH + 0.5)
                    if states_of(client, router_id) != states:
                        raise Failure(f"not settled: {states_of(client, router_id)}")
                    runs.append({"down": active, "to": other, "failover": failover,
                                 "predicted": predicted, "phase": phase,
                                 "down_answered": answered, "dead_agent_shown": during[active],
                                 "settled_after_up": settled - up_at, "others": note})
                    results.add(section, f"run {n + 1}: {active.split('.')[0]} off → "
                                f"{other.split('.')[0]} active", f"{failover:.2f} s",
                                note=f"this run's phase: powered off {phase:.2f} s after the last "
                                f"advert → formula {predicted:.2f} s (Δ "
                                f"{(failover - predicted) * 1000:+.0f} ms); the dead agent "
                                f"showed '{during[active]}' meanwhile; back up → settled "
                                f"{settled - up_at:.2f} s later; {note}")
            finally:
                # Only nodes still off: powering up a node that is up answers 500 (an HA
                # router's keepalived "is already running").
                for host in powered_off:
                    client.post(f"/stacklab/v1/nodes/{host}/up")
    values = [r["failover"] for r in runs]
    results.raw["failover"] = {"election": election, "runs": runs, "formula": {
        "master_down_interval": MASTER_DOWN, "report_batch": REPORT_BATCH,
        "worst": FAILOVER_WORST, "best": FAILOVER_BEST}}
    results.add(section, f"failover over {len(values)} runs, min / mean / max",
                f"{min(values):.2f} / {sum(values) / len(values):.2f} / {max(values):.2f} s",
                note=f"formula: 3 x {ADVERT_INT:.0f} s + (256 - {HA_PRIORITY})/256 s = "
                f"{MASTER_DOWN:.2f} s + {REPORT_BATCH:.0f} s batch = {FAILOVER_WORST:.2f} s at "
                f"most, {FAILOVER_BEST:.2f} s at least (mean {FAILOVER_WORST - 1:.2f} s), by "
                "when the master dies between two adverts")


# -- 5. in-process profile -----------------------------------------------------------------


@contextmanager
def memoised_argspec() -> Iterator[None]:
    """oslo.policy's ``_check`` calls ``inspect.getfullargspec`` on every check it evaluates;
    here it is remembered per check method (this process only, for a what-if figure)."""
    from oslo_policy import _checks

    original = getattr(_checks, "inspect")  # noqa: B009 (not exported)
    cached = functools.lru_cache(maxsize=None)(inspect.getfullargspec)
    setattr(_checks, "inspect", types.SimpleNamespace(getfullargspec=cached))  # noqa: B010
    try:
        yield
    finally:
        setattr(_checks, "inspect", original)  # noqa: B010


@contextmanager
def policy_skipped() -> Iterator[None]:
    """``Call.allows`` answers True without asking oslo.policy: for the admin, whom every
    rule allows, the same answers (this process only, for a what-if figure)."""
    from stacklab.api.service import Call

    original = Call.allows
    Call.allows = lambda self, rule, target=None: True  # type: ignore[method-assign]
    try:
        yield
    finally:
        Call.allows = original  # type: ignore[method-assign]


WHAT_IFS: tuple[tuple[str, Callable[[], contextlib.AbstractContextManager[None]]], ...] = (
    ("as is", contextlib.nullcontext),
    ("oslo.policy's getfullargspec memoised", memoised_argspec),
    ("policy checks skipped (the admin's answers are all yes)", policy_skipped),
)


def _stats_text(profile: cProfile.Profile, sort: str, count: int) -> str:
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    stats.strip_dirs().sort_stats(sort).print_stats(count)
    return stream.getvalue()


@contextlib.asynccontextmanager
async def inprocess_cloud() -> Any:
    """A Cloud as ``stacklab up --ephemeral`` builds it, served through httpx's ASGITransport
    on this process's event loop (so cProfile sees the handlers), with an admin token."""
    from stacklab.api.app import build_app
    from stacklab.cloud import Cloud
    from stacklab.config import Config, lab_defaults
    from stacklab.topology import load_topology

    config = lab_defaults(Config())
    topology = load_topology(None)
    for name, options in topology.config.items():
        for option, value in options.items():
            if config.has_option(name, option):
                config.set(name, option, value)
    config.stacklab.ephemeral = True
    cloud = Cloud(config, topology=topology)
    cloud.start("http://testserver")
    transport = httpx.ASGITransport(app=build_app(cloud))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                     timeout=600) as client:
            reply = expect(await client.post("/identity/v3/auth/tokens?nocatalog",
                                             json=PASSWORD_AUTH), 201)
            client.headers["X-Auth-Token"] = reply.headers["X-Subject-Token"]
            yield client, reply.json()["token"]["project"]["id"]
    finally:
        cloud.stop()


def _log_profile(profile: cProfile.Profile, title: str, tottime: int, cumulative: int) -> None:
    log(f"--- {title} ---")
    log(_stats_text(profile, "tottime", tottime))
    log(_stats_text(profile, "cumulative", cumulative))


async def _profile_routers(settings: Settings, out_dir: Path, results: Results) -> None:
    section = "in-process profile"
    async with inprocess_cloud() as (client, project):
        expect(await client.put(f"{NET}/quotas/{project}", json=UNLIMITED_ROUTERS), 200)
        total = settings.routers + 1
        window = max(1, total // 4)
        for n in range(total - window):
            expect(await client.post(f"{NET}/routers", json={"router": {
                "name": f"bench-router-{n}"}}), 201)
        profile = cProfile.Profile()
        began = now()
        profile.enable()
        for n in range(total - window, total):
            expect(await client.post(f"{NET}/routers", json={"router": {
                "name": f"bench-router-{n}"}}), 201)
        profile.disable()
        elapsed = (now() - began) / window
        profile.dump_stats(out_dir / "routers.prof")
        _log_profile(profile, f"routers: POST /routers {total - window}→{total} (HA), "
                     f"{elapsed * 1000:.2f} ms each under cProfile", 25, 50)
        results.add(section, f"POST /routers (HA), routers {total - window}→{total}, under "
                    "cProfile", ms(elapsed), note=f"{out_dir / 'routers.prof'}")


async def _profile_ports(settings: Settings, out_dir: Path, results: Results) -> None:
    section = "in-process profile"
    async with inprocess_cloud() as (client, project):
        expect(await client.put(f"{NET}/quotas/{project}", json=UNLIMITED_PORTS), 200)
        networks = []
        for n in range(settings.networks):
            net = expect(await client.post(f"{NET}/networks", json={"network": {
                "name": f"bench-net-{n}"}}), 201).json()["network"]
            expect(await client.post(f"{NET}/subnets", json={"subnet": {
                "network_id": net["id"], "ip_version": 4,
                "cidr": f"10.{n // 16}.{(n % 16) * 16}.0/20"}}), 201)
            networks.append(net["id"])
        have = len(expect(await client.get(f"{NET}/ports"), 200).json()["ports"])
        target = settings.existing
        # Profiled: the first `ports` creates, and the last 1,000 before `existing`.
        windows = [(have, have + settings.ports, "creates-first"),
                   (max(have + settings.ports, target - 1000), target, "creates-last")]
        made = have
        for start, end, name in windows:
            while made < start:     # unprofiled filling
                expect(await client.post(f"{NET}/ports", json=port_bodies(
                    networks, 1, made)[0]), 201)
                made += 1
            profile = cProfile.Profile()
            began = now()
            profile.enable()
            for body in port_bodies(networks, end - made, made):
                expect(await client.post(f"{NET}/ports", json=body), 201)
            profile.disable()
            elapsed = now() - began
            count = end - made
            made = end
            profile.dump_stats(out_dir / f"{name}.prof")
            log(f"--- {name}: {count} POST /ports (ports {start}-{end}), "
                f"{elapsed / count * 1000:.2f} ms each under cProfile ---")
            log(_stats_text(profile, "tottime", 25))
            log(_stats_text(profile, "cumulative", 45))
            results.add(section, f"POST /ports, ports {start}→{end}, under cProfile",
                        f"{elapsed / count * 1000:.2f} ms each", note=f"{out_dir / name}.prof")
        total = len(expect(await client.get(f"{NET}/ports"), 200).json()["ports"])
        for params, name in (({}, "list-all"), ({"limit": 1000}, "list-limit1000")):
            profile = cProfile.Profile()
            runs = 3
            began = now()
            profile.enable()
            for _ in range(runs):
                expect(await client.get(f"{NET}/ports", params=params), 200)
            profile.disable()
            elapsed = (now() - began) / runs
            profile.dump_stats(out_dir / f"{name}.prof")
            log(f"--- {name}: GET /ports {params or ''} with {total} ports, "
                f"{elapsed * 1000:.0f} ms each under cProfile ---")
            log(_stats_text(profile, "tottime", 30))
            log(_stats_text(profile, "cumulative", 60))
            results.add(section, f"GET /ports {params or ''} ({total} ports), under "
                        "cProfile", ms(elapsed), note=f"{out_dir / name}.prof")
        # What-ifs, without the profiler: where the time would go with a hot spot gone.
        for label, patch in WHAT_IFS:
            figures = []
            with patch():
                for params in ({}, {"limit": 1000}):
                    samples = []
                    for _ in range(3):
                        began = now()
                        expect(await client.get(f"{NET}/ports", params=params), 200)
                        samples.append(now() - began)
                    figures.append(f"{ms(sorted(samples)[1])}")
                creates = []
                for body in port_bodies(networks, 100, made):
                    began = now()
                    expect(await client.post(f"{NET}/ports", json=body), 201)
                    creates.append(now() - began)
                made += 100
                figures.append(ms(sorted(creates)[50]))
            results.add(section, f"what-if, in-process, no profiler: {label}",
                        " / ".join(figures), note=f"GET /ports, ?limit=1000 (medians of 3), "
                        f"POST /ports (median of 100), {total}+ ports")


def bench_profile(settings: Settings, out_dir: Path, results: Results) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(_profile_ports(settings, out_dir, results))
    asyncio.run(_profile_routers(settings, out_dir, results))


# -- main --------------------------------------------------------------------------------


SECTIONS = ("ports", "list", "routers", "failover", "profile")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    standard_options(parser)
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma list of: {', '.join(SECTIONS)}")
    parser.add_argument("--ports", type=int, help="ports created by the ports section")
    parser.add_argument("--existing", type=int, help="ports in the cloud for the lists")
    parser.add_argument("--routers", type=int, help="HA routers per run of the routers section")
    parser.add_argument("--failovers", type=int, help="failover runs")
    parser.add_argument("--phases", metavar="S,S,...",
                        help="failover: power the master off S seconds after one of its adverts "
                             "(0-2; run n takes the n-th, in turn); default: as soon as the "
                             "router has settled and the machine is quiet")
    parser.add_argument("--profile-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "stacklab-bench-network-profiles",
                        help="where the profile section writes its .prof files")
    args = parser.parse_args(argv)

    base = QUICK if args.quick else FULL
    overrides = {"ports": args.ports, "existing": args.existing, "routers": args.routers,
                 "failovers": args.failovers, "wait_idle": args.wait_idle}
    if args.phases:
        overrides["phases"] = tuple(float(p) % ADVERT_INT for p in args.phases.split(","))
    settings = with_overrides(base, overrides)
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    unknown = sections - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section: {', '.join(sorted(unknown))}")
    if settings.routers > 253:
        raise SystemExit("--routers: a project has 254 VRIDs (one goes to the first router)")
    if not STACKLAB.exists():
        raise SystemExit(f"{STACKLAB} not found: run with the venv's python")

    results = Results()
    results.raw["machine"] = machine_description()
    results.raw["settings"] = asdict(settings)
    began = now()
    with tempfile.TemporaryDirectory(prefix="stacklab-bench-network-") as tmp:
        workdir = Path(tmp)
        if sections & {"ports", "list"}:
            log("ports ...")
            bench_ports(settings, workdir, results, sections)
        if "routers" in sections:
            log("HA routers ...")
            bench_routers(settings, workdir, results)
        if "failover" in sections:
            log("VRRP failover ...")
            bench_failover(settings, workdir, results)
    if "profile" in sections:
        log("in-process profile ...")
        bench_profile(settings, args.profile_dir, results)
    return results.finish(now() - began, args.json)


if __name__ == "__main__":
    sys.exit(main())
