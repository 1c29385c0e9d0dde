"""``stacklab scenario run --live`` against a live ``stacklab up --ephemeral``, in real time.

The cloud is this module's own (its faults would disturb the shared one). Its lab runs 50
times faster than real time (``ha_time_scale = 0.02``): the runner reads the scale from
``/stacklab/v1/ha`` and waits lab seconds, so the scenario's minute takes about a second.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]

SCENARIO = """\
name: live-vip-failover
requires: {nodes: [proxy1, proxy2]}
probe: {interval: 5, calls: [token_issue, server_list]}
steps:
  - expect: {vip_holder: proxy1}
  - act: {action: power_off, node: proxy1}
  - wait: {until: {vip_holder: proxy2}, timeout: 60}
  - wait: 10
  - expect:
      - {request: {path: /compute/v2.1/flavors, status: 200}}
      - {probe: {since: 5, errors: {max: 0}}}
  - act: heal
  - wait: 20
  - expect: [{vip_holder: proxy2}, {galera_primary: [controller1, controller2, arbiter]}]
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("scenarios")
    config = tmp / "stacklab.ini"
    config.write_text("[stacklab]\nha_time_scale = 0.02\n"
                      "[AGENT]\nreport_interval = 50\n"
                      "[DEFAULT]\nagent_down_time = 150\n")
    cloud = start_cloud(tmp, "--ephemeral", "--config", str(config))
    yield cloud
    stop_cloud(cloud)


def scenario(lab: LiveCloud, *args: str) -> subprocess.CompletedProcess[str]:
    return lab.stacklab("scenario", "run", *args, "--live", check=False, timeout=120)


def test_a_live_vip_failover_scenario_passes_with_its_failover_in_the_report(
        lab: LiveCloud, tmp_path: Path) -> None:
    path = tmp_path / "live.yaml"
    path.write_text(SCENARIO)
    result = scenario(lab, str(path), "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["passed"], result.stdout + result.stderr
    assert report["mode"] == "live"
    (failover,) = [f for f in report["failovers"] if f["what"] == "VIP holder"]
    assert (failover["from"], failover["to"]) == ("proxy1", "proxy2")
    assert report["probe"]["server_list"]["ok"] > 0


def test_a_live_expectation_that_does_not_hold_fails_the_run(lab: LiveCloud,
                                                              tmp_path: Path) -> None:
    path = tmp_path / "wrong.yaml"
    path.write_text("name: wrong\nsteps:\n  - expect: {vip_holder: proxy9}\n")
    result = scenario(lab, str(path))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL [0]" in result.stdout and "vip_holder=proxy9: holder proxy" in result.stdout
