"""The 2.17 add-location checks and its location_import task (image/imports.py), no HTTP."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest, Conflict, Forbidden
from stacklab.clock import VirtualClock
from stacklab.ids import IdSource
from stacklab.image import models as m
from stacklab.image.filestore import FileStore
from stacklab.image.imports import LOCK, Importer
from stacklab.image.service import ImageService
from stacklab.image.tasks import ImportFilter
from stacklab.store.database import Database

DATA = b"cirros bytes"
LOOPBACK = "http://127.0.0.1:9/cirros.img"


def context() -> RequestContext:
    return RequestContext(request_id="req-loc", project_id="p1", user_id="u1",
                          roles=["member", "reader"])


@pytest.fixture
def importer(tmp_path: Path) -> Iterator[Importer]:
    db = Database("sqlite://")
    db.upgrade()
    images = ImageService(db, VirtualClock(), IdSource(5), FileStore(tmp_path / "images"))
    yield Importer(images, images.tasks, ImportFilter(), ("web-download",), "RegionOne", None)
    db.dispose()


def new_image(importer: Importer) -> str:
    with importer.images.db.session() as session:
        return importer.images.create(session, context(), {
            "disk_format": "raw", "container_format": "bare"}).id


def add(importer: Importer, image_id: str, body: dict[str, Any],
        service: bool = False) -> None:
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None
        started = importer.start_location(session, context(), image, body, service=service)
    asyncio.run(importer.run_location(started))


def serve(importer: Importer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer the loopback URL with DATA (as the conformance file server would)."""
    asked: list[str] = []

    async def read(url: str) -> bytes:
        asked.append(url)
        return DATA
    monkeypatch.setattr(importer, "_read_location", read)
    return asked


def image_and_task(importer: Importer, image_id: str) -> tuple[m.Image, m.ImageTask]:
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        task = session.query(m.ImageTask).one()
        assert image is not None
        session.expunge_all()
        return image, task


@pytest.mark.parametrize(("body", "service", "error", "message"), [
    ({"url": "http://192.0.2.1/x"}, False, Forbidden, "http store must be enabled"),
    ({"url": "cinder://lvm/x"}, False, Forbidden, "http store must be enabled"),
    ({"url": LOOPBACK, "validation_data": {"os_hash_algo": "sha512",
                                           "os_hash_value": "dbc9e0f8"}},
     False, BadRequest, r"not the correct size for \(sha512\) \(should be \(64\) bytes\)"),
    ({"url": LOOPBACK, "validation_data": {"os_hash_algo": "sha256",
                                           "os_hash_value": "zz"}},
     False, BadRequest, "is not a valid hexadecimal value"),
])
def test_refusals_are_glance_s(importer: Importer, body: dict[str, Any], service: bool,
                               error: type[ApiError], message: str) -> None:
    image_id = new_image(importer)
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None
        with pytest.raises(error, match=message):
            importer.start_location(session, context(), image, body, service=service)


def test_a_locked_image_is_a_conflict(importer: Importer) -> None:
    image_id = new_image(importer)
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None
        image.properties = {LOCK: "some-task"}
        with pytest.raises(Conflict, match="import in progress"):
            importer.start_location(session, context(), image, {"url": LOOPBACK},
                                    service=False)


def test_matching_validation_data_makes_the_image_active(
        importer: Importer, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = serve(importer, monkeypatch)
    image_id = new_image(importer)
    sha256 = hashlib.sha256(DATA).hexdigest()
    add(importer, image_id, {"url": LOOPBACK, "validation_data": {
        "os_hash_algo": "sha256", "os_hash_value": sha256}})
    image, task = image_and_task(importer, image_id)
    assert asked == [LOOPBACK]
    assert (image.status, image.os_hash_algo, image.os_hash_value, image.checksum,
            image.size) == ("active", "sha256", sha256, hashlib.md5(DATA).hexdigest(),
                            len(DATA))
    assert image.locations == [{"url": LOOPBACK, "metadata": {}}]
    assert LOCK not in image.properties
    assert (task.type, task.status, task.input["loc_url"]) == (
        "location_import", "success", LOOPBACK)
    assert importer.images.read_data(image_id) == DATA


def test_without_validation_data_glance_hashes_with_sha512(
        importer: Importer, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(importer, monkeypatch)
    image_id = new_image(importer)
    add(importer, image_id, {"url": LOOPBACK})
    image, _ = image_and_task(importer, image_id)
    assert (image.status, image.os_hash_algo, image.os_hash_value) == (
        "active", "sha512", hashlib.sha512(DATA).hexdigest())


def test_a_wrong_hash_fails_the_task_and_leaves_the_image_queued(
        importer: Importer, monkeypatch: pytest.MonkeyPatch) -> None:
    serve(importer, monkeypatch)
    image_id = new_image(importer)
    add(importer, image_id, {"url": LOOPBACK, "validation_data": {
        "os_hash_algo": "sha512", "os_hash_value": "beefdead" * 16}})
    image, task = image_and_task(importer, image_id)
    assert (image.status, image.os_hash_algo, image.os_hash_value, image.checksum) == (
        "queued", None, None, None)
    # glance's http store cannot delete a location: it stays on the queued image.
    assert image.locations == [{"url": LOOPBACK, "metadata": {}}]
    assert task.status == "failure"
    assert "not matched with actual os_hash_value" in task.message
    assert LOCK not in image.properties


def test_a_service_may_name_a_url_the_lab_does_not_reach(importer: Importer) -> None:
    # Accepted (glance lets a service name any store's URL), never fetched: the task fails
    # as one for a store that does not serve the URL, and the image stays queued.
    image_id = new_image(importer)
    add(importer, image_id, {"url": "http://192.0.2.1/x"}, service=True)
    image, task = image_and_task(importer, image_id)
    assert (image.status, task.status) == ("queued", "failure")
    assert "location not reachable: http://192.0.2.1/x" in task.message
