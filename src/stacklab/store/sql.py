"""Statements every engine runs alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Update, select
from sqlalchemy.engine import Connection


def update_returning(conn: Connection, statement: Update, columns: Sequence[Any],
                     locate: ColumnElement[bool]) -> Row[Any] | None:
    """``statement``'s updated row's ``columns`` (None when it updated none), in one
    statement where the engine has UPDATE ... RETURNING (SQLite, PostgreSQL) and as an
    update then a read of the row ``locate`` finds on MariaDB/MySQL, which have none; the
    read is in the same transaction, after the update took the row's lock."""
    if conn.dialect.update_returning:
        return conn.execute(statement.returning(*columns)).first()
    if conn.execute(statement).rowcount == 0:
        return None
    return conn.execute(select(*columns).where(locate)).first()
