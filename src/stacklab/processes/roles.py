"""Which OS process runs which of the lab's processes (``stacklab up --processes``).

A ``Role`` is one OS process of the deployment shape: the APIs it serves over HTTP
(``mounts``), the services whose start and background work it runs (declaration
names), and the lab's processes (binaries) whose RPC servers it consumes and whose
heartbeats it sends, on one node or on every node that runs them. Every process
builds the whole cloud (nothing in a service knows the shape); its role decides only
what it serves, consumes and runs.

Why these groups (docs/processes.md): nova is split as upstream runs it (nova-api,
nova-conductor, nova-scheduler, one nova-compute per compute node), its services
sharing nothing in memory that a restart cannot rebuild from the store. neutron is split
as upstream runs it too: neutron-server (the API, its RPC servers, the agents' DB side)
and, on each node that runs neutron's agents, one process for that node's agents (Open
vSwitch, DHCP, L3, metadata, and the keepalived of its HA routers), which reach the
server over the bus only. cinder and heat are
split as upstream runs them too: cinder-api, cinder-scheduler, one cinder-volume per
volume node (each serving every backend of its node, the shared rbd ``backend_host``
included, as cinder/cmd/volume.py's children), one cinder-backup per backup node (their
object store is in the store, as one swift serves them all), heat-api (with
heat-api-cfn) and one heat-engine per engine node.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stacklab.topology import Topology


@dataclass(frozen=True)
class Role:
    name: str
    mounts: tuple[str, ...] = ()
    services: frozenset[str] = frozenset()
    binaries: frozenset[str] = frozenset()
    # A node's FQDN: its binaries there only. None: on every node that runs them.
    node: str | None = None

    @property
    def label(self) -> str:
        """How the supervisor names it: ``nova-compute@compute1.openstack.local``."""
        return self.name if self.node is None else f"{self.name}@{self.node}"

    def runs(self, binary: str | None, host: str | None) -> bool:
        """Whether this process runs ``binary`` on ``host`` (None: on every host)."""
        if binary is None or binary not in self.binaries:
            return False
        if self.node is None:
            return True
        # heat-engine names its host by the node's name, nova and cinder by its FQDN.
        return host in (self.node, self.node.split(".")[0])


# A node's neutron agents, run by one process on that node (``neutron-agents@<node>``).
# keepalived is the HA routers' (the proxies' keepalived for the API VIPs is the lab's
# control plane's, not a process of this shape).
NEUTRON_AGENTS = frozenset({
    "neutron-openvswitch-agent", "neutron-dhcp-agent", "neutron-l3-agent",
    "neutron-metadata-agent", "keepalived"})

# The roles that run once, whatever the topology (a node-bound role is added per node).
SHARED_ROLES: tuple[Role, ...] = (
    # The lab's own API (/stacklab: health, status) beside keystone, on the cloud's main
    # port: auth_url and `stacklab wait` keep the address they have in one process.
    Role("keystone", ("/identity", "/stacklab"), frozenset({"identity", "stacklab"}),
         frozenset({"keystone"})),
    Role("glance", ("/image",), frozenset({"image"}), frozenset({"glance-api"})),
    Role("nova-api", ("/compute",), frozenset({"compute"}), frozenset({"nova-api"})),
    Role("nova-conductor", (), frozenset({"compute"}), frozenset({"nova-conductor"})),
    Role("nova-scheduler", (), frozenset({"compute"}), frozenset({"nova-scheduler"})),
    Role("neutron-server", ("/networking",), frozenset({"network"}),
         frozenset({"neutron-server"})),
    Role("cinder-api", ("/volume",), frozenset({"volume"}), frozenset({"cinder-api"})),
    Role("cinder-scheduler", (), frozenset({"volume"}), frozenset({"cinder-scheduler"})),
    Role("heat-api", ("/heat-api", "/heat-api-cfn"),
         frozenset({"orchestration", "cloudformation"}),
         frozenset({"heat-api", "heat-api-cfn"})),
)

NOVA_COMPUTE = "nova-compute"
NEUTRON_AGENTS_ROLE = "neutron-agents"
# The lab's processes that run once per node, each its own OS process there, and the
# service (declaration) whose start and background work it runs.
# cinder-backup too: the backups' object store (swift's stand-in) is in the store, so each
# controller's process reads and writes the same objects.
PER_NODE = {NOVA_COMPUTE: "compute", "cinder-volume": "volume", "cinder-backup": "volume",
            "heat-engine": "orchestration"}


def roles_for(topology: Topology) -> list[Role]:
    """Every process of the shape: the shared roles, then one per node of each of
    ``PER_NODE``'s (nova-compute, cinder-volume, cinder-backup, heat-engine), then one
    per node that runs neutron's agents (``neutron-agents``: that node's agents)."""
    per_node = [Role(binary, (), frozenset({service}), frozenset({binary}), node.fqdn)
                for binary, service in PER_NODE.items()
                for node in topology.nodes.values() if binary in node.services]
    agents = [Role(NEUTRON_AGENTS_ROLE, (), frozenset({"network"}),
                   NEUTRON_AGENTS & frozenset(node.services), node.fqdn)
              for node in topology.nodes.values()
              if (NEUTRON_AGENTS - {"keepalived"}) & set(node.services)]
    return [*SHARED_ROLES, *per_node, *agents]


def find_role(topology: Topology, name: str, node: str | None) -> Role:
    """The role ``stacklab serve NAME [--node NODE]`` names (a node by name or FQDN)."""
    for role in roles_for(topology):
        if role.name != name:
            continue
        if role.node is None or (node is not None and node in (
                role.node, role.node.split(".")[0])):
            return role
    names = sorted({role.label for role in roles_for(topology)})
    raise ValueError(f"no process {name!r}{f' on {node}' if node else ''}; "
                     f"the processes are: {', '.join(names)}")


def api_roles(roles: Iterable[Role]) -> list[Role]:
    return [role for role in roles if role.mounts]


# The roles that only serve an API (no RPC server, no background work of their own): the
# ones several processes can serve on one port ([DEFAULT] api_workers).
API_ONLY = frozenset({"keystone", "glance", "nova-api", "cinder-api", "heat-api"})


def workers(role: Role, api_workers: int, own: Mapping[str, int] | None = None) -> int:
    """How many processes run ``role``: upstream's options, for the roles that only serve
    an API (``own``: a role's own option by role name, nova's osapi_compute_workers ...,
    when set); one for the others (their RPC servers and background work run once)."""
    if role.name not in API_ONLY:
        return 1
    count = (own or {}).get(role.name, 0)
    return count if count > 0 else max(1, api_workers)


def role_is_front(role: Role) -> bool:
    """Whether ``role`` serves the cloud's own port (``--port``, auth_url): keystone's."""
    return role.name == "keystone"
