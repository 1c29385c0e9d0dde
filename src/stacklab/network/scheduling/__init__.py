"""neutron's agent scheduling, as pure functions: which agents host which networks and routers.

Nothing here reads a clock, a database or a random source of its own: callers pass
``now`` (seconds since the epoch, as ``Clock.now()``), the agent records, the current
bindings and the options, and get back the changes to make and the log lines neutron
would write. Rules, defaults and messages are neutron's (openstack/neutron @ 2131d26f73,
neutron-lib @ 6cd671a8; ha-semantics.md §1.4 and §6).

Where neutron leaves a choice to chance or to the database's row order, the choice here
is deterministic: ties go to the lower host name, then the lower agent id; the lowest free
VRID and HA address are taken; ``ChanceScheduler`` draws from a ``random.Random`` seeded
with the resource id unless the caller passes its own.

By topic: ``constants``, ``options`` (neutron.conf), ``errors``, ``records`` (what goes in
and out, and liveness), ``common`` (what DHCP and L3 share), ``dhcp``, ``l3``, ``ha``,
``dvr`` (and the namespaces of each host), ``zones``. Import from the topic module; the
names below are re-exported only for the agents layer (``network.agents``, ``netns``),
which reads them as ``sch.<name>``.
"""

from stacklab.network.scheduling.constants import (
    AGENT_ALIVE,
    AGENT_NEW,
    AGENT_REVIVED,
    AGENT_TYPE_DHCP,
    AGENT_TYPE_L3,
    AGENT_TYPE_METADATA,
    AGENT_TYPE_OVS,
    DEVICE_OWNER_AGENT_GW,
    DEVICE_OWNER_DVR_INTERFACE,
    DEVICE_OWNER_ROUTER_HA_INTF,
    DEVICE_OWNER_ROUTER_SNAT,
)
from stacklab.network.scheduling.dhcp import (
    auto_schedule_networks,
    hosts_with_l2_agent,
    remove_networks_from_down_agents,
    schedule_network,
)
from stacklab.network.scheduling.dvr import PortPlacement, is_dvr_serviced, namespaces_by_host
from stacklab.network.scheduling.ha import ha_network_spec, primary_vip, vrrp_instances
from stacklab.network.scheduling.l3 import (
    auto_schedule_routers,
    reschedule_routers_from_down_agents,
    schedule_router,
)
from stacklab.network.scheduling.options import SchedulingOptions
from stacklab.network.scheduling.records import (
    AgentRecord,
    DhcpChanges,
    HaPort,
    L3Changes,
    L3State,
    LogRecord,
    NetworkBinding,
    NetworkSpec,
    RouterBinding,
    RouterSpec,
    VrIdAllocation,
    is_agent_down,
)

__all__ = [
    "AGENT_ALIVE",
    "AGENT_NEW",
    "AGENT_REVIVED",
    "AGENT_TYPE_DHCP",
    "AGENT_TYPE_L3",
    "AGENT_TYPE_METADATA",
    "AGENT_TYPE_OVS",
    "DEVICE_OWNER_AGENT_GW",
    "DEVICE_OWNER_DVR_INTERFACE",
    "DEVICE_OWNER_ROUTER_HA_INTF",
    "DEVICE_OWNER_ROUTER_SNAT",
    "AgentRecord",
    "DhcpChanges",
    "HaPort",
    "L3Changes",
    "L3State",
    "LogRecord",
    "NetworkBinding",
    "NetworkSpec",
    "PortPlacement",
    "RouterBinding",
    "RouterSpec",
    "SchedulingOptions",
    "VrIdAllocation",
    "auto_schedule_networks",
    "auto_schedule_routers",
    "ha_network_spec",
    "hosts_with_l2_agent",
    "is_agent_down",
    "is_dvr_serviced",
    "namespaces_by_host",
    "primary_vip",
    "remove_networks_from_down_agents",
    "reschedule_routers_from_down_agents",
    "schedule_network",
    "schedule_router",
    "vrrp_instances",
]
