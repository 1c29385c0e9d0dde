"""neutron.conf's scheduling options, with upstream's defaults and the checks neutron-server
makes on them at start-up."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from stacklab.network.scheduling.constants import L3_HA_NET_CIDR

DHCP_SCHEDULER_DRIVERS = ("WeightScheduler", "ChanceScheduler", "AZAwareWeightScheduler")
L3_SCHEDULER_DRIVERS = ("LeastRoutersScheduler", "ChanceScheduler", "AZLeastRoutersScheduler")

# What oslo.config logged for the option in Newton (deprecated_for_removal), with the
# reason taken from neutron's Ocata release note (commit dd5aca38f9).
MIN_L3_AGENTS_DEPRECATION = (
    'Option "min_l3_agents_per_router" from group "DEFAULT" is deprecated for removal '
    "(removed from neutron in Ocata: HA routers no longer require a minimal number of "
    "L3 agents to be created).  Its value may be silently ignored in the future.")


class ConfigurationError(ValueError):
    """An option value neutron-server would refuse to start with."""


def _driver_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class SchedulingOptions:
    """neutron.conf's scheduling options, with upstream's defaults.

    Driver options take neutron's dotted paths or the bare class names.
    """

    # neutron/conf/agent/database/agents_db.py
    agent_down_time: int = 75
    # neutron/conf/agent/common.py [AGENT] report_interval (agent side; for reference).
    report_interval: float = 30.0
    # neutron/conf/agent/database/agentschedulers_db.py
    network_scheduler_driver: str = "neutron.scheduler.dhcp_agent_scheduler.WeightScheduler"
    network_auto_schedule: bool = True
    allow_automatic_dhcp_failover: bool = True
    dhcp_agents_per_network: int = 1
    enable_services_on_agents_with_admin_state_down: bool = False
    # neutron/conf/db/l3_agentschedulers_db.py
    router_scheduler_driver: str = "neutron.scheduler.l3_agent_scheduler.LeastRoutersScheduler"
    router_auto_schedule: bool = True
    allow_automatic_l3agent_failover: bool = False
    # neutron/conf/db/l3_hamode_db.py
    l3_ha: bool = False
    max_l3_agents_per_router: int = 3
    l3_ha_net_cidr: str = L3_HA_NET_CIDR
    # neutron/conf/db/l3_dvr_db.py
    router_distributed: bool = False
    host_dvr_for_dhcp: bool = True
    # neutron/conf/common.py
    default_availability_zones: tuple[str, ...] = ()
    # Removed upstream in Ocata; accepted (the course's snippet sets it) and ignored.
    min_l3_agents_per_router: int | None = None

    def __post_init__(self) -> None:
        if self.agent_down_time < 1:
            raise ConfigurationError("agent_down_time must be at least 1")
        if self.dhcp_agents_per_network < 1:
            raise ConfigurationError("dhcp_agents_per_network must be at least 1")
        if self.max_l3_agents_per_router < 0:
            # neutron_lib/exceptions/l3_ext_ha_mode.py HAMaximumAgentsNumberNotValid
            raise ConfigurationError(
                f"max_l3_agents_per_router {self.max_l3_agents_per_router} config parameter "
                "is not valid as it cannot be negative. It must be 1 or greater. "
                "Alternatively, it can be 0 to mean unlimited.")
        if _driver_name(self.network_scheduler_driver) not in DHCP_SCHEDULER_DRIVERS:
            raise ConfigurationError(
                f"unknown network_scheduler_driver {self.network_scheduler_driver}")
        if _driver_name(self.router_scheduler_driver) not in L3_SCHEDULER_DRIVERS:
            raise ConfigurationError(
                f"unknown router_scheduler_driver {self.router_scheduler_driver}")
        # neutron/db/l3_hamode_db.py _verify_configuration: a network address with a prefix.
        try:
            ipaddress.ip_network(self.l3_ha_net_cidr, strict=True)
            valid = "/" in self.l3_ha_net_cidr
        except ValueError:
            valid = False
        if not valid:
            raise ConfigurationError(
                "The HA Network CIDR specified in the configuration file isn't valid; "
                f"{self.l3_ha_net_cidr}.")

    @property
    def agent_dead_limit(self) -> int:
        """Heartbeat age after which the failover workers move resources away (150 s)."""
        return self.agent_down_time * 2

    @property
    def status_check_interval(self) -> int:
        """Period of the failover workers: ``max(agent_down_time // 2, 1)`` (37 s)."""
        return max(self.agent_down_time // 2, 1)

    @property
    def status_check_initial_delay(self) -> tuple[int, int]:
        """Bounds of the workers' random first delay after server start ([37, 74] s)."""
        return self.status_check_interval, self.status_check_interval * 2

    def deprecation_warnings(self) -> list[str]:
        """Warnings to log at start-up for options neutron no longer has."""
        if self.min_l3_agents_per_router is None:
            return []
        return [MIN_L3_AGENTS_DEPRECATION]
