"""The object store cinder-backup writes into (a swift-like store: containers of named
objects). stacklab keeps it in the store (``block_storage_backup_object``), as a real
swift is one service for every cinder-backup: a backup made by one controller's
cinder-backup process is restored by the other's, and restoring reads back exactly what
was written, after any restart."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from stacklab.block_storage import models as m
from stacklab.store.base import pieces
from stacklab.store.database import Database


class ObjectStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, container: str, name: str, data: bytes) -> None:
        with self.db.session() as session:
            connection = session.connection()
            connection.execute(delete(m.BackupObject).where(
                m.BackupObject.container == container, m.BackupObject.name == name))
            connection.execute(insert(m.BackupObject), [
                {"container": container, "name": name, "seq": seq, "data": piece}
                for seq, piece in enumerate(pieces(data))])

    def get(self, container: str, name: str) -> bytes:
        """The object's bytes; ``KeyError`` when it is not there (swift's 404)."""
        with self.db.session() as session:
            found = list(session.scalars(select(m.BackupObject.data).where(
                m.BackupObject.container == container, m.BackupObject.name == name
            ).order_by(m.BackupObject.seq)))
        if not found:
            raise KeyError(name)
        return b"".join(found)

    def delete(self, container: str, name: str) -> None:
        with self.db.session() as session:
            session.execute(delete(m.BackupObject).where(
                m.BackupObject.container == container, m.BackupObject.name == name))

    def names(self, container: str, prefix: str = "") -> list[str]:
        with self.db.session() as session:
            names = session.scalars(select(m.BackupObject.name).where(
                m.BackupObject.container == container).distinct())
            return sorted(n for n in names if n.startswith(prefix))

    def containers(self) -> list[str]:
        with self.db.session() as session:
            return sorted(session.scalars(select(m.BackupObject.container).distinct()))
