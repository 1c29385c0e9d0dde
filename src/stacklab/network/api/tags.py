"""``/v2.0/<collection>/{id}/tags``: the tags of any standard neutron resource."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call, Reply
from stacklab.network import models as m
from stacklab.network.api.base import api, authorize, network, target_of

# collection -> (model, resource name in policies, not-found type)
_TAGGED: dict[str, tuple[type[Any], str, str]] = {
    "networks": (m.Network, "network", "NetworkNotFound"),
    "subnets": (m.Subnet, "subnet", "SubnetNotFound"),
    "ports": (m.Port, "port", "PortNotFound"),
    "routers": (m.Router, "router", "RouterNotFound"),
    "floatingips": (m.FloatingIP, "floatingip", "FloatingIPNotFound"),
    "security-groups": (m.SecurityGroup, "security_group", "SecurityGroupNotFound"),
    "subnetpools": (m.SubnetPool, "subnetpool", "SubnetPoolNotFound"),
}
MAX_TAGS = 50


def _load(call: Call, session: Session, action: str) -> Any:
    collection = call.params["collection"]
    known = _TAGGED.get(collection)
    if known is None:
        raise ApiError("The resource could not be found.", status=404, kind="HTTPNotFound")
    model, resource, missing = known
    row = session.get(model, call.params["resource_id"])
    visible = row is not None and (call.context.is_admin or row.project_id in (
        call.context.project_id, "") or getattr(row, "shared", False)
        or getattr(row, "external", False))
    if row is None or not visible:
        raise ApiError(f"{resource.replace('_', ' ').capitalize()} "
                       f"{call.params['resource_id']} could not be found.", status=404,
                       kind=missing)
    authorize(call, f"{action}_{resource}:tags", target_of({"project_id": row.project_id}))
    return row


def _check(tag: str) -> None:
    if not tag or len(tag) > 255 or "," in tag or "/" in tag:
        raise BadRequest(f"Invalid input for operation: '{tag}' is not a valid tag.")


def _touch(call: Call, row: Any) -> None:
    row.updated_at = network(call).clock.now()
    row.revision_number += 1


_BASE = "/v2.0/{collection}/{resource_id}/tags"


@api.route("GET", _BASE)
async def list_tags(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        return {"tags": list(_load(call, session, "get").tags)}


@api.route("PUT", _BASE)
async def replace_tags(call: Call) -> dict[str, Any]:
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("tags"), list):
        raise BadRequest("Invalid input for operation: 'tags' must be a list.")
    tags = list(dict.fromkeys(str(t) for t in body["tags"]))
    for tag in tags:
        _check(tag)
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"Invalid input for operation: at most {MAX_TAGS} tags.")
    with network(call).db.session() as session:
        row = _load(call, session, "update")
        row.tags = tags
        _touch(call, row)
        return {"tags": tags}


@api.route("DELETE", _BASE, status=204)
async def delete_tags(call: Call) -> None:
    with network(call).db.session() as session:
        row = _load(call, session, "delete")
        row.tags = []
        _touch(call, row)


@api.route("GET", _BASE + "/{tag}", status=204)
async def check_tag(call: Call) -> None:
    with network(call).db.session() as session:
        if call.params["tag"] not in _load(call, session, "get").tags:
            raise ApiError(f"Tag {call.params['tag']} could not be found.", status=404,
                           kind="TagNotFound")


@api.route("PUT", _BASE + "/{tag}", status=201)
async def add_tag(call: Call) -> Reply:
    tag = call.params["tag"]
    _check(tag)
    with network(call).db.session() as session:
        row = _load(call, session, "create")
        if tag not in row.tags:
            if len(row.tags) >= MAX_TAGS:
                raise BadRequest(f"Invalid input for operation: at most {MAX_TAGS} tags.")
            row.tags = [*row.tags, tag]
            _touch(call, row)
    return Reply(None, status=201)


@api.route("DELETE", _BASE + "/{tag}", status=204)
async def delete_tag(call: Call) -> None:
    with network(call).db.session() as session:
        row = _load(call, session, "delete")
        if call.params["tag"] not in row.tags:
            raise ApiError(f"Tag {call.params['tag']} could not be found.", status=404,
                           kind="TagNotFound")
        row.tags = [t for t in row.tags if t != call.params["tag"]]
        _touch(call, row)
