"""A server's consoles without HTTP: its log asked of its compute, and console URLs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from stacklab.api.errors import Conflict
from stacklab.bus.interface import MessagingTimeout, Target
from stacklab.compute import states
from stacklab.compute.consoles import require_host
from stacklab.compute.service import ComputeService
from support.compute_domain import add_server, compute_hosts, compute_service, context, server


@pytest.fixture
def service() -> Iterator[ComputeService]:
    compute = compute_service()
    compute.base_url = lambda: "http://cloud.example:5000"
    yield compute
    compute.db.dispose()


def test_the_console_log_is_asked_of_the_servers_compute(service: ComputeService) -> None:
    host = compute_hosts(service)[1]
    instance = server(service, add_server(service, host=host))
    service.bus.answers["get_console_output"] = "login: "  # type: ignore[attr-defined]
    assert asyncio.run(service.consoles.output(instance, 10, context())) == "login: "
    [(target, method, kwargs)] = service.bus.calls  # type: ignore[attr-defined]
    assert (target, method, kwargs["length"], kwargs["instance_uuid"]) == (
        Target("compute", host), "get_console_output", 10, instance.uuid)


def test_a_compute_that_does_not_answer_makes_the_server_not_ready(
        service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    instance = server(service, add_server(service, host=host))
    service.bus.answers["get_console_output"] = MessagingTimeout(  # type: ignore[attr-defined]
        "msg-1", Target("compute", host), "get_console_output", 30)
    with pytest.raises(Conflict) as caught:
        asyncio.run(service.consoles.output(instance, None, context()))
    assert caught.value.message == f"Instance {instance.uuid} is not ready"


def test_a_server_without_a_running_guest_has_no_console(service: ComputeService) -> None:
    for host, vm_state in ((None, states.ACTIVE), ("compute1", states.BUILDING),
                           ("compute1", states.SHELVED_OFFLOADED)):
        instance = server(service, add_server(service, host=host, vm_state=vm_state))
        with pytest.raises(Conflict):
            require_host(instance)
    assert require_host(server(service, add_server(service, host="compute1"))) == "compute1"


def test_each_console_url_is_the_proxys_page_with_a_new_token(service: ComputeService) -> None:
    first, second = service.consoles.url("novnc"), service.consoles.url("novnc")
    prefix = "http://cloud.example:5000/compute-console/vnc_lite.html?path=%3Ftoken%3D"
    assert first.startswith(prefix) and second.startswith(prefix) and first != second
    assert len(first) - len(prefix) == 32
    assert service.consoles.url("serial").startswith(
        "http://cloud.example:5000/compute-console/?token=")
