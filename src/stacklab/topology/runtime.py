"""The lab's live state: which nodes are powered, which of their processes run, who reaches whom.

``Topology`` is what the lab is made of and never changes while the cloud runs;
``Runtime`` is what is happening to it now. It is the one place that knows
whether a node is up: the bus (pausing the node's RPC servers), the agents (their
reports and keepalived), the services' heartbeats, the load balancer, the
namespaces view and ``stacklab status`` all ask it or follow its changes.

A fault goes one way: a method here changes the state (``power_off``/``power_on``,
``stop_service``/``start_service``, ``detach``/``attach`` a node's network,
``partition``, ``set_link``, ``heal``), then every subscriber hears of it, in the
order they subscribed: power through ``Follower.down``/``up``, everything through
``Follower.changed`` with a ``Change`` saying what. Each cloud has its own runtime,
so two clouds built on one ``Topology`` do not share their faults.

Reachability is pairwise, as cables and switches fail: ``partition`` cuts every
pair across its sides (a node named on no side keeps reaching everyone, as a node
on a path both sides still have), ``detach`` takes one node off one network. Who
can talk to whom (VRRP adverts, Galera and RabbitMQ membership, HAProxy's health
checks, heartbeats) is decided by ``reachable`` alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stacklab.topology.model import Node, Topology

UP = "up"
DOWN = "down"
RUNNING = "running"
STOPPED = "stopped"

# Change.kind values.
POWER = "power"
SERVICE = "service"
NETWORK = "network"
LINK = "link"

NodeHook = Callable[[str], object]


@dataclass(frozen=True, slots=True)
class Change:
    """One change of the lab's state, as a follower hears it.

    ``kind`` is ``power`` (``nodes`` went ``up``/``down``), ``service`` (``service``
    on ``nodes[0]`` is now ``running``/``stopped``), ``network`` (who reaches whom
    changed: a detach, an attach, a partition or its heal; ``nodes`` are those whose
    reach changed) or ``link`` (latency or loss between ``nodes`` changed).
    """

    kind: str
    nodes: tuple[str, ...]
    state: str = ""
    service: str = ""


ChangeHook = Callable[[Change], object]


@dataclass(frozen=True, slots=True)
class Link:
    """The quality of the path between two nodes: one-way delay (s) and loss (0..1)."""

    latency: float = 0.0
    loss: float = 0.0


CLEAN = Link()


@dataclass(frozen=True, slots=True)
class Follower:
    """What one subscriber does when a node goes down and when it comes back (by FQDN),
    and on every change (``changed``, after ``down``/``up`` for power)."""

    name: str
    down: NodeHook | None = None
    up: NodeHook | None = None
    changed: ChangeHook | None = None


class Runtime:
    def __init__(self, topology: Topology, rng: random.Random | None = None) -> None:
        self.topology = topology
        # Which packets a lossy link drops: drawn from an injected generator, so that a
        # seeded lab loses the same packets on every run.
        self._rng = rng or random.Random(0)
        self._down: set[str] = set()
        self._stopped: set[tuple[str, str]] = set()
        self._detached: set[tuple[str, str]] = set()
        self._cut: set[frozenset[str]] = set()
        self._links: dict[frozenset[str], Link] = {}
        self._followers: list[Follower] = []
        # Each node by short name and by FQDN (the first node a name fits, as a walk of the
        # topology in order finds it): the packet path asks for every packet.
        self._by_name: dict[str, Node] = {}
        for node in topology.nodes.values():
            self._by_name.setdefault(node.name, node)
            self._by_name.setdefault(node.fqdn, node)
        self._fqdns = frozenset(node.fqdn for node in topology.nodes.values())

    # -- what is true now ------------------------------------------------------------------

    def node(self, name: str) -> Node:
        """A node by short name or FQDN (KeyError naming it when the lab has none)."""
        found = self._by_name.get(name)
        if found is None:
            raise KeyError(name)
        return found

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
        return (self.is_up(fqdn) and (fqdn, service) not in self._stopped
                and self.node(fqdn).runs(service))

    def services(self, fqdn: str) -> dict[str, str]:
        """Each service process of the node, ``running`` or ``stopped``."""
        return {service: RUNNING if self.running(fqdn, service) else STOPPED
                for service in self.node(fqdn).services}

    def networks(self, fqdn: str) -> tuple[str, ...]:
        """The networks the node has an address on (whether or not it is cut off them)."""
        return tuple(self.node(fqdn).addresses)

    def attached(self, fqdn: str, network: str) -> bool:
        """Whether the node is powered, has an address on ``network`` and is not cut off it."""
        return (self.is_up(fqdn) and network in self.node(fqdn).addresses
                and (fqdn, network) not in self._detached)

    def reachable(self, source: str, target: str, network: str | None = None) -> bool:
        """Whether ``source`` can reach ``target`` now: both powered, no partition between
        them and, with ``network``, both on it. A node always reaches itself while up; a
        host the lab does not know (``localhost``) reaches and is reached by any live node.
        """
        if not (self.is_up(source) and self.is_up(target)):
            return False
        if source == target:
            return True
        if frozenset((source, target)) in self._cut:
            return False
        if network is None:
            return True
        return all(self.attached(fqdn, network) for fqdn in (source, target)
                   if self._known(fqdn))

    def any_link_set(self) -> bool:
        """Whether some link is slowed or lossy (else every packet arrives at once)."""
        return bool(self._links)

    def link(self, source: str, target: str) -> Link:
        """Latency and loss between two nodes (clean unless ``set_link`` said otherwise)."""
        return self._links.get(frozenset((source, target)), CLEAN)

    def send(self, source: str, target: str, network: str | None = None) -> float | None:
        """One packet from ``source`` to ``target``: its one-way delay, or None when it does
        not arrive (no path, or the link's loss drew it)."""
        if not self.reachable(source, target, network):
            return None
        link = self.link(source, target)
        if link.loss and self._rng.random() < link.loss:
            return None
        return link.latency

    def faults(self) -> dict[str, Any]:
        """Every fault in force, for ``stacklab status`` and the lab API."""
        return {
            "nodes_down": sorted(self._down),
            "services_stopped": [{"node": n, "service": s} for n, s in sorted(self._stopped)],
            "networks_detached": [{"node": n, "network": w} for n, w in sorted(self._detached)],
            "cut": sorted(sorted(pair) for pair in self._cut),
            "links": [{"nodes": sorted(pair), "latency": link.latency, "loss": link.loss}
                      for pair, link in sorted(self._links.items(), key=lambda i: sorted(i[0]))],
        }

    def snapshot(self) -> Runtime:
        """What is true now, as a runtime of its own that later faults leave as it is (and
        that tells nobody): a follower catching up on time it has not lived yet reads the
        lab as it was before the change it is hearing of."""
        copy = Runtime(self.topology, self._rng)  # the same draws go on in the copy
        copy._down = set(self._down)
        copy._stopped = set(self._stopped)
        copy._detached = set(self._detached)
        copy._cut = set(self._cut)
        copy._links = dict(self._links)
        return copy

    def _known(self, fqdn: str) -> bool:
        return fqdn in self._fqdns

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
        self._tell(Change(POWER, (fqdn,), DOWN))
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
        self._tell(Change(POWER, (fqdn,), UP))
        return True

    def stop_service(self, fqdn: str, service: str) -> bool:
        """Stop one process on a node (``systemctl stop``); False when it was not running."""
        node = self.node(fqdn)
        if not node.runs(service):
            raise KeyError(f"{node.name} runs no {service}")
        if (fqdn, service) in self._stopped:
            return False
        self._stopped.add((fqdn, service))
        if self.is_up(fqdn):
            self._tell(Change(SERVICE, (fqdn,), STOPPED, service))
        return True

    def start_service(self, fqdn: str, service: str) -> bool:
        """Start a stopped process again (on a powered node it runs at once)."""
        node = self.node(fqdn)
        if not node.runs(service):
            raise KeyError(f"{node.name} runs no {service}")
        if (fqdn, service) not in self._stopped:
            return False
        self._stopped.discard((fqdn, service))
        if self.is_up(fqdn):
            self._tell(Change(SERVICE, (fqdn,), RUNNING, service))
        return True

    def detach(self, fqdn: str, network: str) -> bool:
        """Take the node off one network (its cable pulled, its bridge port down)."""
        node = self.node(fqdn)
        if network not in node.addresses:
            raise KeyError(f"{node.name} is not on network {network}")
        if (fqdn, network) in self._detached:
            return False
        self._detached.add((fqdn, network))
        self._tell(Change(NETWORK, (fqdn,), "detached"))
        return True

    def attach(self, fqdn: str, network: str) -> bool:
        node = self.node(fqdn)
        if network not in node.addresses:
            raise KeyError(f"{node.name} is not on network {network}")
        if (fqdn, network) not in self._detached:
            return False
        self._detached.discard((fqdn, network))
        self._tell(Change(NETWORK, (fqdn,), "attached"))
        return True

    def partition(self, sides: Sequence[Iterable[str]]) -> int:
        """Cut every path between nodes on different sides; how many pairs were newly cut.

        Nodes are named by short name or FQDN; a node may be on one side only.
        """
        groups = [{self.node(name).fqdn for name in side} for side in sides]
        seen: set[str] = set()
        for group in groups:
            if group & seen:
                raise ValueError(f"a node is on two sides: {sorted(group & seen)}")
            seen |= group
        pairs = {frozenset((a, b)) for i, first in enumerate(groups)
                 for second in groups[i + 1:] for a in first for b in second}
        new = pairs - self._cut
        if new:
            self._cut |= new
            self._tell(Change(NETWORK, tuple(sorted({n for pair in new for n in pair})),
                              "partitioned"))
        return len(new)

    def set_link(self, source: str, target: str, *, latency: float = 0.0,
                 loss: float = 0.0) -> None:
        """Slow or lose traffic between two nodes (both ways); zeros make it clean again."""
        if latency < 0 or not 0.0 <= loss <= 1.0:
            raise ValueError("latency must be >= 0 and loss within 0..1")
        pair = frozenset((self.node(source).fqdn, self.node(target).fqdn))
        if len(pair) != 2:
            raise ValueError("a link joins two different nodes")
        if latency == 0 and loss == 0:
            self._links.pop(pair, None)
        else:
            self._links[pair] = Link(latency, loss)
        self._tell(Change(LINK, tuple(sorted(pair)), "changed"))

    def heal(self) -> dict[str, Any]:
        """Undo every fault: networks and links first, then processes, then power.

        Returns what was in force before, as ``faults`` shows it.
        """
        before = self.faults()
        if self._cut or self._detached:
            nodes = {n for pair in self._cut for n in pair} | {n for n, _ in self._detached}
            self._cut.clear()
            self._detached.clear()
            self._tell(Change(NETWORK, tuple(sorted(nodes)), "healed"))
        for pair in list(self._links):
            del self._links[pair]
            self._tell(Change(LINK, tuple(sorted(pair)), "changed"))
        for fqdn, service in sorted(self._stopped):
            self.start_service(fqdn, service)
        for fqdn in sorted(self._down):
            self.power_on(fqdn)
        return before

    def converge(self, faults: Mapping[str, Any]) -> bool:
        """Make the faults in force those of ``faults`` (as ``faults()`` shows them), each
        difference through the fault path above, so that every follower hears of it as
        if it had been asked for: what another runtime of the same lab did (one process
        per service: docs/processes.md). Undone first (networks and links, processes,
        power, as ``heal``), then done. What names a node or a network the lab does not
        have is skipped. Whether anything changed."""
        before = self.faults()
        stopped = {(str(entry.get("node")), str(entry.get("service")))
                   for entry in faults.get("services_stopped", ())}
        detached = {(str(entry.get("node")), str(entry.get("network")))
                    for entry in faults.get("networks_detached", ())}
        cut = {frozenset(str(n) for n in pair) for pair in faults.get("cut", ())}
        links = {frozenset(str(n) for n in entry.get("nodes", ())):
                 Link(float(entry.get("latency", 0.0)), float(entry.get("loss", 0.0)))
                 for entry in faults.get("links", ())}
        down = {str(fqdn) for fqdn in faults.get("nodes_down", ())}
        stopped = {pair for pair in stopped if self._has(pair[0], service=pair[1])}
        detached = {pair for pair in detached if self._has(pair[0], network=pair[1])}
        cut = {pair for pair in cut if len(pair) == 2 and all(map(self._has, pair))}
        links = {pair: link for pair, link in links.items()
                 if len(pair) == 2 and all(map(self._has, pair))}
        down = {fqdn for fqdn in down if self._has(fqdn)}
        healed = self._cut - cut
        if healed:
            self._cut -= healed
            self._tell(Change(NETWORK, tuple(sorted({n for pair in healed for n in pair})),
                              "healed"))
        for fqdn, network in sorted(self._detached - detached):
            self.attach(fqdn, network)
        for pair in sorted(set(self._links) - set(links), key=sorted):
            first, second = sorted(pair)
            self.set_link(first, second)
        for fqdn, service in sorted(self._stopped - stopped):
            self.start_service(fqdn, service)
        for fqdn in sorted(self._down - down):
            self.power_on(fqdn)
        for fqdn in sorted(down - self._down):
            self.power_off(fqdn)
        for fqdn, service in sorted(stopped - self._stopped):
            self.stop_service(fqdn, service)
        for fqdn, network in sorted(detached - self._detached):
            self.detach(fqdn, network)
        new = cut - self._cut
        if new:
            self._cut |= new
            self._tell(Change(NETWORK, tuple(sorted({n for pair in new for n in pair})),
                              "partitioned"))
        for pair, link in sorted(links.items(), key=lambda item: sorted(item[0])):
            if self._links.get(pair) != link:
                first, second = sorted(pair)
                self.set_link(first, second, latency=link.latency, loss=link.loss)
        return self.faults() != before

    def _has(self, fqdn: str, *, service: str | None = None,
             network: str | None = None) -> bool:
        """Whether the lab has this node by FQDN (with this process, or on this network)."""
        if fqdn not in self._fqdns:
            return False
        node = self.node(fqdn)
        return ((service is None or node.runs(service))
                and (network is None or network in node.addresses))

    def _tell(self, change: Change) -> None:
        for follower in list(self._followers):
            if follower.changed is not None:
                follower.changed(change)
