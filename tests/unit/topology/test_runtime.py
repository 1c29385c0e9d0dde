"""The lab's runtime state: one place for a node's power and its processes, one fault path."""

from __future__ import annotations

import pytest

from stacklab.topology import (
    Change,
    Follower,
    Runtime,
    default_lab_data,
    topology_from_data,
)

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


CONTROLLER1 = "controller1.openstack.local"
CONTROLLER2 = "controller2.openstack.local"
ARBITER = "arbiter.openstack.local"


def recording(runtime: Runtime) -> list[Change]:
    heard: list[Change] = []
    runtime.subscribe(Follower("recorder", changed=heard.append))
    return heard


def test_a_stopped_service_stops_alone_and_starts_again() -> None:
    runtime = lab_runtime()
    heard = recording(runtime)
    assert runtime.stop_service(NETWORK1, "neutron-l3-agent") is True
    assert runtime.stop_service(NETWORK1, "neutron-l3-agent") is False
    assert not runtime.running(NETWORK1, "neutron-l3-agent")
    assert runtime.running(NETWORK1, "neutron-dhcp-agent") and runtime.is_up(NETWORK1)
    assert runtime.services(NETWORK1)["neutron-l3-agent"] == "stopped"
    assert heard == [Change("service", (NETWORK1,), "stopped", "neutron-l3-agent")]
    # Power does not restart a process an operator stopped (systemd keeps it disabled here).
    runtime.power_off(NETWORK1)
    runtime.power_on(NETWORK1)
    assert not runtime.running(NETWORK1, "neutron-l3-agent")
    assert runtime.start_service(NETWORK1, "neutron-l3-agent") is True
    assert runtime.running(NETWORK1, "neutron-l3-agent")
    with pytest.raises(KeyError, match="runs no nova-compute"):
        runtime.stop_service(NETWORK1, "nova-compute")


def test_reachability_follows_power_partitions_and_networks() -> None:
    runtime = lab_runtime()
    heard = recording(runtime)
    assert runtime.reachable(CONTROLLER1, CONTROLLER2, "management")
    assert not runtime.reachable(CONTROLLER1, NETWORK1, "overlay")  # no overlay address
    assert runtime.partition([["controller1"], ["controller2", "arbiter"]]) == 2
    assert not runtime.reachable(CONTROLLER1, CONTROLLER2)
    assert not runtime.reachable(ARBITER, CONTROLLER1, "management")
    assert runtime.reachable(CONTROLLER2, ARBITER)
    # A node on no side keeps reaching both.
    assert runtime.reachable(NETWORK1, CONTROLLER1) and runtime.reachable(NETWORK1, CONTROLLER2)
    assert heard[-1].kind == "network" and set(heard[-1].nodes) == {CONTROLLER1, CONTROLLER2,
                                                                    ARBITER}
    assert runtime.detach(COMPUTE1, "overlay") is True
    assert not runtime.reachable(COMPUTE1, NETWORK1, "overlay")
    assert runtime.reachable(COMPUTE1, NETWORK1, "management")
    runtime.power_off(CONTROLLER2)
    assert not runtime.reachable(CONTROLLER2, CONTROLLER2)
    with pytest.raises(ValueError, match="two sides"):
        runtime.partition([["compute1"], ["compute1"]])
    with pytest.raises(KeyError):
        runtime.detach(COMPUTE1, "external")


def test_heal_undoes_every_fault_and_says_what_was_in_force() -> None:
    runtime = lab_runtime()
    runtime.partition([["controller1"], ["controller2"]])
    runtime.detach(COMPUTE1, "overlay")
    runtime.set_link(CONTROLLER1, "arbiter", latency=0.2, loss=0.1)
    runtime.stop_service(NETWORK1, "neutron-l3-agent")
    runtime.power_off(COMPUTE1)
    assert runtime.link(ARBITER, CONTROLLER1).latency == 0.2
    before = runtime.heal()
    assert before["nodes_down"] == [COMPUTE1]
    assert before["cut"] == [[CONTROLLER1, CONTROLLER2]]
    assert before["links"] == [{"nodes": [ARBITER, CONTROLLER1], "latency": 0.2, "loss": 0.1}]
    assert runtime.faults() == {"nodes_down": [], "services_stopped": [],
                                "networks_detached": [], "cut": [], "links": []}
    assert runtime.reachable(CONTROLLER1, CONTROLLER2)
    assert runtime.running(COMPUTE1, "nova-compute")
    assert runtime.running(NETWORK1, "neutron-l3-agent")
    assert runtime.link(ARBITER, CONTROLLER1).loss == 0.0
    with pytest.raises(ValueError):
        runtime.set_link(CONTROLLER1, CONTROLLER2, loss=2.0)


def test_a_snapshot_keeps_the_state_it_was_taken_in_and_tells_nobody() -> None:
    runtime = lab_runtime()
    heard: list[Change] = []
    runtime.subscribe(Follower("watcher", changed=heard.append))
    runtime.stop_service(NETWORK1, "neutron-l3-agent")
    runtime.partition([["network1"], ["compute1"]])
    before = runtime.snapshot()
    runtime.power_off(COMPUTE1)
    runtime.heal()
    assert before.is_up(COMPUTE1) and not before.reachable(NETWORK1, COMPUTE1)
    assert not before.running(NETWORK1, "neutron-l3-agent")
    assert runtime.reachable(NETWORK1, COMPUTE1)
    count = len(heard)
    before.power_off(NETWORK1)
    assert len(heard) == count and runtime.is_up(NETWORK1)


def test_a_packet_over_a_link_takes_its_latency_and_a_lossy_link_drops_as_seeded() -> None:
    import random

    runtime = Runtime(topology_from_data(default_lab_data()), random.Random(5))
    assert runtime.send(NETWORK1, COMPUTE1) == 0.0
    runtime.set_link("network1", "compute1", latency=0.25)
    assert runtime.send(NETWORK1, COMPUTE1) == runtime.send(COMPUTE1, NETWORK1) == 0.25
    runtime.set_link("network1", "compute1", loss=1.0)
    assert runtime.send(NETWORK1, COMPUTE1) is None
    runtime.power_off(COMPUTE1)
    assert runtime.send(NETWORK1, COMPUTE1) is None

    def lossy(seed: int) -> list[float | None]:
        lab = Runtime(topology_from_data(default_lab_data()), random.Random(seed))
        lab.set_link("network1", "compute1", latency=0.1, loss=0.5)
        # A snapshot goes on with the same draws.
        return [(lab.snapshot() if i % 2 else lab).send(NETWORK1, COMPUTE1) for i in range(200)]

    drawn = lossy(5)
    assert set(drawn) == {None, 0.1} and 70 < drawn.count(None) < 130
    assert lossy(5) == drawn  # the same seed loses the same packets
    assert lossy(6) != drawn


def test_converge_makes_another_runtimes_faults_this_ones_through_the_fault_path() -> None:
    """One process per service: each process's runtime is made the lab's (docs/processes.md),
    every follower hearing each difference as if it had been asked for."""
    lab, other = lab_runtime(), lab_runtime()
    lab.power_off(COMPUTE1)
    lab.stop_service(NETWORK1, "neutron-l3-agent")
    lab.detach("compute2.openstack.local", "overlay")
    lab.partition([["controller1"], ["controller2"]])
    lab.set_link("controller1", "arbiter", latency=0.2, loss=0.1)
    heard: list[Change] = []
    downs: list[str] = []
    other.subscribe(Follower("f", down=downs.append, changed=heard.append))

    assert other.converge(lab.faults()) is True
    assert other.faults() == lab.faults()
    assert downs == [COMPUTE1]
    assert {(c.kind, c.state) for c in heard} == {
        ("power", "down"), ("service", "stopped"), ("network", "detached"),
        ("network", "partitioned"), ("link", "changed")}
    assert other.converge(lab.faults()) is False  # nothing differs: nobody told
    assert len(heard) == 5

    lab.heal()
    lab.stop_service(COMPUTE1, "nova-compute")
    assert other.converge(lab.faults()) is True
    assert other.faults() == lab.faults()
    assert other.is_up(COMPUTE1) and not other.running(COMPUTE1, "nova-compute")
    assert other.reachable("controller1.openstack.local", "controller2.openstack.local")


def test_converge_skips_what_the_lab_does_not_have() -> None:
    runtime = lab_runtime()
    assert runtime.converge({"nodes_down": ["nowhere.example"],
                             "services_stopped": [{"node": NETWORK1, "service": "nope"}],
                             "cut": [["nowhere.example", NETWORK1]]}) is False
    assert runtime.faults() == lab_runtime().faults()
