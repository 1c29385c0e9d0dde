"""Limit/marker pagination, sorting and filtering shared by the list APIs."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.datastructures import QueryParams

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.pagination import (
    PageRequest,
    filter_items,
    next_link,
    page_request,
    paginate,
    sort_items,
)

ITEMS: list[dict[str, Any]] = [
    {"id": "a", "name": "web", "size": 3, "enabled": True},
    {"id": "b", "name": "db", "size": 1, "enabled": False},
    {"id": "c", "name": "web", "size": None, "enabled": True},
    {"id": "d", "name": "cache", "size": 2, "enabled": False},
]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# -- page_request --------------------------------------------------------------------------


def test_no_parameters_gives_an_open_request() -> None:
    assert page_request(QueryParams("")) == PageRequest(limit=None, marker=None, sort=())


def test_limit_and_marker_are_read() -> None:
    page = page_request(QueryParams("limit=5&marker=abc"))
    assert page.limit == 5
    assert page.marker == "abc"


@pytest.mark.parametrize("raw", ["abc", "1.5", "", "ten"])
def test_a_non_integer_limit_is_400_naming_limit(raw: str) -> None:
    with pytest.raises(BadRequest, match="field 'limit'"):
        page_request({"limit": raw})


def test_a_negative_limit_is_400() -> None:
    with pytest.raises(BadRequest, match="'limit': must be >= 0"):
        page_request(QueryParams("limit=-1"))


def test_limit_is_capped_at_max_limit() -> None:
    assert page_request(QueryParams("limit=5000")).limit == 1000
    assert page_request(QueryParams("limit=50"), max_limit=20).limit == 20
    assert page_request(QueryParams("limit=10"), max_limit=20).limit == 10


def test_repeated_sort_key_and_sort_dir_pair_up_in_order() -> None:
    query = QueryParams("sort_key=name&sort_dir=asc&sort_key=size&sort_dir=desc")
    assert page_request(query).sort == (("name", "asc"), ("size", "desc"))


def test_one_sort_dir_applies_to_every_sort_key() -> None:
    query = QueryParams("sort_key=name&sort_key=size&sort_dir=asc")
    assert page_request(query).sort == (("name", "asc"), ("size", "asc"))


def test_sort_key_without_sort_dir_is_descending() -> None:
    # nova's and glance's default sort direction.
    assert page_request(QueryParams("sort_key=name")).sort == (("name", "desc"),)


def test_a_plain_mapping_gives_one_sort_key() -> None:
    assert page_request({"sort_key": "name", "sort_dir": "asc"}).sort == (("name", "asc"),)


def test_combined_sort_form() -> None:
    page = page_request(QueryParams("sort=name:desc,size"))
    assert page.sort == (("name", "desc"), ("size", "asc"))


def test_default_sort_applies_only_without_sort_parameters() -> None:
    default = [("created_at", "desc"), ("id", "desc")]
    assert page_request(QueryParams(""), default_sort=default).sort == tuple(default)
    assert page_request(QueryParams("sort=name"), default_sort=default).sort == (("name", "asc"),)


@pytest.mark.parametrize("query", ["sort_key=name&sort_dir=up", "sort=name:sideways",
                                   "sort=name:DESC"])
def test_an_invalid_sort_direction_is_400(query: str) -> None:
    with pytest.raises(BadRequest, match="Invalid sort direction"):
        page_request(QueryParams(query))


@pytest.mark.parametrize("query", ["sort_key=password", "sort=password:asc",
                                   "sort_key=name&sort_key=password"])
def test_a_key_outside_sortable_is_400(query: str) -> None:
    with pytest.raises(BadRequest, match="Invalid sort key: 'password'"):
        page_request(QueryParams(query), sortable={"name", "size"})


def test_allowed_keys_pass_the_sortable_check() -> None:
    page = page_request(QueryParams("sort_key=name&sort_dir=asc"), sortable=["name"])
    assert page.sort == (("name", "asc"),)


# -- sort_items ----------------------------------------------------------------------------


def test_sort_ascending_puts_none_first() -> None:
    assert ids(sort_items(ITEMS, [("size", "asc")])) == ["c", "b", "d", "a"]


def test_sort_descending_puts_none_last() -> None:
    assert ids(sort_items(ITEMS, [("size", "desc")])) == ["a", "d", "b", "c"]


def test_sort_by_several_keys_uses_the_first_as_most_significant() -> None:
    result = sort_items(ITEMS, [("name", "desc"), ("id", "asc")])
    assert ids(result) == ["a", "c", "b", "d"]
    result = sort_items(ITEMS, [("name", "desc"), ("id", "desc")])
    assert ids(result) == ["c", "a", "b", "d"]


def test_sort_items_leaves_its_input_alone() -> None:
    before = ids(ITEMS)
    sort_items(ITEMS, [("name", "asc")])
    assert ids(ITEMS) == before


def test_a_missing_key_sorts_like_none() -> None:
    items = [{"id": "x", "n": 2}, {"id": "y"}, {"id": "z", "n": 1}]
    assert ids(sort_items(items, [("n", "asc")])) == ["y", "z", "x"]


# -- paginate ------------------------------------------------------------------------------


def test_no_limit_returns_everything_and_no_more() -> None:
    page, more = paginate(ITEMS, PageRequest(None, None, ()))
    assert ids(page) == ["a", "b", "c", "d"]
    assert more is False


def test_limit_cuts_and_flags_more() -> None:
    page, more = paginate(ITEMS, PageRequest(2, None, ()))
    assert ids(page) == ["a", "b"]
    assert more is True


def test_limit_equal_to_the_rest_does_not_flag_more() -> None:
    page, more = paginate(ITEMS, PageRequest(4, None, ()))
    assert len(page) == 4
    assert more is False
    page, more = paginate(ITEMS, PageRequest(2, "b", ()))
    assert ids(page) == ["c", "d"]
    assert more is False


def test_marker_starts_after_the_marked_item() -> None:
    page, more = paginate(ITEMS, PageRequest(1, "b", ()))
    assert ids(page) == ["c"]
    assert more is True


def test_marker_on_the_last_item_gives_an_empty_page() -> None:
    page, more = paginate(ITEMS, PageRequest(10, "d", ()))
    assert page == []
    assert more is False


def test_marker_follows_the_requested_order() -> None:
    page, _ = paginate(ITEMS, PageRequest(2, "d", (("name", "asc"), ("id", "asc"))))
    assert ids(page) == ["b", "a"]


def test_walking_pages_visits_every_item_once() -> None:
    sort = (("size", "desc"), ("id", "asc"))
    seen: list[str] = []
    marker: str | None = None
    while True:
        page, more = paginate(ITEMS, PageRequest(1, marker, sort))
        seen.extend(ids(page))
        if not more:
            break
        marker = page[-1]["id"]
    assert seen == ["a", "d", "b", "c"]


def test_an_unknown_marker_is_400() -> None:
    with pytest.raises(BadRequest, match=r"marker \[zzz\] not found"):
        paginate(ITEMS, PageRequest(2, "zzz", ()))


def test_an_unknown_marker_can_raise_the_service_error() -> None:
    with pytest.raises(NotFound, match="no image zzz"):
        paginate(ITEMS, PageRequest(2, "zzz", ()),
                 not_found=lambda m: NotFound(f"no image {m}"))


def test_id_key_selects_the_marker_field() -> None:
    page, _ = paginate(ITEMS, PageRequest(None, "db", ()), id_key="name")
    assert ids(page) == ["c", "d"]


# -- filter_items --------------------------------------------------------------------------


def test_filters_match_exactly_and_combine() -> None:
    assert ids(filter_items(ITEMS, {"name": "web"})) == ["a", "c"]
    assert ids(filter_items(ITEMS, {"name": "web", "size": 3})) == ["a"]
    assert filter_items(ITEMS, {"name": "we"}) == []


def test_a_none_filter_is_ignored() -> None:
    assert ids(filter_items(ITEMS, {"name": None})) == ["a", "b", "c", "d"]
    assert ids(filter_items(ITEMS, {})) == ["a", "b", "c", "d"]


@pytest.mark.parametrize("text", ["true", "True", "1", "yes", "on", "ON"])
def test_bool_fields_match_true_spellings(text: str) -> None:
    assert ids(filter_items(ITEMS, {"enabled": text})) == ["a", "c"]


@pytest.mark.parametrize("text", ["false", "False", "0", "no", "off"])
def test_bool_fields_match_false_spellings(text: str) -> None:
    assert ids(filter_items(ITEMS, {"enabled": text})) == ["b", "d"]


def test_string_fields_are_not_read_as_bools() -> None:
    items = [{"id": "x", "state": "true"}, {"id": "y", "state": "True"}]
    assert ids(filter_items(items, {"state": "true"})) == ["x"]


# -- next_link -----------------------------------------------------------------------------


def test_next_link_replaces_the_marker_and_keeps_other_params() -> None:
    query = QueryParams("limit=2&marker=old&name=web")
    link = next_link("http://cloud/compute/v2.1/servers", query, "b")
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://cloud/compute/v2.1/servers"
    assert parse_qs(parts.query) == {"limit": ["2"], "name": ["web"], "marker": ["b"]}


def test_next_link_adds_a_marker_when_there_was_none() -> None:
    link = next_link("http://cloud/v2/images", {"limit": "1"}, "x y")
    assert parse_qs(urlsplit(link).query) == {"limit": ["1"], "marker": ["x y"]}


def test_next_link_keeps_repeated_sort_parameters() -> None:
    query = QueryParams("sort_key=name&sort_dir=asc&sort_key=id&sort_dir=desc&limit=2")
    link = next_link("http://cloud/v2/images", query, "b")
    assert parse_qs(urlsplit(link).query) == {
        "sort_key": ["name", "id"], "sort_dir": ["asc", "desc"],
        "limit": ["2"], "marker": ["b"],
    }
