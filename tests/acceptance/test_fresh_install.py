"""A fresh install starts: the package alone, in a clean venv, serves the cloud.

What a new user does with a release: `pip install <repo>` with no extras and not editable,
then `stacklab up`. Nothing of the development venv (the test extra, the repository's
sources on the path) may help it: a module imported at run time but declared only as a
test dependency fails here. pip reuses its cache, so this costs a few seconds after the
first run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.acceptance

REPO = Path(__file__).resolve().parents[2]
READY = re.compile(r"stacklab is up[^:]*: (http://\S+)")


def _clean_env(home: Path) -> dict[str, str]:
    # No PYTHONPATH (the checkout's src/ must not be importable), no VIRTUAL_ENV, no OS_*
    # variables, and a HOME of its own so nothing of the user's is read or written.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not key.startswith("OS_")
    }
    env["HOME"] = str(home)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float) -> str:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stderr[-4000:]}\n{result.stdout[-2000:]}")
    return result.stdout


def _request(method: str, url: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Accept": "application/json", **(headers or {}),
    })
    with urllib.request.urlopen(request, timeout=10) as response:
        # Header names compared in lower case: HTTP says they are case-insensitive.
        headers = {name.lower(): value for name, value in response.headers.items()}
        return response.status, headers, json.loads(response.read())


def _wait_for_endpoint(process: subprocess.Popen[bytes], log: Path, timeout: float) -> str:
    """The endpoint `stacklab up --port 0` announces once it is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = READY.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if process.poll() is not None:
            raise AssertionError(f"stacklab up exited {process.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    raise AssertionError(f"stacklab up did not announce an endpoint in {timeout} s:\n"
                         f"{log.read_text()}")


def test_pip_install_without_extras_then_up_serves(tmp_path: Path) -> None:
    venv, home = tmp_path / "venv", tmp_path / "home"
    home.mkdir()
    env = _clean_env(home)
    _run([sys.executable, "-m", "venv", str(venv)], env, tmp_path, 120)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", str(REPO)], env, tmp_path, 240)

    # The package alone: installed into the venv (not a link to the checkout), no test extra.
    where = _run([str(python), "-c", "import stacklab, importlib.util as u; "
                  "print(stacklab.__file__); print(u.find_spec('pytest'))"], env, tmp_path, 60)
    module_file, pytest_spec = where.split()
    assert Path(module_file).is_relative_to(venv), module_file
    assert pytest_spec == "None"

    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(venv / "bin" / "stacklab"), "up", "--ephemeral", "--port", "0",
             "--no-clouds-yaml"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = _wait_for_endpoint(process, log, 60)
        status, _, health = _request("GET", f"{url}/stacklab/v1/health")
        assert (status, health["status"]) == (200, "ready"), health

        status, headers, body = _request("POST", f"{url}/identity/v3/auth/tokens", {
            "auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": "admin", "password": "secret", "domain": {"name": "Default"},
                }}},
                "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
            },
        })
        assert status == 201
        token = headers["x-subject-token"]
        assert body["token"]["project"]["name"] == "admin"

        status, _, catalog = _request("GET", f"{url}/identity/v3/auth/catalog",
                                      headers={"X-Auth-Token": token})
        assert status == 200
        served = {entry["type"]: entry["endpoints"] for entry in catalog["catalog"]}
        assert {"identity", "image", "compute", "network"} <= served.keys(), served
        for endpoints in served.values():
            assert endpoints and all(e["url"].startswith(url) for e in endpoints), endpoints
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert code == 0, log.read_text()
    assert "stacklab stopped" in log.read_text()
