"""Pacemaker on Corosync: active/passive placement of resources, with quorum and fencing.

The alternative to keepalived the HA guide describes (ha-semantics §8): a cluster of
nodes agrees on a membership (Corosync's totem ring), counts votes (votequorum), elects
a Designated Controller (DC) that decides where each resource runs, fences a node it
lost before starting that node's resources elsewhere, and watches each running
resource with a recurring monitor. Pure logic on an injected ``Clock``; who is powered
and who reaches whom come from callables (the lab's runtime in the wiring), and the
fence device acts through an injected ``FenceDevice`` (the lab's power controls).

Membership (CORO man/corosync.conf.5, man/votequorum.5):

- a node that stops hearing a peer declares token loss after ``token`` (3000 ms since
  corosync 3.1.0; plus ``token_coefficient`` 650 ms per node beyond two) and reforms
  after ``consensus`` (1.2 x token) more: the survivors' new membership is installed
  token + consensus after the loss (3.0 + 3.6 = 6.6 s for two nodes). Nodes that come
  to see each other (a boot, a healed cut) merge after ``join`` (50 ms);
- votequorum: quorum is half the expected votes plus one; ``two_node: 1`` sets it
  artificially to 1 for a two-node cluster and implies ``wait_for_all``: a node is
  quorate for the first time only after it has seen every node at once (since its
  corosync started), which is what keeps a fenced node that reboots into a still-cut
  network from fencing its peer in turn.

Pacemaker (PCMK doc/sphinx/Pacemaker_Explained cluster-options.rst, resources.rst,
operations.rst, constraints.rst):

- each membership (partition) has a DC: the one it had if still there, else the node
  whose stack has run longest. A partition without quorum applies
  ``no-quorum-policy`` (default ``stop``: every resource in it is stopped) and fences
  nobody;
- a quorate partition's DC fences every node it lost uncleanly (UNCLEAN: "must be
  fenced") with ``fencing-action`` (default ``reboot``), each attempt bounded by
  ``fencing-timeout`` (60 s), at most ``fencing-max-attempts`` (10) times. Until a
  node is fenced, no resource with ``requires=fencing`` (the default with fencing
  enabled) is started anywhere: a failed fence device blocks recovery, by design;
- ``priority-fencing-delay`` (default 0, disabled) delays fencing aimed at the lost
  node with the highest total resource ``priority`` when the partition has no
  majority, so that in a two-node split the node running the resources wins the race;
- resources: primitives (an agent: ``ocf:heartbeat:IPaddr2``, ``systemd:<unit>``),
  groups (members colocated and started in order), clones (an instance per node), and
  mandatory colocation (the dependent runs only where the primary does; with
  ``influence`` true, the default, a node the dependent is banned from is banned for
  the primary too, so that "if the dependent reaches its migration threshold for
  failures, both move"). Placement scores: ``resource-stickiness`` on the current
  node (default 0, 1 for clone instances), minus INFINITY where the fail count has
  reached ``migration-threshold`` (default INFINITY: restart in place forever); ties
  stay where they are, then go to the least loaded node, then in node order;
- a recurring ``monitor`` (``op monitor interval``) that finds the resource not
  running makes it FAILED and counts a failure (``failure-timeout`` 0: never
  expires); ``on-fail=restart`` (the default) stops and starts it again, on the same
  node while the fail count is below the migration threshold, elsewhere after. A start
  that fails is fatal for that node (``start-failure-is-fatal`` true);
- resource states Stopped / Starting / Started / Stopping / FAILED; node states
  online / offline / UNCLEAN / standby.

Every number of the modelled world that upstream does not fix (how long an agent
takes to start, how long the fence device takes to cut and restore power) is a
parameter, named so.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from stacklab.clock import Clock, Timer
from stacklab.ha.daemonlog import daemon_log

LOG = logging.getLogger("stacklab.ha.pacemaker")

# PCMK: scores are capped at +/-1,000,000, which Pacemaker calls INFINITY.
INFINITY = 1_000_000


# -- Corosync -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class CorosyncOptions:
    """``totem {}`` and ``quorum {}`` of corosync.conf, in seconds."""

    token: float = 3.0  # CORO corosync.conf.5 `token` 3000 ms (1000 ms before 3.1.0)
    token_coefficient: float = 0.65  # `token_coefficient` 650 ms, nodelist of >= 3 nodes
    consensus: float | None = None  # `consensus` default 1.2 * token
    join: float = 0.05  # `join` 50 ms
    two_node: bool = False  # votequorum.5 `two_node` default 0
    wait_for_all: bool | None = None  # votequorum.5 default 0, but two_node implies it

    def token_timeout(self, nodes: int) -> float:
        """The real token timeout: ``token + (nodes - 2) * token_coefficient`` with >= 3."""
        return self.token + (max(nodes - 2, 0) * self.token_coefficient if nodes >= 3 else 0)

    def consensus_timeout(self, nodes: int) -> float:
        return self.consensus if self.consensus is not None else 1.2 * self.token_timeout(nodes)

    def loss_detection(self, nodes: int) -> float:
        """From a peer's last token to the survivors' new membership: token + consensus."""
        return self.token_timeout(nodes) + self.consensus_timeout(nodes)

    @property
    def waits_for_all(self) -> bool:
        return self.two_node if self.wait_for_all is None else self.wait_for_all

    def quorum(self, expected_votes: int) -> int:
        """votequorum.5: 50 % of expected_votes + 1; two_node: "set artificially to 1"."""
        if self.two_node and expected_votes == 2:
            return 1
        return expected_votes // 2 + 1


# -- Pacemaker's options, states, agents ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class ClusterOptions:
    """Cluster properties and resource defaults (PCMK cluster-options.rst, resources.rst)."""

    no_quorum_policy: str = "stop"  # stop (default) / ignore / freeze
    fencing_enabled: bool = True  # alias stonith-enabled, default true
    fencing_action: str = "reboot"  # reboot (default) / off
    fencing_timeout: float = 60.0  # alias stonith-timeout, default 60s
    fencing_max_attempts: int = 10  # default 10
    priority_fencing_delay: float = 0.0  # default 0 (disabled)
    resource_stickiness: int = 0  # rsc_defaults: 0 (clone instances: 1)
    migration_threshold: int = INFINITY  # rsc_defaults: INFINITY
    op_timeout: float = 20.0  # op defaults: timeout 20s


class ResourceState(StrEnum):
    STOPPED = "Stopped"
    STARTING = "Starting"
    STARTED = "Started"
    STOPPING = "Stopping"
    FAILED = "FAILED"


class NodeState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    UNCLEAN = "UNCLEAN"
    STANDBY = "standby"


class ResourceAgent(Protocol):
    """What the cluster runs a resource with: ``standard`` as crm_mon shows it
    (``ocf:heartbeat:IPaddr2``), how long its start and stop take (the modelled world's),
    and the actions. ``start`` answers whether it worked; ``lost`` says the node lost
    power (whatever the agent held there is gone)."""

    standard: str
    start_time: float
    stop_time: float

    def start(self, node: str) -> bool: ...

    def stop(self, node: str) -> None: ...

    def monitor(self, node: str) -> bool: ...

    def lost(self, node: str) -> None: ...


class IPaddr2:
    """``ocf:heartbeat:IPaddr2``: the address is configured on the node that runs it. Its
    monitor looks for the address on the node's interfaces, so it fails only when the
    address is gone (a cut cable does not remove it: that needs ethmonitor)."""

    standard = "ocf:heartbeat:IPaddr2"

    def __init__(self, ip: str, cidr_netmask: int = 24, *, start_time: float = 0.0,
                 stop_time: float = 0.0) -> None:
        self.ip = ip
        self.cidr_netmask = cidr_netmask
        self.start_time = start_time  # `ip addr add` and ARPs sent in the background
        self.stop_time = stop_time
        self.on: set[str] = set()

    def start(self, node: str) -> bool:
        self.on.add(node)
        return True

    def stop(self, node: str) -> None:
        self.on.discard(node)

    def monitor(self, node: str) -> bool:
        return node in self.on

    def lost(self, node: str) -> None:
        self.on.discard(node)


class ProcessControl(Protocol):
    """A service process as its node's init system sees it (the lab's runtime in the wiring)."""

    def running(self, node: str) -> bool: ...

    def start(self, node: str) -> bool: ...

    def stop(self, node: str) -> None: ...


class Systemd:
    """``systemd:<unit>``: start and stop are ``systemctl``, the monitor asks whether the
    unit is active. Pacemaker waits for the unit to be active: ``start_time`` is how long
    that takes in the modelled world (not an upstream number)."""

    def __init__(self, unit: str, control: ProcessControl, *, start_time: float = 1.0,
                 stop_time: float = 1.0) -> None:
        self.unit = unit
        self.standard = f"systemd:{unit}"
        self.control = control
        self.start_time = start_time
        self.stop_time = stop_time

    def start(self, node: str) -> bool:
        return self.control.start(node)

    def stop(self, node: str) -> None:
        self.control.stop(node)

    def monitor(self, node: str) -> bool:
        return self.control.running(node)

    def lost(self, node: str) -> None:
        # Units the cluster manages are not enabled at boot: the process died with its node
        # and stays down when the node comes back, until the cluster starts it.
        self.control.stop(node)


@dataclass(slots=True)
class Primitive:
    """``pcs resource create <id> <agent> ... op monitor interval=<s> meta ...``.

    ``stickiness``/``migration_threshold`` None take the cluster's resource defaults;
    ``requires`` is ``fencing`` (default with fencing enabled) or ``quorum``.
    """

    id: str
    agent: ResourceAgent
    monitor_interval: float
    stickiness: int | None = None
    migration_threshold: int | None = None
    priority: int = 0
    requires: str = "fencing"


@dataclass(slots=True)
class Group:
    """``pcs resource group add <id> <members...>``: colocated, started in order, stopped in
    reverse (PCMK resources.rst "Groups")."""

    id: str
    members: list[Primitive]


@dataclass(slots=True)
class Clone:
    """``pcs resource create ... --clone``: an instance on every allowed node
    (``clone-max`` the number of nodes); instances' stickiness defaults to 1."""

    id: str
    primitive: Primitive


Unit = Primitive | Group | Clone


@dataclass(frozen=True, slots=True)
class Colocation:
    """``pcs constraint colocation add <dependent> with <primary>`` (score INFINITY)."""

    dependent: str
    primary: str
    influence: bool = True


@dataclass(frozen=True, slots=True)
class Order:
    """``pcs constraint order start <first> then <then> kind=...``: ``then`` starts after
    ``first`` has started when both start in one transition."""

    first: str
    then: str
    kind: str = "Mandatory"


class FenceDevice(Protocol):
    """A fence device (``pcs stonith create``): ``works`` says whether ``fencer`` can get
    it to act on ``target`` now; ``off``/``on`` cut and restore the target's power.
    ``off_time``/``on_time``: how long each takes to be confirmed (the modelled device's)."""

    name: str
    off_time: float
    on_time: float

    def works(self, fencer: str, target: str) -> bool: ...

    def off(self, target: str) -> None: ...

    def on(self, target: str) -> None: ...


# -- the cluster ----------------------------------------------------------------------------

@dataclass(slots=True)
class _Node:
    name: str
    index: int
    running: bool = False  # its corosync/pacemaker stack
    started_at: float = 0.0
    members: frozenset[str] = frozenset()
    saw_all: bool = False  # votequorum wait_for_all: all nodes seen at once since start
    standby: bool = False
    boots: int = 0  # which start of its stack this is: requests die with their stack
    died_at: float | None = None  # when its stack last died


@dataclass(slots=True)
class _Partition:
    members: frozenset[str]
    dc: str
    quorate: bool
    unclean: set[str] = field(default_factory=set)
    formed_at: float = 0.0


@dataclass(slots=True)
class _Fencing:
    target: str
    fencer: str
    fencer_boot: int
    attempts: int = 0
    sent: bool = False  # the device has the command: it acts whatever becomes of the fencer
    timer: Timer | None = None
    failed: bool = False  # every attempt failed: the node stays UNCLEAN
    done_at: float | None = None


@dataclass(slots=True)
class _Op:
    action: str  # start / stop
    primitive: Primitive
    node: str


@dataclass(slots=True)
class _Transition:
    partition: frozenset[str]
    ops: list[_Op]
    abort: bool = False
    timer: Timer | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """What happened when (for tests and the lab's status): ``kind`` one of membership,
    quorum, fence_request, fence_off, fence_on, fenced, fence_failed, start, started,
    stop, stopped, monitor_failed."""

    at: float
    kind: str
    node: str
    detail: str = ""


class PacemakerCluster:
    """One Corosync/Pacemaker cluster over ``nodes`` (in nodelist order)."""

    def __init__(self, clock: Clock, nodes: Sequence[str], *,
                 up: Callable[[str], bool], reachable: Callable[[str, str], bool],
                 fence_device: FenceDevice, corosync: CorosyncOptions | None = None,
                 options: ClusterOptions | None = None, name: str = "cluster",
                 on_change: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.name = name
        self.corosync = corosync or CorosyncOptions(two_node=len(nodes) == 2)
        self.options = options or ClusterOptions()
        self.fence_device = fence_device
        self._up = up
        self._reachable = reachable
        self.on_change = on_change
        self.nodes = {node: _Node(node, index) for index, node in enumerate(nodes)}
        self.units: dict[str, Unit] = {}
        self.primitives: dict[str, Primitive] = {}
        self._unit_of: dict[str, str] = {}  # primitive id -> its unit's id
        self.colocations: list[Colocation] = []
        self.orders: list[Order] = []
        # The cluster's record of each primitive on each node (the CIB's status section)
        # and its fail count there.
        self.state: dict[tuple[str, str], ResourceState] = {}
        self.failcount: dict[tuple[str, str], int] = {}
        self._monitors: dict[tuple[str, str], Timer] = {}
        self.partitions: dict[frozenset[str], _Partition] = {}
        self._reforms: dict[frozenset[str], Timer] = {}
        self.fencing: dict[str, _Fencing] = {}
        self._transitions: list[_Transition] = []
        self.events: list[Event] = []

    # -- configuration ------------------------------------------------------------------------

    def add(self, unit: Unit) -> None:
        members = unit.members if isinstance(unit, Group) else \
            [unit.primitive] if isinstance(unit, Clone) else [unit]
        self.units[unit.id] = unit
        for primitive in members:
            self.primitives[primitive.id] = primitive
            self._unit_of[primitive.id] = unit.id

    def colocate(self, dependent: str, primary: str, *, influence: bool = True) -> None:
        for name in (dependent, primary):
            if name not in self.units:
                raise KeyError(name)
        self.colocations.append(Colocation(dependent, primary, influence))

    def order(self, first: str, then: str, *, kind: str = "Mandatory") -> None:
        self.orders.append(Order(first, then, kind))

    # -- what is true ---------------------------------------------------------------------------

    def active_nodes(self, unit_id: str) -> list[str]:
        """Where the unit's resources really run now (every member, for a group), powered
        nodes only: what clients of a VIP meet."""
        unit = self.units[unit_id]
        members = self._members(unit)
        return [node for node in self.nodes
                if self._up(node) and all(p.agent.monitor(node) for p in members)
                and all(self.state.get((p.id, node)) is ResourceState.STARTED
                        for p in members)]

    def holder(self, unit_id: str) -> str | None:
        """The one node running ``unit_id`` (the first, if a split brain ever ran it twice)."""
        nodes = self.active_nodes(unit_id)
        return nodes[0] if nodes else None

    def node_state(self, node: str) -> NodeState:
        """The node as the authoritative partition (quorate, largest) sees it."""
        partition = self._authority()
        record = self.nodes[node]
        if partition is not None and node in partition.unclean:
            return NodeState.UNCLEAN
        if partition is not None and node in partition.members and record.running:
            return NodeState.STANDBY if record.standby else NodeState.ONLINE
        if partition is None and record.running:
            return NodeState.ONLINE
        return NodeState.OFFLINE

    def quorate(self, node: str) -> bool:
        partition = self._partition_of(node)
        return partition is not None and partition.quorate

    def dc(self) -> str | None:
        partition = self._authority()
        return partition.dc if partition is not None else None

    def recovery_pending(self) -> bool:
        """Whether the cluster is about to act (a membership to form, a fence under way, a
        transition running): a client retransmitting its SYN may yet be answered."""
        if self._reforms or self._transitions:
            return True
        return any(f.timer is not None for f in self.fencing.values())

    def status(self) -> dict[str, Any]:
        authority = self._authority()
        return {
            "cluster": self.name,
            "dc": authority.dc if authority else None,
            "quorum": {"quorate": bool(authority and authority.quorate),
                       "expected_votes": len(self.nodes),
                       "quorum": self.corosync.quorum(len(self.nodes)),
                       "two_node": self.corosync.two_node,
                       "wait_for_all": self.corosync.waits_for_all},
            "partitions": [{"members": sorted(p.members), "dc": p.dc, "quorate": p.quorate}
                           for p in sorted(self.partitions.values(),
                                           key=lambda p: sorted(p.members))],
            "nodes": [{"node": node, "state": str(self.node_state(node))}
                      for node in self.nodes],
            "resources": list(self._resource_rows()),
            "fencing": [{"target": f.target, "fencer": f.fencer, "attempts": f.attempts,
                         "state": "failed" if f.failed else
                         "done" if f.done_at is not None else "pending"}
                        for f in self.fencing.values()],
            "failcounts": [{"resource": rid, "node": node, "count": count}
                           for (rid, node), count in sorted(self.failcount.items()) if count],
        }

    def problems(self) -> Iterator[str]:
        """What is wrong, in an operator's words (for the lab's health reasons)."""
        for node in self.nodes:
            state = self.node_state(node)
            if state is not NodeState.ONLINE:
                yield f"pacemaker node {node} is {state}"
        for fencing in self.fencing.values():
            if fencing.failed:
                yield (f"fencing of {fencing.target} failed {fencing.attempts} times: "
                       "resources that require fencing are not recovered")
            elif fencing.done_at is None:
                yield f"fencing of {fencing.target} by {fencing.fencer} is under way"
        quorate = [p for p in self.partitions.values() if p.quorate]
        if len(self.partitions) > 1:
            yield ("the cluster is partitioned: " + " | ".join(
                ", ".join(sorted(p.members)) + (" (quorate)" if p.quorate else "")
                for p in sorted(self.partitions.values(), key=lambda p: sorted(p.members))))
        if self.partitions and not quorate:
            yield "no partition has quorum: every resource is stopped (no-quorum-policy)"
        for row in self._resource_rows():
            if row["state"] == ResourceState.FAILED:
                yield f"resource {row['resource']} FAILED on {row['node']}"
        # A fail count below the threshold is history (crm_mon's failed actions, in the
        # status); at the threshold the node is banned for the resource: redundancy lost
        # until an operator's `pcs resource cleanup`.
        for (rid, node), count in sorted(self.failcount.items()):
            if count >= self._threshold(self.primitives[rid]):
                yield (f"resource {rid} may not run on {node} any more: it failed "
                       f"{'to start' if count >= INFINITY else f'{count} times'} there")

    # -- the lab changed ------------------------------------------------------------------------

    def start(self) -> None:
        """Bring up the stack on every powered node (the cluster's first boot)."""
        self.refresh()

    def refresh(self) -> None:
        """Power or reachability changed: stacks die or boot, memberships are to reform."""
        now = self.clock.now()
        changed = False
        for record in self.nodes.values():
            if record.running and not self._up(record.name):
                record.running = False
                record.died_at = now
                record.members = frozenset()
                record.saw_all = False
                self._node_died(record.name)
                changed = True
            elif not record.running and self._up(record.name):
                # A booting stack: its fail counts (transient node attributes) are gone.
                for key in [k for k in self.failcount if k[1] == record.name]:
                    del self.failcount[key]
                record.running = True
                record.boots += 1
                record.started_at = now
                record.members = frozenset()
                record.saw_all = False
                changed = True
        components = self._components()
        wanted = set(components)
        for members, timer in list(self._reforms.items()):
            if members not in wanted:
                timer.cancel()
                del self._reforms[members]
        for members in components:
            if all(self.nodes[n].members == members for n in members):
                continue
            if members in self._reforms:
                continue
            lost = any(not self.nodes[n].members <= members for n in members)
            size = len(self.nodes)
            delay = self.corosync.loss_detection(size) if lost else self.corosync.join
            self._reforms[members] = self.clock.call_later(
                delay, functools.partial(self._reform, members))
        # A partition none of whose members runs any more is gone.
        for members in list(self.partitions):
            if not any(self.nodes[n].running for n in members):
                del self.partitions[members]
        if changed:
            self._changed()

    def standby(self, node: str, on: bool = True) -> None:
        """``pcs node standby``: the node may run no resources (they move away)."""
        self.nodes[node].standby = on
        partition = self._partition_of(node)
        if partition is not None:
            self._schedule(partition.members)

    def cleanup(self, rid: str, node: str | None = None) -> None:
        """``pcs resource cleanup``: forget the fail counts (and a FAILED record)."""
        for key in list(self.failcount):
            if key[0] == rid and (node is None or key[1] == node):
                del self.failcount[key]
        for key, state in list(self.state.items()):
            if key[0] == rid and (node is None or key[1] == node) and \
                    state is ResourceState.FAILED and not self.primitives[rid].agent.monitor(
                        key[1]):
                self.state[key] = ResourceState.STOPPED
        for partition in list(self.partitions.values()):
            self._schedule(partition.members)

    # -- membership -------------------------------------------------------------------------------

    def _components(self) -> list[frozenset[str]]:
        running = [n for n, record in self.nodes.items() if record.running]
        seen: set[str] = set()
        found = []
        for start in running:
            if start in seen:
                continue
            component = {start}
            todo = [start]
            while todo:
                node = todo.pop()
                for other in running:
                    if other not in component and self._reachable(node, other) \
                            and self._reachable(other, node):
                        component.add(other)
                        todo.append(other)
            seen |= component
            found.append(frozenset(component))
        return found

    def _reform(self, members: frozenset[str]) -> None:
        self._reforms.pop(members, None)
        if members not in self._components():
            return  # the lab moved on: refresh has armed what it is now
        now = self.clock.now()
        everyone = len(members) == len(self.nodes)
        before: set[str] = set()
        previous = [p for p in self.partitions.values() if p.members & members]
        old_dcs = {p.dc for p in previous}
        unclean: set[str] = set()
        for partition in previous:
            unclean |= partition.unclean
        for node in members:
            record = self.nodes[node]
            before |= record.members
            record.members = members
            if everyone:
                record.saw_all = True
        for partition in previous:
            del self.partitions[partition.members]
        lost = before - members
        for node in lost:
            if self._fenced_since_death(node):
                continue  # fenced already: offline, not unclean
            unclean.add(node)
        unclean -= members
        dc = min((n for n in members if n in old_dcs), default=None,
                 key=lambda n: self.nodes[n].index)
        if dc is None:
            dc = min(members, key=lambda n: (self.nodes[n].started_at, self.nodes[n].index))
        needed = self.corosync.quorum(len(self.nodes))
        quorate = len(members) >= needed and (
            not self.corosync.waits_for_all or all(self.nodes[n].saw_all for n in members))
        partition = _Partition(members, dc, quorate, unclean, now)
        self.partitions[members] = partition
        joined = sorted(members - before)
        self._event("membership", dc, f"members {sorted(members)} joined {joined} "
                    f"left {sorted(lost)}")
        for node in sorted(members):
            # corosync's words (totemsrp.c, votequorum.c)
            daemon_log(LOG, node, "corosync",
                       "[TOTEM ] A new membership was formed. Members joined: %s left: %s",
                       " ".join(joined) or "-", " ".join(sorted(lost)) or "-")
            daemon_log(LOG, node, "corosync", "[QUORUM] Members[%d]: %s; %s", len(members),
                       " ".join(sorted(members)),
                       "quorate" if quorate else "this partition does not have quorum",
                       level=logging.INFO if quorate else logging.WARNING)
        self._event("quorum", dc, "quorate" if quorate else "not quorate")
        for node in joined:
            self._probe(node)
        self._schedule(members)
        self._changed()

    def _probe(self, node: str) -> None:
        """A node (re)joining: its resources' history is probed afresh (a one-off monitor),
        so the record says what really runs there."""
        for primitive in self.primitives.values():
            key = (primitive.id, node)
            running = primitive.agent.monitor(node)
            state = self.state.get(key, ResourceState.STOPPED)
            if running and state is not ResourceState.STARTED:
                self.state[key] = ResourceState.STARTED
                self._start_monitor(primitive, node)
            elif not running and state in (ResourceState.STARTED, ResourceState.STARTING,
                                           ResourceState.STOPPING):
                self.state[key] = ResourceState.STOPPED

    def _partition_of(self, node: str) -> _Partition | None:
        for partition in self.partitions.values():
            if node in partition.members:
                return partition
        return None

    def _authority(self) -> _Partition | None:
        if not self.partitions:
            return None
        return max(self.partitions.values(),
                   key=lambda p: (p.quorate, len(p.members),
                                  -min(self.nodes[n].index for n in p.members)))

    def _node_died(self, node: str) -> None:
        """Power lost: whatever ran there is gone (the cluster's record stays until the
        node is fenced or seen again)."""
        for primitive in self.primitives.values():
            primitive.agent.lost(node)
            timer = self._monitors.pop((primitive.id, node), None)
            if timer is not None:
                timer.cancel()
        for target, fencing in list(self.fencing.items()):
            if fencing.fencer == node and not fencing.sent and fencing.timer is not None:
                fencing.timer.cancel()  # a request still waiting dies with its node
                del self.fencing[target]

    # -- fencing ----------------------------------------------------------------------------------

    def _fence(self, partition: _Partition, target: str) -> None:
        fencing = self.fencing.get(target)
        if fencing is not None and (fencing.timer is not None or fencing.failed):
            return
        fencing = self.fencing[target] = _Fencing(target, partition.dc,
                                                  self.nodes[partition.dc].boots)
        delay = self._fencing_delay(partition, target)
        self._event("fence_request", partition.dc, f"{target} delay {delay:g}")
        daemon_log(LOG, partition.dc, "pacemaker-fenced",
                   "Requesting that %s perform '%s' action targeting %s%s", partition.dc,
                   self.options.fencing_action, target,
                   f" (priority-fencing-delay {delay:g}s)" if delay else "",
                   level=logging.WARNING)
        fencing.timer = self.clock.call_later(delay, lambda: self._fence_attempt(fencing))

    def _fenced_since_death(self, node: str) -> bool:
        """Whether the node is down and a fencing confirmed it after it last died (an
        older fencing, of an earlier life, does not count)."""
        record = self.nodes[node]
        fencing = self.fencing.get(node)
        return (not record.running and fencing is not None and fencing.done_at is not None
                and record.died_at is not None and fencing.done_at >= record.died_at)

    def _alive(self, fencing: _Fencing) -> bool:
        """Whether the stack that asked for the fencing still runs (not a later boot)."""
        record = self.nodes[fencing.fencer]
        return record.running and record.boots == fencing.fencer_boot

    def _fencing_delay(self, partition: _Partition, target: str) -> float:
        """PCMK cluster-options.rst priority-fencing-delay: only aimed at the lost node with
        the highest total priority, and only without a majority of the nodes."""
        delay = self.options.priority_fencing_delay
        if not delay or len(partition.members) * 2 > len(self.nodes):
            return 0.0
        priorities = {node: self._priority(node) for node in partition.unclean}
        top = max(priorities.values(), default=0)
        return delay if top > 0 and priorities.get(target) == top else 0.0

    def _priority(self, node: str) -> int:
        return sum(p.priority for p in self.primitives.values()
                   if self.state.get((p.id, node)) in (ResourceState.STARTED,
                                                       ResourceState.FAILED))

    def _fence_attempt(self, fencing: _Fencing) -> None:
        fencing.timer = None
        fencer, target = fencing.fencer, fencing.target
        if not self._alive(fencing):
            del self.fencing[target]  # the fencer died with its request
            self._reschedule_all()
            return
        fencing.attempts += 1
        device = self.fence_device
        if not device.works(fencer, target):
            # The agent gets no answer from the device: the attempt fails at the timeout.
            fencing.timer = self.clock.call_later(self.options.fencing_timeout,
                                                  lambda: self._fence_failed(fencing))
            return
        fencing.sent = True
        fencing.timer = self.clock.call_later(device.off_time,
                                              lambda: self._fence_off(fencing))

    def _fence_failed(self, fencing: _Fencing) -> None:
        fencing.timer = None
        self._event("fence_failed", fencing.fencer,
                    f"{fencing.target} attempt {fencing.attempts}")
        daemon_log(LOG, fencing.fencer, "pacemaker-fenced",
                   "Operation '%s' targeting %s by %s: Timer expired (attempt %d)",
                   self.options.fencing_action, fencing.target, fencing.fencer,
                   fencing.attempts, level=logging.ERROR)
        if fencing.attempts >= self.options.fencing_max_attempts:
            fencing.failed = True
            self._changed()
            return
        if self._alive(fencing):
            self._fence_attempt(fencing)
        else:
            del self.fencing[fencing.target]
            self._reschedule_all()

    def _fence_off(self, fencing: _Fencing) -> None:
        # The device acts whatever became of the node that asked it: once the command is
        # on its way the target loses power (two nodes fencing each other at once both die).
        fencing.timer = None
        self._event("fence_off", fencing.fencer, fencing.target)
        self.fence_device.off(fencing.target)
        self.refresh()
        if self.options.fencing_action == "reboot":
            fencing.timer = self.clock.call_later(self.fence_device.on_time,
                                                  lambda: self._fence_on(fencing))
        else:
            self._fenced(fencing)

    def _fence_on(self, fencing: _Fencing) -> None:
        fencing.timer = None
        self._event("fence_on", fencing.fencer, fencing.target)
        self.fence_device.on(fencing.target)
        self._fenced(fencing)
        self.refresh()

    def _fenced(self, fencing: _Fencing) -> None:
        """The agent reports success to the fencer, which tells its partition."""
        fencing.done_at = self.clock.now()
        if not self._alive(fencing):
            return  # nobody is left to hear it
        target = fencing.target
        self._event("fenced", fencing.fencer, target)
        daemon_log(LOG, fencing.fencer, "pacemaker-fenced",
                   "Operation '%s' targeting %s by %s: OK", self.options.fencing_action,
                   target, fencing.fencer, level=logging.WARNING)
        for primitive in self.primitives.values():
            key = (primitive.id, target)
            if key in self.state:
                self.state[key] = ResourceState.STOPPED
        for partition in self.partitions.values():
            partition.unclean.discard(target)
        self._reschedule_all()
        self._changed()

    # -- the scheduler ----------------------------------------------------------------------------

    def _reschedule_all(self) -> None:
        for members in list(self.partitions):
            self._schedule(members)

    def _schedule(self, members: frozenset[str]) -> None:
        """The DC's scheduler: where everything should be, and the transition to get there."""
        partition = self.partitions.get(members)
        if partition is None:
            return
        busy = [t for t in self._transitions if t.partition & members]
        if busy:
            for transition in busy:
                transition.abort = True  # recomputed once its op in flight completes
            return
        if partition.quorate and self.options.fencing_enabled:
            for target in sorted(partition.unclean):
                self._fence(partition, target)
        targets = self._placement(partition)
        ops = self._actions(partition, targets)
        if ops:
            transition = _Transition(members, ops)
            self._transitions.append(transition)
            self._next_op(transition)

    def _placement(self, partition: _Partition) -> dict[str, set[str]]:
        """Each primitive's nodes under this partition's DC."""
        result: dict[str, set[str]] = {p: set() for p in self.primitives}
        if not partition.quorate and self.options.no_quorum_policy == "stop":
            return result
        eligible = [n for n in self.nodes if n in partition.members
                    and self.nodes[n].running and not self.nodes[n].standby]
        blocked = bool(partition.unclean) and self.options.fencing_enabled
        load: dict[str, int] = {n: 0 for n in eligible}
        placed: dict[str, set[str]] = {}
        for unit in self._placement_order():
            members = self._members(unit)
            allowed = [n for n in eligible if not self._banned(unit, n)]
            for colocation in self.colocations:
                if colocation.dependent == unit.id:
                    primary = placed.get(colocation.primary, set())
                    allowed = [n for n in allowed if n in primary]
            current = [n for n in eligible if any(
                self.state.get((p.id, n)) in (ResourceState.STARTED, ResourceState.STARTING)
                for p in members)]
            if blocked and any(p.requires == "fencing" for p in members):
                # Nothing that requires fencing starts while a node is unfenced: it may
                # still run there. What runs on a member may stay.
                allowed = [n for n in allowed if n in current]
            if isinstance(unit, Clone):
                chosen = set(allowed)
            else:
                chosen = set()
                if allowed:
                    best = max(allowed, key=lambda n: (
                        self._stickiness(unit) if n in current else 0,
                        n in current, -load[n], -self.nodes[n].index))
                    chosen = {best}
                    load[best] += 1
            placed[unit.id] = chosen
            for primitive in members:
                result[primitive.id] = set(chosen)
        return result

    def _placement_order(self) -> list[Unit]:
        """Primaries before their dependents (constraints.rst: "the cluster will decide
        where to put the primary first")."""
        ordered: list[Unit] = []
        visiting: set[str] = set()

        def visit(uid: str) -> None:
            if uid in visiting or any(u.id == uid for u in ordered):
                return
            visiting.add(uid)
            for colocation in self.colocations:
                if colocation.dependent == uid:
                    visit(colocation.primary)
            ordered.append(self.units[uid])
        for uid in self.units:
            visit(uid)
        return ordered

    def _threshold(self, primitive: Primitive) -> int:
        return primitive.migration_threshold if primitive.migration_threshold is not None \
            else self.options.migration_threshold

    def _members(self, unit: Unit) -> list[Primitive]:
        if isinstance(unit, Group):
            return list(unit.members)
        if isinstance(unit, Clone):
            return [unit.primitive]
        return [unit]

    def _stickiness(self, unit: Unit) -> int:
        default = 1 if isinstance(unit, Clone) else self.options.resource_stickiness
        return sum(p.stickiness if p.stickiness is not None else default
                   for p in self._members(unit))

    def _banned(self, unit: Unit, node: str, *, seen: frozenset[str] = frozenset()) -> bool:
        """-INFINITY on ``node``: a member's fail count reached its migration threshold, or
        (influence) a dependent colocated with it is banned there."""
        for primitive in self._members(unit):
            if self.failcount.get((primitive.id, node), 0) >= self._threshold(primitive):
                return True
        for colocation in self.colocations:
            if colocation.primary == unit.id and colocation.influence and \
                    colocation.dependent not in seen and self._banned(
                        self.units[colocation.dependent], node, seen=seen | {unit.id}):
                return True
        return False

    def _actions(self, partition: _Partition, targets: dict[str, set[str]]) -> list[_Op]:
        live = [n for n in self.nodes if n in partition.members and self.nodes[n].running]
        stops: list[_Op] = []
        starts: list[_Op] = []
        order = [p for unit in self._placement_order() for p in self._members(unit)]
        order = self._ordered(order)
        for primitive in reversed(order):
            for node in live:
                state = self.state.get((primitive.id, node), ResourceState.STOPPED)
                wanted = node in targets[primitive.id]
                if state is ResourceState.FAILED or (
                        state is ResourceState.STARTED and not wanted):
                    stops.append(_Op("stop", primitive, node))
        for primitive in order:
            for node in live:
                state = self.state.get((primitive.id, node), ResourceState.STOPPED)
                if node in targets[primitive.id] and state in (ResourceState.STOPPED,
                                                               ResourceState.FAILED):
                    starts.append(_Op("start", primitive, node))
        return stops + starts

    def _ordered(self, primitives: list[Primitive]) -> list[Primitive]:
        """Order constraints: ``then`` after ``first`` (by unit)."""
        result = list(primitives)
        for order in self.orders:
            first = [p for p in result if self._unit_of[p.id] == order.first]
            then = [p for p in result if self._unit_of[p.id] == order.then]
            if not first or not then:
                continue
            last_first = max(result.index(p) for p in first)
            for primitive in then:
                if result.index(primitive) < last_first:
                    result.remove(primitive)
                    result.insert(max(result.index(p) for p in first) + 1, primitive)
        return result

    def _next_op(self, transition: _Transition) -> None:
        while transition.ops:
            if transition.abort:
                break
            op = transition.ops.pop(0)
            if not self.nodes[op.node].running:
                continue
            key = (op.primitive.id, op.node)
            agent = op.primitive.agent
            if op.action == "start":
                self.state[key] = ResourceState.STARTING
                delay = agent.start_time
            else:
                self.state[key] = ResourceState.STOPPING
                self._stop_monitor(key)
                delay = agent.stop_time
            self._event(op.action, op.node, op.primitive.id)
            transition.timer = self.clock.call_later(
                delay, functools.partial(self._op_done, transition, op))
            return
        self._transitions.remove(transition)
        if transition.abort:
            self._reschedule_all()
        self._changed()

    def _op_done(self, transition: _Transition, op: _Op) -> None:
        transition.timer = None
        key = (op.primitive.id, op.node)
        if self.nodes[op.node].running:
            agent = op.primitive.agent
            if op.action == "start":
                if agent.start(op.node):
                    self.state[key] = ResourceState.STARTED
                    self._event("started", op.node, op.primitive.id)
                    self._start_monitor(op.primitive, op.node)
                    daemon_log(LOG, op.node, "pacemaker-controld",
                               "Result of start operation for %s on %s: ok",
                               op.primitive.id, op.node)
                else:
                    # start-failure-is-fatal: this node is done for the resource.
                    self.state[key] = ResourceState.FAILED
                    self.failcount[key] = INFINITY
                    transition.abort = True
            else:
                agent.stop(op.node)
                self.state[key] = ResourceState.STOPPED
                self._event("stopped", op.node, op.primitive.id)
        self._next_op(transition)

    # -- monitors --------------------------------------------------------------------------------

    def _start_monitor(self, primitive: Primitive, node: str) -> None:
        key = (primitive.id, node)
        self._stop_monitor(key)
        self._monitors[key] = self.clock.call_later(
            primitive.monitor_interval, lambda: self._monitor(primitive, node))

    def _stop_monitor(self, key: tuple[str, str]) -> None:
        timer = self._monitors.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _monitor(self, primitive: Primitive, node: str) -> None:
        key = (primitive.id, node)
        self._monitors.pop(key, None)
        if not self.nodes[node].running or self.state.get(key) is not ResourceState.STARTED:
            return
        if primitive.agent.monitor(node):
            self._start_monitor(primitive, node)
            return
        self.state[key] = ResourceState.FAILED
        self.failcount[key] = self.failcount.get(key, 0) + 1
        self._event("monitor_failed", node, primitive.id)
        daemon_log(LOG, node, "pacemaker-controld",
                   "Result of monitor operation for %s on %s: not running "
                   "(fail count %d)", primitive.id, node, self.failcount[key],
                   level=logging.WARNING)
        partition = self._partition_of(node)
        if partition is not None:
            self._schedule(partition.members)
        self._changed()

    # -- inside -----------------------------------------------------------------------------------

    def _resource_rows(self) -> Iterator[dict[str, Any]]:
        for unit in self.units.values():
            for primitive in self._members(unit):
                nodes: list[tuple[str | None, ResourceState]] = [
                    (node, self.state.get((primitive.id, node), ResourceState.STOPPED))
                    for node in self.nodes]
                shown: list[tuple[str | None, ResourceState]] = [
                    (n, s) for n, s in nodes if s is not ResourceState.STOPPED]
                if not shown:
                    shown = [(None, ResourceState.STOPPED)]
                for node, state in shown:
                    yield {"resource": primitive.id, "unit": unit.id,
                           "agent": primitive.agent.standard, "state": str(state),
                           "node": node,
                           "unclean": bool(node and self.node_state(node) is
                                           NodeState.UNCLEAN)}

    def _event(self, kind: str, node: str, detail: str = "") -> None:
        self.events.append(Event(self.clock.now(), kind, node, detail))

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def first(self, kind: str, detail: str | None = None,
              after: float = float("-inf")) -> Event | None:
        """The first event of ``kind`` (with ``detail``) at or after ``after``."""
        return next((e for e in self.events if e.kind == kind and e.at >= after
                     and (detail is None or e.detail == detail)), None)



# -- the lab's clusters ---------------------------------------------------------------------------

# The HA guide's monitors (HAG control-plane-stateless.rst): the VIP `op monitor
# interval="30s"`, the haproxy clone `op monitor interval="1s"`.
VIP_MONITOR_INTERVAL = 30.0
HAPROXY_MONITOR_INTERVAL = 1.0
# The lab's own choices, not upstream defaults (upstream: 0 stickiness, INFINITY
# migration threshold, no priority fencing delay):
# - the VIPs do not fail back to a node that returns (stickiness beats any tie);
LAB_STICKINESS = 100
# - a process that keeps dying is moved away after three failures, not restarted forever;
LAB_MIGRATION_THRESHOLD = 3
# - in a two-node split the node running the VIPs wins the fencing race: fencing aimed at
#   it waits this long (more than the fence device's off time, so the other side is
#   already dead), which every failover after a real death of the holder pays too;
LAB_PRIORITY_FENCING_DELAY = 3.0
# - the resources' priority that delay weighs.
VIP_PRIORITY = 10


def lab_options(nodes: int) -> ClusterOptions:
    """The cluster properties the lab sets (see the constants above)."""
    return ClusterOptions(resource_stickiness=LAB_STICKINESS,
                          migration_threshold=LAB_MIGRATION_THRESHOLD,
                          priority_fencing_delay=LAB_PRIORITY_FENCING_DELAY if nodes == 2
                          else 0.0)


def add_api_vips(cluster: PacemakerCluster, vips: Sequence[tuple[str, str]],
                 haproxy: ProcessControl, *, group: str = "vips",
                 clone: str = "lb-haproxy-clone") -> None:
    """The HA guide's API VIP and load balancer (HAG control-plane-stateless.rst), one
    IPaddr2 per VIP in a group::

        pcs resource create vip-public ocf:heartbeat:IPaddr2 ip=... op monitor interval=30s
        pcs resource group add vips vip-public vip-internal
        pcs resource create lb-haproxy systemd:haproxy op monitor interval=1s --clone
        pcs constraint order start vips then lb-haproxy-clone kind=Optional
        pcs constraint colocation add lb-haproxy-clone with vips

    The colocation puts haproxy only where the VIPs are (the clone's other instances
    stay stopped) and, with influence, moves the VIPs when haproxy has failed
    migration-threshold times on their node.
    """
    members = [Primitive(f"vip-{name}", IPaddr2(address), VIP_MONITOR_INTERVAL,
                         priority=VIP_PRIORITY) for name, address in vips]
    cluster.add(Group(group, members))
    cluster.add(Clone(clone, Primitive("lb-haproxy", Systemd("haproxy", haproxy),
                                       HAPROXY_MONITOR_INTERVAL)))
    cluster.order(group, clone, kind="Optional")
    cluster.colocate(clone, group)


def add_active_passive(cluster: PacemakerCluster, rid: str, agent: ResourceAgent, *,
                       monitor_interval: float = 10.0, with_unit: str | None = None,
                       priority: int = 0) -> Primitive:
    """One instance of a service somewhere in the cluster (``pcs resource create <rid>
    systemd:<unit> op monitor interval=...``), optionally colocated with (and started
    after) another unit, e.g. its own VIP: how cinder-volume with a shared
    ``backend_host`` runs A/P on the controllers."""
    primitive = Primitive(rid, agent, monitor_interval, priority=priority)
    cluster.add(primitive)
    if with_unit is not None:
        cluster.order(with_unit, rid)
        cluster.colocate(rid, with_unit)
    return primitive
