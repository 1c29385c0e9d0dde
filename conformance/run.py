"""``./dev tempest [SERVICE...]``: upstream Tempest's API tests against a fresh stacklab.

Runs in Tempest's own venv (``conformance.venv``): starts ``stacklab up --ephemeral`` on a
free loopback port, writes tempest.conf from what the cloud advertises, runs the
``tempest.api.<service>`` tests (Orchestration's: heat-tempest-plugin's
``heat_tempest_plugin.tests.api``), and writes a Markdown summary (by service, failures by cause,
skips with reasons) and a JSON file of every test's result. ``--expect FILE`` turns it into a
regression check: the exit status is 1 if any test listed there did not pass.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from conformance import cloud, format_images, results, skips, tempest_conf
from conformance.fileserver import FileServer
from conformance.venv import REPO, TEMPEST_VERSION, ensure_image_tools

CORE_SERVICES = ("identity", "compute", "image", "network")
# Catalog types that make a service's tests part of the default run once stacklab has them.
OPTIONAL_SERVICES = {"volume": {"volumev3", "block-storage", "volume"},
                     "orchestration": {"orchestration"}}
# In the catalog but not in the default run until their tests pass
# (tempest_conf.VOLUME_TESTS_PASS): asked for by name only. Orchestration joined the default
# run once all 47 of heat-tempest-plugin's API tests passed (docs/conformance.md).
NOT_BY_DEFAULT = set() if tempest_conf.VOLUME_TESTS_PASS else {"volume"}
# Where a service's API tests live: tempest.api.<service>, save Orchestration's, which left
# Tempest for heat-tempest-plugin (conformance.venv installs it).
PLUGIN_TESTS = {"orchestration": "heat_tempest_plugin.tests.api."}


def tests_of(service: str) -> str:
    """The regex (unanchored) of a service's API test ids."""
    prefix = PLUGIN_TESTS.get(service, f"tempest.api.{service}.")
    return prefix.replace(".", r"\.")


PROGRESS_EVERY = 100
IMAGE_PATH = "/cirros.img"   # where the loopback file server serves the image's bytes


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="./dev tempest", description="Run upstream Tempest's API tests against stacklab.")
    parser.add_argument("services", nargs="*", metavar="SERVICE",
                        help="identity, compute, image, network, volume, orchestration "
                             "(default: every one the cloud serves)")
    parser.add_argument("--regex", help="run the tests matching this regex instead "
                                        "(e.g. one test's id)")
    parser.add_argument("--load-list", type=Path, help="run exactly the test ids of this file")
    parser.add_argument("--expect", type=Path,
                        help="a file of test ids (one a line, # comments) that must pass: "
                             "exit 1 naming any that did not")
    parser.add_argument("--volume", action="store_true",
                        help="Block Storage on in tempest.conf for this run, before "
                             "tempest_conf.VOLUME_TESTS_PASS turns it on for every run "
                             "(implied by naming the volume service)")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "tempest",
                        help="where the summary, results, logs and workspace go "
                             "(default build/tempest)")
    parser.add_argument("--summary", type=Path,
                        help="the Markdown summary (default OUT/summary.md)")
    parser.add_argument("--json", type=Path, help="per-test results (default OUT/results.json)")
    parser.add_argument("--stacklab", type=Path, default=REPO / ".venv" / "bin" / "stacklab",
                        help="the stacklab command to start (default .venv/bin/stacklab)")
    parser.add_argument("--quiet", action="store_true", help="print no summary on stdout")
    parser.add_argument("--passing", type=Path,
                        help="write the ids of the tests that passed to this file (how "
                             "conformance/ci-subset.txt is made)")
    parser.add_argument("--summarise-only", action="store_true",
                        help="no run: summarise OUT's saved tempest.subunit again")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.services) - {*CORE_SERVICES, *OPTIONAL_SERVICES})
    if unknown:
        parser.error(f"unknown service(s): {', '.join(unknown)}")
    return args


def selection(args: argparse.Namespace, services: set[str],
              out: Path) -> tuple[list[str], str]:
    """tempest run's arguments choosing the tests, and a line describing them."""
    if args.load_list:
        # stestr takes bare ids: the file's comments stay out of its copy.
        ids = out / "load-list.txt"
        ids.write_text("".join(f"{test_id}\n" for test_id in read_ids(args.load_list)))
        return ["--load-list", str(ids)], f"--load-list {args.load_list.name}"
    # Tests that can only fail without a guest to log into stay out of every selection.
    excluded = ["--exclude-regex", skips.exclude_regex()]
    left_out = f", leaving out {len(skips.NEEDS_A_GUEST)} test(s) that need SSH into a guest"
    if args.regex:
        return ["--regex", args.regex, *excluded], f"--regex {args.regex}{left_out}"
    chosen = args.services or [*CORE_SERVICES, *(name for name, types in
                                                  OPTIONAL_SERVICES.items()
                                                  if types & services
                                                  and name not in NOT_BY_DEFAULT)]
    regex = f"^({'|'.join(tests_of(service) for service in chosen)})"
    return ["--regex", regex, *excluded], f"--regex {regex}{left_out}"


def commit() -> str:
    def git(*command: str) -> str:
        return subprocess.run(["git", *command], cwd=REPO, capture_output=True, text=True,
                              check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return head + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = " ".join(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return f"{os.cpu_count()} vCPUs {model or platform.processor()}".strip()


def run_tempest(workspace: Path, chosen: list[str], concurrency: int, output: Path) -> float:
    """``tempest run`` in the workspace; its console output to a file. Its wall time."""
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(TEMPEST_CONFIG_DIR=str(workspace / "etc"), TEMPEST_CONFIG="tempest.conf")
    command = [str(bin_dir / "tempest"), "run", "--config-file",
               str(workspace / "etc" / "tempest.conf"), "--concurrency", str(concurrency),
               *chosen]
    started = time.monotonic()
    done = 0
    with output.open("w") as log, subprocess.Popen(
            command, cwd=workspace, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", start_new_session=True) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:
                log.write(line)
                if " ... ok" in line or " ... FAILED" in line or " ... SKIPPED" in line:
                    done += 1
                    if done % PROGRESS_EVERY == 0:
                        print(f"tempest: {done} tests done, "
                              f"{time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        except BaseException:
            # Interrupted: stop tempest and its workers (its own session) before the cloud.
            os.killpg(process.pid, signal.SIGTERM)
            raise
    return time.monotonic() - started


def _terminated(signum: int, frame: object) -> None:
    # SIGTERM (a timeout, a CI runner) unwinds like Ctrl-C: the clean-ups stop the cloud.
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _terminated)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.summarise_only:
        meta = json.loads((out / "meta.json").read_text())
        return report(results.read_subunit((out / "tempest.subunit").read_bytes()), meta, args)
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "tempest").exists():
        print(f"conformance: no tempest beside {sys.executable}: run it in Tempest's venv "
              "(./dev tempest makes one)", file=sys.stderr)
        return 2
    stacklab = args.stacklab if args.stacklab.exists() else shutil.which("stacklab")
    if stacklab is None:
        print(f"conformance: no stacklab command at {args.stacklab}", file=sys.stderr)
        return 2
    meta = {"stacklab commit": commit(),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(), "Tempest": TEMPEST_VERSION}
    stream, more = run(Path(stacklab), out, args)
    meta.update(more)
    (out / "tempest.subunit").write_bytes(stream)
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return report(results.read_subunit(stream), meta, args)


def run(stacklab: Path, out: Path,
        args: argparse.Namespace) -> tuple[bytes, dict[str, str]]:
    """A cloud, tempest.conf, ``tempest run``: the subunit stream and what to say of the run."""
    bin_dir = Path(sys.executable).parent
    workspace = out / "workspace"
    shutil.rmtree(workspace, ignore_errors=True)
    # An empty config dir and a workspace file of the run's own: else `tempest init` copies
    # /etc/tempest or ~/.config/tempest and registers the workspace in ~/.tempest.
    empty = out / "tempest-etc"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir()
    (out / "workspace.yaml").unlink(missing_ok=True)
    subprocess.run([str(bin_dir / "tempest"), "init", "--config-dir", str(empty),
                    "--workspace-path", str(out / "workspace.yaml"), str(workspace)],
                   check=True, capture_output=True)
    manifest, made = format_images_of_run(out / "format-images")
    print(f"conformance: starting {stacklab} up --ephemeral", file=sys.stderr)
    lab = cloud.start(stacklab, out)
    try:
        facts = dataclasses.replace(cloud.discover(lab.auth_url), images_manifest=manifest)
        # web-download's source: the image's bytes, from this process, for the whole run.
        with FileServer({IMAGE_PATH: facts.image_data}) as files:
            facts = dataclasses.replace(facts, http_image=files.url(IMAGE_PATH))
            conf = tempest_conf.render(facts, workspace,
                                       volume=args.volume or "volume" in args.services)
            (workspace / "etc" / "tempest.conf").write_text(conf)
            chosen, described = selection(args, facts.services, out)
            print(f"conformance: tempest run {described} --concurrency {args.concurrency} "
                  f"(output: {out / 'tempest-output.log'})", file=sys.stderr, flush=True)
            wall = run_tempest(workspace, chosen, args.concurrency,
                               out / "tempest-output.log")
    finally:
        lab.stop()
    stream = subprocess.run([str(bin_dir / "stestr"), "last", "--subunit"], cwd=workspace,
                            capture_output=True, check=False).stdout
    return stream, {
        "selection": f"{described}, concurrency {args.concurrency}",
        "wall time": f"{wall:.0f} s (tempest run, from test discovery to the last test)",
        "server 500s (unexpected errors in the cloud's log)": str(len(lab.unexpected_errors())),
        "format images": made,
    }


def format_images_of_run(folder: Path) -> tuple[str, str]:
    """os-test-images' set made in ``folder``: its manifest's path ("" when none could be
    made), and what was made or why nothing was."""
    problem = ensure_image_tools()
    if not problem:
        try:
            manifest, count = format_images.generate(folder)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            problem = str(exc)
        else:
            return str(manifest), (f"{count} of os-test-images' {len(format_images.IMAGES)} "
                                   "(conformance/format_images.py)")
    print(f"conformance: no image format tests: {problem}", file=sys.stderr)
    return "", f"none: {problem}"


def report(tests: list[results.Outcome], meta: dict[str, str],
           args: argparse.Namespace) -> int:
    """The summary and the JSON written (and printed); 1 if an expected test did not pass."""
    out: Path = args.out.resolve()
    summary_text = results.render_markdown(results.summarise(tests), meta)
    summary_path = args.summary or out / "summary.md"
    summary_path.write_text(summary_text)
    json_path = args.json or out / "results.json"
    json_path.write_text(json.dumps(results.to_json(tests, meta), indent=1, sort_keys=True)
                         + "\n")
    if args.passing:
        args.passing.write_text(passing_list(tests, meta))
    if not args.quiet:
        print(summary_text)
    print(f"conformance: summary {summary_path}, results {json_path}", file=sys.stderr)
    if not tests:
        print("conformance: tempest reported no test: see "
              f"{out / 'tempest-output.log'}", file=sys.stderr)
        return 2
    if args.expect:
        lost = results.regressions(read_ids(args.expect), tests)
        if lost:
            print(f"conformance: {len(lost)} expected test(s) did not pass:", file=sys.stderr)
            for line in lost:
                print(f"  {line}", file=sys.stderr)
            return 1
    return 0


def passing_list(tests: Sequence[results.Outcome], meta: dict[str, str]) -> str:
    """The tests that passed, by service: the regression check's list (``--expect``)."""
    lines = [
        "# The Tempest tests that pass: tests/conformance/test_tempest_subset.py runs them on",
        "# every ./dev test and fails naming any that no longer passes. Made by",
        "#   ./dev tempest --passing conformance/ci-subset.txt",
        f"# from a full run at {meta.get('stacklab commit', '?')}, {meta.get('date', '?')}. "
        "A test that newly passes is",
        "# added by running that again; one that stops passing is a regression to fix.",
    ]
    by_service: dict[str, list[str]] = {}
    for test in tests:
        if test.status == "pass" and test.test_id.startswith(
                ("tempest.", *PLUGIN_TESTS.values())):
            by_service.setdefault(test.service, []).append(test.test_id)
    for service, ids in sorted(by_service.items()):
        lines += ["", f"# {service}: {len(ids)}", *sorted(ids)]
    return "\n".join(lines) + "\n"


def read_ids(path: Path) -> list[str]:
    """Test ids, one a line; blank lines and ``#`` comments ignored."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]
