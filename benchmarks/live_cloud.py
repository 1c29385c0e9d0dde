"""What the benchmarks that drive a live ``stacklab up`` over HTTP share.

Each benchmark starts its own cloud (``running``), stops at the first unexpected answer
(``expect`` raising ``Failure``) and reports percentiles (``spread``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from bench_identity import free_port, percentile

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound="DataclassInstance")
now = time.perf_counter  # a stopwatch outside the server, not the server's clock
STACKLAB = Path(sys.executable).parent / "stacklab"
READY_TIMEOUT = 60.0


class Failure(RuntimeError):
    """An unexpected answer: the benchmark stops rather than measure an error path."""


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def spread(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        raise Failure("no samples")
    return {"count": len(ordered), "p50": percentile(ordered, 50),
            "p99": percentile(ordered, 99), "max": ordered[-1],
            "mean": sum(ordered) / len(ordered)}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Row:
    """One figure of a benchmark's report: its section, what, how much, against what."""

    section: str
    measure: str
    value: str
    target: str = ""
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def add(self, section: str, measure: str, value: str, target: str = "",
            note: str = "") -> None:
        self.rows.append(Row(section, measure, value, target, note))
        log(f"  {measure} = {value} {f'(target {target})' if target else ''} {note}".rstrip())

    def print_table(self) -> None:
        """The figures as the Markdown table docs/benchmarks.md records."""
        print("| section | measure | value | target | notes |")
        print("|---|---|---|---|---|")
        for row in self.rows:
            print(f"| {row.section} | {row.measure} | {row.value} | {row.target} "
                  f"| {row.note} |")

    def finish(self, elapsed: float, path: Path | None) -> int:
        """The run's end: its time, the table, the raw figures (``--json``); main's exit
        code."""
        self.raw["elapsed"] = elapsed
        log(f"done in {elapsed:.0f} s")
        self.print_table()
        self.write_json(path)
        return 0

    def write_json(self, path: Path | None) -> None:
        """The raw figures and the rows, for a later comparison (``--json``)."""
        if path is not None:
            self.raw["rows"] = [asdict(r) for r in self.rows]
            path.write_text(json.dumps(self.raw, indent=2))


def standard_options(parser: argparse.ArgumentParser) -> None:
    """The options every live benchmark takes."""
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--wait-idle", type=float, metavar="S",
                        help="before each figure, wait up to S s for no other process to use "
                             "the CPU (default 60, with --quick 0)")
    parser.add_argument("--json", type=Path, help="write the raw figures to this file")


def chosen_sections(text: str, known: set[str]) -> set[str]:
    """``--sections``' comma-separated names; an unknown one ends the run, named."""
    sections = {s.strip() for s in text.split(",") if s.strip()}
    if sections - known:
        raise SystemExit(f"unknown sections: {', '.join(sorted(sections - known))}")
    return sections


def with_overrides(base: S, overrides: dict[str, Any]) -> S:
    """``base`` settings with the options given on the command line (None: not given)."""
    return replace(base, **{k: v for k, v in overrides.items() if v is not None})


@dataclass
class Live:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    def check(self) -> None:
        if self.process.poll() is not None:
            raise Failure(f"stacklab up exited {self.process.returncode}:\n"
                          f"{self.log.read_text()[-3000:]}")


@contextmanager
def running(workdir: Path, *args: str) -> Iterator[Live]:
    port = free_port()
    log_path = workdir / f"stacklab-{port}.log"
    with log_path.open("wb") as handle:
        process = subprocess.Popen(
            [str(STACKLAB), "up", "--ephemeral", "--host", "127.0.0.1", "--port", str(port),
             "--no-clouds-yaml", *args], stdout=handle, stderr=subprocess.STDOUT)
    live = Live(process, f"http://127.0.0.1:{port}", log_path)
    try:
        deadline = now() + READY_TIMEOUT
        while True:
            live.check()
            try:
                if httpx.get(f"{live.base}/stacklab/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if now() > deadline:
                raise Failure(f"stacklab up not ready in {READY_TIMEOUT:.0f} s")
            time.sleep(0.02)
        yield live
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def expect(response: httpx.Response, *statuses: int) -> httpx.Response:
    if response.status_code not in statuses:
        raise Failure(f"{response.request.method} {response.request.url} answered "
                      f"{response.status_code} (expected {statuses}): {response.text[:600]}")
    return response
