#!/usr/bin/env python3
"""Identity benchmarks of a live ``stacklab up``: start-to-ready, token rates, latencies.

Every request goes to a server this script starts on 127.0.0.1 (or, for the
optional comparison, to a keystone the caller runs on loopback); every loop is
bounded in time and count. The figures are printed as a Markdown table, the
form docs/benchmarks.md records them in.

    python benchmarks/bench_identity.py --quick     # smoke run, well under a minute
    python benchmarks/bench_identity.py             # the recorded run, a few minutes
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Wall-clock measurement is the point here: the determinism rule (Clock, IdSource)
# is for the server's core, not for a stopwatch held outside it.
now = time.perf_counter

BIN = Path(sys.executable).parent
STACKLAB = BIN / "stacklab"
LOOPBACK_NAMES = frozenset({"localhost"})
READY_TIMEOUT = 30.0
# Between two health probes while waiting for ready: small against the ~0.5 s
# being measured, large enough that the prober does not starve the server.
PROBE_INTERVAL = 0.002
ADMIN = {"name": "admin", "domain": {"name": "Default"}, "password": "secret"}
PROJECT_SCOPE = {"project": {"name": "admin", "domain": {"name": "Default"}}}
PASSWORD_AUTH = json.dumps({"auth": {
    "identity": {"methods": ["password"], "password": {"user": ADMIN}},
    "scope": PROJECT_SCOPE,
}}).encode()
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True)
class Settings:
    startup_runs: int
    duration: float            # seconds of each throughput window
    max_requests: int          # per client and window: a second bound besides time
    clients: int
    latency_requests: int
    latency_seconds: float     # a time bound on each latency measure (slow servers)
    projects: int
    settle: float              # seconds idle after ready before reading VmRSS
    wait_idle: float = 0.0     # seconds to wait for other processes to go quiet, per figure


FULL = Settings(startup_runs=10, duration=10.0, max_requests=200_000, clients=8,
                latency_requests=2000, latency_seconds=30.0, projects=100, settle=1.0,
                wait_idle=60.0)
QUICK = Settings(startup_runs=3, duration=2.0, max_requests=20_000, clients=8,
                 latency_requests=200, latency_seconds=5.0, projects=20, settle=0.3)


@dataclass
class Row:
    section: str
    target: str
    measure: str
    value: str
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, section: str, target: str, measure: str, value: str, note: str = "") -> None:
        row = Row(section, target, measure, value, note)
        self.rows.append(row)
        print(f"  {target}: {measure} = {value} {note}".rstrip(), file=sys.stderr, flush=True)


# -- loopback only -----------------------------------------------------------------------


def require_loopback(url: str) -> tuple[str, int, str]:
    """Host, port and path prefix of ``url``; refuses anything but this machine."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme != "http" or parts.port is None:
        raise SystemExit(f"{url}: an http://host:port URL is needed")
    loopback = host in LOOPBACK_NAMES
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if not loopback:
        raise SystemExit(f"{url}: this benchmark sends traffic to loopback addresses only")
    return host, parts.port, parts.path.rstrip("/")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# -- /proc -------------------------------------------------------------------------------


def proc_status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise KeyError(key)


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        # Fields after the parenthesised command name; utime and stime are 14th and 15th.
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / ticks


class Bystanders:
    """CPU used meanwhile by every process but this benchmark's own and the server's.

    The machine has 2 cores: anything else running skews every figure, so each
    one is reported with this. A process that exits is counted through its
    parent's children times, once that parent has waited for it.
    """

    # Above this many cores used by others, a figure is marked as disturbed.
    NOISE = 0.05

    def __init__(self, exclude: Sequence[int] = ()) -> None:
        self.exclude = set(exclude)
        self.before = self._snapshot()
        self.started = now()

    @staticmethod
    def _snapshot() -> dict[int, tuple[int, int]]:
        """pid → (parent pid, CPU ticks of it and of its waited-for children)."""
        table: dict[int, tuple[int, int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry.name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]))
        return table

    def cores(self) -> float:
        after = self._snapshot()
        parents = {pid: row[0] for pid, row in {**self.before, **after}.items()}
        mine = {os.getpid(), *self.exclude}

        def ours(pid: int) -> bool:
            seen = 0
            while pid > 1 and seen < 64:
                if pid in mine:
                    return True
                pid = parents.get(pid, 0)
                seen += 1
            return False

        # An exited process's time reappears whole in its parent's children times:
        # what it had used before the window is taken off again.
        ticks = sum(after.get(pid, (0, 0))[1] - self.before.get(pid, (0, 0))[1]
                    for pid in parents if not ours(pid))
        return max(0.0, ticks / os.sysconf("SC_CLK_TCK") / (now() - self.started))

    def note(self) -> str:
        cores = self.cores()
        mark = " (machine not idle: figure disturbed)" if cores > self.NOISE else ""
        return f"others {cores:.2f} cores{mark}"


def wait_until_quiet(limit: float, exclude: Sequence[int] = ()) -> None:
    """Wait (up to ``limit`` seconds) for a second in which nothing else uses the CPU."""
    started = now()
    busiest = 0.0
    while now() - started < limit:
        meter = Bystanders(exclude)
        time.sleep(1.0)
        cores = meter.cores()
        if cores <= Bystanders.NOISE:
            break
        if not busiest:
            print(f"  (other processes use {cores:.2f} cores: waiting up to {limit:.0f} s "
                  "for a quiet machine)", file=sys.stderr, flush=True)
        busiest = max(busiest, cores)
    if busiest:
        print(f"  (waited {now() - started:.0f} s)", file=sys.stderr, flush=True)


def listening_pids(port: int) -> list[int]:
    """Every process holding the listening socket of ``port`` (uwsgi workers share one)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    pids: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in inodes:
                    pids.append(int(entry.name))
                    break
        except OSError:
            continue
    return sorted(pids)


# -- HTTP --------------------------------------------------------------------------------


# A server may close a kept-alive connection between two requests (uwsgi does, unless
# told otherwise): the request is then sent again once on a new connection, as
# HTTP clients do. Only a failure on a fresh connection counts as an error.
STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class Client:
    """One persistent HTTP/1.1 connection to a loopback server."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reconnects = 0
        self.conn = http.client.HTTPConnection(host, port, timeout=30)
        self.fresh = True

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        try:
            return self._once(method, path, body, headers)
        except STALE:
            if self.fresh:
                raise
            self.reconnect()
            return self._once(method, path, body, headers)

    def _once(self, method: str, path: str, body: bytes | None,
              headers: dict[str, str] | None) -> tuple[int, dict[str, str], bytes]:
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        data = response.read()
        self.fresh = False
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def reconnect(self) -> None:
        self.conn.close()
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.fresh = True
        self.reconnects += 1

    def close(self) -> None:
        self.conn.close()


def request(host: str, port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request on a connection of its own."""
    client = Client(host, port)
    try:
        return client.request(method, path, body, headers)
    finally:
        client.close()


def issue_token(host: str, port: int, prefix: str, body: bytes = PASSWORD_AUTH) -> str:
    status, headers, data = request(host, port, "POST", f"{prefix}/v3/auth/tokens", body,
                                    JSON_HEADERS)
    if status != 201:
        raise RuntimeError(f"token issue answered {status}: {data[:300]!r}")
    return headers["x-subject-token"]


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, min(len(sorted_values), round(pct / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


# -- a stacklab up of our own ------------------------------------------------------------


@dataclass
class Live:
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    ready_after: float

    @property
    def prefix(self) -> str:
        return "/identity"


def spawn(workdir: Path, *args: str) -> tuple[subprocess.Popen[bytes], int, Path, float]:
    port = free_port()
    log = workdir / f"stacklab-{port}.log"
    with log.open("wb") as handle:
        started = now()
        process = subprocess.Popen(
            [str(STACKLAB), "up", "--host", "127.0.0.1", "--port", str(port),
             "--no-clouds-yaml", *args],
            stdout=handle, stderr=subprocess.STDOUT)
    return process, port, log, started


def wait_ready(process: subprocess.Popen[bytes], port: int, log: Path, started: float) -> float:
    """Seconds from spawn to the first 200 of the health endpoint."""
    deadline = started + READY_TIMEOUT
    while now() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stacklab up exited {process.returncode}:\n{log.read_text()}")
        try:
            status, _, _ = request("127.0.0.1", port, "GET", "/stacklab/v1/health")
            if status == 200:
                return now() - started
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(PROBE_INTERVAL)
    process.kill()
    raise RuntimeError(f"stacklab up not ready in {READY_TIMEOUT:.0f} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(workdir: Path, *args: str) -> Iterator[Live]:
    process, port, log, started = spawn(workdir, *args)
    try:
        ready = wait_ready(process, port, log, started)
        yield Live(process, port, log, ready)
    finally:
        stop(process)


# -- 1. start to ready, idle RSS ---------------------------------------------------------


def bench_startup(settings: Settings, workdir: Path, results: Results) -> None:
    section = "start-to-ready"
    modes: dict[str, list[tuple[float, int, int]]] = {
        "ephemeral": [], "state dir, first start": [], "state dir, second start": []}
    nodes = 0
    others: dict[str, list[float]] = {mode: [] for mode in modes}
    for run in range(settings.startup_runs):
        state = workdir / f"startup-state-{run}"
        plan: list[tuple[str, tuple[str, ...]]] = [
            ("ephemeral", ("--ephemeral",)),
            ("state dir, first start", ("--state-dir", str(state))),
            ("state dir, second start", ("--state-dir", str(state))),
        ]
        for mode, args in plan:
            wait_until_quiet(settings.wait_idle)
            meter = Bystanders()
            with running(workdir, *args) as live:
                if not nodes:
                    nodes = _node_count(live.port)
                time.sleep(settings.settle)
                pid = live.process.pid
                modes[mode].append((live.ready_after, proc_status_kib(pid, "VmRSS"),
                                    proc_status_kib(pid, "VmHWM")))
            others[mode].append(meter.cores())
        shutil.rmtree(state, ignore_errors=True)
    results.raw["startup"] = {mode: [list(r) for r in runs] for mode, runs in modes.items()}
    n = settings.startup_runs
    for mode, runs in modes.items():
        times = sorted(r[0] for r in runs)
        rss = sorted(r[1] for r in runs)
        peak = max(r[2] for r in runs)
        target = f"stacklab up ({mode})"
        disturbed = sum(cores > Bystanders.NOISE for cores in others[mode])
        bystanders = f"others at most {max(others[mode]):.2f} cores" + (
            f" ({disturbed} of {n} runs disturbed)" if disturbed else "")
        results.add(section, target, f"spawn → health 200, median / max of {n}",
                    f"{_median(times):.3f} s / {times[-1]:.3f} s",
                    f"{nodes}-node lab; {bystanders}")
        results.add(section, target, f"idle VmRSS after ready, median / max of {n}",
                    f"{_median(rss) / 1024:.1f} MiB / {rss[-1] / 1024:.1f} MiB",
                    f"VmHWM max {peak / 1024:.1f} MiB")


def _node_count(port: int) -> int:
    # The lab's status takes an admin token, as every /stacklab/v1 call but health.
    token = issue_token("127.0.0.1", port, "/identity")
    status, _, data = request("127.0.0.1", port, "GET", "/stacklab/v1/status",
                              headers={"X-Auth-Token": token})
    return len(json.loads(data)["nodes"]) if status == 200 else 0


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# -- 2. throughput, N client processes ---------------------------------------------------


@dataclass(frozen=True)
class Load:
    host: str
    port: int
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    expect: int


@dataclass(frozen=True)
class WorkerReport:
    ok: int
    errors: int
    reconnects: int
    first_error: str
    finished_at: float
    cpu: float                 # CPU seconds this client used in the window


def _client(load: Load, start_at: float, duration: float, max_requests: int,
            out: Queue[WorkerReport]) -> None:
    """One client process: a persistent connection, requests back to back until time's up."""
    client = Client(load.host, load.port)
    ok = errors = 0
    first_error = ""
    end = start_at + duration
    delay = start_at - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    cpu_start = time.process_time()
    while ok + errors < max_requests and time.monotonic() < end:
        try:
            status, _, data = client.request(load.method, load.path, load.body, load.headers)
            if status == load.expect:
                ok += 1
                continue
            errors += 1
            first_error = first_error or f"{status} {data[:200]!r}"
        except (OSError, http.client.HTTPException) as exc:
            errors += 1
            first_error = first_error or repr(exc)
            client.reconnect()
    client.close()
    out.put(WorkerReport(ok, errors, client.reconnects, first_error, time.monotonic(),
                         time.process_time() - cpu_start))


@dataclass(frozen=True)
class Rate:
    per_second: float
    ok: int
    errors: int
    reconnects: int
    seconds: float
    server_cpu: float          # server CPU seconds per wall second (1.0 = one core)
    client_cpu: float          # the same, for all the client processes together
    first_error: str
    bystanders: str


def measure_rate(load: Load, settings: Settings, server_pids: Sequence[int]) -> Rate:
    wait_until_quiet(settings.wait_idle, server_pids)
    ctx = mp.get_context("fork")
    out: Queue[WorkerReport] = ctx.Queue()
    # time.monotonic is one system-wide clock on Linux, so every client starts together.
    start_at = time.monotonic() + 0.5
    workers = [ctx.Process(target=_client,
                           args=(load, start_at, settings.duration, settings.max_requests, out))
               for _ in range(settings.clients)]
    for worker in workers:
        worker.start()
    time.sleep(max(0.0, start_at - time.monotonic()))
    cpu_before = cpu_seconds(server_pids)
    others = Bystanders(server_pids)
    reports = [out.get(timeout=settings.duration + 60) for _ in workers]
    cpu_after = cpu_seconds(server_pids)
    bystanders = others.note()
    for worker in workers:
        worker.join(timeout=10)
    seconds = max(r.finished_at for r in reports) - start_at
    ok = sum(r.ok for r in reports)
    errors = sum(r.errors for r in reports)
    reconnects = sum(r.reconnects for r in reports)
    return Rate(ok / seconds, ok, errors, reconnects, seconds,
                (cpu_after - cpu_before) / seconds, sum(r.cpu for r in reports) / seconds,
                next((r.first_error for r in reports if r.first_error), ""), bystanders)


def bench_throughput(target: str, host: str, port: int, prefix: str, settings: Settings,
                     results: Results, *, issue_only: bool = False) -> None:
    section = "throughput"
    pids = listening_pids(port)
    admin = issue_token(host, port, prefix)
    subject = issue_token(host, port, prefix)
    tokens = f"{prefix}/v3/auth/tokens"
    loads = [
        ("tokens issued/s (password, project scope)",
         Load(host, port, "POST", tokens, PASSWORD_AUTH, JSON_HEADERS, 201)),
        ("tokens issued/s, ?nocatalog",
         Load(host, port, "POST", f"{tokens}?nocatalog", PASSWORD_AUTH, JSON_HEADERS, 201)),
        ("tokens validated/s (GET, with catalog)",
         Load(host, port, "GET", tokens, None,
              {"X-Auth-Token": admin, "X-Subject-Token": subject,
               "Accept": "application/json"}, 200)),
    ]
    if issue_only:
        loads = loads[:1]
    for measure, load in loads:
        rate = measure_rate(load, settings, pids)
        results.raw.setdefault("throughput", {})[f"{target}: {measure}"] = asdict(rate)
        note = (f"{rate.ok} in {rate.seconds:.1f} s; CPU: server {rate.server_cpu:.2f} "
                f"({len(pids)} proc), clients {rate.client_cpu:.2f}, {rate.bystanders}")
        if rate.reconnects:
            note += f"; {rate.reconnects} reconnects"
        if rate.errors:
            note += f"; {rate.errors} errors, first: {rate.first_error}"
        results.add(section, target, f"{measure}, {settings.clients} clients",
                    f"{rate.per_second:.0f}/s", note)


# -- 3. latency, one client --------------------------------------------------------------


def timed(client: Client, count: int, seconds: float, method: str, path: str,
          body: bytes | None, headers: dict[str, str], expect: int) -> list[float]:
    samples: list[float] = []
    end = now() + seconds
    while len(samples) < count and now() < end:
        started = now()
        status, _, data = client.request(method, path, body, headers)
        samples.append(now() - started)
        if status != expect:
            raise RuntimeError(f"{method} {path} answered {status}: {data[:300]!r}")
    return sorted(samples)


def bench_latency(target: str, host: str, port: int, prefix: str, settings: Settings,
                  results: Results) -> None:
    section = "latency"
    client = Client(host, port)
    admin = issue_token(host, port, prefix)
    subject = issue_token(host, port, prefix)
    auth = {"X-Auth-Token": admin, "Content-Type": "application/json",
            "Accept": "application/json"}
    for i in range(settings.projects):
        project = json.dumps({"project": {"name": f"bench-{i:04d}", "domain_id": "default"}})
        status, _, data = client.request("POST", f"{prefix}/v3/projects", project.encode(), auth)
        if status not in (201, 409):   # 409: made by an earlier run against the same server
            raise RuntimeError(f"project create answered {status}: {data[:300]!r}")
    status, _, data = client.request("GET", f"{prefix}/v3/projects", None, auth)
    listed = len(json.loads(data)["projects"])
    n = settings.latency_requests
    # A few requests first so that neither side is measured cold.
    warm = max(10, n // 20)
    plans: list[tuple[str, str, str, bytes | None, dict[str, str], int, int, str]] = [
        ("GET /v3/auth/tokens", "GET", f"{prefix}/v3/auth/tokens", None,
         {**auth, "X-Subject-Token": subject}, 200, n, "validate, with catalog"),
        ("GET /v3/projects", "GET", f"{prefix}/v3/projects", None, auth, 200, n,
         f"{listed} projects listed"),
        ("POST /v3/auth/tokens", "POST", f"{prefix}/v3/auth/tokens", PASSWORD_AUTH,
         JSON_HEADERS, 201, max(50, n // 4), "password, project scope"),
    ]
    for name, method, path, body, headers, expect, count, note in plans:
        wait_until_quiet(settings.wait_idle, listening_pids(port))
        others = Bystanders(listening_pids(port))
        timed(client, warm, settings.latency_seconds / 10, method, path, body, headers, expect)
        samples = timed(client, count, settings.latency_seconds, method, path, body, headers,
                        expect)
        count = len(samples)
        results.raw.setdefault("latency", {})[f"{target}: {name}"] = {
            "count": count, "p50": percentile(samples, 50), "p99": percentile(samples, 99),
            "max": samples[-1], "mean": sum(samples) / len(samples)}
        results.add(section, target, f"{name} p50 / p99 of {count}",
                    f"{ms(percentile(samples, 50))} / {ms(percentile(samples, 99))}",
                    f"{note}; 1 client; {others.note()}")
    if client.reconnects:
        results.add(section, target, "connections closed by the server and reopened",
                    str(client.reconnects))
    client.close()


# -- main --------------------------------------------------------------------------------


def machine_description() -> dict[str, str]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {"cpus": str(os.cpu_count()), "cpu_model": model, "arch": platform.machine(),
            "python": platform.python_version(), "kernel": platform.release()}


def print_table(results: Results) -> None:
    print("| section | target | measure | value | notes |")
    print("|---|---|---|---|---|")
    for row in results.rows:
        print(f"| {row.section} | {row.target} | {row.measure} | {row.value} | {row.note} |")


def parse_compare(values: Sequence[str]) -> list[tuple[str, str]]:
    """``LABEL=URL`` or a bare URL, each the identity root of a keystone on loopback."""
    pairs = []
    for value in values:
        label, _, url = value.rpartition("=") if "=http" in value else ("", "", value)
        pairs.append((label or f"keystone at {url}", url))
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="small counts and short windows: a smoke run under a minute")
    parser.add_argument("--sections", default="startup,throughput,latency,rounds12",
                        help="comma list of: startup, throughput, latency, rounds12")
    parser.add_argument("--runs", type=int, help="start-to-ready runs per mode")
    parser.add_argument("--duration", type=float, help="seconds of each throughput window")
    parser.add_argument("--clients", type=int, help="concurrent client processes")
    parser.add_argument("--requests", type=int, help="requests per latency measure")
    parser.add_argument("--compare", action="append", default=[], metavar="[LABEL=]URL",
                        help="also measure a keystone already running at URL (its identity "
                             "root on loopback, admin/secret, project admin); repeatable")
    parser.add_argument("--wait-idle", type=float, metavar="S",
                        help="before each figure, wait up to S seconds until no other "
                             "process uses the CPU (default 60, with --quick 0: no wait)")
    parser.add_argument("--compare-only", action="store_true",
                        help="measure only the --compare servers, start no stacklab")
    parser.add_argument("--json", type=Path, help="write the raw figures to this file")
    args = parser.parse_args(argv)

    base = QUICK if args.quick else FULL
    settings = Settings(
        startup_runs=args.runs or base.startup_runs, duration=args.duration or base.duration,
        max_requests=base.max_requests, clients=args.clients or base.clients,
        latency_requests=args.requests or base.latency_requests,
        latency_seconds=base.latency_seconds, projects=base.projects,
        settle=base.settle,
        wait_idle=args.wait_idle if args.wait_idle is not None else base.wait_idle)
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    own = set() if args.compare_only else sections
    compare = parse_compare(args.compare)
    for _, url in compare:
        require_loopback(url)
    if not STACKLAB.exists():
        raise SystemExit(f"{STACKLAB} not found: run with the venv's python")

    results = Results()
    results.raw["machine"] = machine_description()
    results.raw["settings"] = asdict(settings)
    began = now()
    with tempfile.TemporaryDirectory(prefix="stacklab-bench-") as tmp:
        workdir = Path(tmp)
        if "startup" in own:
            print("start-to-ready ...", file=sys.stderr)
            bench_startup(settings, workdir, results)
        if own & {"throughput", "latency"}:
            with running(workdir, "--state-dir", str(workdir / "state")) as live:
                if "throughput" in sections:
                    print("throughput ...", file=sys.stderr)
                    bench_throughput("stacklab", "127.0.0.1", live.port, live.prefix,
                                     settings, results)
                if "latency" in sections:
                    print("latency ...", file=sys.stderr)
                    bench_latency("stacklab", "127.0.0.1", live.port, live.prefix, settings,
                                  results)
        if "rounds12" in own:
            print("bcrypt 12 rounds ...", file=sys.stderr)
            config = workdir / "rounds12.ini"
            config.write_text("[identity]\npassword_hash_rounds = 12\n")
            with running(workdir, "--ephemeral", "--config", str(config)) as live:
                bench_throughput("stacklab, bcrypt 12 rounds", "127.0.0.1", live.port,
                                 live.prefix, settings, results, issue_only=True)
        for label, url in compare:
            host, port, prefix = require_loopback(url)
            print(f"{label} ...", file=sys.stderr)
            if "throughput" in sections:
                bench_throughput(label, host, port, prefix, settings, results)
            if "latency" in sections:
                bench_latency(label, host, port, prefix, settings, results)
    results.raw["elapsed"] = now() - began
    print(f"done in {results.raw['elapsed']:.0f} s", file=sys.stderr)
    print_table(results)
    if args.json:
        results.raw["rows"] = [asdict(r) for r in results.rows]
        args.json.write_text(json.dumps(results.raw, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
