"""``/v2.0/floatingips``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call
from stacklab.network import models as m
from stacklab.network import quotas
from stacklab.network.api.base import network
from stacklab.network.api.networks import network_for
from stacklab.network.api.ports import port_for
from stacklab.network.api.resource import Resource, always_null, serve
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


def _moved(call: Call) -> list[str | None]:
    """The ports whose servers a write changed: each write step records them, and nova is
    told once the store has them."""
    moved: list[str | None] = call.memo.setdefault("moved_ports", [])
    return moved


async def _changed(call: Call) -> None:
    """Tell nova the servers behind the ports a write moved changed (neutron's
    network-changed event), over nova's external events API."""
    service = network(call)
    port_ids = _moved(call)
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


FLOATINGIP = Resource(
    name="floatingip", collection="floatingips", model=m.FloatingIP,
    response=FLOATINGIP_ATTRIBUTES, render=_render,
    not_found=lambda i: ApiError(f"Floating IP {i} could not be found", status=404,
                                 kind="FloatingIPNotFound"),
    computed={"qos_policy_id": always_null})


def _make(call: Call, session: Session, project: str, fields: dict[str, Any],
          parent: Mapping[str, Any]) -> m.FloatingIP:
    network_for(call, session, fields["floating_network_id"])
    if fields.get("subnet_id"):
        subnet_for(call, session, fields["subnet_id"])
    if fields.get("port_id"):
        _port_of(call, session, fields["port_id"], project)
    quotas.enforce(session, project, "floatingip")
    fip = network(call).routing.create_floatingip(session, project, fields)
    _moved(call).append(fields.get("port_id"))
    return fip


def _apply(call: Call, session: Session, fip: m.FloatingIP, fields: dict[str, Any],
           parent: Mapping[str, Any]) -> None:
    _moved(call).append(fip.fixed_port_id)
    if "port_id" in fields:
        if fields["port_id"]:
            _port_of(call, session, fields["port_id"], fip.project_id)
        network(call).routing.associate(session, fip, fields["port_id"],
                                        fields.get("fixed_ip_address"))
    if "description" in fields:
        fip.description = fields["description"]
    _moved(call).append(fields.get("port_id"))


def _remove(call: Call, session: Session, fip: m.FloatingIP) -> None:
    _moved(call).append(fip.fixed_port_id)
    network(call).routing.delete_floatingip(session, fip)


serve(FLOATINGIP, make=_make, apply=_apply, remove=_remove, after=_changed)
