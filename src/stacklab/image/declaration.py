"""Image (glance) as the cloud builds it: its file store, options and the lab's CirrOS."""

from __future__ import annotations

from stacklab.declaration import CatalogSpec, Key, Parts, ServiceDeclaration, Startup
from stacklab.image.api import api
from stacklab.image.builtin import CIRROS_NAME, CIRROS_PROPERTIES, cirros_bytes
from stacklab.image.filestore import FileStore
from stacklab.image.policies import RULES
from stacklab.image.service import ImageOptions, ImageService

IMAGE = Key("image", ImageService)


def _build(parts: Parts) -> ImageService:
    config = parts.config
    return ImageService(
        parts.db, parts.clock, parts.ids,
        FileStore(None if config.stacklab.ephemeral else config.state_path / "images"),
        ImageOptions(image_size_cap=config.DEFAULT.image_size_cap,
                     user_storage_quota=config.DEFAULT.user_storage_quota))


def _start(parts: Parts, startup: Startup) -> None:
    # Only a new store gets the CirrOS: deleted later, it stays deleted.
    if startup.first_start:
        image = parts.get(IMAGE)
        image.register_builtin(image.ids.uuid(), CIRROS_NAME, cirros_bytes(),
                               CIRROS_PROPERTIES)


def _stop(parts: Parts) -> None:
    parts.get(IMAGE).store.close()


DECLARATION = ServiceDeclaration(
    api=api, mount="/image", rules=RULES,
    catalog=CatalogSpec("image", "glance", "Image Service", "/image"),
    key=IMAGE, build=_build, start=_start, stop=_stop)
