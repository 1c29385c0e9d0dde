"""The lab's Ceph objects in a server store (ha.cephstore), as the one-process-per-service
shape keeps them: two processes' models of the cluster share the objects, the degraded
counts and the recovery; an object larger than MariaDB's packet is kept in pieces; two
writes of one object at once leave one object."""

from __future__ import annotations

import os
import threading

import stacklab.models  # noqa: F401  (every table)
from stacklab.ha.cephstore import StoreObjects
from stacklab.store.database import Database
from unit.ha.test_cephstore import Lab, check_two_processes_share_the_cluster

# Over MariaDB's default max_allowed_packet (16 MiB), not a whole number of pieces.
LARGE = 17 * 1024 * 1024 + 12345


def test_two_processes_share_the_cluster_on_a_server_store(migrated_url: str) -> None:
    lab = Lab(migrated_url)
    try:
        for db in lab.dbs:  # a clean cluster for each engine's run of the module
            objects = StoreObjects(db)
            for pool, names in objects.catalog().sizes.items():
                for name in names:
                    objects.remove(pool, name)
        check_two_processes_share_the_cluster(lab)
    finally:
        lab.close()


def test_a_large_object_and_two_writers_at_once(migrated_url: str) -> None:
    dbs = [Database(migrated_url), Database(migrated_url)]
    try:
        first, second = (StoreObjects(db) for db in dbs)
        data = os.urandom(LARGE)
        first.write("images", "large", data, [1])
        assert second.read("images", "large") == data
        assert second.catalog().sizes["images"]["large"] == LARGE

        # Two processes writing one object at once: the named lock orders them, the
        # last one's bytes are the object (no duplicate key refused).
        errors: list[BaseException] = []

        def write(objects: StoreObjects, payload: bytes) -> None:
            try:
                for _ in range(5):
                    objects.write("images", "contended", payload, [0])
            except BaseException as error:  # reported by the test
                errors.append(error)

        threads = [threading.Thread(target=write, args=(objects, payload))
                   for objects, payload in ((first, b"a" * 100), (second, b"b" * 200))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert first.read("images", "contended") in (b"a" * 100, b"b" * 200)
        assert first.catalog().missing[0] >= {("images", "contended")}
        assert first.remove("images", "large") and first.remove("images", "contended")
    finally:
        for db in dbs:
            db.dispose()
