"""The HA routers' keepalived processes across the lab's network nodes.

One VRRP segment per HA router (its project's HA network, as far as the router's
adverts go), holding one instance per hosting L3 agent's node, configured as
neutron configures it. The server sets a segment up when it (re)schedules the
router; each L3 agent starts its own node's instance when told of the router over
the bus (or when it resyncs after a start), and hears that instance's state changes
(neutron-keepalived-state-change). A node's power takes its instances down with it;
stopping the node's keepalived stops them cleanly (a master says goodbye with priority 0).

The HA network rides the overlay: whether two nodes' instances hear each other's
adverts is the lab's reachability between them (``reachable``), so a node detached
from the overlay or partitioned off keeps its instances running, deaf and mute, and
both sides become MASTER until the path is back.

In one OS process every node's instance is here and a segment carries the adverts
itself. With ``stacklab up --processes`` each network node's keepalived runs in that
node's agents process: a segment there holds the node's own instance only, configured
by its L3 agent from what the server says of the router (``configure`` with that one
instance), and its adverts go to the other nodes' processes over the bus
(``BusAdverts``, a fanout standing for the HA network's multicast); what arrives is
still delivered only along the paths the lab's runtime says there are.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from stacklab.bus.interface import Bus, Listener, Target, on_host
from stacklab.clock import Clock, NoRunningLoop
from stacklab.ha.vrrp import Advert, Transition, VrrpConfig, VrrpGroup, VrrpInstance, VrrpState
from stacklab.network.scheduling.records import VrrpInstanceSpec
from stacklab.network.topics import VRRP_TOPIC

# What an L3 agent hears of its keepalived: (router id, transition).
StateListener = Callable[[str, Transition], None]
NOT_RUNNING = (VrrpState.INIT, VrrpState.STOPPED)


class AdvertTransport(Protocol):
    """How a segment's adverts reach the instances other OS processes run."""

    def send(self, router_id: str, advert: Advert) -> None:
        """Carry ``advert`` to the router's segment in every other process."""


class Keepalived:
    def __init__(self, clock: Clock, powered: Callable[[str], bool],
                 reachable: Callable[[str, str], bool] | None = None,
                 path: Callable[[str, str], float | None] | None = None,
                 transport: AdvertTransport | None = None) -> None:
        # keepalived's timers run on the lab's scaled clock ([stacklab] ha_time_scale).
        self.clock = clock
        # Whether keepalived runs on a node now (powered, and not stopped).
        self.powered = powered
        # Whether adverts get from one node to another (their HA network's path).
        self.reachable = reachable
        # One advert's extra delay from one node to another, or None when their link loses it.
        self.path = path
        # The other processes' instances (stacklab up --processes), or None: all are here.
        self.transport = transport
        self.segments: dict[str, VrrpGroup] = {}
        self._listeners: dict[str, StateListener] = {}

    @property
    def distributed(self) -> bool:
        """Whether the routers' other instances run in other OS processes: each L3 agent
        then configures its own node's instance (``configure`` with its spec only)."""
        return self.transport is not None

    def listen(self, host: str, listener: StateListener) -> None:
        """The host's L3 agent hears its instances' transitions."""
        self._listeners[host] = listener

    def configure(self, router_id: str, specs: Iterable[VrrpInstanceSpec]) -> None:
        """A router's segment as its hosting agents now stand; new instances do not run yet.

        As the L3 agents reconfigure keepalived: a node whose instance is unchanged keeps
        it running (a replica added elsewhere does not disturb the master: neutron's
        keepalived speaks multicast and lists no peers), a node no longer hosting the
        router stops its own, and a new one's waits for its agent to start it.
        """
        wanted = {spec.host: spec for spec in specs}
        segment = self.segments.get(router_id)
        if segment is None:
            if not wanted:
                return
            segment = self.segments[router_id] = self._segment(router_id)
        for instance in segment.instances():
            spec = wanted.get(instance.node)
            if spec is None or (spec.ha_ip_address, spec.config) != (
                    str(instance.primary_ip), instance.config):
                segment.remove(instance.node)
        for host, spec in wanted.items():
            if not segment.instances(node=host):
                segment.add(VrrpInstance(host, spec.ha_ip_address, spec.config))
                segment.on_transition(host, self._relay(host, router_id))
        if not segment.instances():
            del self.segments[router_id]
        else:
            self._link(segment)

    def _segment(self, router_id: str) -> VrrpGroup:
        if self.transport is None:
            return VrrpGroup(self.clock, path=self.path)
        # The other nodes' instances are not here for ``_link`` to cut off: whether their
        # adverts get through is asked of the lab on each one's arrival.
        return VrrpGroup(self.clock, path=self.path, reachable=self.reachable,
                         outbound=functools.partial(self.transport.send, router_id))

    def receive(self, router_id: str, advert: Advert) -> None:
        """Another process's instance of the router sent ``advert`` on its HA network."""
        segment = self.segments.get(router_id)
        if segment is not None:
            segment.receive(advert)

    def state(self, router_id: str, host: str) -> VrrpState | None:
        """The state of the host's keepalived instance for the router (None: it has none)."""
        segment = self.segments.get(router_id)
        found = segment.instances(node=host) if segment is not None else []
        return found[0].state if found else None

    def ensure(self, router_id: str, host: str) -> bool:
        """Start the host's instance of the router unless it runs; whether one started.

        A real clock outside any event loop cannot arm keepalived's first timer: nothing
        starts, and the L3 agents' resync at start does it later.
        """
        segment = self.segments.get(router_id)
        if segment is None or not self.powered(host):
            return False
        idle = [i for i in segment.instances(node=host) if i.state in NOT_RUNNING]
        try:
            for instance in idle:
                segment.start(host, instance.vrid)
        except NoRunningLoop:
            return False
        return bool(idle)

    def remove(self, router_id: str) -> None:
        segment = self.segments.pop(router_id, None)
        if segment is not None:
            for instance in segment.instances():
                segment.kill(instance.node, instance.vrid)

    def host_down(self, host: str) -> None:
        """A node lost power: its keepalived processes die with it (no goodbye)."""
        for segment in self.segments.values():
            for instance in segment.instances(node=host):
                segment.kill(host, instance.vrid)

    def host_stop(self, host: str) -> None:
        """The node's keepalived processes stop cleanly (SIGTERM): each master sends a
        priority-0 advert, so a backup takes over after its skew time, not 3 adverts."""
        for segment in self.segments.values():
            segment.stop(host)

    def host_start(self, host: str) -> None:
        """The node's keepalived runs again: each instance starts as BACKUP (with
        neutron's nopreempt, the master that took over keeps the router)."""
        for router_id in self.segments:
            self.ensure(router_id, host)

    def relink(self) -> None:
        """Who hears whom changed (a node detached, a partition, a heal): every segment
        delivers adverts along the paths there are now."""
        for segment in self.segments.values():
            self._link(segment)

    def _link(self, segment: VrrpGroup) -> None:
        if self.reachable is None:
            return
        nodes = sorted({instance.node for instance in segment.instances()})
        for index, first in enumerate(nodes):
            for second in nodes[index + 1:]:
                if self.reachable(first, second):
                    segment.restore(first, second)
                else:
                    segment.cut(first, second)

    def _relay(self, host: str, router_id: str) -> Callable[[Transition], None]:
        def relay(transition: Transition) -> None:
            listener = self._listeners.get(host)
            if listener is not None:
                listener(router_id, transition)
        return relay


def spec_to_wire(spec: VrrpInstanceSpec) -> dict[str, Any]:
    """A host's instance of a router as the server sends it (``sync_routers``)."""
    return {**dataclasses.asdict(spec), "config": {
        **dataclasses.asdict(spec.config), "initial_state": str(spec.config.initial_state)}}


def spec_from_wire(found: Mapping[str, Any]) -> VrrpInstanceSpec:
    config = dict(found["config"])
    config["initial_state"] = VrrpState(config["initial_state"])
    return VrrpInstanceSpec(**{**found, "config": VrrpConfig(**config)})


class BusAdverts:
    """VRRP adverts between the agents processes of the network nodes, over the bus.

    Each advert is a fanout cast on ``VRRP_TOPIC`` sent from its node; each process
    consumes the topic on the nodes whose keepalived it runs (``hosts``), and hands what
    arrives to its own instances of the router, whose segment asks the lab whether the
    sender reaches them (``Keepalived.reachable``, on the process's runtime). A stopped
    keepalived's consumer is paused with it, as its instances are stopped.
    """

    def __init__(self, bus: Bus, hosts: Iterable[str]) -> None:
        self.bus = bus
        self.hosts = list(hosts)
        self.keepalived: Keepalived | None = None
        self.listeners: list[Listener] = []

    def send(self, router_id: str, advert: Advert) -> None:
        with on_host(advert.sender):
            self.bus.cast_nowait(Target(VRRP_TOPIC, fanout=True), "vrrp_advert",
                                 router_id=router_id, vrid=advert.vrid,
                                 priority=advert.priority, advert_int=advert.advert_int,
                                 version=advert.version, sender=advert.sender,
                                 sender_ip=str(advert.sender_ip))

    def start(self, keepalived: Keepalived) -> None:
        self.keepalived = keepalived
        endpoint = _AdvertEndpoint(keepalived)
        self.listeners = [self.bus.listen(Target(VRRP_TOPIC, host), endpoint)
                          for host in self.hosts]

    def stop(self) -> None:
        for listener in self.listeners:
            listener.stop()
        self.listeners = []


class _AdvertEndpoint:
    """What the bus calls: only the advert (the transport's own methods are not RPC)."""

    def __init__(self, keepalived: Keepalived) -> None:
        self._keepalived = keepalived

    def vrrp_advert(self, router_id: str, vrid: int, priority: int, advert_int: float,
                    version: int, sender: str, sender_ip: str) -> None:
        self._keepalived.receive(router_id, Advert(
            vrid, priority, advert_int, version, sender, ipaddress.ip_address(sender_ip)))
