"""Init hooks: scripts that pre-populate the cloud once it is ready.

Every file of the configured folder runs once, in name order, after the
cloud answers: an executable runs as is; a ``*.openstack`` file holds one
``openstack`` CLI command per line (without the ``openstack`` word; ``#``
starts a comment). Each runs with ``OS_CLOUD=stacklab`` and the ``OS_*``
variables of the admin, so plain ``openstack ...`` works inside scripts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

LOG = logging.getLogger("stacklab.hooks")


async def run_init_hooks(folder: Path, env: Mapping[str, str]) -> list[tuple[str, int]]:
    """Run every hook; return (name, exit code) for each. A failing hook does not stop the rest."""
    results: list[tuple[str, int]] = []
    if not folder.is_dir():
        LOG.warning("init hooks folder %s does not exist", folder)
        return results
    full_env = {**os.environ, **env}
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.suffix == ".openstack":
            code = await _run_cli_file(path, full_env)
        elif os.access(path, os.X_OK):
            code = await _run([str(path)], full_env, path.name)
        else:
            LOG.info("init hook %s skipped: neither executable nor *.openstack", path.name)
            continue
        results.append((path.name, code))
    return results


def _openstack_command() -> list[str]:
    found = shutil.which("openstack")
    if found:
        return [found]
    beside = Path(sys.executable).parent / "openstack"
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "openstackclient.shell"]


async def _run_cli_file(path: Path, env: Mapping[str, str]) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "openstack":
            words = words[1:]
        code = await _run([*_openstack_command(), *words], env, f"{path.name}:{number}")
        if code != 0:
            return code
    return 0


async def _run(argv: list[str], env: Mapping[str, str], name: str) -> int:
    process = await asyncio.create_subprocess_exec(
        *argv, env=dict(env), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        # The cloud is stopping: a hook must not outlive it.
        process.kill()
        await process.wait()
        raise
    code = process.returncode or 0
    text = output.decode(errors="replace").strip()
    level = logging.INFO if code == 0 else logging.ERROR
    LOG.log(level, "init hook %s exited %d%s", name, code, f": {text}" if text else "")
    return code
