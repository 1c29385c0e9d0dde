"""The link-local pairs that join a DVR router's ``qrouter-`` namespace to its host's ``fip-``.

neutron's L3 agent (dvr_fip_ns.py with link_local_allocator.py) cuts DVR_FIP_LL_CIDR
(169.254.64.0/18) into /31s and gives one to each router it wires to a fip-
namespace: the ``rfp-`` end of the veth pair (in qrouter-) takes the pair's first
address, the ``fpr-`` end (in fip-) the second, each as a /31. The agent keeps its
choices in a file on the node (``<state_path>/fip-linklocal-networks``), so a router
keeps its pair across the agent's restarts, and a pair is freed when the router
leaves the host. neutron pops any free pair of a set; here the lowest free one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from stacklab.network.scheduling.constants import DVR_FIP_LL_CIDR

LinkLocalPair = tuple[str, str]  # (rfp- address, fpr- address), each "a.b.c.d/31"


class FipLinkLocalAllocator:
    def __init__(self, cidr: str = DVR_FIP_LL_CIDR) -> None:
        self.pool = ipaddress.IPv4Network(cidr)
        self.allocations: dict[str, ipaddress.IPv4Network] = {}

    def allocate(self, router_id: str) -> LinkLocalPair:
        """The router's pair: the one it has, else the lowest free one."""
        pair = self.allocations.get(router_id)
        if pair is None:
            taken = set(self.allocations.values())
            pair = next((p for p in self.pool.subnets(new_prefix=31) if p not in taken), None)
            if pair is None:
                # link_local_allocator.py raises when the pool is exhausted.
                raise RuntimeError(f"Cannot allocate a link-local pair from {self.pool}")
            self.allocations[router_id] = pair
        return f"{pair[0]}/31", f"{pair[1]}/31"

    def release(self, router_id: str) -> None:
        self.allocations.pop(router_id, None)

    def wire(self, router_ids: Iterable[str]) -> dict[str, LinkLocalPair]:
        """The pairs of the routers wired to a fip- namespace on this node now: routers
        gone give theirs back, new ones (in id order) take the lowest free ones."""
        wanted = sorted(set(router_ids))
        for router_id in [r for r in self.allocations if r not in wanted]:
            self.release(router_id)
        return {router_id: self.allocate(router_id) for router_id in wanted}
