"""Deleting servers without HTTP: through their compute, or at once when it is down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from stacklab.api.errors import ApiError
from stacklab.bus.interface import Target
from stacklab.clock import VirtualClock
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.service import ComputeService
from support.compute_domain import (
    add_server,
    casts,
    compute_hosts,
    compute_service,
    context,
    migrations,
    server,
)


class PortsApi:
    """Records which servers' ports nova lets go, and the user's ports it keeps."""

    def __init__(self) -> None:
        self.released: list[tuple[str, set[str]]] = []

    async def deallocate_for_instance(self, uuid: str, preserved: set[str]) -> None:
        self.released.append((uuid, preserved))


@pytest.fixture
def service() -> Iterator[ComputeService]:
    compute = compute_service()
    compute.neutron = PortsApi()  # type: ignore[assignment]
    yield compute
    compute.db.dispose()


def delete(service: ComputeService, uuid: str) -> None:
    asyncio.run(service.deletes.delete(uuid, context()))


def actions(service: ComputeService) -> list[str]:
    with service.db.session() as session:
        return list(session.scalars(select(m.InstanceAction.action)))


def set_columns(service: ComputeService, uuid: str, **columns: Any) -> None:
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        for column, value in columns.items():
            setattr(instance, column, value)


def compute_down(service: ComputeService, host: str) -> None:
    with service.db.session() as session:
        for record in session.scalars(select(m.ServiceRecord).where(m.ServiceRecord.host == host)):
            record.forced_down = True


def test_a_server_on_a_running_compute_is_terminated_there(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    uuid = add_server(service, host=host)
    delete(service, uuid)
    instance = server(service, uuid)
    assert (instance.deleted, instance.task_state) == (False, states.DELETING)
    [(target, method, kwargs)] = casts(service)
    assert (target, method, kwargs["instance_uuid"]) == (
        Target("compute", host), "terminate_instance", uuid)
    # A second delete is recorded but asks nothing more of the compute.
    delete(service, uuid)
    assert len(casts(service)) == 1 and actions(service) == ["delete", "delete"]


def test_a_server_whose_compute_is_down_is_deleted_at_once(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    uuid = add_server(service, host=host)
    set_columns(service, uuid, networks=[{"port_id": "mine", "network_id": "n"},
                                         {"network_id": "n"}])
    compute_down(service, host)
    delete(service, uuid)
    instance = server(service, uuid)
    assert (instance.deleted, instance.vm_state) == (True, states.DELETED)
    assert casts(service) == []
    assert service.neutron.released == [(uuid, {"mine"})]  # type: ignore[union-attr]


def test_a_shelved_servers_snapshot_goes_with_it(service: ComputeService) -> None:
    uuid = add_server(service, host=None, vm_state=states.SHELVED_OFFLOADED)
    set_columns(service, uuid, system_metadata={"shelved_image_id": "snap-1"})
    delete(service, uuid)
    assert service.glance.deleted == ["snap-1"]  # type: ignore[union-attr]
    assert server(service, uuid).deleted


def test_a_resized_server_is_confirmed_before_it_goes(service: ComputeService) -> None:
    source, dest = compute_hosts(service)[:2]
    uuid = add_server(service, host=dest, vm_state=states.RESIZED)
    with service.db.session() as session:
        session.add(m.Migration(uuid="mig-1", instance_uuid=uuid, migration_type="resize",
                                status="finished", source_compute=source, dest_compute=dest,
                                old_flavor={}, new_flavor={}, project_id="project-a",
                                user_id="user-a", created_at=0.0, updated_at=0.0))
    service.bus.answers["confirm_resize"] = None  # type: ignore[attr-defined]
    delete(service, uuid)
    # nova-api asks the source compute to confirm (a call: in its own process where the
    # computes run apart, it lets its guest go and frees the migration's share), then
    # deletes the server through its destination.
    calls = service.bus.calls  # type: ignore[attr-defined]
    assert [(target, method, kwargs["migration_uuid"]) for target, method, kwargs in calls] \
        == [(Target("compute", source), "confirm_resize", "mig-1")]
    assert migrations(service)[0].status == "confirming"  # the source's to finish
    assert [(target, method) for target, method, _ in casts(service)] == [
        (Target("compute", dest), "terminate_instance")]
    assert actions(service) == ["confirmResize", "delete"]
    assert server(service, uuid).task_state == states.DELETING


def test_a_resized_server_whose_source_is_down_is_confirmed_by_nova_api(
        service: ComputeService) -> None:
    source, dest = compute_hosts(service)[:2]
    uuid = add_server(service, host=dest, vm_state=states.RESIZED)
    with service.db.session() as session:
        session.add(m.Migration(uuid="mig-1", instance_uuid=uuid, migration_type="resize",
                                status="finished", source_compute=source, dest_compute=dest,
                                old_flavor={}, new_flavor={}, project_id="project-a",
                                user_id="user-a", created_at=0.0, updated_at=0.0))
        for record in session.scalars(select(m.ServiceRecord).where(
                m.ServiceRecord.host == source)):
            record.forced_down = True
    service.placement.claim("mig-1", source, {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1})
    delete(service, uuid)
    assert service.bus.calls == []  # type: ignore[attr-defined]
    assert migrations(service)[0].status == "confirmed"
    assert "mig-1" not in service.placement.allocations
    assert server(service, uuid).task_state == states.DELETING


# -- deferred (soft) deletes: [DEFAULT] reclaim_instance_interval ------------------------------

INTERVAL = 3600


@pytest.fixture
def deferring(service: ComputeService) -> ComputeService:
    service.reclaim_instance_interval = INTERVAL
    return service


def launched(service: ComputeService, host: str | None, **columns: Any) -> str:
    uuid = add_server(service, host=host)
    set_columns(service, uuid, launched_at=service.clock.now(), **columns)
    return uuid


def soft_deleted(service: ComputeService, host: str) -> str:
    """A server as its compute leaves it after a deferred delete."""
    uuid = launched(service, host)
    delete(service, uuid)
    set_columns(service, uuid, vm_state=states.SOFT_DELETED, task_state=None)
    casts(service).clear()
    return uuid


def advance(service: ComputeService, seconds: float) -> None:
    """Let time pass with every compute reporting meanwhile (so none counts as down)."""
    service.clock.advance(seconds)  # type: ignore[attr-defined]
    service.services.heartbeat(lambda host: True)


def reclaim(service: ComputeService, up: set[str] | None = None) -> list[str]:
    return asyncio.run(service.deletes.reclaim_due(
        lambda host: up is None or host in up))


def test_a_launched_server_is_only_soft_deleted_and_keeps_its_place(
        deferring: ComputeService) -> None:
    host = compute_hosts(deferring)[0]
    uuid = launched(deferring, host)
    deferring.placement.claim(uuid, host, {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1})
    delete(deferring, uuid)
    instance = server(deferring, uuid)
    assert (instance.deleted, instance.task_state, instance.deleted_at) == (
        False, states.SOFT_DELETING, deferring.clock.now())
    [(target, method, kwargs)] = casts(deferring)
    assert (target, method, kwargs["instance_uuid"]) == (
        Target("compute", host), "soft_delete_instance", uuid)
    assert deferring.placement.usage(host)["MEMORY_MB"] == 512
    assert actions(deferring) == ["delete"]


def test_a_server_never_launched_is_deleted_even_when_deletes_are_deferred(
        deferring: ComputeService) -> None:
    host = compute_hosts(deferring)[0]
    uuid = add_server(deferring, host=host)  # launched_at None: nova's must_have_launched
    delete(deferring, uuid)
    assert server(deferring, uuid).task_state == states.DELETING
    assert [method for _, method, _ in casts(deferring)] == ["terminate_instance"]


def test_a_forced_delete_is_a_delete_now(deferring: ComputeService) -> None:
    host = compute_hosts(deferring)[0]
    uuid = soft_deleted(deferring, host)
    asyncio.run(deferring.deletes.delete(uuid, context(), force=True))
    assert server(deferring, uuid).task_state == states.DELETING
    assert [method for _, method, _ in casts(deferring)] == ["terminate_instance"]


def test_a_soft_deleted_server_holds_no_quota_and_restores_within_it(
        deferring: ComputeService) -> None:
    host = compute_hosts(deferring)[0]
    uuid = soft_deleted(deferring, host)
    assert deferring.quotas.usage("project-a")["instances"] == 0
    with deferring.db.session() as session:
        instance = deferring.instances.find(session, uuid)
        assert instance is not None
        cast = deferring.deletes.restore(instance)
        assert (instance.task_state, instance.deleted_at) == (states.RESTORING, None)
    assert cast is not None and (cast.target, cast.method) == (
        Target("compute", host), "restore_instance")
    # Restoring takes the quota back: with none left, the restore is nova's 403.
    set_columns(deferring, uuid, vm_state=states.SOFT_DELETED, task_state=None)
    deferring.quotas.update("project-a", {"instances": 0})
    with deferring.db.session() as session:
        instance = deferring.instances.find(session, uuid)
        assert instance is not None
        with pytest.raises(ApiError) as refused:
            deferring.deletes.restore(instance)
    assert (refused.value.status, refused.value.message) == (
        403, "Quota exceeded for instances: Requested 1, but already used 0 of 0 instances")


def test_soft_deleted_servers_are_reclaimed_once_the_interval_has_passed(
        deferring: ComputeService) -> None:
    first, second = compute_hosts(deferring)[:2]
    early = soft_deleted(deferring, first)
    advance(deferring, INTERVAL / 2)
    late = soft_deleted(deferring, first)
    elsewhere = soft_deleted(deferring, second)
    assert reclaim(deferring) == []
    advance(deferring, INTERVAL / 2)
    # Only the first is old enough; the second host's compute is off and reclaims nothing.
    assert reclaim(deferring, up={first}) == [early]
    assert server(deferring, early).task_state == states.DELETING
    assert [(t, m, k["instance_uuid"]) for t, m, k in casts(deferring)] == [
        (Target("compute", first), "terminate_instance", early)]
    advance(deferring, INTERVAL / 2)
    assert reclaim(deferring, up={first}) == [late]
    assert reclaim(deferring) == [elsewhere]


def test_the_periodic_reclaim_looks_every_interval_and_not_at_all_without_one(
        deferring: ComputeService) -> None:
    host = compute_hosts(deferring)[0]
    uuid = soft_deleted(deferring, host)
    clock = deferring.clock
    assert isinstance(clock, VirtualClock)

    async def scenario() -> None:
        task = asyncio.create_task(deferring.deletes.run_reclaim(lambda host: True))
        await clock.run_for(INTERVAL - 1)
        assert server(deferring, uuid).task_state is None
        await clock.run_for(1)
        assert server(deferring, uuid).task_state == states.DELETING
        task.cancel()
        deferring.reclaim_instance_interval = 0
        await asyncio.wait_for(deferring.deletes.run_reclaim(lambda host: True), 1)

    asyncio.run(scenario())
