"""Nodes, their roles and the networks they sit on: what the cloud is made of.

A role is a name for a set of service processes (``ROLE_SERVICES``); a node
runs the union of its roles' services. This module holds plain data and the
role table only; reading and validating YAML is ``loader``'s job.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# The lab's process layout (lab.md, "Services"). One table: everything that asks
# "which node runs X" derives from it.
ROLE_SERVICES: Mapping[str, tuple[str, ...]] = {
    "controller": (
        "keystone",
        "nova-api", "nova-scheduler", "nova-conductor", "nova-novncproxy",
        "glance-api",
        "neutron-server",
        # cinder-volume with the lvm backend runs on each controller in the course
        # (`volume service list` shows controller1.openstack.local@lvm).
        "cinder-api", "cinder-scheduler", "cinder-volume",
        # cinder-backup beside them: it copies volumes into the object store.
        "cinder-backup",
        "heat-api", "heat-api-cfn", "heat-engine",
        "placement-api",
        "mariadb", "rabbitmq", "memcached",
    ),
    "network": (
        "neutron-openvswitch-agent", "neutron-dhcp-agent", "neutron-l3-agent",
        "neutron-metadata-agent",
        # The HA routers' keepalived (one per router, spawned by the L3 agent but living
        # on without it): one process here, so that it can be stopped on its own.
        "keepalived",
    ),
    "compute": ("nova-compute", "neutron-openvswitch-agent"),
    # The lab's storage nodes carry the shared Ceph storage.
    "storage": ("ceph-osd",),
    # Galera arbitrator: votes in the quorum, holds no data.
    "arbiter": ("garbd",),
    # Central logging: shipper -> Logstash -> Elasticsearch -> Kibana.
    "monitor": ("logstash", "elasticsearch", "kibana"),
    "proxy": ("haproxy", "keepalived"),
}

# With DVR, compute nodes route east-west traffic and floating IPs themselves,
# so they run an l3 agent too (agent_mode = dvr).
DVR_EXTRA_SERVICES: Mapping[str, tuple[str, ...]] = {
    "compute": ("neutron-l3-agent",),
}

ROLES: frozenset[str] = frozenset(ROLE_SERVICES)

# What a network carries. "storage" is not in the course's lab but is the usual
# fourth network of an HA design (Ceph replication), so other labs may declare it.
NETWORK_PURPOSES: frozenset[str] = frozenset({"management", "overlay", "external", "storage"})


def services_for(roles: Iterable[str], *, dvr: bool = False) -> tuple[str, ...]:
    """The service processes of a node with ``roles``, in table order, each once."""
    seen: dict[str, None] = {}
    for role in roles:
        for service in ROLE_SERVICES[role]:
            seen.setdefault(service)
        if dvr:
            for service in DVR_EXTRA_SERVICES.get(role, ()):
                seen.setdefault(service)
    return tuple(seen)


@dataclass(frozen=True, slots=True)
class Network:
    name: str
    bridge: str
    cidr: str
    purpose: str


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    domain: str
    roles: tuple[str, ...]
    memory_mb: int
    vcpus: int
    disk_gb: int
    # network name -> IPv4 address on that network
    addresses: dict[str, str] = field(default_factory=dict)
    dvr: bool = False

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.domain}"

    @property
    def services(self) -> tuple[str, ...]:
        return services_for(self.roles, dvr=self.dvr)

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def runs(self, service: str) -> bool:
        return service in self.services

    @property
    def l3_agent_mode(self) -> str | None:
        """neutron's ``[DEFAULT] agent_mode`` for this node's l3 agent, None without one."""
        if "neutron-l3-agent" not in self.services:
            return None
        if not self.dvr:
            return "legacy"
        # A DVR network node keeps SNAT and DHCP; a compute node only routes locally.
        return "dvr_snat" if "network" in self.roles else "dvr"


@dataclass(frozen=True, slots=True)
class VirtualIp:
    """An address held by one node of ``held_by`` at a time (keepalived/VRRP)."""

    name: str
    network: str
    address: str
    held_by: str


@dataclass(frozen=True, slots=True)
class Topology:
    domain: str
    networks: dict[str, Network]
    nodes: dict[str, Node]
    # The lab's own OpenStack options by section and option, as text: the config
    # layer coerces them to each option's type.
    config: dict[str, dict[str, str]] = field(default_factory=dict)
    vips: dict[str, VirtualIp] = field(default_factory=dict)
    dvr: bool = False

    def nodes_with_role(self, role: str) -> list[Node]:
        return [node for node in self.nodes.values() if role in node.roles]

    def nodes_running(self, service: str) -> list[Node]:
        return [node for node in self.nodes.values() if node.runs(service)]
