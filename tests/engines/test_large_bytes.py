"""Bytes larger than one database packet: a volume made from a large image, a backup's
50 MiB object. MariaDB refuses a statement over its max_allowed_packet (16 MiB by
default), so the store keeps them as pieces (store.base.pieces); every engine reads back
exactly what was written, and a rewrite or a delete leaves no piece behind."""

from __future__ import annotations

import os

import stacklab.models  # noqa: F401  (every table)
from stacklab.block_storage.objectstore import ObjectStore
from stacklab.block_storage.storage import VolumeStore
from stacklab.store.base import PIECE
from stacklab.store.database import Database

LVM = "controller1.openstack.local@lvm"
# Over MariaDB's default packet, and not a whole number of pieces.
LARGE = 17 * 1024 * 1024 + 12345


def test_a_volume_and_a_backup_object_larger_than_a_packet(migrated_url: str) -> None:
    db = Database(migrated_url)
    data = os.urandom(LARGE)
    try:
        volumes = VolumeStore(db)
        volumes.write(LVM, "big", data)
        assert VolumeStore(db).read(LVM, "big") == data
        assert volumes.used_bytes()[LVM] >= LARGE
        before = volumes.used_bytes()[LVM]
        volumes.write(LVM, "big", data[:PIECE + 1])  # smaller: the old pieces go
        assert volumes.read(LVM, "big") == data[:PIECE + 1]
        assert volumes.used_bytes()[LVM] == before - LARGE + PIECE + 1
        volumes.remove(LVM, "big")
        assert volumes.read(LVM, "big") == b"" and volumes.names(LVM) == []

        objects = ObjectStore(db)
        objects.put("backups", "obj-00001", data)
        assert ObjectStore(db).get("backups", "obj-00001") == data
        objects.put("backups", "obj-00001", b"")  # an empty object is still there
        assert objects.get("backups", "obj-00001") == b""
        assert objects.names("backups") == ["obj-00001"]
        objects.delete("backups", "obj-00001")
        assert objects.names("backups") == []
    finally:
        db.dispose()
