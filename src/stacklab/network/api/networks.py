"""``/v2.0/networks``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exists, false, or_, select, true
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError
from stacklab.api.service import Call
from stacklab.network import models as m
from stacklab.network.api.base import network, target_of
from stacklab.network.api.resource import (
    Condition,
    Resource,
    serve,
)
from stacklab.network.api.views import NETWORK_ATTRIBUTES, fields_of, render_network


def visible_to(call: Call, row: m.Network) -> bool:
    context = call.context
    return context.is_admin or row.project_id == context.project_id or row.shared \
        or row.external


def _visible(call: Call, table: Any, parent: Any) -> Condition | None:
    """Networks a caller sees: their project's, shared ones and external ones."""
    if call.context.is_admin:
        return None
    return or_(table.c.project_id == call.context.project_id, table.c.shared.is_(True),
               table.c.external.is_(True))


_SUBNETS_PER_QUERY = 900


def _subnet_ids(session: Session, network_ids: list[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {n: [] for n in network_ids}
    table = m.Subnet.__table__
    for start in range(0, len(network_ids), _SUBNETS_PER_QUERY):
        chunk = network_ids[start:start + _SUBNETS_PER_QUERY]
        for network_id, subnet_id in session.execute(
                select(table.c.network_id, table.c.id).where(table.c.network_id.in_(chunk))
                .order_by(table.c.created_at, table.c.id)):
            result[network_id].append(subnet_id)
    return result


def _render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    subnets = _subnet_ids(session, [r.id for r in rows])
    return [render_network(fields_of(r), subnets[r.id]) for r in rows]


def _with_subnet(table: Any, *where: Condition) -> Condition:
    subnets = m.Subnet.__table__
    return exists(select(1).select_from(subnets).where(subnets.c.network_id == table.c.id,
                                                       *where))


def _target(item: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    return target_of(item)


NETWORK = Resource(
    name="network", collection="networks", model=m.Network, response=NETWORK_ATTRIBUTES,
    render=_render,
    not_found=lambda i: ApiError(f"Network {i} could not be found.", status=404,
                                 kind="NetworkNotFound"),
    visible=_visible, target_keys=("project_id", "shared", "router:external"),
    target=_target, scalar_lists=frozenset({"tags", "availability_zone_hints"}),
    computed={
        "subnets": lambda t, wanted: _with_subnet(t, m.Subnet.__table__.c.id.in_(wanted)),
        # A network with a subnet is in the lab's one zone.
        "availability_zones": lambda t, wanted: _with_subnet(t) if "nova" in wanted
        else false(),
        "l2_adjacency": lambda t, wanted: true() if "true" in {w.lower() for w in wanted}
        else false(),
    })


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


serve(NETWORK,
      make=lambda call, session, project, fields, parent:
      network(call).add_network(session, project, fields),
      apply=lambda call, session, row, fields, parent:
      network(call).update_network(session, row, fields),
      remove=lambda call, session, row: network(call).delete_network(session, row))
