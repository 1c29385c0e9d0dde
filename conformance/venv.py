"""Tempest's own venv, made from nothing and pinned: ``python -m conformance.venv [PATH]``.

It holds Tempest and heat-tempest-plugin (Orchestration's API tests), both pinned.

Tempest and its dependencies (oslo.*, stestr, paramiko ...) stay out of the project's venv.
A stamp file records what was installed, so a second call costs nothing and a changed pin
reinstalls. The tools that make Tempest's sample disk images (``format_images.py``:
qemu-img, mkisofs, parted) are Debian packages: each run installs them with apt-get when
they are missing and it runs as root (``ensure_image_tools``), else goes without them
(those tests then skip, and the summary says why).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conformance.format_images import PACKAGES, missing_tools

TEMPEST_VERSION = "47.0.0"
# Orchestration's API tests left Tempest (tempest.api.orchestration is gone by 47): they are
# heat-tempest-plugin's heat_tempest_plugin.tests.api. 3.0.0 (2025.2) declares tempest>=17.1
# and loads under 47.0.0.
HEAT_PLUGIN_VERSION = "3.0.0"
REQUIREMENTS = (f"tempest=={TEMPEST_VERSION}", f"heat-tempest-plugin=={HEAT_PLUGIN_VERSION}")
# What the stamp holds: a change of either pin reinstalls.
REQUIREMENT = " ".join(REQUIREMENTS)
STAMP = ".installed-tempest"
REPO = Path(__file__).resolve().parent.parent
DEFAULT = REPO / ".venv-tempest"


class InstallError(RuntimeError):
    """Tempest could not be installed (no network, no such release ...)."""


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def ready(venv: Path) -> bool:
    stamp = venv / STAMP
    return (python_of(venv).exists() and stamp.exists()
            and stamp.read_text().strip() == REQUIREMENT)


def ensure(venv: Path = DEFAULT, *, python: str = sys.executable,
           timeout: float = 900.0) -> Path:
    """The venv's python, with the pinned Tempest installed in it."""
    if ready(venv):
        return python_of(venv)
    if not python_of(venv).exists():
        shutil.rmtree(venv, ignore_errors=True)
        _run([python, "-m", "venv", str(venv)], timeout)
    _run([str(python_of(venv)), "-m", "pip", "install", "-q", *REQUIREMENTS], timeout)
    (venv / STAMP).write_text(REQUIREMENT + "\n")
    return python_of(venv)


def ensure_image_tools(timeout: float = 900.0) -> str:
    """Install the sample images' tools if missing and apt-get may run; "" when they are
    there, else why not (never raised: the tests needing them skip)."""
    if not missing_tools():
        return ""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return f"missing {', '.join(missing_tools())}: install {' '.join(PACKAGES)}"
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for commands in ([install], [["apt-get", "update", "-qq"], install]):
        try:
            for command in commands:
                subprocess.run(command, capture_output=True, timeout=timeout, check=True,
                               env=env)
        except (OSError, subprocess.SubprocessError):
            continue
        if not missing_tools():
            return ""
    return f"missing {', '.join(missing_tools())}: apt-get could not install them"


def _run(command: list[str], timeout: float) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InstallError(f"{' '.join(command)}: {exc}") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise InstallError(f"{' '.join(command)} exited {result.returncode}:\n{tail}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    venv = Path(args[0]) if args else DEFAULT
    try:
        print(ensure(venv))
    except InstallError as exc:
        print(f"conformance: cannot install {REQUIREMENT}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
