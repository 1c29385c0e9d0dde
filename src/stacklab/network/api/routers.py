"""``/v2.0/routers``: routers, their gateway, interfaces and static routes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import false, select, true
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError
from stacklab.api.service import Call
from stacklab.network import attributes, quotas
from stacklab.network import models as m
from stacklab.network.api.base import network
from stacklab.network.api.networks import network_for
from stacklab.network.api.ports import port_for
from stacklab.network.api.resource import Resource, always_null, member_action, serve
from stacklab.network.api.subnets import subnet_for
from stacklab.network.api.views import ROUTER_ATTRIBUTES, render_router
from stacklab.network.routing import GATEWAY, router_bad_request
from stacklab.network.service import NetworkService


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


ROUTER = Resource(
    name="router", collection="routers", model=m.Router, response=ROUTER_ATTRIBUTES,
    render=_render,
    not_found=lambda i: ApiError(f"Router {i} could not be found", status=404,
                                 kind="RouterNotFound"),
    scalar_lists=frozenset({"tags", "availability_zone_hints"}),
    computed={"availability_zones": lambda t, wanted: true() if "nova" in wanted
              else false(),
              "flavor_id": always_null})


def _make(call: Call, session: Session, project: str, fields: dict[str, Any],
          parent: Mapping[str, Any]) -> m.Router:
    _resolve_gateway(call, session, fields.get("external_gateway_info"))
    quotas.enforce(session, project, "router")
    return network(call).routing.create_router(session, project, fields)


def _without_null_modes(fields: dict[str, Any]) -> dict[str, Any]:
    """A null ha or distributed leaves it as it is."""
    return {k: v for k, v in fields.items() if not (k in ("ha", "distributed") and v is None)}


def _apply(call: Call, session: Session, router: m.Router, fields: dict[str, Any],
           parent: Mapping[str, Any]) -> None:
    _resolve_gateway(call, session, fields.get("external_gateway_info"))
    network(call).routing.update_router(session, router, fields)


serve(ROUTER, make=_make, apply=_apply, prepare=_without_null_modes,
      remove=lambda call, session, row: network(call).routing.delete_router(session, row))


def _resolve_gateway(call: Call, session: Session, info: Any) -> None:
    """The external network and fixed IPs' subnets of a gateway, as the caller sees them:
    another project's private network is not found rather than "not external"."""
    if not info:
        return
    network_for(call, session, info["network_id"])
    for item in info.get("external_fixed_ips") or []:
        if item.get("subnet_id") is not None:
            subnet_for(call, session, item["subnet_id"])


def _interface_body(body: Any, *, removal: bool) -> dict[str, Any]:
    """neutron's _validate_interface_info: a port or a subnet (not both when adding), each
    a UUID; the port or subnet must then be one the caller can see."""
    info: dict[str, Any] = body if isinstance(body, dict) else {}
    unknown = sorted(set(info) - {"subnet_id", "port_id"})
    if unknown:
        raise ApiError("Unrecognized attribute(s) '" + ", ".join(unknown) + "'", status=400,
                       kind="HTTPBadRequest")
    if not info:
        raise router_bad_request("Either subnet_id or port_id must be specified")
    for key in ("port_id", "subnet_id"):
        if key in info:
            reason = attributes.uuid(info[key])
            if reason:
                raise router_bad_request(reason)
    if not removal and len(info) == 2:
        raise router_bad_request("Cannot specify both subnet-id and port-id")
    return info


def _add_interface(call: Call, session: Session, router: m.Router,
                   info: dict[str, Any]) -> dict[str, Any]:
    if "port_id" in info:
        port_for(call, session, info["port_id"])
    else:
        subnet_for(call, session, info["subnet_id"])
    return network(call).routing.add_interface(session, router, info)


def _remove_interface(call: Call, session: Session, router: m.Router,
                      info: dict[str, Any]) -> dict[str, Any]:
    if "port_id" not in info:
        subnet_for(call, session, info["subnet_id"])
    return network(call).routing.remove_interface(session, router, info)


member_action(ROUTER, "add_router_interface",
              lambda body: _interface_body(body, removal=False), _add_interface)
member_action(ROUTER, "remove_router_interface",
              lambda body: _interface_body(body, removal=True), _remove_interface)
