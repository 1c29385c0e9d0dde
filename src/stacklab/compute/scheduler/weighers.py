"""Host weighers and nova's weighing arithmetic (nova/weights.py).

For each weigher, the raw values of all candidate hosts are normalised to
0..1 (``(v - min) / (max - min)``, all zero when every value is the same;
a weigher's ``minval``/``maxval`` clamp the values and replace the observed
bounds), multiplied by the weigher's multiplier and added, in weigher order,
to the host's weight; the highest weight wins and ties keep the hosts' order
(nova sorts stably). The resource weighers have ``minval = 0``, so an
over-committed host counts as having nothing free and the others are scaled
against zero, not against the poorest host.

With the default multipliers (all 1.0 in ``[filter_scheduler]``) the
resource weighers spread instances over the emptiest hosts; negative
multipliers stack them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from stacklab.compute.scheduler.filters import RequestState
from stacklab.compute.scheduler.hosts import HostState
from stacklab.compute.scheduler.request import SOFT_AFFINITY, SOFT_ANTI_AFFINITY


class HostWeigher:
    """One weigher: raw values for a list of hosts, its multiplier and bounds."""

    name: ClassVar[str] = "HostWeigher"
    # The ``[filter_scheduler]`` option holding the multiplier, and its default.
    option: ClassVar[str] = ""
    default_multiplier: ClassVar[float] = 1.0
    minval: ClassVar[float | None] = None
    maxval: ClassVar[float | None] = None

    def __init__(self, multiplier: float | None = None) -> None:
        self.multiplier = self.default_multiplier if multiplier is None else multiplier

    def weigh(self, hosts: Sequence[HostState], state: RequestState) -> list[float] | None:
        """Raw values, one per host; None when the weigher has nothing to say for this
        request (every value would be equal, hence normalised to 0)."""
        raise NotImplementedError


class RAMWeigher(HostWeigher):
    """Free RAM (``free_ram_mb``: total - reserved_host_memory_mb - used, no ratio)."""

    name = "RAMWeigher"
    option = "ram_weight_multiplier"
    minval = 0

    def weigh(self, hosts: Sequence[HostState], state: RequestState) -> list[float] | None:
        return [h.free_ram_mb for h in hosts]


class CPUWeigher(HostWeigher):
    """Free vCPUs (``vcpus_total * cpu_allocation_ratio - vcpus_used``, where nova's
    ``vcpus_used`` starts at ``reserved_host_cpus``)."""

    name = "CPUWeigher"
    option = "cpu_weight_multiplier"
    minval = 0

    def weigh(self, hosts: Sequence[HostState], state: RequestState) -> list[float] | None:
        return [h.weigher_vcpus_free for h in hosts]


class DiskWeigher(HostWeigher):
    """Free disk (``free_disk_mb``: (total - reserved - used) GB * 1024, no ratio)."""

    name = "DiskWeigher"
    option = "disk_weight_multiplier"
    minval = 0

    def weigh(self, hosts: Sequence[HostState], state: RequestState) -> list[float] | None:
        return [h.free_disk_mb for h in hosts]


class ServerGroupSoftAffinityWeigher(HostWeigher):
    """For a ``soft-affinity`` group, the number of its members on the host."""

    name = "ServerGroupSoftAffinityWeigher"
    option = "soft_affinity_weight_multiplier"
    policy: ClassVar[str] = SOFT_AFFINITY
    sign: ClassVar[int] = 1

    def weigh(self, hosts: Sequence[HostState], state: RequestState) -> list[float] | None:
        group = state.spec.group
        if group is None or group.policy != self.policy:
            return None
        gid, sign = group.uuid, self.sign
        return [sign * h.group_counts.get(gid, 0) for h in hosts]


class ServerGroupSoftAntiAffinityWeigher(ServerGroupSoftAffinityWeigher):
    """For a ``soft-anti-affinity`` group, minus the number of its members on the host
    (its multiplier, ``soft_anti_affinity_weight_multiplier``, may not be negative)."""

    name = "ServerGroupSoftAntiAffinityWeigher"
    option = "soft_anti_affinity_weight_multiplier"
    policy = SOFT_ANTI_AFFINITY
    sign = -1


WEIGHERS: Mapping[str, type[HostWeigher]] = {cls.name: cls for cls in (
    RAMWeigher, CPUWeigher, DiskWeigher, ServerGroupSoftAffinityWeigher,
    ServerGroupSoftAntiAffinityWeigher)}

DEFAULT_WEIGHERS: tuple[str, ...] = tuple(WEIGHERS)


def _normalised(weigher: HostWeigher, raw: list[float]) -> tuple[list[float], float, float]:
    """The values (clamped to the weigher's bounds), the low bound and the span, or a
    span of 0 when every value normalises to 0."""
    low = min(raw)
    high = max(raw)
    if weigher.minval is not None:
        if low < weigher.minval:
            floor = weigher.minval
            raw = [v if v > floor else floor for v in raw]
            high = max(high, floor)
        low = weigher.minval
    if weigher.maxval is not None:
        if high > weigher.maxval:
            ceiling = weigher.maxval
            raw = [v if v < ceiling else ceiling for v in raw]
        high = weigher.maxval
    return raw, low, float(high - low) if high != low else 0.0


def weigh_hosts(weighers: Sequence[HostWeigher], hosts: Sequence[HostState],
                state: RequestState) -> list[float]:
    """The total weight of each host, in the hosts' order (nova's ``get_weighed_objects``
    without the sort). A single host is not weighed, as in nova.

    Each weigher adds ``multiplier * (v - low) / span`` in weigher order, the same float
    operations in the same order as nova, so equal weights (which decide ties) are equal
    here too; up to three weighers are added in one pass over the hosts.
    """
    if len(hosts) <= 1:
        return [0.0] * len(hosts)
    terms: list[tuple[list[float], float, float, float]] = []
    for weigher in weighers:
        if weigher.multiplier == 0:
            continue
        raw = weigher.weigh(hosts, state)
        if raw is None:
            continue
        values, low, span = _normalised(weigher, raw)
        if span:  # nova normalises equal values to 0: no contribution.
            terms.append((values, low, span, weigher.multiplier))
    weights: list[float] | None = None
    while terms:
        chunk, terms = terms[:3], terms[3:]
        weights = _add(weights, chunk)
    return weights if weights is not None else [0.0] * len(hosts)


def _add(weights: list[float] | None,
         chunk: list[tuple[list[float], float, float, float]]) -> list[float]:
    """``weights`` plus up to three normalised, multiplied terms, left to right; without
    ``weights`` the sum starts at the first term (0.0 + t is exactly t)."""
    if len(chunk) == 1:
        (a, la, sa, ma), = chunk
        if weights is None:
            return [ma * ((x - la) / sa) for x in a]
        return [w + ma * ((x - la) / sa) for w, x in zip(weights, a, strict=True)]
    if len(chunk) == 2:
        (a, la, sa, ma), (b, lb, sb, mb) = chunk
        if weights is None:
            return [ma * ((x - la) / sa) + mb * ((y - lb) / sb) for x, y in zip(a, b, strict=True)]
        return [w + ma * ((x - la) / sa) + mb * ((y - lb) / sb)
                for w, x, y in zip(weights, a, b, strict=True)]
    (a, la, sa, ma), (b, lb, sb, mb), (c, lc, sc, mc) = chunk
    if weights is None:
        return [ma * ((x - la) / sa) + mb * ((y - lb) / sb) + mc * ((z - lc) / sc)
                for x, y, z in zip(a, b, c, strict=True)]
    return [w + ma * ((x - la) / sa) + mb * ((y - lb) / sb) + mc * ((z - lc) / sc)
            for w, x, y, z in zip(weights, a, b, c, strict=True)]
