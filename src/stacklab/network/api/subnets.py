"""``/v2.0/subnets``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_
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
from stacklab.network.api.views import SUBNET_ATTRIBUTES, fields_of, render_subnet


def _target(subnet: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    return target_of(subnet, **{"network:tenant_id": parent["project_id"],
                                "network:project_id": parent["project_id"],
                                "network:shared": parent["shared"]})


def _parent(row: m.Network) -> dict[str, Any]:
    return {"project_id": row.project_id, "shared": row.shared, "external": row.external}


def _visible(call: Call, table: Any, parent: Any) -> Condition | None:
    """A subnet is seen by its project and by whoever sees its network."""
    if call.context.is_admin:
        return None
    me = call.context.project_id
    return or_(table.c.project_id == me, parent.c.project_id == me,
               parent.c.shared.is_(True), parent.c.external.is_(True))


def _render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [render_subnet(fields_of(r)) for r in rows]


SUBNET = Resource(
    name="subnet", collection="subnets", model=m.Subnet, response=SUBNET_ATTRIBUTES,
    render=_render,
    not_found=lambda i: ApiError(f"Subnet {i} could not be found.", status=404,
                                 kind="SubnetNotFound"),
    visible=_visible, parent=Parent(m.Network, "network_id", ("project_id", "shared",
                                                               "external")),
    target_keys=("project_id",), target=_target,
    scalar_lists=frozenset({"tags", "dns_nameservers", "service_types"}))


def subnet_for(call: Call, session: Session, subnet_id: str) -> m.Subnet:
    """A subnet a body names, as the caller may see it (else neutron's SubnetNotFound)."""
    find(call, session, SUBNET, subnet_id)
    return network(call).get_subnet(session, subnet_id)


def _network_of(call: Call, session: Session, fields: dict[str, Any],
                project: str) -> dict[str, Any]:
    return _parent(network_for_child(call, session, fields["network_id"], project, "subnet"))


serve(SUBNET,
      make=lambda call, session, project, fields, parent:
      network(call).add_subnet(session, project, fields, call.context),
      parent_for=_network_of,
      apply=lambda call, session, row, fields, parent: network(call).update_subnet(row, fields),
      remove=lambda call, session, row: network(call).delete_subnet(session, row))
