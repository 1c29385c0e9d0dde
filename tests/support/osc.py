"""The real ``openstack`` CLI for the acceptance tests, each call its own OS process.

A call of ``.venv/bin/openstack`` costs about 0.6 s of CPU, most of it the interpreter
importing openstackclient, openstacksdk, keystoneauth and cliff before the command runs,
and the suite makes well over a thousand calls on two cores. So a call is forked from a
server that has made those imports once (support/osc_server.py, one per test process):
the child is a new process that runs the console script's own entry point
(``openstackclient.shell:main``, read from the package's metadata, as the script does)
with the call's argv, environment and working directory, its stdout and stderr in files,
and exits with its exit code: what ``subprocess.run`` of the executable gives, without the
imports. Nothing of one call survives into the next (each child starts from the server's
state after its imports), and the server shares nothing with the cloud.
``test_the_forked_cli_answers_as_the_executable`` compares the two.

What the imports read from the environment is the server's: openstacksdk fixes its
config search path (HOME, XDG_*) at import. A call whose environment differs from the
server's in anything but the OS_* variables (and pytest's own PYTEST_CURRENT_TEST) runs
the executable itself, and STACKLAB_TEST_CLI_EXEC=1 makes every call do so.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from support.osc_server import EXECUTABLE

_IGNORED = frozenset({"PYTEST_CURRENT_TEST"})
_SERVER_SCRIPT = Path(__file__).with_name("osc_server.py")


def _lasting(env: Mapping[str, str]) -> dict[str, str]:
    """What of an environment the server's imports may have read."""
    return {key: value for key, value in env.items()
            if not key.startswith("OS_") and key not in _IGNORED}


class _Server:
    """The fork server of this test process, started at its first call."""

    def __init__(self) -> None:
        self.scratch = tempfile.TemporaryDirectory(prefix="osc-")
        self.address = os.path.join(self.scratch.name, "socket")
        self.environment = _lasting(os.environ)
        self.process = subprocess.Popen(
            [sys.executable, str(_SERVER_SCRIPT), self.address],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the CLI's fork server did not start: {line!r}")
        atexit.register(self.stop)

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.scratch.cleanup()


_server: _Server | None = None


def _text(path: str) -> str:
    with open(path, "rb") as raw:
        # As subprocess's text mode reads a pipe: the locale's encoding, universal newlines.
        return io.TextIOWrapper(io.BytesIO(raw.read())).read()


def run(argv: Sequence[str], env: Mapping[str, str], *, timeout: float,
        cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    """``subprocess.run([openstack, *argv], env=env, capture_output=True, text=True)``."""
    global _server
    args = [str(EXECUTABLE), *argv]
    executed = bool(os.environ.get("STACKLAB_TEST_CLI_EXEC"))
    if not executed and _server is None:
        _server = _Server()
    if executed or _server is None or _lasting(env) != _server.environment:
        return subprocess.run(args, env=dict(env), cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="osc-call-") as scratch:
        out, err = os.path.join(scratch, "out"), os.path.join(scratch, "err")
        for path in (out, err):
            Path(path).touch()
        request = {"argv": list(argv), "env": dict(env), "cwd": cwd, "stdout": out,
                   "stderr": err}
        with socket.socket(socket.AF_UNIX) as connection:
            connection.settimeout(timeout)
            connection.connect(_server.address)
            connection.sendall(json.dumps(request).encode() + b"\n")
            answers = connection.makefile("rb")
            pid = int(answers.readline())
            try:
                last = answers.readline()
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)
                raise subprocess.TimeoutExpired(args, timeout, _text(out), _text(err)) from None
        # No code: the child was killed before it could answer (by a signal from outside).
        code = int(last) if last.strip() else -signal.SIGKILL
        return subprocess.CompletedProcess(args, code, _text(out), _text(err))
