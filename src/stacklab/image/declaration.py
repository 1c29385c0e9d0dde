"""Image (glance) as the cloud builds it: its file store, options and the lab's CirrOS."""

from __future__ import annotations

from stacklab.api.client import ServiceClient
from stacklab.config import Config
from stacklab.declaration import (
    CONTROL_PLANE,
    CatalogSpec,
    Key,
    Parts,
    ServiceDeclaration,
    Startup,
)
from stacklab.ha.ceph import CephCluster, RadosClient
from stacklab.ha.route import current as current_route
from stacklab.image.api import api
from stacklab.image.builtin import CIRROS_NAME, CIRROS_PROPERTIES, cirros_bytes
from stacklab.image.filestore import ControllerFileStores, FileStore
from stacklab.image.imports import Importer
from stacklab.image.inspection import FormatPolicy
from stacklab.image.policies import RULES
from stacklab.image.rbdstore import RbdStore
from stacklab.image.service import ImageOptions, ImageService
from stacklab.image.tasks import ImportFilter, config_list

IMAGE = Key("image", ImageService)


def image_store(parts: Parts) -> FileStore:
    """glance's default store: the file store (upstream's default), or ``rbd`` on the
    lab's Ceph (``[glance_store] default_store = rbd``, its pool rbd_store_pool)."""
    config: Config = parts.config
    options = config.glance_store
    if options.default_store != "rbd":
        root = None if config.stacklab.ephemeral else config.state_path / "images"
        if config.stacklab.glance_file_store_shared:
            return FileStore(root)
        controllers = [node.fqdn for node in parts.topology.nodes_running("glance-api")]
        return ControllerFileStores(root, controllers, _serving_controller)
    if "rbd" not in config_list(options.stores):
        raise ValueError("[glance_store] default_store rbd is not one of stores "
                         f"({options.stores})")

    # The control plane (which holds the cluster) is built after the services: the
    # client finds it when it is first used.
    def cluster() -> CephCluster:
        found = parts.get(CONTROL_PLANE).ceph
        if found is None:
            raise ValueError("[glance_store] default_store rbd: this lab has no storage "
                             "nodes (ceph-osd)")
        return found

    return RbdStore(RadosClient(
        cluster, options.rbd_store_pool, clock=parts.scaled_clock,
        sync=lambda: parts.get(CONTROL_PLANE).time.sync(),
        timeout=options.rados_connect_timeout))


def _serving_controller() -> str | None:
    """The controller whose glance-api serves the current request (None: no request)."""
    route = current_route()
    return route.controller if route is not None else None


def _build(parts: Parts) -> ImageService:
    config = parts.config
    image = ImageService(
        parts.db, parts.clock, parts.ids, image_store(parts),
        ImageOptions(image_size_cap=config.DEFAULT.image_size_cap,
                     user_storage_quota=config.DEFAULT.user_storage_quota,
                     formats=FormatPolicy(
                         require_image_format_match=(
                             config.image_format.require_image_format_match),
                         gpt_safety_checks_nonfatal=frozenset(
                             config_list(config.image_format.gpt_safety_checks_nonfatal)))))
    filtering = config.import_filtering_opts
    image.importer = Importer(
        image, image.tasks,
        ImportFilter(
            allowed_schemes=config_list(filtering.allowed_schemes),
            disallowed_schemes=config_list(filtering.disallowed_schemes),
            allowed_hosts=config_list(filtering.allowed_hosts),
            disallowed_hosts=config_list(filtering.disallowed_hosts),
            allowed_ports=tuple(int(p) for p in config_list(filtering.allowed_ports)),
            disallowed_ports=tuple(int(p) for p in config_list(filtering.disallowed_ports))),
        config_list(config.DEFAULT.enabled_import_methods), config.stacklab.region,
        # glance-download from the lab's own region reads the source through this API,
        # with the caller's token (the service user's credentials are never used).
        ServiceClient(parts.app, parts.base_url, mount="/image", username="glance",
                      password=config.stacklab.admin_password))
    return image


def _start(parts: Parts, startup: Startup) -> None:
    image = parts.get(IMAGE)
    # Only a new store gets the CirrOS: deleted later, it stays deleted.
    if startup.first_start:
        image.register_builtin(image.ids.uuid(), CIRROS_NAME, cirros_bytes(),
                               CIRROS_PROPERTIES)
    # The resource types devstack's db_load_metadefs would leave (image/metadefs.py).
    with image.db.session() as session:
        image.metadefs.seed_resource_types(session)


def _stop(parts: Parts) -> None:
    parts.get(IMAGE).store.close()


DECLARATION = ServiceDeclaration(
    api=api, mount="/image", rules=RULES,
    catalog=CatalogSpec("image", "glance", "Image Service", "/image"),
    key=IMAGE, build=_build, start=_start, stop=_stop)
