"""``/v2.0/subnetpools``: pools of prefixes subnets are allocated from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_

from stacklab.api.service import Call, Reply
from stacklab.network import models as m
from stacklab.network import subnet_pools
from stacklab.network.api.base import (
    api,
    network,
    target_of,
)
from stacklab.network.api.resource import (
    Condition,
    Resource,
    always_null,
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
    not_found=subnet_pools.not_found,
    visible=_visible, target_keys=("project_id", "shared"), target=_target,
    scalar_lists=frozenset({"tags", "prefixes"}),
    computed={"address_scope_id": always_null})


@api.route("GET", "/v2.0/subnetpools")
async def list_pools(call: Call) -> dict[str, Any]:
    return list_collection(call, SUBNETPOOL)


@api.route("GET", "/v2.0/subnetpools/{pool_id}")
async def show_pool(call: Call) -> dict[str, Any]:
    return show_one(call, SUBNETPOOL, call.params["pool_id"])


@api.route("POST", "/v2.0/subnetpools", status=201)
async def create_pool(call: Call) -> Reply:
    return create_one(call, SUBNETPOOL, lambda call, session, project, fields, parent:
                      network(call).pools.create(session, project, fields))


@api.route("PUT", "/v2.0/subnetpools/{pool_id}")
async def update_pool(call: Call) -> dict[str, Any]:
    return update_one(call, SUBNETPOOL, call.params["pool_id"],
                      lambda call, session, pool, fields, parent:
                      network(call).pools.update(pool, fields))


@api.route("DELETE", "/v2.0/subnetpools/{pool_id}", status=204)
async def delete_pool(call: Call) -> None:
    delete_one(call, SUBNETPOOL, call.params["pool_id"],
               lambda call, session, pool: network(call).pools.delete(session, pool))
