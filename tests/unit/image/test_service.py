"""Image domain logic: data, quotas, visibility and the JSON patch reader."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.errors import Conflict, Forbidden, NotFound, PayloadTooLarge
from stacklab.clock import VirtualClock
from stacklab.ids import IdSource
from stacklab.image.filestore import FileStore
from stacklab.image.service import ImageOptions, ImageService
from stacklab.store.database import Database


def context(project: str, *roles: str) -> RequestContext:
    return RequestContext(request_id="req-test", project_id=project,
                          roles=list(roles) or ["member", "reader"])


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ImageService]:
    db = Database("sqlite://")
    db.upgrade()
    yield ImageService(db, VirtualClock(), IdSource(3), FileStore(tmp_path / "images"),
                       ImageOptions(image_size_cap=1000, user_storage_quota=1500))
    db.dispose()


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def create(service: ImageService, project: str, **fields: object) -> str:
    with service.db.session() as session:
        return service.create(session, context(project), {"name": "i", **fields}).id


def test_upload_hashes_and_activates(service: ImageService) -> None:
    image_id = create(service, "p1")
    asyncio.run(service.upload(image_id, context("p1"), chunks(b"ab", b"cd")))
    with service.db.session() as session:
        image = service.get(session, context("p1"), image_id)
        assert (image.status, image.size) == ("active", 4)
        assert image.checksum == hashlib.md5(b"abcd", usedforsecurity=False).hexdigest()
        assert image.os_hash_value == hashlib.sha512(b"abcd").hexdigest()
    assert b"".join(service.store.read(image_id)) == b"abcd"


def test_too_big_upload_is_413_and_leaves_the_image_queued(service: ImageService) -> None:
    image_id = create(service, "p1")
    with pytest.raises(PayloadTooLarge):
        asyncio.run(service.upload(image_id, context("p1"), chunks(b"x" * 600, b"x" * 600)))
    with service.db.session() as session:
        assert service.get(session, context("p1"), image_id).status == "queued"
    assert not service.store.exists(image_id)
    assert list(service.store.root.iterdir()) == []  # no partial file left behind


def test_storage_quota_counts_what_the_project_already_stores(service: ImageService) -> None:
    first = create(service, "p1")
    asyncio.run(service.upload(first, context("p1"), chunks(b"x" * 900)))
    second = create(service, "p1")
    with pytest.raises(PayloadTooLarge):
        asyncio.run(service.upload(second, context("p1"), chunks(b"x" * 700)))
    other = create(service, "p2")  # another project has its own quota
    asyncio.run(service.upload(other, context("p2"), chunks(b"x" * 700)))


def test_second_upload_is_409(service: ImageService) -> None:
    image_id = create(service, "p1")
    asyncio.run(service.upload(image_id, context("p1"), chunks(b"a")))
    with pytest.raises(Conflict):
        asyncio.run(service.upload(image_id, context("p1"), chunks(b"b")))


def test_visibility_rules(service: ImageService) -> None:
    private = create(service, "p1", visibility="private")
    shared = create(service, "p1", visibility="shared")
    public = create(service, "p1", visibility="public")
    community = create(service, "p1", visibility="community")
    with service.db.session() as session:
        outsider = context("p2")
        for hidden in (private, shared):
            with pytest.raises(NotFound):
                service.get(session, outsider, hidden)
        listed = {i.id for i in service.list_images(session, outsider, {})}
        assert listed == {public}
        listed = {i.id for i in service.list_images(session, outsider,
                                                    {"visibility": "community"})}
        assert listed == {community}
        image = service.get(session, context("p1"), shared)
        service.add_member(session, image, "p2")
    with service.db.session() as session:
        service.get(session, context("p2"), shared)  # a pending member may look at it
        assert shared not in {i.id for i in service.list_images(session, context("p2"), {})}
        assert shared in {i.id for i in service.list_images(
            session, context("p2"), {"member_status": "pending"})}
        assert {i.id for i in service.list_images(session, context("x", "admin"), {})} >= \
            {private, shared, public}


def test_members_only_on_shared_images(service: ImageService) -> None:
    private = create(service, "p1", visibility="private")
    with service.db.session() as session:
        image = service.get(session, context("p1"), private)
        with pytest.raises(Forbidden, match="Only shared images"):
            service.add_member(session, image, "p2")


def test_read_only_attributes_are_refused(service: ImageService) -> None:
    with service.db.session() as session, pytest.raises(Forbidden, match="read-only"):
        service.create(session, context("p1"), {"status": "active"})


def test_protected_image_is_not_deleted(service: ImageService) -> None:
    image_id = create(service, "p1", protected=True)
    with service.db.session() as session:
        image = service.get(session, context("p1"), image_id)
        with pytest.raises(Forbidden, match="protected"):
            service.delete(session, image)


def test_reserved_properties_are_refused_at_create(service: ImageService) -> None:
    with service.db.session() as session:
        for name in ("os_glance_foo", "location"):
            with pytest.raises(Forbidden, match=f"Attribute '{name}' is reserved"):
                service.create(session, context("p1"), {name: "bar"})
