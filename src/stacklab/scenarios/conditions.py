"""Conditions on the lab, as an ``expect`` or a ``wait: {until: ...}`` states them.

Each is read through the cloud's APIs as an operator would: the lab's HA state from
``/stacklab/v1/ha`` (VIP holder, HAProxy, Galera, HA routers' keepalived), its verdict
from ``/stacklab/v1/status``, agents, services, servers and routers from networking's and
compute's own APIs (through the VIP: with the control plane down, they cannot be read,
and the condition does not hold). Nodes are compared by short name (``proxy1`` and
``proxy1.openstack.local`` are the same node).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from stacklab.scenarios.driver import Answer, Driver
from stacklab.scenarios.probe import Probe

ADMIN_VERSION = {"OpenStack-API-Version": "compute 2.53", "X-OpenStack-Nova-API-Version": "2.53"}


def short(node: str | None) -> str | None:
    return None if node is None else node.split(".", 1)[0]


class Call(Protocol):
    """The runner's request as its admin (renewing the token once if refused)."""

    def __call__(self, method: str, path: str, body: Any = None, *,
                 headers: dict[str, str] | None = None) -> Awaitable[Answer]: ...


class Unreadable(Exception):
    """The state a condition needs could not be read (the API did not answer)."""


@dataclass
class Resources:
    """What the scenario made in its setup, by kind and name: their ids."""

    ids: dict[str, dict[str, str]]

    def id(self, kind: str, name: str) -> str:
        try:
            return self.ids[kind][name]
        except KeyError:
            raise Unreadable(f"no {kind[:-1]} named {name!r} was made in setup") from None


class Observer:
    """One look at the lab: each API read at most once (``fresh`` for the next look)."""

    def __init__(self, driver: Driver, call: Call, token: Callable[[], str],
                 resources: Resources, probe: Probe | None, last_act: Callable[[], float]
                 ) -> None:
        self.driver = driver
        self.call = call
        self.token = token
        self.resources = resources
        self.probe = probe
        self.last_act = last_act
        self._cache: dict[str, Any] = {}

    def fresh(self) -> None:
        self._cache.clear()

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        if path not in self._cache:
            answer = await self.call("GET", path, headers=headers)
            if not answer.ok:
                raise Unreadable(f"GET {path} answered {answer.describe()}")
            self._cache[path] = answer.body
        return self._cache[path]

    async def ha(self) -> dict[str, Any]:
        if "ha" not in self._cache:
            answer = await self.driver.ha(self.token())
            if not answer.ok:
                raise Unreadable(f"GET /stacklab/v1/ha answered {answer.describe()}")
            self._cache["ha"] = answer.body
        found: dict[str, Any] = self._cache["ha"]
        return found

    async def request(self, method: str, path: str, body: Any = None) -> Answer:
        return await self.call(method, path, body)


Result = tuple[bool, str]


def _count(value: int, bounds: dict[str, int]) -> bool:
    return bounds.get("min", 0) <= value <= bounds.get("max", value)


async def vip_holder(obs: Observer, want: str | None) -> Result:
    holder = short((await obs.ha())["keepalived"]["holder"])
    wanted = None if want in (None, "none") else short(want)
    return holder == wanted, f"holder {holder or 'none'}"


async def galera_primary(obs: Observer, want: list[str]) -> Result:
    found = sorted(short(n) or "" for n in (await obs.ha())["galera"]["primary_component"])
    return found == sorted(short(n) or "" for n in want), f"primary component {found}"


async def galera_member(obs: Observer, want: dict[str, Any]) -> Result:
    members = (await obs.ha())["galera"]["members"]
    member = next((m for m in members if short(m["node"]) == short(want["node"])), None)
    if member is None:
        return False, f"{want['node']} is no Galera member"
    seen = {"cluster_status": member["wsrep_cluster_status"],
            "state": member["wsrep_local_state_comment"] or "down",
            "size": member["wsrep_cluster_size"]}
    held = all(seen[key] == want[key] for key in ("cluster_status", "state", "size")
               if key in want)
    return held, f"{short(member['node'])}: {seen['cluster_status']} {seen['state']} " \
                 f"size {seen['size']}"


def _rabbit(ha: dict[str, Any]) -> dict[str, Any]:
    found = ha.get("rabbitmq")
    if not found:
        raise Unreadable("the lab has no RabbitMQ cluster")
    return dict(found)


async def rabbitmq_serving(obs: Observer, want: list[str]) -> Result:
    found = sorted(short(n) or "" for n in _rabbit(await obs.ha())["serving"])
    return found == sorted(short(n) or "" for n in want), f"serving {found}"


async def rabbitmq_node(obs: Observer, want: dict[str, Any]) -> Result:
    for node in _rabbit(await obs.ha())["nodes"]:
        if short(node["node"]) == short(want["node"]):
            return node["state"] == want["state"], f"{short(node['node'])} {node['state']}"
    return False, f"{want['node']} is no RabbitMQ node"


async def haproxy_server(obs: Observer, want: dict[str, Any]) -> Result:
    ha = await obs.ha()
    proxy = short(want.get("proxy") or ha["keepalived"]["holder"])
    for found in ha["haproxy"]:
        if short(found["node"]) != proxy:
            continue
        for backend in found["backends"]:
            if backend["backend"] != want["backend"]:
                continue
            for line in backend["servers"]:
                if line["server"] == want["server"]:
                    status = str(line["status"]).split()[0]
                    return status == want["status"], f"{proxy}: {want['backend']}/" \
                                                     f"{want['server']} {line['status']}"
    return False, f"no server {want['backend']}/{want['server']} on {proxy}"


async def agent(obs: Observer, want: dict[str, Any]) -> Result:
    agents = (await obs.get("/networking/v2.0/agents"))["agents"]
    for found in agents:
        if short(found["host"]) == short(want["host"]) and found["binary"] == want["binary"]:
            return found["alive"] == want["alive"], \
                f"{found['binary']} on {short(found['host'])} alive={found['alive']}"
    return False, f"no {want['binary']} on {want['host']}"


async def service(obs: Observer, want: dict[str, Any]) -> Result:
    services = (await obs.get("/compute/v2.1/os-services"))["services"]
    for found in services:
        if short(found["host"]) == short(want["host"]) and found["binary"] == want["binary"]:
            return found["state"] == want["state"], \
                f"{found['binary']} on {short(found['host'])} {found['state']}"
    return False, f"no {want['binary']} on {want['host']}"


async def router_master(obs: Observer, want: dict[str, Any]) -> Result:
    router = obs.resources.id("routers", want["router"])
    instances = (await obs.ha())["routers"].get(router, [])
    masters = sorted(short(i["node"]) or "" for i in instances if i["state"] == "MASTER")
    if "node" in want:
        wanted = [short(want["node"]) or ""]
    elif "nodes" in want:
        wanted = sorted(short(n) or "" for n in want["nodes"])
    else:
        return len(masters) == 1, f"masters {masters}"
    return masters == wanted, f"masters {masters}"


async def ha_state(obs: Observer, want: dict[str, Any]) -> Result:
    router = obs.resources.id("routers", want["router"])
    agents = (await obs.get(f"/networking/v2.0/routers/{router}/l3-agents"))["agents"]
    for found in agents:
        if short(found["host"]) == short(want["host"]):
            return found.get("ha_state") == want["state"], \
                f"{short(found['host'])} ha_state {found.get('ha_state')}"
    return False, f"{want['host']} hosts no {want['router']}"


async def _hosting(obs: Observer, path: str, want: dict[str, Any]) -> Result:
    agents = (await obs.get(path))["agents"]
    alive = sorted(short(a["host"]) or "" for a in agents if a["alive"])
    held = _count(len(alive), want.get("alive", {}))
    if "hosts" in want:
        held = held and sorted(short(h) or "" for h in want["hosts"]) == \
            sorted(short(a["host"]) or "" for a in agents)
    hosts = sorted(f"{short(a['host'])}{'' if a['alive'] else ' (dead)'}" for a in agents)
    return held, f"hosted by {hosts}"


async def dhcp_agents(obs: Observer, want: dict[str, Any]) -> Result:
    network = obs.resources.id("networks", want["network"])
    return await _hosting(obs, f"/networking/v2.0/networks/{network}/dhcp-agents", want)


async def l3_agents(obs: Observer, want: dict[str, Any]) -> Result:
    router = obs.resources.id("routers", want["router"])
    return await _hosting(obs, f"/networking/v2.0/routers/{router}/l3-agents", want)


async def server(obs: Observer, want: dict[str, Any]) -> Result:
    server_id = obs.resources.id("servers", want["name"])
    body = (await obs.get(f"/compute/v2.1/servers/{server_id}", ADMIN_VERSION))["server"]
    seen = {"status": body["status"], "host": short(body.get("OS-EXT-SRV-ATTR:host")),
            "task_state": body.get("OS-EXT-STS:task_state")}
    held = all(seen[key] == (short(want[key]) if key == "host" else want[key])
               for key in ("status", "host", "task_state") if key in want)
    return held, f"{want['name']}: {seen['status']} on {seen['host']}" + (
        f" ({seen['task_state']})" if seen["task_state"] else "")


async def lab_status(obs: Observer, want: str) -> Result:
    found = (await obs.get("/stacklab/v1/status"))["status"]
    return found == want, f"status {found}"


async def probe(obs: Observer, want: dict[str, Any]) -> Result:
    if obs.probe is None:
        return False, "no probe runs"
    since = want.get("since", "last_act")
    start = (0.0 if since == "start" else obs.last_act() if since == "last_act"
             else obs.driver.now() - float(since))
    records = obs.probe.select(since=start, call=want.get("call"))
    errors = [r for r in records if not r.ok
              and ("status" not in want or r.status == want["status"])]
    oks = [r for r in records if r.ok]
    held = _count(len(errors), want.get("errors", {})) and _count(len(oks), want.get("ok", {}))
    outcomes = sorted({r.outcome() for r in errors})
    return held, f"{len(oks)} ok, {len(errors)} errors {outcomes if outcomes else ''}".strip()


async def request(obs: Observer, want: dict[str, Any]) -> Result:
    answer = await obs.request(want.get("method", "GET"), want["path"], want.get("body"))
    return answer.status == want["status"], f"answered {answer.describe()}"


EVALUATORS: dict[str, Callable[[Observer, Any], Awaitable[Result]]] = {
    "vip_holder": vip_holder, "galera_primary": galera_primary,
    "galera_member": galera_member, "haproxy_server": haproxy_server, "agent": agent,
    "rabbitmq_serving": rabbitmq_serving, "rabbitmq_node": rabbitmq_node,
    "service": service, "router_master": router_master, "ha_state": ha_state,
    "dhcp_agents": dhcp_agents, "l3_agents": l3_agents, "server": server,
    "lab_status": lab_status, "probe": probe, "request": request,
}


async def evaluate(obs: Observer, condition: dict[str, Any]) -> Result:
    """Whether one condition (a one-key mapping) holds, and what was seen."""
    ((name, want),) = condition.items()
    try:
        return await EVALUATORS[name](obs, want)
    except Unreadable as error:
        return False, str(error)
