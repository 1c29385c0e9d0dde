"""Statements every engine runs alike, and questions each engine asks in its own SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Row, Update, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


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


# -- questions of JSON columns, in each engine's own words --------------------------------
#
# SQLite reads a JSON value with json_each (a table-valued function MariaDB and PostgreSQL
# lack); MariaDB/MySQL ask JSON_CONTAINS; PostgreSQL asks jsonb's containment (@>) of the
# column cast to jsonb (the models' JSON columns are plain json there).


class json_array_has_any(FunctionElement[bool]):
    """``json_array_has_any(column, v1, v2 ...)``: the JSON list in ``column`` holds one of
    the strings given (at least one must be given)."""

    type = Boolean()
    inherit_cache = True
    name = "json_array_has_any"


class json_object_has(FunctionElement[bool]):
    """``json_object_has(column, key, value)``: the JSON object in ``column`` maps ``key``
    (any characters, quotes too: no JSON path is built) to the string ``value``."""

    type = Boolean()
    inherit_cache = True
    name = "json_object_has"


def _parts(element: FunctionElement[Any], compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(json_array_has_any)
def _array_sqlite(element: json_array_has_any, compiler: Any, **kw: Any) -> str:
    column, *values = _parts(element, compiler, **kw)
    return (f"EXISTS (SELECT 1 FROM json_each({column}) "
            f"WHERE json_each.value IN ({', '.join(values)}))")


@compiles(json_array_has_any, "mysql")
@compiles(json_array_has_any, "mariadb")
def _array_mysql(element: json_array_has_any, compiler: Any, **kw: Any) -> str:
    column, *values = _parts(element, compiler, **kw)
    return "(" + " OR ".join(f"JSON_CONTAINS({column}, JSON_QUOTE({value}))"
                             for value in values) + ")"


@compiles(json_array_has_any, "postgresql")
def _array_postgresql(element: json_array_has_any, compiler: Any, **kw: Any) -> str:
    column, *values = _parts(element, compiler, **kw)
    return "(" + " OR ".join(f"CAST({column} AS JSONB) @> jsonb_build_array(CAST({value} AS TEXT))"
                             for value in values) + ")"


@compiles(json_object_has)
def _object_sqlite(element: json_object_has, compiler: Any, **kw: Any) -> str:
    column, key, value = _parts(element, compiler, **kw)
    return (f"EXISTS (SELECT 1 FROM json_each({column}) "
            f"WHERE json_each.key = {key} AND json_each.value = {value})")


@compiles(json_object_has, "mysql")
@compiles(json_object_has, "mariadb")
def _object_mysql(element: json_object_has, compiler: Any, **kw: Any) -> str:
    column, key, value = _parts(element, compiler, **kw)
    return f"JSON_CONTAINS({column}, JSON_OBJECT({key}, {value}))"


@compiles(json_object_has, "postgresql")
def _object_postgresql(element: json_object_has, compiler: Any, **kw: Any) -> str:
    column, key, value = _parts(element, compiler, **kw)
    return (f"CAST({column} AS JSONB) @> "
            f"jsonb_build_object(CAST({key} AS TEXT), CAST({value} AS TEXT))")
