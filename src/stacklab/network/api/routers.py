"""``/v2.0/routers``: routers, their gateway, interfaces and static routes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import false, select, true
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError
from stacklab.api.service import Call, Reply
from stacklab.network import attributes, quotas
from stacklab.network import models as m
from stacklab.network.api.base import (
    api,
    authorize,
    network,
    target_of,
)
from stacklab.network.api.networks import network_for
from stacklab.network.api.ports import port_for
from stacklab.network.api.resource import (
    Condition,
    Resource,
    always_null,
    create_one,
    delete_one,
    list_collection,
    show_one,
    shown,
    update_one,
)
from stacklab.network.api.subnets import subnet_for
from stacklab.network.api.views import ROUTER_ATTRIBUTES, render_router
from stacklab.network.routing import GATEWAY, router_bad_request
from stacklab.network.service import NetworkService


def _visible(call: Call, router: m.Router) -> bool:
    return call.context.is_admin or router.project_id == call.context.project_id


def _load(call: Call, session: Session, router_id: str) -> m.Router:
    router = network(call).routing.get_router(session, router_id)
    if not _visible(call, router):
        raise ApiError(f"Router {router_id} could not be found", status=404,
                       kind="RouterNotFound")
    return router


def router_for(call: Call, session: Session, router_id: str) -> m.Router:
    """What a body or a sub-resource path names, as the caller may see it."""
    return _load(call, session, router_id)


def router_body(call: Call, session: Session, router: m.Router) -> dict[str, Any]:
    return shown(call, session, ROUTER, router, {})


def _render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Routers with their gateways' addresses: one query for the gateway ports of the page,
    one for their addresses."""
    ports = m.Port.__table__
    gateways = dict(session.execute(select(ports.c.device_id, ports.c.id).where(
        ports.c.device_owner == GATEWAY,
        ports.c.device_id.in_([r.id for r in rows]))).all()) if rows else {}
    fixed = NetworkService.fixed_ips(session, list(gateways.values()))
    return [render_router(r, fixed[gateways[r.id]] if r.id in gateways else [])
            for r in rows]


def _visible_rows(call: Call, table: Any, parent: Any) -> Condition | None:
    return None if call.context.is_admin else table.c.project_id == call.context.project_id


def _target(item: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    return target_of(item)


ROUTER = Resource(
    name="router", collection="routers", model=m.Router, response=ROUTER_ATTRIBUTES,
    render=_render,
    not_found=lambda i: ApiError(f"Router {i} could not be found", status=404,
                                 kind="RouterNotFound"),
    visible=_visible_rows, target_keys=("project_id",), target=_target,
    scalar_lists=frozenset({"tags", "availability_zone_hints"}),
    computed={"availability_zones": lambda t, wanted: true() if "nova" in wanted
              else false(),
              "flavor_id": always_null})


@api.route("GET", "/v2.0/routers")
async def list_routers(call: Call) -> dict[str, Any]:
    return list_collection(call, ROUTER)


@api.route("GET", "/v2.0/routers/{router_id}")
async def show_router(call: Call) -> dict[str, Any]:
    return show_one(call, ROUTER, call.params["router_id"])


def _make(call: Call, session: Session, project: str, fields: dict[str, Any],
          parent: Mapping[str, Any]) -> m.Router:
    _resolve_gateway(call, session, fields.get("external_gateway_info"))
    quotas.enforce(session, project, "router")
    return network(call).routing.create_router(session, project, fields)


@api.route("POST", "/v2.0/routers", status=201)
async def create_router(call: Call) -> Reply:
    return create_one(call, ROUTER, _make)


def _without_null_modes(fields: dict[str, Any]) -> dict[str, Any]:
    """A null ha or distributed leaves it as it is."""
    return {k: v for k, v in fields.items() if not (k in ("ha", "distributed") and v is None)}


def _apply(call: Call, session: Session, router: m.Router, fields: dict[str, Any],
           parent: Mapping[str, Any]) -> None:
    _resolve_gateway(call, session, fields.get("external_gateway_info"))
    network(call).routing.update_router(session, router, fields)


@api.route("PUT", "/v2.0/routers/{router_id}")
async def update_router(call: Call) -> dict[str, Any]:
    return update_one(call, ROUTER, call.params["router_id"], _apply,
                      prepare=_without_null_modes)


@api.route("DELETE", "/v2.0/routers/{router_id}", status=204)
async def delete_router(call: Call) -> None:
    delete_one(call, ROUTER, call.params["router_id"],
               lambda call, session, row: network(call).routing.delete_router(session, row))


def _resolve_gateway(call: Call, session: Session, info: Any) -> None:
    """The external network and fixed IPs' subnets of a gateway, as the caller sees them:
    another project's private network is not found rather than "not external"."""
    if not info:
        return
    network_for(call, session, info["network_id"])
    for item in info.get("external_fixed_ips") or []:
        if item.get("subnet_id") is not None:
            subnet_for(call, session, item["subnet_id"])


def _interface_body(call: Call, *, removal: bool) -> dict[str, Any]:
    """neutron's _validate_interface_info: a port or a subnet (not both when adding), each
    a UUID; the port or subnet must then be one the caller can see."""
    body = call.body if isinstance(call.body, dict) else {}
    unknown = sorted(set(body) - {"subnet_id", "port_id"})
    if unknown:
        raise ApiError("Unrecognized attribute(s) '" + ", ".join(unknown) + "'", status=400,
                       kind="HTTPBadRequest")
    if not body:
        raise router_bad_request("Either subnet_id or port_id must be specified")
    for key in ("port_id", "subnet_id"):
        if key in body:
            reason = attributes.uuid(body[key])
            if reason:
                raise router_bad_request(reason)
    if not removal and len(body) == 2:
        raise router_bad_request("Cannot specify both subnet-id and port-id")
    return body


def _resolve_interface(call: Call, session: Session, info: dict[str, Any]) -> None:
    if "port_id" in info:
        port_for(call, session, info["port_id"])
    elif "subnet_id" in info:
        subnet_for(call, session, info["subnet_id"])


@api.route("PUT", "/v2.0/routers/{router_id}/add_router_interface")
async def add_interface(call: Call) -> dict[str, Any]:
    info = _interface_body(call, removal=False)
    with network(call).db.session() as session:
        router = _load(call, session, call.params["router_id"])
        authorize(call, "add_router_interface", target_of({"project_id": router.project_id}))
        _resolve_interface(call, session, info)
        return network(call).routing.add_interface(session, router, info)


@api.route("PUT", "/v2.0/routers/{router_id}/remove_router_interface")
async def remove_interface(call: Call) -> dict[str, Any]:
    info = _interface_body(call, removal=True)
    with network(call).db.session() as session:
        router = _load(call, session, call.params["router_id"])
        authorize(call, "remove_router_interface",
                  target_of({"project_id": router.project_id}))
        if "subnet_id" in info and "port_id" not in info:
            subnet_for(call, session, info["subnet_id"])
        return network(call).routing.remove_interface(session, router, info)
