"""The hosts the scheduler is given (ComputeService.host_states): what its filters read."""

from __future__ import annotations

from stacklab.compute.placement import flavor_resources
from stacklab.compute.scheduler import FlavorSpec, RequestSpec, Scheduler
from support.compute_domain import compute_hosts, compute_service

FLAVOR = {"vcpus": 1, "memory_mb": 512, "root_gb": 1, "ephemeral_gb": 0, "swap": 0}


def test_every_instance_on_a_host_is_known_to_the_same_and_different_host_filters() -> None:
    service = compute_service()
    first, second = compute_hosts(service)[:2]
    # An instance in no server group (the scheduler records None for it).
    service.placement.claim("vm-a", first, flavor_resources(FLAVOR))
    service.instance_groups["vm-a"] = None
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
