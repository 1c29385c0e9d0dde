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


# -- backups ------------------------------------------------------------------------------------


def test_a_backup_is_a_snapshot_marked_with_its_type_and_asks_for_rotation(
        service: ComputeService) -> None:
    host = compute_hosts(service)[0]
    uuid = add_server(service, host=host)
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        image_id, cast = asyncio.run(service.snapshots.backup(
            instance, "nightly", "daily", 2, {"owner_note": "x"}, "user-token"))
        assert instance.task_state == states.IMAGE_BACKUP
    [image] = service.glance.created  # type: ignore[union-attr]
    assert {k: image[k] for k in ("id", "name", "image_type", "backup_type", "instance_uuid",
                                  "owner_note", "visibility")} == {
        "id": image_id, "name": "nightly", "image_type": "backup", "backup_type": "daily",
        "instance_uuid": uuid, "owner_note": "x", "visibility": "private"}
    assert service.glance.tokens[-1] == "user-token"  # type: ignore[union-attr]
    assert (cast.target, cast.method, cast.kwargs) == (
        Target("compute", host), "backup_instance",
        {"instance_uuid": uuid, "image_id": image_id, "backup_type": "daily", "rotation": 2})


def backups_of(service: ComputeService, uuid: str, backup_type: str,
               times: list[str]) -> list[str]:
    """Backups of the server already in glance, one per creation time given."""
    images = service.glance.images  # type: ignore[union-attr]
    made = []
    for n, created_at in enumerate(times):
        ident = f"{uuid[:8]}-{backup_type}-{n}"
        images[ident] = {"id": ident, "image_type": "backup", "backup_type": backup_type,
                         "instance_uuid": uuid, "created_at": created_at}
        made.append(ident)
    return made


def test_rotation_keeps_the_newest_backups_of_that_type_and_server_only(
        service: ComputeService) -> None:
    uuid = add_server(service, host=compute_hosts(service)[0])
    other = add_server(service, host=compute_hosts(service)[0])
    daily = backups_of(service, uuid, "daily", [
        "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z", "2026-01-02T00:00:00Z"])
    weekly = backups_of(service, uuid, "weekly", ["2025-12-01T00:00:00Z"])
    backups_of(service, other, "daily", ["2025-01-01T00:00:00Z"])
    deleted = asyncio.run(service.snapshots.rotate_backups(uuid, "daily", 2))
    assert deleted == [daily[0]]  # the oldest daily one; weekly and the other server's stay
    assert service.glance.deleted == [daily[0]]  # type: ignore[union-attr]
    assert asyncio.run(service.snapshots.rotate_backups(uuid, "weekly", 1)) == []
    assert weekly[0] not in service.glance.deleted  # type: ignore[union-attr]
    # As nova: a rotation of 0 deletes them all, the one just made too.
    assert sorted(asyncio.run(service.snapshots.rotate_backups(uuid, "daily", 0))) == sorted(
        daily[1:])


def test_the_backup_just_made_is_kept_when_times_are_equal(service: ComputeService) -> None:
    uuid = add_server(service, host=compute_hosts(service)[0])
    same = "2026-01-01T00:00:00Z"
    # Made in one second: glance cannot tell them apart, the compute knows which it made.
    first, second = backups_of(service, uuid, "daily", [same, same])
    assert asyncio.run(service.snapshots.rotate_backups(
        uuid, "daily", 1, newest=first)) == [second]
    assert asyncio.run(service.snapshots.rotate_backups(
        uuid, "daily", 0, newest=first)) == [first]
