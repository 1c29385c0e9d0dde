"""neutron-dhcp-agent: serves DHCP on the networks the server gives it.

It consumes ``dhcp_agent.<host>``. Told a network is its own (``network_create_end``,
or a subnet's or port's news about a network it does not serve yet), it asks the
server for its DHCP port (``create_dhcp_port`` on ``q-plugin``; one address on each
DHCP subnet, bound to this host) and starts its dnsmasq; ``network_delete_end`` stops
it. Port and subnet news about a network it serves reload dnsmasq's hosts, which
here is a count per network. A subnet's deletion names only the subnet: the agent
finds its network among the subnets it was told of.

Its state is lost with its node's power. When it starts again it asks the server
for the networks it serves (``get_active_networks_info``) and enables each anew,
which gives it back its DHCP port on each.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from stacklab.bus.interface import Bus, MessagingTimeout, Target
from stacklab.network.scheduling.constants import AGENT_TYPE_DHCP, DEFAULT_AVAILABILITY_ZONE
from stacklab.network.topics import DHCP_AGENT_TOPIC, PLUGIN_TOPIC

LOG = logging.getLogger("neutron.agent.dhcp.agent")


class DhcpAgent:
    binary = "neutron-dhcp-agent"
    agent_type = AGENT_TYPE_DHCP
    topic = DHCP_AGENT_TOPIC

    def __init__(self, host: str, bus: Bus) -> None:
        self.host = host
        self.bus = bus
        # network id -> its DHCP port id on this host (what dnsmasq listens on).
        self.networks: dict[str, str] = {}
        # network id -> reloads of dnsmasq's host file since the network was enabled.
        self.reloads: dict[str, int] = {}
        # subnet id -> its network id, for the subnets this agent was told of.
        self.subnets: dict[str, str] = {}

    def state(self) -> dict[str, Any]:
        return {"availability_zone": DEFAULT_AVAILABILITY_ZONE,
                "configurations": {"networks": len(self.networks)}}

    def consumes(self) -> list[Target]:
        return [Target(DHCP_AGENT_TOPIC, self.host)]

    # -- what the server casts -----------------------------------------------------------

    async def network_create_end(self, payload: Mapping[str, Any]) -> None:
        await self._enable(payload["network"]["id"])

    async def network_delete_end(self, payload: Mapping[str, Any]) -> None:
        network_id = payload["network_id"]
        if self.networks.pop(network_id, None) is not None:
            LOG.info("Network %s removed from %s", network_id, self.host)
        self.reloads.pop(network_id, None)
        for subnet_id in [s for s, n in self.subnets.items() if n == network_id]:
            del self.subnets[subnet_id]

    async def subnet_create_end(self, payload: Mapping[str, Any]) -> None:
        await self._subnet_changed(payload["subnet"])

    async def subnet_update_end(self, payload: Mapping[str, Any]) -> None:
        await self._subnet_changed(payload["subnet"])

    async def subnet_delete_end(self, payload: Mapping[str, Any]) -> None:
        network_id = self.subnets.pop(payload["subnet_id"], None)
        if network_id is None:
            LOG.debug("Subnet %s deleted: not one of %s's", payload["subnet_id"], self.host)
            return
        await self._refresh(network_id)

    async def port_create_end(self, payload: Mapping[str, Any]) -> None:
        await self._refresh(payload["port"]["network_id"])

    async def port_update_end(self, payload: Mapping[str, Any]) -> None:
        await self._refresh(payload["port"]["network_id"])

    async def port_delete_end(self, payload: Mapping[str, Any]) -> None:
        await self._refresh(payload["network_id"])

    # -- after a start ---------------------------------------------------------------------

    def forget(self) -> None:
        self.networks.clear()
        self.reloads.clear()
        self.subnets.clear()

    async def resync(self) -> None:
        try:
            active = await self.bus.call(Target(PLUGIN_TOPIC), "get_active_networks_info",
                                         host=self.host)
        except MessagingTimeout:
            LOG.error("Resync of %s failed: the server did not answer", self.host)
            return
        served = {network["id"] for network in active}
        for network_id in [n for n in self.networks if n not in served]:
            await self.network_delete_end({"network_id": network_id})
        for network in active:
            for subnet_id in network["subnets"]:
                self.subnets[subnet_id] = network["id"]
            await self._enable(network["id"])

    # -- plumbing --------------------------------------------------------------------------

    async def _subnet_changed(self, subnet: Mapping[str, Any]) -> None:
        self.subnets[subnet["id"]] = subnet["network_id"]
        await self._refresh(subnet["network_id"])

    async def _refresh(self, network_id: str) -> None:
        if network_id in self.networks:
            self.reloads[network_id] = self.reloads.get(network_id, 0) + 1
        else:
            await self._enable(network_id)

    async def _enable(self, network_id: str) -> None:
        try:
            port_id = await self.bus.call(Target(PLUGIN_TOPIC), "create_dhcp_port",
                                          network_id=network_id, host=self.host)
        except MessagingTimeout:
            LOG.error("Unable to enable dhcp for %s: the server did not answer", network_id)
            return
        if port_id is None:
            # Not (or no longer) this agent's network, or no DHCP subnet on it.
            self.networks.pop(network_id, None)
            return
        self.networks[network_id] = port_id
        self.reloads.setdefault(network_id, 0)
