"""The hosts the scheduler is given (ComputeService.host_states): what its filters read."""

from __future__ import annotations

from stacklab.clock import VirtualClock
from stacklab.compute.placement import flavor_resources
from stacklab.compute.scheduler import FlavorSpec, RequestSpec, Scheduler, ServerGroupSpec
from stacklab.compute.service import ComputeService
from stacklab.ids import IdSource
from stacklab.topology import load_topology
from support.compute_domain import RecordingBus, add_server, compute_hosts, compute_service

FLAVOR = {"vcpus": 1, "memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0, "swap": 0}


def test_every_instance_on_a_host_is_known_to_the_same_and_different_host_filters() -> None:
    service = compute_service()
    first, second = compute_hosts(service)[:2]
    # An instance in no server group.
    service.placement.claim("vm-a", first, flavor_resources(FLAVOR))
    states = {h.host: h for h in service.host_states()}
    assert "vm-a" in states[first].instances
    assert "vm-a" not in states[second].instances
    assert states[first].group_counts == {}
    scheduler = Scheduler(enabled_filters=["ComputeFilter", "SameHostFilter",
                                           "DifferentHostFilter"])
    tiny = FlavorSpec(vcpus=1, memory_mb=512, root_gb=1)
    same = scheduler.select_destinations(
        RequestSpec(flavor=tiny, scheduler_hints={"same_host": ["vm-a"]}), service.host_states())
    assert [h.host for h in same] == [first]
    different = scheduler.select_destinations(
        RequestSpec(flavor=tiny, scheduler_hints={"different_host": ["vm-a"]}),
        service.host_states())
    assert different[0].host != first


def test_two_schedulers_count_each_other_s_group_members_from_the_store() -> None:
    """Each nova-scheduler process reads a group's members placed so far from the store
    at its decision (nova reads the group's hosts from the database per request): one
    started again, or another, keeps the anti-affinity and affinity the first began."""
    service = compute_service()
    first = compute_hosts(service)[0]
    member = add_server(service, host=first, group="group-a")
    service.placement.claim(member, first, flavor_resources(FLAVOR))
    # Another scheduler process: its own memory, the same store.
    other = ComputeService(service.db, VirtualClock(), IdSource(6), load_topology(),
                           RecordingBus())
    for host in compute_hosts(service):
        other.placement.add_provider(host, vcpus=8, memory_mb=16384, disk_gb=200)
    states = {h.host: h for h in other.host_states()}
    assert states[first].group_counts == {"group-a": 1}
    tiny = FlavorSpec(vcpus=1, memory_mb=512, root_gb=1)
    scheduler = Scheduler(enabled_filters=["ServerGroupAntiAffinityFilter",
                                           "ServerGroupAffinityFilter"])
    apart = scheduler.select_destinations(
        RequestSpec(flavor=tiny, group=ServerGroupSpec("group-a", "anti-affinity")),
        other.host_states())
    assert apart[0].host != first
    together = scheduler.select_destinations(
        RequestSpec(flavor=tiny, group=ServerGroupSpec("group-a", "affinity")),
        other.host_states())
    assert together[0].host == first
