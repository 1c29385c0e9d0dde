"""The scenario file's schema: what it accepts, and errors naming the file, step and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacklab.scenarios.format import ScenarioError, find, library, load, parse


def test_a_scenario_parses_into_steps_with_the_probe_defaults() -> None:
    scenario = parse({"name": "s", "steps": [
        {"act": {"action": "power_off", "node": "proxy1"}},
        {"wait": 5},
        {"wait": {"until": {"vip_holder": "proxy2"}, "timeout": 10}},
        {"expect": [{"vip_holder": "proxy2"}, {"probe": {"errors": {"max": 3}}}]},
        {"act": "heal"}]}, "s.yaml")
    assert [step.kind for step in scenario.steps] == ["act", "wait", "wait", "expect", "act"]
    assert scenario.probe_calls == ("token_issue", "server_list")
    assert scenario.steps[3].describe() == \
        "expect vip_holder=proxy2, probe={errors:{max:3}}"


@pytest.mark.parametrize(("document", "message"), [
    ({"steps": [{"wait": 1}]}, "s.yaml: (top): 'name' is a required property"),
    ({"name": "s", "steps": [{"wait": 1}, {"wait": -1}]}, "s.yaml: steps[1].wait: "),
    ({"name": "s", "steps": [{"wait": 1}, {"expect": {"vip_holder": "p", "bogus": 1}}]},
     "s.yaml: steps[1].expect"),
    ({"name": "s", "steps": [{"expect": {"agent": {"host": "n1", "alive": True}}}]},
     "s.yaml: steps[0].expect.agent: 'binary' is a required property"),
    ({"name": "s", "steps": [{"act": {"node": "proxy1"}}]},
     "s.yaml: steps[0].act"),
    ({"name": "s", "steps": [{"wait": 1, "act": "heal"}]}, "s.yaml: steps[0]: "),
    ({"name": "s", "probe": {"calls": ["nope"]}, "steps": [{"wait": 1}]},
     "s.yaml: probe.calls[0]: 'nope' is not one of"),
])
def test_errors_name_the_file_the_step_and_the_field(document: dict[str, object],
                                                      message: str) -> None:
    with pytest.raises(ScenarioError) as raised:
        parse(document, "s.yaml")
    assert message in str(raised.value), str(raised.value)


def test_a_file_that_is_not_yaml_or_not_there_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match=r"broken\.yaml: not YAML"):
        load(broken)
    with pytest.raises(ScenarioError, match="cannot read"):
        load(tmp_path / "missing.yaml")


def test_every_shipped_scenario_is_valid_and_found_by_name() -> None:
    names = [load(path).name for path in library()]
    assert names and all(find(name).exists() for name in names)
    assert all(path.stem == load(path).name for path in library())
