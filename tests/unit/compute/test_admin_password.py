"""changePassword without HTTP: nova-api's half (the task state, a call to the compute) and
the compute's (the guest must run; the task state is cleared either way)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from stacklab.api.errors import Conflict
from stacklab.bus.interface import MessagingTimeout, Target
from stacklab.compute import states
from stacklab.compute.admin_password import change_password
from stacklab.compute.agents.compute import ComputeManager
from stacklab.compute.service import ComputeService
from support.compute_domain import add_server, compute_hosts, compute_service, context, server


@pytest.fixture
def service() -> Iterator[ComputeService]:
    compute = compute_service()
    yield compute
    compute.db.dispose()


def test_the_server_is_marked_then_its_compute_is_called_with_the_password(
        service: ComputeService) -> None:
    host = compute_hosts(service)[1]
    instance = server(service, add_server(service, host=host))
    service.bus.answers["set_admin_password"] = None  # type: ignore[attr-defined]
    ask = change_password(service, instance, "s3cret", context())
    assert instance.task_state == states.UPDATING_PASSWORD
    assert service.bus.calls == []  # type: ignore[attr-defined]  # not before the commit
    asyncio.run(ask())
    [(target, method, kwargs)] = service.bus.calls  # type: ignore[attr-defined]
    assert (target, method, kwargs["instance_uuid"], kwargs["new_pass"]) == (
        Target("compute", host), "set_admin_password", instance.uuid, "s3cret")


def test_a_compute_that_does_not_answer_is_a_conflict(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    instance = server(service, add_server(service, host=host))
    service.bus.answers["set_admin_password"] = MessagingTimeout(  # type: ignore[attr-defined]
        "msg-1", Target("compute", host), "set_admin_password", 60)
    with pytest.raises(Conflict) as caught:
        asyncio.run(change_password(service, instance, "p", context())())
    assert caught.value.message == f"Instance {instance.uuid} is not ready"


def _updating(service: ComputeService, host: str) -> str:
    """A server as nova-api leaves it for its compute: ``updating_password``."""
    uuid = add_server(service, host=host)
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        instance.task_state = states.UPDATING_PASSWORD
    return uuid


def test_the_compute_sets_it_only_on_a_running_guest(service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    manager = ComputeManager(service, host)
    running, off = _updating(service, host), _updating(service, host)
    manager.hypervisor.domain(running).power_state = states.RUNNING
    manager.hypervisor.domain(off).power_state = states.SHUTDOWN
    ctxt = {"request_id": "req-1"}
    asyncio.run(manager.set_admin_password(running, "p", ctxt))
    assert server(service, running).task_state is None
    with pytest.raises(Conflict) as caught:
        asyncio.run(manager.set_admin_password(off, "p", ctxt))
    assert caught.value.message == (
        f"Failed to set admin password on {off} because instance {off} is not running")
    assert server(service, off).task_state is None
