"""The errors neutron's agent scheduling raises, with neutron's type names and messages.

They are API errors (409 or 404), so a handler can let them through as they are.
"""

from __future__ import annotations

from stacklab.api.errors import ApiError, Conflict, NotFound
from stacklab.network.scheduling.constants import MAX_ALLOCATION_TRIES


class _NeutronConflict(Conflict):
    def __init__(self, message: str) -> None:
        super().__init__(message, kind=type(self).__name__)


class _NeutronNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message, kind=type(self).__name__)


class NoVRIDAvailable(_NeutronConflict):
    """neutron_lib/exceptions/l3_ext_ha_mode.py: the project's 254 VRIDs are all taken."""

    def __init__(self, router_id: str) -> None:
        super().__init__(
            "No more Virtual Router Identifier (VRID) available when creating router "
            f"{router_id}. The limit of number of HA Routers per project is 254.")


class MaxVRIDAllocationTriesReached(ApiError):
    """Only under concurrent allocations (10 duplicate-entry retries); never raised here."""

    def __init__(self, network_id: str, router_id: str) -> None:
        super().__init__(
            f"Failed to allocate a VRID in the network {network_id} for the router "
            f"{router_id} after {MAX_ALLOCATION_TRIES} tries.",
            kind="MaxVRIDAllocationTriesReached")


class AgentNotFound(_NeutronNotFound):
    def __init__(self, agent_id: str, message: str | None = None) -> None:
        super().__init__(message or f"Agent {agent_id} could not be found.")


class InvalidDHCPAgent(AgentNotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(
            agent_id, f"Agent {agent_id} is not a valid DHCP Agent or has been disabled.")


class InvalidL3Agent(AgentNotFound):
    def __init__(self, agent_id: str) -> None:
        super().__init__(agent_id, f"Agent {agent_id} is not a L3 Agent or has been disabled")


class NetworkHostedByDHCPAgent(_NeutronConflict):
    def __init__(self, network_id: str, agent_id: str) -> None:
        super().__init__(f"The network {network_id} has been already hosted by the DHCP "
                         f"Agent {agent_id}.")


class NetworkNotHostedByDhcpAgent(_NeutronConflict):
    def __init__(self, network_id: str, agent_id: str) -> None:
        super().__init__(f"The network {network_id} is not hosted by the DHCP Agent "
                         f"{agent_id}.")


class RouterHostedByL3Agent(_NeutronConflict):
    def __init__(self, router_id: str, agent_id: str) -> None:
        super().__init__(f"The router {router_id} has been already hosted by the L3 Agent "
                         f"{agent_id}.")


class RouterL3AgentMismatch(_NeutronConflict):
    def __init__(self, router_id: str, agent_id: str) -> None:
        super().__init__(f"Cannot host distributed router {router_id} on legacy L3 agent "
                         f"{agent_id}.")


class DVRL3CannotAssignToDvrAgent(_NeutronConflict):
    def __init__(self) -> None:
        super().__init__("Not allowed to manually assign a router to an agent in 'dvr' mode.")


class DVRL3CannotRemoveFromDvrAgent(_NeutronConflict):
    def __init__(self) -> None:
        super().__init__("Not allowed to manually remove a router from an agent in 'dvr' "
                         "mode.")


class RouterReschedulingFailed(_NeutronConflict):
    def __init__(self, router_id: str) -> None:
        super().__init__(f"Failed rescheduling router {router_id}: no eligible l3 agent "
                         "found.")


class AvailabilityZoneNotFound(_NeutronNotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"AvailabilityZone {name} could not be found.")


class IpAddressGenerationFailure(_NeutronConflict):
    def __init__(self, net_id: str) -> None:
        super().__init__(f"No more IP addresses available on network {net_id}.")
