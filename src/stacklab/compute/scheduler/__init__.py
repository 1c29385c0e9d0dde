"""nova's filter scheduler as pure logic: hosts in, chosen hosts out (no I/O, no clock).

See ``scheduler.Scheduler.select_destinations``; the defaults are nova's
(``[filter_scheduler]`` enabled_filters, weigher multipliers, host_subset_size,
and the compute node's allocation ratios and reserved amounts).
"""

from stacklab.compute.scheduler.filters import (
    DEFAULT_ENABLED_FILTERS,
    FILTERS,
    HostFilter,
    RequestState,
    match_extra_spec,
)
from stacklab.compute.scheduler.hosts import HostState
from stacklab.compute.scheduler.request import (
    AFFINITY,
    ANTI_AFFINITY,
    SOFT_AFFINITY,
    SOFT_ANTI_AFFINITY,
    FlavorSpec,
    RequestSpec,
    ServerGroupSpec,
    parse_availability_zone,
)
from stacklab.compute.scheduler.scheduler import NOT_ENOUGH_HOSTS, NoValidHost, Scheduler
from stacklab.compute.scheduler.weighers import DEFAULT_WEIGHERS, WEIGHERS, HostWeigher

__all__ = [
    "AFFINITY", "ANTI_AFFINITY", "DEFAULT_ENABLED_FILTERS", "DEFAULT_WEIGHERS", "FILTERS",
    "NOT_ENOUGH_HOSTS", "SOFT_AFFINITY", "SOFT_ANTI_AFFINITY", "WEIGHERS", "FlavorSpec",
    "HostFilter", "HostState", "HostWeigher", "NoValidHost", "RequestSpec", "RequestState",
    "Scheduler", "ServerGroupSpec", "match_extra_spec", "parse_availability_zone",
]
