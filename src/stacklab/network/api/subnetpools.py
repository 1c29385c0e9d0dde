"""``/v2.0/subnetpools``: pools of prefixes subnets are allocated from."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call, Reply
from stacklab.network import models as m
from stacklab.network.api.base import (
    api,
    network,
    target_of,
)
from stacklab.network.api.resource import (
    Condition,
    Resource,
    always_null,
    assign,
    create_one,
    delete_one,
    list_collection,
    show_one,
    update_one,
)
from stacklab.network.api.views import SUBNETPOOL_ATTRIBUTES, _standard


def render_pool(pool: Any) -> dict[str, Any]:
    return {**_standard(pool), "ip_version": pool.ip_version, "prefixes": list(pool.prefixes),
            "default_prefixlen": pool.default_prefixlen, "min_prefixlen": pool.min_prefixlen,
            "max_prefixlen": pool.max_prefixlen, "shared": pool.shared,
            "is_default": pool.is_default, "default_quota": pool.default_quota,
            "address_scope_id": None}


def visible(call: Call, pool: m.SubnetPool) -> bool:
    return call.context.is_admin or pool.shared or pool.project_id == call.context.project_id


def get_pool(call: Call, session: Session, pool_id: str) -> m.SubnetPool:
    pool = session.get(m.SubnetPool, pool_id)
    if pool is None or not visible(call, pool):
        raise ApiError(f"Subnet pool {pool_id} could not be found.", status=404,
                       kind="SubnetPoolNotFound")
    return pool


def _prefixes(values: list[str]) -> tuple[int, list[str]]:
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise BadRequest(f"Invalid input for prefixes. Reason: '{value}' is not a valid "
                             "IP subnet.") from None
    versions = {n.version for n in networks}
    if len(versions) != 1:
        raise BadRequest("Invalid input for operation: Cannot mix IPv4 and IPv6 prefixes in a "
                         "subnet pool.")
    collapsed = ipaddress.collapse_addresses(networks)  # type: ignore[type-var]
    return versions.pop(), [str(n) for n in collapsed]


def allocate_prefix(session: Session, pool: m.SubnetPool, prefixlen: int | None) -> str:
    """The first free prefix of ``prefixlen`` (the pool's default) in the pool."""
    length = int(prefixlen or pool.default_prefixlen)
    if not pool.min_prefixlen <= length <= pool.max_prefixlen:
        raise BadRequest(f"Invalid input for operation: Illegal prefix bounds: prefixlen "
                         f"{length}, min_prefixlen {pool.min_prefixlen}, max_prefixlen "
                         f"{pool.max_prefixlen}.")
    used = [ipaddress.ip_network(s.cidr) for s in session.scalars(
        select(m.Subnet).where(m.Subnet.subnetpool_id == pool.id))]
    for prefix in pool.prefixes:
        for candidate in ipaddress.ip_network(prefix).subnets(new_prefix=length):
            if not any(candidate.overlaps(u) for u in used):
                return str(candidate)
    raise ApiError(f"Insufficient prefix space to allocate subnet size /{length}.",
                   status=409, kind="SubnetAllocationError")


def _visible(call: Call, table: Any, parent: Any) -> Condition | None:
    """Pools a caller sees: their project's and shared ones."""
    if call.context.is_admin:
        return None
    return or_(table.c.project_id == call.context.project_id, table.c.shared.is_(True))


def _target(item: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    return target_of(item)


SUBNETPOOL = Resource(
    name="subnetpool", collection="subnetpools", model=m.SubnetPool,
    response=SUBNETPOOL_ATTRIBUTES,
    render=lambda session, rows: [render_pool(r) for r in rows],
    not_found=lambda i: ApiError(f"Subnet pool {i} could not be found.", status=404,
                                 kind="SubnetPoolNotFound"),
    visible=_visible, target_keys=("project_id", "shared"), target=_target,
    scalar_lists=frozenset({"tags", "prefixes"}),
    computed={"address_scope_id": always_null})


@api.route("GET", "/v2.0/subnetpools")
async def list_pools(call: Call) -> dict[str, Any]:
    return list_collection(call, SUBNETPOOL)


@api.route("GET", "/v2.0/subnetpools/{pool_id}")
async def show_pool(call: Call) -> dict[str, Any]:
    return show_one(call, SUBNETPOOL, call.params["pool_id"])


def _make(call: Call, session: Session, project: str, fields: dict[str, Any],
          parent: Mapping[str, Any]) -> m.SubnetPool:
    if not fields.get("prefixes"):
        raise BadRequest("Failed to parse request. Required attribute 'prefixes' not "
                         "specified")
    version, prefixes = _prefixes(list(fields["prefixes"]))
    widest = min(ipaddress.ip_network(p).prefixlen for p in prefixes)
    top = 32 if version == 4 else 128
    minimum = int(fields.get("min_prefixlen") or widest)
    maximum = int(fields.get("max_prefixlen") or top)
    default = int(fields.get("default_prefixlen") or minimum)
    if not minimum <= default <= maximum <= top:
        raise BadRequest(f"Invalid input for operation: Illegal prefix bounds: prefixlen "
                         f"{default}, min_prefixlen {minimum}, max_prefixlen {maximum}.")
    service = network(call)
    now = service.clock.now()
    pool = m.SubnetPool(
        id=service.ids.uuid(), project_id=project, name=fields.get("name", ""),
        description=fields.get("description", ""), ip_version=version, prefixes=prefixes,
        default_prefixlen=default, min_prefixlen=minimum, max_prefixlen=maximum,
        shared=bool(fields.get("shared", False)),
        is_default=bool(fields.get("is_default", False)),
        default_quota=fields.get("default_quota"), tags=[], created_at=now, updated_at=now)
    session.add(pool)
    return pool


@api.route("POST", "/v2.0/subnetpools", status=201)
async def create_pool(call: Call) -> Reply:
    return create_one(call, SUBNETPOOL, _make)


def _apply(call: Call, session: Session, pool: m.SubnetPool, fields: dict[str, Any],
           parent: Mapping[str, Any]) -> None:
    if "prefixes" in fields:
        version, prefixes = _prefixes([*pool.prefixes, *fields["prefixes"]])
        if version != pool.ip_version:
            raise BadRequest("Invalid input for operation: Cannot mix IPv4 and IPv6 "
                             "prefixes in a subnet pool.")
        pool.prefixes = prefixes
    assign(call, session, pool, {k: v for k, v in fields.items() if k != "prefixes"}, parent,
           resource="subnetpool")
    top = 32 if pool.ip_version == 4 else 128
    if not pool.min_prefixlen <= pool.default_prefixlen <= pool.max_prefixlen <= top:
        raise BadRequest(f"Invalid input for operation: Illegal prefix bounds: prefixlen "
                         f"{pool.default_prefixlen}, min_prefixlen {pool.min_prefixlen}, "
                         f"max_prefixlen {pool.max_prefixlen}.")


def _remove(call: Call, session: Session, pool: m.SubnetPool) -> None:
    if session.scalar(select(m.Subnet.id).where(m.Subnet.subnetpool_id == pool.id)):
        raise ApiError(f"Unable to complete operation on subnet pool {pool.id}. Subnet "
                       "pool has subnets allocated from it.", status=409,
                       kind="SubnetPoolInUse")
    session.delete(pool)


@api.route("PUT", "/v2.0/subnetpools/{pool_id}")
async def update_pool(call: Call) -> dict[str, Any]:
    return update_one(call, SUBNETPOOL, call.params["pool_id"], _apply)


@api.route("DELETE", "/v2.0/subnetpools/{pool_id}", status=204)
async def delete_pool(call: Call) -> None:
    delete_one(call, SUBNETPOOL, call.params["pool_id"], _remove)
