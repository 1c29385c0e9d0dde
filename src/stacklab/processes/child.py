"""One process of the multi-process shape: ``stacklab serve ROLE [--node NODE]``.

The supervisor (``stacklab up --processes``) starts it with its listening socket (an
inherited file descriptor, for a role that serves an API), the address of every
other process's API, and a pipe to say when it is ready. It builds the whole cloud,
starts keystone's part and its own services (the supervisor migrated and bootstrapped
the store before), serves its APIs, consumes its RPC servers and runs its own
background work until SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import mmap
import os
import signal
import socket
import sys
from collections.abc import Mapping

import uvicorn

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.config import Config
from stacklab.lab.declaration import LAB
from stacklab.observability.logging import CentralLogStore
from stacklab.processes.roles import Role, role_is_front
from stacklab.processes.routing import Routed, Served
from stacklab.processes.shared import LogShipper, SharedLab
from stacklab.server import http_server

# How often a process looks whether the supervisor's init hooks have run (real seconds).
HOOKS_POLL = 0.1


class SharedFlag:
    """One byte every process forked from the supervisor shares (an anonymous shared
    mapping, made before the forks): the supervisor sets it, the children read it."""

    def __init__(self) -> None:
        self._map = mmap.mmap(-1, 1)

    def set(self) -> None:
        self._map[0] = 1

    def is_set(self) -> bool:
        return self._map[0] == 1


async def _follow_hooks(cloud: Cloud, hooks_done: SharedFlag) -> None:
    """The cloud's health says ``starting`` until the supervisor's init hooks have run,
    as one process's does (``stacklab wait`` waits for them)."""
    while not hooks_done.is_set():
        await asyncio.sleep(HOOKS_POLL)  # real time: the hooks are real processes
    cloud.hooks_done = True


LAB_SERVICE = LAB.name


async def serve_role(cloud: Cloud, *, base_url: str, endpoints: Mapping[str, str],
                     remote: Mapping[str, str], listen_fd: int | None,
                     ready_fd: int | None, hooks_done: SharedFlag | None = None,
                     powered_on: bool = False) -> None:
    """Start the role's part of ``cloud`` and serve until SIGTERM or SIGINT.

    ``endpoints``: each catalog type's base URL; ``remote``: the base URL of each mount
    another process serves; ``hooks_done``: set once the supervisor's init hooks ran;
    ``powered_on``: the process starts because its node's power came back."""
    assert cloud.role is not None
    # The lab's API is keystone's: its processes make their runtime's changes the lab's
    # and collect every process's logs (processes.shared).
    serves_lab = LAB_SERVICE in cloud.role.services
    shipper = LogShipper(cloud.logs, cloud.bus, process=cloud.role.label,
                         sender=f"{cloud.role.label}#{os.getpid()}", collects=serves_lab)
    shared = SharedLab(cloud.runtime, cloud.db, cloud.bus, writes=serves_lab)
    cloud.start(base_url, endpoints=endpoints)
    node = cloud.role.node
    if powered_on and node is not None and cloud.role.runs("nova-compute", node):
        # The node lost its power while this process was away (the supervisor killed it
        # with its node): the guests its start found are off, as a process that lived
        # through the cut would have heard from its runtime. What else a node keeps in
        # memory (its agents, its engine) every start rebuilds as after a power cycle.
        cloud.compute.host_down(node)
    if hooks_done is not None and not hooks_done.is_set():
        cloud.hooks_done = False
    # A process started (or started again) while faults are in force begins in them.
    shared.catch_up()
    gc.collect()
    gc.freeze()
    local = build_app(cloud)
    routed = Routed(local, remote)
    cloud.app = routed  # what the services call each other through
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    server: uvicorn.Server | None = None

    def request_stop() -> None:
        if server is not None:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)
    tasks: list[asyncio.Task[object]] = []
    try:
        if listen_fd is not None:
            sock = socket.socket(fileno=listen_fd)
            # The cloud's own port (keystone's) also takes every other API's paths and
            # forwards them, so what was written against the one-port shape still works;
            # the catalog sends clients to each API's own port.
            front = routed if role_is_front(cloud.role) else Served(local, remote)
            server = http_server(front)
            tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
            while not server.started and not tasks[0].done():
                await asyncio.sleep(0.005)  # real start-up, not simulated time
        tasks.append(asyncio.create_task(cloud.run_background()))
        if not cloud.hooks_done and hooks_done is not None:
            tasks.append(asyncio.create_task(_follow_hooks(cloud, hooks_done)))
        tasks += [asyncio.create_task(shared.run()), asyncio.create_task(shipper.run())]
        if ready_fd is not None:
            os.write(ready_fd, b"ready\n")
            os.close(ready_fd)
        if server is not None:
            await tasks[0]
        else:
            await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        with contextlib.suppress(Exception):
            await routed.aclose()
        await cloud.close_bus()
        cloud.stop()
        print(f"stacklab: {cloud.role.label} stopped", file=sys.stderr)


def run_role(config: Config, role: Role, *, logs: CentralLogStore | None, base_url: str,
             endpoints: Mapping[str, str], mounts: Mapping[str, str], listen_fd: int | None,
             ready_fd: int | None, hooks_done: SharedFlag | None = None,
             powered_on: bool = False) -> int:
    """Build the cloud as ``role`` and serve it; the exit code (2: a configuration error).

    ``mounts``: every API's base URL by mount (this role's own are served here);
    ``powered_on``: it starts because its node's power came back (``serve_role``)."""
    try:
        cloud = Cloud(config, logs=logs, role=role)
    except ValueError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 2
    remote = {mount: url for mount, url in mounts.items() if mount not in role.mounts}
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_role(cloud, base_url=base_url, endpoints=endpoints, remote=remote,
                               listen_fd=listen_fd, ready_fd=ready_fd,
                               hooks_done=hooks_done, powered_on=powered_on))
    return 0
