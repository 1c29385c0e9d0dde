"""``stacklab up --processes``: one OS process per service, supervised.

The supervisor checks the shape can run (a server database and a broker: processes
share nothing else), binds every API's listening socket, brings the store to head and
bootstraps it once (an embedded start of the whole cloud on the in-process bus, which
also recovers what the last run left), then forks one child per role with its socket
(``stacklab serve ROLE`` runs the same by hand). A child that dies is started again on the
same socket: connections wait in its backlog meanwhile, its queues on the broker keep
what is sent to them, and it catches up from the store. A node the lab powers off takes
its processes with it (SIGKILL, as a pulled plug), a process whose services the lab stops
on its node is stopped (SIGTERM, as ``systemctl stop``), and they start again when the node
is powered on or the service started (``LabPower``, ``Hold``). SIGTERM or SIGINT stops them
all; SIGUSR1 lists them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ctypes
import gc
import os
import selectors
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

from stacklab.bus.rabbit import check_broker
from stacklab.cloud import SERVICES, Cloud
from stacklab.clouds_yaml import cloud_entry
from stacklab.config import Config
from stacklab.observability.logging import CentralLogStore
from stacklab.processes.child import SharedFlag, run_role
from stacklab.processes.roles import Role, role_is_front, roles_for, workers
from stacklab.processes.shared import clear_state, powered_off, read_state, stopped_services
from stacklab.server import _say_ready, _write_client_files, bind, run_hooks
from stacklab.store.database import engine_options
from stacklab.topology import load_topology

READY_TIMEOUT = 120.0  # seconds for every child to say it is ready
STOP_TIMEOUT = 10.0  # seconds a stopped child has after its SIGTERM, then SIGKILL
POLL = 0.2  # how often the supervisor looks for a dead child (real seconds)
STABLE_AFTER = 10.0  # a child that lived this long is started again at once when it dies
MAX_BACKOFF = 30.0
# How often the supervisor reads which nodes the lab has powered off and which services
# it has stopped (real seconds).
LAB_POLL = 1.0
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def check_shape(config: Config, *, seed: int | None = None) -> None:
    """What the shape needs, said at start (a ValueError naming the options)."""
    connection = config.database.connection
    missing = []
    if not connection or connection.startswith("sqlite"):
        missing.append("[database] connection naming a server database "
                       "(mysql+pymysql://… or postgresql+psycopg://…)")
    if not config.DEFAULT.transport_url:
        missing.append("[DEFAULT] transport_url naming a RabbitMQ broker "
                       "(rabbit://user:password@host:5672/vhost)")
    if missing:
        raise ValueError("--processes runs each service in its own process; they share "
                         "only the store and the bus, so it needs " + " and ".join(missing)
                         + " (docs/processes.md)")
    if seed is not None:
        raise ValueError("--processes does not take --seed: each process draws its own ids, "
                         "which a shared seed would repeat")


@dataclass(frozen=True)
class Hold:
    """Why a node-bound process is not running and is not started again: its node is
    powered off (``power``: killed as a pulled plug), or every binary it runs is stopped
    on its node (stopped as ``systemctl stop`` does). ``reason`` is what the listing says."""

    reason: str
    power: bool = False


@dataclass(frozen=True)
class NodeFaults:
    """The lab's faults that the supervisor follows: the powered-off nodes (FQDNs) and the
    stopped services ((node FQDN, binary))."""

    nodes_down: frozenset[str] = frozenset()
    stopped: frozenset[tuple[str, str]] = frozenset()

    def hold(self, role: Role) -> Hold | None:
        """Why ``role``'s process must not run now, if it must not. A node powered off wins
        over a stopped service (its process is killed, not stopped). A shared role (no node:
        keystone, nova-conductor ...) is never held: one process serves every controller at
        once, so one controller's stop or power cut is its runtime's to act on. A role of
        several binaries (a node's neutron agents) is held once all of them are stopped."""
        node = role.node
        if node is None:
            return None
        if node in self.nodes_down:
            return Hold(f"{node} is powered off", power=True)
        if role.binaries and all((node, binary) in self.stopped for binary in role.binaries):
            names = sorted(role.binaries)
            return Hold(f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} stopped "
                        f"on {node}")
        return None


@dataclass
class Child:
    """One role's process: forked from the supervisor, which has imported everything
    (a child skips the imports and shares their memory until it writes to it)."""

    role: Role
    # Runs the role in the forked child: its role, the pipe to say it is ready on, and
    # whether its node was powered on to start it (``powered_on``).
    run: Callable[[Role, int, bool], int]
    # Its place among the processes of one API ([DEFAULT] api_workers), from 1; 0: alone.
    worker: int = 0
    pid: int | None = None
    ready_fd: int | None = None
    ready: bool = False
    restarts: int = 0
    started_at: float = 0.0
    # After a quick death: how long it waits before its next start, and when that is.
    backoff: float = 0.0
    due: float | None = None
    returncode: int | None = None
    # Stopped by the lab (its node powered off, or its services stopped there): not
    # started again until the hold is gone. Neither a crash nor a restart.
    held: Hold | None = None
    # Its node's power was cut while it was held (whatever held it first or last): its
    # next start says so.
    power_cut: bool = False
    # Its last start followed a cut of its node's power (its guests are off), which a start
    # after a crash or after its service was started on a powered node does not say.
    powered_on: bool = False

    @property
    def label(self) -> str:
        return self.role.label if not self.worker else f"{self.role.label}#{self.worker}"

    @property
    def state(self) -> str:
        """What the supervisor's listing says of it."""
        if self.held is not None:
            return f"stopped: {self.held.reason}"
        if self.due is not None:
            return f"exited with {self.returncode}; starting again"
        return f"pid {self.pid}"

    def start(self) -> None:
        read, write = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        self.started_at = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: its role until SIGTERM, then out without the parent's exit
            code = 1
            try:
                os.close(read)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
                    signal.signal(signum, signal.SIG_DFL)
                _die_with_parent()
                code = self.run(self.role, write, self.powered_on)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        os.close(write)
        self.pid = pid
        self.ready_fd = read
        self.ready = False
        self.returncode = None

    def poll(self) -> int | None:
        """Its exit code once it has exited (-9 when killed by SIGKILL), else None."""
        if self.pid is None or self.returncode is not None:
            return self.returncode
        pid, status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return None
        self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


def follow_faults(children: Sequence[Child], faults: NodeFaults
                  ) -> list[tuple[Child, Hold | None]]:
    """The children whose hold ``faults`` change, each with its new one: a hold for one
    not held yet (running, or waiting to be started again after a crash), another for
    one held already (its node powered off after its service was stopped, or powered on
    with its service still stopped), None for one to start again."""
    return [(child, hold) for child in children
            if (hold := faults.hold(child.role)) != child.held]


class LabPower:
    """Which nodes the lab has powered off and which services it has stopped, read from
    the store (``stacklab_lab_state``: one row, the faults in force).

    Read every ``LAB_POLL`` seconds by the supervisor's watch rather than heard on the lab's
    fanout (``stacklab_lab``) as the children do: the supervisor stays a plain loop with
    no event loop, bus connection or consumer of its own, a process that must not die with
    the broker; a second's lag is within what the children's own reports already take
    (nova's service goes down after service_down_time anyway), and the children have
    stopped reporting and consuming on the cast before their node's plug is pulled."""

    def __init__(self, url: str) -> None:
        # No pool: nothing is left connected between reads, so no forked child inherits a
        # connection of the supervisor's (its socket would be shared by two processes).
        self.engine: Engine = create_engine(url, poolclass=NullPool, **engine_options(url))
        self.failing = False

    def faults(self) -> NodeFaults | None:
        """The powered-off nodes and the stopped services; None when the store cannot be
        read (the last ones stand until it can)."""
        try:
            _, faults = read_state(self.engine)
        except Exception as exc:
            if not self.failing:
                print(f"stacklab: the lab's state cannot be read from the store ({exc}); "
                      "the nodes' processes stay as they are", file=sys.stderr)
            self.failing = True
            return None
        self.failing = False
        return NodeFaults(powered_off(faults), stopped_services(faults))

    def close(self) -> None:
        self.engine.dispose()


def _die_with_parent() -> None:
    """SIGTERM when the supervisor dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG), so
    no child is left serving alone."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    def __init__(self, config: Config, *, logs: CentralLogStore | None = None) -> None:
        check_shape(config, seed=config.stacklab.seed)
        self.config = config
        self.logs = logs
        self.topology = load_topology(config.stacklab.topology or None)
        self.roles = roles_for(self.topology)
        self.children: list[Child] = []
        self.stopping = False
        self.base_url = ""
        # --init-hooks: the process running them once every child is ready, and the flag
        # the children's health reads (``starting`` until they have run, as one process).
        self.hooks: Child | None = None
        self.hooks_done: SharedFlag | None = (
            SharedFlag() if config.stacklab.init_hooks_dir else None)
        self.power: LabPower | None = None
        self.listing_asked = False

    def _bind(self) -> tuple[dict[str, str], dict[str, int]]:
        """Every API role's socket: keystone's on the cloud's port, the others on free
        ones; their base URLs by mount, and the sockets' descriptors by role name."""
        options = self.config.stacklab
        urls: dict[str, str] = {}
        fds: dict[str, int] = {}
        self._sockets = []
        for role in self.roles:
            if not role.mounts:
                continue
            main = role_is_front(role)
            sock = bind(options.bind_host, options.bind_port if main else 0)
            self._sockets.append(sock)
            url = f"http://{options.public_host}:{sock.getsockname()[1]}"
            if main:
                self.base_url = url
            for mount in role.mounts:
                urls[mount] = url
            fds[role.name] = sock.fileno()
        return urls, fds

    def prepare(self, endpoints: dict[str, str]) -> None:
        """Migrate, bootstrap and recover the store once, as the embedded cloud starts
        (on the in-process bus: nothing of it is left on the broker)."""
        # A broker that cannot be used is said now, naming the option, as one process does.
        check_broker(self.config.DEFAULT.transport_url)
        config = copy.deepcopy(self.config)
        config.DEFAULT.transport_url = ""
        cloud = Cloud(config, logs=self.logs)
        try:
            cloud.start(self.base_url, endpoints=endpoints)
            # Every node up, nothing stopped: the faults of a previous run are not this one's.
            clear_state(cloud.db)
        finally:
            cloud.stop()

    def run(self, clouds_yaml: Path | None, started_at: float) -> int:
        mounts, fds = self._bind()
        endpoints = {spec.type: mounts[declaration.mount] for declaration in SERVICES
                     for spec in declaration.catalog_specs if declaration.mount in mounts}
        self.prepare(endpoints)

        def run(role: Role, ready_fd: int, powered_on: bool) -> int:
            base_url = mounts[role.mounts[0]] if role.mounts else self.base_url
            return run_role(self.config, role, logs=self.logs, base_url=base_url,
                            endpoints=endpoints, mounts=mounts, listen_fd=fds.get(role.name),
                            ready_fd=ready_fd, hooks_done=self.hooks_done,
                            powered_on=powered_on)

        defaults = self.config.DEFAULT
        # Each service's own option, as upstream's (0: [DEFAULT] api_workers).
        own = {"nova-api": defaults.osapi_compute_workers,
               "cinder-api": defaults.osapi_volume_workers,
               "heat-api": self.config.heat_api.workers}
        self.children = []
        for role in self.roles:
            count = workers(role, defaults.api_workers, own)
            # Several workers of one API accept on the one socket they inherit (the kernel
            # hands each connection to one of them, as gunicorn's workers share theirs).
            self.children += [Child(role, run, worker=index + 1 if count > 1 else 0)
                              for index in range(count)]
        # What the children inherit stays out of their collector's passes, which would
        # otherwise write to (and so copy) every page of it (gc.freeze's own advice).
        gc.collect()
        gc.freeze()
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        signal.signal(signal.SIGUSR1, self._request_listing)
        try:
            # keystone last: its port is the cloud's address, and its health (what `stacklab
            # wait` and clients' first call meet) answers once every other process is ready.
            first = [c for c in self.children if c.role.name != "keystone"]
            last = [c for c in self.children if c.role.name == "keystone"]
            for group in (first, last):
                for child in group:
                    child.start()
                if not self._wait_ready(group):
                    return 1
            options = self.config.stacklab
            entry = cloud_entry(f"{self.base_url}/identity", options.admin_password,
                                options.region)
            holder: Any = _Holder(self.config)
            _write_client_files(holder, entry, clouds_yaml, self.base_url)
            _say_ready(holder, entry, clouds_yaml, self.base_url, started_at)
            self._say_processes()
            if self.hooks_done is not None:
                self.start_hooks(entry, clouds_yaml)
            self.power = LabPower(self.config.database.connection)
            self._watch()
            return 0
        finally:
            self._stop_all()
            if self.power is not None:
                self.power.close()

    def _wait_ready(self, children: Sequence[Child]) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT
        selector = selectors.DefaultSelector()
        for child in children:
            assert child.ready_fd is not None
            selector.register(child.ready_fd, selectors.EVENT_READ, child)
        waiting = len(children)
        while waiting and not self.stopping:
            for child in children:
                if child.poll() is not None:
                    print(f"stacklab: {child.label} exited ({child.returncode}) before "
                          "it was ready", file=sys.stderr)
                    return False
            if time.monotonic() > deadline:
                print("stacklab: processes not ready in time: " + ", ".join(
                    c.label for c in children if not c.ready), file=sys.stderr)
                return False
            for key, _ in selector.select(timeout=POLL):
                child = key.data
                os.read(key.fd, 64)
                selector.unregister(key.fd)
                os.close(key.fd)
                child.ready_fd = None
                child.ready = True
                waiting -= 1
        selector.close()
        return not self.stopping

    def start_hooks(self, entry: dict[str, Any], clouds_yaml: Path | None) -> None:
        """Run the init hooks once, in a process of their own (forked, as the children:
        the supervisor keeps watching meanwhile), against the cloud every process serves."""
        folder = Path(self.config.stacklab.init_hooks_dir)

        def run(role: Role, ready_fd: int, powered_on: bool) -> int:
            os.close(ready_fd)

            async def hooks() -> None:
                # Stopped with the cloud: a hook must not outlive it (its CLI is killed).
                task = asyncio.current_task()
                assert task is not None
                loop = asyncio.get_running_loop()
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(signum, task.cancel)
                await run_hooks(folder, entry, clouds_yaml)

            with contextlib.suppress(asyncio.CancelledError):
                asyncio.run(hooks())
            return 0

        self.hooks = Child(Role("init-hooks"), run)
        self.hooks.start()

    def poll_hooks(self) -> bool:
        """Whether the init hooks have run (none to run, or their process has exited):
        then the children's health says so."""
        if self.hooks is None or self.hooks.poll() is None:
            return self.hooks is None
        if self.hooks.ready_fd is not None:
            os.close(self.hooks.ready_fd)
        self.hooks = None
        if self.hooks_done is not None:
            self.hooks_done.set()
        return True

    def _say_processes(self) -> None:
        for child in self.children:
            print(f"  process    {child.label} ({child.state})", file=sys.stderr)
        sys.stderr.flush()

    def follow(self, faults: NodeFaults) -> None:
        """Kill the processes of the nodes that went down, stop those whose services were
        stopped, start those whose node came back or whose service was started."""
        stopping: list[tuple[Child, Hold]] = []
        changes = follow_faults(self.children, faults)
        for child, hold in changes:
            if hold is None:
                self._release(child)
            elif hold.power:
                self._power_off(child, hold)
            elif child.held is None:
                stopping.append((child, hold))
            else:  # powered on with its services still stopped: it stays as it is
                child.held = hold
                print(f"stacklab: {child.label} stays stopped: {hold.reason}",
                      file=sys.stderr)
        if stopping:
            self._stop_services(stopping)
        if changes:
            sys.stderr.flush()

    def _hold(self, child: Child, hold: Hold) -> None:
        """No restart for it (a crashed one waiting for its restart included) until the
        hold is gone."""
        child.held = hold
        child.due = None
        child.backoff = 0.0
        if child.ready_fd is not None:
            os.close(child.ready_fd)
            child.ready_fd = None

    def _power_off(self, child: Child, hold: Hold) -> None:
        """Its node's plug pulled: SIGKILL, no graceful stop (what it had taken and not
        finished is lost, as on a real power cut), and no restart until the node is back."""
        before = child.held
        child.power_cut = True
        running = child.pid is not None and child.poll() is None
        if running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid or 0, signal.SIGKILL)
            _, status = os.waitpid(child.pid or 0, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        self._hold(child, hold)
        if before is not None:  # stopped with its services already
            print(f"stacklab: {child.label} stays stopped: {hold.reason}", file=sys.stderr)
            return
        print(f"stacklab: {child.label} (pid {child.pid}) "
              f"{'killed' if running else 'not started again'}: {hold.reason}; it starts "
              "when the node is powered on", file=sys.stderr)

    def _stop_services(self, stopping: Sequence[tuple[Child, Hold]]) -> None:
        """Their services stopped on their powered nodes: stopped as ``systemctl stop``
        does (SIGTERM, SIGKILL after ``STOP_TIMEOUT``), all at once, and not started again
        until a service of theirs is started."""
        # By identity: two children's fields may be equal.
        running = {id(child) for child, _ in stopping
                   if child.pid is not None and child.poll() is None}
        killed = {id(child) for child in self._terminate(
            [child for child, _ in stopping if id(child) in running])}
        for child, hold in stopping:
            self._hold(child, hold)
            done = ("not started again" if id(child) not in running else
                    f"killed after {STOP_TIMEOUT:g} s" if id(child) in killed else "stopped")
            print(f"stacklab: {child.label} (pid {child.pid}) {done}: {hold.reason}; it "
                  "starts when its service is started", file=sys.stderr)

    def _release(self, child: Child) -> None:
        """Its node powered on, or its service started: started as after any restart (it
        catches up from the store), told whether its node's power was cut meanwhile, the
        listing's line with its new pid."""
        before = child.held
        child.held = None
        child.powered_on = child.power_cut
        child.power_cut = False
        child.start()
        if before is not None and before.power:
            print(f"stacklab: {child.role.node} is powered on: {child.label} started",
                  file=sys.stderr)
        else:
            print(f"stacklab: {child.label} started: its service is started on "
                  f"{child.role.node}", file=sys.stderr)
        print(f"  process    {child.label} ({child.state})", file=sys.stderr)

    def _watch(self) -> None:
        """Start again a child that died (kill -9, a crash), on the same socket; follow
        the nodes' power and the services stopped on them."""
        next_read = 0.0
        while not self.stopping:
            time.sleep(POLL)
            self.poll_hooks()
            if self.power is not None and time.monotonic() >= next_read:
                next_read = time.monotonic() + LAB_POLL
                faults = self.power.faults()
                if faults is not None and not self.stopping:
                    self.follow(faults)
            if self.listing_asked:
                self.listing_asked = False
                print("stacklab: processes", file=sys.stderr)
                self._say_processes()
            for child in self.children:
                if child.held is not None or child.poll() is None or self.stopping:
                    continue
                now = time.monotonic()
                if child.due is None:
                    # One that dies soon after its start (a crash at start) is started
                    # again later and later (1 s doubling to 30 s), not in a tight loop.
                    quick = now - child.started_at < STABLE_AFTER
                    child.backoff = min(MAX_BACKOFF, child.backoff * 2 or 1.0) if quick \
                        else 0.0
                    child.due = now + child.backoff
                    print(f"stacklab: {child.label} (pid {child.pid}) exited with "
                          f"{child.returncode}; starting it again"
                          + (f" in {child.backoff:.0f} s" if child.backoff else ""),
                          file=sys.stderr)
                    sys.stderr.flush()
                if now < child.due:
                    continue
                child.due = None
                child.restarts += 1
                child.powered_on = False  # a crash: the node kept its power
                if child.ready_fd is not None:
                    os.close(child.ready_fd)
                child.start()

    def _request_stop(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _request_listing(self, signum: int, frame: Any) -> None:
        self.listing_asked = True

    @staticmethod
    def _terminate(children: Sequence[Child]) -> list[Child]:
        """SIGTERM to those running, SIGKILL to those still running ``STOP_TIMEOUT`` later;
        each reaped. Those that needed the SIGKILL."""
        running = [c for c in children if c.pid is not None and c.poll() is None]
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid or 0, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while running and time.monotonic() < deadline:
            time.sleep(0.05)
            running = [c for c in running if c.poll() is None]
        for child in running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid or 0, signal.SIGKILL)
            _, status = os.waitpid(child.pid or 0, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        return running

    def _stop_all(self) -> None:
        self.stopping = True
        self._terminate([*self.children, *([self.hooks] if self.hooks else [])])
        for sock in getattr(self, "_sockets", []):
            sock.close()
        print("stacklab stopped", file=sys.stderr)


class _Holder:
    """What the server's client-file and ready messages read of a cloud."""

    def __init__(self, config: Config) -> None:
        from stacklab.clock import RealClock

        self.config = config
        self.clock = RealClock()
