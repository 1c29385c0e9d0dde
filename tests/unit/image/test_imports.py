"""Import's checks and endings (image/imports.py), without HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest, Conflict
from stacklab.clock import VirtualClock
from stacklab.ids import IdSource
from stacklab.image import models as m
from stacklab.image.builtin import VIRTUAL_SIZE, cirros_bytes
from stacklab.image.filestore import FileStore
from stacklab.image.imports import LOCK, Importer
from stacklab.image.service import ImageService
from stacklab.image.tasks import ImportFilter
from stacklab.store.database import Database

METHODS = ("glance-direct", "web-download", "glance-download")
SOURCE = "0b5d2c72-12cc-4ba6-a8d7-3ff5cc1d8cb8"


def context() -> RequestContext:
    return RequestContext(request_id="req-imp", project_id="p1", user_id="u1",
                          roles=["member", "reader"])


@pytest.fixture
def importer(tmp_path: Path) -> Iterator[Importer]:
    db = Database("sqlite://")
    db.upgrade()
    images = ImageService(db, VirtualClock(), IdSource(3), FileStore(tmp_path / "images"))
    yield Importer(images, images.tasks, ImportFilter(), METHODS, "RegionOne", None)
    db.dispose()


def new_image(importer: Importer, status: str = "queued", **fields: Any) -> str:
    with importer.images.db.session() as session:
        image = importer.images.create(session, context(), {
            "disk_format": "qcow2", "container_format": "bare", **fields})
        image.status = status
        return image.id


def start(importer: Importer, image_id: str, method: dict[str, Any],
          **extra: Any) -> Any:
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None
        return importer.start(session, context(), image, {"method": method, **extra})


@pytest.mark.parametrize(("status", "fields", "method", "extra", "error", "message"), [
    ("queued", {}, {"name": "copy-image"}, {}, BadRequest, "not supported"),
    ("active", {}, {"name": "web-download"}, {}, Conflict, "status active cannot"),
    ("uploading", {}, {"name": "web-download", "uri": "http://127.0.0.1/x"}, {}, Conflict,
     "'queued' state to use 'web-download'"),
    ("queued", {}, {"name": "glance-direct"}, {}, Conflict, "needs to be staged"),
    ("uploading", {"container_format": None}, {"name": "glance-direct"}, {}, Conflict,
     "'container_format' needs to be set"),
    ("queued", {}, {"name": "glance-download", "glance_image_id": SOURCE}, {}, BadRequest,
     "'glance_region' needs to be set"),
    ("queued", {}, {"name": "glance-download", "glance_region": "RegionOne",
                    "glance_image_id": "foo"}, {}, BadRequest,
     "Remote image id does not look like a UUID: foo"),
    ("uploading", {}, {"name": "glance-direct"}, {"all_stores_must_succeed": False},
     BadRequest, "All_stores_must_succeed can only be set with enabled_backends"),
    ("queued", {}, {"name": "web-download", "uri": "http://192.0.2.1/x"}, {}, BadRequest,
     "URI for web-download does not pass filtering: http://192.0.2.1/x"),
])
def test_refusals_are_glance_s(importer: Importer, status: str, fields: dict[str, Any],
                               method: dict[str, Any], extra: dict[str, Any],
                               error: type[ApiError], message: str) -> None:
    image_id = new_image(importer, status, **fields)
    with pytest.raises(error, match=message):
        start(importer, image_id, method, **extra)
    with importer.images.db.session() as session:
        assert importer.tasks.for_image(session, context(), image_id) == []


def test_an_import_holds_the_lock_until_it_ends(importer: Importer) -> None:
    image_id = new_image(importer, os_distro="windows")
    started = start(importer, image_id, {"name": "glance-download", "glance_image_id": SOURCE,
                                         "glance_region": "elsewhere"})
    assert started.body["method"]["glance_service_interface"] == "public"
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None and image.properties[LOCK] == started.task_id
        (task,) = importer.tasks.for_image(session, context(), image_id)
        assert (task.status, task.type, task.request_id) == ("pending", "api_image_import",
                                                             "req-imp")
    with pytest.raises(Conflict, match="import in progress"):
        start(importer, image_id, {"name": "web-download", "uri": "http://127.0.0.1/x"})
    # No image endpoint in that region: the task fails, the image stays as it was.
    asyncio.run(importer.run(started, context()))
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None
        assert image.status == "queued" and LOCK not in image.properties
        assert image.properties["os_distro"] == "windows"
        (task,) = importer.tasks.for_image(session, context(), image_id)
        assert task.status == "failure"
        assert task.message == "public glance endpoint not found for region elsewhere"
        assert task.expires_at is not None


def test_glance_direct_activates_the_staged_data(importer: Importer) -> None:
    image_id = new_image(importer, "uploading")
    importer.images.store.write_bytes(image_id, cirros_bytes())  # a qcow2, as declared
    started = start(importer, image_id, {"name": "glance-direct"})
    asyncio.run(importer.run(started, context()))
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None and image.status == "active"
        assert image.virtual_size == VIRTUAL_SIZE  # the inspector read it from the header
        (task,) = importer.tasks.for_image(session, context(), image_id)
        assert (task.status, task.result) == ("success", {"image_id": image_id})


def test_glance_direct_refuses_staged_data_of_another_format(importer: Importer) -> None:
    image_id = new_image(importer, "uploading")
    with importer.images.db.session() as session:
        staged = session.get(m.Image, image_id)
        assert staged is not None
        staged.size = 5  # what the stage call recorded
    importer.images.store.write_bytes(image_id, b"plain")  # raw bytes, declared qcow2
    started = start(importer, image_id, {"name": "glance-direct"})
    asyncio.run(importer.run(started, context()))
    with importer.images.db.session() as session:
        image = session.get(m.Image, image_id)
        assert image is not None
        assert (image.status, image.size, image.virtual_size) == ("queued", None, None)
        assert LOCK not in image.properties
        (task,) = importer.tasks.for_image(session, context(), image_id)
        assert (task.status, task.message) == (
            "failure", "Image disk_format qcow2 does not match stream data raw")
    assert not importer.images.store.exists(image_id)


def test_legacy_sources_are_checked_as_glance_does(importer: Importer) -> None:
    assert importer.check_legacy_source("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"
    for uri, message in ((None, "Invalid location"), ("file:///etc/passwd", "File based"),
                         ("ftp://127.0.0.1/x", "not valid"),
                         ("http://example.com/x", "does not pass filtering")):
        with pytest.raises(BadRequest, match=message):
            importer.check_legacy_source(uri)
