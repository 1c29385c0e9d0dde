"""Compute as one object: flavors, key pairs, and (to come) servers on the lab's hypervisors."""

from __future__ import annotations

from stacklab.clock import Clock
from stacklab.compute.flavors import Flavors
from stacklab.compute.keypairs import KeyPairs
from stacklab.compute.servicegroup import TOPICS, ServiceGroup
from stacklab.ids import IdSource
from stacklab.store.database import Database
from stacklab.topology import Node, Topology

# Services nova lists in the "internal" zone (they run on controllers, not hypervisors).
_INTERNAL = ("nova-scheduler", "nova-conductor", "nova-novncproxy")


class ComputeService:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, topology: Topology, *,
                 report_interval: float = 10, service_down_time: float = 60,
                 default_zone: str = "nova") -> None:
        self.db = db
        self.clock = clock
        self.ids = ids.stream("compute")
        self.topology = topology
        self.default_zone = default_zone
        self.flavors = Flavors(clock, self.ids)
        self.keypairs = KeyPairs(clock, self.ids.stream("keypairs"))
        self.services = ServiceGroup(db, clock, self.ids.stream("services"),
                                     report_interval=report_interval,
                                     service_down_time=service_down_time)

    def start(self) -> None:
        with self.db.session() as session:
            self.flavors.ensure_defaults(session)
            self.services.register(session, self.service_hosts())

    def service_hosts(self) -> list[tuple[str, str]]:
        """(host, binary) of every nova service the topology runs."""
        return [(node.fqdn, binary) for node in self.topology.nodes.values()
                for binary in TOPICS if binary in node.services]

    def zone_of(self, binary: str) -> str:
        return self.default_zone if binary == "nova-compute" else "internal"

    def topology_node(self, fqdn: str) -> Node:
        for node in self.topology.nodes.values():
            if node.fqdn == fqdn:
                return node
        raise KeyError(fqdn)

    def usage_on_host(self, host: str) -> dict[str, int]:
        # No servers yet: every hypervisor is empty.
        return {"vcpus": 0, "memory_mb": 0, "local_gb": 0, "servers": 0}

    def usage(self, project_id: str, user_id: str) -> dict[str, int]:
        # No servers yet: nothing is used.
        return {"instances": 0, "cores": 0, "ram": 0, "server_groups": 0}

    def availability_zones(self) -> dict[str, dict[str, list[str]]]:
        """zone -> host -> the nova services on it (hypervisors in the default zone)."""
        zones: dict[str, dict[str, list[str]]] = {}
        for node in self.topology.nodes.values():
            services = [s for s in node.services if s.startswith("nova-")]
            if "nova-compute" in services:
                zones.setdefault(self.default_zone, {})[node.fqdn] = ["nova-compute"]
            internal = [s for s in services if s in _INTERNAL]
            if internal:
                zones.setdefault("internal", {})[node.fqdn] = internal
        return zones
