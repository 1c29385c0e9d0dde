"""The Networking API object and the mechanisms every neutron resource shares.

neutron's API layer is generic: each resource is a map of attributes, and one
controller lists (filters on any attribute, ``fields``, sorting, pagination),
shows, creates, updates and deletes them, checking the policy of the
operation and of each attribute (``create_network:shared``,
``get_port:binding:host_id``…). This module is that controller's shared part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from stacklab.api.errors import ApiError, BadRequest, neutron_error
from stacklab.api.pagination import next_link
from stacklab.api.service import Call, ServiceApi

if TYPE_CHECKING:
    from stacklab.network.service import NetworkService

api = ServiceApi("network", errors=neutron_error,
                 malformed_json_message="Malformed request body")

MAX_LIMIT = 1000  # neutron's pagination_max_limit is -1 (none); stacklab caps pages


def network(call: Call) -> NetworkService:
    return call.cloud.network


def policy_failure(rule: str) -> ApiError:
    return ApiError(f"({rule}) is disallowed by policy", status=403,
                    kind="PolicyNotAuthorized")


def authorize(call: Call, rule: str, target: Mapping[str, Any]) -> None:
    if not call.allows(rule, target):
        raise policy_failure(f"rule:{rule}")


def target_of(resource: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """neutron's policy target: the resource's attributes plus ``tenant_id``."""
    target: dict[str, Any] = {k: v for k, v in resource.items()
                              if isinstance(v, (str, bool, int))}
    target["tenant_id"] = resource.get("project_id") or resource.get("tenant_id")
    target["project_id"] = target["tenant_id"]
    target.update(extra)
    return target


def check_attributes(call: Call, action: str, resource: str, body: Mapping[str, Any],
                     target: Mapping[str, Any]) -> None:
    """Attribute policies of a create or update (``create_network:shared`` and the like)."""
    engine = call.cloud.policy_for("network")
    for name, value in body.items():
        rule = f"{action}_{resource}:{name}"
        if engine.has_rule(rule):
            authorize(call, rule, {**target, name: value})
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                for key in item:
                    sub = f"{rule}:{key}"
                    if engine.has_rule(sub):
                        authorize(call, sub, {**target, name: value})


def hide_attributes(call: Call, resource: str, body: dict[str, Any],
                    target: Mapping[str, Any]) -> dict[str, Any]:
    """Drop what ``get_<resource>:<attribute>`` does not let the caller see."""
    engine = call.cloud.policy_for("network")
    for name in list(body):
        rule = f"get_{resource}:{name}"
        if engine.has_rule(rule) and not call.allows(rule, target):
            del body[name]
    return body


def request_body(call: Call, resource: str, allowed: set[str]) -> dict[str, Any]:
    """The ``{resource: {...}}`` body, with neutron's errors for what it cannot take."""
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get(resource), dict):
        raise BadRequest(f"Resource body required: {resource} expected in the body")
    fields: dict[str, Any] = body[resource]
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise BadRequest("Unrecognized attribute(s) '" + ", ".join(unknown) + "'")
    return fields


def _query_filters(call: Call, skip: set[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for key, value in call.query.multi_items():
        if key in skip:
            continue
        filters.setdefault(key, []).append(value)
    return filters


def _matches(value: Any, wanted: list[str]) -> bool:
    if isinstance(value, bool):
        return any(str(value).lower() == w.lower() for w in wanted)
    if isinstance(value, list):
        return any(w in [str(v) for v in value] for w in wanted)
    if value is None:
        return any(w in ("", "None", "null") for w in wanted)
    return str(value) in wanted


_CONTROL = {"fields", "limit", "marker", "page_reverse", "sort_key", "sort_dir",
            "tags", "tags-any", "not-tags", "not-tags-any"}


def _sort_key(key: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    return lambda item: (item.get(key) is not None, str(item.get(key)))


def list_response(call: Call, collection: str, items: list[dict[str, Any]],
                  visible: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    """Filter, sort, paginate and trim rendered items as neutron's list controller does."""
    filters = _query_filters(call, _CONTROL)
    tags = {k: [t for v in call.query.getlist(k) for t in v.split(",") if t]
            for k in ("tags", "tags-any", "not-tags", "not-tags-any") if k in call.query}
    chosen = []
    for item in items:
        shown = visible(item)
        if any(k in shown and not _matches(shown[k], v) for k, v in filters.items()):
            continue
        if any(k not in shown for k in filters if k in item):
            continue
        have = set(shown.get("tags", []))
        if "tags" in tags and not set(tags["tags"]) <= have:
            continue
        if "tags-any" in tags and not set(tags["tags-any"]) & have:
            continue
        if "not-tags" in tags and tags["not-tags"] and set(tags["not-tags"]) <= have:
            continue
        if "not-tags-any" in tags and set(tags["not-tags-any"]) & have:
            continue
        chosen.append(shown)
    keys = call.query.getlist("sort_key")
    dirs = call.query.getlist("sort_dir")
    for index in reversed(range(len(keys))):
        key = keys[index]
        direction = dirs[index] if index < len(dirs) else "asc"
        if direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid input for operation: '{direction}' is not a valid sort "
                             "direction.")
        chosen.sort(key=_sort_key(key), reverse=direction == "desc")
    body: dict[str, Any] = {}
    limit_raw = call.query.get("limit")
    if limit_raw is not None:
        try:
            limit = int(limit_raw)
        except ValueError:
            raise BadRequest(f"Invalid input for operation: '{limit_raw}' is not an integer.") \
                from None
        limit = MAX_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
        marker = call.query.get("marker")
        start = 0
        if marker is not None:
            ids = [i.get("id") for i in chosen]
            if marker not in ids:
                raise ApiError(f"Marker {marker} could not be found.", status=404,
                               kind="NotFound")
            start = ids.index(marker) + 1
        page = chosen[start:start + limit]
        if len(page) == limit and start + limit < len(chosen):
            body[f"{collection}_links"] = [{"rel": "next", "href": next_link(
                call.url_for(f"/v2.0/{collection}"), call.query, page[-1]["id"])}]
        if marker is not None:
            body.setdefault(f"{collection}_links", []).append(
                {"rel": "previous", "href": next_link(
                    call.url_for(f"/v2.0/{collection}"),
                    {**dict(call.query), "page_reverse": "True"}, page[0]["id"] if page
                    else marker)})
        chosen = page
    fields = call.query.getlist("fields")
    if fields:
        chosen = [{k: v for k, v in item.items() if k in fields} for item in chosen]
    body[collection] = chosen
    return body


def only_fields(call: Call, item: dict[str, Any]) -> dict[str, Any]:
    fields = call.query.getlist("fields")
    return {k: v for k, v in item.items() if k in fields} if fields else item
