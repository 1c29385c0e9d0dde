"""What the DHCP and L3 schedulers share: whether an agent may serve or be chosen, how ties
are broken, AZ hints and binding indexes (neutron/scheduler/base_scheduler.py,
neutron/db/agentschedulers_db.py, neutron/common/utils.py)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection, Iterable, Sequence

from stacklab.network.scheduling.constants import LOWEST_AGENT_BINDING_INDEX
from stacklab.network.scheduling.options import SchedulingOptions
from stacklab.network.scheduling.records import AgentRecord, LogRecord


def services_available(agent: AgentRecord, options: SchedulingOptions) -> bool:
    """Whether an agent serves what it hosts: admin-up, or enable_services_on_... is set.

    Automatic scheduling never picks an admin-down agent whatever the option says; the
    option only lets such an agent keep serving and be chosen by hand.
    """
    return options.enable_services_on_agents_with_admin_state_down or agent.admin_state_up


def _heartbeat_text(timestamp: float) -> str:
    return str(dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).replace(tzinfo=None))


def _eligible(agent: AgentRecord, now: float, options: SchedulingOptions,
              log: list[LogRecord]) -> bool:
    """``AgentSchedulerDbMixin.is_eligible_agent(active=True, agent)``."""
    if agent.is_down(now, options.agent_down_time):
        log.append(LogRecord(logging.WARNING, (
            f"Agent {agent.id} is down. Type: {agent.agent_type}, host: {agent.host}, "
            f"heartbeat: {_heartbeat_text(agent.heartbeat_timestamp)}")))
        return False
    return True


def _by_id(agents: Iterable[AgentRecord]) -> dict[str, AgentRecord]:
    return {a.id: a for a in agents}


def _tie_key(agent: AgentRecord) -> tuple[str, str]:
    return agent.host, agent.id


def _az_hints(hints: Sequence[str], options: SchedulingOptions) -> list[str]:
    """neutron/common/utils.py get_az_hints: the resource's hints, else the default AZs."""
    return sorted(hints) or list(options.default_availability_zones)


def get_vacant_binding_index(num_agents: int, binding_indices: Collection[int],
                             force_scheduling: bool = False) -> int:
    """neutron/scheduler/base_scheduler.py: the lowest free index in 1..num_agents, else -1.

    A manual (forced) binding gets the next index beyond num_agents.
    """
    def open_slots(max_number: int) -> list[int]:
        slots = set(binding_indices)
        index = LOWEST_AGENT_BINDING_INDEX
        while len(slots) < max_number:
            slots.add(index)
            index += 1
        return sorted(slots - set(binding_indices))

    slots = open_slots(num_agents)
    if slots:
        return slots[0]
    if not force_scheduling:
        return -1
    while not slots:
        num_agents += 1
        slots = open_slots(num_agents)
    return slots[0]
