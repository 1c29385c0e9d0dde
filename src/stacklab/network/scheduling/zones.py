"""Availability zones as neutron derives them from its agents, and the check on AZ hints."""

from __future__ import annotations

from collections.abc import Iterable

from stacklab.network.scheduling.common import _by_id
from stacklab.network.scheduling.constants import AGENT_TYPE_DHCP, AGENT_TYPE_L3
from stacklab.network.scheduling.errors import AvailabilityZoneNotFound
from stacklab.network.scheduling.records import (
    AgentRecord,
    AvailabilityZone,
    L3State,
    NetworkBinding,
)


def network_availability_zones(network_id: str, agents: Iterable[AgentRecord],
                               bindings: Iterable[NetworkBinding]) -> list[str]:
    """A network's ``availability_zones``: the zones of the DHCP agents hosting it."""
    agents_by_id = _by_id(agents)
    zones = {agents_by_id[b.agent_id].availability_zone for b in bindings
             if b.network_id == network_id and b.agent_id in agents_by_id}
    return sorted(z for z in zones if z)


def router_availability_zones(router_id: str, agents: Iterable[AgentRecord],
                              state: L3State) -> list[str]:
    """A router's ``availability_zones``: the zones of the L3 agents hosting it."""
    agents_by_id = _by_id(agents)
    zones = {agents_by_id[b.agent_id].availability_zone for b in state.bindings_of(router_id)
             if b.agent_id in agents_by_id}
    return sorted(z for z in zones if z)


_AZ_RESOURCE = {AGENT_TYPE_DHCP: "network", AGENT_TYPE_L3: "router"}


def availability_zones(agents: Iterable[AgentRecord]) -> list[AvailabilityZone]:
    """``GET /v2.0/availability_zones``: a zone per resource, available if an agent is up.

    "Up" is admin_state_up only, as neutron's ``_list_availability_zones``.
    """
    states: dict[tuple[str, str], bool] = {}
    for agent in agents:
        resource = _AZ_RESOURCE.get(agent.agent_type)
        if not agent.availability_zone or resource is None:
            continue
        key = (agent.availability_zone, resource)
        states[key] = agent.admin_state_up or states.get(key, False)
    return [AvailabilityZone(name, resource, "available" if up else "unavailable")
            for (name, resource), up in sorted(states.items())]


def validate_availability_zones(resource: str, hints: Iterable[str],
                                agents: Iterable[AgentRecord]) -> None:
    """Refuse hints naming no zone of the resource's agents (``AvailabilityZoneNotFound``)."""
    agent_type = {"network": AGENT_TYPE_DHCP, "router": AGENT_TYPE_L3}.get(resource)
    hints = list(hints)
    if agent_type is None or not hints:
        return
    known = {a.availability_zone for a in agents if a.agent_type == agent_type}
    missing = [h for h in hints if h not in known]
    if missing:
        raise AvailabilityZoneNotFound(missing[0])
