"""Which tests a run chooses: Orchestration's come from heat-tempest-plugin, asked for by name."""

from __future__ import annotations

import re
from pathlib import Path

from conformance import run
from conformance.results import Outcome

PLUGIN_TEST = ("heat_tempest_plugin.tests.api.test_heat_api.stacks_create_stack"
               "[id-8fb7ea0a-5c6b-4ae3-9b3a-ba68c2e1a2f3]")
CATALOG = {"identity", "compute", "image", "network", "orchestration"}


def _regex(argv: list[str], tmp_path: Path) -> str:
    chosen, _ = run.selection(run.parse_args(argv), CATALOG, tmp_path)
    return chosen[chosen.index("--regex") + 1]


def test_orchestration_runs_the_plugin_s_api_tests_when_named(tmp_path: Path) -> None:
    regex = re.compile(_regex(["orchestration"], tmp_path))
    assert regex.search(PLUGIN_TEST)
    # Tempest 47 has no tempest.api.orchestration; its scenario tests are not the API suite.
    assert not regex.search("tempest.api.orchestration.stacks.test_x.T.test_y[id-1]")
    assert not regex.search("heat_tempest_plugin.tests.scenario.test_x.T.test_y[id-1]")


def test_orchestration_is_in_the_default_run(tmp_path: Path) -> None:
    # All of heat-tempest-plugin's API tests pass: a default run has them beside Tempest's.
    assert "orchestration" not in run.NOT_BY_DEFAULT
    regex = re.compile(_regex([], tmp_path))
    assert regex.search(PLUGIN_TEST)
    assert regex.search("tempest.api.compute.servers.test_x.T.test_y[id-1]")
    both = re.compile(_regex(["compute", "orchestration"], tmp_path))
    assert both.search(PLUGIN_TEST)
    assert both.search("tempest.api.compute.servers.test_x.T.test_y[id-1]")


def test_passing_plugin_tests_are_listed_under_orchestration() -> None:
    listed = run.passing_list([Outcome(PLUGIN_TEST, "pass", ""),
                               Outcome("tempest.api.image.v2.test_x.T.test_y[id-2]", "pass", ""),
                               Outcome("other.test[id-3]", "pass", "")], {})
    assert "# orchestration: 1\n" + PLUGIN_TEST in listed
    assert "other.test" not in listed
