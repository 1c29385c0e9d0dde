"""The tag filters in SQL on MariaDB and PostgreSQL: the same answers as in memory and on
SQLite (tests/unit/api/test_tag_filters.py's cases). MariaDB has no ``json_each``: before
the filter was compiled per engine, every one of these was a syntax error (1064), and so
was deleting a security group (neutron asks which ports use it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import JSON, Column, MetaData, String, Table, select
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from stacklab.api.tag_filters import TagFilter, has_any
from stacklab.store.database import Database
from unit.api.test_tag_filters import CASES, TAGGED

QUOTED = 'a "quoted" tag'
METADATA = MetaData()
TABLE = Table("tagged", METADATA, Column("id", String(8), primary_key=True),
              Column("tags", JSON))


@pytest.fixture
def session(empty_url: str) -> Iterator[Session]:
    engine = Database(empty_url).engine  # the store's own engine (utf8mb4 on MariaDB)
    METADATA.create_all(engine)
    with Session(engine) as session:
        session.execute(TABLE.insert(), [{"id": k, "tags": v} for k, v in TAGGED.items()])
        session.execute(TABLE.insert(), [{"id": "q", "tags": [QUOTED, "ü"]}])
        yield session



def _ids(session: Session, *where: object) -> list[str]:
    return list(session.scalars(select(TABLE.c.id).where(*where)  # type: ignore[arg-type]
                                .order_by(TABLE.c.id)))


def test_the_filters_answer_as_in_memory(session: Session) -> None:
    for text, wanted in CASES:
        tags = TagFilter.read(QueryParams(text), repeatable=True)
        expected = wanted + (["q"] if tags.matches([QUOTED, "ü"]) else [])
        assert _ids(session, *tags.conditions(TABLE.c.tags)) == expected, text


def test_any_of_takes_quotes_and_non_ascii_as_they_are(session: Session) -> None:
    assert _ids(session, has_any(TABLE.c.tags, [QUOTED])) == ["q"]
    assert _ids(session, has_any(TABLE.c.tags, ["ü", "t2"])) == ["p2", "q"]
    assert _ids(session, has_any(TABLE.c.tags, ["a"])) == []
