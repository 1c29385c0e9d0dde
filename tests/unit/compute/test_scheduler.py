"""nova's filter scheduler as pure logic: placement's resource check, filters, weighers."""

from __future__ import annotations

import pytest

from stacklab.compute.scheduler import (
    AFFINITY,
    ANTI_AFFINITY,
    SOFT_AFFINITY,
    SOFT_ANTI_AFFINITY,
    FlavorSpec,
    HostState,
    NoValidHost,
    RequestSpec,
    Scheduler,
    ServerGroupSpec,
    match_extra_spec,
    parse_availability_zone,
)
from stacklab.ids import IdSource

TINY = FlavorSpec(vcpus=1, memory_mb=512, root_gb=1)
SMALL = FlavorSpec(vcpus=1, memory_mb=2048, root_gb=20)


def lab_hosts() -> list[HostState]:
    """The course's two hypervisors: 1 vCPU, 1.5 GB each."""
    return [HostState(host=f"compute{n}.openstack.local", vcpus=1, memory_mb=1536, disk_gb=20)
            for n in (1, 2)]


def big(name: str, **kwargs: object) -> HostState:
    values: dict[str, object] = {"vcpus": 32, "memory_mb": 131072, "disk_gb": 1000}
    values.update(kwargs)
    return HostState(host=name, **values)  # type: ignore[arg-type]


def names(hosts: list[HostState]) -> list[str]:
    return [h.host for h in hosts]


def test_no_valid_host_message_is_novas() -> None:
    with pytest.raises(NoValidHost) as err:
        Scheduler().select_destinations(
            RequestSpec(flavor=FlavorSpec(vcpus=1, memory_mb=4096, root_gb=1)), lab_hosts())
    assert str(err.value) == "No valid host was found. There are not enough hosts available."


def test_reserved_host_memory_is_honoured() -> None:
    # 1536 - reserved_host_memory_mb 512 leaves 1024: a 1024 MB server fits, 1025 does not.
    assert lab_hosts()[0].free_memory_mb == 1024
    scheduler = Scheduler()
    scheduler.select_destinations(
        RequestSpec(flavor=FlavorSpec(vcpus=1, memory_mb=1024)), lab_hosts())
    with pytest.raises(NoValidHost):
        scheduler.select_destinations(
            RequestSpec(flavor=FlavorSpec(vcpus=1, memory_mb=1025)), lab_hosts())


def test_cpu_allocation_ratio_allows_four_vcpus_per_core_but_not_a_bigger_instance() -> None:
    host = HostState(host="c1", vcpus=2, memory_mb=65536, disk_gb=100)
    assert host.capacity_vcpus == 8  # initial_cpu_allocation_ratio 4.0
    scheduler = Scheduler()
    chosen = scheduler.select_destinations(
        RequestSpec(flavor=FlavorSpec(vcpus=2, memory_mb=512)), [host], num_instances=4)
    assert chosen == [host] * 4
    with pytest.raises(NoValidHost):
        scheduler.select_destinations(
            RequestSpec(flavor=FlavorSpec(vcpus=2, memory_mb=512)), [host], num_instances=5)
    # max_unit = total: one 3-vCPU instance never fits a 2-core host.
    with pytest.raises(NoValidHost):
        scheduler.select_destinations(
            RequestSpec(flavor=FlavorSpec(vcpus=3, memory_mb=512)), [host])


def test_ram_allocation_ratio_and_usage() -> None:
    host = HostState(host="c1", vcpus=4, memory_mb=4608, disk_gb=100, ram_allocation_ratio=1.5,
                     memory_mb_used=4096)
    # (4608 - 512) * 1.5 - 4096 = 2048
    assert host.free_memory_mb == 2048
    Scheduler().select_destinations(RequestSpec(flavor=SMALL), [host])
    used = HostState(host="c1", vcpus=4, memory_mb=4608, disk_gb=100, memory_mb_used=4096)
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(RequestSpec(flavor=SMALL), [used])


def test_disk_counts_root_ephemeral_and_swap_unless_volume_backed() -> None:
    host = HostState(host="c1", vcpus=4, memory_mb=8192, disk_gb=20)
    flavor = FlavorSpec(vcpus=1, memory_mb=512, root_gb=15, ephemeral_gb=4, swap=1)
    # 15 + 4 + ceil(1 MB) = 20 GB fits exactly; one more MB of swap does not.
    Scheduler().select_destinations(RequestSpec(flavor=flavor), [host])
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(RequestSpec(flavor=FlavorSpec(
            vcpus=1, memory_mb=512, root_gb=16, ephemeral_gb=4, swap=1)), [host])
    Scheduler().select_destinations(RequestSpec(flavor=FlavorSpec(
        vcpus=1, memory_mb=512, root_gb=100), boot_from_volume=True), [host])


@pytest.mark.parametrize("change", [{"service_up": False}, {"service_disabled": True},
                                    {"forced_down": True}])
def test_compute_filter_skips_down_disabled_and_forced_down(change: dict[str, bool]) -> None:
    hosts = lab_hosts()
    # compute1 would win on free RAM were it usable.
    hosts[1].memory_mb_used = 256
    for key, value in change.items():
        setattr(hosts[0], key, value)
    hosts[0].refresh()
    hosts[1].refresh()
    chosen = Scheduler().select_destinations(RequestSpec(flavor=TINY), hosts)
    assert names(chosen) == ["compute2.openstack.local"]
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(RequestSpec(flavor=TINY), hosts[:1])


def test_availability_zone() -> None:
    hosts = [big("a1", availability_zone="az1"), big("b1", availability_zone="az2", vcpus=8)]
    scheduler = Scheduler()
    assert names(scheduler.select_destinations(
        RequestSpec(flavor=TINY, availability_zone="az2"), hosts)) == ["b1"]
    assert names(scheduler.select_destinations(RequestSpec(flavor=TINY), hosts)) == ["a1"]
    with pytest.raises(NoValidHost):
        scheduler.select_destinations(RequestSpec(flavor=TINY, availability_zone="az3"), hosts)


def test_anti_affinity_spreads_two_and_refuses_a_third() -> None:
    group = ServerGroupSpec("g1", ANTI_AFFINITY)
    scheduler = Scheduler()
    request = RequestSpec(flavor=TINY, group=group, instance_uuids=("i1", "i2"))
    chosen = scheduler.select_destinations(request, lab_hosts(), num_instances=2)
    assert sorted(names(chosen)) == ["compute1.openstack.local", "compute2.openstack.local"]
    placed = lab_hosts()
    for host, uuid in zip(placed, ("i1", "i2"), strict=True):
        host.consume(1, 512, 1, uuid, "g1")
    with pytest.raises(NoValidHost):
        scheduler.select_destinations(RequestSpec(flavor=TINY, group=group), placed)
    # Three at once fail as a whole.
    with pytest.raises(NoValidHost):
        scheduler.select_destinations(RequestSpec(flavor=TINY, group=group), lab_hosts(), 3)


def test_anti_affinity_max_server_per_host_rule() -> None:
    group = ServerGroupSpec("g1", ANTI_AFFINITY, rules={"max_server_per_host": 2})
    chosen = Scheduler().select_destinations(
        RequestSpec(flavor=TINY, group=group), [big("h1"), big("h2")], num_instances=4)
    assert sorted(names(chosen)) == ["h1", "h1", "h2", "h2"]


def test_affinity_packs_and_fails_when_the_group_host_is_full() -> None:
    group = ServerGroupSpec("g1", AFFINITY)
    hosts = [big("h1"), big("h2"), big("h3")]
    chosen = Scheduler().select_destinations(RequestSpec(flavor=TINY, group=group), hosts, 3)
    assert len(set(names(chosen))) == 1
    # A member already on h2 pins the group there, even though h1 has more room.
    hosts = [big("h1"), big("h2", instances={"m1": "g1"}, memory_mb_used=512)]
    assert names(Scheduler().select_destinations(
        RequestSpec(flavor=TINY, group=group), hosts)) == ["h2"]
    full = [big("h1"), big("h2", instances={"m1": "g1"}, memory_mb_used=130560)]
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(RequestSpec(flavor=TINY, group=group), full)


def test_soft_affinity_prefers_the_members_host_but_does_not_fail() -> None:
    group = ServerGroupSpec("g1", SOFT_AFFINITY)
    hosts = [big("h1"), big("h2", instances={"m1": "g1"}, memory_mb_used=512, vcpus_used=1,
                             disk_gb_used=1)]
    chosen = Scheduler().select_destinations(RequestSpec(flavor=TINY, group=group), hosts, 3)
    assert names(chosen) == ["h2", "h2", "h2"]
    # The member's host is full: another host, no NoValidHost.
    hosts[1] = big("h2", instances={"m1": "g1"}, memory_mb_used=130560)
    assert names(Scheduler().select_destinations(
        RequestSpec(flavor=TINY, group=group), hosts)) == ["h1"]


def test_soft_anti_affinity_spreads_then_doubles_up() -> None:
    group = ServerGroupSpec("g1", SOFT_ANTI_AFFINITY)
    # h2 has more free RAM but already holds a member.
    hosts = [big("h1", memory_mb_used=8192), big("h2", instances={"m1": "g1"})]
    request = RequestSpec(flavor=TINY, group=group)
    assert names(Scheduler().select_destinations(request, hosts)) == ["h1"]
    assert len(Scheduler().select_destinations(request, hosts, num_instances=4)) == 4


def test_weighers_spread_by_free_ram() -> None:
    hosts = [big("h1", memory_mb_used=4096), big("h2"), big("h3", memory_mb_used=1024)]
    assert names(Scheduler().select_destinations(RequestSpec(flavor=TINY), hosts)) == ["h2"]
    # A negative ram_weight_multiplier stacks instead (and only RAM is weighed here).
    stacker = Scheduler(weight_classes=["RAMWeigher"], multipliers={"ram_weight_multiplier": -1})
    assert names(stacker.select_destinations(RequestSpec(flavor=TINY), hosts)) == ["h1"]


def test_multi_instance_request_consumes_resources() -> None:
    # Each lab hypervisor has 1024 MB to give: two 512 MB servers per host, then none.
    chosen = Scheduler().select_destinations(RequestSpec(flavor=TINY), lab_hosts(), 4)
    assert sorted(names(chosen)) == ["compute1.openstack.local"] * 2 + \
        ["compute2.openstack.local"] * 2
    # Spreading alternates hosts, and the input HostStates are left untouched.
    hosts = lab_hosts()
    chosen = Scheduler().select_destinations(RequestSpec(flavor=TINY), hosts, 2)
    assert names(chosen) == ["compute1.openstack.local", "compute2.openstack.local"]
    assert chosen[0] is hosts[0]
    assert hosts[0].memory_mb_used == 0
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(RequestSpec(flavor=TINY), lab_hosts(), 5)


def test_same_inputs_same_choices() -> None:
    def run() -> list[str]:
        hosts = [big(f"h{n}", memory_mb_used=(n * 7919) % 4096) for n in range(50)]
        return names(Scheduler().select_destinations(RequestSpec(flavor=SMALL), hosts, 20))
    assert run() == run()


def test_host_subset_size_uses_the_injected_source() -> None:
    hosts = [big(f"h{n}") for n in range(10)]

    def run(seed: int) -> list[str]:
        scheduler = Scheduler(host_subset_size=3, ids=IdSource(seed))
        return names(scheduler.select_destinations(RequestSpec(flavor=TINY), hosts, 5))
    assert run(1) == run(1)
    # All weights are equal at first: the choice is among the first three hosts.
    assert run(1)[0] in {"h0", "h1", "h2"}
    assert len({tuple(run(seed)) for seed in range(10)}) > 1
    with pytest.raises(ValueError):
        Scheduler(host_subset_size=2)


def test_force_hosts_skips_filters_but_not_placement() -> None:
    hosts = lab_hosts()
    hosts[0].service_up = False
    hosts[0].refresh()
    request = RequestSpec(flavor=TINY, force_hosts=("COMPUTE1.openstack.local",))
    # Forcing bypasses ComputeFilter (a down host can be forced)...
    assert names(Scheduler().select_destinations(request, hosts)) == [
        "compute1.openstack.local"]
    # ...but not placement: a disabled host, or one without room, cannot.
    hosts[0].service_disabled = True
    hosts[0].refresh()
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(request, hosts)
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(
            RequestSpec(flavor=FlavorSpec(vcpus=1, memory_mb=2048),
                        force_hosts=("compute2.openstack.local",)), lab_hosts())


def test_az_host_syntax_and_ignore_hosts() -> None:
    zone, host, node = parse_availability_zone("nova:compute2.openstack.local")
    assert (zone, host, node) == ("nova", "compute2.openstack.local", None)
    assert parse_availability_zone("nova::node9") == ("nova", None, "node9")
    assert parse_availability_zone("nova:h:n") == ("nova", "h", "n")
    assert parse_availability_zone(None) == (None, None, None)
    with pytest.raises(ValueError):
        parse_availability_zone("a:b:c:d")
    request = RequestSpec(flavor=TINY, availability_zone=zone, force_hosts=(str(host),))
    assert names(Scheduler().select_destinations(request, lab_hosts())) == [
        "compute2.openstack.local"]
    # The forced host must still be in the zone.
    request = RequestSpec(flavor=TINY, availability_zone="az9", force_hosts=(str(host),))
    with pytest.raises(NoValidHost):
        Scheduler().select_destinations(request, lab_hosts())
    ignoring = RequestSpec(flavor=TINY, ignore_hosts=("compute1.openstack.local",))
    assert names(Scheduler().select_destinations(ignoring, lab_hosts(), 2)) == [
        "compute2.openstack.local"] * 2


def test_compute_capabilities_filter() -> None:
    hosts = [big("kvm1"), big("xen1", hypervisor_type="Xen", cpu_info={"arch": "x86_64"})]
    scheduler = Scheduler()
    request = RequestSpec(flavor=FlavorSpec(
        vcpus=1, memory_mb=512, extra_specs={"capabilities:hypervisor_type": "s== Xen"}))
    assert names(scheduler.select_destinations(request, hosts)) == ["xen1"]
    nested = RequestSpec(flavor=FlavorSpec(
        vcpus=1, memory_mb=512, extra_specs={"capabilities:cpu_info:arch": "x86_64",
                                             "hw:cpu_policy": "dedicated"}))
    assert names(scheduler.select_destinations(nested, hosts)) == ["xen1"]
    assert match_extra_spec("4", ">= 2") and not match_extra_spec("1", ">= 2")
    assert match_extra_spec("b", "<or> a <or> b") and not match_extra_spec("c", "<or> a <or> b")
    assert match_extra_spec("2", "= 1") and not match_extra_spec("x", "= 1")


def test_image_properties_filter() -> None:
    hosts = [big("x86"), big("arm", supported_instances=(("aarch64", "qemu", "hvm"),))]
    scheduler = Scheduler()
    arm = RequestSpec(flavor=TINY, image_properties={"hw_architecture": "AArch64"})
    assert names(scheduler.select_destinations(arm, hosts)) == ["arm"]
    amd64 = RequestSpec(flavor=TINY, image_properties={"hw_architecture": "amd64",
                                                       "img_hv_type": "kvm"})
    assert names(scheduler.select_destinations(amd64, hosts)) == ["x86"]
    with pytest.raises(NoValidHost):
        scheduler.select_destinations(
            RequestSpec(flavor=TINY, image_properties={"img_hv_type": "xen"}), hosts)


def test_different_and_same_host_hints_when_enabled() -> None:
    scheduler = Scheduler(enabled_filters=["ComputeFilter", "DifferentHostFilter",
                                           "SameHostFilter"])
    hosts = [big("h1", instances={"vm-a": None}), big("h2", memory_mb_used=4096)]
    assert names(scheduler.select_destinations(
        RequestSpec(flavor=TINY, scheduler_hints={"different_host": ["vm-a"]}), hosts)) == [
        "h2"]
    # Without the hint h2, with more free RAM, would win.
    hosts = [big("h1", instances={"vm-a": None}, memory_mb_used=8192), big("h2")]
    assert names(scheduler.select_destinations(RequestSpec(flavor=TINY), hosts)) == ["h2"]
    assert names(scheduler.select_destinations(
        RequestSpec(flavor=TINY, scheduler_hints={"same_host": "vm-a"}), hosts)) == ["h1"]
    with pytest.raises(ValueError):
        Scheduler(enabled_filters=["NoSuchFilter"])
