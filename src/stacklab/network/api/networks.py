"""``/v2.0/networks``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError
from stacklab.api.service import Call, Reply
from stacklab.network import models as m
from stacklab.network.api import quotas
from stacklab.network.api.base import (
    api,
    authorize,
    check_attributes,
    hide_attributes,
    list_response,
    network,
    only_fields,
    request_body,
    target_of,
)
from stacklab.network.api.views import render_network


def visible_to(call: Call, row: m.Network) -> bool:
    context = call.context
    return context.is_admin or row.project_id == context.project_id or row.shared \
        or row.external


def _subnet_ids(session: Session, network_ids: list[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {n: [] for n in network_ids}
    for network_id, subnet_id in session.execute(
            select(m.Subnet.network_id, m.Subnet.id).order_by(m.Subnet.created_at, m.Subnet.id)):
        if network_id in result:
            result[network_id].append(subnet_id)
    return result


def network_for(call: Call, session: Session, network_id: str) -> m.Network:
    """A network a body names, as the caller may see it (neutron looks it up in the
    caller's context): another project's private network does not exist for them."""
    row = network(call).get_network(session, network_id)
    if not visible_to(call, row):
        raise ApiError(f"Network {network_id} could not be found.", status=404,
                       kind="NetworkNotFound")
    return row


def network_for_child(call: Call, session: Session, network_id: str, project: str,
                      resource: str) -> m.Network:
    """The network a new port or subnet goes on: visible, and the project's own unless
    shared (neutron's ownership check, which runs before the policy)."""
    row = network_for(call, session, network_id)
    if not (call.context.is_admin or row.shared or row.project_id == project):
        raise ApiError(f"Tenant {project} not allowed to create {resource} on this network",
                       status=403, kind="HTTPForbidden")
    return row


def render_network_row(session: Session, row: m.Network) -> dict[str, Any]:
    return render_network(row, _subnet_ids(session, [row.id])[row.id])


def show_body(call: Call, row: m.Network, subnets: list[str]) -> dict[str, Any]:
    body = render_network(row, subnets)
    return hide_attributes(call, "network", body, target_of(body))


def _load(call: Call, session: Session, network_id: str) -> m.Network:
    row = network(call).get_network(session, network_id)
    if not visible_to(call, row) or not call.allows("get_network", target_of(
            render_network(row, []))):
        raise ApiError(f"Network {network_id} could not be found.", status=404,
                       kind="NetworkNotFound")
    return row


def _check_unsharing(session: Session, row: m.Network) -> None:
    """A network other projects have ports or subnets on stays shared (neutron's
    InvalidSharedSetting): unsharing it would leave them on a network they cannot see."""
    others = session.scalar(select(m.Port.id).where(
        m.Port.network_id == row.id, m.Port.project_id.not_in([row.project_id, ""]),
        ~m.Port.device_owner.startswith("network:dhcp")).limit(1)) or session.scalar(
        select(m.Subnet.id).where(m.Subnet.network_id == row.id,
                                  m.Subnet.project_id != row.project_id).limit(1))
    if others:
        raise ApiError(f"Unable to reconfigure sharing settings for network {row.id}. "
                       "Multiple tenants are using it.", status=409, kind="InvalidSharedSetting")


@api.route("GET", "/v2.0/networks")
async def list_networks(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        rows = [r for r in session.scalars(select(m.Network).order_by(m.Network.created_at,
                                                                      m.Network.id))
                if visible_to(call, r)]
        subnets = _subnet_ids(session, [r.id for r in rows])
    items = [render_network(r, subnets[r.id]) for r in rows]
    items = [i for i in items if call.allows("get_network", target_of(i))]
    return list_response(call, "networks", items,
                         lambda i: hide_attributes(call, "network", dict(i), target_of(i)))


@api.route("GET", "/v2.0/networks/{network_id}")
async def show_network(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        row = _load(call, session, call.params["network_id"])
        subnets = _subnet_ids(session, [row.id])[row.id]
    return {"network": only_fields(call, show_body(call, row, subnets))}


@api.route("POST", "/v2.0/networks", status=201)
async def create_network(call: Call) -> Reply:
    fields = request_body(call, "network", create=True)
    project = fields.get("project_id") or fields.get("tenant_id") or call.context.project_id
    target = target_of({**fields, "project_id": project})
    authorize(call, "create_network", target)
    check_attributes(call, "create", "network", fields, target)
    with network(call).db.session() as session:
        quotas.enforce(session, project or "", "network")
        row = network(call).create_network(session, project or "", fields)
        session.flush()
        body = show_body(call, row, [])
    return Reply({"network": body}, status=201)


@api.route("PUT", "/v2.0/networks/{network_id}")
async def update_network(call: Call) -> dict[str, Any]:
    fields = request_body(call, "network", create=False)
    service = network(call)
    with service.db.session() as session:
        row = _load(call, session, call.params["network_id"])
        target = target_of(render_network(row, []))
        authorize(call, "update_network", target)
        check_attributes(call, "update", "network", fields, target)
        if "mtu" in fields:
            service.check_mtu(row.network_type, fields["mtu"])
        if row.shared and fields.get("shared") is False:
            _check_unsharing(session, row)
        for name, value in fields.items():
            column = {"router:external": "external"}.get(name, name)
            setattr(row, column, value)
        row.updated_at = service.clock.now()
        row.revision_number += 1
        subnets = _subnet_ids(session, [row.id])[row.id]
        return {"network": show_body(call, row, subnets)}


@api.route("DELETE", "/v2.0/networks/{network_id}", status=204)
async def delete_network(call: Call) -> None:
    service = network(call)
    with service.db.session() as session:
        row = _load(call, session, call.params["network_id"])
        authorize(call, "delete_network", target_of(render_network(row, [])))
        service.delete_network(session, row)
