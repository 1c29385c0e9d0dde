"""Changing a server's editable fields without HTTP (an update, or a rebuild's fields)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacklab.compute.service import ComputeService
from support.compute_domain import add_server, compute_service, server


@pytest.fixture
def service() -> Iterator[ComputeService]:
    compute = compute_service()
    yield compute
    compute.db.dispose()


def test_edit_changes_only_the_fields_named(service: ComputeService) -> None:
    uuid = add_server(service, host=None)
    service.clock.advance(30)  # type: ignore[attr-defined]
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        service.instances.edit(instance, {"name": "renamed", "accessIPv4": "192.0.2.7",
                                          "OS-DCF:diskConfig": "AUTO", "ignored": "x"})
    after = server(service, uuid)
    assert (after.name, after.hostname, after.access_ipv4, after.disk_config) == (
        "renamed", "vm", "192.0.2.7", "AUTO")
    assert after.updated_at == service.clock.now() and after.updated_at != 0.0


def test_a_null_access_ip_is_cleared_and_a_null_description_kept_null(
        service: ComputeService) -> None:
    uuid = add_server(service, host=None)
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        instance.access_ipv6 = "2001:db8::7"
        instance.description = "old"
        service.instances.edit(instance, {"accessIPv6": None, "description": None})
    after = server(service, uuid)
    assert (after.access_ipv6, after.description) == ("", None)
