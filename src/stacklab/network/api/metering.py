"""``/v2.0/metering/metering-labels`` and ``/v2.0/metering/metering-label-rules`` (neutron's
metering extension): created, listed, shown and deleted, never updated."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.service import Call
from stacklab.network import metering
from stacklab.network import models as m
from stacklab.network.api.base import network, target_of
from stacklab.network.api.resource import Condition, Parent, Resource, load, serve

LABEL_ATTRIBUTES = ("id", "name", "description", "shared", "project_id", "tenant_id")
RULE_ATTRIBUTES = ("id", "metering_label_id", "direction", "excluded", "remote_ip_prefix",
                   "source_ip_prefix", "destination_ip_prefix")


def _render_label(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"id": r.id, "name": r.name, "description": r.description, "shared": r.shared,
             "project_id": r.project_id, "tenant_id": r.project_id} for r in rows]


def _render_rule(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"id": r.id, "metering_label_id": r.metering_label_id, "direction": r.direction,
             "excluded": r.excluded, "remote_ip_prefix": r.remote_ip_prefix,
             "source_ip_prefix": r.source_ip_prefix,
             "destination_ip_prefix": r.destination_ip_prefix} for r in rows]


METERING_LABEL = Resource(
    name="metering_label", collection="metering_labels", model=m.MeteringLabel,
    response=LABEL_ATTRIBUTES, render=_render_label, not_found=metering.label_not_found,
    path="metering/metering-labels", scalar_lists=frozenset())


def _rule_visible(call: Call, table: Any, parent: Any) -> Condition | None:
    """A rule has no project: it is seen by whoever sees its label."""
    return None if call.context.is_admin else parent.c.project_id == call.context.project_id


def _rule_target(item: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's policy target is its label's project (neutron's rules read project_id)."""
    return target_of({"project_id": parent["project_id"]})


METERING_LABEL_RULE = Resource(
    name="metering_label_rule", collection="metering_label_rules",
    model=m.MeteringLabelRule, response=RULE_ATTRIBUTES, render=_render_rule,
    not_found=metering.rule_not_found, path="metering/metering-label-rules",
    visible=_rule_visible, parent=Parent(m.MeteringLabel, "metering_label_id", ("project_id",)),
    target_keys=(), target=_rule_target, scalar_lists=frozenset())


def _make_label(call: Call, session: Session, project: str, fields: dict[str, Any],
                parent: Mapping[str, Any]) -> m.MeteringLabel:
    return network(call).metering.add_label(session, project, fields)


def _label_of(call: Call, session: Session, fields: dict[str, Any],
              project: str) -> Mapping[str, Any]:
    """The label a new rule goes in, as the caller sees it: its project owns the rule."""
    label = load(call, session, METERING_LABEL, fields["metering_label_id"])[0]
    return {"project_id": label.project_id}


def _make_rule(call: Call, session: Session, project: str, fields: dict[str, Any],
               parent: Mapping[str, Any]) -> m.MeteringLabelRule:
    label = session.get_one(m.MeteringLabel, fields["metering_label_id"])  # _label_of's
    return network(call).metering.add_rule(session, label, fields)


serve(METERING_LABEL, make=_make_label,
      remove=lambda call, session, label: session.delete(label))
serve(METERING_LABEL_RULE, make=_make_rule, parent_for=_label_of,
      remove=lambda call, session, rule: session.delete(rule))
