"""Named locks held until a transaction ends: what makes a check and the write that
follows it one step across processes (a quota's count and the new row, the next free
address and its allocation).

A check-then-insert in one process is atomic on the event loop; two processes (or two
API workers) sharing a server database could both pass the check. ``serialize`` takes a
lock on a name (``quota:<project>:network``) that every such step takes first, so the
second waits for the first to commit and then counts its row. Many resources have no row
to ``SELECT ... FOR UPDATE`` (a project's first network, a quota never set), hence a
named lock rather than a row lock:

- PostgreSQL: ``pg_advisory_xact_lock``, released by the server at commit or rollback;
- MariaDB/MySQL: ``GET_LOCK``, held by the connection, released when the pool takes the
  connection back (after its commit or rollback) or when the connection closes. Galera
  does not replicate GET_LOCK: on a multi-writer cluster only the unique keys (and the
  retries of what they refuse) hold; the lab's HAProxy sends all writes to one member,
  as the course's does, where it holds.
- SQLite: nothing to do; the embedded store belongs to one process.

The engine must read committed rows at each statement (READ COMMITTED, database.py) so
that what the lock's last holder wrote is seen once the lock is had.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from stacklab.store.errors import DBDeadlock

# How long MySQL waits for a named lock (InnoDB's innodb_lock_wait_timeout default); a
# lock not had by then is a DBDeadlock, retried as one.
MYSQL_LOCK_WAIT = 50
_HELD = "stacklab_named_locks"


def _digest(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def serialize(session: Session, name: str) -> None:
    """Wait for, then hold until ``session``'s transaction ends, the lock on ``name``."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "mysql"):
        return  # SQLite: the embedded store, one process (and no connection asked for)
    connection = session.connection()
    if dialect == "postgresql":
        key = int.from_bytes(_digest(name)[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif dialect == "mysql":
        # A lock name is at most 64 characters; the digest keeps long names apart.
        lock = "stacklab." + _digest(name).hex()[:48]
        got = connection.execute(text("SELECT GET_LOCK(:name, :wait)"),
                                 {"name": lock, "wait": MYSQL_LOCK_WAIT}).scalar()
        if got != 1:
            raise DBDeadlock(f"Lock wait timeout exceeded on named lock {name!r}")
        connection.info[_HELD] = True


def install(engine: Engine) -> None:
    """Release a MySQL connection's named locks when the pool takes it back."""
    if engine.dialect.name != "mysql":
        return

    @event.listens_for(engine, "checkin")
    def _release(dbapi_connection: Any, record: Any) -> None:
        if record is None or not record.info.pop(_HELD, False) or dbapi_connection is None:
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT RELEASE_ALL_LOCKS()")
        finally:
            cursor.close()
