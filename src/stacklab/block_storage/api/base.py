"""The Block Storage API object, its microversions, and what handlers share."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Select, select

from stacklab.api.errors import ApiError, BadRequest, nova_error
from stacklab.api.microversion import MicroversionRange, Version
from stacklab.api.pagination import Cinder, Window, page_items
from stacklab.api.service import Call, ServiceApi
from stacklab.api.validation import describe_nova
from stacklab.block_storage.schemas import as_bool

if TYPE_CHECKING:
    from stacklab.block_storage.service import BlockStorageService

T = TypeVar("T")

# cinder/api/openstack/api_version_request.py: 3.0 to 3.71; cinder reads only the
# generic header, with the service type "volume".
MICROVERSIONS = MicroversionRange("volume", Version(3, 0), Version(3, 71))
# The date cinder's version document carries for its newest microversion.
UPDATED = "2023-08-31T00:00:00Z"


def cinder_internal_error(exception: str) -> ApiError:
    # cinder/api/middleware/fault.py FaultWrapper: webob's HTTPInternalServerError
    # explanation, in the fault body (whose name for a 500 is computeFault).
    return ApiError("The server has either erred or is incapable of performing the "
                    "requested operation.")


# cinder's API shares nova's WSGI fault bodies ({"itemNotFound": {code, message}}) and
# its validation messages ("Invalid input for field/attribute ...").
api = ServiceApi("volume", errors=nova_error, microversions=MICROVERSIONS,
                 malformed_json_message="Malformed request body",
                 describe_error=describe_nova, internal_error=cinder_internal_error)


def block_storage(call: Call) -> BlockStorageService:
    return cast("BlockStorageService", call.service)


def timestamp(moment: float | None) -> str | None:
    """cinder's datetimes as its JSON renders them: naive UTC with microseconds."""
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def project_target(call: Call) -> dict[str, str | None]:
    """cinder's ``context.authorize(rule)`` target: the caller's own project and user."""
    return {"project_id": call.context.project_id, "user_id": call.context.user_id}


# What a list takes beside its filters (paging, sorting, the admin's project choice).
PAGING = frozenset({"limit", "marker", "offset", "sort", "sort_key", "sort_dir",
                    "all_tenants", "project_id", "with_count"})


def project_query(call: Call, model: Any, filters: Collection[str], exact: Sequence[str], *,
                  extra: Collection[str] = (), inexact: bool = False) -> Select[Any]:
    """A list's SELECT, as cinder's ``get_all`` of volumes, snapshots and backups builds it:
    the caller's own project, or every project (or the one ``project_id`` names) for an admin
    asking ``all_tenants``; the ``exact`` filters matched as given, and from 3.34 their
    ``key~`` forms as substrings when ``inexact``. From 3.31 a key cinder's
    resource_filters.json does not list for the resource is a 400 (``extra``: other keys
    the list takes, such as the volumes' image metadata)."""
    query = call.query
    if call.version_at_least("3.31"):
        known = set(filters) | PAGING | set(extra)
        unknown = sorted(k for k in query if k not in known
                         and not (inexact and k.endswith("~") and k[:-1] in filters))
        if unknown:
            raise BadRequest(f"Invalid filter keys: {', '.join(unknown)}")
    statement = select(model)
    everyone = call.context.is_admin and as_bool(query.get("all_tenants", "0"))
    if everyone and query.get("project_id"):
        statement = statement.where(model.project_id == query["project_id"])
    elif not everyone:
        statement = statement.where(model.project_id == call.context.project_id)
    for key in exact:
        if key in query:
            statement = statement.where(getattr(model, key) == query[key])
        if inexact and f"{key}~" in query and call.version_at_least("3.34"):
            statement = statement.where(getattr(model, key).contains(query[f"{key}~"]))
    return statement


def with_count(call: Call, body: dict[str, Any], count: Callable[[], int]) -> dict[str, Any]:
    """A list's body with its ``count`` of every match when asked (``with_count``, 3.45)."""
    if call.version_at_least("3.45") and as_bool(call.query.get("with_count", "false")):
        body["count"] = count()
    return body


def sorted_page(call: Call, items: Sequence[T], path: str, collection: str, *,
                sortable: Collection[str] | None = None,
                marker_error: Callable[[str], Exception] | None = None,
                ) -> tuple[list[T], dict[str, Any]]:
    """One page of ``items`` (model rows) in cinder's dialect, with its links: sorted by
    ``sort``/``sort_key``, cut after ``marker`` (then ``offset`` more), ``limit`` long."""
    dialect = Cinder(marker_error=marker_error)
    request = dialect.request(call.query, sortable)
    offset = _offset(call.query.get("offset"))
    if offset and request.limit is not None:
        request = replace(request, limit=request.limit + offset)
    window = page_items(items, request, dialect, id_of=_id_of,
                        value_of=lambda item, key: getattr(item, COLUMNS.get(key, key), None))
    if offset:
        window = Window(window.items[offset:], replace(request, limit=request.limit - offset
                                                       if request.limit is not None
                                                       else None), window.more)
    links = dialect.links(window, query=call.query, url=call.url_for(f"/v3/{path}"),
                          collection=collection, id_of=_id_of)
    return window.items, links


# cinder's columns for a volume's and a snapshot's name and description, which its sort
# keys name (``name`` is turned into ``display_name``; both sort): stacklab's models say
# ``name`` and ``description``.
COLUMNS = {"display_name": "name", "display_description": "description"}


def _id_of(item: Any) -> str:
    return str(item.id)


def _offset(raw: str | None) -> int:
    # cinder/api/api_utils.py validate_integer(offset, 'offset', 0, DB_MAX_INT).
    if raw is None:
        return 0
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest("offset must be an integer.") from None
    if value < 0:
        raise BadRequest("offset must be >= 0.")
    if value > 0x7FFFFFFF:
        raise BadRequest(f"offset must be <= {0x7FFFFFFF}.")
    return value


# cinder's [DEFAULT] osapi_max_limit.
MAX_LIMIT = 1000


def limited(call: Call, items: Sequence[T]) -> list[T]:
    """``items`` cut by ``offset`` and ``limit`` alone, as cinder's common.limited (the
    lists from before their pagination microversion): bad values are 400, not 500."""
    offset = _offset(call.query.get("offset"))
    raw = call.query.get("limit")
    limit = MAX_LIMIT
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            raise BadRequest("limit param must be an integer") from None
        if limit < 0:
            raise BadRequest("limit param must be positive")
        limit = min(limit, MAX_LIMIT)
    return list(items[offset:offset + (limit or MAX_LIMIT)])


def literal_filter(text: str, name: str) -> dict[str, Any]:
    """A dict filter as cinder reads it (``ast.literal_eval``: ``{'k': 'v'}``)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input received: Invalid filter {name}={text}")
    return value


def holding(records: Sequence[T], text: str, name: str,
            field: Callable[[T], Mapping[str, Any]]) -> list[T]:
    """The records whose dict ``field`` holds every pair of the filter ``name=text``
    (cinder compares as text: ``{'n': 1}`` matches ``"1"``)."""
    wanted = literal_filter(text, name)
    return [record for record in records
            if all(field(record).get(key) == str(value) for key, value in wanted.items())]
