"""neutron's metering service: labels a project's routers' traffic is counted under, and
the rules that say which traffic (by direction and address prefix).

The checks are neutron's metering plugin's: a rule's prefixes must read as addresses with a
prefix length; ``remote_ip_prefix`` (deprecated upstream) excludes the source and destination
prefixes, and a rule needs one of the three; a rule whose ``remote_ip_prefix`` overlaps
another's of the same label, direction and ``excluded`` is a conflict. stacklab counts no
traffic: there is no metering agent, so labels and rules are records only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError
from stacklab.clock import Clock
from stacklab.ids import IdSource
from stacklab.network import models as m

_PREFIXES = ("remote_ip_prefix", "source_ip_prefix", "destination_ip_prefix")


def invalid(message: str) -> ApiError:
    """neutron-lib's Invalid, which the metering plugin raises for a rule it refuses."""
    return ApiError(message, status=400, kind="Invalid")


def label_not_found(label_id: str) -> ApiError:
    return ApiError(f"Metering label '{label_id}' does not exist.", status=404,
                    kind="MeteringLabelNotFound")


def rule_not_found(rule_id: str) -> ApiError:
    return ApiError(f"Metering label rule '{rule_id}' does not exist.", status=404,
                    kind="MeteringLabelRuleNotFound")


def _network(text: str, field: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_interface(text).network
    except ValueError as error:
        raise invalid(f"{field}: {text} is invalid [{error}].") from None


def check_rule(fields: Mapping[str, Any]) -> dict[str, str | None]:
    """A rule's prefixes as neutron stores them (the network of each, ``10.0.0.0/24``), after
    the plugin's checks."""
    given = {name: fields.get(name) or None for name in _PREFIXES}
    for name, value in given.items():
        if value is not None and not isinstance(value, str):
            raise invalid(f"{name}: {value} is invalid [not a string].")
    networks = {name: None if value is None else _network(value, name)
                for name, value in given.items()}
    if given["remote_ip_prefix"] and (given["source_ip_prefix"]
                                      or given["destination_ip_prefix"]):
        raise invalid("Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' "
                      "or 'destination-ip-prefix'.")
    if not any(given.values()):
        raise invalid("You must define at least one of the following parameters "
                      "'remote_ip_prefix', or 'source_ip_prefix' or 'destination_ip_prefix'.")
    return {name: None if net is None else str(net) for name, net in networks.items()}


def _overlaps(a: str, b: str) -> bool:
    first, second = ipaddress.ip_network(a), ipaddress.ip_network(b)
    return first.version == second.version and first.overlaps(second)


class Metering:
    """Labels and rules in the store, with the plugin's rules."""

    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    def add_label(self, session: Session, project_id: str,
                  fields: Mapping[str, Any]) -> m.MeteringLabel:
        label = m.MeteringLabel(id=self.ids.uuid(), project_id=project_id,
                                name=fields.get("name", ""),
                                description=fields.get("description", ""),
                                shared=bool(fields.get("shared", False)),
                                created_at=self.clock.now())
        session.add(label)
        return label

    def add_rule(self, session: Session, label: m.MeteringLabel,
                 fields: Mapping[str, Any]) -> m.MeteringLabelRule:
        prefixes = check_rule(fields)
        excluded = bool(fields.get("excluded", False))
        remote = prefixes["remote_ip_prefix"]
        if remote is not None:
            for other in session.scalars(select(m.MeteringLabelRule).where(
                    m.MeteringLabelRule.metering_label_id == label.id,
                    m.MeteringLabelRule.direction == fields["direction"],
                    m.MeteringLabelRule.excluded.is_(excluded))):
                if other.remote_ip_prefix and _overlaps(other.remote_ip_prefix, remote):
                    raise ApiError(f"Metering label rule with remote_ip_prefix "
                                   f"'{fields['remote_ip_prefix']}' overlaps another.",
                                   status=409, kind="MeteringLabelRuleOverlaps")
        rule = m.MeteringLabelRule(id=self.ids.uuid(), metering_label_id=label.id,
                                   direction=fields["direction"], excluded=excluded,
                                   created_at=self.clock.now(), **prefixes)
        session.add(rule)
        return rule
