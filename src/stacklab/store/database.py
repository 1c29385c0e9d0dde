"""The store: one SQLAlchemy engine, sessions, and the schema brought to head.

SQLite in the state directory by default (``:memory:`` when ephemeral);
any SQLAlchemy URL (``mysql+pymysql://``, ``postgresql://``) is accepted.
A write acknowledged to a client has been committed here (principle 8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from stacklab.store.base import Base

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(state_dir: Path | None) -> str:
    if state_dir is None:
        return "sqlite://"
    return f"sqlite:///{state_dir / 'stacklab.db'}"


class DBConnectionError(Exception):
    """The database could not be reached, or refused the session (oslo.db's
    ``DBConnectionError``, which it raises for MySQL errors 2002, 2003, 2006, 2013 and
    1047: ODB oslo_db/sqlalchemy/exc_filters.py). ``code`` and ``message`` are MySQL's."""

    def __init__(self, code: int, sqlstate: str, message: str) -> None:
        super().__init__(f"(pymysql.err.OperationalError) ({code}, '{message}')")
        self.code = code
        self.sqlstate = sqlstate
        self.message = message


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        # Asked before each session (the lab's control plane: is there a way to a Galera
        # member that serves?); raises DBConnectionError when there is none.
        self.gate: Callable[[], None] | None = None
        kwargs: dict[str, Any] = {}
        self.is_memory = url in ("sqlite://", "sqlite:///:memory:")
        if self.is_memory:
            # One shared connection, or every session would see its own empty database.
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        elif url.startswith("sqlite"):
            kwargs = {"connect_args": {"check_same_thread": False}}
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back on error."""
        if self.gate is not None:
            self.gate()
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A transaction without the ORM, for the hot paths that only write a few columns
        (the services' heartbeats): the same gate, a third of a session's cost."""
        if self.gate is not None:
            self.gate()
        with self.engine.begin() as connection:
            yield connection

    def upgrade(self) -> None:
        """Bring the schema to the newest migration.

        A fresh in-memory database is created straight from the models (it
        has no history to migrate); a file or server database goes through
        Alembic so that state from older stacklab versions is carried over.
        The tables are those of the models imported so far: the cloud imports
        every service's (``stacklab.models``), the store itself knows none.
        """
        if self.is_memory:
            Base.metadata.create_all(self.engine)
            return
        from stacklab.store.migrate import upgrade_to_head

        upgrade_to_head(self.engine)

    def table_names(self) -> list[str]:
        return inspect(self.engine).get_table_names()

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with synchronous=NORMAL is durable against process crashes, which is
    # what a lab needs; FULL would add an fsync per commit for power loss.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
