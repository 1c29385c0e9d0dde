"""nova-scheduler's decision, as a pure function of a request and the hosts' states.

The flow is nova's ``SchedulerManager._schedule``: placement's pre-filtering,
then per instance of the request: filter, weigh, take the best host (or a
random one among the ``host_subset_size`` best), and account the instance on
that host so that the next instance of the same request sees it. The input
HostStates are never changed: a chosen host is replaced, in the working list,
by a copy that carries the consumption.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from stacklab.compute.scheduler.filters import (
    DEFAULT_ENABLED_FILTERS,
    FILTERS,
    ComputeFilter,
    HostFilter,
    ImagePropertiesFilter,
    RequestState,
    ResourcesFilter,
)
from stacklab.compute.scheduler.hosts import HostState
from stacklab.compute.scheduler.request import AFFINITY, RequestSpec
from stacklab.compute.scheduler.weighers import (
    DEFAULT_WEIGHERS,
    WEIGHERS,
    HostWeigher,
    weigh_hosts,
)
from stacklab.ids import IdSource

# nova/scheduler/manager.py ``_ensure_sufficient_hosts``: the only reason nova gives,
# whichever filter emptied the list.
NOT_ENOUGH_HOSTS = "There are not enough hosts available."


class NoValidHost(Exception):
    """nova's NoValidHost: "No valid host was found. %(reason)s"."""

    def __init__(self, reason: str = NOT_ENOUGH_HOSTS) -> None:
        self.reason = reason
        super().__init__(f"No valid host was found. {reason}")


class Scheduler:
    """Options are nova's ``[filter_scheduler]`` ones, with nova's defaults.

    ``multipliers`` maps a weigher's option name (``ram_weight_multiplier``, ...) to its
    value. ``ids`` is needed only with ``host_subset_size`` > 1, to choose at random among
    the best hosts; with the default of 1 the choice is deterministic.
    """

    def __init__(self, *, enabled_filters: Sequence[str] = DEFAULT_ENABLED_FILTERS,
                 weight_classes: Sequence[str] = DEFAULT_WEIGHERS,
                 multipliers: Mapping[str, float] | None = None,
                 host_subset_size: int = 1,
                 image_properties_default_architecture: str | None = None,
                 ids: IdSource | None = None) -> None:
        if host_subset_size < 1:
            raise ValueError("host_subset_size must be at least 1")
        if host_subset_size > 1 and ids is None:
            raise ValueError("host_subset_size > 1 needs an IdSource to choose at random")
        unknown = [name for name in enabled_filters if name not in FILTERS]
        if unknown:
            # nova: SchedulerHostFilterNotFound
            raise ValueError(f"Scheduler Host Filter {', '.join(unknown)} could not be found.")
        self.filters: list[HostFilter] = [
            ImagePropertiesFilter(image_properties_default_architecture)
            if name == ImagePropertiesFilter.name else FILTERS[name]()
            for name in enabled_filters]
        multipliers = multipliers or {}
        self.weighers: list[HostWeigher] = []
        for name in weight_classes:
            cls = WEIGHERS[name]
            self.weighers.append(cls(multipliers.get(cls.option)))
        self.host_subset_size = host_subset_size
        self.ids = ids
        self._compute_filter_enabled = any(isinstance(f, ComputeFilter) for f in self.filters)
        self._resources = ResourcesFilter()

    @staticmethod
    def _placement_pass(hosts: Sequence[HostState], state: RequestState,
                        compute_filter: bool) -> list[HostState]:
        """What placement returns before nova's filters run: hosts of the requested zone
        (``map_az_to_placement_aggregate``), not disabled (``compute_status_filter``),
        with room for the flavor (ResourcesFilter); with ``compute_filter``, also up.
        One comprehension: this is the only pass that sees every host."""
        vcpus, memory, disk = ResourcesFilter.wanted(state)
        zone = state.spec.availability_zone
        if compute_filter:
            if zone is None:
                return [h for h in hosts if h.usable and h.room_memory_mb >= memory
                        and h.room_vcpus >= vcpus and h.room_disk_gb >= disk]
            return [h for h in hosts if h.usable and h.availability_zone == zone
                    and h.room_memory_mb >= memory and h.room_vcpus >= vcpus
                    and h.room_disk_gb >= disk]
        if zone is None:
            return [h for h in hosts if not h.service_disabled and h.room_memory_mb >= memory
                    and h.room_vcpus >= vcpus and h.room_disk_gb >= disk]
        return [h for h in hosts if not h.service_disabled and h.availability_zone == zone
                and h.room_memory_mb >= memory and h.room_vcpus >= vcpus
                and h.room_disk_gb >= disk]

    def select_destinations(self, request: RequestSpec, hosts: Sequence[HostState],
                            num_instances: int = 1) -> list[HostState]:
        """One host per instance, in order (a host may appear more than once).

        Returns the caller's HostState objects, unchanged. Raises NoValidHost when any
        instance finds no host; then nothing is placed, as nova removes the allocations
        of the request's instances already claimed.
        """
        if num_instances < 1:
            raise ValueError("num_instances must be at least 1")
        state = RequestState(request)
        group = request.group
        if group is not None and group.policy == AFFINITY:
            gid = group.uuid
            state.group_hosts = set(group.hosts)
            state.group_hosts.update(h.host for h in hosts if gid in h.group_counts)

        # nova skips every filter when hosts or nodes are forced (placement still applies).
        forced = bool(request.force_hosts or request.force_nodes)
        # ComputeFilter's verdict does not depend on the other filters, so when it is to
        # run it joins placement's pass over all the hosts (one pass instead of two).
        early_compute = not forced and self._compute_filter_enabled
        candidates = self._placement_pass(hosts, state, early_compute)
        candidates = self._ignore_and_force(candidates, request)

        originals: dict[int, HostState] = {}
        chosen_hosts: list[HostState] = []
        for index in range(num_instances):
            state.index = index
            if not forced:
                for host_filter in self.filters:
                    if index and host_filter.run_filter_once_per_request:
                        continue
                    if early_compute and isinstance(host_filter, ComputeFilter):
                        continue
                    candidates = host_filter.filter_all(candidates, state)
                    if not candidates:
                        break
            if not candidates:
                raise NoValidHost()
            weights = weigh_hosts(self.weighers, candidates, state)
            position = self._choose(weights)
            chosen = candidates[position]
            chosen_hosts.append(originals.get(id(chosen), chosen))
            if index + 1 < num_instances:
                candidates = self._after_choice(candidates, weights, position, state, originals)
        return chosen_hosts

    @staticmethod
    def _ignore_and_force(hosts: list[HostState], request: RequestSpec) -> list[HostState]:
        """``ignore_hosts`` first, then ``force_hosts`` (host names compare without case,
        as nova's host manager does) and ``force_nodes`` (exact)."""
        if request.ignore_hosts:
            ignored = {name.lower() for name in request.ignore_hosts}
            hosts = [h for h in hosts if h.host.lower() not in ignored]
        if request.force_hosts:
            forced = {name.lower() for name in request.force_hosts}
            hosts = [h for h in hosts if h.host.lower() in forced]
        if request.force_nodes:
            nodes = set(request.force_nodes)
            hosts = [h for h in hosts if h.nodename in nodes]
        return hosts

    def _choose(self, weights: list[float]) -> int:
        """The position of the chosen host: the first of the heaviest, or with
        ``host_subset_size`` > 1 a random one of that many heaviest."""
        if self.host_subset_size == 1 or len(weights) == 1:
            return max(range(len(weights)), key=weights.__getitem__)
        best = heapq.nlargest(self.host_subset_size, range(len(weights)),
                              key=weights.__getitem__)
        assert self.ids is not None
        return best[self.ids.randint(0, len(best) - 1)] if len(best) > 1 else best[0]

    def _after_choice(self, candidates: list[HostState], weights: list[float], position: int,
                      state: RequestState, originals: dict[int, HostState]) -> list[HostState]:
        """The candidates for the next instance: nova's order (chosen host first, then the
        others by weight; equal weights keep their order, which decides later ties), with
        the chosen host's usage increased by this instance."""
        chosen = candidates[position]
        if id(chosen) not in originals:
            clone = chosen.copy()
            originals[id(clone)] = chosen
            chosen = clone
        spec = state.spec
        uuids = spec.instance_uuids
        group = spec.group
        chosen.consume(spec.flavor.vcpus, spec.flavor.memory_mb, spec.disk_gb,
                       uuids[state.index] if state.index < len(uuids) else None,
                       group.uuid if group is not None else None)
        if group is not None and group.policy == AFFINITY:
            state.group_hosts.add(chosen.host)
        order = sorted(range(len(candidates)), key=weights.__getitem__, reverse=True)
        following = [chosen]
        following.extend(candidates[i] for i in order if i != position)
        # Placement would refuse the claim of the next instance on a host now too full.
        if not self._resources.host_passes(chosen, state):
            following.pop(0)
        return following
