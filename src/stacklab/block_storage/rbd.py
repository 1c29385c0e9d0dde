"""cinder's RBD driver: the volumes of an rbd backend live in the lab's Ceph cluster.

A volume is the RBD image ``volume-<id>`` in the backend's ``rbd_pool`` (``volumes``),
a snapshot ``volume-<volume id>@snapshot-<id>`` (kept here as an object of its own): their
bytes are on the storage nodes, not on the cinder-volume node, so they outlive it, and
the one ``backend_host`` service either controller runs serves them. What the driver does
that the cluster cannot serve waits up to ``rados_connect_timeout`` and fails as the
driver's VolumeBackendAPIException does ("Error connecting to ceph cluster."): the
volume goes to ``error``. The pool's capacity is the cluster's (cinder's
``report_dynamic_total_capacity``: used + MAX AVAIL); without a reachable cluster the
driver reports ``unknown`` and backend_state ``down``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stacklab.block_storage.backends import Backend
from stacklab.clock import Clock
from stacklab.ha.ceph import GIB, RadosClient, RadosError
from stacklab.ha.controlplane import ControlPlane

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DRIVER_VERSION = "1.2.0"  # RBDDriver.VERSION


class RbdError(Exception):
    """The driver's VolumeBackendAPIException for an op the cluster did not serve."""

    def __init__(self, reason: str) -> None:
        super().__init__("Bad or unexpected response from the storage volume backend API: "
                         f"Error connecting to ceph cluster. ({reason})")


def image_name(ident: str) -> str:
    return f"volume-{ident}"


@dataclass(frozen=True, slots=True)
class RbdCapacity:
    total_gb: float
    free_gb: float
    used_gb: float


class RbdVolumes:
    """The backends' RADOS clients, by host@backend."""

    def __init__(self) -> None:
        self.clients: dict[str, RadosClient] = {}

    def attach(self, backend: Backend, client: RadosClient) -> None:
        self.clients[backend.host] = client

    def serves(self, host: str) -> bool:
        return host in self.clients

    async def ready(self, host: str) -> None:
        """Wait for the cluster to take the backend's ops; RbdError after its timeout."""
        client = self.clients.get(host)
        if client is None:
            return
        try:
            await client.ready()
        except RadosError as error:
            raise RbdError(str(error)) from None

    # ``session``: the caller's open transaction, which the cluster's objects (kept in
    # the store) take part in.
    def write(self, host: str, ident: str, data: bytes, *,
              session: Session | None = None) -> None:
        client = self.clients[host]
        try:
            client.now().write(client.pool, image_name(ident), data, session=session)
        except RadosError as error:
            raise RbdError(str(error)) from None

    def read(self, host: str, ident: str, *, session: Session | None = None) -> bytes:
        client = self.clients[host]
        try:
            return client.now().read(client.pool, image_name(ident), session=session) or b""
        except RadosError as error:
            raise RbdError(str(error)) from None

    def check_read(self, host: str, ident: str, *, session: Session | None = None) -> None:
        """Raise RbdError unless the cluster serves a read of the volume now (without
        reading its bytes, which the store keeps as well: storage.py)."""
        client = self.clients[host]
        try:
            client.now().exists(client.pool, image_name(ident), session=session)
        except RadosError as error:
            raise RbdError(str(error)) from None

    def remove(self, host: str, ident: str, *, session: Session | None = None) -> None:
        client = self.clients[host]
        try:
            client.now().remove(client.pool, image_name(ident), session=session)
        except RadosError as error:
            raise RbdError(str(error)) from None

    def capacity(self, host: str, stored: int | None = None) -> RbdCapacity | None:
        """The pool's figures as the driver reports them; None: ``unknown`` (no cluster).
        ``stored``: the bytes the backend's volumes hold (the store's count, every
        process's writes), of which this process's model of the cluster may have seen
        only its own."""
        client = self.clients[host]
        cluster = client.now()
        if cluster.blocked(client.pool) is not None:
            return None
        pool = cluster.pool(client.pool)
        elsewhere = max((stored or 0) - pool.stored, 0)
        free = cluster.max_avail(client.pool, elsewhere) / GIB
        used = (pool.stored + elsewhere) / GIB
        return RbdCapacity(round(used + free, 2), round(free, 2), round(used, 2))

    def location_info(self, backend: Backend, fsid: str) -> str:
        # cluster name : ceph.conf : fsid : user : pool, as RBDDriver reports it.
        client = self.clients[backend.host]
        return f"ceph:{backend.rbd_ceph_conf}:{fsid}:{backend.rbd_user}:{client.pool}"


@dataclass(frozen=True, slots=True)
class RbdStats:
    """What the scheduler reads of an rbd pool: its figures (0 when ``unknown``, which no
    request fits, as the driver's create would fail) and the driver's capabilities."""

    total: float
    used: float
    capabilities: dict[str, object]


def rbd_stats(volumes: RbdVolumes, backend: Backend, stored: int | None = None
              ) -> RbdStats | None:
    """The rbd backend's stats as RBDDriver._update_volume_stats gives them (None for a
    backend of another driver, or one with no cluster attached); ``stored`` as
    ``capacity``'s."""
    if not volumes.serves(backend.host):
        return None
    client = volumes.clients[backend.host]
    capacity = volumes.capacity(backend.host, stored)
    capabilities: dict[str, object] = {
        "driver_version": DRIVER_VERSION, "storage_protocol": "ceph",
        "location_info": volumes.location_info(backend, client.cluster.fsid),
        "total_capacity_gb": "unknown", "free_capacity_gb": "unknown",
        "backend_state": "down",
    }
    if capacity is None:
        return RbdStats(0.0, 0.0, capabilities)
    capabilities.update(total_capacity_gb=capacity.total_gb,
                        free_capacity_gb=capacity.free_gb, backend_state="up")
    # used: what the pool stores, so that free = total - used is MAX AVAIL.
    return RbdStats(capacity.total_gb, capacity.used_gb, capabilities)


def attach_rbd(volumes: RbdVolumes, backends: Sequence[Backend], plane: ControlPlane,
               clock: Clock) -> None:
    """Give each rbd backend its RADOS client on the lab's cluster (none in a lab
    without storage nodes: the backend then keeps its bytes in memory, as lvm's)."""
    cluster = plane.ceph
    if cluster is None:
        return
    for backend in backends:
        if backend.rbd_pool is not None and not volumes.serves(backend.host):
            volumes.attach(backend, RadosClient(
                lambda: cluster, backend.rbd_pool, clock=clock, sync=plane.time.sync,
                timeout=backend.rados_connect_timeout))
