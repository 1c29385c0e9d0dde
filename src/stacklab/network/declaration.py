"""Networking (neutron) as the cloud builds it: the server, the lab's agents, routing.

Its agents live on the lab's nodes: a node that loses power takes its agents'
reports and its keepalived with it, and gives them back when it returns. One process
stopped alone (an agent, or the node's keepalived) stops just that: a stopped agent
falls silent but what it set up keeps working; a stopped keepalived hands its routers
over cleanly. The HA routers' adverts travel the overlay, so a node cut off it splits
their elections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from stacklab.bus.inprocess import InProcessBus
from stacklab.bus.interface import Listener, Target, loop_running
from stacklab.declaration import CatalogSpec, Key, Parts, ServiceDeclaration, Startup
from stacklab.network.agents import Agents
from stacklab.network.api import api
from stacklab.network.keepalived import BusAdverts, Keepalived
from stacklab.network.node_agents import AgentEnv, NodeAgents
from stacklab.network.nova import NovaNotifier
from stacklab.network.plugin_rpc import AgentReports, L3PluginRpc, PluginRpc
from stacklab.network.policies import RULES
from stacklab.network.port_events import PortEvents
from stacklab.network.routing import Routing
from stacklab.network.scheduling.options import SchedulingOptions
from stacklab.network.service import NetworkService
from stacklab.network.topics import (
    DHCP_AGENT_TOPIC,
    L3_AGENT_TOPIC,
    L3_PLUGIN_TOPIC,
    PLUGIN_TOPIC,
    PORT_DELETE_TOPIC,
    PORT_UPDATE_TOPIC,
    REPORTS_TOPIC,
    VRRP_TOPIC,
)
from stacklab.topology import Change, Runtime
from stacklab.topology.runtime import NETWORK as NETWORK_CHANGE
from stacklab.topology.runtime import RUNNING, SERVICE

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

# The HA routers' keepalived on a network node, as one process the lab can stop.
KEEPALIVED = "keepalived"
SERVER = "neutron-server"

# What each neutron process consumes on its own node.
PROCESS_TOPICS = {
    "neutron-server": (REPORTS_TOPIC, PLUGIN_TOPIC, L3_PLUGIN_TOPIC),
    "neutron-dhcp-agent": (DHCP_AGENT_TOPIC,),
    "neutron-l3-agent": (L3_AGENT_TOPIC,),
    "neutron-openvswitch-agent": (PORT_UPDATE_TOPIC, PORT_DELETE_TOPIC),
    # The HA routers' adverts between processes (stacklab up --processes only).
    KEEPALIVED: (VRRP_TOPIC,),
}


def _keepalived_runs(runtime: Runtime) -> Callable[[str], bool]:
    """Whether a node's keepalived runs: powered, and (where the node's services name it)
    not stopped."""
    def runs(host: str) -> bool:
        try:
            node = runtime.node(host)
        except KeyError:
            return runtime.is_up(host)
        return runtime.running(host, KEEPALIVED) if node.runs(KEEPALIVED) \
            else runtime.is_up(host)
    return runs


def _advert_path(parts: Parts) -> Callable[[str, str], bool]:
    """Whether VRRP adverts get from one node to another: the HA network is a tenant
    network, carried over the overlay (VXLAN). Power is not asked: a powered-off node's
    keepalived is dead, not cut off."""
    runtime = parts.runtime
    overlay = next((n.name for n in parts.topology.networks.values()
                    if n.purpose == "overlay"), None)

    def path(first: str, second: str) -> bool:
        if not (runtime.is_up(first) and runtime.is_up(second)):
            return True
        return runtime.reachable(first, second, overlay)
    return path


def _advert_delivery(parts: Parts) -> Callable[[str, str], float | None]:
    """One advert's delay over the overlay between two nodes, or None when their link's
    loss takes it (reachability itself is ``_advert_path``'s, asked on arrival)."""
    runtime = parts.runtime

    def delivery(first: str, second: str) -> float | None:
        link = runtime.link(first, second)
        if not (runtime.is_up(first) and runtime.is_up(second)) or not (link.latency or link.loss):
            return 0.0
        return runtime.send(first, second)
    return delivery


def _advert_transport(parts: Parts) -> BusAdverts | None:
    """A process of a node's agents (stacklab up --processes) runs its node's keepalived
    only: the other nodes' instances are reached over the bus. None in the process that
    runs the server, where every instance is (one process for the cloud)."""
    if parts.here(SERVER, None):
        return None
    return BusAdverts(parts.bus, [
        node.fqdn for node in parts.topology.nodes.values()
        if node.runs(KEEPALIVED) and node.runs("neutron-l3-agent")
        and parts.here(KEEPALIVED, node.fqdn)])


def _keepalived_here(parts: Parts, host: str) -> bool:
    """Whether this process runs the host's keepalived of the HA routers."""
    return parts.here(KEEPALIVED, host)


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
    # The HA routers' keepalived runs on the lab's scaled clock, where it is not stopped,
    # and hears the nodes its HA network's path reaches.
    keepalived = Keepalived(parts.scaled_clock, _keepalived_runs(parts.runtime),
                            _advert_path(parts), _advert_delivery(parts),
                            _advert_transport(parts))
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
    # neutron's notifier (the API's writes), from network.<host>: the first neutron-server's.
    servers = [node.fqdn for node in parts.topology.nodes_running("neutron-server")]
    publisher = f"network.{servers[0]}" if servers else "network"
    bus = parts.bus

    async def notify(event_type: str, payload: Any, ctxt: dict[str, Any]) -> None:
        await bus.notify(publisher, event_type, payload, ctxt=ctxt)

    network.notifier = notify
    network.routing = parts.provide(ROUTING, Routing(
        network, agents, l3_ha=defaults.l3_ha, distributed=defaults.router_distributed))
    # Whether an agent's node is powered is the runtime's to say, nobody else's.
    # Only the agents this OS process runs (all of them in one process).
    parts.provide(NODE_AGENTS, NodeAgents(parts.topology, AgentEnv(
        parts.bus, parts.clock, parts.runtime.is_up, config.AGENT.report_interval,
        keepalived, defaults.ha_vrrp_advert_int, running=parts.runtime.running),
        here=parts.here))
    parts.provide(SERVER_RPC, _serve_rpc(parts, network, agents))
    return network


def _serve_rpc(parts: Parts, network: NetworkService, agents: Agents) -> ServerRpc:
    """neutron-server's RPC endpoints, on each node that runs it (or the one-node cloud's)."""
    assert network.port_events is not None
    endpoints = {
        REPORTS_TOPIC: AgentReports(parts.db, parts.clock, parts.ids,
                                    agent_down_time=parts.config.DEFAULT.agent_down_time,
                                    lab_clock=parts.scaled_clock),
        PLUGIN_TOPIC: PluginRpc(network.port_events, agents.dhcp_port, agents.active_networks,
                                agents.dvr_port_up),
        L3_PLUGIN_TOPIC: L3PluginRpc(agents.store_ha_states, agents.router_ids_on_host,
                                     agents.hosted_routers),
    }
    hosts: list[str | None] = [
        n.fqdn for n in parts.topology.nodes_running("neutron-server")] or [None]
    # A process of the agents (stacklab up --processes) serves none of them.
    return ServerRpc([parts.bus.listen(Target(topic, host), endpoint)
                      for host in hosts if parts.here(SERVER, host)
                      for topic, endpoint in endpoints.items()])


def _start(parts: Parts, startup: Startup) -> None:
    assert startup.admin_project_id is not None, "identity starts before networking"
    if parts.here(SERVER, None):
        parts.get(NETWORK).ensure_public_network(startup.admin_project_id)
    # The agents come up with the cloud and report at once; outside any event loop (a
    # cloud started before it serves), their first reports are delivered here.
    parts.get(NODE_AGENTS).start()
    keepalived = parts.get(AGENTS).keepalived
    if isinstance(keepalived.transport, BusAdverts):
        keepalived.transport.start(keepalived)
    # (On a broker they wait in its queue for the loop to run.)
    if not loop_running() and isinstance(parts.bus, InProcessBus):
        asyncio.run(parts.bus.deliver_waiting(REPORTS_TOPIC))


async def _background(parts: Parts) -> None:
    node_agents = parts.get(NODE_AGENTS).run()
    if not parts.here(SERVER, None):
        # A node's agents only (stacklab up --processes): the server's checks and its
        # keepalived set-up are neutron-server's process's.
        await node_agents
        return
    agents = parts.get(AGENTS)
    agents.start_all()
    await asyncio.gather(agents.run(), node_agents)


def _stop(parts: Parts) -> None:
    parts.get(NODE_AGENTS).stop()
    transport = parts.get(AGENTS).keepalived.transport
    if isinstance(transport, BusAdverts):
        transport.stop()
    parts.get(SERVER_RPC).stop()


def _node_down(parts: Parts, fqdn: str) -> None:
    # Its agents die with what they held in memory.
    parts.get(NODE_AGENTS).host_down(fqdn)
    if _keepalived_here(parts, fqdn):
        parts.get(AGENTS).keepalived.host_down(fqdn)


def _node_up(parts: Parts, fqdn: str) -> None:
    # The node's agents start again: each reports at once and then resyncs with the
    # server (the L3 agent restarting the keepalived of the routers it hosts).
    parts.get(NODE_AGENTS).host_up(fqdn)


def _changed(parts: Parts, change: Change) -> None:
    keepalived = parts.get(AGENTS).keepalived
    if change.kind == SERVICE:
        host, running = change.nodes[0], change.state == RUNNING
        if change.service == KEEPALIVED:
            # SIGTERM: masters send priority 0 and the backups take over at once.
            if _keepalived_here(parts, host):
                (keepalived.host_start if running else keepalived.host_stop)(host)
        else:
            parts.get(NODE_AGENTS).service_changed(host, change.service, running)
    elif change.kind == NETWORK_CHANGE:
        keepalived.relink()


DECLARATION = ServiceDeclaration(
    api=api, mount="/networking", rules=RULES,
    catalog=CatalogSpec("network", "neutron", "Networking Service", "/networking"),
    key=NETWORK, build=_build, start=_start, background=_background, stop=_stop,
    node_down=_node_down, node_up=_node_up, changed=_changed, process_topics=PROCESS_TOPICS,
    control_exchange="neutron")
