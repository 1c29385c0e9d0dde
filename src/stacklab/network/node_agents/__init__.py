"""The lab's neutron agents: a process per agent binary on each node that runs one.

Each is a bus participant on its host, as neutron's agents are: it reports its
state to the server over RPC and acts on what the server casts to it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from stacklab.network.node_agents.dhcp import DhcpAgent
from stacklab.network.node_agents.l3 import L3Agent
from stacklab.network.node_agents.metadata import MetadataAgent
from stacklab.network.node_agents.ovs import OvsAgent
from stacklab.network.node_agents.process import (
    AgentEndpoint,
    AgentEnv,
    AgentProcess,
    Resyncing,
)
from stacklab.topology import Node, Topology

T = TypeVar("T")

__all__ = ["AgentEnv", "AgentProcess", "DhcpAgent", "L3Agent", "MetadataAgent",
           "NodeAgents", "OvsAgent", "Resyncing"]


def _endpoint(node: Node, binary: str, env: AgentEnv) -> AgentEndpoint | None:
    if binary == OvsAgent.binary:
        return OvsAgent(node.fqdn, env.bus)
    if binary == DhcpAgent.binary:
        return DhcpAgent(node.fqdn, env.bus)
    if binary == L3Agent.binary:
        return L3Agent(node.fqdn, env.bus, node.l3_agent_mode or "legacy", env.keepalived,
                       advert_int=env.ha_vrrp_advert_int,
                       running=lambda host: env.runs(host, L3Agent.binary))
    if binary == MetadataAgent.binary:
        return MetadataAgent(node.fqdn)
    return None


class NodeAgents:
    """Every agent process of the lab, in the topology's order of nodes and services.

    ``here(binary, host)``: whether this OS process runs that agent (``stacklab up
    --processes`` runs a node's agents in that node's ``neutron-agents`` process); the
    others are not built here at all. None: every agent (one process for the cloud)."""

    def __init__(self, topology: Topology, env: AgentEnv,
                 here: Callable[[str, str | None], bool] | None = None) -> None:
        self.env = env
        self.processes: list[AgentProcess] = []
        for node in topology.nodes.values():
            for binary in node.services:
                if here is not None and not here(binary, node.fqdn):
                    continue
                endpoint = _endpoint(node, binary, env)
                if endpoint is not None:
                    self.processes.append(AgentProcess(endpoint, env))

    def on(self, host: str) -> list[AgentProcess]:
        return [p for p in self.processes if p.host == host]

    def endpoint(self, host: str, kind: type[T]) -> T | None:
        """The agent of that kind on that host (its DHCP agent, its L3 agent)."""
        return next((p.endpoint for p in self.on(host) if isinstance(p.endpoint, kind)), None)

    def start(self) -> None:
        """Each process consumes its topics and sends its first report."""
        for process in self.processes:
            process.start()
        for process in self.processes:
            process.report()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def host_down(self, host: str) -> None:
        for process in self.on(host):
            process.died()

    def host_up(self, host: str) -> None:
        # A process stopped before the power went stays stopped.
        for process in self.on(host):
            if process.running:
                process.restarted()

    def service_changed(self, host: str, binary: str, running: bool) -> bool:
        """One agent process of the host was stopped or started; whether it is an agent's."""
        found = [p for p in self.on(host) if p.endpoint.binary == binary]
        for process in found:
            if running:
                process.restarted()
            else:
                process.halted()
        return bool(found)

    async def run(self) -> None:
        await asyncio.gather(*(process.run() for process in self.processes))
