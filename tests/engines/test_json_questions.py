"""The questions asked of JSON columns (tag filters, a port's security groups, an image's
properties) on SQLite, MariaDB and PostgreSQL alike: each engine answers them in its own
SQL (store/sql.py), the same rows match."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, create_engine, not_, select
from sqlalchemy.engine import Engine

from stacklab.api.tag_filters import TagFilter
from stacklab.store.sql import json_array_has_any, json_object_has
from support.engines import scratch_database

ROWS = [
    (1, ["red", "blue"], {"os_distro": "cirros", "it's": 'a "quoted" key'}),
    (2, ["blue"], {"os_distro": "ubuntu"}),
    (3, [], {}),
    (4, ["o'neil", 'say "hi"', "ü"], {"key with spaces": "x", "ключ": "значение"}),
]
metadata = MetaData()
things = Table("json_things", metadata, Column("id", Integer, primary_key=True),
               Column("tags", JSON), Column("properties", JSON))


@pytest.fixture(params=["sqlite", "mysql", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Engine]:
    def filled(url: str) -> Engine:
        made = create_engine(url)
        metadata.create_all(made)
        with made.begin() as connection:
            connection.execute(things.insert(), [
                {"id": i, "tags": tags, "properties": props} for i, tags, props in ROWS])
        return made

    if request.param == "sqlite":
        made = filled(f"sqlite:///{tmp_path_factory.mktemp('json')}/json.db")
        yield made
        made.dispose()
        return
    with scratch_database(request.param) as url:
        made = filled(url)
        yield made
        made.dispose()


def ids(engine: Engine, *where: object) -> list[int]:
    with engine.connect() as connection:
        return sorted(connection.scalars(select(things.c.id).where(*where)))  # type: ignore[arg-type]


def test_a_list_holding_any_of_some_strings(engine: Engine) -> None:
    assert ids(engine, json_array_has_any(things.c.tags, "blue")) == [1, 2]
    assert ids(engine, json_array_has_any(things.c.tags, "red", "nothing")) == [1]
    assert ids(engine, json_array_has_any(things.c.tags, "o'neil")) == [4]
    assert ids(engine, json_array_has_any(things.c.tags, 'say "hi"')) == [4]
    assert ids(engine, json_array_has_any(things.c.tags, "ü")) == [4]
    assert ids(engine, not_(json_array_has_any(things.c.tags, "blue"))) == [3, 4]


def test_the_tag_filters_of_nova_neutron_and_keystone(engine: Engine) -> None:
    def matching(**given: tuple[str, ...]) -> list[int]:
        return ids(engine, *TagFilter(**given).conditions(things.c.tags))

    assert matching(all_of=("red", "blue")) == [1]
    assert matching(any_of=("red", "o'neil")) == [1, 4]
    assert matching(any_of=()) == []
    assert matching(not_all_of=("red", "blue")) == [2, 3, 4]
    assert matching(not_any_of=("blue",)) == [3, 4]


def test_an_object_mapping_a_key_to_a_string(engine: Engine) -> None:
    assert ids(engine, json_object_has(things.c.properties, "os_distro", "cirros")) == [1]
    assert ids(engine, json_object_has(things.c.properties, "os_distro", "cirr")) == []
    assert ids(engine, json_object_has(things.c.properties, "it's",
                                       'a "quoted" key')) == [1]
    assert ids(engine, json_object_has(things.c.properties, "key with spaces", "x")) == [4]
    assert ids(engine, json_object_has(things.c.properties, "missing", "x")) == []
    assert ids(engine, json_object_has(things.c.properties, "ключ", "значение")) == [4]
