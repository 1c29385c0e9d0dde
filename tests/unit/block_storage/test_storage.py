"""The LVM backends' bytes and the backups' objects are in the store: another process (a
second VolumeStore or ObjectStore on the same database) reads what one wrote, and a
restarted one finds it again, as a node's LVM and a swift keep theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

import stacklab.models  # noqa: F401  (every table)
from stacklab.block_storage.objectstore import ObjectStore
from stacklab.block_storage.storage import GIB, VolumeStore
from stacklab.store.base import PIECE
from stacklab.store.database import Database

LVM1 = "controller1.openstack.local@lvm"
LVM2 = "controller2.openstack.local@lvm"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'cinder.db'}")
    database.upgrade()
    return database


def test_a_volumes_bytes_are_read_by_every_process_and_outlive_one(db: Database) -> None:
    first = VolumeStore(db)
    first.write(LVM1, "v1", b"image bytes")
    first.write(LVM1, "v2", b"x" * 10)
    first.write(LVM2, "v3", b"")
    first.write(LVM1, "v2", b"rewritten")
    restarted = VolumeStore(db)
    assert restarted.read(LVM1, "v1") == b"image bytes"
    assert restarted.read(LVM1, "v2") == b"rewritten"
    assert restarted.read(LVM2, "v1") == b""  # another backend's volume is not here
    assert restarted.names(LVM1) == ["v1", "v2"] and restarted.names(LVM2) == ["v3"]
    assert restarted.used_bytes().get(LVM1) == len(b"image bytes") + len(b"rewritten")
    assert restarted.used_gb(LVM1) == 1 and restarted.used_gb(LVM2) == 0
    first.remove(LVM1, "v1")
    first.remove(LVM1, "gone")  # nothing there: nothing counted
    assert restarted.read(LVM1, "v1") == b"" and restarted.names(LVM1) == ["v2"]
    assert restarted.used_bytes().get(LVM1) == len(b"rewritten")
    db.dispose()


def test_the_callers_session_takes_the_write_with_its_own(db: Database) -> None:
    store = VolumeStore(db)
    with db.session() as session:
        store.write(LVM1, "v1", b"a" * (GIB // 1024), session=session)
        assert store.read(LVM1, "v1", session=session) == b"a" * (GIB // 1024)
    assert VolumeStore(db).read(LVM1, "v1") == b"a" * (GIB // 1024)
    db.dispose()


def test_a_backups_objects_are_one_store_for_every_cinder_backup(db: Database) -> None:
    one, other = ObjectStore(db), ObjectStore(db)
    one.put("volumebackups", "volume_1/az_nova_backup_1-00001", b"chunk")
    one.put("volumebackups", "volume_1/az_nova_backup_1_metadata", b"{}")
    one.put("other", "x", b"")
    assert other.get("volumebackups", "volume_1/az_nova_backup_1-00001") == b"chunk"
    assert other.names("volumebackups", "volume_1/az_nova_backup_1_") == [
        "volume_1/az_nova_backup_1_metadata"]
    assert other.containers() == ["other", "volumebackups"]
    other.delete("volumebackups", "volume_1/az_nova_backup_1-00001")
    with pytest.raises(KeyError):
        one.get("volumebackups", "volume_1/az_nova_backup_1-00001")
    db.dispose()


def test_bytes_over_one_piece_are_kept_whole(db: Database) -> None:
    """A value larger than one row may hold (store.base.PIECE) comes back whole, in
    order; the pool's use counts every piece once."""
    data = bytes(range(256)) * (PIECE // 256 * 2 + 3)
    volumes = VolumeStore(db)
    volumes.write(LVM1, "v1", data)
    assert volumes.read(LVM1, "v1") == data and volumes.names(LVM1) == ["v1"]
    assert volumes.used_bytes()[LVM1] == len(data)
    objects = ObjectStore(db)
    objects.put("c", "o", data)
    assert objects.get("c", "o") == data and objects.names("c") == ["o"]
    db.dispose()
