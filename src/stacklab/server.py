"""Serving a cloud on a loopback port with uvicorn, start to ready to shutdown."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
from pathlib import Path

import uvicorn

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.clouds_yaml import cloud_entry, openrc, openrc_vars, write_clouds_yaml
from stacklab.hooks import run_init_hooks

LOG = logging.getLogger("stacklab.server")


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


async def serve(cloud: Cloud, *, clouds_yaml: Path | None, quiet: bool = False,
                started_at: float | None = None) -> None:
    options = cloud.config.stacklab
    sock = bind(options.bind_host, options.bind_port)
    port = sock.getsockname()[1]
    base_url = f"http://{options.public_host}:{port}"
    cloud.hooks_done = not options.init_hooks_dir
    cloud.start(base_url)
    app = build_app(cloud)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                            timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.005)
    if task.done():
        await task
        return
    auth_url = f"{base_url}/identity"
    entry = cloud_entry(auth_url, options.admin_password, options.region)
    if clouds_yaml is not None:
        write_clouds_yaml(clouds_yaml, entry)
    state = cloud.config.state_path
    if not options.ephemeral:
        state.mkdir(parents=True, exist_ok=True)
        (state / "openrc").write_text(openrc(entry))
        (state / "endpoint").write_text(base_url + "\n")
    if not quiet:
        elapsed = ""
        if started_at is not None:
            elapsed = f" in {cloud.clock.monotonic() - started_at:.2f} s"
        print(f"stacklab is up{elapsed}: {base_url}", file=sys.stderr)
        print(f"  auth_url   {auth_url}", file=sys.stderr)
        print(f"  admin      admin / {options.admin_password} (project admin, domain Default)",
              file=sys.stderr)
        if clouds_yaml is not None:
            print(f"  clouds.yaml entry 'stacklab' in {clouds_yaml}: "
                  "openstack --os-cloud stacklab token issue", file=sys.stderr)
        if not options.ephemeral:
            print(f"  openrc     {state / 'openrc'}", file=sys.stderr)
        sys.stderr.flush()
    background = asyncio.create_task(cloud.run_background())
    if options.init_hooks_dir:
        env = {"OS_CLOUD": "stacklab"} if clouds_yaml is not None else {}
        env.update(openrc_vars(entry))
        results = await run_init_hooks(Path(options.init_hooks_dir).expanduser(), env)
        failed = [name for name, code in results if code != 0]
        if failed:
            LOG.error("init hooks failed: %s", ", ".join(failed))
        cloud.hooks_done = True
    try:
        await task
    finally:
        background.cancel()
        cloud.stop()
        if not quiet:
            print("stacklab stopped", file=sys.stderr)

