"""The embedded cloud: configuration, store, bus, topology and services, wired once.

``Cloud`` is what ``stacklab up`` serves and what tests build in-process. It
owns nothing global: two clouds can live in one process (each with its own
clock, ids, store and node state). Whether a node is powered lives in its
``runtime`` alone; the bus, the agents and the services follow it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

from stacklab.api.context import RequestContext
from stacklab.api.policy import PolicyEngine
from stacklab.api.service import ServiceApi
from stacklab.bus.inprocess import InProcessBus
from stacklab.clock import Clock, RealClock
from stacklab.compute.neutron import NeutronClient
from stacklab.compute.service import ComputeService
from stacklab.config import Config
from stacklab.identity.service import CatalogEntry, IdentityService
from stacklab.ids import IdSource
from stacklab.image.builtin import CIRROS_NAME, CIRROS_PROPERTIES, cirros_bytes
from stacklab.image.filestore import FileStore
from stacklab.image.service import ImageOptions, ImageService
from stacklab.network.agents import Agents
from stacklab.network.routing import Routing
from stacklab.network.scheduling.options import SchedulingOptions
from stacklab.network.service import NetworkService
from stacklab.observability.logging import CentralLogStore
from stacklab.store.database import Database, sqlite_url
from stacklab.topology import Follower, Runtime, Topology, load_topology


class Cloud:
    def __init__(self, config: Config, *, clock: Clock | None = None,
                 topology: Topology | None = None, logs: CentralLogStore | None = None) -> None:
        from stacklab.compute.policies import RULES as COMPUTE_RULES
        from stacklab.identity.policies import RULES as IDENTITY_RULES
        from stacklab.image.policies import RULES as IMAGE_RULES
        from stacklab.lab.api import RULES as LAB_RULES
        from stacklab.network.policies import RULES as NETWORK_RULES

        self.config = config
        self.clock: Clock = clock or RealClock()
        self.ids = IdSource(self._seed_for_this_start(config))
        self.topology = topology or load_topology(config.stacklab.topology or None)
        # Which nodes are powered: the one place, every fault goes through it.
        self.runtime = Runtime(self.topology)
        self.logs = logs or CentralLogStore()
        url = config.database.connection or sqlite_url(
            None if config.stacklab.ephemeral else config.state_path)
        self.db = Database(url)
        self.bus = InProcessBus(self.clock, host_up=self.runtime.is_up)
        # One enforcer per service, as each upstream service has its own: their base
        # rules share names ("context_is_admin") with different meanings.
        self.policies = {
            service: PolicyEngine(
                rules, policy_file=config.oslo_policy.policy_file,
                enforce_scope=config.oslo_policy.enforce_scope,
                enforce_new_defaults=config.oslo_policy.enforce_new_defaults)
            for service, rules in (("identity", IDENTITY_RULES), ("image", IMAGE_RULES),
                                   ("compute", COMPUTE_RULES), ("network", NETWORK_RULES),
                                   ("stacklab", LAB_RULES))
        }
        self.identity = IdentityService(self.db, self.clock, self.ids, config)
        self.image = ImageService(
            self.db, self.clock, self.ids,
            FileStore(None if config.stacklab.ephemeral else config.state_path / "images"),
            ImageOptions(image_size_cap=config.DEFAULT.image_size_cap,
                         user_storage_quota=config.DEFAULT.user_storage_quota))
        self.compute = ComputeService(self.db, self.clock, self.ids, self.topology, self.bus,
                                      report_interval=config.DEFAULT.report_interval,
                                      service_down_time=config.DEFAULT.service_down_time,
                                      boot_profile=config.stacklab.boot_profile,
                                      images=self.image, quota_options=config.quota)
        self.network = NetworkService(self.db, self.clock, self.ids)
        defaults = config.DEFAULT
        self.agents = Agents(
            self.db, self.clock, self.ids, self.network, self.topology,
            SchedulingOptions(
                agent_down_time=defaults.agent_down_time,
                report_interval=config.AGENT.report_interval,
                dhcp_agents_per_network=defaults.dhcp_agents_per_network,
                allow_automatic_dhcp_failover=defaults.allow_automatic_dhcp_failover,
                l3_ha=defaults.l3_ha, max_l3_agents_per_router=defaults.max_l3_agents_per_router,
                min_l3_agents_per_router=defaults.min_l3_agents_per_router,
                allow_automatic_l3agent_failover=defaults.allow_automatic_l3agent_failover,
                l3_ha_net_cidr=defaults.l3_ha_net_cidr,
                router_distributed=defaults.router_distributed),
            ha_vrrp_advert_int=defaults.ha_vrrp_advert_int,
            time_scale=config.stacklab.ha_time_scale)
        # Whether an agent's node is powered is the runtime's to say, nobody else's.
        self.agents.reachable = self.runtime.is_up
        # A node's RPC servers stop consuming first, then its agents and keepalived die.
        self.runtime.subscribe(Follower("bus", self.bus.pause_server, self.bus.resume_server))
        self.runtime.subscribe(Follower("network", self.agents.host_down, self.agents.host_up))
        self.routing = Routing(self.network, self.agents, l3_ha=defaults.l3_ha,
                               distributed=defaults.router_distributed)
        self.app: Any = None
        self.compute.neutron = NeutronClient(lambda: self.app, lambda: self.base_url,
                                             username="nova",
                                             password=config.stacklab.admin_password)
        self.base_url = ""
        self.ready = False
        self.hooks_done = True
        # Exceptions no handler expected (each answered 500): tests assert it stays zero.
        self.unexpected_errors = 0
        # Computed once: the load balancer picks among these on every request.
        self._controller_nodes = self._controllers()
        self._api_nodes = itertools.cycle(self._controller_nodes)

    # -- life cycle --------------------------------------------------------------------

    @staticmethod
    def _seed_for_this_start(config: Config) -> int | None:
        """The seed, moved on by how often this state directory was started before.

        A seeded cloud repeats its ids run after run, which is the point; but
        restarted on the same state it must not hand out the ids it already
        gave (a second server with the first one's uuid).
        """
        seed = config.stacklab.seed
        if seed is None or config.stacklab.ephemeral or config.database.connection:
            return seed
        marker = config.state_path / "starts"
        try:
            starts = int(marker.read_text())
        except (OSError, ValueError):
            starts = 0
        try:
            config.state_path.mkdir(parents=True, exist_ok=True)
            marker.write_text(str(starts + 1))
        except OSError:
            return seed
        return seed if starts == 0 else seed + 1_000_003 * starts

    def start(self, base_url: str) -> None:
        """Bring the store to head, bootstrap, publish the catalog at ``base_url``."""
        self.base_url = base_url.rstrip("/")
        if not self.config.stacklab.ephemeral and not self.config.database.connection:
            self.config.state_path.mkdir(parents=True, exist_ok=True)
        self.db.upgrade()
        first_start = self.identity.start(list(self.catalog_entries()))
        if first_start:
            self.image.register_builtin(self.image.ids.uuid(), CIRROS_NAME, cirros_bytes(),
                                        CIRROS_PROPERTIES)
        self.compute.start()
        self.network.ensure_public_network(self.identity.admin_project_id())
        with self.db.session() as session:
            self.agents.register(session)
        # The agents come up with the cloud and report at once (as compute services do).
        self.agents.heartbeat(self.node_reachable)
        self.ready = True

    async def run_background(self) -> None:
        """What the lab's nodes do on their own: heartbeats, keepalived, failover checks."""
        self.agents.start_all()
        await asyncio.gather(self.compute.services.run(self.node_reachable),
                             self.agents.run(self.node_reachable))

    def node_reachable(self, host: str) -> bool:
        return self.runtime.is_up(host)

    def stop(self) -> None:
        self.ready = False
        self.compute.stop()
        self.image.store.close()
        self.db.dispose()

    def catalog_entries(self) -> Iterator[CatalogEntry]:
        yield CatalogEntry("identity", "keystone", "Identity Service",
                           f"{self.base_url}/identity")
        yield CatalogEntry("image", "glance", "Image Service", f"{self.base_url}/image")
        yield CatalogEntry("compute", "nova", "Compute Service",
                           f"{self.base_url}/compute/v2.1")
        yield CatalogEntry("network", "neutron", "Networking Service",
                           f"{self.base_url}/networking")

    def service_apis(self) -> list[tuple[str, ServiceApi]]:
        from stacklab.compute.api import api as compute_api
        from stacklab.identity.api import api as identity_api
        from stacklab.image.api import api as image_api
        from stacklab.lab.api import api as lab_api
        from stacklab.network.api import api as network_api

        return [("/identity", identity_api), ("/image", image_api), ("/compute", compute_api),
                ("/networking", network_api), ("/stacklab", lab_api)]

    # -- the request path ----------------------------------------------------------------

    def policy_for(self, service: str) -> PolicyEngine:
        return self.policies[service]

    def authenticate(self, token: str, context: RequestContext) -> None:
        self.identity.authenticate_request(token, context)

    def _controllers(self) -> list[str]:
        nodes = [n.fqdn for n in self.topology.nodes_with_role("controller")]
        return nodes or ["localhost"]

    def pick_api_node(self) -> str:
        """The controller whose API worker serves the next request (the load balancer)."""
        for _ in range(len(self._controller_nodes)):
            node = next(self._api_nodes)
            if self.runtime.is_up(node):
                return node
        return "none"

    # -- faults: nodes going down and coming back ------------------------------------------

    def node_down(self, fqdn: str) -> None:
        """Power a node off: its RPC servers stop consuming, its agents and keepalived die."""
        self.runtime.power_off(fqdn)

    def node_up(self, fqdn: str) -> None:
        """Power it back on (nothing restarts when it was already on)."""
        self.runtime.power_on(fqdn)

    def health(self) -> dict[str, Any]:
        services = {name: "ready" if self.ready else "starting"
                    for name in ("identity", "image", "compute", "network")}
        ready = self.ready and self.hooks_done
        return {"status": "ready" if ready else "starting", "services": services,
                "init_hooks": "done" if self.hooks_done else "running"}

    def status(self) -> dict[str, Any]:
        nodes = []
        for node in self.topology.nodes.values():
            nodes.append({
                "name": node.name, "fqdn": node.fqdn, "roles": list(node.roles),
                "services": list(node.services), "addresses": dict(node.addresses),
                "state": self.runtime.power(node.fqdn),
                "service_states": self.runtime.services(node.fqdn),
            })
        return {"endpoint": self.base_url, "nodes": nodes, **self.health()}
