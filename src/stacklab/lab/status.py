"""``stacklab status``: the lab at a glance, and a verdict on it.

Per node its power and each of its processes, running or stopped; the faults in
force (``Runtime.faults``); then sections, each a small table with the problems it
found: the network agents' liveness and the compute services' state, read through
networking's and compute's own APIs with the caller's token, as an operator's
``openstack network agent list`` and ``compute service list`` would.

The verdict is ``ready`` when nothing is wrong, ``degraded`` when a fault is in force
or redundancy is lost (a node off, a process stopped, an agent dead, a compute service
down), ``down`` when the cloud cannot serve (a control-plane process with no running
copy left anywhere) and ``starting`` until the cloud has started.

The control plane's sections come first: who holds the VIPs, each proxy's HAProxy
backends, the Galera members. Adding what other parts of the lab know is one more
``SectionProvider``: append it to ``SECTIONS`` (or hand it to ``Lab.add_section``).
Every client renders every section the same way, from its ``title``, ``columns``,
``rows`` and ``problems``; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from stacklab.api.client import ServiceCallError, ServiceClient, ServiceUnreachable
from stacklab.declaration import CONTROL_PLANE, Parts
from stacklab.topology import Runtime, Topology
from stacklab.topology.runtime import STOPPED, UP

READY = "ready"
DEGRADED = "degraded"
DOWN = "down"
STARTING = "starting"

# The roles whose every process the cloud's API path needs (the APIs, their store and
# bus on the controllers; the load balancers in front): one with no running copy left
# anywhere takes the cloud down.
CONTROL_PLANE_ROLES = ("controller", "proxy")


@dataclass(frozen=True)
class Problem:
    """Something wrong: ``degraded`` (redundancy lost) or ``down`` (the cloud cannot serve)."""

    severity: str
    message: str

    def render(self) -> dict[str, str]:
        return {"severity": self.severity, "message": self.message}


@dataclass
class Section:
    """One table of the status, and what it found wrong."""

    name: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def render(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "columns": self.columns,
                "rows": self.rows, "problems": [p.render() for p in self.problems]}


class StatusView:
    """What a section provider reads: the lab's parts, and the services' APIs as the caller."""

    def __init__(self, parts: Parts, token: str | None) -> None:
        self.parts = parts
        self.token = token
        # The caller's token goes with every read; the service user is never logged in.
        self._client = ServiceClient(parts.app, parts.base_url, mount="", username="admin",
                                     password=parts.config.stacklab.admin_password,
                                     project="admin")

    @property
    def runtime(self) -> Runtime:
        return self.parts.runtime

    @property
    def topology(self) -> Topology:
        return self.parts.topology

    async def get(self, path: str) -> Any:
        """The parsed answer of ``GET path`` on the cloud's own API (``/networking/...``)."""
        return await self._client.json("GET", path, token=self.token)


SectionProvider = Callable[[StatusView], Awaitable[Section | None]]


def _unreadable(name: str, title: str, error: ServiceCallError) -> Section:
    said = ("could not be reached" if isinstance(error, ServiceUnreachable)
            else f"the API answered {error.status}")
    return Section(name, title, [], problems=[Problem(DEGRADED, f"{title}: {said}")])


async def network_agents(view: StatusView) -> Section | None:
    """neutron's agents, as ``openstack network agent list`` shows them."""
    title = "network agents"
    try:
        agents = (await view.get("/networking/v2.0/agents"))["agents"]
    except ServiceCallError as error:
        return _unreadable("network_agents", title, error)
    section = Section("network_agents", title, ["host", "agent", "binary", "alive", "state"])
    for agent in sorted(agents, key=lambda a: (a["host"], a["binary"])):
        section.rows.append([agent["host"], agent["agent_type"], agent["binary"],
                             ":-)" if agent["alive"] else "XXX",
                             "UP" if agent["admin_state_up"] else "DOWN"])
        if not agent["alive"]:
            section.problems.append(Problem(
                DEGRADED, f"{agent['binary']} on {agent['host']} is dead (no report for "
                          "agent_down_time)"))
    return section


async def compute_services(view: StatusView) -> Section | None:
    """nova's services, as ``openstack compute service list`` shows them."""
    return await _services(view, "compute_services", "compute services",
                           "/compute/v2.1/os-services")


async def volume_services(view: StatusView) -> Section | None:
    """cinder's services, as ``openstack volume service list`` shows them."""
    return await _services(view, "volume_services", "volume services",
                           "/volume/v3/os-services")


async def _services(view: StatusView, key: str, title: str, path: str) -> Section:
    """nova and cinder list their services in one shape (``os-services``), and both call
    one down when its last report is older than ``service_down_time``."""
    try:
        services = (await view.get(path))["services"]
    except ServiceCallError as error:
        return _unreadable(key, title, error)
    section = Section(key, title, ["host", "binary", "zone", "status", "state"])
    for service in sorted(services, key=lambda s: (s["host"], s["binary"])):
        section.rows.append([service["host"], service["binary"], service["zone"],
                             service["status"], service["state"]])
        if service["state"] != "up":
            section.problems.append(Problem(
                DEGRADED, f"{service['binary']} on {service['host']} is down (no report for "
                          "service_down_time)"))
    return section


def _short(fqdn: str | None) -> str:
    return fqdn.split(".", 1)[0] if fqdn else "-"


def _plane(view: StatusView) -> dict[str, Any] | None:
    if not view.parts.has(CONTROL_PLANE):
        return None
    plane: dict[str, Any] = view.parts.get(CONTROL_PLANE).status()
    return plane


# The control plane's sections show its state only: what is wrong with it is already in
# the health's reasons (control_plane_problems), said once.

async def vips(view: StatusView) -> Section | None:
    """Who holds each API VIP: keepalived's VRRP states, or Pacemaker's placement."""
    plane = _plane(view)
    if plane is None:
        return None
    pacemaker = plane.get("pacemaker")
    if pacemaker is not None:
        nodes = ", ".join(f"{_short(n['node'])} {n['state']}" for n in pacemaker["nodes"])
        section = Section("vips", "VIPs (Pacemaker)",
                          ["vip", "address", "network", "holder", "cluster nodes"])
        for vip in pacemaker["vips"]:
            section.rows.append([vip["name"], vip["address"], vip["network"],
                                 _short(vip["holder"]), nodes])
        return section
    keepalived = plane["keepalived"]
    instances = ", ".join(f"{_short(i['node'])} {i['state']} (priority {i['priority']})"
                          for i in keepalived["instances"])
    section = Section("vips", f"VIPs (keepalived, VRID {keepalived['virtual_router_id']})",
                      ["vip", "address", "network", "holder", "vrrp instances"])
    for vip in keepalived["vips"]:
        section.rows.append([vip["name"], vip["address"], vip["network"],
                             _short(vip["holder"]), instances])
    return section


async def pacemaker(view: StatusView) -> Section | None:
    """The proxies' Pacemaker cluster, as ``pcs status`` shows it: quorum, DC, each node's
    state, each resource's state and node (none when keepalived holds the VIPs)."""
    plane = _plane(view)
    cluster = plane.get("pacemaker") if plane is not None else None
    if cluster is None:
        return None
    quorum = cluster["quorum"]
    partitions = " | ".join(
        ", ".join(_short(n) for n in p["members"]) + (" (quorate)" if p["quorate"] else "")
        for p in cluster["partitions"]) or "none"
    title = (f"Pacemaker ({cluster['cluster']}: DC {_short(cluster['dc'])}, "
             f"{'quorate' if quorum['quorate'] else 'NO QUORUM'}, partitions {partitions})")
    section = Section("pacemaker", title, ["resource", "agent", "state", "node"])
    for row in cluster["resources"]:
        where = _short(row["node"]) + (" (UNCLEAN)" if row["unclean"] else "")
        section.rows.append([row["resource"], row["agent"], row["state"], where])
    for node in cluster["nodes"]:
        section.rows.append([f"node {_short(node['node'])}", "", node["state"], ""])
    for failed in cluster["failcounts"]:  # crm_mon's "Failed Resource Actions"
        section.rows.append([f"failures {failed['resource']}", "", failed["count"],
                             _short(failed["node"])])
    for fencing in cluster["fencing"]:
        section.rows.append([f"fencing {_short(fencing['target'])}", "fence-lab",
                             fencing["state"], _short(fencing["fencer"])])
    return section


async def load_balancers(view: StatusView) -> Section | None:
    """Each proxy's HAProxy: its backends and their servers' check states."""
    plane = _plane(view)
    if plane is None:
        return None
    section = Section("haproxy", "load balancers (HAProxy)",
                      ["proxy", "backend", "port", "servers"])
    for proxy in plane["haproxy"]:
        for backend in proxy["backends"]:
            servers = ", ".join(
                f"{_short(server['node'])}{' (backup)' if server['backup'] else ''} "
                f"{server['status']}" for server in backend["servers"])
            section.rows.append([_short(proxy["node"]), backend["backend"], backend["port"],
                                 servers if proxy["running"] else "(haproxy not running)"])
    return section


async def galera(view: StatusView) -> Section | None:
    """The Galera cluster's members (MariaDB on the controllers, garbd on the arbiter)."""
    plane = _plane(view)
    if plane is None:
        return None
    cluster = plane["galera"]
    primary = ", ".join(_short(node) for node in cluster["primary_component"]) or "none"
    section = Section("galera", f"Galera (primary component: {primary})",
                      ["node", "role", "wsrep_cluster_status", "wsrep_local_state_comment",
                       "wsrep_cluster_size", "wsrep_ready", "wsrep_last_committed"])
    for member in cluster["members"]:
        section.rows.append([_short(member["node"]), member["role"],
                             member["wsrep_cluster_status"],
                             member["wsrep_local_state_comment"] or "-",
                             member["wsrep_cluster_size"], member["wsrep_ready"],
                             member["wsrep_last_committed"]])
    return section


async def rabbitmq(view: StatusView) -> Section | None:
    """The RabbitMQ cluster as ``rabbitmqctl cluster_status`` tells it on each node: its
    state (running, paused by pause_minority, stopped), the running nodes it sees, the
    partitions it found; and the nodes whose processes have no connection to it.

    A paused or stopped broker is already a reason of the control plane's health; the
    connections lost are this section's own problem."""
    plane = _plane(view)
    status = plane.get("rabbitmq") if plane is not None else None
    if status is None:
        return None
    handling = status["cluster_partition_handling"]
    section = Section("rabbitmq", f"RabbitMQ (cluster_partition_handling {handling})",
                      ["node", "state", "running nodes", "partitions"])
    for node in status["nodes"]:
        section.rows.append([_short(node["node"]), node["state"],
                             ",".join(_short(n) for n in node["running_nodes"]) or "-",
                             ",".join(_short(n) for n in node["partitions"]) or "-"])
    if status["disconnected"]:
        section.problems.append(Problem(
            DEGRADED, "no connection to RabbitMQ from "
                      f"{', '.join(_short(n) for n in status['disconnected'])} (reconnecting)"))
    return section


async def ceph(view: StatusView) -> Section | None:
    """The storage nodes' Ceph cluster as ``ceph -s`` and ``ceph osd tree`` tell it: its
    health, each monitor and OSD, the PGs by state. Its health checks are its problems:
    redundancy lost (degraded) while I/O goes on, or no I/O at all (inactive PGs, no
    monitor quorum), which leaves the APIs up but volumes and rbd images unusable."""
    plane = _plane(view)
    status = plane.get("ceph") if plane is not None else None
    if status is None:
        return None
    title = (f"Ceph ({status['health']}: osds {status['num_up_osds']} up, "
             f"{status['num_in_osds']} in of {status['num_osds']}; pgs "
             f"{status['pgs_degraded']} degraded, {status['pgs_inactive']} inactive of "
             f"{status['num_pgs']}{'; recovering' if status['recovering'] else ''})")
    section = Section("ceph", title, ["daemon", "host", "state"])
    for mon in status["mons"]:
        section.rows.append([f"mon.{_short(mon['host'])}", _short(mon["host"]),
                             "in quorum" if mon["in_quorum"] else "out of quorum"])
    for osd in status["osds"]:
        section.rows.append([osd["name"], _short(osd["host"]),
                             f"{'up' if osd['up'] else 'down'}, {'in' if osd['in'] else 'out'}"])
    for state, count in status["pgs"].items():
        section.rows.append([f"pgs {state}", "", count])
    section.problems.extend(Problem(DEGRADED, f"ceph {name}: {message}")
                            for name, message in status["checks"].items())
    return section


# The sections every status shows, in order.
SECTIONS: list[SectionProvider] = [vips, pacemaker, load_balancers, galera, rabbitmq, ceph,
                                   network_agents, compute_services, volume_services]


def node_rows(runtime: Runtime) -> list[dict[str, Any]]:
    """Each node: what it is, its power, each of its processes running or stopped."""
    return [{
        "name": node.name, "fqdn": node.fqdn, "roles": list(node.roles),
        "services": list(node.services), "addresses": dict(node.addresses),
        "state": runtime.power(node.fqdn),
        "service_states": runtime.services(node.fqdn),
    } for node in runtime.topology.nodes.values()]


def node_problems(runtime: Runtime) -> list[Problem]:
    """Nodes off and processes stopped (degraded); a control-plane process left with no
    running copy anywhere (down)."""
    problems: list[Problem] = []
    for node in runtime.topology.nodes.values():
        if runtime.power(node.fqdn) != UP:
            problems.append(Problem(DEGRADED, f"{node.name} is powered off"))
            continue
        problems.extend(Problem(DEGRADED, f"{service} is stopped on {node.name}")
                        for service, state in runtime.services(node.fqdn).items()
                        if state == STOPPED)
    needed: dict[str, list[str]] = {}
    for node in runtime.topology.nodes.values():
        for role in node.roles:
            if role in CONTROL_PLANE_ROLES:
                for service in node.services:
                    needed.setdefault(service, []).append(node.fqdn)
    for service, hosts in needed.items():
        if not any(runtime.running(host, service) for host in hosts):
            problems.append(Problem(DOWN, f"no {service} runs anywhere"))
    return problems


def fault_problems(faults: dict[str, Any]) -> list[Problem]:
    """The faults in force that the nodes' own state does not already say."""
    problems = [Problem(DEGRADED, f"{entry['node']} is detached from {entry['network']}")
                for entry in faults["networks_detached"]]
    if faults["cut"]:
        problems.append(Problem(DEGRADED, f"{len(faults['cut'])} paths between nodes are cut "
                                          "(a partition)"))
    problems.extend(Problem(DEGRADED, f"the link {' - '.join(entry['nodes'])} has "
                                      f"{entry['latency']} s latency and "
                                      f"{entry['loss']:.0%} loss")
                    for entry in faults["links"])
    return problems


def control_plane_problems(health: dict[str, Any]) -> list[Problem]:
    """What the cloud's health says of its control plane (VIPs, load balancers, Galera)."""
    plane = health.get("control_plane") or {}
    severity = {DOWN: DOWN, DEGRADED: DEGRADED}.get(plane.get("state", ""))
    if severity is None:
        return []
    return [Problem(severity, f"control plane: {reason}") for reason in plane.get("reasons", [])]


def verdict(problems: Sequence[Problem], started: bool) -> str:
    if not started:
        return STARTING
    if any(problem.severity == DOWN for problem in problems):
        return DOWN
    return DEGRADED if problems else READY


async def lab_status(parts: Parts, token: str | None,
                     providers: Sequence[SectionProvider]) -> dict[str, Any]:
    """The whole status: health, nodes, faults, sections, problems and the verdict."""
    runtime = parts.runtime
    health = parts.health()
    view = StatusView(parts, token)
    sections = [found for provider in providers
                if (found := await provider(view)) is not None]
    faults = runtime.faults()
    problems = [*node_problems(runtime), *fault_problems(faults),
                *control_plane_problems(health),
                *(problem for section in sections for problem in section.problems)]
    return {**health, "endpoint": parts.base_url(),
            "status": verdict(problems, health["status"] != STARTING),
            "nodes": node_rows(runtime), "faults": faults,
            "sections": [section.render() for section in sections],
            "problems": [problem.render() for problem in problems]}
