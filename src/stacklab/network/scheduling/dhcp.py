"""DHCP agent scheduling: which DHCP agents serve which networks.

``network_scheduler_driver`` (``WeightScheduler``: fewest networks first),
``dhcp_agents_per_network`` (1), AZ hints, ``allow_automatic_dhcp_failover`` (True): a
dead agent's networks move once its heartbeat is older than 2 * agent_down_time
(neutron/scheduler/dhcp_agent_scheduler.py, neutron/db/agentschedulers_db.py).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Collection, Iterable

from stacklab.network.scheduling.common import (
    _az_hints,
    _by_id,
    _eligible,
    _tie_key,
    get_vacant_binding_index,
    services_available,
)
from stacklab.network.scheduling.constants import (
    AGENT_TYPE_DHCP,
    AGENT_TYPE_OVS,
    LOWEST_AGENT_BINDING_INDEX,
)
from stacklab.network.scheduling.errors import (
    AgentNotFound,
    InvalidDHCPAgent,
    NetworkHostedByDHCPAgent,
    NetworkNotHostedByDhcpAgent,
)
from stacklab.network.scheduling.options import SchedulingOptions, _driver_name
from stacklab.network.scheduling.records import (
    AgentRecord,
    DhcpChanges,
    LogRecord,
    NetworkBinding,
    NetworkSpec,
)


class _DhcpWork:
    """A scheduling pass over a copy of the bindings; ``changes()`` diffs it with the start."""

    def __init__(self, agents: Iterable[AgentRecord], bindings: Iterable[NetworkBinding],
                 now: float, options: SchedulingOptions, rng: random.Random | None) -> None:
        self.agents = list(agents)
        self.agents_by_id = _by_id(self.agents)
        self.start = list(bindings)
        self.bindings = list(self.start)
        self.now = now
        self.options = options
        self.rng = rng
        self.log: list[LogRecord] = []

    def changes(self, retry_at: float | None = None) -> DhcpChanges:
        before = {(b.network_id, b.agent_id): b for b in self.start}
        after = {(b.network_id, b.agent_id): b for b in self.bindings}
        return DhcpChanges(
            added=tuple(b for key, b in after.items() if key not in before),
            removed=tuple(b for key, b in before.items() if key not in after),
            log=tuple(self.log), retry_at=retry_at)

    def hosting(self, network_id: str, hosts: Collection[str] | None = None,
                ) -> list[AgentRecord]:
        """get_dhcp_agents_hosting_networks: every bound agent, alive or not."""
        found = [self.agents_by_id[b.agent_id] for b in self.bindings
                 if b.network_id == network_id and b.agent_id in self.agents_by_id]
        return [a for a in found if not hosts or a.host in hosts]

    def load(self, agent: AgentRecord) -> int:
        # dhcp_load_type = networks: the agent reports how many networks it serves, and
        # the server adds one per binding made since; the binding count is that number.
        return sum(1 for b in self.bindings if b.agent_id == agent.id)

    def starting_up(self, agent: AgentRecord) -> bool:
        """agent_starting_up: started less than dead_limit + 2 s per network ago."""
        if agent.started_at is None:
            return False
        grace = self.options.agent_dead_limit + 2 * self.load(agent)
        return agent.started_at + grace > self.now

    def eligible(self, agent: AgentRecord) -> bool:
        """DhcpAgentSchedulerDbMixin.is_eligible_agent: alive, or still starting up."""
        alive = _eligible(agent, self.now, self.options, self.log)
        return alive or self.starting_up(agent)

    def bind(self, agent: AgentRecord, network_id: str, force_scheduling: bool) -> bool:
        """DhcpFilter.bind: take the lowest vacant binding_index, or give up."""
        dhcp_agents = sum(1 for a in self.agents if a.agent_type == AGENT_TYPE_DHCP)
        num_agents = min(dhcp_agents, self.options.dhcp_agents_per_network)
        indices = [b.binding_index for b in self.bindings if b.network_id == network_id]
        index = get_vacant_binding_index(num_agents, indices, force_scheduling)
        if index < LOWEST_AGENT_BINDING_INDEX:
            self.log.append(LogRecord(logging.DEBUG, (
                f"Unable to find a vacant binding_index for network {network_id} and agent "
                f"{agent.id}")))
            return False
        self.bindings.append(NetworkBinding(network_id, agent.id, index))
        return True

    def select(self, network: NetworkSpec, hostable: list[AgentRecord],
               hosted: list[AgentRecord], count: int) -> list[AgentRecord]:
        driver = _driver_name(self.options.network_scheduler_driver)
        if driver == "ChanceScheduler":
            rng = self.rng or random.Random(network.id)
            return rng.sample(sorted(hostable, key=_tie_key), count)
        # BaseWeightScheduler: sorted by load (stable; the DB order is our host/id order).
        ordered = sorted(hostable, key=lambda a: (self.load(a), *_tie_key(a)))
        if driver == "WeightScheduler":
            return ordered[:count]
        return _az_aware_select(ordered, hosted, count)

    def schedule(self, network: NetworkSpec,
                 hosts_with_network_access: Collection[str] | None) -> list[AgentRecord]:
        """BaseScheduler.schedule with DhcpFilter: choose and bind agents for one network."""
        options = self.options
        hosted = self.hosting(network.id, network.candidate_hosts)
        if len(hosted) >= options.dhcp_agents_per_network:
            self.log.append(LogRecord(logging.DEBUG, (
                f"Network {network.id} is already hosted by enough agents.")))
            return []
        wanted = options.dhcp_agents_per_network - len(hosted)
        hints = _az_hints(network.availability_zone_hints, options)
        active = [a for a in self.agents if a.agent_type == AGENT_TYPE_DHCP
                  and a.admin_state_up and (not hints or a.availability_zone in hints)]
        if not active:
            self.log.append(LogRecord(logging.WARNING, "No more DHCP agents"))
            return []
        hosted_ids = {a.id for a in hosted}
        hostable = [a for a in active if a.id not in hosted_ids and self.eligible(a)]
        if network.candidate_hosts is not None:
            hostable = [a for a in hostable if a.host in network.candidate_hosts]
        elif hosts_with_network_access is not None:
            hostable = [a for a in hostable if a.host in hosts_with_network_access]
        if not hostable:
            return []
        chosen = self.select(network, hostable, hosted, min(len(hostable), wanted))
        force = bool(network.candidate_hosts)
        return [a for a in chosen if self.bind(a, network.id, force)]


def _az_aware_select(ordered: list[AgentRecord], hosted: list[AgentRecord],
                     count: int) -> list[AgentRecord]:
    """AZAwareWeightScheduler.select: spread over AZs, least-loaded agent of each first."""
    by_az: dict[str | None, list[AgentRecord]] = defaultdict(list)
    per_az: dict[str | None, int] = {}
    for agent in ordered:
        by_az[agent.availability_zone].append(agent)
        per_az.setdefault(agent.availability_zone, 0)
    for agent in hosted:
        if agent.availability_zone in per_az:
            per_az[agent.availability_zone] += 1
    chosen: list[AgentRecord] = []
    while count > 0 and per_az:
        zone = min(per_az.items(), key=lambda item: item[1])[0]
        chosen.append(by_az[zone].pop(0))
        if by_az[zone]:
            per_az[zone] += 1
        else:
            del per_az[zone]
        count -= 1
    return chosen


def schedule_network(network: NetworkSpec, agents: Iterable[AgentRecord],
                     bindings: Iterable[NetworkBinding], now: float,
                     options: SchedulingOptions, *,
                     hosts_with_network_access: Collection[str] | None = None,
                     rng: random.Random | None = None) -> DhcpChanges:
    """Schedule a network with DHCP-enabled subnets to up to dhcp_agents_per_network agents.

    Candidates are DHCP agents that are admin-up, in one of the network's AZ hints (or
    ``default_availability_zones``), alive (or still in their start-up grace), not already
    hosting it, and on a host with access to the network (``hosts_with_network_access``:
    ML2 keeps hosts whose L2 agent can bind a segment; ``None`` means every host, see
    ``hosts_with_l2_agent``). Nothing happens when network_auto_schedule is off.
    """
    work = _DhcpWork(agents, bindings, now, options, rng)
    if options.network_auto_schedule:
        work.schedule(network, hosts_with_network_access)
    return work.changes()


def hosts_with_l2_agent(agents: Iterable[AgentRecord],
                        agent_type: str = AGENT_TYPE_OVS) -> frozenset[str]:
    """Hosts ML2's agent-based mechanism driver gives network access: those with its agent.

    As ``filter_hosts_with_segment_access``, the L2 agent need not be alive.
    """
    return frozenset(a.host for a in agents if a.agent_type == agent_type)


def auto_schedule_networks(host: str, networks: Iterable[NetworkSpec],
                           agents: Iterable[AgentRecord], bindings: Iterable[NetworkBinding],
                           now: float, options: SchedulingOptions) -> DhcpChanges:
    """A DHCP agent on ``host`` syncs: give it the networks still short of agents.

    ``AutoScheduler.auto_schedule_networks``: only an admin-up, alive DHCP agent on the
    host takes networks; each network hosted by fewer than dhcp_agents_per_network agents
    (dead ones count) and whose AZ hints admit the agent's zone gets a binding.
    """
    work = _DhcpWork(agents, bindings, now, options, None)
    if not options.network_auto_schedule:
        return work.changes()
    networks = list(networks)
    for agent in work.agents:
        if agent.agent_type != AGENT_TYPE_DHCP or agent.host != host or not agent.admin_state_up:
            continue
        if agent.is_down(now, options.agent_down_time):
            work.log.append(LogRecord(logging.WARNING, f"DHCP agent {agent.id} is not active"))
            continue
        for network in networks:
            hosting = work.hosting(network.id)
            if len(hosting) >= options.dhcp_agents_per_network:
                continue
            if any(a.id == agent.id for a in hosting):
                continue
            hints = network.availability_zone_hints or options.default_availability_zones
            if hints and agent.availability_zone not in hints:
                continue
            work.bind(agent, network.id, force_scheduling=False)
    return work.changes()


def remove_networks_from_down_agents(networks: Iterable[NetworkSpec],
                                     agents: Iterable[AgentRecord],
                                     bindings: Iterable[NetworkBinding], now: float,
                                     options: SchedulingOptions, *,
                                     last_check: float | None = None,
                                     hosts_with_network_access: Collection[str] | None = None,
                                     rng: random.Random | None = None) -> DhcpChanges:
    """One run of neutron's DHCP failover worker (every ``status_check_interval`` s).

    Bindings of DHCP agents whose heartbeat is older than ``agent_dead_limit`` (2 *
    agent_down_time, whatever their admin state) are removed, except for agents still in
    their start-up grace, and each network is scheduled again (when network_auto_schedule
    is on). Nothing moves if no DHCP agent at all is eligible. ``last_check`` is the time
    of the previous run: if it is more than agent_down_time ago (a clock jump), neutron
    waits agent_dead_limit first, and so the result only says when to run again.
    Networks not listed in ``networks`` are rescheduled with no AZ hints.
    """
    work = _DhcpWork(agents, bindings, now, options, rng)
    if not options.allow_automatic_dhcp_failover:
        work.log.append(LogRecord(logging.INFO, (
            "Skipping periodic DHCP agent status check because automatic network "
            "rescheduling is disabled.")))
        return work.changes()
    dead_limit = options.agent_dead_limit
    if last_check is not None and now - last_check > options.agent_down_time:
        work.log.append(LogRecord(logging.WARNING, (
            "Time since last DHCP agent reschedule check has exceeded the interval between "
            "checks. Waiting before check to allow agents to send a heartbeat in case there "
            "was a clock adjustment.")))
        return work.changes(retry_at=now + dead_limit)
    specs = {n.id: n for n in networks}
    cutoff = now - dead_limit
    down_ids = {a.id for a in work.agents if a.heartbeat_timestamp < cutoff}
    starting = {a.id for a in work.agents if a.id in down_ids and work.starting_up(a)}
    for agent_id in sorted(starting):
        work.log.append(LogRecord(logging.DEBUG, f"Agent {agent_id} is starting up, skipping"))
    dead = [b for b in work.bindings if b.agent_id in down_ids and b.agent_id not in starting]
    dhcp_agents = [a for a in work.agents if a.agent_type == AGENT_TYPE_DHCP]
    if not dhcp_agents:
        return work.changes()
    if not [a for a in dhcp_agents if work.eligible(a)]:
        work.log.append(LogRecord(logging.WARNING,
                                  "No DHCP agents available, skipping rescheduling"))
        return work.changes()
    for binding in dead:
        work.log.append(LogRecord(logging.WARNING, (
            f"Removing network {binding.network_id} from agent {binding.agent_id} because "
            f"the agent did not report to the server in the last {dead_limit} seconds.")))
        work.bindings.remove(binding)
        if options.network_auto_schedule:
            network = specs.get(binding.network_id, NetworkSpec(binding.network_id))
            work.log.append(LogRecord(logging.INFO,
                                      f"Scheduling unhosted network {network.id}"))
            chosen = work.schedule(network, hosts_with_network_access)
            if not chosen:
                work.log.append(LogRecord(logging.INFO, (
                    f"Failed to schedule network {network.id}, no eligible agents or it "
                    "might be already scheduled by another server")))
            for agent in chosen:
                work.log.append(LogRecord(logging.INFO, (
                    f"Adding network {network.id} to agent {agent.id} on host "
                    f"{agent.host}")))
    return work.changes()


def add_network_to_dhcp_agent(agent_id: str, network_id: str, agents: Iterable[AgentRecord],
                              bindings: Iterable[NetworkBinding],
                              options: SchedulingOptions) -> DhcpChanges:
    """``openstack network agent add network --dhcp``: an operator's binding.

    Any DHCP agent whose services are available may be chosen, alive or not, and the
    binding is made even beyond dhcp_agents_per_network.
    """
    work = _DhcpWork(agents, bindings, 0.0, options, None)
    agent = work.agents_by_id.get(agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    if agent.agent_type != AGENT_TYPE_DHCP or not services_available(agent, options):
        raise InvalidDHCPAgent(agent_id)
    if any(a.id == agent_id for a in work.hosting(network_id)):
        raise NetworkHostedByDHCPAgent(network_id, agent_id)
    work.bind(agent, network_id, force_scheduling=True)
    return work.changes()


def remove_network_from_dhcp_agent(agent_id: str, network_id: str,
                                   agents: Iterable[AgentRecord],
                                   bindings: Iterable[NetworkBinding]) -> DhcpChanges:
    """``openstack network agent remove network --dhcp``."""
    agents_by_id = _by_id(agents)
    if agent_id not in agents_by_id:
        raise AgentNotFound(agent_id)
    bound = [b for b in bindings if b.network_id == network_id and b.agent_id == agent_id]
    if not bound:
        raise NetworkNotHostedByDhcpAgent(network_id, agent_id)
    return DhcpChanges(removed=tuple(bound))


def networks_served_by_agent(agent: AgentRecord, bindings: Iterable[NetworkBinding],
                             options: SchedulingOptions) -> list[str]:
    """The networks a DHCP agent configures (none while admin-down, unless the option)."""
    if not services_available(agent, options):
        return []
    return sorted(b.network_id for b in bindings if b.agent_id == agent.id)
