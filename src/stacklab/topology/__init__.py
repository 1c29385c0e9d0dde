"""The cloud's shape: nodes, their roles and services, networks; the lab by default."""

from stacklab.topology.loader import (
    TopologyError,
    default_lab_data,
    load_topology,
    topology_from_data,
)
from stacklab.topology.model import (
    DVR_EXTRA_SERVICES,
    NETWORK_PURPOSES,
    ROLE_SERVICES,
    ROLES,
    Network,
    Node,
    Topology,
    VirtualIp,
    services_for,
)
from stacklab.topology.runtime import Change, Follower, Link, Runtime

__all__ = [
    "DVR_EXTRA_SERVICES",
    "NETWORK_PURPOSES",
    "ROLES",
    "ROLE_SERVICES",
    "Change",
    "Follower",
    "Link",
    "Network",
    "Node",
    "Runtime",
    "Topology",
    "TopologyError",
    "VirtualIp",
    "default_lab_data",
    "load_topology",
    "services_for",
    "topology_from_data",
]
