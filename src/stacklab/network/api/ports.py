"""``/v2.0/ports``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exists, false, or_, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError
from stacklab.api.service import Call
from stacklab.network import models as m
from stacklab.network.api.base import network, target_of
from stacklab.network.api.networks import network_for_child
from stacklab.network.api.resource import (
    Condition,
    Parent,
    Resource,
    find,
    serve,
)
from stacklab.network.api.security_groups import groups_of_project
from stacklab.network.api.subnets import subnet_for
from stacklab.network.api.views import PORT_ATTRIBUTES, render_port
from stacklab.network.service import NetworkService


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


def port_target(port: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    return target_of(port, **{"network:tenant_id": parent["project_id"],
                              "network:project_id": parent["project_id"],
                              "network:shared": parent["shared"]})


def _parent(row: m.Network) -> dict[str, Any]:
    return {"project_id": row.project_id, "shared": row.shared}


def _visible(call: Call, table: Any, parent: Any) -> Condition | None:
    """A port is seen by its project and by its network's (neutron's network owner rule)."""
    me = call.context.project_id
    return None if call.context.is_admin else or_(table.c.project_id == me,
                                                   parent.c.project_id == me)


def _render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    fixed = NetworkService.fixed_ips(session, [r.id for r in rows])
    return [render_port(r, fixed[r.id]) for r in rows]


def _by_fixed_ips(table: Any, wanted: list[str]) -> Condition:
    """neutron's ``fixed_ips=ip_address=A`` / ``subnet_id=S`` / ``ip_address_substr=P``:
    one address of the port meeting all the kinds given (any value of each)."""
    kinds: dict[str, list[str]] = {}
    for value in wanted:
        key, sep, text = value.partition("=")
        if not sep or key not in ("ip_address", "subnet_id", "ip_address_substr"):
            return false()
        kinds.setdefault(key, []).append(text)
    ips = m.IPAllocation.__table__
    clauses: list[Condition] = [ips.c.port_id == table.c.id]
    if "ip_address" in kinds:
        clauses.append(ips.c.ip_address.in_(kinds["ip_address"]))
    if "subnet_id" in kinds:
        clauses.append(ips.c.subnet_id.in_(kinds["subnet_id"]))
    if "ip_address_substr" in kinds:
        clauses.append(or_(*(ips.c.ip_address.contains(t, autoescape=True)
                             for t in kinds["ip_address_substr"])))
    return exists(select(1).select_from(ips).where(*clauses))


def _by_vif_type(table: Any, wanted: list[str]) -> Condition:
    bound = table.c.binding_host_id != ""
    return or_(false(), *([bound] if "ovs" in wanted else []),
               *([~bound] if "unbound" in wanted else []))


PORT = Resource(
    name="port", collection="ports", model=m.Port,
    response=PORT_ATTRIBUTES,
    render=_render,
    not_found=lambda i: ApiError(f"Port {i} could not be found.", status=404,
                                 kind="PortNotFound"),
    visible=_visible, parent=Parent(m.Network, "network_id", ("project_id", "shared")),
    target_keys=("project_id", "device_owner"), target=port_target,
    scalar_lists=frozenset({"tags", "security_groups"}),
    computed={"fixed_ips": _by_fixed_ips, "binding:vif_type": _by_vif_type})


def port_for(call: Call, session: Session, port_id: str) -> m.Port:
    """A port a body names, as the caller may see it (else neutron's PortNotFound)."""
    find(call, session, PORT, port_id)
    return network(call).get_port(session, port_id)


def _network_of(call: Call, session: Session, fields: dict[str, Any],
                project: str) -> dict[str, Any]:
    return _parent(network_for_child(call, session, fields["network_id"], project, "port"))


def _make(call: Call, session: Session, project: str, fields: dict[str, Any],
          parent: Mapping[str, Any]) -> m.Port:
    _resolve_references(call, session, fields, project)
    return network(call).add_port(session, project, fields)


def _apply(call: Call, session: Session, row: m.Port, fields: dict[str, Any],
           parent: Mapping[str, Any]) -> None:
    service = network(call)
    _resolve_references(call, session, fields, row.project_id)
    service.update_port(session, row, fields)
    if service.port_events is not None:  # the status follows the binding and its agent
        service.port_events.updated(session, row, binding_changed="binding:host_id" in fields)


serve(PORT, make=_make, apply=_apply, parent_for=_network_of,
      remove=lambda call, session, row: network(call).delete_port(session, row))
