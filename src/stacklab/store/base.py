"""The declarative base every service's tables derive from (one metadata, one migration tree)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Float, LargeBinary, MetaData
from sqlalchemy.dialects.mysql import LONGBLOB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations work on SQLite, MariaDB and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Bytes of any size: MariaDB's BLOB holds 64 KiB only, so a LONGBLOB there (PostgreSQL's
# bytea and SQLite's BLOB have no such limit).
BYTES = LargeBinary().with_variant(LONGBLOB(), "mysql")
# What one row of BYTES holds at most where the value can be large (a volume's bytes, a
# backup's object): a statement must fit MariaDB's max_allowed_packet (16 MiB by default,
# 4 MiB on older MySQL), so larger values are kept as numbered pieces.
PIECE = 1 << 20


def pieces(data: bytes) -> list[bytes]:
    """``data`` as rows of at most ``PIECE`` bytes; no bytes is one empty row (the entry
    is there, empty)."""
    view = bytes(data)
    return [view[i:i + PIECE] for i in range(0, len(view), PIECE)] or [b""]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, list[str]: JSON}


@compiles(Float, "mysql")
def _mysql_float(type_: Float[Any], compiler: Any, **kw: Any) -> str:
    """A Float is a DOUBLE on MariaDB/MySQL, as on PostgreSQL (double precision) and
    SQLite (REAL, 8 bytes): MySQL's FLOAT has 4 bytes, which would round the stores' epoch
    stamps (last seen up, updated at) to about two minutes and show every service down.
    In the migrations too, as they create their columns through the same types."""
    if type_.precision is None:
        return "DOUBLE"
    return str(compiler.visit_float(type_, **kw))


def fits_bigint(value: int) -> bool:
    """Whether an integer key can be asked of the store at all: beyond a 64-bit column no
    row can match (MySQL finds none, as nova's does), and SQLite refuses the parameter."""
    return -(2**63) <= value < 2**63
