"""``stacklab fault``: each command's arguments become the action the lab API applies."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.cli import FAULT_ACTIONS, fault_action, parser
from stacklab.topology import Runtime, default_lab_data, topology_from_data
from stacklab.topology.actions import ACTIONS, apply


@pytest.mark.parametrize(("argv", "action"), [
    (["power-off", "network1"], {"action": "power_off", "node": "network1"}),
    (["power-on", "network1"], {"action": "power_on", "node": "network1"}),
    (["stop", "network1", "neutron-l3-agent"],
     {"action": "stop_service", "node": "network1", "service": "neutron-l3-agent"}),
    (["start", "network1", "keepalived"],
     {"action": "start_service", "node": "network1", "service": "keepalived"}),
    (["detach", "compute1", "overlay"],
     {"action": "detach", "node": "compute1", "network": "overlay"}),
    (["attach", "compute1", "overlay"],
     {"action": "attach", "node": "compute1", "network": "overlay"}),
    (["partition", "controller1", "controller2,arbiter"],
     {"action": "partition", "sides": [["controller1"], ["controller2", "arbiter"]]}),
    (["link", "controller1", "arbiter", "--latency", "0.2", "--loss", "0.1"],
     {"action": "set_link", "source": "controller1", "target": "arbiter", "latency": 0.2,
      "loss": 0.1}),
    (["link", "controller1", "arbiter"],
     {"action": "set_link", "source": "controller1", "target": "arbiter", "latency": 0.0,
      "loss": 0.0}),
    (["heal"], {"action": "heal"}),
])
def test_each_fault_command_sends_an_action_the_runtime_applies(
        argv: list[str], action: dict[str, Any]) -> None:
    args = parser().parse_args(["fault", *argv, "--url", "http://x"])
    assert fault_action(args) == action
    runtime = Runtime(topology_from_data(default_lab_data()))
    if action["action"] in ("power_on", "start_service", "attach"):
        apply(runtime, {**action, "action": {"power_on": "power_off",
                                              "start_service": "stop_service",
                                              "attach": "detach"}[action["action"]]})
    apply(runtime, action)


def test_every_command_but_list_and_restart_names_an_action() -> None:
    assert {name for name, _ in FAULT_ACTIONS.values()} == set(ACTIONS)


def test_restart_and_list_parse() -> None:
    args = parser().parse_args(["fault", "restart", "network1", "neutron-l3-agent"])
    assert (args.fault, args.node, args.service) == ("restart", "network1", "neutron-l3-agent")
    assert parser().parse_args(["fault", "list", "--json"]).json is True
    assert parser().parse_args(["node", "down", "network1"]).state == "down"
