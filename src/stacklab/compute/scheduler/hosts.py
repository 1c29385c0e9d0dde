"""What the scheduler knows about one hypervisor: nova's ``HostState``, as plain data.

Capacity follows placement's inventory arithmetic, because since Queens it is
placement, not a filter, that decides whether a flavor fits: a resource class's
capacity is ``int((total - reserved) * allocation_ratio)`` and a request fits
while ``used + amount <= capacity`` and ``amount <= max_unit`` (the libvirt
driver reports ``max_unit = total`` for VCPU, MEMORY_MB and DISK_GB, so one
instance can never be bigger than the host, whatever the ratio).

The weighers, on the other hand, still read the compute node's own figures,
which nova computes differently (nova/compute/resource_tracker.py): the
resource tracker starts ``memory_mb_used`` at ``reserved_host_memory_mb``,
``vcpus_used`` at ``reserved_host_cpus`` and ``local_gb_used`` at
``reserved_host_disk_mb``, and the RAM and disk weighers ignore allocation
ratios while the CPU weigher applies ``cpu_allocation_ratio``. Both views are
kept here as plain attributes, recomputed only when usage changes, so that a
filter or weigher pass over 10,000 hosts reads attributes and calls nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# nova/conf/compute.py defaults. The ``*_allocation_ratio`` options default to
# None and a new compute node's inventory then takes ``initial_*_allocation_ratio``.
INITIAL_CPU_ALLOCATION_RATIO = 4.0   # initial_cpu_allocation_ratio
INITIAL_RAM_ALLOCATION_RATIO = 1.0   # initial_ram_allocation_ratio
INITIAL_DISK_ALLOCATION_RATIO = 1.0  # initial_disk_allocation_ratio
RESERVED_HOST_MEMORY_MB = 512        # reserved_host_memory_mb
RESERVED_HOST_CPUS = 0               # reserved_host_cpus
RESERVED_HOST_DISK_MB = 0            # reserved_host_disk_mb (placement rounds it up to GB)

# What an x86_64 libvirt/KVM compute reports as ``supported_instances``
# (architecture, hypervisor type, vm mode): both guest architectures, each
# with the kvm and the plain qemu domain types.
DEFAULT_SUPPORTED_INSTANCES: tuple[tuple[str, str, str], ...] = (
    ("i686", "qemu", "hvm"), ("i686", "kvm", "hvm"),
    ("x86_64", "qemu", "hvm"), ("x86_64", "kvm", "hvm"),
)


@dataclass(slots=True, eq=False)
class HostState:
    """One compute node as the scheduler sees it at the start of a request.

    ``instances`` maps each instance uuid on the host to the uuid of its server
    group (None when it has none): nova's filters and weighers count a group's
    members per host, so the membership travels with the host.
    """

    host: str
    availability_zone: str = "nova"  # [DEFAULT] default_availability_zone
    vcpus: int = 0
    memory_mb: int = 0
    disk_gb: int = 0
    reserved_vcpus: int = RESERVED_HOST_CPUS
    reserved_memory_mb: int = RESERVED_HOST_MEMORY_MB
    reserved_disk_gb: int = (RESERVED_HOST_DISK_MB + 1023) // 1024
    cpu_allocation_ratio: float = INITIAL_CPU_ALLOCATION_RATIO
    ram_allocation_ratio: float = INITIAL_RAM_ALLOCATION_RATIO
    disk_allocation_ratio: float = INITIAL_DISK_ALLOCATION_RATIO
    # Usage by instances (placement's allocations), not counting the reserved part.
    vcpus_used: int = 0
    memory_mb_used: int = 0
    disk_gb_used: int = 0
    instances: dict[str, str | None] = field(default_factory=dict)
    # Instances the caller counts without listing them; ``num_instances`` is
    # never below ``len(instances)``.
    num_instances: int = 0
    # The nova-compute service: ``service_up`` is the service group's verdict
    # (heartbeat within service_down_time); forced down is never up.
    service_up: bool = True
    service_disabled: bool = False
    forced_down: bool = False
    nodename: str = ""
    hypervisor_type: str = "QEMU"  # what libvirt reports for kvm and qemu alike
    hypervisor_version: int = 8002000
    supported_instances: tuple[tuple[str, str, str], ...] = DEFAULT_SUPPORTED_INSTANCES
    cpu_info: Mapping[str, Any] = field(default_factory=dict)
    stats: Mapping[str, str] = field(default_factory=dict)
    # The metadata of the host's aggregates, each key with every value it takes there
    # (comma-separated values split): what nova's aggregate filters read.
    aggregate_metadata: Mapping[str, frozenset[str]] = field(default_factory=dict)

    # Derived (recomputed by refresh()).
    capacity_vcpus: int = field(init=False, default=0)
    capacity_memory_mb: int = field(init=False, default=0)
    capacity_disk_gb: int = field(init=False, default=0)
    free_vcpus: int = field(init=False, default=0)
    free_memory_mb: int = field(init=False, default=0)
    free_disk_gb: int = field(init=False, default=0)
    # The largest amount one more instance may ask for: min(free, max_unit).
    room_vcpus: int = field(init=False, default=0)
    room_memory_mb: int = field(init=False, default=0)
    room_disk_gb: int = field(init=False, default=0)
    # The compute node's figures the weighers read (see the module docstring).
    free_ram_mb: int = field(init=False, default=0)
    free_disk_mb: int = field(init=False, default=0)
    weigher_vcpus_free: float = field(init=False, default=0.0)
    # server group uuid -> members of it on this host.
    group_counts: dict[str, int] = field(init=False, default_factory=dict)
    # ComputeFilter's verdict: enabled and up.
    usable: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        if not self.nodename:
            self.nodename = self.host
        self.num_instances = max(self.num_instances, len(self.instances))
        counts: dict[str, int] = {}
        for group in self.instances.values():
            if group is not None:
                counts[group] = counts.get(group, 0) + 1
        self.group_counts = counts
        self.refresh()

    def refresh(self) -> None:
        """Recompute the derived figures after a change of totals, ratios, usage or service."""
        self.capacity_vcpus = int((self.vcpus - self.reserved_vcpus) * self.cpu_allocation_ratio)
        self.capacity_memory_mb = int(
            (self.memory_mb - self.reserved_memory_mb) * self.ram_allocation_ratio)
        self.capacity_disk_gb = int(
            (self.disk_gb - self.reserved_disk_gb) * self.disk_allocation_ratio)
        self.free_vcpus = self.capacity_vcpus - self.vcpus_used
        self.free_memory_mb = self.capacity_memory_mb - self.memory_mb_used
        self.free_disk_gb = self.capacity_disk_gb - self.disk_gb_used
        self.room_vcpus = min(self.free_vcpus, self.vcpus)
        self.room_memory_mb = min(self.free_memory_mb, self.memory_mb)
        self.room_disk_gb = min(self.free_disk_gb, self.disk_gb)
        self.free_ram_mb = self.memory_mb - self.reserved_memory_mb - self.memory_mb_used
        self.free_disk_mb = (self.disk_gb - self.reserved_disk_gb - self.disk_gb_used) * 1024
        self.weigher_vcpus_free = (self.vcpus * self.cpu_allocation_ratio
                                   - self.reserved_vcpus - self.vcpus_used)
        self.usable = self.service_up and not self.service_disabled and not self.forced_down

    def consume(self, vcpus: int, memory_mb: int, disk_gb: int,
                instance_uuid: str | None = None, group: str | None = None) -> None:
        """Account one more instance, as nova's ``consume_from_request`` does between the
        instances of one multi-create request."""
        self.vcpus_used += vcpus
        self.memory_mb_used += memory_mb
        self.disk_gb_used += disk_gb
        self.num_instances += 1
        if instance_uuid is not None:
            self.instances[instance_uuid] = group
        if group is not None:
            self.group_counts[group] = self.group_counts.get(group, 0) + 1
        self.refresh()

    def copy(self) -> HostState:
        """A copy whose usage can change without touching this one."""
        clone = copy.copy(self)
        clone.instances = dict(self.instances)
        clone.group_counts = dict(self.group_counts)
        return clone

    def __repr__(self) -> str:
        return (f"HostState({self.host!r}, az={self.availability_zone!r}, "
                f"free_vcpus={self.free_vcpus}, free_memory_mb={self.free_memory_mb}, "
                f"free_disk_gb={self.free_disk_gb}, instances={self.num_instances}, "
                f"usable={self.usable})")
