"""What the schedulers read and return: agent rows, bindings, what they need of a network or a
router, HA ports and VRIDs, the changes one step decides and the log lines neutron would write.

Liveness is defined here, next to the agent record: an agent is alive while its last
heartbeat is at most ``agent_down_time`` (75 s) old (neutron/agent/common/utils.py
``is_agent_down``); agents report every ``report_interval`` (30 s,
neutron/conf/agent/common.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stacklab.api.errors import ApiError
from stacklab.ha.vrrp import VrrpConfig
from stacklab.network.scheduling.constants import (
    DEVICE_OWNER_ROUTER_HA_INTF,
    HA_NETWORK_NAME,
    HA_PORT_NAME,
    HA_SUBNET_NAME,
    L3_AGENT_MODE,
    L3_AGENT_MODE_LEGACY,
    LOWEST_AGENT_BINDING_INDEX,
)
from stacklab.network.scheduling.options import SchedulingOptions


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


def is_agent_down(heartbeat_timestamp: float, now: float, agent_down_time: float) -> bool:
    """``timeutils.is_older_than(heartbeat, agent_down_time)``: strictly older."""
    return now - heartbeat_timestamp > agent_down_time
