"""``/v2.0/<collection>/{id}/tags``: the tags of any standard neutron resource."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call, Reply
from stacklab.network import attributes
from stacklab.network.api.base import api, authorize, network, target_of
from stacklab.network.api.floatingips import FLOATINGIP
from stacklab.network.api.networks import NETWORK
from stacklab.network.api.ports import PORT
from stacklab.network.api.resource import Resource, load, revise
from stacklab.network.api.routers import ROUTER
from stacklab.network.api.security_groups import SECURITY_GROUP
from stacklab.network.api.subnetpools import SUBNETPOOL
from stacklab.network.api.subnets import SUBNET

# The tagged resources by path segment. They are looked up as a show would (another
# project's router gateway port or private network is not found).
_TAGGED: dict[str, Resource] = {r.path or r.collection: r for r in (
    NETWORK, SUBNET, PORT, ROUTER, FLOATINGIP, SECURITY_GROUP, SUBNETPOOL)}
MAX_TAGS = 50
MAX_TAG_LEN = 255


def _load(call: Call, session: Session, action: str) -> Any:
    resource = _TAGGED.get(call.params["collection"])
    if resource is None:
        raise ApiError("The resource could not be found.", status=404, kind="HTTPNotFound")
    row = load(call, session, resource, call.params["resource_id"])[0]
    # The tag rules have always been asked of the owning project alone (not the resource's
    # whole target), so a network's owner does not tag others' ports on it.
    authorize(call, f"{action}_{resource.name}:tags", target_of({"project_id": row.project_id}))
    return row


def _check(tag: str) -> None:
    if not tag or len(tag) > 255 or "," in tag or "/" in tag:
        raise BadRequest(f"Invalid input for operation: '{tag}' is not a valid tag.")


_BASE = "/v2.0/{collection}/{resource_id}/tags"


@api.route("GET", _BASE)
async def list_tags(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        return {"tags": list(_load(call, session, "get").tags)}


def _body_tags(call: Call) -> list[str]:
    """The ``{"tags": [...]}`` body of a replace or an add, as neutron's validate_tags."""
    body = call.body
    if not isinstance(body, dict) or "tags" not in body:
        raise attributes.invalid_input("Invalid tags body")
    reason = attributes.unique_strings(MAX_TAG_LEN)(body["tags"])
    if reason:
        raise attributes.invalid_input(reason)
    tags: list[str] = body["tags"]
    return tags


def _over_limit(collection: str) -> BadRequest:
    # neutron's BadRequest names the collection ("Bad networks request: ...").
    return BadRequest(f"Bad {collection.replace('-', '_')} request: The number of tags "
                      f"exceed the per-resource limit of {MAX_TAGS}.")


@api.route("PUT", _BASE)
async def replace_tags(call: Call) -> dict[str, Any]:
    tags = _body_tags(call)
    for tag in tags:
        _check(tag)
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"Invalid input for operation: at most {MAX_TAGS} tags.")
    with network(call).db.session() as session:
        row = _load(call, session, "update")
        row.tags = tags
        revise(call, row)
        return {"tags": tags}


@api.route("POST", _BASE, status=201)
async def create_tags(call: Call) -> dict[str, Any]:
    """tag-creation: the body's tags added to those the resource has (none removed, none
    twice), so tags whose characters a URL cannot carry can be set. As upstream, the limit
    counts the body's tags, checked once the resource is found and ``create_<r>:tags``
    allows it."""
    tags = _body_tags(call)
    with network(call).db.session() as session:
        row = _load(call, session, "create")
        if len(tags) > MAX_TAGS:
            raise _over_limit(call.params["collection"])
        added = [t for t in tags if t not in row.tags]
        if added:
            row.tags = [*row.tags, *added]
            revise(call, row)
    return {"tags": tags}


@api.route("DELETE", _BASE, status=204)
async def delete_tags(call: Call) -> None:
    with network(call).db.session() as session:
        row = _load(call, session, "delete")
        row.tags = []
        revise(call, row)


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
            revise(call, row)
    return Reply(None, status=201)


@api.route("DELETE", _BASE + "/{tag}", status=204)
async def delete_tag(call: Call) -> None:
    with network(call).db.session() as session:
        row = _load(call, session, "delete")
        if call.params["tag"] not in row.tags:
            raise ApiError(f"Tag {call.params['tag']} could not be found.", status=404,
                           kind="TagNotFound")
        row.tags = [t for t in row.tags if t != call.params["tag"]]
        revise(call, row)
