"""What the lab's own API reaches: the whole lab, as its operator sees it.

Unlike a service's handlers, which reach their own service only, the lab API
shows and changes the lab itself: its health and status, its nodes, their power and
processes and every other fault (through ``topology.actions``, as the CLI and the
scenarios apply them), the central logs, and what ``ip netns`` would show on a node.
Its declaration builds this from the cloud's shared parts; handlers reach it as any
service's.
"""

from __future__ import annotations

from typing import Any

import httpx

from stacklab.api.client import console
from stacklab.declaration import CONTROL_PLANE, Parts
from stacklab.ha.pacemaker import PacemakerCluster
from stacklab.lab.status import SECTIONS, SectionProvider, lab_status
from stacklab.network.declaration import AGENTS, NODE_AGENTS
from stacklab.network.netns import ip_output, namespaces
from stacklab.observability.logging import CentralLogStore
from stacklab.topology import Runtime
from stacklab.topology.runtime import UP

# ``ip netns`` and ``ip -br addr`` output of the namespaces found, for the lab API's ?text.
__all__ = ["Lab", "ip_output"]


class Lab:
    def __init__(self, parts: Parts) -> None:
        self._parts = parts
        # What the status shows beyond nodes and faults, in order (see lab.status).
        self.sections: list[SectionProvider] = list(SECTIONS)

    def add_section(self, provider: SectionProvider) -> None:
        """Show one more section in the status (a part of the lab wired after this one)."""
        self.sections.append(provider)

    @property
    def runtime(self) -> Runtime:
        """Which nodes are powered; powering one off or on goes through it."""
        return self._parts.runtime

    @property
    def logs(self) -> CentralLogStore:
        return self._parts.logs

    def health(self) -> dict[str, Any]:
        return self._parts.health()

    async def status(self, token: str | None) -> dict[str, Any]:
        """The lab's status (``lab.status``), the services' views read with ``token``."""
        return await lab_status(self._parts, token, self.sections)

    def ha(self) -> dict[str, Any]:
        """The lab's HA machinery as it stands, read without a single API call (cheap
        enough for a scenario to sample every fraction of a second): the proxies'
        keepalived, HAProxy and Galera (``ControlPlane.status``), each HA router's
        keepalived instances by node (the data plane, not the API's lagging
        ``ha_state``), and the lab's time scale (``[stacklab] ha_time_scale``)."""
        plane = self._parts.get(CONTROL_PLANE).status()
        routers = {router_id: sorted(({"node": instance.node, "state": str(instance.state)}
                                      for instance in segment.instances()),
                                     key=lambda entry: entry["node"])
                   for router_id, segment in sorted(self._parts.get(AGENTS).segments.items())}
        return {**plane, "routers": routers,
                "time_scale": self._parts.config.stacklab.ha_time_scale}

    def sample(self) -> dict[str, Any]:
        """``scenarios.driver.sampled`` of ``ha()``, without building the rest of it."""
        return {**self._parts.get(CONTROL_PLANE).sample(),
                "routers": {router_id: [instance.node for instance in segment.instances()
                                        if str(instance.state) == "MASTER"]
                            for router_id, segment in self._parts.get(AGENTS).segments.items()}}

    async def console_login(self, body: Any) -> httpx.Response:
        """Keystone's answer to a token request made from the lab's console: out of band,
        like a BMC's, so that the operator can still power the proxies or the controllers
        back on while no VIP holder or load balancer lets a client in."""
        transport = httpx.ASGITransport(app=console(self._parts.app()))
        async with httpx.AsyncClient(transport=transport,
                                     base_url=self._parts.base_url() or "http://stacklab.console",
                                     timeout=30) as client:
            return await client.post("/identity/v3/auth/tokens", json=body,
                                     params={"nocatalog": ""})

    def pacemaker(self) -> PacemakerCluster | None:
        """The proxies' Pacemaker cluster (``[stacklab] vip_manager = pacemaker``), if any."""
        vips = self._parts.get(CONTROL_PLANE).pacemaker
        return vips.cluster if vips is not None else None

    def run_command(self, name: str, options: dict[str, Any]) -> dict[str, Any] | None:
        """A service's operator command (``cinder-manage volume update_host``); None when
        no service offers it."""
        command = self._parts.commands.get(name)
        return None if command is None else command(options)

    def namespaces(self, fqdn: str) -> list[dict[str, Any]]:
        """The node's network namespaces; none while it is off (they went with its kernel)."""
        if self._parts.runtime.power(fqdn) != UP:
            return []
        with self._parts.db.session() as session:
            return namespaces(session, self._parts.get(AGENTS), fqdn,
                              self._parts.get(NODE_AGENTS))
