"""What the backends hold: each volume's and snapshot's bytes, per host@backend.

An LVM backend keeps its logical volumes on its own node's disks. stacklab keeps them in
memory (a volume is its image's bytes, or nothing written yet): enough to copy an image
into a volume, a volume into a snapshot and back, and to tell how much of a thin pool is
used. They do not outlive the process.
"""

from __future__ import annotations

import math

from stacklab.block_storage.rbd import RbdVolumes

GIB = 1024 ** 3


class VolumeStore:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, bytes]] = {}
        self.rbd = RbdVolumes()

    async def ready(self, backend: str) -> None:
        """Wait for the backend to take ops (an rbd backend's cluster); RbdError if not."""
        await self.rbd.ready(backend)

    def write(self, backend: str, ident: str, data: bytes) -> None:
        if self.rbd.serves(backend):
            self.rbd.write(backend, ident, data)
            return
        self._data.setdefault(backend, {})[ident] = data

    def read(self, backend: str, ident: str) -> bytes:
        if self.rbd.serves(backend):
            return self.rbd.read(backend, ident)
        return self._data.get(backend, {}).get(ident, b"")

    def remove(self, backend: str, ident: str) -> None:
        if self.rbd.serves(backend):
            self.rbd.remove(backend, ident)
            return
        self._data.get(backend, {}).pop(ident, None)

    def used_gb(self, backend: str) -> int:
        """The pool's allocated space: what was written, rounded up to whole GiB."""
        return math.ceil(sum(len(data) for data in self._data.get(backend, {}).values())
                         / GIB)

    def names(self, backend: str) -> list[str]:
        """The entries an LVM backend holds (its logical volumes), sorted."""
        return sorted(self._data.get(backend, {}))
