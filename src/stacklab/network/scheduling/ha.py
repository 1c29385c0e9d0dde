"""HA routers: how many agents host one, VRIDs 1..254 per project HA network, the HA network
(169.254.192.0/18) with its ``ha-`` ports, and the keepalived instance each host runs
(neutron/db/l3_hamode_db.py, neutron/agent/l3/ha_router.py,
neutron/agent/linux/keepalived.py)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Collection, Iterable

from stacklab.ha.vrrp import NEUTRON_HA_ADVERT_INT, VrrpConfig
from stacklab.network.scheduling.common import _by_id
from stacklab.network.scheduling.constants import (
    AGENT_TYPE_L3,
    DVR_FIP_LL_CIDR,
    HA_DEV_PREFIX,
    L3_AGENT_MODE_DVR_SNAT,
    L3_AGENT_MODE_LEGACY,
    LINUX_DEV_LEN,
    METADATA_V4_CIDR,
    PRIMARY_VIP_RANGE_SIZE,
    PRIVATE_CIDR_RANGE,
    VR_ID_RANGE,
)
from stacklab.network.scheduling.errors import NoVRIDAvailable
from stacklab.network.scheduling.options import ConfigurationError, SchedulingOptions
from stacklab.network.scheduling.records import (
    AgentRecord,
    HaNetworkSpec,
    L3State,
    LogRecord,
    RouterSpec,
    VrrpInstanceSpec,
)


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
