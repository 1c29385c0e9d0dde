"""One list mechanism for every service: limit and marker, sorting, and the page's links,
cut in SQL (``page_query``) or over items already in memory (``page_items``).

The mechanism is the same everywhere; what a client sees differs per service and is kept in
that service's ``Dialect``: how ``limit`` is read and capped, how sort keys and directions
are given and refused, what an unknown marker answers, whether a walk may go backwards
(neutron's ``page_reverse``) and which links a page carries (nova's and neutron's
``<collection>_links``, glance's ``next``). Keystone has no pagination (only its
``list_limit`` truncation), so it has no dialect.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.query import int_param

T = TypeVar("T")
Sort = tuple[tuple[str, str], ...]  # (key, "asc" | "desc"), most significant first
Refusal = Callable[[str], Exception | None]  # a sort key this caller may not use, and why


def getlist(query: Any, name: str) -> list[str]:
    """Every value of a repeatable parameter (a plain mapping holds one)."""
    if hasattr(query, "getlist"):
        return list(query.getlist(name))
    value = query.get(name)
    return [] if value is None else [value]


def multi_items(query: Any) -> list[tuple[str, str]]:
    return list(query.multi_items()) if hasattr(query, "multi_items") else list(query.items())


def with_marker(url: str, query: Any, marker: str, *,
                drop: Collection[str] = ("marker",),
                extra: Sequence[tuple[str, str]] = ()) -> str:
    """``url`` with the request's parameters (repeats kept, in order) and a new marker."""
    params = [(k, v) for k, v in multi_items(query) if k not in drop]
    return f"{url}?{urlencode([*params, ('marker', marker), *extra])}"


def next_link(url: str, query: Any, last_id: str) -> str:
    """nova's and glance's ``next``: the same request, continuing after ``last_id``."""
    return with_marker(url, query, last_id)


@dataclass(frozen=True)
class PageRequest:
    limit: int | None        # None: no paging (neutron without ``limit``)
    marker: str | None
    sort: Sort
    reverse: bool = False    # walk backwards from the marker (neutron's page_reverse)


@dataclass(frozen=True)
class Window(Generic[T]):
    """One page of a filtered, sorted collection."""

    items: list[T]
    request: PageRequest
    more: bool               # items lie beyond the page, in the walk's direction

    @property
    def short(self) -> bool:
        return self.request.limit is not None and len(self.items) < self.request.limit


class Dialect(ABC):
    """A service's words for the shared mechanism."""

    max_limit: int
    sort_first: ClassVar[bool] = False  # which 400 a request bad in both ways gets

    def request(self, query: Any, sortable: Collection[str] | None, *,
                default_sort: Sort = (), refuse: Refusal | None = None) -> PageRequest:
        """The page asked for; the service's 400 for a bad limit or sort. ``sortable``
        None accepts any key."""
        if self.sort_first:
            sort = self.sort(query, sortable, refuse or _refuse_none)
            limit = self.limit(query)
        else:
            limit = self.limit(query)
            sort = self.sort(query, sortable, refuse or _refuse_none)
        return PageRequest(limit, query.get("marker"), sort or default_sort,
                           self.reverse(query))

    @abstractmethod
    def limit(self, query: Any) -> int | None: ...

    @abstractmethod
    def sort(self, query: Any, sortable: Collection[str] | None, refuse: Refusal) -> Sort: ...

    def reverse(self, query: Any) -> bool:
        return False

    @abstractmethod
    def marker_not_found(self, marker: str) -> Exception: ...

    @abstractmethod
    def links(self, window: Window[Any], *, query: Any, url: str, collection: str,
              id_of: Callable[[Any], str]) -> dict[str, Any]:
        """The body keys a page adds (its links), given the collection's URL."""

    def sort_value(self, value: Any) -> Any:
        # None sorts first, as SQL's NULLs do in ascending order on sqlite and mysql.
        return (0, "") if value is None else (1, value)


def _refuse_none(key: str) -> Exception | None:
    return None


@dataclass(frozen=True)
class Nova(Dialect):
    """nova-api: ``limit`` defaults to and is capped by ``[api] max_limit``; repeated
    ``sort_key``/``sort_dir`` (a key without its direction takes ``default_dir``: descending
    for servers, ascending for flavors, as nova's two controllers read them); an unknown
    marker is a 400 (worded per controller); a full page links to the next
    (``<collection>_links``), even if none follows."""

    max_limit: int = 1000
    default_dir: str = "desc"
    marker_message: str = "marker [{marker}] not found"

    def limit(self, query: Any) -> int | None:
        limit = int_param(query, "limit", minimum=0)
        return self.max_limit if limit is None else min(limit, self.max_limit)

    def sort(self, query: Any, sortable: Collection[str] | None, refuse: Refusal) -> Sort:
        dirs = getlist(query, "sort_dir")
        sort = []
        for index, key in enumerate(getlist(query, "sort_key")):
            if sortable is not None and key not in sortable:
                raise BadRequest(f"Invalid sort_key {key}")
            refusal = refuse(key)
            if refusal is not None:
                raise refusal
            direction = dirs[index] if index < len(dirs) else self.default_dir
            if direction not in ("asc", "desc"):
                raise BadRequest(f"Invalid sort_dir {direction}")
            sort.append((key, direction))
        return tuple(sort)

    def marker_not_found(self, marker: str) -> Exception:
        return BadRequest(self.marker_message.format(marker=marker))

    def links(self, window: Window[Any], *, query: Any, url: str, collection: str,
              id_of: Callable[[Any], str]) -> dict[str, Any]:
        if not window.items or len(window.items) != window.request.limit:
            return {}
        return {f"{collection}_links": [
            {"rel": "next", "href": next_link(url, query, id_of(window.items[-1]))}]}


@dataclass(frozen=True)
class Glance(Dialect):
    """glance-api: ``limit`` defaults to ``limit_param_default`` and is capped by
    ``api_limit_max``; ``sort_key``/``sort_dir`` (one direction serves every key) or
    ``sort=key:dir,...``; an unknown marker is a 400; ``next`` (a path) while images
    follow."""

    max_limit: int
    default_limit: int
    # What an unknown marker answers in this collection (glance's words differ per
    # resource); images' 400 unless said otherwise.
    marker_error: Callable[[str], Exception] | None = None

    def limit(self, query: Any) -> int | None:
        raw = query.get("limit")
        if raw is None:
            return self.default_limit
        try:
            limit = int(raw)
        except ValueError:
            raise BadRequest(f"Invalid input for field 'limit': {raw!r} is not an integer") \
                from None
        if limit < 0:
            raise BadRequest("Invalid input for field 'limit': must be >= 0")
        return min(limit, self.max_limit)

    def sort(self, query: Any, sortable: Collection[str] | None, refuse: Refusal) -> Sort:
        dirs = getlist(query, "sort_dir")
        sort = [(key, dirs[index] if index < len(dirs) else (dirs[0] if dirs else "desc"))
                for index, key in enumerate(getlist(query, "sort_key"))]
        for part in (query.get("sort") or "").split(","):
            if part:
                key, _, direction = part.partition(":")
                sort.append((key.strip(), (direction or "asc").strip()))
        for key, direction in sort:
            if direction not in ("asc", "desc"):
                raise BadRequest(f"Invalid sort direction: {direction!r}; use 'asc' or 'desc'")
            if sortable is not None and key not in sortable:
                raise BadRequest(f"Invalid sort key: {key!r}")
        return tuple(sort)

    def marker_not_found(self, marker: str) -> Exception:
        if self.marker_error is not None:
            return self.marker_error(marker)
        return BadRequest(f"Invalid marker. Image {marker} could not be found.")

    def links(self, window: Window[Any], *, query: Any, url: str, collection: str,
              id_of: Callable[[Any], str]) -> dict[str, Any]:
        if not window.items or not window.more:
            return {}
        return {"next": next_link(url, query, id_of(window.items[-1]))}


@dataclass(frozen=True)
class Neutron(Dialect):
    """neutron-server: no ``limit``, no paging; a limit of 0 or less means the most a page
    holds; ``sort_key`` and ``sort_dir`` in pairs; an unknown marker is a 404; a page links
    ``next`` unless it is a short page ending a forward walk and ``previous`` (walking back
    with ``page_reverse``) unless it is a short page ending a backward one."""

    max_limit: int = 1000  # neutron's pagination_max_limit is -1 (none); stacklab caps pages
    sort_first: ClassVar[bool] = True

    def limit(self, query: Any) -> int | None:
        raw = query.get("limit")
        if raw is None:
            return None
        try:
            limit = int(raw)
        except ValueError:
            raise BadRequest(f"Invalid input for operation: '{raw}' is not an integer.") \
                from None
        return self.max_limit if limit <= 0 else min(limit, self.max_limit)

    def sort(self, query: Any, sortable: Collection[str] | None, refuse: Refusal) -> Sort:
        keys = getlist(query, "sort_key")
        dirs = getlist(query, "sort_dir")
        if len(keys) != len(dirs):
            raise _http_bad_request("The number of sort_keys and sort_dirs must be same")
        invalid = [k for k in keys if sortable is not None and k not in sortable]
        if invalid:
            raise _http_bad_request(f"{invalid} is invalid attribute for sort_keys")
        for direction in dirs:
            if direction not in ("asc", "desc"):
                raise _http_bad_request(f"{[direction]} is invalid value for sort_dirs, valid "
                                        "value is 'asc' and 'desc'")
        return tuple(zip(keys, dirs, strict=True))

    def reverse(self, query: Any) -> bool:
        return str(query.get("page_reverse", "")).lower() == "true"

    def marker_not_found(self, marker: str) -> Exception:
        return ApiError(f"Marker {marker} could not be found.", status=404, kind="NotFound")

    def links(self, window: Window[Any], *, query: Any, url: str, collection: str,
              id_of: Callable[[Any], str]) -> dict[str, Any]:
        items, reverse = window.items, window.request.reverse
        if not items or window.request.limit is None:
            return {}
        links = []
        drop = ("marker", "page_reverse")
        if not (window.short and not reverse):
            links.append({"rel": "next", "href": with_marker(
                url, query, id_of(items[-1]), drop=drop)})
        if not (window.short and reverse):
            links.append({"rel": "previous", "href": with_marker(
                url, query, id_of(items[0]), drop=drop, extra=[("page_reverse", "True")])})
        return {f"{collection}_links": links}

    def sort_value(self, value: Any) -> Any:
        # neutron's in-memory lists (zones, service providers) compare what they show, as
        # text.
        return (value is not None, str(value))


@dataclass(frozen=True)
class Cinder(Dialect):
    """cinder-api (cinder/api/common.py): ``limit`` capped by ``osapi_max_limit``, which it
    defaults to; ``sort=key:dir,...`` or the deprecated ``sort_key``/``sort_dir`` (not
    both), each key's direction defaulting to ``desc`` and the first key to
    ``created_at``; an unknown marker is the resource's own 404 (cinder looks the marker
    up first); a page as long as its limit links to the next (``<collection>_links``)."""

    max_limit: int = 1000
    marker_error: Callable[[str], Exception] | None = None
    default_key: str = "created_at"

    def limit(self, query: Any) -> int | None:
        raw = query.get("limit")
        if raw is None:
            return self.max_limit
        try:
            limit = int(raw)
        except ValueError:
            raise BadRequest("limit param must be an integer") from None
        if limit < 0:
            raise BadRequest("limit param must be positive")
        return min(limit, self.max_limit)

    def sort(self, query: Any, sortable: Collection[str] | None, refuse: Refusal) -> Sort:
        if "sort" in query and ("sort_key" in query or "sort_dir" in query):
            raise BadRequest("The 'sort_key' and 'sort_dir' parameters are deprecated and "
                             "cannot be used with the 'sort' parameter.")
        pairs: list[tuple[str, str]] = []
        if "sort" in query:
            for part in query["sort"].strip().split(","):
                key, _, direction = part.partition(":")
                pairs.append((key.strip(), direction.strip() or "desc"))
        else:
            pairs.append((query.get("sort_key", self.default_key).strip(),
                          query.get("sort_dir", "desc").strip()))
        for key, direction in pairs:
            if direction not in ("asc", "desc"):
                raise BadRequest("Invalid input received: Unknown sort direction, must be "
                                 "'desc' or 'asc'.")
            if sortable is not None and key not in sortable:
                raise BadRequest("Invalid input received: Invalid sort key")
            refusal = refuse(key)
            if refusal is not None:
                raise refusal
        # cinder's process_sort_params: created_at and id always end the order.
        keys = [key for key, _ in pairs]
        last = pairs[0][1]
        pairs += [(key, last) for key in ("created_at", "id") if key not in keys]
        return tuple(pairs)

    def marker_not_found(self, marker: str) -> Exception:
        if self.marker_error is not None:
            return self.marker_error(marker)
        return BadRequest(f"Marker {marker} could not be found.")

    def links(self, window: Window[Any], *, query: Any, url: str, collection: str,
              id_of: Callable[[Any], str]) -> dict[str, Any]:
        if not window.items or window.request.limit is None \
                or len(window.items) < window.request.limit:
            return {}
        return {f"{collection}_links": [
            {"rel": "next", "href": next_link(url, query, id_of(window.items[-1]))}]}


def _http_bad_request(message: str) -> ApiError:
    """What neutron's controller raises itself (webob's HTTPBadRequest)."""
    return ApiError(message, status=400, kind="HTTPBadRequest")


# -- in memory ------------------------------------------------------------------------------


def sort_items(items: Sequence[T], sort: Sort, dialect: Dialect,
               value_of: Callable[[T, str], Any]) -> list[T]:
    result = list(items)
    for key, direction in reversed(sort):  # stable sorts, least significant key first
        result.sort(key=lambda item: dialect.sort_value(value_of(item, key)),
                    reverse=direction == "desc")
    return result


def _item_value(item: Any, key: str) -> Any:
    return item.get(key)


def page_items(items: Sequence[T], request: PageRequest, dialect: Dialect, *,
               id_of: Callable[[T], str],
               value_of: Callable[[T, str], Any] = _item_value) -> Window[T]:
    """Sort (``request.sort``), find the marker, cut the page: for collections held in
    memory (or filtered by what SQL cannot ask)."""
    ordered = sort_items(items, request.sort, dialect, value_of) if request.sort else \
        list(items)
    if request.limit is None:
        return Window(ordered, request, False)
    at: int | None = None
    if request.marker is not None:
        at = next((i for i, item in enumerate(ordered) if id_of(item) == request.marker),
                  None)
        if at is None:
            raise dialect.marker_not_found(request.marker)
    return _cut(ordered, len(ordered), at, request)


def _cut(ordered: list[T], total: int, at: int | None, request: PageRequest) -> Window[T]:
    limit = request.limit or 0
    if request.reverse:
        end = total if at is None else at
        start = max(0, end - limit)
        return Window(ordered[start:end], request, start > 0)
    start = 0 if at is None else at + 1
    return Window(ordered[start:start + limit], request, start + limit < total)


# -- in SQL ---------------------------------------------------------------------------------


def page_query(session: Session, statement: Select[Any], *, id_column: Any,
               order: Sequence[Any], request: PageRequest, dialect: Dialect) -> Window[Any]:
    """The rows of one page of ``statement`` (filtered; ``order`` ends with a unique key),
    cut in SQL: the marker's place by ``row_number``, then one ``OFFSET``/``LIMIT``."""
    ordered = statement.order_by(*order)
    if request.limit is None:
        return Window(list(session.execute(ordered).all()), request, False)
    at: int | None = None
    if request.marker is not None:
        numbered = statement.with_only_columns(
            id_column.label("marker_id"),
            func.row_number().over(order_by=order).label("place"),
            maintain_column_froms=True).subquery()
        place = session.scalar(select(numbered.c.place).where(
            numbered.c.marker_id == request.marker))
        if place is None:
            raise dialect.marker_not_found(request.marker)
        at = int(place) - 1  # row_number is 1-based
    limit = request.limit
    if request.reverse:
        end = at if at is not None else int(session.scalar(
            select(func.count()).select_from(statement.subquery())) or 0)
        start = max(0, end - limit)
        rows = list(session.execute(ordered.offset(start).limit(end - start)).all())
        return Window(rows, request, start > 0)
    start = 0 if at is None else at + 1
    # One row past the page says whether more follow.
    rows = list(session.execute(ordered.offset(start).limit(limit + 1)).all())
    return Window(rows[:limit], request, len(rows) > limit)

