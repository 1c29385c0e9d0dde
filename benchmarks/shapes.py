#!/usr/bin/env python3
"""Issue 15's figures: the embedded shape against ``stacklab up --processes`` (MariaDB +
RabbitMQ), in one run, printed as a Markdown table.

Sections (``--sections tokens,restart,servers``):

tokens   tokens issued and validated per second (bench_identity's load: 8 client processes,
         one kept-alive connection each, 10 s a figure) against three servers started one
         after the other: an upstream keystone (``--keystone-venv``: a venv where
         ``pip install keystone uwsgi pymysql`` was run; uWSGI with 2 workers, fernet,
         ``[cache] backend = dogpile.cache.memory``, a MariaDB database of its own, bcrypt
         at the lab's 4 rounds), the embedded ``stacklab up`` (SQLite state dir, in-process
         bus), and ``stacklab up --processes`` with ``[DEFAULT] api_workers = 2``; then
         the ratios.
restart  on that multi-process cloud: SIGKILL to every process of one role (keystone's
         two workers, nova-api's two, nova-conductor, a nova-compute), and the time until
         it serves again: a token issued on keystone's port, a flavor list on nova's,
         a server booted to ACTIVE (the build waits in the broker's queue meanwhile).
servers  1,000 servers by 20 client processes POSTing back to back, until all are ACTIVE
         (bench_servers' "fire"), on the lab with its computes replaced by ``--computes``
         large ones: the embedded ``stacklab up --ephemeral``, then ``--processes`` (one
         nova-compute process per compute node, ``api_workers`` as above).

Each multi-process cloud gets a MariaDB database and a RabbitMQ vhost of its own
(processes.py's: root@127.0.0.1:3306, guest@127.0.0.1:5672), dropped after; keystone a
database of its own too. Everything listens on 127.0.0.1 only.

    python benchmarks/shapes.py --quick --keystone-venv /tmp/ks   # smoke: small sizes
    python benchmarks/shapes.py --keystone-venv /tmp/ks            # the recorded run
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.queues import Queue
from pathlib import Path

import httpx
import yaml

import bench_identity as identity
from bench_identity import Load, machine_description, measure_rate, wait_until_quiet
from bench_servers import (
    FLAVOR,
    MICROVERSION,
    UNLIMITED_QUOTA,
    Boot,
    ClientReport,
    _client,
    any_building,
    check_all_active,
    create,
    large_topology,
    wait_active,
)
from live_cloud import (
    Failure,
    Results,
    chosen_sections,
    expect,
    log,
    ms,
    spread,
    with_overrides,
)
from processes import MYSQL, RABBIT, children_of, free_port, memory_mb, mysql

now = time.perf_counter  # a stopwatch outside the servers, not a server's clock

BIN = Path(sys.executable).parent
STACKLAB = BIN / "stacklab"
PROCESS = re.compile(r"^  process\s+(\S+) \(pid (\d+)\)$", re.MULTILINE)
CIRROS = "cirros-0.6.2-x86_64-disk"
ADMIN_AUTH = json.loads(identity.PASSWORD_AUTH)


@dataclass(frozen=True)
class Settings:
    duration: float          # seconds of each token figure
    clients: int             # token client processes
    computes: int            # servers section
    total: int
    server_clients: int
    kills: int               # restart section: kills per role
    api_workers: int
    ready_timeout: float     # seconds for a --processes start (100 computes take a while)
    limit: float             # seconds any one wait may take at most
    wait_idle: float


FULL = Settings(duration=10.0, clients=8, computes=100, total=1000, server_clients=20,
                kills=3, api_workers=2, ready_timeout=900.0, limit=600.0, wait_idle=60.0)
QUICK = Settings(duration=2.0, clients=8, computes=4, total=60, server_clients=20, kills=1,
                 api_workers=2, ready_timeout=300.0, limit=120.0, wait_idle=0.0)


# -- scratch databases and vhosts --------------------------------------------------------


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[tuple[str, str]]:
    """A new MariaDB database and RabbitMQ vhost (guest's): their URLs, dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    mysql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True,
                       capture_output=True, timeout=60)
        try:
            subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest",
                            ".*", ".*", ".*"], check=True, capture_output=True, timeout=60)
            yield (f"{MYSQL}/{name}?charset=utf8mb4", f"{RABBIT.rstrip('/')}/{name}")
        finally:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False,
                           capture_output=True, timeout=60)
    finally:
        mysql(f"DROP DATABASE IF EXISTS {name}")


# -- a cloud of either shape -------------------------------------------------------------


@dataclass
class Cloud:
    shape: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_after: float
    labels: dict[str, int] = field(default_factory=dict)   # --processes: label -> pid
    endpoints: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The server's processes: the supervisor and its children, or the one process."""
        return [self.process.pid, *children_of(self.process.pid)]

    def check(self) -> None:
        if self.process.poll() is not None:
            raise Failure(f"stacklab up ({self.shape}) exited {self.process.returncode}:\n"
                          f"{self.log.read_text()[-3000:]}")

    def origin(self, service: str, suffix: str) -> str:
        """The address ``suffix`` hangs from in the catalog's ``service`` endpoint
        (nova's own port with --processes, the cloud's one port embedded)."""
        url = self.endpoints[service]
        if not url.endswith(suffix):
            raise Failure(f"{service} endpoint {url} does not end with {suffix}")
        return url[: -len(suffix)]


def catalog(base: str) -> dict[str, str]:
    response = expect(httpx.post(f"{base}/identity/v3/auth/tokens", json=ADMIN_AUTH,
                                 timeout=60), 201)
    found: dict[str, str] = {}
    for entry in response.json()["token"]["catalog"]:
        for endpoint in entry["endpoints"]:
            if endpoint["interface"] == "public":
                found[entry["type"]] = endpoint["url"].rstrip("/")
    return found


@contextlib.contextmanager
def running(workdir: Path, shape: str, *, config: str = "", topology: Path | None = None,
            ready_timeout: float = 300.0) -> Iterator[Cloud]:
    """``stacklab up`` (shape "embedded") or ``stacklab up --processes`` on a free port of
    127.0.0.1, with ``config`` as its ini file; ready once it says "stacklab is up"."""
    port = free_port()
    here = workdir / f"{shape}-{port}"
    here.mkdir()
    (here / "stacklab.conf").write_text(config)
    args = [str(STACKLAB), "up", "--host", "127.0.0.1", "--port", str(port),
            "--no-clouds-yaml", "--config", str(here / "stacklab.conf")]
    args += ["--processes", "--state-dir", str(here / "state")] if shape == "processes" \
        else ["--ephemeral"] if topology is not None else ["--state-dir", str(here / "state")]
    if topology is not None:
        args += ["--topology", str(topology)]
    log_path = here / "log"
    started = now()
    with log_path.open("wb") as handle:
        process = subprocess.Popen(args, stdout=handle, stderr=subprocess.STDOUT)
    cloud = Cloud(shape, process, port, log_path, 0.0)
    try:
        while "stacklab is up" not in log_path.read_text(errors="replace"):
            cloud.check()
            if now() - started > ready_timeout:
                raise Failure(f"{shape} not ready in {ready_timeout:.0f} s:\n"
                              f"{log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        cloud.ready_after = now() - started
        time.sleep(0.5)  # the process list follows the ready line
        cloud.labels = {label: int(pid) for label, pid in PROCESS.findall(log_path.read_text())}
        cloud.endpoints = catalog(cloud.base)
        yield cloud
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def processes_config(database: str, transport: str, api_workers: int, extra: str = "") -> str:
    return (f"[DEFAULT]\ntransport_url = {transport}\napi_workers = {api_workers}\n"
            f"[database]\nconnection = {database}\n{extra}")


# -- upstream keystone -------------------------------------------------------------------


@contextlib.contextmanager
def keystone(venv: Path, workdir: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """keystone from ``venv`` under uWSGI (2 workers, HTTP/1.1 keep-alive) on a free port
    of 127.0.0.1: fernet, dogpile's in-process memory cache, bcrypt at 4 rounds (the
    lab's), a MariaDB database of its own; admin/secret on project admin (bootstrap)."""
    port = free_port()
    here = workdir / "keystone"
    here.mkdir()
    name = f"stacklab_bench_ks_{uuid.uuid4().hex[:10]}"
    mysql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    try:
        conf = here / "keystone.conf"
        conf.write_text(
            "[DEFAULT]\nuse_stderr = true\n"
            f"[database]\nconnection = {MYSQL}/{name}?charset=utf8mb4\n"
            "[token]\nprovider = fernet\n"
            f"[fernet_tokens]\nkey_repository = {here}/fernet-keys\n"
            f"[fernet_receipts]\nkey_repository = {here}/fernet-keys\n"
            f"[credential]\nkey_repository = {here}/credential-keys\n"
            "[identity]\npassword_hash_rounds = 4\n"
            "[cache]\nenabled = true\nbackend = dogpile.cache.memory\n")
        manage = [str(venv / "bin" / "keystone-manage"), "--config-file", str(conf)]
        user = ["--keystone-user", str(os.getuid()), "--keystone-group", str(os.getgid())]
        for step in (["db_sync"], ["fernet_setup", *user], ["credential_setup", *user],
                     ["bootstrap", "--bootstrap-password", "secret",
                      "--bootstrap-public-url", f"http://127.0.0.1:{port}",
                      "--bootstrap-region-id", "RegionOne"]):
            done = subprocess.run([*manage, *step], capture_output=True, timeout=300)
            if done.returncode:
                raise Failure(f"keystone-manage {step[0]}: {done.stderr.decode()[-2000:]}")
        env = {**os.environ, "OS_KEYSTONE_CONFIG_FILES": str(conf)}
        log_path = here / "uwsgi.log"
        with log_path.open("wb") as handle:
            process = subprocess.Popen(
                [str(venv / "bin" / "uwsgi"), "--http11-socket", f"127.0.0.1:{port}",
                 "--module", "keystone.wsgi.api:application", "--master", "--processes", "2",
                 "--threads", "1", "--lazy-apps", "--disable-logging",
                 "--die-on-term"], stdout=handle, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = now() + 120
            while True:
                if process.poll() is not None:
                    raise Failure(f"uwsgi exited:\n{log_path.read_text()[-3000:]}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"http://127.0.0.1:{port}/v3", timeout=5).status_code == 200:
                        break
                if now() > deadline:
                    raise Failure(f"keystone not ready:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.1)
            yield port, process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        mysql(f"DROP DATABASE IF EXISTS {name}")


# -- 1. tokens ---------------------------------------------------------------------------


def token_rates(label: str, port: int, prefix: str, pids: Sequence[int], settings: Settings,
                results: Results) -> dict[str, float]:
    """Issued/s and validated/s of one server, with bench_identity's clients."""
    load_settings = identity.Settings(
        startup_runs=0, duration=settings.duration, max_requests=200_000,
        clients=settings.clients, latency_requests=0, latency_seconds=0, projects=0,
        settle=0, wait_idle=settings.wait_idle)
    host = "127.0.0.1"
    admin = identity.issue_token(host, port, prefix)
    subject = identity.issue_token(host, port, prefix)
    tokens = f"{prefix}/v3/auth/tokens"
    loads = {
        "issued": Load(host, port, "POST", tokens, identity.PASSWORD_AUTH,
                       identity.JSON_HEADERS, 201),
        "validated": Load(host, port, "GET", tokens, None,
                          {"X-Auth-Token": admin, "X-Subject-Token": subject,
                           "Accept": "application/json"}, 200),
    }
    rates: dict[str, float] = {}
    for what, load in loads.items():
        rate = measure_rate(load, load_settings, pids)
        rates[what] = rate.per_second
        results.raw.setdefault("tokens", {})[f"{label}: {what}"] = asdict(rate)
        note = (f"{rate.ok} in {rate.seconds:.1f} s; CPU: server {rate.server_cpu:.2f} "
                f"({len(pids)} proc), clients {rate.client_cpu:.2f}, {rate.bystanders}")
        if rate.reconnects:
            note += f"; {rate.reconnects} reconnects"
        if rate.errors:
            note += f"; {rate.errors} errors, first: {rate.first_error}"
        results.add("tokens", f"{label}: tokens {what}/s, {settings.clients} clients",
                    f"{rate.per_second:.0f}/s", "", note)
    return rates


def bench_tokens(settings: Settings, workdir: Path, venv: Path | None, results: Results,
                 *, restart: bool) -> None:
    rates: dict[str, dict[str, float]] = {}
    if venv is not None:
        log("keystone ...")
        with keystone(venv, workdir) as (port, _):
            pids = identity.listening_pids(port)
            rates["keystone"] = token_rates(
                "keystone 30.0.0 (uWSGI 2 workers, memory cache, MariaDB)", port, "", pids,
                settings, results)
    log("embedded ...")
    with running(workdir, "embedded") as cloud:
        rates["embedded"] = token_rates("stacklab embedded (SQLite, one process)",
                                        cloud.port, "/identity", cloud.pids(), settings,
                                        results)
    log("processes ...")
    with scratch("stacklab_bench_tokens") as (database, transport), running(
            workdir, "processes", ready_timeout=settings.ready_timeout,
            config=processes_config(database, transport, settings.api_workers)) as cloud:
        # Every process of the cloud: the others' background work (heartbeats) counts too.
        rates["processes"] = token_rates(
            f"stacklab --processes, api_workers = {settings.api_workers} (MariaDB, RabbitMQ)",
            cloud.port, "/identity", cloud.pids(), settings, results)
        if restart:
            bench_restart(cloud, settings, results)
    if "keystone" in rates:
        for shape in ("embedded", "processes"):
            for what in ("issued", "validated"):
                ratio = rates[shape][what] / rates["keystone"][what]
                results.add("tokens", f"{shape} / keystone, tokens {what}", f"{ratio:.2f}x",
                            "≥ 10x")


# -- 2. time to serve again after kill -9 -----------------------------------------------


def new_children(cloud: Cloud, known: set[int], count: int, limit: float) -> list[int]:
    """The supervisor's children that were not there before (the restarted ones)."""
    deadline = now() + limit
    while True:
        fresh = [pid for pid in children_of(cloud.process.pid) if pid not in known]
        if len(fresh) >= count or now() > deadline:
            return fresh
        time.sleep(0.01)


def role_of(label: str) -> str:
    """``nova-compute`` of ``nova-compute@compute1.openstack.local``, ``keystone`` of
    ``keystone#2``."""
    return label.split("#")[0].split("@")[0]


def kill_role(cloud: Cloud, role: str) -> tuple[list[int], float]:
    """SIGKILL every process of ``role`` (all its workers, or every node's); the pids and
    when."""
    victims = [pid for label, pid in cloud.labels.items() if role_of(label) == role]
    if not victims:
        raise Failure(f"no process {role} in {sorted(cloud.labels)}")
    killed_at = now()
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    return victims, killed_at


def relabel(cloud: Cloud, victims: list[int], fresh: list[int]) -> None:
    """The restarted processes under the killed ones' labels (which of a role's processes
    got which label does not matter: a role is killed whole)."""
    labels = [label for label, pid in cloud.labels.items() if pid in victims]
    for label, pid in zip(sorted(labels), fresh, strict=False):
        cloud.labels[label] = pid


def bench_restart(cloud: Cloud, settings: Settings, results: Results) -> None:
    """Kill each role, time until it serves again (the supervisor polls every 0.2 s)."""
    log("restart ...")
    token = expect(httpx.post(f"{cloud.base}/identity/v3/auth/tokens?nocatalog",
                              json=ADMIN_AUTH, timeout=60), 201).headers["X-Subject-Token"]
    compute = cloud.origin("compute", "/compute/v2.1")
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": MICROVERSION}
    boot = prepare(cloud, token)

    def token_served() -> None:
        expect(httpx.post(f"{cloud.base}/identity/v3/auth/tokens?nocatalog", json=ADMIN_AUTH,
                          timeout=settings.limit), 201)

    def flavors_served() -> None:
        expect(httpx.get(f"{compute}/compute/v2.1/flavors", headers=headers,
                         timeout=settings.limit), 200)

    def server_served() -> None:
        with httpx.Client(base_url=f"{compute}/compute/v2.1", headers=headers,
                          timeout=settings.limit) as client:
            server_id = create(client, boot, f"restart-{uuid.uuid4().hex[:6]}")
            wait_active(client, server_id, 0.01, settings.limit)
            expect(client.delete(f"/servers/{server_id}"), 204)

    plans = [("keystone", "POST /v3/auth/tokens on keystone's port answers 201",
              token_served),
             ("nova-api", "GET /flavors on nova's port answers 200", flavors_served),
             ("nova-conductor", "a server booted from the kill on is ACTIVE", server_served),
             ("nova-scheduler", "a server booted from the kill on is ACTIVE", server_served),
             ("nova-compute", "a server booted from the kill on is ACTIVE", server_served)]
    # A healthy boot first, for scale.
    samples = []
    for _ in range(max(3, settings.kills)):
        started = now()
        server_served()
        samples.append(now() - started)
    results.add("restart", "no kill: a server booted to ACTIVE (and deleted), for scale",
                f"{ms(spread(samples)['p50'])}", "", f"median of {len(samples)}")
    served_after: dict[str, list[float]] = {role: [] for role, _, _ in plans}
    killed: dict[str, int] = {}
    last_start: dict[str, float] = {}
    for _ in range(settings.kills):
        for role, _, probe in plans:
            # A child that had run 10 s or more is started again at once (else after 1 s).
            time.sleep(max(0.0, 10.5 - (now() - last_start.get(role, -100.0))))
            known = set(children_of(cloud.process.pid))
            victims, killed_at = kill_role(cloud, role)
            probe()
            served_after[role].append(now() - killed_at)
            fresh = new_children(cloud, known - set(victims), len(victims), settings.limit)
            last_start[role] = now()
            relabel(cloud, victims, fresh)
            killed[role] = len(victims)
            cloud.check()
    results.raw["restart"] = served_after
    for role, served, _ in plans:
        times = served_after[role]
        results.add("restart", f"kill -9 of {role} ({killed[role]} proc) → {served}",
                    f"{ms(spread(times)['p50'])}", "",
                    f"median of {len(times)}: {', '.join(ms(t) for t in times)}")


# -- 3. 1,000 servers --------------------------------------------------------------------


def prepare(cloud: Cloud, token: str) -> Boot:
    image = cloud.endpoints["image"]
    images = expect(httpx.get(f"{image}/v2/images", params={"name": CIRROS},
                              headers={"X-Auth-Token": token}, timeout=60), 200).json()
    if not images["images"]:
        raise Failure(f"no image {CIRROS}")
    compute = cloud.endpoints["compute"]
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": MICROVERSION}
    flavors = expect(httpx.get(f"{compute}/flavors", headers=headers, timeout=60), 200)
    found = [f["id"] for f in flavors.json()["flavors"] if f["name"] == FLAVOR["name"]]
    if not found:
        made = expect(httpx.post(f"{compute}/flavors", json={"flavor": FLAVOR},
                                 headers=headers, timeout=60), 200)
        found = [made.json()["flavor"]["id"]]
    return Boot(images["images"][0]["id"], found[0])


def fire(cloud: Cloud, settings: Settings, results: Results, label: str) -> None:
    """bench_servers' "fire": the clients POST back to back, a watcher lists until none is
    left in BUILD; the CPU of every server process counted."""
    token = expect(httpx.post(f"{cloud.base}/identity/v3/auth/tokens?nocatalog",
                              json=ADMIN_AUTH, timeout=60), 201).headers["X-Subject-Token"]
    boot = prepare(cloud, token)
    compute = cloud.origin("compute", "/compute/v2.1")
    pids = cloud.pids()
    wait_until_quiet(settings.wait_idle, pids)
    shares = [settings.total // settings.server_clients
              + (1 if i < settings.total % settings.server_clients else 0)
              for i in range(settings.server_clients)]
    ctx = mp.get_context("fork")
    out: Queue[ClientReport] = ctx.Queue()
    start_at = time.monotonic() + 0.5
    workers = [ctx.Process(target=_client, args=("fire", compute, token, boot, share, i,
                                                 start_at, 0.02, settings.limit, out))
               for i, share in enumerate(shares)]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu_before = identity.cpu_seconds(pids)
    others = identity.Bystanders(pids)
    reports: list[ClientReport] = []
    watches = 0
    with httpx.Client(base_url=f"{compute}/compute/v2.1", timeout=60, headers={
            "X-Auth-Token": token, "OpenStack-API-Version": MICROVERSION}) as watcher:
        deadline = now() + settings.limit
        while True:
            with contextlib.suppress(Exception):
                while True:
                    reports.append(out.get_nowait())
            failed = [r.error for r in reports if r.error]
            if failed:
                raise Failure(f"a client failed: {failed[0]}")
            if len(reports) == len(workers):
                watches += 1
                if not any_building(watcher):
                    all_active_at = time.monotonic()
                    break
            cloud.check()
            if now() > deadline:
                raise Failure(f"not all ACTIVE within {settings.limit:.0f} s")
            time.sleep(0.02)
        server_cpu = identity.cpu_seconds(pids) - cpu_before
        note = others.note()
        for worker in workers:
            worker.join(timeout=10)
        check_all_active(watcher, settings.total)
    wall = all_active_at - start_at
    posts_done = max(r.last_post_at for r in reports) - start_at
    client_cpu = sum(r.cpu for r in reports)
    results.raw.setdefault("servers", {})[label] = {
        "wall": wall, "posts_done": posts_done, "server_cpu": server_cpu,
        "client_cpu": client_cpu, "ready_after": cloud.ready_after,
        "processes": len(pids)}
    results.add("servers", f"{label}: {settings.total} servers, {settings.server_clients} "
                f"clients, {settings.computes} computes, until all ACTIVE", f"{wall:.2f} s",
                "≤ 10 s",
                f"{settings.total / wall:.0f}/s; POSTs answered after {posts_done:.2f} s; "
                f"CPU: server {server_cpu / wall:.2f} cores ({len(pids)} proc), clients "
                f"{client_cpu / wall:.2f}; ready in {cloud.ready_after:.1f} s; {note}")


class Connections:
    """The most connections the cloud's database had at once (MariaDB's process list,
    read every 0.2 s from a thread): each process keeps its own pool."""

    def __init__(self, database: str) -> None:
        import threading

        import sqlalchemy

        self.name = database.rsplit("/", 1)[1].split("?")[0]
        self.engine = sqlalchemy.create_engine(MYSQL + "/")
        self.peak = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        import sqlalchemy

        query = sqlalchemy.text("SELECT COUNT(*) FROM information_schema.processlist "
                                "WHERE db = :name")
        with self.engine.connect() as connection:
            while not self.stopping.wait(0.2):
                count = connection.execute(query, {"name": self.name}).scalar() or 0
                self.peak = max(self.peak, int(count))

    def __enter__(self) -> Connections:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        self.engine.dispose()


def bench_servers(settings: Settings, workdir: Path, results: Results,
                  sizes: Sequence[int]) -> None:
    """At each size (compute nodes) in turn until the multi-process shape runs the whole
    figure: the embedded shape, then --processes at the same size."""
    for computes in sizes:
        at = replace(settings, computes=computes)
        topology = workdir / f"topology-{computes}.yaml"
        topology.write_text(yaml.safe_dump(large_topology(computes), sort_keys=False))
        log(f"servers, embedded ({computes} computes) ...")
        with running(workdir, "embedded", config=UNLIMITED_QUOTA, topology=topology) as cloud:
            fire(cloud, at, results, "embedded (in-memory SQLite, in-process bus)")
        log(f"servers, processes ({computes} computes) ...")
        try:
            with scratch("stacklab_bench_servers") as (database, transport), running(
                    workdir, "processes", topology=topology, ready_timeout=at.ready_timeout,
                    config=processes_config(database, transport, at.api_workers,
                                            UNLIMITED_QUOTA)) as cloud:
                with Connections(database) as connections:
                    pss = sum(memory_mb(pid)[1] for pid in cloud.pids())
                    results.add("servers", f"--processes with {computes} computes: ready, "
                                "processes, PSS total", f"{cloud.ready_after:.1f} s", "",
                                f"{len(cloud.pids())} processes, {pss:.0f} MB PSS")
                    fire(cloud, at, results, f"--processes, api_workers = {at.api_workers} "
                         "(MariaDB, RabbitMQ)")
                results.add("servers", f"--processes with {computes} computes: MariaDB "
                            "connections at most", str(connections.peak), "",
                            "the server's max_connections: "
                            f"{mysql_variable('max_connections')}")
            return
        except Failure as exc:
            results.add("servers", f"--processes with {computes} computes", "failed", "",
                        " ".join(str(exc).split())[-600:].replace("|", "/"))


def mysql_variable(name: str) -> str:
    import sqlalchemy

    engine = sqlalchemy.create_engine(MYSQL + "/")
    try:
        with engine.connect() as connection:
            row = connection.execute(sqlalchemy.text(f"SHOW VARIABLES LIKE '{name}'")).first()
            return str(row[1]) if row else "?"
    finally:
        engine.dispose()


# -- main --------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--sections", default="tokens,restart,servers",
                        help="comma list of: tokens, restart (needs tokens), servers")
    parser.add_argument("--keystone-venv", type=Path,
                        help="a venv with keystone, uwsgi and pymysql (tokens section)")
    parser.add_argument("--computes", help="compute nodes of the servers section; a comma "
                        "list is tried in turn until --processes runs at that size")
    parser.add_argument("--total", type=int, help="servers of the servers section")
    parser.add_argument("--duration", type=float, help="seconds of each token figure")
    parser.add_argument("--kills", type=int, help="kills per role (restart section)")
    parser.add_argument("--api-workers", type=int)
    parser.add_argument("--wait-idle", type=float, metavar="S")
    parser.add_argument("--json", type=Path, help="write the raw figures to this file")
    args = parser.parse_args(argv)
    base = QUICK if args.quick else FULL
    overrides = {"total": args.total, "duration": args.duration,
                 "kills": args.kills, "api_workers": args.api_workers,
                 "wait_idle": args.wait_idle}
    settings = with_overrides(base, overrides)
    sections = chosen_sections(args.sections, {"tokens", "restart", "servers"})
    if not STACKLAB.exists():
        raise SystemExit(f"{STACKLAB} not found: run with the venv's python")
    results = Results()
    results.raw["machine"] = machine_description()
    results.raw["settings"] = asdict(settings)
    began = now()
    with tempfile.TemporaryDirectory(prefix="stacklab-bench-shapes-") as tmp:
        workdir = Path(tmp)
        if "tokens" in sections:
            bench_tokens(settings, workdir, args.keystone_venv, results,
                         restart="restart" in sections)
        if "servers" in sections:
            sizes = [int(n) for n in args.computes.split(",")] if args.computes \
                else [settings.computes]
            bench_servers(settings, workdir, results, sizes)
    return results.finish(now() - began, args.json)


if __name__ == "__main__":
    sys.exit(main())
