"""Limit/marker pagination, sorting and filtering, as nova, glance and neutron do it.

The items are plain dicts (already rendered, or rows turned into dicts); the
store layer may push the same parameters down to SQL for large collections.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from stacklab.api.errors import BadRequest


@dataclass(frozen=True)
class PageRequest:
    limit: int | None
    marker: str | None
    sort: tuple[tuple[str, str], ...]  # (key, "asc"|"desc")


def page_request(
    query: Mapping[str, str] | Any,
    *,
    max_limit: int = 1000,
    default_sort: Sequence[tuple[str, str]] = (),
    sortable: Iterable[str] | None = None,
) -> PageRequest:
    """Read ``limit``, ``marker``, ``sort_key``/``sort_dir`` (repeatable) or ``sort=k:dir,...``."""
    limit: int | None = None
    raw_limit = query.get("limit")
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise BadRequest(f"Invalid input for field 'limit': {raw_limit!r} is not an integer") \
                from None
        if limit < 0:
            raise BadRequest("Invalid input for field 'limit': must be >= 0")
        limit = min(limit, max_limit)
    marker = query.get("marker")
    allowed = set(sortable) if sortable is not None else None
    sort: list[tuple[str, str]] = []
    getlist = getattr(query, "getlist", None)
    keys: list[str] = list(getlist("sort_key")) if getlist else _as_list(query.get("sort_key"))
    dirs: list[str] = list(getlist("sort_dir")) if getlist else _as_list(query.get("sort_dir"))
    for index, key in enumerate(keys):
        direction = dirs[index] if index < len(dirs) else (dirs[0] if dirs else "desc")
        sort.append((key, direction))
    combined = query.get("sort")
    if combined:
        for part in combined.split(","):
            key, _, direction = part.partition(":")
            sort.append((key.strip(), (direction or "asc").strip()))
    for key, direction in sort:
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction: {direction!r}; use 'asc' or 'desc'")
        if allowed is not None and key not in allowed:
            raise BadRequest(f"Invalid sort key: {key!r}")
    return PageRequest(limit=limit, marker=marker, sort=tuple(sort) or tuple(default_sort))


def _as_list(value: str | None) -> list[str]:
    return [value] if value else []


def _sort_value(value: Any) -> tuple[int, Any]:
    # None sorts first, as SQL's NULLs do in ascending order on sqlite/mysql.
    return (0, "") if value is None else (1, value)


def sort_items(items: list[dict[str, Any]],
               sort: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    result = list(items)
    for key, direction in reversed(sort):  # stable sorts, least significant key first
        result.sort(key=lambda item: _sort_value(item.get(key)), reverse=direction == "desc")
    return result


def paginate(
    items: list[dict[str, Any]],
    page: PageRequest,
    *,
    id_key: str = "id",
    not_found: Callable[[str], Exception] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """Sort, skip past the marker, cut at the limit. Returns (page, more_follow)."""
    ordered = sort_items(items, page.sort) if page.sort else items
    start = 0
    if page.marker is not None:
        for index, item in enumerate(ordered):
            if item.get(id_key) == page.marker:
                start = index + 1
                break
        else:
            raise (not_found or _marker_not_found)(page.marker)
    rest = ordered[start:]
    if page.limit is None:
        return rest, False
    return rest[: page.limit], len(rest) > page.limit


def _marker_not_found(marker: str) -> Exception:
    return BadRequest(f"marker [{marker}] not found")


def next_link(base_url: str, query: Mapping[str, str] | Any, last_id: str) -> str:
    """The link to the page after ``last_id``, with every other parameter kept (repeats too)."""
    items = query.multi_items() if hasattr(query, "multi_items") else list(query.items())
    params = [(k, v) for k, v in items if k != "marker"]
    params.append(("marker", last_id))
    return f"{base_url}?{urlencode(params)}"


def filter_items(items: list[dict[str, Any]], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Exact-match filters on top-level fields; a filter value of None is ignored."""
    active = {k: v for k, v in filters.items() if v is not None}
    if not active:
        return items
    return [item for item in items if all(_matches(item.get(k), v) for k, v in active.items())]


def _matches(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, bool) and isinstance(wanted, str):
        return actual == (wanted.lower() in ("1", "true", "yes", "on"))
    return bool(actual == wanted)

