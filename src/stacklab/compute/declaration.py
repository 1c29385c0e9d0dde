"""Compute (nova) as the cloud builds it: the nova services of the lab's nodes, on the bus."""

from __future__ import annotations

import asyncio

from stacklab.compute.agents.events import VifPlugging
from stacklab.compute.api import api
from stacklab.compute.cinder import CinderClient
from stacklab.compute.disks import RBD, EphemeralDisks
from stacklab.compute.glance import GlanceClient
from stacklab.compute.neutron import NeutronClient
from stacklab.compute.notifications import Notifier
from stacklab.compute.policies import RULES
from stacklab.compute.service import ComputeService
from stacklab.compute.servicegroup import TOPICS, conductor_reporter
from stacklab.declaration import (
    CONTROL_PLANE,
    CatalogSpec,
    Key,
    Parts,
    ServiceDeclaration,
    Startup,
)
from stacklab.ha.ceph import CephCluster, RadosClient

COMPUTE = Key("compute", ComputeService)


def _build(parts: Parts) -> ComputeService:
    config = parts.config
    compute = ComputeService(parts.db, parts.clock, parts.ids, parts.topology, parts.bus,
                             report_interval=config.DEFAULT.report_interval,
                             service_down_time=config.DEFAULT.service_down_time,
                             default_zone=config.DEFAULT.default_availability_zone,
                             boot_profile=config.stacklab.boot_profile,
                             lab_clock=parts.scaled_clock,
                             quota_options=config.quota, base_url=parts.base_url,
                             reclaim_instance_interval=config.DEFAULT.reclaim_instance_interval,
                             sync_power_state_interval=config.DEFAULT.sync_power_state_interval,
                             enabled_filters=config.filter_scheduler.filters())
    compute.reimage_timeout_per_gb = config.DEFAULT.reimage_timeout_per_gb
    # nova's [notifications]: legacy, versioned or both, and the versioned ones' topics.
    compute.instances.notifier = Notifier(parts.bus, config.notifications.notification_format,
                                          config.notifications.topics())
    compute.max_attempts = config.scheduler.max_attempts
    compute.disks = _disks(parts)
    compute.here = parts.here
    if not parts.here("nova-compute", None):
        # The computes' work is done in other processes: nova-api's wait for a server to
        # settle (the fast profile) reads the store rather than waiting for a wake-up.
        compute.instances.poll_interval = 0.05
    # nova's [neutron] section: networking over HTTP, as the user nova.
    compute.neutron = NeutronClient(
        parts.app, parts.base_url, username="nova", password=config.stacklab.admin_password,
        vif_plugging=VifPlugging(config.DEFAULT.vif_plugging_timeout,
                                 config.DEFAULT.vif_plugging_is_fatal))
    # nova's [glance] section: images over HTTP too, never glance's tables or files.
    compute.glance = GlanceClient(parts.app, parts.base_url, username="nova",
                                  password=config.stacklab.admin_password)
    # nova's [cinder] section: volumes over HTTP, with the user's token and nova's own.
    compute.cinder = CinderClient(parts.app, parts.base_url, username="nova",
                                  password=config.stacklab.admin_password)
    return compute


def _disks(parts: Parts) -> EphemeralDisks:
    """[libvirt] images_type: local disks, or RBD images in the lab's Ceph pool (each
    compute its own librados handle, so what its node reaches is what it gets)."""
    options = parts.config.libvirt
    if options.images_type != RBD:
        return EphemeralDisks(options.images_type)

    # The control plane (which holds the cluster) is built after the services: the
    # handle finds it when first used.
    def cluster() -> CephCluster:
        found = parts.get(CONTROL_PLANE).ceph
        if found is None:
            raise ValueError("[libvirt] images_type rbd: this lab has no storage nodes "
                             "(ceph-osd)")
        return found

    def rados(host: str) -> RadosClient:
        return RadosClient(cluster, options.images_rbd_pool, clock=parts.scaled_clock,
                           sync=lambda: parts.get(CONTROL_PLANE).time.sync(),
                           timeout=options.rbd_connect_timeout, client=host or None)

    disks = EphemeralDisks(RBD, rados)
    # glance on the same cluster's rbd store: the disk is a copy-on-write clone.
    disks.clone_from_glance = parts.config.glance_store.default_store == "rbd"
    return disks


def _start(parts: Parts, startup: Startup) -> None:
    compute = parts.get(COMPUTE)
    # nova finds glance in keystone's catalog ([glance] service_type = image).
    compute.image_endpoint = next((startup.url(spec) for spec in startup.catalog
                                   if spec.type == "image"), None)
    compute.start()


async def _background(parts: Parts) -> None:
    compute = parts.get(COMPUTE)
    runtime = parts.runtime

    def running(host: str, binary: str) -> bool:
        if not parts.here(binary, host):
            return False  # another process's (one process per service): it reports
        try:
            return runtime.running(host, binary)
        except KeyError:  # a host of the store the topology no longer has: its power says
            return runtime.is_up(host)

    compute.resource_tracker.running = lambda host: running(host, "nova-compute")

    # A service on a powered-off node, or whose process is stopped, does not report (it goes
    # down after service_down_time; a stopped nova-compute's servers keep running), and a
    # stopped nova-compute does not reclaim its soft-deleted servers either.
    await asyncio.gather(
        compute.services.run(runtime.is_up, running,
                             via_conductor=conductor_reporter(parts.bus)),
        compute.deletes.run_reclaim(lambda host: running(host, "nova-compute")),
        compute.power_sync.run(lambda host: running(host, "nova-compute")),
        compute.resource_tracker.run())


def _stop(parts: Parts) -> None:
    parts.get(COMPUTE).stop()


def _node_down(parts: Parts, fqdn: str) -> None:
    # Its guests lose their power with it.
    parts.get(COMPUTE).host_down(fqdn)


def _node_up(parts: Parts, fqdn: str) -> None:
    # Its nova-compute starts again and cleans up after what was evacuated meanwhile.
    parts.get(COMPUTE).host_up(fqdn)


DECLARATION = ServiceDeclaration(
    api=api, mount="/compute", rules=RULES,
    catalog=CatalogSpec("compute", "nova", "Compute Service", "/compute/v2.1"),
    key=COMPUTE, build=_build, start=_start, background=_background, stop=_stop,
    # Each nova service's RPC server consumes its topic on its own host (nova-conductor's
    # "conductor" on controller1...): a stopped one leaves the work to the other nodes'.
    process_topics={binary: (topic,) for binary, topic in TOPICS.items()},
    control_exchange="nova", node_down=_node_down, node_up=_node_up)
