"""Faults as data: each action reaches the runtime, bad ones are refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.topology import Runtime, default_lab_data, topology_from_data
from stacklab.topology.actions import ACTIONS, ActionError, apply

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"


@pytest.fixture
def runtime() -> Runtime:
    return Runtime(topology_from_data(default_lab_data()))


def test_each_action_changes_the_runtime_once(runtime: Runtime) -> None:
    assert apply(runtime, {"action": "power_off", "node": "controller1"}) is True
    assert apply(runtime, {"action": "power_off", "node": C1}) is False
    assert not runtime.is_up(C1)
    assert apply(runtime, {"action": "stop_service", "node": "network1",
                           "service": "neutron-dhcp-agent"})
    assert not runtime.running("network1.openstack.local", "neutron-dhcp-agent")
    assert apply(runtime, {"action": "detach", "node": "compute1", "network": "overlay"})
    assert not runtime.attached("compute1.openstack.local", "overlay")
    assert apply(runtime, {"action": "partition", "sides": [["controller2"], ["arbiter"]]})
    assert not runtime.reachable(C2, "arbiter.openstack.local")
    assert apply(runtime, {"action": "set_link", "source": "controller2", "target": "arbiter",
                           "latency": 0.5})
    assert runtime.link(C2, "arbiter.openstack.local").latency == 0.5
    assert apply(runtime, {"action": "heal"}) is True
    assert runtime.is_up(C1) and runtime.reachable(C2, "arbiter.openstack.local")
    assert runtime.running("network1.openstack.local", "neutron-dhcp-agent")
    assert apply(runtime, {"action": "heal"}) is False
    assert apply(runtime, {"action": "start_service", "node": "network1",
                           "service": "neutron-dhcp-agent"}) is False
    assert apply(runtime, {"action": "attach", "node": "compute1", "network": "overlay"}) is False
    assert apply(runtime, {"action": "power_on", "node": "controller1"}) is False


@pytest.mark.parametrize(("action", "message"), [
    ([], "JSON object"),
    ({}, "'action' must be one of"),
    ({"action": "explode"}, "'action' must be one of"),
    ({"action": "power_off"}, "'node' must be a non-empty string"),
    ({"action": "power_off", "node": 7}, "'node'"),
    ({"action": "stop_service", "node": "compute1", "service": "keystone"}, "'service'"),
    ({"action": "detach", "node": "compute1", "network": "external"}, "'network'"),
    ({"action": "partition", "sides": [["controller1"]]}, "'sides'"),
    ({"action": "partition", "sides": [["controller1"], ["controller1"]]}, "two sides"),
    ({"action": "set_link", "source": "controller1", "target": "arbiter", "loss": 3},
     "loss"),
    ({"action": "set_link", "source": "controller1", "target": "arbiter", "latency": "1"},
     "'latency'"),
    ({"action": "set_link", "source": "controller1", "target": "controller1"}, "two different"),
])
def test_bad_actions_are_refused_naming_the_field(runtime: Runtime, action: Any,
                                                  message: str) -> None:
    with pytest.raises(ActionError, match=message) as raised:
        apply(runtime, action)
    assert not raised.value.missing
    assert runtime.faults()["cut"] == [] and runtime.faults()["nodes_down"] == []


def test_an_unknown_node_is_told_apart_as_missing(runtime: Runtime) -> None:
    for action in ({"action": "power_on", "node": "nosuch"},
                   {"action": "partition", "sides": [["controller1"], ["nosuch"]]}):
        with pytest.raises(ActionError, match=r"Could not find node: nosuch\.") as raised:
            apply(runtime, action)
        assert raised.value.missing


def test_every_action_is_documented() -> None:
    from stacklab.topology import actions
    assert actions.__doc__ is not None
    for name in ACTIONS:
        assert f'"action": "{name}"' in actions.__doc__
