"""``/v2.0/ports``."""

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
from stacklab.network.api.networks import network_for_child
from stacklab.network.api.security_groups import groups_of_project
from stacklab.network.api.subnets import subnet_for
from stacklab.network.api.views import render_port

# Ports the L3 plugin owns: they go with their router or floating IP, not by themselves.
_L3_OWNERS = {"network:router_interface", "network:router_interface_distributed",
              "network:ha_router_replicated_interface", "network:router_gateway",
              "network:floatingip", "network:router_ha_interface"}
_COLUMNS = {"binding:host_id": "binding_host_id", "binding:vnic_type": "binding_vnic_type",
            "binding:profile": "binding_profile"}


# Attributes a null clears: stored as their empty value.
_EMPTY_WHEN_NULL: dict[str, Any] = {"binding:profile": {}, "extra_dhcp_opts": []}


def _resolve_references(call: Call, session: Session, fields: dict[str, Any],
                        project: str) -> None:
    """What a port body names must be within reach: its fixed IPs' subnets as the caller
    sees them, its security groups the port's project's own (neutron's
    _get_security_groups_on_port), whoever asks, unless an admin."""
    for item in fields.get("fixed_ips") or []:
        if item.get("subnet_id") is not None:
            subnet_for(call, session, item["subnet_id"])
    if fields.get("security_groups"):
        groups_of_project(call, session, fields["security_groups"], project)


def port_for(call: Call, session: Session, port_id: str) -> m.Port:
    """A port a body names, as the caller may see it (else neutron's PortNotFound)."""
    return _load(call, session, port_id)[0]


def port_target(port: dict[str, Any], parent: m.Network) -> dict[str, Any]:
    return target_of(port, **{"network:tenant_id": parent.project_id,
                              "network:project_id": parent.project_id,
                              "network:shared": parent.shared})


def _visible(call: Call, row: m.Port, parent: m.Network) -> bool:
    context = call.context
    return context.is_admin or row.project_id == context.project_id \
        or parent.project_id == context.project_id


def _load(call: Call, session: Session, port_id: str) -> tuple[m.Port, m.Network]:
    service = network(call)
    row = service.get_port(session, port_id)
    parent = service.get_network(session, row.network_id)
    fixed = service.fixed_ips(session, [row.id])[row.id]
    if not _visible(call, row, parent) or not call.allows(
            "get_port", port_target(render_port(row, fixed), parent)):
        raise ApiError(f"Port {port_id} could not be found.", status=404, kind="PortNotFound")
    return row, parent


def shown(call: Call, session: Session, row: m.Port, parent: m.Network) -> dict[str, Any]:
    body = render_port(row, network(call).fixed_ips(session, [row.id])[row.id])
    return hide_attributes(call, "port", body, port_target(body, parent))


@api.route("GET", "/v2.0/ports")
async def list_ports(call: Call) -> dict[str, Any]:
    service = network(call)
    query = select(m.Port).order_by(m.Port.created_at, m.Port.id)
    # The common filters go to SQL: a server's ports, a network's ports.
    for name, column in (("device_id", m.Port.device_id), ("network_id", m.Port.network_id)):
        values = call.query.getlist(name)
        if values:
            query = query.where(column.in_(values))
    with service.db.session() as session:
        parents = {n.id: n for n in session.scalars(select(m.Network))}
        rows = [r for r in session.scalars(query) if _visible(call, r, parents[r.network_id])]
        fixed = service.fixed_ips(session, [r.id for r in rows])
    items = [render_port(r, fixed[r.id]) for r in rows]
    items = [i for i in items if call.allows("get_port", port_target(
        i, parents[i["network_id"]]))]
    return list_response(call, "ports", items, lambda i: hide_attributes(
        call, "port", dict(i), port_target(i, parents[i["network_id"]])))


@api.route("GET", "/v2.0/ports/{port_id}")
async def show_port(call: Call) -> dict[str, Any]:
    with network(call).db.session() as session:
        row, parent = _load(call, session, call.params["port_id"])
        return {"port": only_fields(call, shown(call, session, row, parent))}


@api.route("POST", "/v2.0/ports", status=201)
async def create_port(call: Call) -> Reply:
    fields = request_body(call, "port", create=True)
    service = network(call)
    project = fields.get("project_id") or fields.get("tenant_id") or call.context.project_id
    with service.db.session() as session:
        parent = network_for_child(call, session, fields["network_id"], project or "",
                                   "port")
        target = port_target({**fields, "project_id": project}, parent)
        authorize(call, "create_port", target)
        check_attributes(call, "create", "port", fields, target)
        _resolve_references(call, session, fields, project or "")
        quotas.enforce(session, project or "", "port")
        row = service.create_port(session, project or "", fields)
        session.flush()
        return Reply({"port": shown(call, session, row, parent)}, status=201)


@api.route("PUT", "/v2.0/ports/{port_id}")
async def update_port(call: Call) -> dict[str, Any]:
    fields = request_body(call, "port", create=False)
    service = network(call)
    with service.db.session() as session:
        row, parent = _load(call, session, call.params["port_id"])
        target = port_target(render_port(row, []), parent)
        authorize(call, "update_port", target)
        check_attributes(call, "update", "port", fields, target)
        _resolve_references(call, session, fields, row.project_id)
        for name, value in fields.items():
            if name in _EMPTY_WHEN_NULL and value is None:
                value = _EMPTY_WHEN_NULL[name]
            if name == "fixed_ips":
                service.update_fixed_ips(session, row, list(value))
            elif name == "allowed_address_pairs":
                row.allowed_address_pairs = service.address_pairs(value, row.mac_address)
            else:
                setattr(row, _COLUMNS.get(name, name), value)
        if "binding:host_id" in fields:
            row.status = "ACTIVE" if row.binding_host_id and row.admin_state_up else "DOWN"
        row.updated_at = service.clock.now()
        row.revision_number += 1
        session.flush()
        return {"port": shown(call, session, row, parent)}


@api.route("DELETE", "/v2.0/ports/{port_id}", status=204)
async def delete_port(call: Call) -> None:
    service = network(call)
    with service.db.session() as session:
        row, parent = _load(call, session, call.params["port_id"])
        authorize(call, "delete_port", port_target(render_port(row, []), parent))
        if row.device_owner in _L3_OWNERS:
            raise ApiError(f"Port {row.id} cannot be deleted directly via the port API: has "
                           f"device owner {row.device_owner}.", status=409, kind="L3PortInUse")
        service.delete_port(session, row)
