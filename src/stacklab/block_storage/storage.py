"""What the backends hold: each volume's and snapshot's bytes, per host@backend.

An LVM backend keeps its logical volumes on its own node's disks: they outlive its
cinder-volume process, and upstream copies them between nodes (a migration, a retype)
over iSCSI. stacklab keeps them in the store (``block_storage_volume_data``: a volume
is its image's bytes, or nothing written yet), so that every cinder process reads the
same whatever the shape (one process, or one per service) and a restarted cinder-volume
finds its volumes' data: enough to copy an image into a volume, a volume into a snapshot
and back, and to tell how much of a thin pool is used. An rbd backend's live in the
lab's Ceph (``rbd.py``): its cluster serves each op or refuses it (RbdError) and
accounts for the space, and the bytes are kept in the store as well, as the storage
nodes' disks are every client's: the other node's cinder-volume of the shared
``backend_host`` (another process) reads what one wrote, after any restart.

An entry is kept as pieces of at most 1 MiB (``store.base.pieces``): a volume made from a
large image would not fit one MariaDB packet.

Each call takes the caller's session when it has one open (its writes then commit with
the caller's, and a file SQLite database is not asked for a second writer).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session

from stacklab.block_storage import models as m
from stacklab.block_storage.rbd import RbdVolumes
from stacklab.store.base import pieces
from stacklab.store.database import Database

GIB = 1024 ** 3


def _count(connection: Connection, backend: str, delta: int) -> None:
    """Add ``delta`` bytes to the backend's usage (in the writer's transaction)."""
    if not delta:
        return
    counted = connection.execute(update(m.PoolUsage).where(
        m.PoolUsage.backend == backend).values(used_bytes=m.PoolUsage.used_bytes + delta))
    if not counted.rowcount:
        connection.execute(insert(m.PoolUsage).values(backend=backend, used_bytes=delta))


class VolumeStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.rbd = RbdVolumes()

    @contextmanager
    def _session(self, session: Session | None) -> Iterator[Session]:
        if session is not None:
            yield session
            return
        with self.db.session() as own:
            yield own

    async def ready(self, backend: str) -> None:
        """Wait for the backend to take ops (an rbd backend's cluster); RbdError if not."""
        await self.rbd.ready(backend)

    def write(self, backend: str, ident: str, data: bytes, *,
              session: Session | None = None) -> None:
        with self._session(session) as current:
            if self.rbd.serves(backend):
                # RbdError when the cluster refuses it; the cluster's objects are kept in
                # the store too, in this transaction.
                self.rbd.write(backend, ident, data, session=current)
            # Core statements on the session's connection, not the ORM's (which would
            # look through the caller's objects): a volume's create pays for this write.
            connection = current.connection()
            old = self._size(connection, backend, ident)
            if old is not None:
                connection.execute(delete(m.VolumeData).where(
                    m.VolumeData.backend == backend, m.VolumeData.ident == ident))
            connection.execute(insert(m.VolumeData), [
                {"backend": backend, "ident": ident, "seq": seq, "size": len(piece),
                 "data": piece} for seq, piece in enumerate(pieces(data))])
            _count(connection, backend, len(data) - (old or 0))

    @staticmethod
    def _size(connection: Connection, backend: str, ident: str) -> int | None:
        """The entry's length, None when the backend has no such entry."""
        pieces_, size = connection.execute(
            select(func.count(), func.sum(m.VolumeData.size)).where(
                m.VolumeData.backend == backend, m.VolumeData.ident == ident)).one()
        return int(size or 0) if pieces_ else None

    def read(self, backend: str, ident: str, *, session: Session | None = None) -> bytes:
        with self._session(session) as current:
            if self.rbd.serves(backend):
                # RbdError when the cluster cannot serve it.
                self.rbd.check_read(backend, ident, session=current)
            return b"".join(current.connection().scalars(select(m.VolumeData.data).where(
                m.VolumeData.backend == backend, m.VolumeData.ident == ident
            ).order_by(m.VolumeData.seq)))

    def remove(self, backend: str, ident: str, *, session: Session | None = None) -> None:
        with self._session(session) as current:
            if self.rbd.serves(backend):
                self.rbd.remove(backend, ident, session=current)
            connection = current.connection()
            old = self._size(connection, backend, ident)
            if old is None:
                return
            connection.execute(delete(m.VolumeData).where(
                m.VolumeData.backend == backend, m.VolumeData.ident == ident))
            _count(connection, backend, -old)

    def move(self, backend: str, ident: str, to_backend: str, to_ident: str, *,
             session: Session | None = None) -> None:
        """An entry's bytes under another backend or name (a migration, a manage's
        rename): read, removed, written, in one transaction."""
        with self._session(session) as current:
            data = self.read(backend, ident, session=current)
            self.remove(backend, ident, session=current)
            self.write(to_backend, to_ident, data, session=current)

    def used_gb(self, backend: str, *, session: Session | None = None) -> int:
        """The pool's allocated space: what was written, rounded up to whole GiB."""
        return math.ceil(self.used_bytes(session).get(backend, 0) / GIB)

    def used_bytes(self, session: Session | None = None) -> dict[str, int]:
        """What each backend's entries hold, in bytes (one small query for every pool)."""
        with self._session(session) as current:
            rows = current.connection().execute(
                select(m.PoolUsage.backend, m.PoolUsage.used_bytes)).all()
        return {backend: int(total) for backend, total in rows}

    def ensure(self, session: Session, backends: Iterable[str]) -> None:
        """Each backend's usage row, made once (at the cloud's start, before any process
        of the shape writes: two first writes at once would not both insert it)."""
        connection = session.connection()
        known = set(connection.scalars(select(m.PoolUsage.backend)))
        for backend in sorted(set(backends) - known):
            connection.execute(insert(m.PoolUsage).values(backend=backend, used_bytes=0))

    def names(self, backend: str, *, session: Session | None = None) -> list[str]:
        """The entries an LVM backend holds (its logical volumes), sorted."""
        with self._session(session) as current:
            return sorted(current.scalars(select(m.VolumeData.ident).where(
                m.VolumeData.backend == backend).distinct()))
