"""``/os-aggregates``: host aggregates, their hosts and metadata (zones), image pre-caching."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.clock import isotime
from stacklab.compute import aggregates as agg
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute, no_target

_PATH = "/v2.1/os-aggregates"
_ACTION_PATH = f"{_PATH}/{{aggregate_id}}/action"

# nova's "name" format: printable, no leading or trailing space.
_NAME = {"type": "string", "minLength": 1, "maxLength": 255,
         "pattern": r"^(?!\s)[^\x00-\x1f\x7f]*(?<!\s)$"}
# Update accepts surrounding spaces (nova strips them before saving).
_PADDED_NAME = {"type": "string", "minLength": 1, "maxLength": 255,
                "pattern": r"^[^\x00-\x1f\x7f]*$"}
# A zone name is a name without ':' (which separates zone, host and node on boot).
_ZONE = {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 255,
                    "pattern": r"^(?!\s)[^\x00-\x1f\x7f:]*(?<!\s)$"}, {"type": "null"}]}
_HOST = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9-._]*$"}


def _object(key: str, properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": [key], "additionalProperties": False,
            "properties": {key: {"type": "object", "additionalProperties": False,
                                 "properties": properties, **extra}}}


CREATE = _object("aggregate", {"name": _NAME, "availability_zone": _ZONE}, required=["name"])
UPDATE = _object("aggregate", {"name": _PADDED_NAME, "availability_zone": _ZONE},
                 anyOf=[{"required": ["name"]}, {"required": ["availability_zone"]}])
ADD_HOST = _object("add_host", {"host": _HOST}, required=["host"])
REMOVE_HOST = _object("remove_host", {"host": _HOST}, required=["host"])
SET_METADATA = _object("set_metadata", {"metadata": {
    "type": "object", "additionalProperties": False,
    "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": ["string", "null"],
                                                        "maxLength": 255}}}},
    required=["metadata"])
CACHE_IMAGES = {
    "type": "object", "required": ["cache"], "additionalProperties": False,
    "properties": {"cache": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["id"], "additionalProperties": False,
        "properties": {"id": {"type": "string", "format": "uuid"}}}}},
}


def _when(moment: float | None) -> str | None:
    # nova serialises its naive UTC datetimes with microseconds and no zone.
    return None if moment is None else isotime(moment, subsecond=True).removesuffix("Z")


def render(call: Call, aggregate: m.Aggregate, *, full: bool = True) -> dict[str, Any]:
    metadata = dict(aggregate.metadata_ or {})
    body: dict[str, Any] = {
        "id": aggregate.id, "name": aggregate.name,
        "availability_zone": metadata.get(agg.ZONE_KEY),
        "created_at": _when(aggregate.created_at), "updated_at": _when(aggregate.updated_at),
        "deleted_at": None, "deleted": False,
    }
    if full:
        body["hosts"] = list(aggregate.hosts or [])
        body["metadata"] = metadata
    if call.version_at_least("2.41"):
        body["uuid"] = aggregate.uuid
    return body


def _aggregate_id(call: Call) -> int:
    return agg.parse_id(call.params["aggregate_id"])


def _normalised(name: str) -> str:
    # nova's normalize_name: surrounding whitespace does not count.
    return name.strip()


@api.route("GET", _PATH, policy="os_compute_api:os-aggregates:index", target=no_target,
           expected_errors=())
async def list_aggregates(call: Call) -> dict[str, Any]:
    service = compute(call)
    with service.db.session() as session:
        return {"aggregates": [render(call, a) for a in service.aggregates.all(session)]}


@api.route("POST", _PATH, policy="os_compute_api:os-aggregates:create", target=no_target,
           schema=CREATE, expected_errors=(400, 409))
async def create_aggregate(call: Call) -> dict[str, Any]:
    service = compute(call)
    fields = call.body["aggregate"]
    zone = fields.get("availability_zone")
    with service.db.session() as session:
        aggregate = service.aggregates.create(session, _normalised(fields["name"]),
                                              _normalised(zone) if zone else None)
        return {"aggregate": render(call, aggregate, full=False)}


@api.route("GET", f"{_PATH}/{{aggregate_id}}", policy="os_compute_api:os-aggregates:show",
           target=no_target, expected_errors=(400, 404))
async def show_aggregate(call: Call) -> dict[str, Any]:
    service = compute(call)
    ident = _aggregate_id(call)
    with service.db.session() as session:
        return {"aggregate": render(call, service.aggregates.get(session, ident))}


@api.route("PUT", f"{_PATH}/{{aggregate_id}}", policy="os_compute_api:os-aggregates:update",
           target=no_target, schema=UPDATE, expected_errors=(400, 404, 409))
async def update_aggregate(call: Call) -> dict[str, Any]:
    service = compute(call)
    fields = call.body["aggregate"]
    ident = _aggregate_id(call)
    with service.db.session() as session:
        aggregate = service.aggregates.update(
            session, service.aggregates.get(session, ident),
            name=_normalised(fields["name"]) if "name" in fields else None,
            zone_given="availability_zone" in fields, zone=fields.get("availability_zone"))
        return {"aggregate": render(call, aggregate)}


@api.route("DELETE", f"{_PATH}/{{aggregate_id}}", policy="os_compute_api:os-aggregates:delete",
           target=no_target, expected_errors=(400, 404))
async def delete_aggregate(call: Call) -> None:
    service = compute(call)
    ident = _aggregate_id(call)
    with service.db.session() as session:
        service.aggregates.delete(session, service.aggregates.get(session, ident))


# Each action checks its own rule (nova's actions each name theirs).
api.action_route(_ACTION_PATH, expected_errors=(400, 404, 409))


@api.action(_ACTION_PATH, "add_host", schema=ADD_HOST, expected_errors=(400, 404, 409))
async def add_host(call: Call) -> dict[str, Any]:
    call.policy.authorize("os_compute_api:os-aggregates:add_host", {}, call.context)
    service = compute(call)
    ident = _aggregate_id(call)
    with service.db.session() as session:
        aggregate = service.aggregates.add_host(session, ident, call.body["add_host"]["host"])
        return {"aggregate": render(call, aggregate)}


@api.action(_ACTION_PATH, "remove_host", schema=REMOVE_HOST, expected_errors=(400, 404, 409))
async def remove_host(call: Call) -> dict[str, Any]:
    call.policy.authorize("os_compute_api:os-aggregates:remove_host", {}, call.context)
    service = compute(call)
    ident = _aggregate_id(call)
    with service.db.session() as session:
        aggregate = service.aggregates.remove_host(session, ident,
                                                   call.body["remove_host"]["host"])
        return {"aggregate": render(call, aggregate)}


@api.action(_ACTION_PATH, "set_metadata", schema=SET_METADATA, expected_errors=(400, 404))
async def set_metadata(call: Call) -> dict[str, Any]:
    call.policy.authorize("os_compute_api:os-aggregates:set_metadata", {}, call.context)
    service = compute(call)
    ident = _aggregate_id(call)
    with service.db.session() as session:
        aggregate = service.aggregates.set_metadata(
            session, service.aggregates.get(session, ident),
            call.body["set_metadata"]["metadata"])
        return {"aggregate": render(call, aggregate)}


@api.route("POST", f"{_PATH}/{{aggregate_id}}/images", policy="compute:aggregates:images",
           target=no_target, schema=CACHE_IMAGES, min_version="2.81", status=202,
           expected_errors=(400, 404))
async def cache_images(call: Call) -> Reply:
    """Accepted and done at once: the lab's hypervisors read images from glance directly,
    so there is nothing to pre-fetch onto the aggregate's hosts."""
    service = compute(call)
    ident = _aggregate_id(call)
    images = [entry["id"] for entry in call.body["cache"]]
    if len(set(images)) != len(images):
        raise BadRequest("Duplicate images in request")
    with service.db.session() as session:
        service.aggregates.get(session, ident)
    return Reply(status=202)
