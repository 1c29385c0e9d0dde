"""Deleting servers without HTTP: through their compute, or at once when it is down."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from stacklab.bus.interface import Target
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
    delete(service, uuid)
    assert migrations(service)[0].status == "confirmed"
    assert server(service, uuid).task_state == states.DELETING
