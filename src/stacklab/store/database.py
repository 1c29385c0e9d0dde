"""The store: one SQLAlchemy engine, sessions, and the schema brought to head.

SQLite in the state directory by default (``:memory:`` when ephemeral); MariaDB/MySQL
(``mysql+pymysql://``) and PostgreSQL (``postgresql+psycopg://``) through their extras
(docs/stores.md). A write acknowledged to a client has been committed here (principle 8).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from stacklab.store import errors, locks
from stacklab.store.base import Base
from stacklab.store.errors import DBConnectionError

__all__ = ["MIGRATIONS", "DBConnectionError", "Database", "DatabaseConfigError", "sqlite_url"]

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(state_dir: Path | None) -> str:
    if state_dir is None:
        return "sqlite://"
    return f"sqlite:///{state_dir / 'stacklab.db'}"


# The server engines: the DBAPI module each driver needs, and the extra that installs it.
DRIVERS = {
    ("mysql", "pymysql"): ("pymysql", "mysql"),
    ("postgresql", "psycopg"): ("psycopg", "postgresql"),
}
OPTION = "[database] connection"


class DatabaseConfigError(ValueError):
    """``[database] connection`` names a store stacklab cannot use: said at start, with
    the option to fix (a ValueError, as every bad option the cloud is built with)."""


def engine_options(url: str) -> dict[str, Any]:
    """create_engine's arguments for ``url`` beyond SQLite's (checked for a driver)."""
    try:
        parsed = make_url(url)
    except sa_exc.ArgumentError as exc:
        raise DatabaseConfigError(f"{OPTION}: {url!r} is not a database URL") from exc
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend == "sqlite":
        return {}
    known = DRIVERS.get((backend, driver))
    if known is None:
        choices = ", ".join(f"{b}+{d}://" for b, d in DRIVERS)
        raise DatabaseConfigError(
            f"{OPTION}: {backend}+{driver} is not a driver stacklab supports; use sqlite://, "
            f"{choices}")
    module, extra = known
    try:
        __import__(module)
    except ImportError as exc:
        raise DatabaseConfigError(
            f"{OPTION}: {backend}+{driver} needs the '{extra}' extra: "
            f"pip install 'stacklab[{extra}]'") from exc
    options: dict[str, Any] = {
        # A server may have dropped an idle connection (wait_timeout, a failover): test it
        # before use and recycle it hourly, as oslo.db's connection_recycle_time does.
        "pool_pre_ping": True,
        "pool_recycle": 3600,
    }
    if backend == "mysql":
        # Each statement sees what was committed before it, as on PostgreSQL: InnoDB's
        # default REPEATABLE READ would keep a transaction's first snapshot, so a count
        # taken after a lock (store.locks) could miss the rows the lock's last holder wrote.
        options["isolation_level"] = "READ COMMITTED"
        if "charset" not in parsed.query:
            # 4-byte UTF-8 (names with emoji), as oslo.db asks for with ?charset=utf8.
            options["connect_args"] = {"charset": "utf8mb4"}
    return options


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
        else:
            kwargs = engine_options(url)
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            errors.install(self.engine)
            locks.install(self.engine)
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

    def check(self) -> None:
        """Connect once, so that a server that cannot be reached or refuses the
        credentials is said at start, naming the option, rather than at the first
        request. Raises DatabaseConfigError."""
        shown = make_url(self.url).render_as_string(hide_password=True)
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (DBConnectionError, sa_exc.DBAPIError) as exc:
            reason = exc.message if isinstance(exc, DBConnectionError) else str(
                getattr(exc, "orig", exc))
            raise DatabaseConfigError(
                f"{OPTION}: cannot use {shown}: {' '.join(reason.split())}") from exc

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
