"""Host filters: nova's ``[filter_scheduler] enabled_filters`` and placement's part.

Every filter works on a whole list (``filter_all``) so that a filter with
nothing to check for a request (no group, no image property, no capability
extra spec) returns the list untouched instead of visiting 10,000 hosts, and
one that must check each host does it in one comprehension over plain
attributes. ``host_passes`` gives the verdict for one host, for tests and
for callers that want to explain a refusal.

Run order, as in nova: first what placement does before nova sees a host
(``ResourcesFilter`` for VCPU / MEMORY_MB / DISK_GB, ``AvailabilityZoneFilter``
which nova now runs as the ``map_az_to_placement_aggregate`` request filter,
and the ``COMPUTE_STATUS_DISABLED`` trait that hides disabled computes), then
``ignore_hosts`` / ``force_hosts``, then the enabled filters.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stacklab.compute.scheduler.hosts import HostState
from stacklab.compute.scheduler.request import AFFINITY, ANTI_AFFINITY, RequestSpec


@dataclass(slots=True)
class RequestState:
    """A request while it is scheduled: which instance of it (``index``) and which hosts
    hold members of its server group, including the ones chosen so far."""

    spec: RequestSpec
    index: int = 0
    group_hosts: set[str] = field(default_factory=set)


class HostFilter:
    """One filter. Subclasses define ``host_passes`` and may specialise ``filter_all``."""

    name: ClassVar[str] = "HostFilter"
    # nova's ``run_filter_once_per_request``: what the filter reads does not change
    # between the instances of one request, so it only runs for the first.
    run_filter_once_per_request: ClassVar[bool] = False

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        raise NotImplementedError

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        passes = self.host_passes
        return [h for h in hosts if passes(h, state)]


class ResourcesFilter(HostFilter):
    """Placement's allocation-candidates check on VCPU, MEMORY_MB and DISK_GB.

    Not a nova filter: since Queens the RamFilter/CoreFilter/DiskFilter are gone and
    placement returns only providers with room. A zero amount is not asked for, so it
    does not exclude an over-committed host.
    """

    name = "ResourcesFilter"

    @staticmethod
    def wanted(state: RequestState) -> tuple[float, float, float]:
        """The VCPU, MEMORY_MB and DISK_GB amounts, -inf for one not asked for."""
        spec = state.spec
        # -inf: a class the request does not ask for cannot exclude a host.
        vcpus = spec.flavor.vcpus or -math.inf
        memory = spec.flavor.memory_mb or -math.inf
        disk = spec.disk_gb or -math.inf
        return vcpus, memory, disk

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        vcpus, memory, disk = self.wanted(state)
        return (host.room_vcpus >= vcpus and host.room_memory_mb >= memory
                and host.room_disk_gb >= disk)

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        vcpus, memory, disk = self.wanted(state)
        return [h for h in hosts if h.room_memory_mb >= memory and h.room_vcpus >= vcpus
                and h.room_disk_gb >= disk]


class AvailabilityZoneFilter(HostFilter):
    """Keep the hosts of the requested zone; no zone asked, any host.

    In the default list until Xena; nova now maps the zone to a placement aggregate
    before filtering (``map_az_to_placement_aggregate``), with the same outcome.
    """

    name = "AvailabilityZoneFilter"
    run_filter_once_per_request = True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        zone = state.spec.availability_zone
        return zone is None or host.availability_zone == zone

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        zone = state.spec.availability_zone
        if zone is None:
            return hosts
        return [h for h in hosts if h.availability_zone == zone]


class DisabledComputeFilter(HostFilter):
    """Placement's side of a disabled service: nova tags the compute node's provider with
    the ``COMPUTE_STATUS_DISABLED`` trait and the ``compute_status_filter`` request
    filter forbids it, so even ``force_hosts`` cannot reach a disabled host (a down but
    enabled one it can)."""

    name = "DisabledComputeFilter"
    run_filter_once_per_request = True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        return not host.service_disabled

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        return [h for h in hosts if not h.service_disabled]


class ComputeFilter(HostFilter):
    """Only enabled services that are up: nova logs "<host> has not been heard from in a
    while" for a service silent for more than ``service_down_time``, and a forced-down
    service is never up."""

    name = "ComputeFilter"
    run_filter_once_per_request = True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        return host.usable

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        return [h for h in hosts if h.usable]


# The operators of nova's extra_specs_ops: numeric ones compare as floats, ``s``-prefixed
# ones as strings; ``=`` means "at least".
_OPERATORS: Mapping[str, Callable[[str, str], bool]] = {
    "=": lambda value, want: float(value) >= float(want),
    "==": lambda value, want: float(value) == float(want),
    "!=": lambda value, want: float(value) != float(want),
    ">=": lambda value, want: float(value) >= float(want),
    "<=": lambda value, want: float(value) <= float(want),
    "<in>": lambda value, want: want in value,
    "s==": operator.eq, "s!=": operator.ne, "s<": operator.lt, "s<=": operator.le,
    "s>": operator.gt, "s>=": operator.ge,
}


def match_extra_spec(value: str, requirement: str) -> bool:
    """Does a host's capability ``value`` satisfy a flavor extra spec ``requirement``?

    Same language as nova's extra_specs_ops: a leading operator word, ``<or>``
    alternatives, ``<all-in>`` lists; a requirement without an operator is an exact
    string match. A malformed number fails the match instead of raising.
    """
    words = requirement.split()
    if not words:
        return value == requirement
    op, rest = words[0], words[1:]
    if op == "<or>":
        # "<or> a <or> b": every other word is an alternative.
        return value in rest[0::2]
    if op == "<all-in>":
        return bool(rest) and all(word in value for word in rest)
    method = _OPERATORS.get(op)
    if method is None:
        return value == requirement
    if not rest:
        return False
    try:
        return method(value, rest[0])
    except ValueError:
        return False


# HostState attributes a capability may name, under nova's HostState names.
_CAPABILITY_ATTRIBUTES: Mapping[str, Callable[[HostState], Any]] = {
    "host": lambda h: h.host,
    "nodename": lambda h: h.nodename,
    "hypervisor_hostname": lambda h: h.nodename,
    "hypervisor_type": lambda h: h.hypervisor_type,
    "hypervisor_version": lambda h: h.hypervisor_version,
    "cpu_info": lambda h: h.cpu_info,
    "vcpus_total": lambda h: h.vcpus,
    "vcpus_used": lambda h: h.vcpus_used + h.reserved_vcpus,
    "free_ram_mb": lambda h: h.free_ram_mb,
    "free_disk_mb": lambda h: h.free_disk_mb,
    "total_usable_ram_mb": lambda h: h.memory_mb,
    "total_usable_disk_gb": lambda h: h.disk_gb,
    "num_instances": lambda h: h.num_instances,
    "supported_instances": lambda h: h.supported_instances,
}


# Attributes whose values can key a dict (cpu_info is a mapping).
_HASHABLE_CAPABILITIES = frozenset(_CAPABILITY_ATTRIBUTES) - {"cpu_info"}


def _capability(host: HostState, scope: Sequence[str]) -> Any:
    """Walk ``scope`` (``cpu_info:arch`` -> ["cpu_info", "arch"]) through the host's
    attributes, then its stats, then nested mappings (JSON text is decoded on the
    way, as nova's cpu_info is JSON). None when any step is missing."""
    first = scope[0]
    getter = _CAPABILITY_ATTRIBUTES.get(first)
    cap: Any = getter(host) if getter is not None else host.stats.get(first)
    for key in scope[1:]:
        if isinstance(cap, str):
            try:
                cap = json.loads(cap)
            except ValueError:
                return None
        if not isinstance(cap, Mapping):
            return None
        cap = cap.get(key)
        if cap is None:
            return None
    return cap


class ComputeCapabilitiesFilter(HostFilter):
    """Flavor extra specs in the ``capabilities:`` scope must match the host.

    As nova: an unscoped key counts only if the host has such an attribute or stat
    (older flavors wrote ``hypervisor_type`` bare); keys of other scopes (``hw:``,
    ``quota:``, ``resources:``, ...) are somebody else's business.
    """

    name = "ComputeCapabilitiesFilter"
    run_filter_once_per_request = True

    @staticmethod
    def _requirements(state: RequestState) -> list[tuple[list[str], str, bool]]:
        reqs = []
        for key, want in state.spec.flavor.extra_specs.items():
            scope = key.split(":")
            if len(scope) == 1:
                reqs.append((scope, str(want), True))
            elif scope[0] == "capabilities":
                reqs.append((scope[1:], str(want), False))
        return reqs

    @staticmethod
    def _satisfies(host: HostState, reqs: list[tuple[list[str], str, bool]]) -> bool:
        for scope, want, optional in reqs:
            if optional and scope[0] not in _CAPABILITY_ATTRIBUTES \
                    and scope[0] not in host.stats:
                continue
            cap = _capability(host, scope)
            if cap is None or not match_extra_spec(str(cap), want):
                return False
        return True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        return self._satisfies(host, self._requirements(state))

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        reqs = self._requirements(state)
        if not reqs:
            return hosts
        simple = [(_CAPABILITY_ATTRIBUTES[scope[0]], want) for scope, want, _ in reqs
                  if len(scope) == 1 and scope[0] in _HASHABLE_CAPABILITIES]
        if len(simple) != len(reqs):
            return [h for h in hosts if self._satisfies(h, reqs)]
        # The common case, a plain host attribute (hypervisor_type, ...): many hosts share
        # each value, so each (requirement, value) is matched once.
        for getter, want in simple:
            verdicts: dict[Any, bool] = {}
            kept = []
            for h in hosts:
                value = getter(h)
                verdict = verdicts.get(value)
                if verdict is None:
                    verdict = verdicts[value] = value is not None and match_extra_spec(
                        str(value), want)
                if verdict:
                    kept.append(h)
            hosts = kept
        return hosts


def _canonical_arch(name: str | None) -> str | None:
    if name is None:
        return None
    arch = name.lower()
    if arch in ("i386", "i486", "i586", "x86_32", "x86_32p"):
        return "i686"
    return "x86_64" if arch == "amd64" else arch


def _canonical_hv_type(name: str | None) -> str | None:
    if name is None:
        return None
    hv_type = name.lower()
    return "xen" if hv_type == "xapi" else hv_type


def _canonical_vm_mode(name: str | None) -> str | None:
    if name is None:
        return None
    mode = name.lower()
    return {"pv": "xen", "hv": "hvm", "baremetal": "hvm"}.get(mode, mode)


class ImagePropertiesFilter(HostFilter):
    """The image's ``hw_architecture``, ``img_hv_type`` and ``hw_vm_mode`` must be one of
    the host's ``supported_instances`` triples (names canonicalised as nova does:
    amd64 -> x86_64, i386 -> i686, xapi -> xen, pv -> xen, hv -> hvm).
    ``[filter_scheduler] image_properties_default_architecture`` defaults to None."""

    name = "ImagePropertiesFilter"
    run_filter_once_per_request = True

    def __init__(self, default_architecture: str | None = None) -> None:
        self.default_architecture = default_architecture

    def _wanted(self, state: RequestState) -> tuple[str | None, str | None, str | None]:
        props = state.spec.image_properties
        return (_canonical_arch(props.get("hw_architecture", self.default_architecture)),
                _canonical_hv_type(props.get("img_hv_type")),
                _canonical_vm_mode(props.get("hw_vm_mode")))

    @staticmethod
    def _supported(host: HostState, wanted: tuple[str | None, str | None, str | None]) -> bool:
        for triple in host.supported_instances:
            if all(w is None or w in triple for w in wanted):
                return True
        return False

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        wanted = self._wanted(state)
        return not any(wanted) or self._supported(host, wanted)

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        wanted = self._wanted(state)
        if not any(wanted):
            return hosts
        # Hosts of one kind share their supported_instances tuple: judge each tuple once.
        verdicts: dict[tuple[tuple[str, str, str], ...], bool] = {}
        kept = []
        for h in hosts:
            triples = h.supported_instances
            verdict = verdicts.get(triples)
            if verdict is None:
                verdict = verdicts[triples] = any(
                    all(w is None or w in triple for w in wanted) for triple in triples)
            if verdict:
                kept.append(h)
        return kept


class ServerGroupAntiAffinityFilter(HostFilter):
    """For an ``anti-affinity`` group, a host may hold fewer than ``max_server_per_host``
    members (rule since microversion 2.64; 1 without it)."""

    name = "ServerGroupAntiAffinityFilter"

    @staticmethod
    def _limit(state: RequestState) -> tuple[str, int] | None:
        group = state.spec.group
        if group is None or group.policy != ANTI_AFFINITY:
            return None
        return group.uuid, int(group.rules.get("max_server_per_host", 1))

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        limit = self._limit(state)
        return limit is None or host.group_counts.get(limit[0], 0) < limit[1]

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        limit = self._limit(state)
        if limit is None:
            return hosts
        group, most = limit
        return [h for h in hosts if h.group_counts.get(group, 0) < most]


class ServerGroupAffinityFilter(HostFilter):
    """For an ``affinity`` group that already has members, only their hosts; the first
    member may go anywhere."""

    name = "ServerGroupAffinityFilter"

    @staticmethod
    def _hosts(state: RequestState) -> set[str] | None:
        group = state.spec.group
        if group is None or group.policy != AFFINITY or not state.group_hosts:
            return None
        return state.group_hosts

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        wanted = self._hosts(state)
        return wanted is None or host.host in wanted

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        wanted = self._hosts(state)
        if wanted is None:
            return hosts
        return [h for h in hosts if h.host in wanted]


class DifferentHostFilter(HostFilter):
    """``different_host`` hint: none of the listed instances on the host. Not in nova's
    default list; inert without the hint."""

    name = "DifferentHostFilter"
    run_filter_once_per_request = True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        uuids = state.spec.hint_list("different_host")
        return not any(u in host.instances for u in uuids)

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        if not state.spec.hint_list("different_host"):
            return hosts
        return super().filter_all(hosts, state)


class SameHostFilter(HostFilter):
    """``same_host`` hint: at least one of the listed instances on the host. Not in nova's
    default list; inert without the hint."""

    name = "SameHostFilter"
    run_filter_once_per_request = True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        uuids = state.spec.hint_list("same_host")
        return not uuids or any(u in host.instances for u in uuids)

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        if not state.spec.hint_list("same_host"):
            return hosts
        return super().filter_all(hosts, state)


# The scope of the flavor extra specs AggregateInstanceExtraSpecsFilter matches.
AGGREGATE_SCOPE = "aggregate_instance_extra_specs"


class AggregateInstanceExtraSpecsFilter(HostFilter):
    """Flavor extra specs must be matched by the metadata of the host's aggregates.

    As nova: keys in the ``aggregate_instance_extra_specs:`` scope and unscoped keys
    count (a host whose aggregates lack the key fails), keys of other scopes do not;
    each value is matched with the extra-specs operators, any aggregate value passing.
    """

    name = "AggregateInstanceExtraSpecsFilter"
    run_filter_once_per_request = True

    @staticmethod
    def _requirements(state: RequestState) -> list[tuple[str, str]]:
        reqs = []
        for key, want in state.spec.flavor.extra_specs.items():
            scope, _, rest = key.partition(":")
            if not rest:
                reqs.append((key, str(want)))
            elif scope == AGGREGATE_SCOPE:
                reqs.append((rest, str(want)))
        return reqs

    @staticmethod
    def _satisfies(host: HostState, reqs: list[tuple[str, str]]) -> bool:
        for key, want in reqs:
            values = host.aggregate_metadata.get(key)
            if not values or not any(match_extra_spec(v, want) for v in values):
                return False
        return True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        return self._satisfies(host, self._requirements(state))

    def filter_all(self, hosts: list[HostState], state: RequestState) -> list[HostState]:
        reqs = self._requirements(state)
        if not reqs:
            return hosts
        return [h for h in hosts if self._satisfies(h, reqs)]


class AggregateMultiTenancyIsolation(HostFilter):
    """A host in aggregates with ``filter_tenant_id*`` metadata takes only those projects'
    servers (comma-separated ids, any key starting ``filter_tenant_id``); other hosts
    take anyone's."""

    name = "AggregateMultiTenancyIsolation"
    run_filter_once_per_request = True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        allowed: set[str] = set()
        for key, values in host.aggregate_metadata.items():
            if key.startswith("filter_tenant_id"):
                allowed.update(values)
        return not allowed or state.spec.project_id in allowed


class AggregateTypeAffinityFilter(HostFilter):
    """A host in aggregates with ``instance_type`` metadata takes only the flavors it names
    (comma-separated); other hosts take any flavor."""

    name = "AggregateTypeAffinityFilter"
    run_filter_once_per_request = True

    def host_passes(self, host: HostState, state: RequestState) -> bool:
        names = host.aggregate_metadata.get("instance_type")
        return not names or state.spec.flavor.name in names


FILTERS: Mapping[str, type[HostFilter]] = {cls.name: cls for cls in (
    ComputeFilter, AvailabilityZoneFilter, ComputeCapabilitiesFilter, ImagePropertiesFilter,
    ServerGroupAntiAffinityFilter, ServerGroupAffinityFilter, DifferentHostFilter,
    SameHostFilter, AggregateInstanceExtraSpecsFilter, AggregateMultiTenancyIsolation,
    AggregateTypeAffinityFilter)}

# [filter_scheduler] enabled_filters default (nova/conf/scheduler.py).
DEFAULT_ENABLED_FILTERS: tuple[str, ...] = (
    "ComputeFilter", "ComputeCapabilitiesFilter", "ImagePropertiesFilter",
    "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter",
)
