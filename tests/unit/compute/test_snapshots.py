"""Server snapshots without HTTP: the queued image asked of the Image API, and the cast."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from stacklab.api.errors import ApiError
from stacklab.bus.interface import Target
from stacklab.compute import states
from stacklab.compute.glance import GlanceError
from stacklab.compute.service import ComputeService
from support.compute_domain import IMAGE, add_server, compute_hosts, compute_service


@pytest.fixture
def service() -> Iterator[ComputeService]:
    compute = compute_service()
    yield compute
    compute.db.dispose()


def test_a_snapshot_is_a_private_image_of_the_callers_with_the_servers_formats(
        service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    uuid = add_server(service, host=host, flavor="2")  # 20 GB root disk
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        image_id, cast = asyncio.run(service.snapshots.snapshot(
            instance, "backup", {"purpose": 1}, "user-token"))
        assert instance.task_state == states.IMAGE_SNAPSHOT
    [image] = service.glance.created  # type: ignore[union-attr]
    assert image_id == image["id"]
    assert {k: image[k] for k in ("name", "visibility", "disk_format", "container_format",
                                  "min_disk", "min_ram", "instance_uuid", "image_type",
                                  "base_image_ref", "user_id", "purpose")} == {
        "name": "backup", "visibility": "private", "disk_format": "raw",
        "container_format": "bare", "min_disk": 20, "min_ram": 0, "instance_uuid": uuid,
        "image_type": "snapshot", "base_image_ref": IMAGE, "user_id": "user-a",
        "purpose": "1"}
    # The base image is read as nova, the snapshot created with the caller's token.
    assert service.glance.tokens == ["", "user-token"]  # type: ignore[union-attr]
    assert (cast.target, cast.method, cast.kwargs) == (
        Target("compute", host), "snapshot_instance",
        {"instance_uuid": uuid, "image_id": image_id})


def test_shelving_keeps_the_image_and_the_host_in_system_metadata(
        service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    uuid = add_server(service, host=host)
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        cast = asyncio.run(service.snapshots.shelve(instance, "user-token"))
        metadata = dict(instance.system_metadata)
        assert instance.task_state == states.SHELVING
    [image] = service.glance.created  # type: ignore[union-attr]
    assert image["name"] == "vm-shelved"
    assert metadata == {"shelved_image_id": image["id"], "shelved_at": service.clock.now(),
                        "shelved_host": host}
    assert (cast.method, cast.kwargs["offload"], cast.kwargs["image_id"]) == (
        "shelve_instance", True, image["id"])


def test_the_image_services_refusal_is_the_callers_to_read(service: ComputeService) -> None:
    uuid = add_server(service, host=compute_hosts(service)[0])
    service.glance.refusal = GlanceError(  # type: ignore[union-attr]
        413, {"message": "Maximum image count exceeded"})
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        with pytest.raises(ApiError) as caught:
            asyncio.run(service.snapshots.snapshot(instance, "x", {}, "user-token"))
        assert instance.task_state is None
    assert (caught.value.status, caught.value.message) == (413, "Maximum image count exceeded")


def test_without_an_image_service_a_snapshot_is_a_conflict(service: ComputeService) -> None:
    uuid = add_server(service, host=compute_hosts(service)[0])
    service.glance = None
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        with pytest.raises(ApiError) as caught:
            asyncio.run(service.snapshots.shelve(instance, "user-token"))
    assert (caught.value.status, caught.value.message) == (
        409, "The image service is not available.")
