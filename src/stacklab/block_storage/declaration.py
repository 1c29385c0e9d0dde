"""Block Storage (cinder) as the cloud builds it: cinder-scheduler on the controllers,
a cinder-volume per host@backend, their heartbeats and their RPC servers on the bus."""

from __future__ import annotations

from stacklab.block_storage.api import api
from stacklab.block_storage.glance import GlanceClient
from stacklab.block_storage.nova import NovaClient
from stacklab.block_storage.policies import RULES
from stacklab.block_storage.rbd import attach_rbd
from stacklab.block_storage.service import BlockStorageService
from stacklab.block_storage.servicegroup import TOPICS
from stacklab.declaration import (
    CONTROL_PLANE,
    CatalogSpec,
    Key,
    Parts,
    ServiceDeclaration,
    Startup,
)

BLOCK_STORAGE = Key("volume", BlockStorageService)


def _build(parts: Parts) -> BlockStorageService:
    service = BlockStorageService(parts.db, parts.clock, parts.ids, parts.config,
                                  parts.topology, parts.runtime, parts.bus,
                                  lab_clock=parts.scaled_clock)
    service.here = parts.here
    # cinder's [glance] section: images over HTTP, never glance's tables or files.
    service.glance = GlanceClient(parts.app, parts.base_url, username="cinder",
                                  password=parts.config.stacklab.admin_password)
    # cinder's [nova] section: events to nova's API, as the cinder service user.
    service.nova = NovaClient(parts.app, parts.base_url, username="cinder",
                              password=parts.config.stacklab.admin_password)
    # cinder-manage's command for the volumes of a dead host, through the lab's API.
    parts.commands["cinder-manage volume update_host"] = lambda options: {
        "volumes": service.migrations.update_host(str(options.get("currenthost") or ""),
                                                  str(options.get("newhost") or ""))}
    return service


def _start(parts: Parts, startup: Startup) -> None:
    service = parts.get(BLOCK_STORAGE)
    if parts.has(CONTROL_PLANE):  # an rbd backend's volumes live in the lab's Ceph
        attach_rbd(service.store.rbd, service.backends, parts.get(CONTROL_PLANE),
                   parts.scaled_clock)
    service.start(migrated=startup.migrated)


async def _background(parts: Parts) -> None:
    # A service on a powered-off node, or whose process is stopped, does not report: it
    # is down once service_down_time has passed.
    await parts.get(BLOCK_STORAGE).run()


def _stop(parts: Parts) -> None:
    parts.get(BLOCK_STORAGE).stop()


DECLARATION = ServiceDeclaration(
    api=api, mount="/volume", rules=RULES,
    # devstack's two entries for one endpoint: "block-storage" (what current clients ask
    # for) and "volumev3" (what older ones do).
    catalog=CatalogSpec("block-storage", "cinder", "Cinder Volume Service", "/volume/v3"),
    catalog_aliases=(CatalogSpec("volumev3", "cinderv3", "Cinder Volume Service V3",
                                 "/volume/v3"),),
    key=BLOCK_STORAGE, build=_build, start=_start, background=_background, stop=_stop,
    # Each process's RPC server consumes its topic on its own node (a cinder-volume's as
    # host@backend, listening for its node): a stopped one leaves its queue waiting.
    process_topics={binary: (topic,) for binary, topic in TOPICS.items()},
    control_exchange="cinder", notification_publishers=("volume", "snapshot"))
