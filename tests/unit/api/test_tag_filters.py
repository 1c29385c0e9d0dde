"""The tag filters, asked in memory and in SQL: the same answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import JSON, Column, MetaData, String, Table, create_engine, select
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from stacklab.api.tag_filters import TagFilter

TAGGED = {"p0": ["t0", "all"], "p1": ["t1", "all"], "p2": ["t2"], "p3": ["t0", "all", "x"],
          "p4": []}
METADATA = MetaData()
TABLE = Table("tagged", METADATA, Column("id", String, primary_key=True),
              Column("tags", JSON))


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    METADATA.create_all(engine)
    with Session(engine) as session:
        session.execute(TABLE.insert(), [{"id": k, "tags": v} for k, v in TAGGED.items()])
        yield session


CASES = [
    ("tags=t0,all", ["p0", "p3"]),
    ("tags=t0&tags=x", ["p3"]),
    ("tags-any=t1,t2", ["p1", "p2"]),
    ("tags-any=", []),
    ("tags=", ["p0", "p1", "p2", "p3", "p4"]),
    ("not-tags=t0,all", ["p1", "p2", "p4"]),
    ("not-tags=", ["p0", "p1", "p2", "p3", "p4"]),
    ("not-tags-any=t0,t1", ["p2", "p4"]),
    ("tags=all&not-tags-any=x", ["p0", "p1"]),
    ("name=p0", ["p0", "p1", "p2", "p3", "p4"]),
]


@pytest.mark.parametrize(("text", "wanted"), CASES)
def test_in_memory(text: str, wanted: list[str]) -> None:
    tags = TagFilter.read(QueryParams(text), repeatable=True)
    assert [k for k, v in TAGGED.items() if tags.matches(v)] == wanted


@pytest.mark.parametrize(("text", "wanted"), CASES)
def test_in_sql(session: Session, text: str, wanted: list[str]) -> None:
    tags = TagFilter.read(QueryParams(text), repeatable=True)
    found = session.scalars(select(TABLE.c.id).where(*tags.conditions(TABLE.c.tags))
                            .order_by(TABLE.c.id))
    assert list(found) == wanted


def test_repeats_are_read_by_neutron_and_the_last_one_by_nova() -> None:
    query = QueryParams("tags=a,b&tags=c&not-tags-any=z")
    assert TagFilter.read(query, repeatable=True) == TagFilter(all_of=("a", "b", "c"),
                                                               not_any_of=("z",))
    assert TagFilter.read(query, repeatable=False) == TagFilter(all_of=("c",),
                                                                not_any_of=("z",))


def test_what_a_filter_asks() -> None:
    assert not TagFilter.read(QueryParams("name=x"), repeatable=True)
    assert TagFilter.read(QueryParams("not-tags=a"), repeatable=True)
    assert not TagFilter.read(QueryParams("not-tags=a"), repeatable=True).wants_tags
    assert TagFilter.read(QueryParams("tags-any="), repeatable=True).wants_tags
