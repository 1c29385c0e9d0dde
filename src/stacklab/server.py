"""Serving a cloud on a loopback port with uvicorn, start to ready to shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from stacklab.api.app import CLOSE_CONNECTION, build_app
from stacklab.cloud import Cloud
from stacklab.clouds_yaml import cloud_entry, openrc, openrc_vars, write_clouds_yaml
from stacklab.config import StacklabOptions
from stacklab.hooks import run_init_hooks

LOG = logging.getLogger("stacklab.server")
DEFAULT_ADMIN_PASSWORD = StacklabOptions.admin_password
# The most a request's line and headers may take. httptools has no bound of its own (a
# header of megabytes is buffered whole); h11 refused what it could not parse within 16 KiB
# of buffer. Four times that leaves room for any real token or header an OpenStack client
# sends.
MAX_REQUEST_HEAD = 64 * 1024
# uvicorn's own answer to a request it cannot parse, which h11's limit also gave.
_INVALID_REQUEST = "Invalid HTTP request received."


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY on accepted connections
    # only when the listening socket says it is TCP. Without it, every response
    # whose body is sent after its headers waits ~40 ms for the client's delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn, minus its signal handling: ``serve`` owns SIGINT and SIGTERM.

    uvicorn re-raises a caught signal once it has shut down, which would kill
    the process before the cloud is closed and "stopped" is said.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _HeadTooLarge(Exception):
    """Raised in a parser callback: httptools reports it as a parse error, which uvicorn
    answers 400 (``_INVALID_REQUEST``), closing the connection."""


class _HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on a request's head (``MAX_REQUEST_HEAD``).

    The head's parts are counted as the parser hands them over (the target, then each
    header), so any head beyond the bound is refused however it arrives. A header still
    incomplete is in httptools' own buffer, out of reach: the bytes received while a head
    is incomplete are counted too, which bounds that buffer. A body is not counted here.
    """

    _head_size = 0  # the current head's target and headers, as parsed
    _in_head = True
    _head_bytes = 0  # bytes received while the current head was incomplete

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        # Checked once the parser has seen the read: one that also holds the start of the
        # body (a head complete within it) has passed the head's own count already.
        if self._in_head and self._head_bytes > MAX_REQUEST_HEAD \
                and not self.transport.is_closing():
            self.logger.warning(_INVALID_REQUEST)
            self.send_400_response(_INVALID_REQUEST)

    def on_message_begin(self) -> None:
        self._head_size = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value))
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_REQUEST_HEAD:
            raise _HeadTooLarge(f"a request head beyond {MAX_REQUEST_HEAD} bytes")

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        super().on_message_complete()


class ClosingConnections:
    """Offers the request path a way to close a request's connection without an answer
    (the ``stacklab.close_connection`` ASGI extension): what a client of a VIP that nobody
    holds meets, as "Remote end closed connection without response" (keystoneauth's
    ConnectFailure) — at once, where a real client's SYNs would go unanswered for two
    minutes."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server: uvicorn.Server | None = None  # set once the server is made

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            extensions = dict(scope.get("extensions") or {})
            extensions[CLOSE_CONNECTION] = lambda: self._close(scope.get("client"))
            scope["extensions"] = extensions
        await self.app(scope, receive, send)

    async def _close(self, client: Any) -> None:
        connections = self.server.server_state.connections if self.server else ()
        for protocol in list(connections):
            if getattr(protocol, "client", None) == tuple(client or ()):
                protocol.transport.abort()
        # uvicorn hears of the loss on the loop's next turn (connection_lost is called
        # soon): returning before that would make it answer 500 itself.
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        loop.call_soon(turn.set_result, None)
        await turn


def http_server(app: Any) -> uvicorn.Server:
    """uvicorn serving ``app`` as every listener of the cloud does (``serve``, and each
    process of ``--processes``), on the running event loop."""
    closing = ClosingConnections(app)
    # Idle keep-alive connections stay open 75 s (nginx's default), not uvicorn's 5: the
    # openstack CLI's --wait polls every 5 s on one connection, and a close racing its next
    # request reset it ("Connection reset by peer" in a backup's wait). The parser is named,
    # not left to uvicorn's "auto": an install without httptools (a dependency) fails on
    # import instead of serving through h11 at about 40% more CPU a request.
    config = uvicorn.Config(closing, log_config=None, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5, timeout_keep_alive=75,
                            http=_HttpProtocol)
    server = _Server(config)
    closing.server = server
    return server


async def serve(cloud: Cloud, *, clouds_yaml: Path | None, quiet: bool = False,
                started_at: float | None = None) -> None:
    options = cloud.config.stacklab
    sock = bind(options.bind_host, options.bind_port)
    port = sock.getsockname()[1]
    base_url = f"http://{options.public_host}:{port}"
    cloud.hooks_done = not options.init_hooks_dir
    cloud.start(base_url)
    # What start-up made lives as long as the server: keep it out of the collector's
    # full passes, which otherwise cost tens of ms in the middle of big responses.
    gc.collect()
    gc.freeze()
    server = http_server(build_app(cloud))
    side_tasks: list[asyncio.Task[object]] = []

    def request_stop() -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True
        for side_task in side_tasks:
            side_task.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started and not task.done():
            await asyncio.sleep(0.005)  # real start-up, not simulated time
        if task.done():
            await task
            return
        entry = cloud_entry(f"{base_url}/identity", options.admin_password, options.region)
        _write_client_files(cloud, entry, clouds_yaml, base_url)
        if not quiet:
            _say_ready(cloud, entry, clouds_yaml, base_url, started_at)
        side_tasks.append(asyncio.create_task(cloud.run_background()))
        if options.init_hooks_dir:
            side_tasks.append(asyncio.create_task(_run_hooks(cloud, entry, clouds_yaml)))
        await task
    finally:
        for side_task in side_tasks:
            side_task.cancel()
        await asyncio.gather(*side_tasks, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        await cloud.close_bus()
        cloud.stop()
        if not quiet:
            print("stacklab stopped", file=sys.stderr)


def _write_client_files(cloud: Cloud, entry: dict[str, Any], clouds_yaml: Path | None,
                        base_url: str) -> None:
    options = cloud.config.stacklab
    if clouds_yaml is not None:
        write_clouds_yaml(clouds_yaml, entry)
    if options.ephemeral:
        return
    state = cloud.config.state_path
    state.mkdir(parents=True, exist_ok=True)
    state.chmod(0o700)
    # The openrc holds the admin password: owner only, as clouds.yaml.
    openrc_path = state / "openrc"
    openrc_path.touch(mode=0o600)
    openrc_path.chmod(0o600)
    openrc_path.write_text(openrc(entry))
    (state / "endpoint").write_text(base_url + "\n")


def _say_ready(cloud: Cloud, entry: dict[str, Any], clouds_yaml: Path | None, base_url: str,
               started_at: float | None) -> None:
    options = cloud.config.stacklab
    elapsed = ""
    if started_at is not None:
        elapsed = f" in {cloud.clock.monotonic() - started_at:.2f} s"
    print(f"stacklab is up{elapsed}: {base_url}", file=sys.stderr)
    print(f"  auth_url   {entry['auth']['auth_url']}", file=sys.stderr)
    # The well-known default is no secret; a chosen password stays out of the server's
    # output, which CI jobs and terminals keep (it is in clouds.yaml and the openrc).
    password = options.admin_password if options.admin_password == DEFAULT_ADMIN_PASSWORD \
        else "<the password given>"
    print(f"  admin      admin / {password} (project admin, domain Default)", file=sys.stderr)
    if clouds_yaml is not None:
        print(f"  clouds.yaml entry 'stacklab' in {clouds_yaml}: "
              "openstack --os-cloud stacklab token issue", file=sys.stderr)
    if not options.ephemeral:
        print(f"  openrc     {cloud.config.state_path / 'openrc'}", file=sys.stderr)
    sys.stderr.flush()


async def _run_hooks(cloud: Cloud, entry: dict[str, Any], clouds_yaml: Path | None) -> None:
    await run_hooks(Path(cloud.config.stacklab.init_hooks_dir), entry, clouds_yaml)
    cloud.hooks_done = True


async def run_hooks(folder: Path, entry: dict[str, Any], clouds_yaml: Path | None) -> None:
    """Run the init hooks of ``folder`` against the cloud ``entry`` names, saying which
    failed (one process or the supervisor of one process per service)."""
    env = openrc_vars(entry)
    if clouds_yaml is not None:
        # The hooks talk to this cloud through the clouds.yaml just written.
        env.update(OS_CLOUD="stacklab", OS_CLIENT_CONFIG_FILE=str(clouds_yaml))
    # Scripts find the openstack CLI installed beside stacklab, venv activated or not.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    results = await run_init_hooks(folder.expanduser(), env)
    failed = [name for name, code in results if code != 0]
    if failed:
        LOG.error("init hooks failed: %s", ", ".join(failed))
