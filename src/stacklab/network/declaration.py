"""Networking (neutron) as the cloud builds it: the server, the lab's agents, routing.

Its agents live on the lab's nodes: a node that loses power takes its agents'
reports and its keepalived with it, and gives them back when it returns.
"""

from __future__ import annotations

import asyncio

from stacklab.bus.interface import Listener, Target, loop_running
from stacklab.declaration import CatalogSpec, Key, Parts, ServiceDeclaration, Startup
from stacklab.network.agents import Agents
from stacklab.network.api import api
from stacklab.network.keepalived import Keepalived
from stacklab.network.node_agents import AgentEnv, NodeAgents
from stacklab.network.nova import NovaNotifier
from stacklab.network.plugin_rpc import AgentReports, L3PluginRpc, PluginRpc
from stacklab.network.policies import RULES
from stacklab.network.port_events import PortEvents
from stacklab.network.routing import Routing
from stacklab.network.scheduling.options import SchedulingOptions
from stacklab.network.service import NetworkService
from stacklab.network.topics import L3_PLUGIN_TOPIC, PLUGIN_TOPIC, REPORTS_TOPIC

NETWORK = Key("network", NetworkService)
AGENTS = Key("network.agents", Agents)
ROUTING = Key("network.routing", Routing)
NODE_AGENTS = Key("network.node_agents", NodeAgents)


class ServerRpc:
    """neutron-server's consumers of the agents' topics: stopped with the service, so that no
    report is written into a store that is gone."""

    def __init__(self, listeners: list[Listener]) -> None:
        self.listeners = listeners

    def stop(self) -> None:
        for listener in self.listeners:
            listener.stop()


SERVER_RPC = Key("network.server_rpc", ServerRpc)


def _lab_addresses(parts: Parts) -> frozenset[str]:
    """The lab's own addresses on its external networks: its nodes' and its VIPs'."""
    topology = parts.topology
    external = {name for name, net in topology.networks.items() if net.purpose == "external"}
    nodes = {address for node in topology.nodes.values()
             for name, address in node.addresses.items() if name in external}
    vips = {vip.address for vip in topology.vips.values() if vip.network in external}
    return frozenset(nodes | vips)


def _build(parts: Parts) -> NetworkService:
    config = parts.config
    defaults = config.DEFAULT
    network = NetworkService(parts.db, parts.clock, parts.ids)
    network.reserved = _lab_addresses(parts)
    # neutron's [nova] section: events about servers' ports, over HTTP as the user neutron.
    network.nova = NovaNotifier(parts.app, parts.base_url, username="neutron",
                                password=config.stacklab.admin_password)
    network.port_events = PortEvents(parts.db, parts.bus, network.nova)
    # The HA routers' keepalived runs on the lab's scaled clock, on powered nodes only.
    keepalived = Keepalived(parts.scaled_clock, parts.runtime.is_up)
    agents = network.agents = parts.provide(AGENTS, Agents(
        parts.db, parts.clock, network, parts.bus,
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
        keepalived, ha_vrrp_advert_int=defaults.ha_vrrp_advert_int))
    # A project's new subnet: the service asks the agents' scheduler for DHCP agents.
    network.schedule_dhcp = agents.schedule_dhcp
    # Its networks' and subnets' news: cast to the DHCP agents serving the network.
    network.notify_dhcp = agents.notify_dhcp
    network.routing = parts.provide(ROUTING, Routing(
        network, agents, l3_ha=defaults.l3_ha, distributed=defaults.router_distributed))
    # Whether an agent's node is powered is the runtime's to say, nobody else's.
    parts.provide(NODE_AGENTS, NodeAgents(parts.topology, AgentEnv(
        parts.bus, parts.clock, parts.runtime.is_up, config.AGENT.report_interval,
        keepalived, defaults.ha_vrrp_advert_int)))
    parts.provide(SERVER_RPC, _serve_rpc(parts, network, agents))
    return network


def _serve_rpc(parts: Parts, network: NetworkService, agents: Agents) -> ServerRpc:
    """neutron-server's RPC endpoints, on each node that runs it (or the one-node cloud's)."""
    assert network.port_events is not None
    endpoints = {
        REPORTS_TOPIC: AgentReports(parts.db, parts.clock, parts.ids,
                                    agent_down_time=parts.config.DEFAULT.agent_down_time),
        PLUGIN_TOPIC: PluginRpc(network.port_events, agents.dhcp_port, agents.active_networks),
        L3_PLUGIN_TOPIC: L3PluginRpc(agents.store_ha_states),
    }
    hosts: list[str | None] = [
        n.fqdn for n in parts.topology.nodes_running("neutron-server")] or [None]
    return ServerRpc([parts.bus.listen(Target(topic, host), endpoint)
                      for host in hosts for topic, endpoint in endpoints.items()])


def _start(parts: Parts, startup: Startup) -> None:
    assert startup.admin_project_id is not None, "identity starts before networking"
    parts.get(NETWORK).ensure_public_network(startup.admin_project_id)
    # The agents come up with the cloud and report at once; outside any event loop (a
    # cloud started before it serves), their first reports are delivered here.
    parts.get(NODE_AGENTS).start()
    if not loop_running():
        asyncio.run(parts.bus.deliver_waiting(REPORTS_TOPIC))


async def _background(parts: Parts) -> None:
    agents = parts.get(AGENTS)
    agents.start_all()
    await asyncio.gather(agents.run(), parts.get(NODE_AGENTS).run())


def _stop(parts: Parts) -> None:
    parts.get(NODE_AGENTS).stop()
    parts.get(SERVER_RPC).stop()


def _node_down(parts: Parts, fqdn: str) -> None:
    # Its agents die with what they held in memory.
    parts.get(NODE_AGENTS).host_down(fqdn)
    parts.get(AGENTS).keepalived.host_down(fqdn)


def _node_up(parts: Parts, fqdn: str) -> None:
    # The node's agents start again: each reports at once, the DHCP and L2 agents resync
    # with the server, the L3 agent restarts the keepalived of the routers it hosts.
    parts.get(NODE_AGENTS).host_up(fqdn)
    parts.get(AGENTS).keepalived.host_up(fqdn)


DECLARATION = ServiceDeclaration(
    api=api, mount="/networking", rules=RULES,
    catalog=CatalogSpec("network", "neutron", "Networking Service", "/networking"),
    key=NETWORK, build=_build, start=_start, background=_background, stop=_stop,
    node_down=_node_down, node_up=_node_up)
