"""cinder's filter scheduler, as pure functions: backends in, a pool (or none) out.

The host manager's part first: only backends whose cinder-volume is up and enabled are
candidates (cinder/scheduler/host_manager.py logs the others "volume service is down").
Then the default filters, in cinder's order (``scheduler_default_filters``):
AvailabilityZoneFilter, CapacityFilter, CapabilitiesFilter; then the default weigher,
CapacityWeigher (most virtual free space first, ``capacity_weight_multiplier`` 1.0). A
volume made from a snapshot or another volume must land on its source's backend
(cinder puts the source's host in the request spec's ``resource_backend``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PoolState:
    """One pool as the scheduler sees it: the service's state and the pool's capabilities."""

    host: str            # host@backend
    pool: str
    zone: str
    up: bool
    disabled: bool
    total_capacity_gb: float
    free_capacity_gb: float
    provisioned_capacity_gb: float
    max_over_subscription_ratio: float
    reserved_percentage: int
    thin_provisioning_support: bool
    capabilities: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pool_host(self) -> str:
        return f"{self.host}#{self.pool}"


@dataclass(frozen=True)
class Request:
    size: int
    zone: str | None
    extra_specs: Mapping[str, str]
    # host@backend a volume made from a snapshot or a volume must stay on.
    resource_backend: str | None = None


@dataclass
class Decision:
    chosen: PoolState | None
    log: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "No weighed backends available"


def _thin(pool: PoolState, specs: Mapping[str, str]) -> bool:
    # A type asks thick provisioning with provisioning:type=thick; thin otherwise, where
    # the backend supports it (cinder/scheduler/filters/capacity_filter.py).
    asked = str(specs.get("provisioning:type", "thin")).strip().lower()
    return asked == "thin" and pool.thin_provisioning_support \
        and pool.max_over_subscription_ratio >= 1


def capacity_passes(pool: PoolState, request: Request, log: list[str]) -> bool:
    total = pool.total_capacity_gb
    reserved = math.floor(total * pool.reserved_percentage / 100)
    free = pool.free_capacity_gb - reserved
    if total <= 0:
        log.append(f"Insufficient free space for volume creation. Total capacity is "
                   f"{total}G on host {pool.pool_host}.")
        return False
    if _thin(pool, request.extra_specs):
        ratio = (pool.provisioned_capacity_gb + request.size) / total
        if ratio > pool.max_over_subscription_ratio:
            log.append(
                f"Insufficient free space for thin provisioning. The ratio of provisioned "
                f"capacity over total capacity {ratio:.2f} has exceeded the maximum over "
                f"subscription ratio {pool.max_over_subscription_ratio:.2f} on host "
                f"{pool.pool_host}.")
            return False
        if free * pool.max_over_subscription_ratio >= request.size:
            return True
    elif free >= request.size:
        return True
    log.append(f"Insufficient free space for volume creation on host {pool.pool_host} "
               f"(requested / avail): {request.size}/{free}")
    return False


def zone_passes(pool: PoolState, request: Request) -> bool:
    if request.zone is not None and pool.zone != request.zone:
        return False
    allowed = request.extra_specs.get("RESKEY:availability_zones")
    if allowed:
        return pool.zone in [zone.strip() for zone in str(allowed).split(",")]
    return True


_OPS: Mapping[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: float(a) >= float(b),
    "<=": lambda a, b: float(a) <= float(b),
    ">=": lambda a, b: float(a) >= float(b),
    "==": lambda a, b: float(a) == float(b),
    "!=": lambda a, b: float(a) != float(b),
    "s==": operator.eq, "s!=": operator.ne, "s<": operator.lt, "s<=": operator.le,
    "s>": operator.gt, "s>=": operator.ge,
    "<in>": lambda a, b: b in a,
    "<is>": lambda a, b: a == b,
}


def spec_matches(value: Any, requirement: str) -> bool:
    """cinder's extra_specs_ops.match: ``<is> True``, ``<in> x``, ``<or> a <or> b``,
    comparisons, or plain equality."""
    words = str(requirement).split()
    if not words:
        return str(value) == ""
    op = words[0]
    if op == "<or>":
        return str(value) in words[1::2]
    if op in _OPS and len(words) >= 2:
        wanted = " ".join(words[1:])
        if op == "<is>":
            return str(value).lower() == wanted.lower()
        try:
            return bool(_OPS[op](str(value) if op.startswith(("s", "<")) else value, wanted))
        except (TypeError, ValueError):
            return False
    return str(value) == str(requirement)


def capabilities_pass(pool: PoolState, request: Request) -> bool:
    for key, requirement in request.extra_specs.items():
        scope = key.split(":", 1)
        if len(scope) > 1:
            if scope[0] != "capabilities":
                continue  # another scope's key (qos:, RESKEY:, provisioning:...)
            key = scope[1]
        if key not in pool.capabilities:
            return False
        if not spec_matches(pool.capabilities[key], requirement):
            return False
    return True


def virtual_free(pool: PoolState, request: Request) -> float:
    """CapacityWeigher's weight (cinder/utils.py calculate_virtual_free_capacity)."""
    reserved = math.floor(pool.total_capacity_gb * pool.reserved_percentage / 100)
    if _thin(pool, request.extra_specs):
        return (pool.total_capacity_gb * pool.max_over_subscription_ratio
                - pool.provisioned_capacity_gb - reserved)
    return pool.free_capacity_gb - reserved


def schedule(pools: Sequence[PoolState], request: Request) -> Decision:
    decision = Decision(None)
    candidates = []
    for pool in pools:
        if not pool.up:
            decision.log.append(f"volume service is down. (host: {pool.host})")
            continue
        if pool.disabled:
            continue
        if request.resource_backend is not None and pool.host != request.resource_backend:
            continue
        candidates.append(pool)
    passing = [p for p in candidates
               if zone_passes(p, request) and capacity_passes(p, request, decision.log)
               and capabilities_pass(p, request)]
    if not passing:
        decision.log.append("No valid backend was found. No weighed backends available")
        return decision
    # Highest weight first; a tie goes to the first by name, so a seeded lab repeats.
    decision.chosen = sorted(passing, key=lambda p: (-virtual_free(p, request),
                                                     p.pool_host))[0]
    return decision
