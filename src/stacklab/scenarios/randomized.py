"""Randomized mode: faults drawn from a seed while a workload runs, then heal, then the lab's
invariants checked (``stacklab scenario random --seed N``).

Everything is in-process and in virtual time: the cloud is seeded with ``N``, the faults
come from ``random.Random(N)``, and nothing reads the wall clock, so a seed replays
exactly (the same faults at the same lab times, the same answers). A run:

1. makes a workload: a network (two DHCP agents), an HA router on it with the external
   gateway, a server; the probe (token issue, server list, network create) runs
   throughout the faults;
2. applies ``steps`` random actions from ``topology/actions.py``'s vocabulary (power,
   processes, networks, partitions, links, an occasional heal) and boots a server now
   and then, letting random lab time pass after each while the invariants that must
   hold at every moment are checked every half second;
3. heals, lets the lab settle, and checks what must hold once it has.

Invariants (a violation names the lab time and what was seen):

- VRRP: at most one MASTER per instance among nodes that hear each other (the API VIPs'
  keepalived and every HA router's), beyond one advert interval of overlap;
- Galera: at most one Primary Component; with no member having left gracefully, it
  holds a majority of the votes;
- no acknowledged write lost: every network the probe got a 201 for, and every server
  a 202 for, is still there after heal;
- every server ends ACTIVE, SHUTOFF or ERROR, none stuck in BUILD;
- agents and services tell the truth within their down times: a node off for longer
  than the down time plus a report interval shows its agents dead and its nova-compute
  down; after heal, every agent alive and every service up;
- redundancy restored after heal: the VIPs held, every HAProxy server UP, Galera's three
  members Primary and Synced, each network on ``dhcp_agents_per_network`` live DHCP
  agents, each HA router on two or more live L3 agents with exactly one master.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import select
from dataclasses import dataclass, field
from typing import Any

from stacklab.scenarios.driver import VirtualDriver
from stacklab.scenarios.probe import Credentials, Probe, issue_token

COMPUTE_VERSION = {"OpenStack-API-Version": "compute 2.53",
                   "X-OpenStack-Nova-API-Version": "2.53"}
# How often (lab seconds) the invariants of every moment are checked.
CHECK_EVERY = 0.5
# Two masters of one VRRP instance that hear each other resolve within an advert
# interval (plus the advert's way): longer than this is a split brain that should not be.
VRRP_OVERLAP = 1.0
# The longest a random step lets pass (lab seconds).
LONGEST_STEP = 40.0
# After heal: at most this long for the lab to come back (a build waiting for its port
# gives up after vif_plugging_timeout, 300 s), checked every SETTLE_POLL.
SETTLE_BUDGET = 420.0
SETTLE_POLL = 10.0
# Nodes whose faults matter (the rest run nothing the cloud needs).
NODES = ("controller1", "controller2", "network1", "network2", "compute1", "compute2",
         "arbiter", "proxy1", "proxy2")
NETWORKS = ("management", "overlay", "external")
GALERA_PROCESSES = ("mariadb", "garbd")


@dataclass
class Outcome:
    seed: int
    steps: int
    actions: list[tuple[float, str]] = field(default_factory=list)
    violations: list[tuple[float, str]] = field(default_factory=list)
    probe: dict[str, Any] = field(default_factory=dict)
    lab_seconds: float = 0.0
    dvr: bool = False

    @property
    def passed(self) -> bool:
        return not self.violations

    def replay(self) -> str:
        return (f"stacklab scenario random --seed {self.seed} --steps {self.steps}"
                + (" --dvr" if self.dvr else ""))

    def render(self) -> dict[str, Any]:
        return {"seed": self.seed, "steps": self.steps, "dvr": self.dvr, "passed": self.passed,
                "lab_seconds": round(self.lab_seconds, 2),
                "actions": [{"at": round(at, 2), "action": text} for at, text in self.actions],
                "violations": [{"at": round(at, 2), "invariant": text}
                               for at, text in self.violations],
                "probe": self.probe, **({} if self.passed else {"replay": self.replay()})}

    def lines(self) -> list[str]:
        verdict = "no invariant violated" if self.passed else \
            f"{len(self.violations)} invariant violations"
        lines = [f"seed {self.seed}, {self.steps} steps, {self.lab_seconds:.0f} lab seconds: "
                 f"{verdict}"]
        lines += [f"  {at:9.2f} {text}" for at, text in self.actions]
        lines += [f"  VIOLATION at {at:.2f}: {text}" for at, text in self.violations]
        for call, entry in self.probe.items():
            lines.append(f"  probe {call}: {entry['ok']} ok, {entry['errors']} errors")
        if not self.passed:
            lines.append(f"replay: {self.replay()}")
        return lines


@dataclass
class Workload:
    """What every seed's run starts from: made once, the same for every seed."""

    token: str = ""
    networks: list[str] = field(default_factory=list)
    routers: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)
    boot_refs: tuple[str, str] | None = None


def fqdn(name: str) -> str:
    return f"{name}.openstack.local"


class Checker:
    """One seeded run against an in-process cloud."""

    def __init__(self, cloud: Any, driver: VirtualDriver, seed: int, steps: int,
                 workload: Workload | None = None, *, dvr: bool = False) -> None:
        self.cloud = cloud
        self.dvr = dvr
        self.driver = driver
        self.rng = random.Random(seed)
        self.outcome = Outcome(seed, steps, dvr=dvr)
        workload = workload or Workload()
        self.token = workload.token
        self.servers = list(workload.servers)
        self.networks = list(workload.networks)
        self.routers = list(workload.routers)
        self._boot_refs = workload.boot_refs
        self._public: str | None = None
        self.graceful_galera_leave = False
        self._masters_since: dict[tuple[str, frozenset[str]], float] = {}
        self._down_since: dict[str, float] = {}
        self._reported: set[str] = set()
        self.probe = Probe(driver, Credentials(password=cloud.config.stacklab.admin_password),
                           ("server_list", "network_create"), interval=15.0,
                           prefix="random-probe")

    def violation(self, text: str) -> None:
        if text not in self._reported:  # one line per distinct finding
            self._reported.add(text)
            self.outcome.violations.append((self.driver.now(), text))

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        answer = await self.driver.request(method, path, token=self.token, json=body,
                                           headers=COMPUTE_VERSION)
        return answer

    # -- the run --------------------------------------------------------------------------

    async def prepare(self) -> Workload:
        """Log in and make the workload (a network, an HA router, a server), then let the
        lab settle: what every seed starts from."""
        answer, token = await issue_token(self.driver, self.probe.credentials)
        if token is None:
            raise RuntimeError(f"cannot log in before any fault: {answer.describe()}")
        self.token = token
        await self.workload()
        await self.driver.advance(SETTLE_POLL * 3)
        # Every read the checks make, once: what the lab answers is warm in every seed.
        await self.settled_problems()
        return Workload(self.token, list(self.networks), list(self.routers),
                        list(self.servers), self._boot_refs)

    async def run(self) -> Outcome:
        probe = asyncio.ensure_future(self.probe.run())
        try:
            for _ in range(self.outcome.steps):
                await self.random_step()
                await self.let_pass(self.rng.uniform(1.0, LONGEST_STEP))
                await self.check_truth()
        finally:
            await self.probe.stop(probe)
        await self.act({"action": "heal"})
        await self.settle()
        self.outcome.probe = self.probe.summary()
        self.outcome.lab_seconds = self.driver.now()
        return self.outcome

    async def workload(self) -> None:
        await self.add_router()
        await self.boot()

    async def add_router(self) -> None:
        """A network with a DHCP subnet and an HA router on it with the external gateway:
        made while faults are in force, it is what auto-scheduling must give its
        redundancy back to once they are healed."""
        number = len(self.networks) + 1
        steps = ["network", "subnet", "router", "interface"]
        network = await self.call("POST", "/networking/v2.0/networks",
                                  {"network": {"name": f"random-n{number}"}})
        if network.status == 201:
            subnet = await self.call("POST", "/networking/v2.0/subnets", {"subnet": {
                "network_id": network.body["network"]["id"],
                "cidr": f"10.77.{number}.0/24", "ip_version": 4}})
            if subnet.status == 201:
                # Only a network with a DHCP subnet is given DHCP agents.
                self.networks.append(network.body["network"]["id"])
                if self._public is None:
                    found = await self.call("GET",
                                            "/networking/v2.0/networks?router:external=True")
                    self._public = found.body["networks"][0]["id"] if found.ok else None
                router = await self.call("POST", "/networking/v2.0/routers", {"router": {
                    "name": f"random-r{number}", "ha": True, "distributed": self.dvr,
                    "external_gateway_info": {"network_id": self._public}}})
                if router.status == 201:
                    self.routers.append(router.body["router"]["id"])
                    interface = await self.call(
                        "PUT", f"/networking/v2.0/routers/{router.body['router']['id']}/"
                               "add_router_interface",
                        {"subnet_id": subnet.body["subnet"]["id"]})
                    steps = [] if interface.ok else ["interface"]
                else:
                    steps = ["router", "interface"]
            else:
                steps = ["subnet", "router", "interface"]
        self.outcome.actions.append((self.driver.now(), f"make network and router {number}"
                                     + (f" (refused from the {steps[0]} on)" if steps else "")))

    async def boot(self) -> None:
        if self._boot_refs is None:
            flavors = (await self.call("GET", "/compute/v2.1/flavors")).body
            images = (await self.call("GET", "/image/v2/images")).body
            if not (flavors and images):
                return
            self._boot_refs = (flavors["flavors"][0]["id"], images["images"][0]["id"])
        flavor, image = self._boot_refs
        answer = await self.call("POST", "/compute/v2.1/servers", {"server": {
            "name": f"random-vm{len(self.servers) + 1}", "flavorRef": flavor,
            "imageRef": image, "networks": [{"uuid": self.networks[0]}]}})
        if answer.status == 202:
            self.servers.append(answer.body["server"]["id"])
            self.outcome.actions.append((self.driver.now(), "boot a server (202)"))
        else:
            self.outcome.actions.append((self.driver.now(),
                                         f"boot a server: refused ({answer.describe()})"))

    async def random_step(self) -> None:
        runtime = self.cloud.runtime
        down = sorted(runtime.down_nodes())
        stopped = runtime.faults()["services_stopped"]
        detached = runtime.faults()["networks_detached"]
        choices: list[tuple[float, Any]] = [(3.0, "power_off"), (1.5, "stop_service"),
                                            (1.0, "detach"), (1.0, "partition"),
                                            (0.3, "set_link"), (0.5, "heal"), (0.7, "boot"),
                                            (0.4, "router")]
        if down:
            choices.append((2.0, "power_on"))
        if stopped:
            choices.append((1.0, "start_service"))
        if detached:
            choices.append((1.0, "attach"))
        total = sum(weight for weight, _ in choices)
        pick = self.rng.uniform(0, total)
        kind = choices[-1][1]
        for weight, name in choices:
            if pick < weight:
                kind = name
                break
            pick -= weight
        rng = self.rng
        if kind == "boot":
            if len(self.servers) < 4:
                await self.boot()
            return
        if kind == "router":
            if len(self.routers) < 3:
                await self.add_router()
            return
        action: dict[str, Any] = {"action": kind}
        if kind == "power_off":
            action["node"] = rng.choice(NODES)
        elif kind == "power_on":
            action["node"] = rng.choice(down).split(".")[0]
        elif kind == "stop_service":
            node = rng.choice(NODES)
            action.update(node=node, service=rng.choice(sorted(runtime.node(node).services)))
        elif kind == "start_service":
            entry = rng.choice(stopped)
            action.update(node=entry["node"].split(".")[0], service=entry["service"])
        elif kind == "detach":
            node = rng.choice(NODES)
            action.update(node=node, network=rng.choice(sorted(runtime.node(node).addresses)))
        elif kind == "attach":
            entry = rng.choice(detached)
            action.update(node=entry["node"].split(".")[0], network=entry["network"])
        elif kind == "partition":
            chosen = rng.sample(NODES, rng.randint(2, 5))
            cut = rng.randint(1, len(chosen) - 1)
            action["sides"] = [sorted(chosen[:cut]), sorted(chosen[cut:])]
        elif kind == "set_link":
            source, target = rng.sample(NODES, 2)
            action.update(source=source, target=target, latency=round(rng.uniform(0, 0.5), 2),
                          loss=round(rng.choice((0.0, 0.1, 0.5)), 2))
        await self.act(action)

    async def act(self, action: dict[str, Any]) -> None:
        if action["action"] == "stop_service" and action["service"] in GALERA_PROCESSES:
            self.graceful_galera_leave = True
        answer = await self.driver.request("POST", "/stacklab/v1/faults", token=self.token,
                                           json=action)
        words = " ".join(f"{k}={v}" for k, v in action.items() if k != "action")
        self.outcome.actions.append((self.driver.now(), f"{action['action']} {words}".strip()
                                     + ("" if answer.ok else f" -> {answer.describe()}")))
        if not answer.ok:
            self.violation(f"the lab refused {action}: {answer.describe()} {answer.text[:200]}")

    async def let_pass(self, seconds: float) -> None:
        # Whole checks, then the rest: the lab's clock reads ~1.7e9 s, whose float steps
        # would never quite reach a computed end.
        whole, rest = divmod(seconds, CHECK_EVERY)
        for _ in range(int(whole)):
            await self.driver.advance(CHECK_EVERY)
            self.check_moment()
        if rest > 1e-6:
            await self.driver.advance(rest)
            self.check_moment()

    # -- invariants of every moment ----------------------------------------------------------

    def check_moment(self) -> None:
        now = self.driver.now()
        plane = self.cloud.controlplane
        plane.time.sync()
        groups = [("API VIPs", plane.keepalived.group)] + [
            (f"router {router_id}", segment)
            for router_id, segment in sorted(self.cloud.agents.segments.items())]
        seen: set[tuple[str, frozenset[str]]] = set()
        for name, group in groups:
            masters = group.masters()
            for a, b in itertools.combinations(sorted(masters), 2):
                if group.connected(a, b) and group.connected(b, a):
                    key = (name, frozenset((a, b)))
                    seen.add(key)
                    since = self._masters_since.setdefault(key, now)
                    if now - since > VRRP_OVERLAP:
                        self.violation(f"{name}: {a} and {b} are both MASTER and hear each "
                                       f"other (since {since:.2f})")
        for key in list(self._masters_since):
            if key not in seen:
                del self._masters_since[key]
        galera = plane.galera
        components = {frozenset(m.component) for m in galera.members.values()
                      if m.running and m.primary}
        if len(components) > 1:
            self.violation(f"Galera: {len(components)} Primary Components at once: "
                           f"{sorted(sorted(c) for c in components)}")
        for component in components:
            votes = sum(galera.members[n].weight for n in component if n in galera.members)
            total = sum(m.weight for m in galera.members.values())
            if not self.graceful_galera_leave and 2 * votes <= total:
                self.violation(f"Galera: Primary Component {sorted(component)} holds "
                               f"{votes} of {total} votes")
        runtime = self.cloud.runtime
        for node in NODES:
            full = fqdn(node)
            if runtime.is_up(full):
                self._down_since.pop(full, None)
            else:
                self._down_since.setdefault(full, now)

    async def check_truth(self) -> None:
        """A node off for longer than the down time and a report interval (and a little
        slack for the periodic check) shows its agents dead and its nova-compute down."""
        now = self.driver.now()
        config = self.cloud.config
        agent_limit = config.DEFAULT.agent_down_time + config.AGENT.report_interval + 5
        service_limit = config.DEFAULT.service_down_time + config.DEFAULT.report_interval + 5
        long_down = {node: now - since for node, since in self._down_since.items()}
        if not any(seconds > min(agent_limit, service_limit)
                   for seconds in long_down.values()):
            return
        agents = await self.call("GET", "/networking/v2.0/agents")
        services = await self.call("GET", "/compute/v2.1/os-services")
        if agents.ok:
            for agent in agents.body["agents"]:
                if agent["alive"] and long_down.get(agent["host"], 0) > agent_limit:
                    self.violation(f"agent {agent['binary']} on {agent['host']} alive, its "
                                   f"node off for {long_down[agent['host']]:.0f} s")
        if services.ok:
            for service in services.body["services"]:
                if service["state"] == "up" and \
                        long_down.get(service["host"], 0) > service_limit:
                    self.violation(f"{service['binary']} on {service['host']} up, its node "
                                   f"off for {long_down[service['host']]:.0f} s")

    # -- after heal ---------------------------------------------------------------------------

    async def settle(self) -> None:
        """Let the lab come back, checking what must hold once it has; what still does
        not hold at the end of the budget is a violation."""
        began = self.driver.now()
        config = self.cloud.config
        # Every node is on again: each agent and service reports within its interval, so
        # by a down time and a report interval (and a poll) each must show alive and up.
        truthful_by = began + max(config.DEFAULT.agent_down_time,
                                  config.DEFAULT.service_down_time) \
            + config.AGENT.report_interval + SETTLE_POLL
        liveness_checked = False
        while True:
            await self.let_pass(SETTLE_POLL)
            problems = await self.settled_problems()
            if not problems:
                return
            if not liveness_checked and self.driver.now() >= truthful_by:
                liveness_checked = True
                for problem in problems:
                    if problem.endswith((" is dead", " is down")):
                        self.violation(f"{self.driver.now() - began:.0f} s after heal "
                                       f"(past the down times): {problem}")
            if self.driver.now() - began >= SETTLE_BUDGET:
                for problem in problems:
                    self.violation(f"{SETTLE_BUDGET:g} s after heal: {problem}")
                return

    async def settled_problems(self) -> list[str]:
        problems: list[str] = []
        plane = self.cloud.controlplane
        status = plane.status()
        holder = status["keepalived"]["holder"]
        if holder is None:
            problems.append("nobody holds the API VIPs")
        else:
            for backend in next(h for h in status["haproxy"] if h["node"] == holder)["backends"]:
                for line in backend["servers"]:
                    if line["status"] != "UP":
                        problems.append(f"HAProxy on {holder}: {backend['backend']}/"
                                        f"{line['server']} is {line['status']}")
        for member in status["galera"]["members"]:
            if (member["wsrep_cluster_status"], member["wsrep_local_state_comment"],
                    member["wsrep_cluster_size"]) != ("Primary", "Synced", 3):
                problems.append(f"Galera {member['node']}: {member['wsrep_cluster_status']} "
                                f"{member['wsrep_local_state_comment'] or 'down'} size "
                                f"{member['wsrep_cluster_size']}")
        agents = await self.call("GET", "/networking/v2.0/agents")
        services = await self.call("GET", "/compute/v2.1/os-services")
        if not (agents.ok and services.ok):
            return [*problems, f"the APIs do not answer ({agents.describe()}, "
                               f"{services.describe()})"]
        problems += [f"agent {a['binary']} on {a['host']} is dead"
                     for a in agents.body["agents"] if not a["alive"]]
        problems += [f"{s['binary']} on {s['host']} is down"
                     for s in services.body["services"] if s["state"] != "up"]
        wanted = self.cloud.config.DEFAULT.dhcp_agents_per_network
        for network in self.networks:
            hosting = (await self.call("GET", f"/networking/v2.0/networks/{network}/"
                                              "dhcp-agents")).body["agents"]
            if sum(1 for a in hosting if a["alive"]) < wanted:
                problems.append(f"network {network} has {len(hosting)} DHCP agents, "
                                f"not {wanted}")
        for router in self.routers:
            hosting = (await self.call("GET", f"/networking/v2.0/routers/{router}/"
                                              "l3-agents")).body["agents"]
            if sum(1 for a in hosting if a["alive"]) < 2:
                problems.append(f"router {router} is on {len(hosting)} L3 agents")
            segment = self.cloud.agents.segments.get(router)
            masters = segment.masters() if segment is not None else []
            if len(masters) != 1:
                problems.append(f"router {router} has masters {masters}")
        for server in self.servers:
            answer = await self.call("GET", f"/compute/v2.1/servers/{server}")
            if answer.status == 404:
                problems.append(f"server {server}, acknowledged with 202, is gone")
            elif not answer.ok:
                problems.append(f"server {server}: {answer.describe()}")
            elif answer.body["server"]["status"] not in ("ACTIVE", "SHUTOFF", "ERROR"):
                problems.append(f"server {server} is {answer.body['server']['status']} "
                                f"({answer.body['server'].get('OS-EXT-STS:task_state')})")
        listed = await self.call("GET", "/networking/v2.0/networks?fields=id")
        if listed.ok:
            have = {n["id"] for n in listed.body["networks"]}
            lost = [n for n in self.probe.written if n not in have]
            if lost:
                problems.append(f"{len(lost)} networks acknowledged with 201 are gone: "
                                f"{lost[:3]}")
        return problems


BASE_SEED = 7  # the cloud's own seed: every run starts from the same lab


def _lab(seeds: list[int], steps: int, fork: bool, dvr: bool = False,
         parallel: int = 1) -> list[Outcome]:
    """Build the lab once and make the workload, then run each seed from that same state:
    in a forked child each (the parent's lab stays as it was), or, without fork, here.

    The loop is driven by hand so that forking happens between two of its runs, never
    inside one: the child carries on the very loop, its lab's background tasks pending
    in it, from where the parent left it."""
    from stacklab.scenarios.run import virtual_cloud

    cloud, clock = virtual_cloud({"dvr": dvr}, seed=BASE_SEED)
    loop = asyncio.new_event_loop()
    try:
        cloud.start("http://stacklab.test")
        background = loop.create_task(cloud.run_background())
        driver = VirtualDriver(cloud, clock)
        workload = loop.run_until_complete(Checker(cloud, driver, 0, 0, dvr=dvr).prepare())
        outcomes = (_forked(loop, cloud, driver, seeds, steps, workload, parallel) if fork
                    else [loop.run_until_complete(_one(cloud, driver, seed, steps, workload))
                          for seed in seeds])
        background.cancel()  # the rest of what is pending goes with it below
        loop.run_until_complete(driver.close())
        return outcomes
    finally:
        # As asyncio.run ends: every task still pending (the lab's background and what it
        # started) cancelled and run to its end, so that none is left to the collector.
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        cloud.stop()


async def _one(cloud: Any, driver: VirtualDriver, seed: int, steps: int,
               workload: Workload) -> Outcome:
    errors = cloud.unexpected_errors
    outcome = await Checker(cloud, driver, seed, steps, workload,
                            dvr=workload_dvr(cloud)).run()
    if cloud.unexpected_errors > errors:
        outcome.violations.append((driver.now(), f"the cloud answered "
                                   f"{cloud.unexpected_errors - errors} unexpected 500s"))
    return outcome


def _forked(loop: asyncio.AbstractEventLoop, cloud: Any, driver: VirtualDriver,
            seeds: list[int], steps: int, workload: Workload, parallel: int) -> list[Outcome]:
    """Run each seed in a child process that carries on the loop (the lab in virtual time
    touches no file and no socket), ``parallel`` children at a time; the parent waits, its
    lab untouched, and reads each outcome from the child's pipe."""
    found: dict[int, Outcome] = {}
    running: dict[int, tuple[int, int, bytearray]] = {}  # read fd -> (pid, seed, data)
    queue = list(seeds)
    while queue or running:
        while queue and len(running) < max(parallel, 1):
            seed = queue.pop(0)
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: run the seed, answer, and vanish without cleaning up
                os.close(read)
                for other in running:
                    os.close(other)
                code = 0
                try:
                    outcome = loop.run_until_complete(
                        _one(cloud, driver, seed, steps, workload))
                    body = json.dumps(outcome.render()).encode()
                except BaseException as error:  # the parent must hear of anything
                    body = json.dumps({"crash": f"{type(error).__name__}: {error}"}).encode()
                    code = 1
                with os.fdopen(write, "wb") as pipe:
                    pipe.write(body)
                os._exit(code)
            os.close(write)
            running[read] = (pid, seed, bytearray())
        ready, _, _ = select.select(list(running), [], [])
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                running[fd][2].extend(chunk)
                continue
            pid, seed, data = running.pop(fd)
            os.close(fd)
            os.waitpid(pid, 0)
            found[seed] = _outcome(seed, steps, bytes(data), workload_dvr(cloud))
    return [found[seed] for seed in seeds]


def _outcome(seed: int, steps: int, raw: bytes, dvr: bool) -> Outcome:
    data = json.loads(raw or b"{}")
    if "crash" in data or not data:
        return Outcome(seed, steps, violations=[(0.0, f"the run crashed: "
                                                      f"{data.get('crash', 'no answer')}")],
                       dvr=dvr)
    return Outcome(seed, steps, dvr=data["dvr"],
                   actions=[(a["at"], a["action"]) for a in data["actions"]],
                   violations=[(v["at"], v["invariant"]) for v in data["violations"]],
                   probe=data["probe"], lab_seconds=data["lab_seconds"])


def workload_dvr(cloud: Any) -> bool:
    return bool(cloud.topology.dvr)


def run_seed(seed: int, *, steps: int = 6, dvr: bool = False) -> Outcome:
    """One randomized run, replayable from its seed (``dvr``: on the lab with distributed
    routers, the workload's router distributed and HA)."""
    (outcome,) = _lab([seed], steps, fork=False, dvr=dvr)
    return outcome


def run_seeds(seeds: list[int], *, steps: int = 6, dvr: bool = False,
              parallel: int = 0) -> list[Outcome]:
    """Many seeds from one lab, each in a forked child (where fork exists): the same
    outcome per seed as ``run_seed``, without building the lab again for each;
    ``parallel`` children at a time (default: one per CPU)."""
    return _lab(list(seeds), steps, fork=hasattr(os, "fork"), dvr=dvr,
                parallel=parallel or os.cpu_count() or 1)
