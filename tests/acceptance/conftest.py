"""A live ``stacklab up`` on a free loopback port, driven by the real clients."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stacklab.api.app import UNEXPECTED_ERROR
from support import osc

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveCloud:
    url: str
    state_dir: Path
    clouds_yaml: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml), OS_CLOUD="stacklab")
        env.update(extra)
        return env

    def openstack(self, *args: str, check: bool = True,
                  **env: str) -> subprocess.CompletedProcess[str]:
        """Run the real ``openstack`` CLI against this cloud."""
        result = osc.run(args, self.env(**env), timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stderr}\n{result.stdout}")
        return result

    def openstack_json(self, *args: str, **env: str) -> Any:
        return json.loads(self.openstack(*args, "-f", "json", **env).stdout)

    def stacklab(self, *args: str, check: bool = True,
                 timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """The lab's own CLI (``stacklab status``, ``fault`` …) with a HOME of its own: only
        ``--url`` and this cloud's clouds.yaml entry find the cloud and its admin."""
        home = self.clouds_yaml.parent / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
                   OS_CLIENT_CONFIG_FILE=str(self.clouds_yaml))
        result = subprocess.run([str(BIN / "stacklab"), *args, "--url", self.url],
                                capture_output=True, text=True, timeout=timeout, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"stacklab {' '.join(args)} failed ({result.returncode}):\n"
                                 f"{result.stderr}\n{result.stdout}")
        return result

    def connect(self, **auth: Any) -> Any:
        import openstack

        params: dict[str, Any] = {
            "auth_url": self.auth_url, "username": "admin", "password": "secret",
            "project_name": "admin", "user_domain_name": "Default",
            "project_domain_name": "Default", "region_name": "RegionOne",
        }
        params.update(auth)
        # Only these parameters: the user's own clouds.yaml (which any other `stacklab up`
        # writes) and OS_* variables must not pick another cloud.
        return openstack.connect(load_yaml_config=False, load_envvars=False, **params)


def wait_for(what: str, probe: Callable[[], Any], done: Callable[[Any], bool],
             timeout: float = 20.0, every: float = 0.2) -> Any:
    """Poll ``probe`` until ``done`` holds for what it returns; fail naming the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s; last seen {value!r}")
        time.sleep(every)


def start_cloud(tmp: Path, *extra: str, port: int | None = None,
                state_dir: Path | None = None) -> LiveCloud:
    port = port or free_port()
    state = state_dir or tmp / "state"
    clouds_yaml = tmp / "clouds.yaml"
    log = tmp / f"stacklab-{port}.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        [str(BIN / "stacklab"), "up", "--port", str(port), "--state-dir", str(state),
         "--clouds-yaml", str(clouds_yaml), *extra],
        stdout=handle, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"stacklab up exited {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/stacklab/v1/health", timeout=1) as response:
                if response.status == 200:
                    return LiveCloud(url, state, clouds_yaml, process, log)
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"stacklab up not ready in 30 s:\n{log.read_text()}")


def unexpected_errors(cloud: LiveCloud) -> list[str]:
    """The server's log lines of exceptions no handler expected (each one answered a 500)."""
    text = cloud.log.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if f"{UNEXPECTED_ERROR} " in line]


def stop_cloud(cloud: LiveCloud) -> int:
    """Stop the server; fail if it met an unexpected exception while it ran."""
    cloud.process.terminate()
    try:
        code = cloud.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        cloud.process.kill()
        raise
    errors = unexpected_errors(cloud)
    assert not errors, (f"{len(errors)} unexpected server errors (500s) in {cloud.log}:\n"
                        + "\n".join(errors[:20]))
    return code


# A keystone Fernet token, wherever it is written.
FERNET_TOKEN = re.compile(r"gAAAAA[A-Za-z0-9_\-]{20,}")


def leaked_tokens(cloud: LiveCloud) -> list[str]:
    """The server's log lines that hold a token (the lab masks every secret it logs)."""
    text = cloud.log.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if FERNET_TOKEN.search(line)]


# The shapes a test marked ``every_shape`` runs in: the embedded default; one process on
# the servers real deployments use (MariaDB, the bus on RabbitMQ in oslo.messaging's
# format); and one process per service on them (``stacklab up --processes``,
# docs/processes.md). The others run in the embedded shape only; the slower shapes run the
# tests that matter for them (issue 15: the same product in every shape).
SHAPES = ("embedded", "mariadb-rabbitmq", "processes")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "live" not in metafunc.fixturenames:
        return
    shapes = SHAPES if metafunc.definition.get_closest_marker("every_shape") else SHAPES[:1]
    metafunc.parametrize("live", shapes, indirect=True, scope="session")


def shape_options(shape: str, tmp: Path, stack: contextlib.ExitStack) -> list[str]:
    """``stacklab up``'s options for a shape: its servers' scratch database and vhost are
    made now and dropped when ``stack`` closes (the test skips, saying why, without them)."""
    if shape == "embedded":
        # STACKLAB_TEST_UP_CONFIG: a configuration file the cloud starts with, to run the
        # whole suite against another shape (docs/bus.md); STACKLAB_TEST_UP_PROCESSES=1
        # with it: one process per service (docs/processes.md).
        config = os.environ.get("STACKLAB_TEST_UP_CONFIG")
        processes = bool(os.environ.get("STACKLAB_TEST_UP_PROCESSES"))
        return [*(["--processes"] if processes else ["--seed", "42"]),
                *(["--config", config] if config else [])]
    from support.broker import scratch_vhost
    from support.engines import scratch_database

    database = stack.enter_context(scratch_database("mysql", prefix="stacklab_shape"))
    vhost = stack.enter_context(scratch_vhost(prefix="stacklab_shape"))
    conf = tmp / "stacklab.conf"
    conf.write_text(f"[database]\nconnection = {database}\n"
                    f"[DEFAULT]\ntransport_url = {vhost}\n")
    # One process per service takes no seed (each process draws its own ids).
    return [*(["--processes"] if shape == "processes" else ["--seed", "42"]),
            "--config", str(conf)]


@pytest.fixture(scope="session")
def live(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    """One cloud per shape for the whole acceptance session (tests create uniquely named
    resources).

    Its teardown fails the run if any request met an unexpected exception (stop_cloud),
    or if any of the session's thousands of tokens reached its log: ``--debug`` writes
    every line the lab logs, every request's included, to the file searched.
    """
    shape = getattr(request, "param", SHAPES[0])
    tmp = tmp_path_factory.mktemp(f"live-{shape}")
    with contextlib.ExitStack() as stack:
        cloud = start_cloud(tmp, "--debug", *shape_options(shape, tmp, stack))
        yield cloud
        stop_cloud(cloud)
    leaked = leaked_tokens(cloud)
    assert not leaked, (f"{len(leaked)} log lines hold a token in {cloud.log}:\n"
                        + "\n".join(line[:200] for line in leaked[:5]))
