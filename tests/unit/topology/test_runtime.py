"""The lab's runtime state: one place for a node's power and its processes, one fault path."""

from __future__ import annotations

import pytest

from stacklab.topology import Follower, Runtime, default_lab_data, topology_from_data

NETWORK1 = "network1.openstack.local"
COMPUTE1 = "compute1.openstack.local"


def lab_runtime() -> Runtime:
    return Runtime(topology_from_data(default_lab_data()))


def test_every_node_starts_up_with_its_services_running() -> None:
    runtime = lab_runtime()
    assert runtime.down_nodes() == frozenset()
    assert runtime.power(NETWORK1) == "up"
    assert runtime.services(NETWORK1)["neutron-l3-agent"] == "running"
    assert runtime.running(COMPUTE1, "nova-compute")
    assert not runtime.running(COMPUTE1, "neutron-l3-agent")  # not a DVR lab


def test_powering_off_stops_the_nodes_services_and_tells_followers_in_order() -> None:
    runtime = lab_runtime()
    heard: list[tuple[str, str, bool]] = []
    runtime.subscribe(Follower("first", lambda n: heard.append(("first", n, runtime.is_up(n))),
                               lambda n: heard.append(("first", n, runtime.is_up(n)))))
    runtime.subscribe(Follower("second", down=lambda n: heard.append(("second", n, False))))

    assert runtime.power_off(NETWORK1) is True
    # Followers see the new state: the change comes first, then the news.
    assert heard == [("first", NETWORK1, False), ("second", NETWORK1, False)]
    assert runtime.power(NETWORK1) == "down" and runtime.down_nodes() == {NETWORK1}
    assert set(runtime.services(NETWORK1).values()) == {"stopped"}
    assert not runtime.running(NETWORK1, "neutron-dhcp-agent")
    assert runtime.is_up(COMPUTE1)

    heard.clear()
    assert runtime.power_on(NETWORK1) is True
    assert heard == [("first", NETWORK1, True)]  # "second" has nothing to do on power-on
    assert runtime.services(NETWORK1)["neutron-dhcp-agent"] == "running"


def test_a_node_already_in_that_state_changes_nothing_and_tells_nobody() -> None:
    runtime = lab_runtime()
    heard: list[str] = []
    runtime.subscribe(Follower("f", heard.append, heard.append))
    assert runtime.power_on(NETWORK1) is False
    runtime.power_off(NETWORK1)
    assert runtime.power_off(NETWORK1) is False
    assert heard == [NETWORK1]


def test_nodes_are_found_by_short_name_or_fqdn_and_unknown_ones_are_refused() -> None:
    runtime = lab_runtime()
    assert runtime.node("network1").fqdn == NETWORK1
    assert runtime.node(NETWORK1).name == "network1"
    with pytest.raises(KeyError):
        runtime.node("nowhere")
    with pytest.raises(KeyError):
        runtime.power_off("nowhere.openstack.local")


def test_two_runtimes_of_one_topology_do_not_share_faults() -> None:
    topology = topology_from_data(default_lab_data())
    first, second = Runtime(topology), Runtime(topology)
    first.power_off(NETWORK1)
    assert second.is_up(NETWORK1)
