"""What the lab's own API reaches: the whole lab, as its operator sees it.

Unlike a service's handlers, which reach their own service only, the lab API
shows and changes the lab itself: its health, its nodes and their power, the
central logs, and what ``ip netns`` would show on a node. Its declaration
builds this from the cloud's shared parts; handlers reach it as any service's.
"""

from __future__ import annotations

from typing import Any

from stacklab.declaration import Parts
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

    @property
    def runtime(self) -> Runtime:
        """Which nodes are powered; powering one off or on goes through it."""
        return self._parts.runtime

    @property
    def logs(self) -> CentralLogStore:
        return self._parts.logs

    def health(self) -> dict[str, Any]:
        return self._parts.health()

    def status(self) -> dict[str, Any]:
        parts = self._parts
        nodes = [{
            "name": node.name, "fqdn": node.fqdn, "roles": list(node.roles),
            "services": list(node.services), "addresses": dict(node.addresses),
            "state": parts.runtime.power(node.fqdn),
            "service_states": parts.runtime.services(node.fqdn),
        } for node in parts.topology.nodes.values()]
        return {"endpoint": parts.base_url(), "nodes": nodes, **self.health()}

    def namespaces(self, fqdn: str) -> list[dict[str, Any]]:
        """The node's network namespaces; none while it is off (they went with its kernel)."""
        if self._parts.runtime.power(fqdn) != UP:
            return []
        with self._parts.db.session() as session:
            return namespaces(session, self._parts.get(AGENTS), fqdn,
                              self._parts.get(NODE_AGENTS))
