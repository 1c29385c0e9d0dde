"""nova-compute's image backend (``[libvirt] images_type``): where a server's root disk lives.

``default`` (qcow2 files under /var/lib/nova/instances): the disk is on its compute
node's own disk, so it is lost with the node; an evacuation rebuilds the server from
its image (nova: "disk not on shared storage, evacuating from image"), a cold or live
migration copies it. ``rbd``: the disk is the RBD image ``<server uuid>_disk`` in the
pool ``images_rbd_pool`` of the lab's Ceph cluster (storage1, storage2), which every
compute reaches: it outlives its compute (libvirt's ``is_shared_block_storage``), an
evacuation boots the same disk elsewhere ("disk on shared storage, evacuating using
existing disk") and a migration moves nothing. What the cluster cannot serve waits
``rbd_connect_timeout`` and fails (DiskUnavailable): a build then reschedules, a boot
(start, reboot ...) errors the server, and a running guest's console reports I/O errors.

The model keeps of a disk only what a guest would show of it: whether it was ever
booted (a fresh disk's first boot grows its root partition, CirrOS's growroot says
``CHANGED``; a disk booted before says ``NOCHANGE``), and the image it came from. A
server booted from a volume has no disk here (its root is cinder's). The record of
which server has which kind of disk is the libvirt domain's XML, kept in memory as the
hypervisors' domains are.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from stacklab.ha.ceph import RadosClient, RadosError

LOG = logging.getLogger("nova.virt.libvirt.imagebackend")

LOCAL_TYPES = ("default", "qcow2", "raw", "flat", "ploop")
IMAGE_TYPES = (*LOCAL_TYPES, "rbd", "lvm")

RBD = "rbd"


class ImageUnacceptable(Exception):
    """nova's ImageUnacceptable: glance gave no data for the image (a build aborts)."""

    def __init__(self, image_ref: str, reason: str) -> None:
        super().__init__(f"Image {image_ref} is unacceptable: {reason}")
        self.message = str(self)


class DiskUnavailable(Exception):
    """The disk cannot be reached now (librados timed out connecting to the cluster)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Error connecting to ceph cluster: {reason}")
        self.message = str(self)


@dataclass(slots=True)
class Disk:
    image_ref: str
    booted: bool = False

    def encode(self) -> bytes:
        return json.dumps({"image": self.image_ref, "booted": self.booted}).encode()

    @classmethod
    def decode(cls, data: bytes) -> Disk:
        body = json.loads(data)
        return cls(str(body["image"]), bool(body["booted"]))


def disk_name(uuid: str) -> str:
    """nova's name of a server's root disk in the rbd pool."""
    return f"{uuid}_disk"


class EphemeralDisks:
    """The servers' root disks, local to a host or in the Ceph pool.

    ``rados(host)`` gives the compute ``host``'s librados handle on the pool (None:
    the image backend is local).
    """

    def __init__(self, images_type: str = "default",
                 rados: Callable[[str], RadosClient] | None = None) -> None:
        if images_type not in IMAGE_TYPES or images_type == "lvm":
            raise ValueError(f"[libvirt] images_type {images_type!r}: stacklab models "
                             f"{', '.join(t for t in IMAGE_TYPES if t != 'lvm')}")
        if images_type == RBD and rados is None:
            raise ValueError("[libvirt] images_type rbd needs the lab's Ceph cluster")
        self.images_type = images_type
        self._rados = rados
        # Server uuid -> its disk's host (local backend) or RBD (the domain's XML).
        self.where: dict[str, str] = {}
        # host -> server uuid -> disk: the files under each node's instances path.
        self.local: dict[str, dict[str, Disk]] = {}
        # host -> the images its _base cache holds (downloaded from glance once per host).
        self.cached: dict[str, set[str]] = {}
        # Whether an rbd disk is a clone of the image's RBD image in glance's pool (glance
        # on the rbd store: nothing to download) rather than an import of its bytes.
        self.clone_from_glance = False

    @property
    def shared(self) -> bool:
        """libvirt's ``instance_on_disk`` for a server of this backend: the rbd backend is
        shared block storage; the lab's instances path is no shared file system."""
        return self.images_type == RBD

    def has_disk(self, uuid: str) -> bool:
        return uuid in self.where

    # -- the cluster ----------------------------------------------------------------------

    def _client(self, host: str) -> RadosClient:
        assert self._rados is not None
        return self._rados(host)

    async def _ready(self, host: str, uuid: str, *, write: bool) -> RadosClient:
        client = self._client(host)
        try:
            await client.ready(disk_name(uuid), write=write)
        except (RadosError, ValueError) as error:  # ValueError: the lab has no cluster
            raise DiskUnavailable(str(error)) from None
        return client

    def blocked(self, uuid: str, host: str) -> str | None:
        """Why the server's rbd disk cannot be read now (None: it can, or it is local)."""
        if self.where.get(uuid) != RBD:
            return None
        client = self._client(host)
        try:
            return client.now().blocked(client.pool, disk_name(uuid), client=client.client)
        except ValueError as error:
            return str(error)

    # -- what nova-compute does with disks --------------------------------------------------

    async def create(self, uuid: str, host: str, image_ref: str,
                     fetch: Callable[[str], Awaitable[bytes]] | None = None) -> None:
        """spawn's ``_create_image``: a fresh disk from the image (over any older one). The
        image's bytes come from glance through ``fetch`` into the host's cache first,
        unless cached or cloned in the cluster; glance giving none is ImageUnacceptable."""
        if fetch is not None and image_ref not in self.cached.get(host, set()) and not (
                self.images_type == RBD and self.clone_from_glance):
            if not await fetch(image_ref):
                raise ImageUnacceptable(image_ref, "Image has no associated data")
            self.cached.setdefault(host, set()).add(image_ref)
        disk = Disk(image_ref)
        if self.images_type == RBD:
            client = await self._ready(host, uuid, write=True)
            try:
                client.now().write(client.pool, disk_name(uuid), disk.encode())
            except RadosError as error:
                raise DiskUnavailable(str(error)) from None
            self.where[uuid] = RBD
            return
        self._drop_local(uuid)
        self.local.setdefault(host, {})[uuid] = disk
        self.where[uuid] = host

    async def boot(self, uuid: str, host: str) -> bool | None:
        """The guest opens its disk to boot: True on its first boot, False after, None when
        it has no disk here (booted from a volume). DiskUnavailable if it cannot be read."""
        place = self.where.get(uuid)
        if place is None:
            return None
        if place == RBD:
            client = await self._ready(host, uuid, write=True)
            try:
                data = client.now().read(client.pool, disk_name(uuid))
                if data is None:
                    raise DiskUnavailable(f"rbd image {disk_name(uuid)} does not exist")
                disk = Disk.decode(data)
                first = not disk.booted
                if first:
                    disk.booted = True
                    client.now().write(client.pool, disk_name(uuid), disk.encode())
            except RadosError as error:
                raise DiskUnavailable(str(error)) from None
            return first
        found = self.local.get(place, {}).get(uuid)
        if found is None:
            return None
        first = not found.booted
        found.booted = True
        return first

    def move(self, uuid: str, dest: str) -> None:
        """A migration copied the local disk to ``dest`` (an rbd disk stays where it is)."""
        place = self.where.get(uuid)
        if place is None or place in (RBD, dest):
            return
        disk = self.local.get(place, {}).pop(uuid, None)
        if disk is not None:
            self.local.setdefault(dest, {})[uuid] = disk
            self.where[uuid] = dest

    def forget_local(self, uuid: str, host: str) -> None:
        """An evacuated server's stale files on its old host, removed when it is back (an
        rbd disk is the server's still: nova destroys disks only off shared storage)."""
        self.local.get(host, {}).pop(uuid, None)

    def delete(self, uuid: str, host: str | None) -> None:
        """The server's disk removed (its delete, or a shelve offload). An rbd disk the
        cluster cannot remove now is left behind, as libvirt's cleanup logs and goes on."""
        place = self.where.pop(uuid, None)
        if place is None:
            return
        if place != RBD:
            self._drop_local(uuid, place)
            return
        client = self._client(host or "")
        try:
            client.now().remove(client.pool, disk_name(uuid))
        except (RadosError, ValueError) as error:
            LOG.warning("[instance: %s] Failed to remove rbd image %s: %s", uuid,
                        disk_name(uuid), error)

    def _drop_local(self, uuid: str, host: str | None = None) -> None:
        place = host or self.where.get(uuid)
        if place and place != RBD:
            self.local.get(place, {}).pop(uuid, None)
