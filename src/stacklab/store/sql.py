"""Statements every engine runs alike, and questions each engine asks in its own SQL."""

from __future__ import annotations

import json
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


class _JsonArrayHasAny(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True
    name = "json_array_has_any"


class _JsonObjectHas(FunctionElement[bool]):
    type = Boolean()
    inherit_cache = True
    name = "json_object_has"


def json_array_has_any(column: Any, *values: str) -> ColumnElement[bool]:
    """The JSON list in ``column`` holds one of the strings given (at least one)."""
    # Each string also as the column's serializer (json.dumps, its \\u escapes included)
    # writes it, for MariaDB, which compares a string's escapes as text ("\\u00fc" is not
    # "ü"): bound parameters both, so a cached statement takes the next call's values.
    return _JsonArrayHasAny(column, *values, *(json.dumps(value) for value in values))


def json_object_has(column: Any, key: str, value: str) -> ColumnElement[bool]:
    """The JSON object in ``column`` maps ``key`` (any characters, quotes too: no JSON path
    is built) to the string ``value``."""
    return _JsonObjectHas(column, key, value, json.dumps({key: value}))


def _parts(element: FunctionElement[Any], compiler: Any, **kw: Any) -> list[str]:
    return [compiler.process(clause, **kw) for clause in element.clauses]


@compiles(_JsonArrayHasAny)
def _array_sqlite(element: _JsonArrayHasAny, compiler: Any, **kw: Any) -> str:
    column, *both = _parts(element, compiler, **kw)
    values = both[:len(both) // 2]
    return (f"EXISTS (SELECT 1 FROM json_each({column}) "
            f"WHERE json_each.value IN ({', '.join(values)}))")


@compiles(_JsonArrayHasAny, "mysql")
@compiles(_JsonArrayHasAny, "mariadb")
def _array_mysql(element: _JsonArrayHasAny, compiler: Any, **kw: Any) -> str:
    column, *both = _parts(element, compiler, **kw)
    return "(" + " OR ".join(f"JSON_CONTAINS({column}, {stored})"
                             for stored in both[len(both) // 2:]) + ")"


@compiles(_JsonArrayHasAny, "postgresql")
def _array_postgresql(element: _JsonArrayHasAny, compiler: Any, **kw: Any) -> str:
    column, *both = _parts(element, compiler, **kw)
    return "(" + " OR ".join(
        f"CAST({column} AS JSONB) @> jsonb_build_array(CAST({value} AS TEXT))"
        for value in both[:len(both) // 2]) + ")"


@compiles(_JsonObjectHas)
def _object_sqlite(element: _JsonObjectHas, compiler: Any, **kw: Any) -> str:
    column, key, value, _ = _parts(element, compiler, **kw)
    return (f"EXISTS (SELECT 1 FROM json_each({column}) "
            f"WHERE json_each.key = {key} AND json_each.value = {value})")


@compiles(_JsonObjectHas, "mysql")
@compiles(_JsonObjectHas, "mariadb")
def _object_mysql(element: _JsonObjectHas, compiler: Any, **kw: Any) -> str:
    column, _, _, stored = _parts(element, compiler, **kw)
    return f"JSON_CONTAINS({column}, {stored})"


@compiles(_JsonObjectHas, "postgresql")
def _object_postgresql(element: _JsonObjectHas, compiler: Any, **kw: Any) -> str:
    column, key, value, _ = _parts(element, compiler, **kw)
    return (f"CAST({column} AS JSONB) @> "
            f"jsonb_build_object(CAST({key} AS TEXT), CAST({value} AS TEXT))")
