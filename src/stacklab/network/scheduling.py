"""neutron's agent scheduling, as pure functions: which agents host which networks and routers.

Nothing here reads a clock, a database or a random source of its own: callers pass
``now`` (seconds since the epoch, as ``Clock.now()``), the agent records, the current
bindings and the options, and get back the changes to make and the log lines neutron
would write. Rules, defaults and messages are neutron's (openstack/neutron @ 2131d26f73,
neutron-lib @ 6cd671a8; ha-semantics.md §1.4 and §6):

- liveness: an agent is alive while its last heartbeat is at most ``agent_down_time``
  (75 s) old (neutron/agent/common/utils.py ``is_agent_down``); agents report every
  ``report_interval`` (30 s, neutron/conf/agent/common.py);
- DHCP: ``network_scheduler_driver`` (``WeightScheduler``: fewest networks first),
  ``dhcp_agents_per_network`` (1), AZ hints, ``allow_automatic_dhcp_failover`` (True):
  a dead agent's networks move once its heartbeat is older than 2 * agent_down_time
  (neutron/scheduler/dhcp_agent_scheduler.py, neutron/db/agentschedulers_db.py);
- L3: ``router_scheduler_driver`` (``LeastRoutersScheduler``), ``l3_ha`` (False),
  ``max_l3_agents_per_router`` (3, 0 = every agent), ``allow_automatic_l3agent_failover``
  (False), VRIDs 1..254 per project HA network, the HA network 169.254.192.0/18 and its
  ``ha-`` ports (neutron/scheduler/l3_agent_scheduler.py, neutron/db/l3_hamode_db.py,
  neutron/db/l3_agentschedulers_db.py);
- DVR: the SNAT part of a distributed router on one ``dvr_snat`` agent, its ``qrouter-``
  on every DVR host with a port on its subnets (neutron/db/l3_dvrscheduler_db.py).

Where neutron leaves a choice to chance or to the database's row order, the choice here
is deterministic: ties go to the lower host name, then the lower agent id; the lowest free
VRID and HA address are taken; ``ChanceScheduler`` draws from a ``random.Random`` seeded
with the resource id unless the caller passes its own.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import itertools
import logging
import random
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stacklab.api.errors import ApiError, Conflict, NotFound
from stacklab.network import ipam
from stacklab.network.vrrp import NEUTRON_HA_ADVERT_INT, VrrpConfig

# neutron-lib constants.py
AGENT_TYPE_DHCP = "DHCP agent"
AGENT_TYPE_L3 = "L3 agent"
AGENT_TYPE_OVS = "Open vSwitch agent"
AGENT_TYPE_METADATA = "Metadata agent"
L3_AGENT_MODE = "agent_mode"
L3_AGENT_MODE_LEGACY = "legacy"
L3_AGENT_MODE_DVR = "dvr"
L3_AGENT_MODE_DVR_SNAT = "dvr_snat"
L3_AGENT_MODE_DVR_NO_EXTERNAL = "dvr_no_external"
DEFAULT_AVAILABILITY_ZONE = "nova"  # neutron/conf/agent/common.py [AGENT] availability_zone
L3_HA_NET_CIDR = "169.254.192.0/18"
HA_NETWORK_NAME = "HA network project %s"
HA_SUBNET_NAME = "HA subnet project %s"
HA_PORT_NAME = "HA port project %s"
DEVICE_OWNER_ROUTER_HA_INTF = "network:router_ha_interface"
DEVICE_OWNER_DHCP = "network:dhcp"
DEVICE_OWNER_COMPUTE_PREFIX = "compute:"
TRUNK_SUBPORT_OWNER = "trunk:subport"  # neutron_lib/services/trunk/constants.py
LINUX_DEV_LEN = 14
PRIVATE_CIDR_RANGE = "169.254.0.0/16"
METADATA_V4_CIDR = "169.254.169.254/32"
DVR_FIP_LL_CIDR = "169.254.64.0/18"
# neutron/common/_constants.py
LOWEST_AGENT_BINDING_INDEX = 1
# neutron/db/l3_hamode_db.py: ``VR_ID_RANGE = set(range(1, 255))``, so 254 VRIDs a project.
VR_ID_RANGE = range(1, 255)
MAX_ALLOCATION_TRIES = 10
# neutron/agent/l3/ha_router.py and neutron/agent/linux/keepalived.py (keepalived's own
# numbers for neutron are in stacklab.network.vrrp).
HA_DEV_PREFIX = "ha-"
PRIMARY_VIP_RANGE_SIZE = 24

DHCP_SCHEDULER_DRIVERS = ("WeightScheduler", "ChanceScheduler", "AZAwareWeightScheduler")
L3_SCHEDULER_DRIVERS = ("LeastRoutersScheduler", "ChanceScheduler", "AZLeastRoutersScheduler")

# What oslo.config logged for the option in Newton (deprecated_for_removal), with the
# reason taken from neutron's Ocata release note (commit dd5aca38f9).
MIN_L3_AGENTS_DEPRECATION = (
    'Option "min_l3_agents_per_router" from group "DEFAULT" is deprecated for removal '
    "(removed from neutron in Ocata: HA routers no longer require a minimal number of "
    "L3 agents to be created).  Its value may be silently ignored in the future.")


# ---------------------------------------------------------------------------------------
# Options and errors


class ConfigurationError(ValueError):
    """An option value neutron-server would refuse to start with."""


def _driver_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class SchedulingOptions:
    """neutron.conf's scheduling options, with upstream's defaults.

    Driver options take neutron's dotted paths or the bare class names.
    """

    # neutron/conf/agent/database/agents_db.py
    agent_down_time: int = 75
    # neutron/conf/agent/common.py [AGENT] report_interval (agent side; for reference).
    report_interval: float = 30.0
    # neutron/conf/agent/database/agentschedulers_db.py
    network_scheduler_driver: str = "neutron.scheduler.dhcp_agent_scheduler.WeightScheduler"
    network_auto_schedule: bool = True
    allow_automatic_dhcp_failover: bool = True
    dhcp_agents_per_network: int = 1
    enable_services_on_agents_with_admin_state_down: bool = False
    # neutron/conf/db/l3_agentschedulers_db.py
    router_scheduler_driver: str = "neutron.scheduler.l3_agent_scheduler.LeastRoutersScheduler"
    router_auto_schedule: bool = True
    allow_automatic_l3agent_failover: bool = False
    # neutron/conf/db/l3_hamode_db.py
    l3_ha: bool = False
    max_l3_agents_per_router: int = 3
    l3_ha_net_cidr: str = L3_HA_NET_CIDR
    # neutron/conf/db/l3_dvr_db.py
    router_distributed: bool = False
    host_dvr_for_dhcp: bool = True
    # neutron/conf/common.py
    default_availability_zones: tuple[str, ...] = ()
    # Removed upstream in Ocata; accepted (the course's snippet sets it) and ignored.
    min_l3_agents_per_router: int | None = None

    def __post_init__(self) -> None:
        if self.agent_down_time < 1:
            raise ConfigurationError("agent_down_time must be at least 1")
        if self.dhcp_agents_per_network < 1:
            raise ConfigurationError("dhcp_agents_per_network must be at least 1")
        if self.max_l3_agents_per_router < 0:
            # neutron_lib/exceptions/l3_ext_ha_mode.py HAMaximumAgentsNumberNotValid
            raise ConfigurationError(
                f"max_l3_agents_per_router {self.max_l3_agents_per_router} config parameter "
                "is not valid as it cannot be negative. It must be 1 or greater. "
                "Alternatively, it can be 0 to mean unlimited.")
        if _driver_name(self.network_scheduler_driver) not in DHCP_SCHEDULER_DRIVERS:
            raise ConfigurationError(
                f"unknown network_scheduler_driver {self.network_scheduler_driver}")
        if _driver_name(self.router_scheduler_driver) not in L3_SCHEDULER_DRIVERS:
            raise ConfigurationError(
                f"unknown router_scheduler_driver {self.router_scheduler_driver}")
        # neutron/db/l3_hamode_db.py _verify_configuration: a network address with a prefix.
        try:
            ipaddress.ip_network(self.l3_ha_net_cidr, strict=True)
            valid = "/" in self.l3_ha_net_cidr
        except ValueError:
            valid = False
        if not valid:
            raise ConfigurationError(
                "The HA Network CIDR specified in the configuration file isn't valid; "
                f"{self.l3_ha_net_cidr}.")

    @property
    def agent_dead_limit(self) -> int:
        """Heartbeat age after which the failover workers move resources away (150 s)."""
        return self.agent_down_time * 2

    @property
    def status_check_interval(self) -> int:
        """Period of the failover workers: ``max(agent_down_time // 2, 1)`` (37 s)."""
        return max(self.agent_down_time // 2, 1)

    @property
    def status_check_initial_delay(self) -> tuple[int, int]:
        """Bounds of the workers' random first delay after server start ([37, 74] s)."""
        return self.status_check_interval, self.status_check_interval * 2

    def deprecation_warnings(self) -> list[str]:
        """Warnings to log at start-up for options neutron no longer has."""
        if self.min_l3_agents_per_router is None:
            return []
        return [MIN_L3_AGENTS_DEPRECATION]


class _NeutronConflict(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__(message, kind=type(self).__name__)


class _NeutronNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message, kind=type(self).__name__)


class NoVRIDAvailable(_NeutronConflict):
    """neutron_lib/exceptions/l3_ext_ha_mode.py: the project's 254 VRIDs are all taken."""

    def __init__(self, router_id: str) -> None:
        super().__init__(
            "No more Virtual Router Identifier (VRID) available when creating router "
            f"{router_id}. The limit of number of HA Routers per project is 254.")


class MaxVRIDAllocationTriesReached(ApiError):
    """Only under concurrent allocations (10 duplicate-entry retries); never raised here."""

    def __init__(self, network_id: str, router_id: str) -> None:
        super().__init__(
            f"Failed to allocate a VRID in the network {network_id} for the router "
            f"{router_id} after {MAX_ALLOCATION_TRIES} tries.",
            kind="MaxVRIDAllocationTriesReached")


class AgentNotFound(_NeutronNotFound):
    def __init__(self, agent_id: str, message: str | None = None) -> None:
        super().__init__(message or f"Agent {agent_id} could not be found.")


class InvalidDHCPAgent(AgentNotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(
            agent_id, f"Agent {agent_id} is not a valid DHCP Agent or has been disabled.")


class InvalidL3Agent(AgentNotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(agent_id, f"Agent {agent_id} is not a L3 Agent or has been disabled")


class NetworkHostedByDHCPAgent(_NeutronConflict):
    def __init__(self, network_id: str, agent_id: str) -> None:
        super().__init__(f"The network {network_id} has been already hosted by the DHCP "
                         f"Agent {agent_id}.")


class NetworkNotHostedByDhcpAgent(_NeutronConflict):
    def __init__(self, network_id: str, agent_id: str) -> None:
        super().__init__(f"The network {network_id} is not hosted by the DHCP Agent "
                         f"{agent_id}.")


class RouterHostedByL3Agent(_NeutronConflict):
    def __init__(self, router_id: str, agent_id: str) -> None:
        super().__init__(f"The router {router_id} has been already hosted by the L3 Agent "
                         f"{agent_id}.")


class RouterL3AgentMismatch(_NeutronConflict):
    def __init__(self, router_id: str, agent_id: str) -> None:
        super().__init__(f"Cannot host distributed router {router_id} on legacy L3 agent "
                         f"{agent_id}.")


class DVRL3CannotAssignToDvrAgent(_NeutronConflict):
    def __init__(self) -> None:
        super().__init__("Not allowed to manually assign a router to an agent in 'dvr' mode.")


class DVRL3CannotRemoveFromDvrAgent(_NeutronConflict):
    def __init__(self) -> None:
        super().__init__("Not allowed to manually remove a router from an agent in 'dvr' "
                         "mode.")


class RouterReschedulingFailed(_NeutronConflict):
    def __init__(self, router_id: str) -> None:
        super().__init__(f"Failed rescheduling router {router_id}: no eligible l3 agent "
                         "found.")


class AvailabilityZoneNotFound(_NeutronNotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"AvailabilityZone {name} could not be found.")


class IpAddressGenerationFailure(_NeutronConflict):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"No more IP addresses available on network {net_id}.")


# ---------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class LogRecord:
    """A line neutron-server would log, for the caller to emit (``level`` from ``logging``)."""

    level: int
    message: str


@dataclass(frozen=True)
class AgentRecord:
    """One row of neutron's ``agents`` table, as the scheduler sees it.

    ``agent_type`` is one of the ``AGENT_TYPE_*`` names. DHCP and L3 agents report an
    availability zone (``[AGENT] availability_zone``, default ``nova``); the L3 agent's
    ``configurations`` carry its ``agent_mode`` (``legacy`` when absent) and may carry
    ``handle_internal_only_routers`` and ``router_id``. ``started_at`` is when the agent
    last (re)started (its first report with ``start_flag``); ``None`` means unknown.
    """

    id: str
    agent_type: str
    host: str
    heartbeat_timestamp: float
    admin_state_up: bool = True
    availability_zone: str | None = None
    configurations: Mapping[str, Any] = field(default_factory=dict, hash=False)
    started_at: float | None = None
    binary: str = ""

    @property
    def agent_mode(self) -> str:
        return str(self.configurations.get(L3_AGENT_MODE, L3_AGENT_MODE_LEGACY))

    def is_down(self, now: float, agent_down_time: float) -> bool:
        """neutron's ``is_agent_down``: the heartbeat is *more* than agent_down_time old."""
        return is_agent_down(self.heartbeat_timestamp, now, agent_down_time)

    def is_active(self, now: float, agent_down_time: float) -> bool:
        """``Agent.is_active`` and the API's ``alive``: the opposite of ``is_down``."""
        return not self.is_down(now, agent_down_time)


@dataclass(frozen=True)
class NetworkBinding:
    """A row of ``networkdhcpagentbindings``: the DHCP agent serves the network."""

    network_id: str
    agent_id: str
    binding_index: int = LOWEST_AGENT_BINDING_INDEX


@dataclass(frozen=True)
class RouterBinding:
    """A row of ``routerl3agentbindings``: the L3 agent hosts the router."""

    router_id: str
    agent_id: str
    binding_index: int = LOWEST_AGENT_BINDING_INDEX


@dataclass(frozen=True)
class NetworkSpec:
    """What the DHCP scheduler needs of a network.

    ``candidate_hosts`` restricts the hosts (neutron's routed-segment scheduling: a
    binding is then forced even beyond dhcp_agents_per_network, as upstream).
    """

    id: str
    availability_zone_hints: tuple[str, ...] = ()
    candidate_hosts: frozenset[str] | None = None


@dataclass(frozen=True)
class RouterSpec:
    """What the L3 scheduler needs of a router.

    ``ha`` and ``distributed`` left ``None`` take ``l3_ha`` and ``router_distributed``
    (neutron fixes them at creation). ``interface_subnet_ids`` are the subnets of its
    internal interfaces (DVR hosting).
    """

    id: str
    project_id: str
    ha: bool | None = None
    distributed: bool | None = None
    availability_zone_hints: tuple[str, ...] = ()
    external_network_id: str | None = None
    interface_subnet_ids: tuple[str, ...] = ()

    def is_ha(self, options: SchedulingOptions) -> bool:
        return options.l3_ha if self.ha is None else self.ha

    def is_distributed(self, options: SchedulingOptions) -> bool:
        return options.router_distributed if self.distributed is None else self.distributed


@dataclass(frozen=True)
class HaPort:
    """A router's ``ha-`` port on its project's HA network, bound to one L3 agent.

    ``port_id`` is filled in by whoever creates the port (the interface name needs it).
    """

    router_id: str
    agent_id: str
    project_id: str
    ip_address: str
    port_id: str | None = None

    @property
    def name(self) -> str:
        return HA_PORT_NAME % self.project_id

    @property
    def device_owner(self) -> str:
        return DEVICE_OWNER_ROUTER_HA_INTF


@dataclass(frozen=True)
class VrIdAllocation:
    """A VRID taken on a project's HA network (``ha_router_vrid_allocations``)."""

    project_id: str
    router_id: str
    vr_id: int


@dataclass(frozen=True)
class HaNetworkSpec:
    """The per-project HA network and subnet neutron creates before the first HA router."""

    project_id: str
    cidr: str

    @property
    def network_name(self) -> str:
        return HA_NETWORK_NAME % self.project_id

    @property
    def subnet_name(self) -> str:
        return HA_SUBNET_NAME % self.project_id

    # neutron creates both with project_id '' (admin-owned, invisible to the project),
    # shared False, admin_state_up True; the subnet with enable_dhcp False and no gateway.
    owner_project_id: str = ""
    enable_dhcp: bool = False
    gateway_ip: str | None = None


@dataclass(frozen=True)
class VrrpInstanceSpec:
    """The keepalived instance one hosting agent runs for an HA router.

    ``config`` is what neutron's ha_router.py writes (``VrrpConfig.neutron_ha_router``:
    BACKUP, priority 50 on every replica, nopreempt); the primary VIP is
    169.254.0.<VRID>/24 on the ``ha-`` device (keepalived.py ``get_primary_vip``).
    """

    router_id: str
    agent_id: str
    host: str
    ha_ip_address: str
    interface: str | None
    primary_vip: str
    config: VrrpConfig

    @property
    def vr_id(self) -> int:
        return self.config.vrid

    @property
    def name(self) -> str:
        return f"VR_{self.config.vrid}"


@dataclass(frozen=True)
class DhcpChanges:
    """What a DHCP scheduling step decided: bindings to add and remove, and its log.

    ``retry_at`` is set when the failover check stepped back because of a clock jump
    (neutron sleeps agent_dead_limit seconds and checks again then).
    """

    added: tuple[NetworkBinding, ...] = ()
    removed: tuple[NetworkBinding, ...] = ()
    log: tuple[LogRecord, ...] = ()
    retry_at: float | None = None

    def apply(self, bindings: Iterable[NetworkBinding]) -> list[NetworkBinding]:
        """The bindings after this step."""
        gone = {(b.network_id, b.agent_id) for b in self.removed}
        kept = [b for b in bindings if (b.network_id, b.agent_id) not in gone]
        return kept + list(self.added)


@dataclass(frozen=True)
class L3Changes:
    """What an L3 scheduling step decided.

    ``router_status`` maps routers to the status neutron gives them (``ERROR`` when no
    VRID was left); ``errors`` holds the exceptions neutron logged instead of raising.
    ``removed_ha_ports`` lists ports deleted; neutron leaves the HA port of an agent a
    router was rescheduled away from (it is reused if the router comes back).
    """

    added: tuple[RouterBinding, ...] = ()
    removed: tuple[RouterBinding, ...] = ()
    added_ha_ports: tuple[HaPort, ...] = ()
    removed_ha_ports: tuple[HaPort, ...] = ()
    added_vr_ids: tuple[VrIdAllocation, ...] = ()
    router_status: Mapping[str, str] = field(default_factory=dict, hash=False)
    errors: tuple[ApiError, ...] = ()
    log: tuple[LogRecord, ...] = ()
    retry_at: float | None = None


@dataclass(frozen=True)
class L3State:
    """The L3 scheduler's tables: router bindings, HA ports and VRID allocations."""

    bindings: tuple[RouterBinding, ...] = ()
    ha_ports: tuple[HaPort, ...] = ()
    vr_ids: tuple[VrIdAllocation, ...] = ()

    def apply(self, changes: L3Changes) -> L3State:
        """The state after ``changes``."""
        gone = {(b.router_id, b.agent_id) for b in changes.removed}
        ports_gone = {(p.router_id, p.agent_id) for p in changes.removed_ha_ports}
        return L3State(
            bindings=tuple(b for b in self.bindings if (b.router_id, b.agent_id) not in gone)
            + changes.added,
            ha_ports=tuple(p for p in self.ha_ports
                           if (p.router_id, p.agent_id) not in ports_gone)
            + changes.added_ha_ports,
            vr_ids=self.vr_ids + changes.added_vr_ids)

    def bindings_of(self, router_id: str) -> list[RouterBinding]:
        return [b for b in self.bindings if b.router_id == router_id]

    def vr_id_of(self, router_id: str) -> int | None:
        return next((a.vr_id for a in self.vr_ids if a.router_id == router_id), None)


@dataclass(frozen=True)
class AvailabilityZone:
    """A row of ``openstack availability zone list --network`` (neutron's view)."""

    name: str
    resource: str
    state: str


# ---------------------------------------------------------------------------------------
# Liveness


def is_agent_down(heartbeat_timestamp: float, now: float, agent_down_time: float) -> bool:
    """``timeutils.is_older_than(heartbeat, agent_down_time)``: strictly older."""
    return now - heartbeat_timestamp > agent_down_time


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


# ---------------------------------------------------------------------------------------
# DHCP


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


# ---------------------------------------------------------------------------------------
# L3


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


def number_of_agents_for_scheduling(agents: Iterable[AgentRecord], now: float,
                                    options: SchedulingOptions) -> tuple[int, list[LogRecord]]:
    """How many agents an HA router is scheduled on (l3_hamode_db.py).

    The admin-up, alive ``legacy`` and ``dvr_snat`` L3 agents, capped at
    max_l3_agents_per_router (0: no cap). Since Ocata this never refuses: with one agent
    alive an HA router gets one replica (and more when agents come up), with a log line.
    """
    log: list[LogRecord] = []
    count = sum(1 for a in agents if a.agent_type == AGENT_TYPE_L3 and a.admin_state_up
                and a.agent_mode in (L3_AGENT_MODE_LEGACY, L3_AGENT_MODE_DVR_SNAT)
                and not a.is_down(now, options.agent_down_time))
    maximum = options.max_l3_agents_per_router
    if maximum:
        if maximum > count:
            log.append(LogRecord(logging.INFO, (
                "Number of active agents lower than max_l3_agents_per_router. L3 agents "
                f"available: {count}")))
        else:
            count = maximum
    return count, log


def allocate_vr_id(router_id: str, allocated: Collection[int]) -> int:
    """The lowest VRID of 1..254 not yet used on the project's HA network.

    neutron picks one at random among the free ones; the lowest keeps runs repeatable.
    Raises ``NoVRIDAvailable`` for the project's 255th HA router.
    """
    for vr_id in VR_ID_RANGE:
        if vr_id not in allocated:
            return vr_id
    raise NoVRIDAvailable(router_id)


def ha_network_spec(project_id: str, options: SchedulingOptions) -> HaNetworkSpec:
    """The HA network (and subnet) a project's first HA router needs."""
    return HaNetworkSpec(project_id=project_id, cidr=options.l3_ha_net_cidr)


def ha_interface_name(port_id: str) -> str:
    """The ``ha-`` device of an HA port: ``('ha-' + port_id)[:14]``."""
    return (HA_DEV_PREFIX + port_id)[:LINUX_DEV_LEN]


def primary_vip(vr_id: int, options: SchedulingOptions) -> str:
    """keepalived's primary VIP: VRID-th address of the first free /24 of 169.254.0.0/16.

    The range excludes the metadata address, DVR's FIP link-local range and the HA
    network; with the defaults it is 169.254.0.0/24, so VRID 5 gives 169.254.0.5/24.
    """
    parent = ipaddress.IPv4Network(PRIVATE_CIDR_RANGE)
    excluded = [ipaddress.IPv4Network(c) for c in
                (METADATA_V4_CIDR, DVR_FIP_LL_CIDR, options.l3_ha_net_cidr)]
    for block in parent.subnets(new_prefix=PRIMARY_VIP_RANGE_SIZE):
        if not any(block.overlaps(e) for e in excluded):
            return f"{block.network_address + vr_id}/{PRIMARY_VIP_RANGE_SIZE}"
    raise ConfigurationError("no free range for the primary VIP")


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


def vrrp_instances(router: RouterSpec, agents: Iterable[AgentRecord], state: L3State,
                   options: SchedulingOptions, *,
                   ha_vrrp_advert_int: float = NEUTRON_HA_ADVERT_INT) -> list[VrrpInstanceSpec]:
    """The keepalived instance each agent hosting an HA router runs (none for other routers).

    One per binding that has both a VRID and its agent's ``ha-`` port, ordered by
    binding_index; ``ha_vrrp_advert_int`` is the L3 agents' option (2 s).
    """
    if not router.is_ha(options):
        return []
    vr_id = state.vr_id_of(router.id)
    if vr_id is None:
        return []
    agents_by_id = _by_id(agents)
    ports = {p.agent_id: p for p in state.ha_ports if p.router_id == router.id}
    vip = primary_vip(vr_id, options)
    config = VrrpConfig.neutron_ha_router(vr_id, advert_int=ha_vrrp_advert_int)
    instances = []
    for binding in sorted(state.bindings_of(router.id), key=lambda b: b.binding_index):
        agent = agents_by_id.get(binding.agent_id)
        port = ports.get(binding.agent_id)
        if agent is None or port is None:
            continue
        interface = ha_interface_name(port.port_id) if port.port_id else None
        instances.append(VrrpInstanceSpec(router.id, agent.id, agent.host, port.ip_address,
                                          interface, vip, config))
    return instances


# ---------------------------------------------------------------------------------------
# DVR and namespaces


@dataclass(frozen=True)
class PortPlacement:
    """A port bound to a host (ML2 ``binding:host_id``), with the subnets of its fixed IPs."""

    port_id: str
    host: str
    device_owner: str
    subnet_ids: tuple[str, ...] = ()
    has_floating_ip: bool = False


def is_dvr_serviced(device_owner: str, options: SchedulingOptions) -> bool:
    """neutron/common/utils.py: ports that bring a DVR router's ``qrouter-`` to their host."""
    others = [TRUNK_SUBPORT_OWNER] + ([DEVICE_OWNER_DHCP] if options.host_dvr_for_dhcp else [])
    return device_owner.startswith(DEVICE_OWNER_COMPUTE_PREFIX) or device_owner in others


def namespaces_by_host(routers: Iterable[RouterSpec], agents: Iterable[AgentRecord],
                       state: L3State, ports: Iterable[PortPlacement],
                       options: SchedulingOptions, *,
                       network_bindings: Iterable[NetworkBinding] = ()
                       ) -> dict[str, list[str]]:
    """Which namespaces each host's agents should have (what ``ip netns`` would show).

    - ``qrouter-<router>`` where an agent is bound to the router (legacy, HA, or a DVR
      router's SNAT agent), and, for a distributed router, on every host whose
      ``dvr``/``dvr_snat``/``dvr_no_external`` L3 agent has a DVR-serviced port
      (``compute:*``, DHCP, trunk subports) on one of the router's interface subnets;
    - ``snat-<router>`` on the ``dvr_snat`` agents bound to a distributed router that
      has a gateway (keepalived runs there for DVR+HA);
    - ``fip-<external network>`` on ``dvr``/``dvr_snat`` hosts with a floating IP on a
      port behind a distributed router with a gateway;
    - ``qdhcp-<network>`` where a DHCP agent hosts the network.

    Only agents whose services are available count; liveness does not (a dead host keeps
    its namespaces). Routers connected through shared subnets to other DVR routers and
    centralized floating IPs of ``dvr_no_external`` hosts are not modelled.
    """
    agents = list(agents)
    agents_by_id = _by_id(agents)
    serving = [a for a in agents if services_available(a, options)]
    dvr_l3_by_host = {a.host: a for a in serving if a.agent_type == AGENT_TYPE_L3
                      and a.agent_mode in (L3_AGENT_MODE_DVR, L3_AGENT_MODE_DVR_SNAT,
                                           L3_AGENT_MODE_DVR_NO_EXTERNAL)}
    ports = list(ports)
    result: dict[str, set[str]] = defaultdict(set)
    for router in routers:
        distributed = router.is_distributed(options)
        for binding in state.bindings_of(router.id):
            agent = agents_by_id.get(binding.agent_id)
            if agent is None or not services_available(agent, options):
                continue
            result[agent.host].add(f"qrouter-{router.id}")
            if (distributed and router.external_network_id
                    and agent.agent_mode == L3_AGENT_MODE_DVR_SNAT):
                result[agent.host].add(f"snat-{router.id}")
        if not distributed:
            continue
        subnets = set(router.interface_subnet_ids)
        for port in ports:
            if not subnets.intersection(port.subnet_ids):
                continue
            if not is_dvr_serviced(port.device_owner, options):
                continue
            dvr_agent = dvr_l3_by_host.get(port.host)
            if dvr_agent is None:
                continue
            result[port.host].add(f"qrouter-{router.id}")
            if (port.has_floating_ip and router.external_network_id
                    and dvr_agent.agent_mode != L3_AGENT_MODE_DVR_NO_EXTERNAL):
                result[port.host].add(f"fip-{router.external_network_id}")
    for net_binding in network_bindings:
        agent = agents_by_id.get(net_binding.agent_id)
        if agent is not None and services_available(agent, options):
            result[agent.host].add(f"qdhcp-{net_binding.network_id}")
    return {host: sorted(names) for host, names in sorted(result.items())}


# ---------------------------------------------------------------------------------------
# Availability zones


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

