"""Placement, reduced to what the lab needs: each hypervisor's inventory and who holds what.

Every compute node is a resource provider with VCPU, MEMORY_MB and DISK_GB
inventories (total, reserved, allocation ratio, max_unit = total, as the
libvirt driver reports). A consumer (a server, or during a resize the
migration holding the source host's share) has an allocation on one
provider. A claim succeeds only if every class stays within
``(total - reserved) * allocation_ratio`` and under ``max_unit``, and it is
atomic: the scheduler's choice and the claim cannot interleave with another
request's, which is what placement's generation check guarantees upstream.

The allocations are rebuilt from the instances table at start, so they are
never lost across a restart; in between they live in memory, where the
scheduler reads them without touching the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stacklab.compute.scheduler.hosts import (
    INITIAL_CPU_ALLOCATION_RATIO,
    INITIAL_DISK_ALLOCATION_RATIO,
    INITIAL_RAM_ALLOCATION_RATIO,
    RESERVED_HOST_CPUS,
    RESERVED_HOST_DISK_MB,
    RESERVED_HOST_MEMORY_MB,
)

VCPU = "VCPU"
MEMORY_MB = "MEMORY_MB"
DISK_GB = "DISK_GB"
CLASSES = (VCPU, MEMORY_MB, DISK_GB)


@dataclass(frozen=True, slots=True)
class Inventory:
    total: int
    reserved: int = 0
    allocation_ratio: float = 1.0

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)


@dataclass(slots=True)
class Provider:
    name: str
    inventories: dict[str, Inventory]
    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    consumers: set[str] = field(default_factory=set)

    def fits(self, resources: dict[str, int]) -> bool:
        for rc, amount in resources.items():
            inv = self.inventories[rc]
            if amount > inv.total or self.usage[rc] + amount > inv.capacity:
                return False
        return True


class Conflict(Exception):
    """The claim does not fit any more (placement answers 409 upstream)."""


@dataclass(slots=True)
class Allocation:
    provider: str
    resources: dict[str, int]


def flavor_resources(flavor: dict[str, int], *, boot_from_volume: bool = False) -> dict[str, int]:
    """What a flavor asks of placement (nova's ``resources_from_flavor``)."""
    root = 0 if boot_from_volume else int(flavor.get("root_gb", 0))
    disk = root + int(flavor.get("ephemeral_gb", 0)) + (int(flavor.get("swap", 0)) + 1023) // 1024
    return {VCPU: int(flavor["vcpus"]), MEMORY_MB: int(flavor["memory_mb"]), DISK_GB: disk}


class Placement:
    def __init__(self) -> None:
        self.providers: dict[str, Provider] = {}
        self.allocations: dict[str, Allocation] = {}

    def add_provider(self, name: str, *, vcpus: int, memory_mb: int, disk_gb: int) -> None:
        """A compute node's inventory with nova's default ratios and reserved amounts."""
        if name in self.providers:
            return
        self.providers[name] = Provider(name, {
            VCPU: Inventory(vcpus, RESERVED_HOST_CPUS, INITIAL_CPU_ALLOCATION_RATIO),
            MEMORY_MB: Inventory(memory_mb, RESERVED_HOST_MEMORY_MB, INITIAL_RAM_ALLOCATION_RATIO),
            DISK_GB: Inventory(disk_gb, (RESERVED_HOST_DISK_MB + 1023) // 1024,
                               INITIAL_DISK_ALLOCATION_RATIO),
        })

    def claim(self, consumer: str, provider: str, resources: dict[str, int], *,
              force: bool = False) -> None:
        """Allocate ``resources`` on ``provider`` to ``consumer`` (replacing what it held).

        ``force`` records the allocation even over capacity, as healing a
        restart does for what was already running.
        """
        previous = self.allocations.get(consumer)
        if previous is not None:
            self._release(consumer, previous)
        target = self.providers[provider]
        if not force and not target.fits(resources):
            if previous is not None:
                self._apply(consumer, previous)
            raise Conflict(f"{provider} cannot hold {resources}")
        self._apply(consumer, Allocation(provider, dict(resources)))

    def release(self, consumer: str) -> Allocation | None:
        allocation = self.allocations.get(consumer)
        if allocation is not None:
            self._release(consumer, allocation)
        return allocation

    def move(self, old_consumer: str, new_consumer: str) -> None:
        """Hand an allocation to another consumer (a migration takes over the source share)."""
        allocation = self.allocations.pop(old_consumer, None)
        if allocation is None:
            return
        # Like placement's move_allocations: what the new consumer held is replaced.
        replaced = self.allocations.get(new_consumer)
        if replaced is not None:
            self._release(new_consumer, replaced)
        provider = self.providers[allocation.provider]
        provider.consumers.discard(old_consumer)
        provider.consumers.add(new_consumer)
        self.allocations[new_consumer] = allocation

    def usage(self, provider: str) -> dict[str, int]:
        return dict(self.providers[provider].usage)

    def _apply(self, consumer: str, allocation: Allocation) -> None:
        provider = self.providers[allocation.provider]
        for rc, amount in allocation.resources.items():
            provider.usage[rc] += amount
        provider.consumers.add(consumer)
        self.allocations[consumer] = allocation

    def _release(self, consumer: str, allocation: Allocation) -> None:
        provider = self.providers[allocation.provider]
        for rc, amount in allocation.resources.items():
            provider.usage[rc] -= amount
        provider.consumers.discard(consumer)
        del self.allocations[consumer]
