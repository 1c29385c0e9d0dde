"""Image domain logic: data, quotas, visibility and the JSON patch reader."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge
from stacklab.api.pagination import Glance, PageRequest
from stacklab.clock import VirtualClock
from stacklab.ids import IdSource
from stacklab.image.filestore import FileStore
from stacklab.image.service import ImageOptions, ImageService
from stacklab.store.database import Database

GLANCE = Glance(max_limit=1000, default_limit=25)


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


def listed(service: ImageService, session: Session, who: RequestContext,
           filters: dict[str, Any], **page: Any) -> list[str]:
    request = PageRequest(page.get("limit", 1000), page.get("marker"),
                          page.get("sort", (("created_at", "desc"),)))
    window = service.list_page(session, who, filters, request, GLANCE)
    return [row[0].id for row in window.items]


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
        assert set(listed(service, session, outsider, {})) == {public}
        assert set(listed(service, session, outsider, {"visibility": "community"})) == {
            community}
        image = service.get(session, context("p1"), shared)
        service.add_member(session, image, "p2")
    with service.db.session() as session:
        service.get(session, context("p2"), shared)  # a pending member may look at it
        assert shared not in listed(service, session, context("p2"), {})
        assert shared in listed(service, session, context("p2"), {"member_status": "pending"})
        assert set(listed(service, session, context("x", "admin"), {})) >= {
            private, shared, public}


def test_list_filters_and_pages_in_sql(service: ImageService) -> None:
    """Tags (every one asked), size bounds, a property's value, then a page after a marker,
    all asked of the store (the ordering ends with the id, so pages never overlap)."""
    tagged = create(service, "p1", tags=["a", "b"], os_distro="cirros")
    half = create(service, "p1", tags=["a"], os_distro="ubuntu")
    bare = create(service, "p1", **{'odd "key"': "v"})
    me = context("p1")
    with service.db.session() as session:
        assert set(listed(service, session, me, {"tag": ["a"]})) == {half, tagged}
        assert listed(service, session, me, {"tag": ["a", "b"]}) == [tagged]
        assert listed(service, session, me, {"properties": {"os_distro": "cirros"}}) == [tagged]
        assert listed(service, session, me, {"properties": {'odd "key"': "v"}}) == [bare]
        assert set(listed(service, session, me, {"size_max": 0})) == {bare, half, tagged}
        assert listed(service, session, me, {"size_min": 1}) == []
        everything = listed(service, session, me, {}, sort=(("name", "asc"),))
        first = listed(service, session, me, {}, sort=(("name", "asc"),), limit=1)
        rest = listed(service, session, me, {}, sort=(("name", "asc"),), marker=first[0])
        assert first + rest == everything and len(everything) == 3
        with pytest.raises(BadRequest, match="Invalid marker"):
            listed(service, session, me, {}, marker="nope")


def test_list_filters_on_image_columns_not_properties(service: ImageService) -> None:
    """A query key that is a column of the image (size, min_ram, checksum, ...) compares
    the column, as glance's db api does; only other keys look at the extra properties."""
    small = create(service, "p1", min_ram=512)
    large = create(service, "p1", min_ram=1024)
    asyncio.run(service.upload(small, context("p1"), chunks(b"abc")))
    asyncio.run(service.upload(large, context("p1"), chunks(b"abcdef")))
    digest = hashlib.md5(b"abc", usedforsecurity=False).hexdigest()
    me = context("p1")
    with service.db.session() as session:
        assert listed(service, session, me, {"properties": {"size": "3"}}) == [small]
        assert listed(service, session, me, {"properties": {"size": "6"}}) == [large]
        assert listed(service, session, me, {"properties": {"min_ram": "1024"}}) == [large]
        assert listed(service, session, me, {"properties": {"checksum": digest}}) == [small]
        assert listed(service, session, me, {"properties": {
            "os_hash_value": hashlib.sha512(b"abcdef").hexdigest()}}) == [large]
        assert listed(service, session, me, {"properties": {"virtual_size": "3"}}) == []
        # Not a number for a number column: nothing matches, and no error.
        assert listed(service, session, me, {"properties": {"size": "three"}}) == []
        assert listed(service, session, me, {"properties": {"min_disk": "x"}}) == []


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
