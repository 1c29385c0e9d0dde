"""``stacklab scenario``: list, run (in-process) and random, their output and exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacklab.cli import main


def test_list_names_every_shipped_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert "vip-failover" in names and "galera-split-brain" in names
    assert main(["scenario", "list", "--json"]) == 0
    assert {entry["name"] for entry in json.loads(capsys.readouterr().out)} == set(names)


def test_a_file_that_does_not_fit_the_format_exits_2_naming_step_and_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\nsteps:\n  - wait: 1\n  - expect: {agent: {host: n1}}\n")
    assert main(["scenario", "run", str(path)]) == 2
    assert "bad.yaml: steps[1].expect.agent: 'binary' is a required property" in \
        capsys.readouterr().err


def test_an_expectation_that_does_not_hold_exits_1_and_the_report_says_which(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text("name: wrong\nprobe: {interval: 5, calls: [server_list]}\nsteps:\n"
                    "  - expect: [{vip_holder: proxy1}, {vip_holder: proxy2}]\n")
    assert main(["scenario", "run", str(path)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("scenario wrong (virtual): FAILED")
    assert "ok   [0] t=0.00 vip_holder=proxy1: holder proxy1" in out
    assert "FAIL [0] t=0.00 vip_holder=proxy2: holder proxy1" in out
    assert main(["scenario", "run", str(path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [e["held"] for e in report["expectations"]] == [True, False]


def test_a_refused_action_ends_the_scenario_with_the_lab_s_message(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "refused.yaml"
    path.write_text("name: refused\nsteps:\n  - act: {action: power_off, node: nowhere}\n"
                    "  - wait: 5\n")
    assert main(["scenario", "run", str(path)]) == 1
    out = capsys.readouterr().out
    assert "error: steps[0].act: the lab refused it: 404 Could not find node: nowhere." in out


def test_random_prints_the_faults_and_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenario", "random", "--seed", "5", "--steps", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("seed 5, 2 steps, ") and out[0].endswith("no invariant violated")
    assert any(line.strip().endswith("heal") for line in out)
