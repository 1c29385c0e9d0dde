"""DVR's link-local pairs between qrouter- and fip-: one /31 of 169.254.64.0/18 a router."""

from __future__ import annotations

import pytest

from stacklab.network.node_agents.fip_link_local import FipLinkLocalAllocator


def test_each_router_keeps_its_pair_and_a_freed_pair_is_taken_again() -> None:
    pairs = FipLinkLocalAllocator()
    assert pairs.wire(["r2", "r1"]) == {"r1": ("169.254.64.0/31", "169.254.64.1/31"),
                                         "r2": ("169.254.64.2/31", "169.254.64.3/31")}
    # r1 leaves the host: r2 keeps its pair, r3 takes the one freed.
    assert pairs.wire(["r3", "r2"]) == {"r2": ("169.254.64.2/31", "169.254.64.3/31"),
                                         "r3": ("169.254.64.0/31", "169.254.64.1/31")}
    assert pairs.allocate("r2") == ("169.254.64.2/31", "169.254.64.3/31")


def test_an_exhausted_pool_fails_as_neutrons_allocator_does() -> None:
    pairs = FipLinkLocalAllocator("169.254.64.0/30")
    pairs.wire(["a", "b"])
    with pytest.raises(RuntimeError, match="Cannot allocate"):
        pairs.allocate("c")
