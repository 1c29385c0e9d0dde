"""What a database server's errors mean to the services, as oslo.db's exception filters
sort them (oslo_db/sqlalchemy/exc_filters.py): a lost or refused connection, a deadlock
(which Galera's certification failures surface as, MySQL 1213), a duplicate key. The
engine translates its driver's errors into these, so the services and the API's retries
speak of one kind of error whatever the engine.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine


class DBConnectionError(Exception):
    """The database could not be reached, or refused the session (oslo.db's
    ``DBConnectionError``, which it raises for MySQL errors 2002, 2003, 2006, 2013 and
    1047: ODB oslo_db/sqlalchemy/exc_filters.py). ``code`` and ``message`` are MySQL's
    (0 and the server's words when the engine is another)."""

    def __init__(self, code: int, sqlstate: str, message: str) -> None:
        super().__init__(f"(pymysql.err.OperationalError) ({code}, '{message}')")
        self.code = code
        self.sqlstate = sqlstate
        self.message = message


class DBDeadlock(Exception):
    """The transaction lost a lock conflict and was rolled back (MySQL 1213 and 1205,
    Galera's certification failure, PostgreSQL's 40P01 and its serialization failure
    40001): running it again is safe, and oslo.db's ``wrap_db_retry`` does."""


class DBDuplicateEntry(Exception):
    """A unique key refused the row (MySQL 1062, PostgreSQL 23505, SQLite's UNIQUE
    constraint): another transaction took the name, the address or the VRID first."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


# MySQL's client and server codes for "no connection": can't connect (2002 socket, 2003
# TCP), gone away (2006), lost (2013), Galera's "WSREP has not yet prepared node" (1047),
# and access denied (1045), which oslo.db reports the same way at start.
_MYSQL_CONNECTION = {2002, 2003, 2006, 2013, 1047, 1045}
_MYSQL_DEADLOCK = {1213, 1205}
_MYSQL_DUPLICATE = 1062
_PG_DEADLOCK = {"40P01", "40001"}
_PG_DUPLICATE = "23505"


def _mysql_code(original: BaseException) -> int | None:
    args = getattr(original, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def translate(error: BaseException, dialect: str, *, connection_lost: bool = False) -> \
        Exception | None:
    """The oslo.db error ``error`` (a DBAPI error as SQLAlchemy wraps it) stands for, or
    None when it is none of those."""
    original = getattr(error, "orig", None) or error
    text = str(original)
    if dialect == "mysql":
        code = _mysql_code(original)
        if code in _MYSQL_CONNECTION:
            return DBConnectionError(code, "HY000", str(original.args[1]) if len(
                getattr(original, "args", ())) > 1 else text)
        if code in _MYSQL_DEADLOCK:
            return DBDeadlock(text)
        if code == _MYSQL_DUPLICATE:
            return DBDuplicateEntry(text)
        return None
    if dialect == "postgresql":
        sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
        if sqlstate in _PG_DEADLOCK:
            return DBDeadlock(text)
        if sqlstate == _PG_DUPLICATE:
            return DBDuplicateEntry(text)
        if connection_lost or (sqlstate or "").startswith("08") or \
                (isinstance(error, sa_exc.OperationalError) and sqlstate in (None, "28P01",
                                                                            "28000", "3D000")):
            return DBConnectionError(0, sqlstate or "08006", text.strip())
        return None
    if dialect == "sqlite" and isinstance(error, sa_exc.IntegrityError) and \
            "UNIQUE constraint failed" in text:
        return DBDuplicateEntry(text)
    return None


def install(engine: Engine) -> None:
    """Translate ``engine``'s errors as they are raised (SQLAlchemy's ``handle_error``)."""

    @event.listens_for(engine, "handle_error")
    def _handle(context: Any) -> Exception | None:
        if context.is_pre_ping:
            # The pool's test of an idle connection: SQLAlchemy reconnects when it finds
            # it gone, which a translated error would stop.
            return None
        return translate(context.sqlalchemy_exception or context.original_exception,
                         engine.dialect.name,
                         connection_lost=bool(context.is_disconnect))
