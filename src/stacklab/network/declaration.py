"""Networking (neutron) as the cloud builds it: the server, the lab's agents, routing.

Its agents live on the lab's nodes: a node that loses power takes its agents'
reports and its keepalived with it, and gives them back when it returns.
"""

from __future__ import annotations

from stacklab.declaration import CatalogSpec, Key, Parts, ServiceDeclaration, Startup
from stacklab.network.agents import Agents
from stacklab.network.api import api
from stacklab.network.nova import NovaNotifier
from stacklab.network.policies import RULES
from stacklab.network.routing import Routing
from stacklab.network.scheduling.options import SchedulingOptions
from stacklab.network.service import NetworkService

NETWORK = Key("network", NetworkService)
AGENTS = Key("network.agents", Agents)
ROUTING = Key("network.routing", Routing)


def _build(parts: Parts) -> NetworkService:
    config = parts.config
    defaults = config.DEFAULT
    network = NetworkService(parts.db, parts.clock, parts.ids)
    # neutron's [nova] section: events about servers' ports, over HTTP as the user neutron.
    network.nova = NovaNotifier(parts.app, parts.base_url, username="neutron",
                                password=config.stacklab.admin_password)
    agents = network.agents = parts.provide(AGENTS, Agents(
        parts.db, parts.clock, parts.ids, network, parts.topology,
        SchedulingOptions(
            agent_down_time=defaults.agent_down_time,
            report_interval=config.AGENT.report_interval,
            dhcp_agents_per_network=defaults.dhcp_agents_per_network,
            allow_automatic_dhcp_failover=defaults.allow_automatic_dhcp_failover,
            l3_ha=defaults.l3_ha, max_l3_agents_per_router=defaults.max_l3_agents_per_router,
            min_l3_agents_per_router=defaults.min_l3_agents_per_router,
            allow_automatic_l3agent_failover=defaults.allow_automatic_l3agent_failover,
            l3_ha_net_cidr=defaults.l3_ha_net_cidr,
            router_distributed=defaults.router_distributed),
        ha_vrrp_advert_int=defaults.ha_vrrp_advert_int,
        ha_clock=parts.scaled_clock))
    # Whether an agent's node is powered is the runtime's to say, nobody else's.
    agents.reachable = parts.runtime.is_up
    network.routing = parts.provide(ROUTING, Routing(
        network, agents, l3_ha=defaults.l3_ha, distributed=defaults.router_distributed))
    return network


def _start(parts: Parts, startup: Startup) -> None:
    assert startup.admin_project_id is not None, "identity starts before networking"
    parts.get(NETWORK).ensure_public_network(startup.admin_project_id)
    agents = parts.get(AGENTS)
    with parts.db.session() as session:
        agents.register(session)
    # The agents come up with the cloud and report at once (as compute services do).
    agents.heartbeat(parts.runtime.is_up)


async def _background(parts: Parts) -> None:
    agents = parts.get(AGENTS)
    agents.start_all()
    await agents.run(parts.runtime.is_up)


def _node_down(parts: Parts, fqdn: str) -> None:
    parts.get(AGENTS).host_down(fqdn)


def _node_up(parts: Parts, fqdn: str) -> None:
    parts.get(AGENTS).host_up(fqdn)


DECLARATION = ServiceDeclaration(
    api=api, mount="/networking", rules=RULES,
    catalog=CatalogSpec("network", "neutron", "Networking Service", "/networking"),
    key=NETWORK, build=_build, start=_start, background=_background,
    node_down=_node_down, node_up=_node_up)
