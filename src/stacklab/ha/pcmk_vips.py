"""The proxies as a two-node Pacemaker cluster holding the API VIPs, instead of keepalived
(``[stacklab] vip_manager = pacemaker``).

The HA guide's configuration (``pacemaker.add_api_vips``): the VIPs as IPaddr2 in a
group, haproxy as a clone colocated with them, votequorum ``two_node: 1`` (so
``wait_for_all``), fencing by the lab's power controls (``LabFenceDevice``: what
fence_virsh or fence_ipmilan do to a VM or a server, through the runtime's actions, so
the rest of the lab sees a fenced node go down and come back like any power cycle).

What differs from keepalived, as the course shows it: a dead holder's VIPs move only
after token + consensus and the fencing (about 12 s in the lab, against keepalived's
3-4 s), but a cut between the proxies never leaves the VIPs on both: the node running
them wins the fencing race and the other one reboots into the cut without quorum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from stacklab.clock import Clock
from stacklab.ha.pacemaker import (
    CorosyncOptions,
    PacemakerCluster,
    ProcessControl,
    add_api_vips,
    lab_options,
)
from stacklab.ha.vips import Vip
from stacklab.topology import Runtime
from stacklab.topology.actions import apply

VIP_GROUP = "vips"
HAPROXY_CLONE = "lb-haproxy-clone"
# The lab's power controls as a fence device: how long it takes to confirm the node is
# off, then on again (a modelled device, not an upstream number).
FENCE_OFF_TIME = 1.0
FENCE_ON_TIME = 1.0


class LabFenceDevice:
    """``pcs stonith create fence-lab ...``: power-cycles a node through the lab's runtime.
    ``broken`` stands for a device the fencer cannot reach (a BMC off the network)."""

    name = "fence-lab"

    def __init__(self, runtime: Runtime, *, off_time: float = FENCE_OFF_TIME,
                 on_time: float = FENCE_ON_TIME) -> None:
        self.runtime = runtime
        self.off_time = off_time
        self.on_time = on_time
        self.broken = False

    def works(self, fencer: str, target: str) -> bool:
        return not self.broken

    def off(self, target: str) -> None:
        apply(self.runtime, {"action": "power_off", "node": target})

    def on(self, target: str) -> None:
        apply(self.runtime, {"action": "power_on", "node": target})


class PacemakerVips:
    """Who holds the API VIPs when Pacemaker places them (the request path asks
    ``holder`` and ``takeover_pending``, as of keepalived)."""

    def __init__(self, clock: Clock, proxies: Sequence[str], vips: Sequence[Vip], *,
                 up: Callable[[str], bool], reachable: Callable[[str, str], bool],
                 fence_device: LabFenceDevice, haproxy: ProcessControl) -> None:
        self.vips = tuple(vips)
        self.fence_device = fence_device
        self.cluster = PacemakerCluster(
            clock, proxies, up=up, reachable=reachable, fence_device=fence_device,
            corosync=CorosyncOptions(two_node=len(proxies) == 2),
            options=lab_options(len(proxies)), name="proxies")
        add_api_vips(self.cluster, [(vip.name, vip.address) for vip in self.vips], haproxy,
                     group=VIP_GROUP, clone=HAPROXY_CLONE)

    def start(self) -> None:
        self.cluster.start()

    def refresh(self) -> None:
        self.cluster.refresh()

    def holder(self) -> str | None:
        return self.cluster.holder(VIP_GROUP)

    def takeover_pending(self) -> bool:
        return self.cluster.recovery_pending()

    def split_brain(self) -> bool:
        return len(self.cluster.active_nodes(VIP_GROUP)) > 1

    def losses(self) -> Iterator[str]:
        yield from self.cluster.problems()

    def status(self) -> dict[str, Any]:
        holder = self.holder()
        return {**self.cluster.status(),
                "vips": [{"name": vip.name, "network": vip.network, "address": vip.address,
                          "holder": holder} for vip in self.vips]}
