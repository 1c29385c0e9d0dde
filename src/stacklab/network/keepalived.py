"""The HA routers' keepalived processes across the lab's network nodes.

One VRRP segment per HA router (its project's HA network, as far as the router's
adverts go), holding one instance per hosting L3 agent's node, configured as
neutron configures it. The server sets a segment up when it (re)schedules the
router; each L3 agent starts its own node's instance when told of the router over
the bus, and hears that instance's state changes (neutron-keepalived-state-change).
A node's power takes its instances down with it and brings them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from stacklab.clock import Clock, NoRunningLoop
from stacklab.ha.vrrp import Transition, VrrpGroup, VrrpInstance, VrrpState
from stacklab.network.scheduling.records import VrrpInstanceSpec

# What an L3 agent hears of its keepalived: (router id, transition).
StateListener = Callable[[str, Transition], None]
NOT_RUNNING = (VrrpState.INIT, VrrpState.STOPPED)


class Keepalived:
    def __init__(self, clock: Clock, powered: Callable[[str], bool]) -> None:
        # keepalived's timers run on the lab's scaled clock ([stacklab] ha_time_scale).
        self.clock = clock
        self.powered = powered
        self.segments: dict[str, VrrpGroup] = {}
        self._listeners: dict[str, StateListener] = {}

    def listen(self, host: str, listener: StateListener) -> None:
        """The host's L3 agent hears its instances' transitions."""
        self._listeners[host] = listener

    def configure(self, router_id: str, specs: Iterable[VrrpInstanceSpec]) -> None:
        """A router's segment, anew (any previous one's instances are killed); none runs yet."""
        self.remove(router_id)
        segment = VrrpGroup(self.clock)
        for spec in specs:
            segment.add(VrrpInstance(spec.host, spec.ha_ip_address, spec.config))
            segment.on_transition(spec.host, self._relay(spec.host, router_id))
        if segment.instances():
            self.segments[router_id] = segment

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

    def host_up(self, host: str) -> None:
        """The node is back: its L3 agent restarts its routers' keepalived."""
        for router_id in self.segments:
            self.ensure(router_id, host)

    def _relay(self, host: str, router_id: str) -> Callable[[Transition], None]:
        def relay(transition: Transition) -> None:
            listener = self._listeners.get(host)
            if listener is not None:
                listener(router_id, transition)
        return relay
