"""The lab's live state: which nodes are powered and which of their service processes run.

``Topology`` is what the lab is made of and never changes while the cloud runs;
``Runtime`` is what is happening to it now. It is the one place that knows
whether a node is up: the bus (pausing the node's RPC servers), the agents (their
reports and keepalived), the services' heartbeats, the load balancer, the
namespaces view and ``stacklab status`` all ask it or follow its changes.

A fault goes one way: ``power_off``/``power_on`` change the state, then every
subscriber hears of it, in the order they subscribed. Each cloud has its own
runtime, so two clouds built on one ``Topology`` do not share their faults.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stacklab.topology.model import Node, Topology

UP = "up"
DOWN = "down"
RUNNING = "running"
STOPPED = "stopped"

NodeHook = Callable[[str], object]


@dataclass(frozen=True, slots=True)
class Follower:
    """What one subscriber does when a node goes down and when it comes back (by FQDN)."""

    name: str
    down: NodeHook | None = None
    up: NodeHook | None = None


class Runtime:
    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self._down: set[str] = set()
        self._followers: list[Follower] = []

    # -- what is true now ------------------------------------------------------------------

    def node(self, name: str) -> Node:
        """A node by short name or FQDN (KeyError naming it when the lab has none)."""
        for node in self.topology.nodes.values():
            if name in (node.name, node.fqdn):
                return node
        raise KeyError(name)

    def is_up(self, fqdn: str) -> bool:
        """Whether the node is powered (a host the lab does not know counts as up, as
        ``localhost`` of a one-node cloud)."""
        return fqdn not in self._down

    def down_nodes(self) -> frozenset[str]:
        return frozenset(self._down)

    def power(self, fqdn: str) -> str:
        return DOWN if fqdn in self._down else UP

    def running(self, fqdn: str, service: str) -> bool:
        """Whether the node runs ``service`` (a process name, ``nova-compute``) right now."""
        return self.is_up(fqdn) and self.node(fqdn).runs(service)

    def services(self, fqdn: str) -> dict[str, str]:
        """Each service process of the node, ``running`` or ``stopped``."""
        state = RUNNING if self.is_up(fqdn) else STOPPED
        return {service: state for service in self.node(fqdn).services}

    # -- the fault path ----------------------------------------------------------------------

    def subscribe(self, follower: Follower) -> None:
        self._followers.append(follower)

    def followers(self) -> list[str]:
        return [follower.name for follower in self._followers]

    def power_off(self, fqdn: str) -> bool:
        """Pull the node's plug; False (and nobody told) when it was already off."""
        self.node(fqdn)
        if fqdn in self._down:
            return False
        self._down.add(fqdn)
        for follower in list(self._followers):
            if follower.down is not None:
                follower.down(fqdn)
        return True

    def power_on(self, fqdn: str) -> bool:
        """Power the node back on; False (nothing restarts) when it was already on."""
        self.node(fqdn)
        if fqdn not in self._down:
            return False
        self._down.discard(fqdn)
        for follower in list(self._followers):
            if follower.up is not None:
                follower.up(fqdn)
        return True
