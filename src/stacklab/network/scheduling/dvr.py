"""DVR hosting and the namespaces each host's agents hold.

A distributed router's SNAT part sits on one ``dvr_snat`` agent, its ``qrouter-`` on every
DVR host with a port on its subnets (neutron/db/l3_dvrscheduler_db.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from stacklab.network.scheduling.common import _by_id, services_available
from stacklab.network.scheduling.constants import (
    AGENT_TYPE_L3,
    DEVICE_OWNER_COMPUTE_PREFIX,
    DEVICE_OWNER_DHCP,
    L3_AGENT_MODE_DVR,
    L3_AGENT_MODE_DVR_NO_EXTERNAL,
    L3_AGENT_MODE_DVR_SNAT,
    TRUNK_SUBPORT_OWNER,
)
from stacklab.network.scheduling.options import SchedulingOptions
from stacklab.network.scheduling.records import AgentRecord, L3State, NetworkBinding, RouterSpec


@dataclass(frozen=True)
class PortPlacement:
    """A port bound to a host (ML2 ``binding:host_id``), with the subnets of its fixed IPs."""

    port_id: str
    host: str
    device_owner: str
    subnet_ids: tuple[str, ...] = ()


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
    - ``fip-<external network>`` wherever a ``dvr`` or ``dvr_snat`` agent runs the
      ``qrouter-`` of a distributed router with a gateway: since Newton the agent wires
      every such router to the fip- namespace, floating IPs or not (neutron commit
      3162846a7b, dvr_local_router.py ``process_external``);
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
        # (host, its L3 agent's mode) where the router's qrouter- runs.
        placed: dict[str, str] = {}
        for binding in state.bindings_of(router.id):
            agent = agents_by_id.get(binding.agent_id)
            if agent is None or not services_available(agent, options):
                continue
            placed[agent.host] = agent.agent_mode
            if (distributed and router.external_network_id
                    and agent.agent_mode == L3_AGENT_MODE_DVR_SNAT):
                result[agent.host].add(f"snat-{router.id}")
        if distributed:
            subnets = set(router.interface_subnet_ids)
            for port in ports:
                dvr_agent = dvr_l3_by_host.get(port.host)
                if (dvr_agent is not None and subnets.intersection(port.subnet_ids)
                        and is_dvr_serviced(port.device_owner, options)):
                    placed[port.host] = dvr_agent.agent_mode
        for host, mode in placed.items():
            result[host].add(f"qrouter-{router.id}")
            if (distributed and router.external_network_id
                    and mode in (L3_AGENT_MODE_DVR, L3_AGENT_MODE_DVR_SNAT)):
                result[host].add(f"fip-{router.external_network_id}")
    for net_binding in network_bindings:
        agent = agents_by_id.get(net_binding.agent_id)
        if agent is not None and services_available(agent, options):
            result[agent.host].add(f"qdhcp-{net_binding.network_id}")
    return {host: sorted(names) for host, names in sorted(result.items())}
