"""Host aggregates and the availability zones they make, without HTTP: nova's rules on
zones (one per host, none empty, none changed under a server), and the scheduler's
view of them (host zones, aggregate filters)."""

from __future__ import annotations

import pytest

from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.compute import models as m
from stacklab.compute.aggregates import AggregateView, host_metadata, host_zone, parse_id
from stacklab.compute.scheduler import FlavorSpec, HostState, RequestSpec, Scheduler
from stacklab.compute.scheduler.filters import (
    AggregateInstanceExtraSpecsFilter,
    AggregateMultiTenancyIsolation,
    AggregateTypeAffinityFilter,
    RequestState,
)
from stacklab.compute.service import ComputeService
from support.compute_domain import add_server, compute_hosts, compute_service


@pytest.fixture
def service() -> ComputeService:
    return compute_service()


def _aggregate(service: ComputeService, name: str, zone: str | None = None,
               hosts: tuple[str, ...] = ()) -> int:
    with service.db.session() as session:
        aggregate = service.aggregates.create(session, name, zone)
        ident = aggregate.id
    for host in hosts:
        with service.db.session() as session:
            service.aggregates.add_host(session, ident, host)
    return ident


def test_a_zoned_aggregate_moves_its_hosts_into_its_zone(service: ComputeService) -> None:
    first, second = compute_hosts(service)[:2]
    _aggregate(service, "rack1", "az1", (first,))
    assert service.host_zone(first) == "az1"
    assert service.host_zone(second) == "nova"
    zones = service.availability_zones()
    assert first in zones["az1"] and first not in zones["nova"]
    assert all(binary != "nova-compute" for hosts in [zones["internal"]]
               for binaries in hosts.values() for binary in binaries)
    states = {h.host: h for h in service.host_states()}
    assert states[first].availability_zone == "az1"
    assert states[second].availability_zone == "nova"


def test_a_zone_without_hosts_is_no_zone_and_an_aggregate_without_one_changes_nothing(
        service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    _aggregate(service, "empty", "ghost")
    _aggregate(service, "plain", None, (host,))
    assert "ghost" not in service.availability_zones()
    assert service.host_zone(host) == "nova"


def test_a_host_cannot_join_a_second_zone(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    _aggregate(service, "a", "az1", (host,))
    other = _aggregate(service, "b", "az2")
    with service.db.session() as session, pytest.raises(Conflict) as refused:
        service.aggregates.add_host(session, other, host)
    assert refused.value.message == (
        f"Cannot add host to aggregate {other}. Reason: One or more hosts already in "
        "availability zone(s) ['az1'].")
    # The same zone from another aggregate is fine.
    same = _aggregate(service, "c", "az1")
    with service.db.session() as session:
        service.aggregates.add_host(session, same, host)


def test_rezoning_an_aggregate_into_a_conflict_is_a_400(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    _aggregate(service, "a", "az1", (host,))
    plain = _aggregate(service, "b", None, (host,))
    with service.db.session() as session, pytest.raises(BadRequest) as refused:
        service.aggregates.set_metadata(session, service.aggregates.get(session, plain),
                                        {"availability_zone": "az2"})
    assert "already in availability zone(s) ['az1']" in refused.value.message
    with service.db.session() as session, pytest.raises(BadRequest) as empty:
        service.aggregates.update(session, service.aggregates.get(session, plain),
                                  zone_given=True, zone=None)
    assert "does not support empty named availability zone" in empty.value.message


def test_a_zone_does_not_change_under_a_server(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    add_server(service, host=host)
    zoned = _aggregate(service, "z", "az1")
    with service.db.session() as session, pytest.raises(Conflict):
        service.aggregates.add_host(session, zoned, host)
    plain = _aggregate(service, "p", None, (host,))
    with service.db.session() as session, pytest.raises(BadRequest) as refused:
        service.aggregates.update(session, service.aggregates.get(session, plain),
                                  zone_given=True, zone="az9")
    assert "contain instances" in refused.value.message
    # Metadata other than the zone may change.
    with service.db.session() as session:
        aggregate = service.aggregates.set_metadata(
            session, service.aggregates.get(session, plain), {"ssd": "true"})
        assert aggregate.metadata_ == {"ssd": "true"}


def test_names_hosts_and_deletion(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    ident = _aggregate(service, "a", None, (host,))
    with service.db.session() as session, pytest.raises(Conflict, match="a already exists"):
        service.aggregates.create(session, "a", None)
    with service.db.session() as session, pytest.raises(Conflict, match="already has host"):
        service.aggregates.add_host(session, ident, host)
    with service.db.session() as session, pytest.raises(NotFound, match="Compute host nope"):
        service.aggregates.add_host(session, ident, "nope")
    controller = next(h for h, b in service.service_hosts() if b == "nova-scheduler")
    with service.db.session() as session, pytest.raises(NotFound):
        service.aggregates.add_host(session, ident, controller)
    with service.db.session() as session, pytest.raises(BadRequest, match="not empty"):
        service.aggregates.delete(session, service.aggregates.get(session, ident))
    with service.db.session() as session:
        service.aggregates.remove_host(session, ident, host)
    with service.db.session() as session, pytest.raises(
            NotFound, match=f"Cannot remove host {host} in aggregate {ident}"):
        service.aggregates.remove_host(session, ident, host)
    with service.db.session() as session:
        service.aggregates.delete(session, service.aggregates.get(session, ident))
    with service.db.session() as session, pytest.raises(NotFound, match="could not be found"):
        service.aggregates.get(session, ident)
    # An id no 64-bit column holds is simply not found (SQLite would refuse the parameter).
    with service.db.session() as session, pytest.raises(NotFound, match="could not be found"):
        service.aggregates.get(session, parse_id("99999999999999999999999"))
    with pytest.raises(BadRequest):
        parse_id("one")


def test_metadata_none_removes_a_key_and_the_zone_key_is_the_zone(
        service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    ident = _aggregate(service, "a", None, (host,))
    with service.db.session() as session:
        aggregate = service.aggregates.get(session, ident)
        service.aggregates.set_metadata(session, aggregate, {"a": "1", "b": "2"})
        service.aggregates.set_metadata(session, aggregate, {"a": None})
        service.aggregates.set_metadata(session, aggregate, {"availability_zone": "az3"})
        assert aggregate.metadata_ == {"b": "2", "availability_zone": "az3"}
        assert isinstance(aggregate, m.Aggregate) and aggregate.updated_at is not None
    assert service.host_zone(host) == "az3"


def test_zone_and_metadata_helpers() -> None:
    views = [AggregateView(1, ("h1",), {"ssd": "true,fast"}),
             AggregateView(2, ("h1", "h2"), {"availability_zone": "az1", "ssd": "false"})]
    assert host_zone(views, "h1", "nova") == "az1"
    assert host_zone(views, "h3", "nova") == "nova"
    assert host_metadata(views, "h1") == {"ssd": {"true", "fast", "false"},
                                          "availability_zone": {"az1"}}


def _host(name: str, **metadata: str) -> HostState:
    return HostState(name, vcpus=8, memory_mb=16384, disk_gb=100, aggregate_metadata={
        k: frozenset(v.split(",")) for k, v in metadata.items()})


def _request(extra_specs: dict[str, str] | None = None, *, name: str = "m1.small",
             project: str = "p1", zone: str | None = None) -> RequestState:
    return RequestState(RequestSpec(
        FlavorSpec(vcpus=1, memory_mb=512, root_gb=1, extra_specs=extra_specs or {}, name=name),
        project_id=project, availability_zone=zone))


def test_aggregate_instance_extra_specs_filter() -> None:
    check = AggregateInstanceExtraSpecsFilter().host_passes
    ssd, plain = _host("a", ssd="true"), _host("b")
    scoped = _request({"aggregate_instance_extra_specs:ssd": "true"})
    assert check(ssd, scoped) and not check(plain, scoped)
    # Unscoped keys count too; other scopes do not.
    assert not check(plain, _request({"ssd": "true"}))
    assert check(plain, _request({"hw:cpu_policy": "dedicated"}))
    assert check(_host("c", cpus="16"), _request({"cpus": ">= 8"}))
    assert not check(_host("c", cpus="4"), _request({"cpus": ">= 8"}))


def test_tenant_isolation_and_type_affinity_filters() -> None:
    isolated = _host("a", filter_tenant_id="p1,p2")
    tenants = AggregateMultiTenancyIsolation().host_passes
    assert tenants(isolated, _request(project="p2"))
    assert not tenants(isolated, _request(project="p3"))
    assert tenants(_host("b"), _request(project="p3"))
    types = AggregateTypeAffinityFilter().host_passes
    small_only = _host("c", instance_type="m1.small")
    assert types(small_only, _request(name="m1.small"))
    assert not types(small_only, _request(name="m1.large"))


def test_the_scheduler_places_a_zoned_request_in_its_zone() -> None:
    hosts = [HostState("h1", availability_zone="az1", vcpus=8, memory_mb=16384, disk_gb=100),
             HostState("h2", vcpus=64, memory_mb=65536, disk_gb=1000)]
    scheduler = Scheduler(enabled_filters=("ComputeFilter",
                                           "AggregateInstanceExtraSpecsFilter"))
    chosen = scheduler.select_destinations(_request(zone="az1").spec, hosts)
    assert [h.host for h in chosen] == ["h1"]
    # With no zone asked, the roomier host wins.
    assert [h.host for h in scheduler.select_destinations(_request().spec, hosts)] == ["h2"]
