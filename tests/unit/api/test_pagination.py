"""The one list mechanism (limit, marker, sort, links) and each service's dialect of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.pagination import (
    Dialect,
    Glance,
    Neutron,
    Nova,
    PageRequest,
    Window,
    next_link,
    page_items,
    page_query,
    sort_items,
)

NOVA = Nova()
NEUTRON = Neutron()
GLANCE = Glance(max_limit=50, default_limit=3)

ITEMS: list[dict[str, Any]] = [
    {"id": "a", "name": "web", "size": 3},
    {"id": "b", "name": "db", "size": 1},
    {"id": "c", "name": "web", "size": None},
    {"id": "d", "name": "cache", "size": 2},
    {"id": "e", "name": "queue", "size": 10},
]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def item_id(item: dict[str, Any]) -> str:
    return str(item["id"])


def q(text: str) -> QueryParams:
    return QueryParams(text)


def request(dialect: Dialect, text: str, sortable: set[str] | None = None) -> PageRequest:
    return dialect.request(q(text), sortable)


def page(dialect: Dialect, text: str, items: list[dict[str, Any]] = ITEMS
         ) -> Window[dict[str, Any]]:
    return page_items(items, request(dialect, text), dialect, id_of=item_id)


def links(dialect: Dialect, window: Window[Any], text: str) -> dict[str, Any]:
    return dialect.links(window, query=q(text), url="http://cloud/x/items", collection="items",
                         id_of=item_id)


def query_of(href: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(href).query)


# -- nova ----------------------------------------------------------------------------------


def test_nova_limit_defaults_to_and_is_capped_by_max_limit() -> None:
    assert request(NOVA, "").limit == 1000
    assert request(NOVA, "limit=5000").limit == 1000
    assert request(Nova(max_limit=20), "limit=50").limit == 20
    assert request(NOVA, "limit=0").limit == 0


@pytest.mark.parametrize(("text", "message"), [
    ("limit=x", "Invalid input for query parameter limit: 'x' is not an integer"),
    ("limit=-1", "Invalid input for query parameter limit: -1 is less than 0")])
def test_nova_refuses_a_bad_limit(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        request(NOVA, text)
    assert caught.value.message == message


def test_nova_sort_keys_pair_with_their_directions_and_default_to_descending() -> None:
    sort = request(NOVA, "sort_key=name&sort_dir=asc&sort_key=size", {"name", "size"}).sort
    assert sort == (("name", "asc"), ("size", "desc"))


@pytest.mark.parametrize(("text", "message"), [
    ("sort_key=password", "Invalid sort_key password"),
    ("sort_key=name&sort_dir=up", "Invalid sort_dir up"),
    ("sort_key=host", "Only administrators can sort servers by host")])
def test_nova_sort_errors(text: str, message: str) -> None:
    def refuse(key: str) -> Exception | None:
        return BadRequest(f"Only administrators can sort servers by {key}") \
            if key == "host" else None
    with pytest.raises(BadRequest) as caught:
        NOVA.request(q(text), {"name", "host"}, refuse=refuse)
    assert caught.value.message == message


def test_nova_flavors_sort_a_key_without_direction_ascending() -> None:
    flavors = Nova(default_dir="asc")
    assert flavors.request(q("sort_key=memory_mb"), None).sort == (("memory_mb", "asc"),)


def test_nova_default_sort_applies_without_sort_keys() -> None:
    default = (("name", "asc"),)
    assert NOVA.request(q(""), None, default_sort=default).sort == default
    assert NOVA.request(q("sort_key=size"), None, default_sort=default).sort == \
        (("size", "desc"),)


def test_nova_unknown_marker_is_a_400() -> None:
    with pytest.raises(BadRequest) as caught:
        page(NOVA, "marker=zzz")
    assert caught.value.message == "marker [zzz] not found"


def test_nova_links_a_full_page_even_when_nothing_follows() -> None:
    full = page(NOVA, "limit=2&marker=c")
    assert ids(full.items) == ["d", "e"] and not full.more
    body = links(NOVA, full, "limit=2&marker=c&name=web")
    assert list(body) == ["items_links"]
    [link] = body["items_links"]
    assert link["rel"] == "next"
    assert query_of(link["href"]) == [("limit", "2"), ("name", "web"), ("marker", "e")]
    assert link["href"].startswith("http://cloud/x/items?")


def test_nova_gives_no_link_for_a_short_or_empty_page() -> None:
    assert links(NOVA, page(NOVA, "limit=3&marker=c"), "limit=3&marker=c") == {}
    assert links(NOVA, page(NOVA, "limit=0"), "limit=0") == {}
    assert links(NOVA, page(NOVA, ""), "") == {}


# -- neutron -------------------------------------------------------------------------------


def test_neutron_pages_only_when_asked() -> None:
    whole = page(NEUTRON, "marker=zzz")  # without a limit the marker is not even looked up
    assert ids(whole.items) == ids(ITEMS)
    assert links(NEUTRON, whole, "") == {}


@pytest.mark.parametrize(("text", "limit"), [("limit=2", 2), ("limit=0", 1000),
                                             ("limit=-4", 1000), ("limit=99999", 1000)])
def test_neutron_limit_of_zero_or_less_is_the_largest_page(text: str, limit: int) -> None:
    assert request(NEUTRON, text).limit == limit


def test_neutron_refuses_a_non_integer_limit() -> None:
    with pytest.raises(BadRequest) as caught:
        request(NEUTRON, "limit=x")
    assert caught.value.message == "Invalid input for operation: 'x' is not an integer."


@pytest.mark.parametrize(("text", "message"), [
    ("sort_key=name", "The number of sort_keys and sort_dirs must be same"),
    ("sort_key=bogus&sort_dir=asc&sort_key=nope&sort_dir=asc",
     "['bogus', 'nope'] is invalid attribute for sort_keys"),
    ("sort_key=name&sort_dir=up",
     "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'"),
    # The sort is checked before the limit.
    ("sort_key=name&limit=x", "The number of sort_keys and sort_dirs must be same")])
def test_neutron_sort_errors(text: str, message: str) -> None:
    with pytest.raises(ApiError) as caught:
        request(NEUTRON, text, {"name"})
    assert (caught.value.status, caught.value.kind, caught.value.message) == \
        (400, "HTTPBadRequest", message)


def test_neutron_accepts_any_key_when_the_attributes_are_unknown() -> None:
    assert request(NEUTRON, "sort_key=x&sort_dir=asc").sort == (("x", "asc"),)


def test_neutron_unknown_marker_is_a_404() -> None:
    with pytest.raises(ApiError) as caught:
        page(NEUTRON, "limit=2&marker=zzz")
    assert (caught.value.status, caught.value.kind, caught.value.message) == \
        (404, "NotFound", "Marker zzz could not be found.")


def test_neutron_links_forward_and_back() -> None:
    text = "limit=2&sort_key=id&sort_dir=asc"
    first = page(NEUTRON, text)
    assert ids(first.items) == ["a", "b"]
    body = links(NEUTRON, first, text)
    rels = {link["rel"]: query_of(link["href"]) for link in body["items_links"]}
    assert rels["next"] == [("limit", "2"), ("sort_key", "id"), ("sort_dir", "asc"),
                            ("marker", "b")]
    assert rels["previous"] == [("limit", "2"), ("sort_key", "id"), ("sort_dir", "asc"),
                                ("marker", "a"), ("page_reverse", "True")]
    last = page(NEUTRON, f"{text}&marker=d")
    assert ids(last.items) == ["e"]
    assert [link["rel"] for link in links(NEUTRON, last, text)["items_links"]] == ["previous"]


def test_neutron_walks_back_with_page_reverse() -> None:
    text = "limit=2&sort_key=id&sort_dir=asc&page_reverse=True"
    assert ids(page(NEUTRON, f"{text}&marker=e").items) == ["c", "d"]
    start = page(NEUTRON, f"{text}&marker=b")
    assert ids(start.items) == ["a"]
    assert [link["rel"] for link in links(NEUTRON, start, text)["items_links"]] == ["next"]
    assert ids(page(NEUTRON, text).items) == ["d", "e"]  # no marker: the end


def test_neutron_sorts_what_it_shows_as_text() -> None:
    window = page(NEUTRON, "limit=10&sort_key=size&sort_dir=asc")
    assert ids(window.items) == ["c", "b", "e", "d", "a"]  # "10" before "2"


# -- glance --------------------------------------------------------------------------------


def test_glance_limit_defaults_and_caps() -> None:
    assert request(GLANCE, "").limit == 3
    assert request(GLANCE, "limit=500").limit == 50


@pytest.mark.parametrize(("text", "message"), [
    ("limit=ten", "Invalid input for field 'limit': 'ten' is not an integer"),
    ("limit=-1", "Invalid input for field 'limit': must be >= 0"),
    ("sort_key=name&sort_dir=up", "Invalid sort direction: 'up'; use 'asc' or 'desc'"),
    ("sort=name:DESC", "Invalid sort direction: 'DESC'; use 'asc' or 'desc'"),
    ("sort=password:asc", "Invalid sort key: 'password'")])
def test_glance_errors(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        request(GLANCE, text, {"name", "size"})
    assert caught.value.message == message


def test_glance_sort_forms() -> None:
    assert request(GLANCE, "sort_key=name&sort_key=size&sort_dir=asc").sort == \
        (("name", "asc"), ("size", "asc"))
    assert request(GLANCE, "sort_key=name").sort == (("name", "desc"),)
    assert request(GLANCE, "sort=name:desc,size").sort == (("name", "desc"), ("size", "asc"))


def test_glance_unknown_marker_is_a_400() -> None:
    with pytest.raises(BadRequest) as caught:
        page(GLANCE, "marker=zzz")
    assert caught.value.message == "Invalid marker. Image zzz could not be found."


def test_glance_links_next_only_while_images_follow() -> None:
    first = page(GLANCE, "limit=2")
    assert links(GLANCE, first, "limit=2&marker=q") == {
        "next": "http://cloud/x/items?limit=2&marker=b"}
    assert links(GLANCE, page(GLANCE, "limit=2&marker=c"), "limit=2") == {}


# -- in memory -----------------------------------------------------------------------------


def test_sort_puts_none_first_and_keeps_its_input() -> None:
    before = ids(ITEMS)
    result = sort_items(ITEMS, (("size", "asc"),), NOVA, lambda i, k: i.get(k))
    assert ids(result) == ["c", "b", "d", "a", "e"]
    assert ids(sort_items(ITEMS, (("name", "desc"), ("id", "desc")), NOVA,
                          lambda i, k: i.get(k))) == ["c", "a", "e", "b", "d"]
    assert ids(ITEMS) == before


def test_walking_every_page_visits_every_item_once() -> None:
    seen: list[str] = []
    marker = ""
    while True:
        window = page(GLANCE, f"limit=2&sort=size:desc,id{marker}")
        seen += ids(window.items)
        if not window.more:
            break
        marker = f"&marker={window.items[-1]['id']}"
    assert seen == ["e", "a", "d", "b", "c"]


def test_next_link_keeps_repeated_parameters() -> None:
    link = next_link("http://cloud/v2/images", q("sort_key=a&sort_key=b&marker=x"), "y")
    assert parse_qs(urlsplit(link).query) == {"sort_key": ["a", "b"], "marker": ["y"]}


# -- in SQL --------------------------------------------------------------------------------


METADATA = MetaData()
TABLE = Table("items", METADATA, Column("seq", Integer, primary_key=True),
              Column("id", String), Column("name", String), Column("size", Integer))


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    METADATA.create_all(engine)
    with Session(engine) as session:
        session.execute(TABLE.insert(), [dict(item, seq=n) for n, item in enumerate(ITEMS)])
        yield session


def sql_page(session: Session, dialect: Dialect, text: str) -> Window[Any]:
    wanted = dialect.request(q(text), {"id", "name", "size"})
    order = [TABLE.c[key].desc() if direction == "desc" else TABLE.c[key].asc()
             for key, direction in wanted.sort] + [TABLE.c.seq]
    return page_query(session, select(TABLE).where(TABLE.c.name != "db"), id_column=TABLE.c.id,
                      order=order, request=wanted, dialect=dialect)


@pytest.mark.parametrize("text", [
    "limit=2", "limit=2&marker=a", "limit=2&marker=d", "limit=10&marker=c",
    "limit=2&sort_key=size&sort_dir=desc", "limit=1&marker=a&sort_key=name&sort_dir=asc",
    "limit=2&marker=e&page_reverse=True", "limit=2&page_reverse=True",
    "limit=3&marker=c&page_reverse=True", ""])
def test_a_page_cut_in_sql_is_the_page_cut_in_memory(session: Session, text: str) -> None:
    shown = [i for i in ITEMS if i["name"] != "db"]
    in_sql = sql_page(session, NEUTRON, text)
    # sqlite sorts NULL first ascending, as the in-memory sort does with native values.
    in_memory = page_items(shown, NEUTRON.request(q(text), None), NOVA, id_of=item_id)
    assert [r.id for r in in_sql.items] == ids(in_memory.items)
    assert in_sql.more == in_memory.more


def test_sql_marker_must_be_in_the_filtered_collection(session: Session) -> None:
    with pytest.raises(ApiError, match=r"Marker b could not be found\."):
        sql_page(session, NEUTRON, "limit=2&marker=b")  # "db" is filtered out
    with pytest.raises(BadRequest, match=r"marker \[b\] not found"):
        sql_page(session, NOVA, "marker=b")


def test_sql_nova_page_stops_at_the_limit(session: Session) -> None:
    window = sql_page(session, NOVA, "limit=2&marker=c")
    assert [r.id for r in window.items] == ["d", "e"] and not window.more
    body = NOVA.links(window, query=q("limit=2"), url="http://cloud/x/items",
                      collection="items", id_of=lambda row: row.id)
    assert body["items_links"][0]["href"] == "http://cloud/x/items?limit=2&marker=e"
