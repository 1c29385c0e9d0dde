#!/usr/bin/env python3
"""``stacklab up --processes`` (one process per service, MariaDB + RabbitMQ): its ready time
(from the command to the supervisor's "is up"), each process's resident memory (RSS, from
/proc) once ready, and the total, against the one-process ``stacklab up`` on the same store
and broker.

A database and a vhost of its own for each start (MariaDB at 127.0.0.1:3306 as root, or
STACKLAB_BENCH_MYSQL_URL without a database; the broker at 127.0.0.1:5672 as guest, or
STACKLAB_BENCH_RABBIT_URL without a vhost), dropped after.

    python benchmarks/processes.py            # one start of each shape
    python benchmarks/processes.py --runs 2
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

# Wall-clock measurement is the point here: the determinism rule is for the server's core.
now = time.perf_counter

MYSQL = os.environ.get("STACKLAB_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
RABBIT = os.environ.get("STACKLAB_BENCH_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")
BIN = Path(sys.executable).parent
PROCESS = re.compile(r"^  process\s+(\S+) \(pid (\d+)\)$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def memory_mb(pid: int) -> tuple[float, float, float]:
    """RSS, PSS (shared pages divided among their sharers) and USS (private pages), in MB:
    forked children share the supervisor's imports, which RSS counts in each."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])
    uss = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return fields.get("Rss", 0) / 1024, fields.get("Pss", 0) / 1024, uss / 1024


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def mysql(statement: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(MYSQL + "/")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(statement))
    engine.dispose()


def start(processes: bool) -> tuple[float, dict[str, tuple[float, float, float]]]:
    name = f"stacklab_bench_{uuid.uuid4().hex[:10]}"
    mysql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*",
                    ".*"], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "stacklab.conf"
        conf.write_text(f"[DEFAULT]\ntransport_url = {RABBIT.rstrip('/')}/{name}\n"
                        f"[database]\nconnection = {MYSQL}/{name}\n")
        log = Path(tmp) / "log"
        started = now()
        process = subprocess.Popen(
            [str(BIN / "stacklab"), "up", *(["--processes"] if processes else []),
             "--port", str(free_port()), "--state-dir", f"{tmp}/state", "--no-clouds-yaml",
             "--config", str(conf)], stdout=log.open("wb"), stderr=subprocess.STDOUT)
        try:
            while "stacklab is up" not in log.read_text():
                if process.poll() is not None or now() - started > 300:
                    raise SystemExit(f"not ready:\n{log.read_text()}")
                time.sleep(0.05)
            ready = now() - started
            time.sleep(2)  # the first heartbeats and agent reports
            memory = {"supervisor" if processes else "stacklab up": memory_mb(process.pid)}
            if processes:
                for label, pid in PROCESS.findall(log.read_text()):
                    memory[label] = memory_mb(int(pid))
            return ready, memory
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False)
            mysql(f"DROP DATABASE {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    for run in range(args.runs):
        for processes in (False, True):
            ready, memory = start(processes)
            shape = "--processes" if processes else "one process"
            print(f"run {run + 1}, {shape}: ready in {ready:.2f} s")
            print(f"  {'process':40} {'RSS':>8} {'PSS':>8} {'USS':>8} (MB)")
            for label, (rss, pss, uss) in memory.items():
                print(f"  {label:40} {rss:8.1f} {pss:8.1f} {uss:8.1f}")
            totals = [sum(values) for values in zip(*memory.values(), strict=True)]
            print(f"  {'total':40} {totals[0]:8.1f} {totals[1]:8.1f} {totals[2]:8.1f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
