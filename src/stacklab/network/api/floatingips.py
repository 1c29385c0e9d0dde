"""``/v2.0/floatingips``."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call, Reply
from stacklab.network import models as m
from stacklab.network import quotas
from stacklab.network.api.base import (
    api,
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
    update_one,
)
from stacklab.network.api.subnets import subnet_for
from stacklab.network.api.views import FLOATINGIP_ATTRIBUTES, render_floatingip
from stacklab.network.nova import COMPUTE_OWNER, network_changed


def _port_of(call: Call, session: Session, port_id: str, project: str) -> m.Port:
    """The port a floating IP is to map to: one the caller sees (else PortNotFound), and the
    floating IP's project's own unless an admin asks (neutron's _internal_fip_assoc_data)."""
    port = port_for(call, session, port_id)
    if port.project_id != project and not call.context.is_admin:
        raise BadRequest(f"Bad floatingip request: Cannot process floating IP association "
                         f"with Port {port_id}, since that port is owned by a different "
                         "tenant.")
    return port


async def _changed(call: Call, *port_ids: str | None) -> None:
    """Tell nova the servers behind these ports changed (neutron's network-changed event),
    over nova's external events API."""
    service = network(call)
    if service.nova is None:
        return
    with service.db.session() as session:
        events = [network_changed(p.device_id, p.id) for p in session.scalars(
            select(m.Port).where(m.Port.id.in_([p for p in port_ids if p])).order_by(m.Port.id))
            if p.device_owner.startswith(COMPUTE_OWNER) and p.device_id]
    await service.nova.send_events(events)


def _render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Floating IPs with their ports' details: one query for the ports of the page."""
    wanted = [r.fixed_port_id for r in rows if r.fixed_port_id]
    ports = {p.id: p for p in session.scalars(select(m.Port).where(
        m.Port.id.in_(wanted)))} if wanted else {}
    return [render_floatingip(r, ports.get(r.fixed_port_id or "")) for r in rows]


def _visible_rows(call: Call, table: Any, parent: Any) -> Condition | None:
    return None if call.context.is_admin else table.c.project_id == call.context.project_id


def _target(item: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    return target_of(item)


FLOATINGIP = Resource(
    name="floatingip", collection="floatingips", model=m.FloatingIP,
    response=FLOATINGIP_ATTRIBUTES, render=_render,
    not_found=lambda i: ApiError(f"Floating IP {i} could not be found", status=404,
                                 kind="FloatingIPNotFound"),
    visible=_visible_rows, target_keys=("project_id",), target=_target,
    computed={"qos_policy_id": always_null})


@api.route("GET", "/v2.0/floatingips")
async def list_floatingips(call: Call) -> dict[str, Any]:
    return list_collection(call, FLOATINGIP)


@api.route("GET", "/v2.0/floatingips/{fip_id}")
async def show_floatingip(call: Call) -> dict[str, Any]:
    return show_one(call, FLOATINGIP, call.params["fip_id"])


# Each write hook records the ports whose servers it changed (a list the handler made);
# the handler tells nova about them once the store has them.
Moved = list[str | None]


def _make(moved: Moved, call: Call, session: Session, project: str, fields: dict[str, Any],
          parent: Mapping[str, Any]) -> m.FloatingIP:
    network_for(call, session, fields["floating_network_id"])
    if fields.get("subnet_id"):
        subnet_for(call, session, fields["subnet_id"])
    if fields.get("port_id"):
        _port_of(call, session, fields["port_id"], project)
    quotas.enforce(session, project, "floatingip")
    fip = network(call).routing.create_floatingip(session, project, fields)
    moved.append(fields.get("port_id"))
    return fip


@api.route("POST", "/v2.0/floatingips", status=201)
async def create_floatingip(call: Call) -> Reply:
    moved: Moved = []
    reply = create_one(call, FLOATINGIP, functools.partial(_make, moved))
    await _changed(call, *moved)
    return reply


def _apply(moved: Moved, call: Call, session: Session, fip: m.FloatingIP,
           fields: dict[str, Any], parent: Mapping[str, Any]) -> None:
    moved.append(fip.fixed_port_id)
    if "port_id" in fields:
        if fields["port_id"]:
            _port_of(call, session, fields["port_id"], fip.project_id)
        network(call).routing.associate(session, fip, fields["port_id"],
                                fields.get("fixed_ip_address"))
    if "description" in fields:
        fip.description = fields["description"]
    moved.append(fields.get("port_id"))


@api.route("PUT", "/v2.0/floatingips/{fip_id}")
async def update_floatingip(call: Call) -> dict[str, Any]:
    moved: Moved = []
    body = update_one(call, FLOATINGIP, call.params["fip_id"], functools.partial(_apply, moved))
    await _changed(call, *moved)
    return body


def _remove(moved: Moved, call: Call, session: Session, fip: m.FloatingIP) -> None:
    moved.append(fip.fixed_port_id)
    network(call).routing.delete_floatingip(session, fip)


@api.route("DELETE", "/v2.0/floatingips/{fip_id}", status=204)
async def delete_floatingip(call: Call) -> None:
    moved: Moved = []
    delete_one(call, FLOATINGIP, call.params["fip_id"], functools.partial(_remove, moved))
    await _changed(call, *moved)
