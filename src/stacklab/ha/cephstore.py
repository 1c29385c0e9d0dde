"""The Ceph cluster's objects in the store (``ha.models``): the storage nodes' disks, one
for every process of the cloud, as a real cluster is one for all its clients.

Each process keeps its own model of the OSD map (up/in, from the lab's faults, which every
process applies); the objects, their bytes and what each OSD misses are read here at each
look, so what one process's client wrote another's reads, and the degraded counts, the
recovery and ``ceph df`` agree. Two processes recovering the same object delete the same
rows: the second deletes nothing.

The store's own connection is used, not the gated session of the services: the lab's
Galera being unreachable does not stop Ceph. A write inside a caller's transaction takes
the caller's session (on SQLite a second writer would wait for the first). Writes of one
object are serialized by a named lock (store.locks), so two processes writing it at once
leave the last one's bytes, not a refused duplicate key.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from stacklab.ha.ceph import Catalog, Key
from stacklab.ha.models import CephMissing, CephObject
from stacklab.store import locks
from stacklab.store.base import pieces
from stacklab.store.database import Database


class StoreObjects:
    """``CephObjects`` kept in the store (see the module's docstring)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Not Database.session: its gate is the lab's Galera, which Ceph does not need.
        self._sessions = sessionmaker(db.engine, expire_on_commit=False)

    @contextmanager
    def _session(self, session: Session | None) -> Iterator[Session]:
        if session is not None:
            yield session
            return
        with self._sessions() as own, own.begin():
            yield own

    @contextmanager
    def _reading(self, session: Session | None) -> Iterator[Connection]:
        if session is not None:
            yield session.connection()
            return
        with self.db.engine.connect() as connection:
            yield connection

    def catalog(self, session: Session | None = None) -> Catalog:
        with self._reading(session) as connection:
            objects = connection.execute(select(
                CephObject.pool, CephObject.name, CephObject.size).where(
                CephObject.seq == 0)).all()
            missing = connection.execute(select(
                CephMissing.osd, CephMissing.pool, CephMissing.name)).all()
        sizes: dict[str, dict[str, int]] = {}
        for pool, name, size in objects:
            sizes.setdefault(pool, {})[name] = int(size)
        held: dict[int, set[Key]] = {}
        for osd, pool, name in missing:
            held.setdefault(int(osd), set()).add((pool, name))
        return Catalog(sizes, {osd: frozenset(keys) for osd, keys in held.items()})

    def read(self, pool: str, name: str, session: Session | None = None) -> bytes | None:
        with self._reading(session) as connection:
            rows = list(connection.scalars(select(CephObject.data).where(
                CephObject.pool == pool, CephObject.name == name).order_by(CephObject.seq)))
        return b"".join(rows) if rows else None

    def write(self, pool: str, name: str, data: bytes, missing: Collection[int],
              session: Session | None = None) -> None:
        with self._session(session) as current:
            locks.serialize(current, f"ceph:{pool}/{name}")
            connection = current.connection()
            self._drop(connection, pool, name)
            connection.execute(insert(CephObject), [
                {"pool": pool, "name": name, "seq": seq, "size": len(data), "data": piece}
                for seq, piece in enumerate(pieces(data))])
            if missing:
                connection.execute(insert(CephMissing), [
                    {"osd": osd, "pool": pool, "name": name} for osd in sorted(set(missing))])

    def remove(self, pool: str, name: str, session: Session | None = None) -> bool:
        with self._session(session) as current:
            locks.serialize(current, f"ceph:{pool}/{name}")
            return self._drop(current.connection(), pool, name)

    @staticmethod
    def _drop(connection: Connection, pool: str, name: str) -> bool:
        connection.execute(delete(CephMissing).where(
            CephMissing.pool == pool, CephMissing.name == name))
        removed = connection.execute(delete(CephObject).where(
            CephObject.pool == pool, CephObject.name == name))
        return bool(removed.rowcount)

    def recovered(self, done: Collection[tuple[int, str, str]],
                  session: Session | None = None) -> None:
        if not done:
            return
        with self._session(session) as current:
            current.connection().execute(delete(CephMissing).where(
                tuple_(CephMissing.osd, CephMissing.pool, CephMissing.name).in_(
                    sorted(set(done)))))
