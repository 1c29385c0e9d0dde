"""The lab's cinder backends: which cinder-volume serves which pool, and how big it is."""

from __future__ import annotations

from dataclasses import dataclass

from stacklab.block_storage.servicegroup import BACKUP, SCHEDULER, VOLUME, ServiceProcess
from stacklab.config import RBD_DRIVER, Config
from stacklab.topology import Topology


@dataclass(frozen=True, slots=True)
class Backend:
    """One enabled backend of one cinder-volume node.

    ``host`` is the service's (``<backend_host or node>@<section>``); the LVM driver has
    one pool, named after ``volume_backend_name``, so a volume's host is
    ``host#pool``. Its capacity is the volume group's.
    """

    section: str
    name: str
    host: str
    node: str
    zone: str
    driver: str
    capacity_gb: int
    max_over_subscription_ratio: float
    reserved_percentage: int
    thin: bool
    # An rbd backend's (cinder.volume.drivers.rbd.RBDDriver): its Ceph pool and client.
    rbd_pool: str | None = None
    rbd_user: str = ""
    rbd_ceph_conf: str = ""
    rados_connect_timeout: int = -1

    @property
    def rbd(self) -> bool:
        return self.rbd_pool is not None

    @property
    def pool(self) -> str:
        return self.name

    @property
    def pool_host(self) -> str:
        return f"{self.host}#{self.pool}"

    @property
    def storage_protocol(self) -> str:
        return "ceph" if self.rbd else "iSCSI"

    @property
    def vendor_name(self) -> str:
        return "Open Source"


def backend_names(config: Config) -> list[str]:
    return [name.strip() for name in config.DEFAULT.enabled_backends.split(",")
            if name.strip()]


def lab_backends(config: Config, topology: Topology) -> list[Backend]:
    """Every (node, backend) pair: each node running cinder-volume serves every enabled
    backend (cinder/cmd/volume.py starts one service per backend)."""
    zone = config.DEFAULT.storage_availability_zone
    found = []
    for node in topology.nodes_running(VOLUME):
        for section in backend_names(config):
            options = config.volume_backend(section)
            rbd = options.volume_driver == RBD_DRIVER
            host = f"{options.backend_host or node.fqdn}@{section}"
            found.append(Backend(
                section=section, name=options.volume_backend_name or section, host=host,
                node=node.fqdn, zone=zone, driver=options.volume_driver,
                capacity_gb=options.volume_group_size_gb or node.disk_gb,
                max_over_subscription_ratio=options.max_over_subscription_ratio,
                reserved_percentage=options.reserved_percentage,
                # lvm_type "auto" picks thin provisioning where LVM supports it, as every
                # current distribution's does.
                thin=options.lvm_type in ("auto", "thin") or rbd,
                rbd_pool=options.rbd_pool if rbd else None, rbd_user=options.rbd_user,
                rbd_ceph_conf=options.rbd_ceph_conf,
                rados_connect_timeout=options.rados_connect_timeout))
    return found


def lab_processes(config: Config, topology: Topology) -> list[ServiceProcess]:
    zone = config.DEFAULT.storage_availability_zone
    processes = [ServiceProcess(SCHEDULER, node.fqdn, node.fqdn, zone)
                 for node in topology.nodes_running(SCHEDULER)]
    processes += [ServiceProcess(VOLUME, backend.host, backend.node, backend.zone)
                  for backend in lab_backends(config, topology)]
    # cinder-backup reports as its node, as the scheduler does.
    processes += [ServiceProcess(BACKUP, node.fqdn, node.fqdn, zone)
                  for node in topology.nodes_running(BACKUP)]
    return processes
