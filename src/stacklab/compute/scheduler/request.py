"""What is asked of the scheduler: nova's ``RequestSpec``, reduced to what the filters read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Server group policies (nova/objects/instance_group.py); the soft ones since microversion 2.15.
AFFINITY = "affinity"
ANTI_AFFINITY = "anti-affinity"
SOFT_AFFINITY = "soft-affinity"
SOFT_ANTI_AFFINITY = "soft-anti-affinity"
POLICIES = frozenset({AFFINITY, ANTI_AFFINITY, SOFT_AFFINITY, SOFT_ANTI_AFFINITY})


@dataclass(frozen=True, slots=True)
class FlavorSpec:
    vcpus: int
    memory_mb: int
    root_gb: int = 0
    ephemeral_gb: int = 0
    swap: int = 0  # MB, as nova's flavor field
    extra_specs: Mapping[str, str] = field(default_factory=dict)
    name: str = ""


@dataclass(frozen=True, slots=True)
class ServerGroupSpec:
    """The request's server group. Members already placed are read from the hosts'
    ``instances``; ``hosts`` adds hosts known to hold members (nova's ``InstanceGroup.hosts``)
    that the caller may not pass as HostStates."""

    uuid: str
    policy: str
    rules: Mapping[str, int] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"unknown server group policy {self.policy!r}")


@dataclass(frozen=True, slots=True)
class RequestSpec:
    flavor: FlavorSpec
    image_properties: Mapping[str, Any] = field(default_factory=dict)
    availability_zone: str | None = None
    # The API's os:scheduler_hints (group, different_host, same_host, ...).
    scheduler_hints: Mapping[str, Any] = field(default_factory=dict)
    group: ServerGroupSpec | None = None
    force_hosts: tuple[str, ...] = ()
    force_nodes: tuple[str, ...] = ()
    ignore_hosts: tuple[str, ...] = ()
    # Uuids of the instances being placed, in order; the scheduler records them on the
    # chosen hosts so that the next instance of the request sees its group siblings.
    instance_uuids: tuple[str, ...] = ()
    # A volume-backed server asks placement for no root disk.
    boot_from_volume: bool = False
    # The project the servers are for (AggregateMultiTenancyIsolation).
    project_id: str = ""

    @property
    def disk_gb(self) -> int:
        """DISK_GB asked of placement: root (unless volume-backed) + ephemeral + swap,
        swap rounded up to whole GB as nova's ``resources_from_flavor`` does."""
        root = 0 if self.boot_from_volume else self.flavor.root_gb
        return root + self.flavor.ephemeral_gb + (self.flavor.swap + 1023) // 1024

    def hint_list(self, name: str) -> tuple[str, ...]:
        """A scheduler hint that may be given once (a string) or several times (a list)."""
        value = self.scheduler_hints.get(name)
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        return tuple(str(v) for v in value)


def parse_availability_zone(value: str | None) -> tuple[str | None, str | None, str | None]:
    """Split the admin-only ``az:host:node`` / ``az::node`` / ``az:host`` forms of
    ``availability_zone`` into (zone, forced host, forced node), as nova-api does
    (nova/compute/api.py ``parse_availability_zone``). An empty zone is None:
    ``[DEFAULT] default_schedule_zone`` defaults to None, i.e. any zone."""
    forced_host: str | None = None
    forced_node: str | None = None
    zone = value
    if value and ":" in value:
        colons = value.count(":")
        if colons == 1:
            zone, forced_host = value.split(":")
        elif colons == 2 and "::" in value:
            zone, forced_node = value.split("::")
        elif colons == 2:
            zone, forced_host, forced_node = value.split(":")
        else:
            raise ValueError("Unable to parse availability_zone")
    return (zone or None, forced_host or None, forced_node or None)
