"""neutron-openvswitch-agent: wires the ports bound to its host and says so to the server.

It hears every port change (the ``port_update`` and ``port_delete`` fanouts) and
keeps those of its host: a port bound here and admin-up is plugged into br-int and
reported up (``update_device_up`` on ``q-plugin``), which is what makes it ACTIVE;
a port it had that moved away, went admin-down or was deleted is reported down.

Its wiring is lost with its node's power. When it starts again it asks the server
for the ports bound to its host (``get_ports_by_vnic_type_and_host``; the lab has no
br-int to scan) and wires and reports each anew, so that those left DOWN meanwhile
are ACTIVE again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from stacklab.bus.interface import Bus, MessagingTimeout, Target
from stacklab.network.scheduling.constants import AGENT_TYPE_OVS
from stacklab.network.topics import PLUGIN_TOPIC, PORT_DELETE_TOPIC, PORT_UPDATE_TOPIC

LOG = logging.getLogger("neutron.plugins.ml2.drivers.openvswitch.agent.ovs_neutron_agent")


class OvsAgent:
    binary = "neutron-openvswitch-agent"
    agent_type = AGENT_TYPE_OVS
    topic = "N/A"

    def __init__(self, host: str, bus: Bus) -> None:
        self.host = host
        self.bus = bus
        self.agent_id = f"ovs-agent-{host}"
        # The ports wired on this host's br-int.
        self.devices: set[str] = set()

    def state(self) -> dict[str, Any]:
        return {"configurations": {"devices": len(self.devices),
                                   "bridge_mappings": {"external": "br-ex"},
                                   "tunnel_types": ["vxlan"]}}

    def consumes(self) -> list[Target]:
        return [Target(PORT_UPDATE_TOPIC, self.host), Target(PORT_DELETE_TOPIC, self.host)]

    async def port_update(self, port: Mapping[str, Any]) -> None:
        port_id = port["id"]
        if port["binding:host_id"] == self.host and port["admin_state_up"]:
            self.devices.add(port_id)
            await self._report("update_device_up", port_id)
        elif port_id in self.devices:
            self.devices.discard(port_id)
            await self._report("update_device_down", port_id)

    def forget(self) -> None:
        self.devices.clear()

    async def resync(self) -> None:
        try:
            ports = await self.bus.call(Target(PLUGIN_TOPIC), "get_ports_by_vnic_type_and_host",
                                        vnic_type="normal", host=self.host)
        except MessagingTimeout:
            LOG.error("Resync of %s failed: the server did not answer", self.host)
            return
        for port in ports:
            await self.port_update(port)

    async def port_delete(self, port_id: str) -> None:
        # The tap device went with the server: nothing left to report.
        self.devices.discard(port_id)

    async def _report(self, method: str, port_id: str) -> None:
        try:
            await self.bus.call(Target(PLUGIN_TOPIC), method, device=port_id,
                                agent_id=self.agent_id, host=self.host)
        except MessagingTimeout:
            # The agent resyncs on its next loop; the server never heard this one.
            LOG.error("RPC %s for device %s timed out", method, port_id)
