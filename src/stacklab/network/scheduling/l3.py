"""L3 agent scheduling: which L3 agents host which routers, automatic and by an operator.

``router_scheduler_driver`` (``LeastRoutersScheduler``), ``l3_ha`` (False),
``max_l3_agents_per_router`` (3, 0 = every agent), ``allow_automatic_l3agent_failover``
(False) (neutron/scheduler/l3_agent_scheduler.py, neutron/db/l3_agentschedulers_db.py);
what is particular to HA routers is in ``ha``.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence

from stacklab.api.errors import ApiError
from stacklab.network import ipam
from stacklab.network.scheduling.common import (
    _az_hints,
    _by_id,
    _eligible,
    _tie_key,
    get_vacant_binding_index,
    services_available,
)
from stacklab.network.scheduling.constants import (
    AGENT_TYPE_L3,
    HA_NETWORK_NAME,
    L3_AGENT_MODE_DVR,
    L3_AGENT_MODE_DVR_NO_EXTERNAL,
    L3_AGENT_MODE_LEGACY,
    LOWEST_AGENT_BINDING_INDEX,
)
from stacklab.network.scheduling.errors import (
    AgentNotFound,
    DVRL3CannotAssignToDvrAgent,
    DVRL3CannotRemoveFromDvrAgent,
    InvalidL3Agent,
    IpAddressGenerationFailure,
    NoVRIDAvailable,
    RouterHostedByL3Agent,
    RouterL3AgentMismatch,
    RouterReschedulingFailed,
)
from stacklab.network.scheduling.ha import allocate_vr_id, number_of_agents_for_scheduling
from stacklab.network.scheduling.options import SchedulingOptions, _driver_name
from stacklab.network.scheduling.records import (
    AgentRecord,
    HaPort,
    L3Changes,
    L3State,
    LogRecord,
    RouterBinding,
    RouterSpec,
    VrIdAllocation,
)


def l3_agent_candidates(router: RouterSpec, agents: Iterable[AgentRecord],
                        options: SchedulingOptions, *,
                        ignore_admin_state: bool = False) -> list[AgentRecord]:
    """``get_l3_agent_candidates``: the L3 agents whose mode and settings fit the router.

    ``dvr`` and ``dvr_no_external`` agents are never scheduled explicitly; a ``legacy``
    agent cannot host a distributed router; an agent with ``router_id`` set hosts only
    that router; one with ``handle_internal_only_routers`` False only routers with a
    gateway.
    """
    distributed = router.is_distributed(options)
    candidates = []
    for agent in agents:
        if agent.agent_type != AGENT_TYPE_L3:
            continue
        if not ignore_admin_state and not agent.admin_state_up:
            continue
        mode = agent.agent_mode
        if mode in (L3_AGENT_MODE_DVR, L3_AGENT_MODE_DVR_NO_EXTERNAL) or (
                mode == L3_AGENT_MODE_LEGACY and distributed):
            continue
        only_router = agent.configurations.get("router_id")
        if only_router and only_router != router.id:
            continue
        if not router.external_network_id and not agent.configurations.get(
                "handle_internal_only_routers", True):
            continue
        candidates.append(agent)
    return candidates



class _L3Work:
    """A scheduling pass over a copy of the L3 tables."""

    def __init__(self, agents: Iterable[AgentRecord], state: L3State, now: float,
                 options: SchedulingOptions, rng: random.Random | None) -> None:
        self.agents = list(agents)
        self.agents_by_id = _by_id(self.agents)
        self.start = state
        self.bindings = list(state.bindings)
        self.ha_ports = list(state.ha_ports)
        self.vr_ids = list(state.vr_ids)
        self.now = now
        self.options = options
        self.rng = rng
        self.status: dict[str, str] = {}
        self.errors: list[ApiError] = []
        self.log: list[LogRecord] = []
        self.removed_ports: list[HaPort] = []

    @property
    def driver(self) -> str:
        return _driver_name(self.options.router_scheduler_driver)

    def changes(self, retry_at: float | None = None) -> L3Changes:
        before = {(b.router_id, b.agent_id): b for b in self.start.bindings}
        after = {(b.router_id, b.agent_id): b for b in self.bindings}
        start_ports = set(self.start.ha_ports)
        log = list(dict.fromkeys(self.log))  # neutron repeats some lines per binding
        return L3Changes(
            added=tuple(b for key, b in after.items() if key not in before),
            removed=tuple(b for key, b in before.items() if key not in after),
            added_ha_ports=tuple(p for p in self.ha_ports if p not in start_ports),
            removed_ha_ports=tuple(p for p in self.removed_ports if p in start_ports),
            added_vr_ids=tuple(self.vr_ids[len(self.start.vr_ids):]),
            router_status=dict(self.status), errors=tuple(self.errors), log=tuple(log),
            retry_at=retry_at)

    def snapshot(self) -> tuple[list[RouterBinding], list[HaPort], list[VrIdAllocation]]:
        return list(self.bindings), list(self.ha_ports), list(self.vr_ids)

    def restore(self, saved: tuple[list[RouterBinding], list[HaPort],
                                   list[VrIdAllocation]]) -> None:
        self.bindings, self.ha_ports, self.vr_ids = saved

    def hosting(self, router_id: str) -> list[AgentRecord]:
        return [self.agents_by_id[b.agent_id] for b in self.bindings
                if b.router_id == router_id and b.agent_id in self.agents_by_id]

    def router_count(self, agent: AgentRecord) -> int:
        return sum(1 for b in self.bindings if b.agent_id == agent.id)

    def by_least_routers(self, agents: Iterable[AgentRecord]) -> list[AgentRecord]:
        """get_l3_agents_ordered_by_num_routers (ties: host, then id)."""
        return sorted(agents, key=lambda a: (self.router_count(a), *_tie_key(a)))

    def agents_for_scheduling(self) -> int:
        count, log = number_of_agents_for_scheduling(self.agents, self.now, self.options)
        self.log.extend(log)
        return count

    def candidates(self, router: RouterSpec) -> list[AgentRecord]:
        """L3Scheduler._get_candidates (and AZLeastRoutersScheduler's AZ filter)."""
        is_ha = router.is_ha(self.options)
        current = [a for a in self.hosting(router.id) if a.admin_state_up]
        if current and not is_ha:
            self.log.append(LogRecord(logging.DEBUG, (
                f"Router {router.id} has already been hosted by L3 agent {current[0].id}")))
            return []
        active = [a for a in self.agents if a.agent_type == AGENT_TYPE_L3 and a.admin_state_up]
        active = [a for a in active if _eligible(a, self.now, self.options, self.log)]
        if not active:
            self.log.append(LogRecord(logging.WARNING, "No active L3 agents"))
            return []
        found = l3_agent_candidates(router, active, self.options)
        if not found:
            self.log.append(LogRecord(logging.WARNING,
                                      f"No L3 agents can host the router {router.id}"))
        if self.driver == "AZLeastRoutersScheduler":
            hints = _az_hints(router.availability_zone_hints, self.options)
            found = [a for a in found if not hints or a.availability_zone in hints]
        return found

    def bind(self, router: RouterSpec, agent: AgentRecord, *, is_ha: bool,
             manual: bool = False) -> RouterBinding | None:
        """L3Scheduler.bind_router."""
        existing = self.bindings_of(router.id)
        if any(b.agent_id == agent.id for b in existing):
            self.log.append(LogRecord(logging.DEBUG, (
                f"Router {router.id} has already been scheduled to L3 agent {agent.id}.")))
            return None
        if not is_ha:
            index = LOWEST_AGENT_BINDING_INDEX
            if any(b.binding_index == index for b in existing):
                self.log.append(LogRecord(logging.DEBUG, (
                    f"Non-HA router {router.id} has already been scheduled")))
                return None
        else:
            index = get_vacant_binding_index(self.agents_for_scheduling(),
                                             [b.binding_index for b in existing], manual)
            if index < LOWEST_AGENT_BINDING_INDEX:
                self.log.append(LogRecord(logging.DEBUG, (
                    f"Unable to find a vacant binding_index for router {router.id} and agent "
                    f"{agent.id}")))
                return None
        binding = RouterBinding(router.id, agent.id, index)
        self.bindings.append(binding)
        return binding

    def bindings_of(self, router_id: str) -> list[RouterBinding]:
        return [b for b in self.bindings if b.router_id == router_id]

    def ensure_vr_id(self, router: RouterSpec) -> int:
        """_ensure_vr_id: the router's VRID, allocated on its first HA port."""
        for allocation in self.vr_ids:
            if allocation.router_id == router.id:
                return allocation.vr_id
        taken = {a.vr_id for a in self.vr_ids if a.project_id == router.project_id}
        vr_id = allocate_vr_id(router.id, taken)
        self.vr_ids.append(VrIdAllocation(router.project_id, router.id, vr_id))
        return vr_id

    def add_ha_port(self, router: RouterSpec, agent: AgentRecord) -> None:
        """create_ha_port_and_bind's port: one per (router, agent), kept if it exists."""
        if any(p.router_id == router.id and p.agent_id == agent.id for p in self.ha_ports):
            self.log.append(LogRecord(logging.DEBUG, (
                f"Router {router.id} already scheduled for agent {agent.id}")))
            return
        cidr = ipaddress.ip_network(self.options.l3_ha_net_cidr)
        used = {p.ip_address for p in self.ha_ports if p.project_id == router.project_id}
        address = ipam.next_free(ipam.default_pools(cidr, None), used)
        if address is None:
            raise IpAddressGenerationFailure(HA_NETWORK_NAME % router.project_id)
        self.ha_ports.append(HaPort(router.id, agent.id, router.project_id, address))

    def create_ha_port_and_bind(self, router: RouterSpec, agent: AgentRecord,
                                manual: bool = False) -> None:
        # The binding is written before the VRID is taken: when none is left neutron keeps
        # the binding and the router goes to ERROR.
        if self.bind(router, agent, is_ha=True, manual=manual) is None:
            return
        self.ensure_vr_id(router)
        self.add_ha_port(router, agent)

    def choose_one(self, router: RouterSpec, candidates: list[AgentRecord]) -> AgentRecord:
        if self.driver == "ChanceScheduler":
            rng = self.rng or random.Random(router.id)
            return rng.choice(sorted(candidates, key=_tie_key))
        return self.by_least_routers(candidates)[0]

    def choose_for_ha(self, router: RouterSpec,
                      candidates: list[AgentRecord]) -> list[AgentRecord]:
        maximum = self.options.max_l3_agents_per_router
        count = min(maximum, len(candidates)) if maximum else len(candidates)
        if self.driver == "ChanceScheduler":
            rng = self.rng or random.Random(router.id)
            return rng.sample(sorted(candidates, key=_tie_key), count)
        ordered = self.by_least_routers(candidates)
        if self.driver == "LeastRoutersScheduler":
            return ordered[:count]
        # AZLeastRoutersScheduler: round-robin over AZs, least-loaded agent of each first.
        by_az: dict[str | None, list[AgentRecord]] = defaultdict(list)
        for agent in ordered:
            by_az[agent.availability_zone].append(agent)
        chosen: list[AgentRecord] = []
        for _zone, members in itertools.cycle(list(by_az.items())):
            if len(chosen) >= count:
                break
            if members:
                chosen.append(members.pop(0))
        return chosen

    def schedule(self, router: RouterSpec,
                 candidates: list[AgentRecord] | None = None) -> AgentRecord | None:
        """L3Scheduler._schedule_router."""
        found = candidates or self.candidates(router)
        if not found:
            return None
        if router.is_ha(self.options):
            hosting = {b.agent_id for b in self.bindings_of(router.id)}
            chosen = self.choose_for_ha(router, [a for a in found if a.id not in hosting])
            for agent in chosen:
                self.create_ha_port_and_bind(router, agent)
            return chosen[-1] if chosen else None
        agent = self.choose_one(router, found)
        self.bind(router, agent, is_ha=False)
        return agent


def schedule_router(router: RouterSpec, agents: Iterable[AgentRecord], state: L3State,
                    now: float, options: SchedulingOptions, *,
                    candidates: Sequence[AgentRecord] | None = None,
                    rng: random.Random | None = None) -> L3Changes:
    """Schedule a router as neutron does when it is created or updated.

    A legacy or DVR router goes to one agent (LeastRoutersScheduler: the one hosting
    fewest routers; a DVR router's SNAT part only to a ``dvr_snat`` agent), unless an
    admin-up agent hosts it already. An HA router goes to up to max_l3_agents_per_router
    admin-up alive agents, each with an ``ha-`` port on the project's HA network (create
    it from ``ha_network_spec`` first); its VRID is taken with the first port. When the
    project's VRIDs are exhausted, neutron logs a warning and the router is left in
    ``ERROR`` (``router_status``; the ``NoVRIDAvailable`` is in ``errors``).
    """
    work = _L3Work(agents, state, now, options, rng)
    try:
        work.schedule(router, list(candidates) if candidates else None)
    except NoVRIDAvailable as error:
        work.log.append(LogRecord(logging.WARNING, f"No more VRIDs for router: {error}"))
        work.errors.append(error)
        work.status[router.id] = "ERROR"
    return work.changes()


def auto_schedule_routers(host: str, routers: Iterable[RouterSpec],
                          agents: Iterable[AgentRecord], state: L3State, now: float,
                          options: SchedulingOptions) -> L3Changes:
    """The L3 agent on ``host`` syncs: give it the under-scheduled routers it can host.

    Under-scheduled: a non-HA router with no agent, or an HA router on fewer agents than
    ``number_of_agents_for_scheduling`` — this is how an HA router created while only one
    agent was alive gets its second replica. The agent must be admin-up; neutron does
    not check that it is alive (it only logs that it is not).
    """
    work = _L3Work(agents, state, now, options, None)
    if not options.router_auto_schedule:
        return work.changes()
    agent = next((a for a in work.agents if a.agent_type == AGENT_TYPE_L3 and a.host == host
                  and a.admin_state_up), None)
    if agent is None:
        work.log.append(LogRecord(logging.DEBUG,
                                  f"No enabled {AGENT_TYPE_L3} agent on host {host}"))
        return work.changes()
    if agent.is_down(now, options.agent_down_time):
        work.log.append(LogRecord(logging.WARNING,
                                  f"{AGENT_TYPE_L3} agent {agent.id} is not active"))
    wanted = work.agents_for_scheduling()
    for router in routers:
        count = len(work.bindings_of(router.id))
        if count >= (wanted if router.is_ha(options) else 1):
            continue
        if not l3_agent_candidates(router, [agent], options):
            continue
        if work.driver == "AZLeastRoutersScheduler":
            hints = _az_hints(router.availability_zone_hints, options)
            if hints and agent.availability_zone not in hints:
                continue
        try:
            work.schedule(router, [agent])
        except NoVRIDAvailable as error:
            work.errors.append(error)
            work.log.append(LogRecord(logging.WARNING, f"No more VRIDs for router: {error}"))
    return work.changes()


def reschedule_routers_from_down_agents(routers: Iterable[RouterSpec],
                                        agents: Iterable[AgentRecord], state: L3State,
                                        now: float, options: SchedulingOptions, *,
                                        last_check: float | None = None,
                                        rng: random.Random | None = None) -> L3Changes:
    """One run of neutron's L3 failover worker (only with allow_automatic_l3agent_failover).

    For each binding of an admin-up agent whose heartbeat is older than agent_dead_limit
    (and that is not alive again), the router is unbound from all its agents and
    scheduled afresh; if no agent takes it, the change is rolled back and neutron logs
    ``RouterReschedulingFailed``. HA routers are rescheduled too (neutron >= 2024.1).
    Routers not listed in ``routers`` are left alone. ``last_check``: as for
    ``remove_networks_from_down_agents``.
    """
    work = _L3Work(agents, state, now, options, rng)
    if not options.allow_automatic_l3agent_failover:
        work.log.append(LogRecord(logging.INFO, (
            "Skipping period L3 agent status check because automatic router rescheduling "
            "is disabled.")))
        return work.changes()
    dead_limit = options.agent_dead_limit
    if last_check is not None and now - last_check > options.agent_down_time:
        work.log.append(LogRecord(logging.WARNING, (
            "Time since last L3 agent reschedule check has exceeded the interval between "
            "checks. Waiting before check to allow agents to send a heartbeat in case there "
            "was a clock adjustment.")))
        return work.changes(retry_at=now + dead_limit)
    specs = {r.id: r for r in routers}
    cutoff = now - dead_limit
    down = [b for b in work.bindings if b.agent_id in work.agents_by_id
            and work.agents_by_id[b.agent_id].admin_state_up
            and work.agents_by_id[b.agent_id].heartbeat_timestamp < cutoff]
    back_online: set[str] = set()
    for binding in down:
        if binding.agent_id in back_online:
            continue
        agent = work.agents_by_id[binding.agent_id]
        if agent.is_active(now, options.agent_down_time):
            back_online.add(agent.id)
            continue
        router = specs.get(binding.router_id)
        if router is None or binding not in work.bindings:
            continue  # not given, or moved already with an earlier binding
        work.log.append(LogRecord(logging.WARNING, (
            f"Rescheduling router {binding.router_id} from agent {binding.agent_id} because "
            f"the agent did not report to the server in the last {dead_limit} seconds.")))
        saved = work.snapshot()
        try:
            work.bindings = [b for b in work.bindings if b.router_id != router.id]
            work.schedule(router)
            if not work.bindings_of(router.id):
                raise RouterReschedulingFailed(router.id)
        except (RouterReschedulingFailed, NoVRIDAvailable) as error:
            work.restore(saved)
            work.errors.append(error)
            work.log.append(LogRecord(logging.ERROR,
                                      f"Failed to reschedule router {router.id}"))
    return work.changes()


def validate_agent_router_combination(agent: AgentRecord, router: RouterSpec,
                                      options: SchedulingOptions) -> None:
    """Whether an operator may put ``router`` on ``agent`` (raises neutron's errors)."""
    if agent.agent_type != AGENT_TYPE_L3:
        raise InvalidL3Agent(agent.id)
    if agent.agent_mode in (L3_AGENT_MODE_DVR, L3_AGENT_MODE_DVR_NO_EXTERNAL):
        raise DVRL3CannotAssignToDvrAgent()
    if agent.agent_mode == L3_AGENT_MODE_LEGACY and router.is_distributed(options):
        raise RouterL3AgentMismatch(router.id, agent.id)
    if not (services_available(agent, options)
            and l3_agent_candidates(router, [agent], options, ignore_admin_state=True)):
        raise InvalidL3Agent(agent.id)


def add_router_to_l3_agent(agent_id: str, router: RouterSpec, agents: Iterable[AgentRecord],
                           state: L3State, now: float,
                           options: SchedulingOptions) -> L3Changes:
    """``openstack network agent add router --l3``: an operator's binding.

    A legacy router already on another agent raises ``RouterHostedByL3Agent``; an HA
    router gains a replica (with its ``ha-`` port), even beyond max_l3_agents_per_router.
    """
    work = _L3Work(agents, state, now, options, None)
    agent = work.agents_by_id.get(agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    validate_agent_router_combination(agent, router, options)
    existing = work.bindings_of(router.id)
    if any(b.agent_id == agent_id for b in existing):
        return work.changes()
    if existing and not router.is_ha(options):
        raise RouterHostedByL3Agent(router.id, existing[0].agent_id)
    if router.is_ha(options):
        work.create_ha_port_and_bind(router, agent, manual=True)
    else:
        work.bind(router, agent, is_ha=False)
    return work.changes()


def remove_router_from_l3_agent(agent_id: str, router: RouterSpec,
                                agents: Iterable[AgentRecord], state: L3State,
                                options: SchedulingOptions) -> L3Changes:
    """``openstack network agent remove router --l3``; an HA router loses that ``ha-`` port.

    Removing a router that is not there is not an error (neutron just deletes nothing).
    """
    work = _L3Work(agents, state, 0.0, options, None)
    agent = work.agents_by_id.get(agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    if agent.agent_mode in (L3_AGENT_MODE_DVR, L3_AGENT_MODE_DVR_NO_EXTERNAL):
        raise DVRL3CannotRemoveFromDvrAgent()
    work.bindings = [b for b in work.bindings
                     if not (b.router_id == router.id and b.agent_id == agent_id)]
    if router.is_ha(options):
        on_host = {a.id for a in work.agents if a.host == agent.host}
        gone = [p for p in work.ha_ports if p.router_id == router.id and p.agent_id in on_host]
        work.ha_ports = [p for p in work.ha_ports if p not in gone]
        work.removed_ports.extend(gone)
    return work.changes()


def routers_served_by_agent(agent: AgentRecord, state: L3State,
                            options: SchedulingOptions) -> list[str]:
    """The routers explicitly bound to an L3 agent that it configures (see dvr for more)."""
    if not services_available(agent, options):
        return []
    return sorted(b.router_id for b in state.bindings if b.agent_id == agent.id)
