"""Running a scenario: the step logic both runners share.

The runner logs in, checks the lab has what the scenario ``requires``, makes its
``setup`` resources through the API, starts the probe (real API calls in a loop) and a
sampler of ``/stacklab/v1/ha`` (who holds the VIPs, which nodes are an HA router's
keepalived masters, Galera's Primary Component), then runs the steps in order:

- ``act``: ``POST /stacklab/v1/faults`` with the action (``heal``: ``/faults/heal``);
- ``wait``: lab seconds pass, or until conditions hold (a timeout is a failed
  expectation);
- ``expect``: each condition held or not, with what was seen;
- ``call``: one API request (an evacuation...), its status checked if given.

The report holds the timeline (steps, what the sampler saw change, the probe's outages),
the failover durations (from each ``act`` to the new VIP holder or router master), the
probe's errors and every expectation's verdict; it passed when every one held.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stacklab.scenarios.conditions import Observer, Resources, evaluate, short
from stacklab.scenarios.driver import Answer, Driver
from stacklab.scenarios.format import DEFAULT_WAIT_TIMEOUT, Scenario, Step, conditions_list
from stacklab.scenarios.probe import Credentials, Probe, issue_token

COMPUTE_VERSION = {"OpenStack-API-Version": "compute 2.53",
                   "X-OpenStack-Nova-API-Version": "2.53"}
# How often the sampler reads /stacklab/v1/ha: closely just after a fault, then calmly.
FINE_SAMPLE, COARSE_SAMPLE, FINE_WINDOW = 0.25, 5.0, 40.0
UNTIL_POLL = 0.5
SERVER_BUILD_BUDGET = 400.0
PLACEHOLDER = re.compile(r"\{(networks|routers|servers)\.([^}]+)\}")


class ScenarioFailed(Exception):
    """Something the scenario needs could not be done (setup refused, lab too small)."""


@dataclass
class Event:
    at: float
    kind: str  # step, change, probe, setup
    text: str
    ok: bool | None = None

    def render(self) -> dict[str, Any]:
        return {"at": round(self.at, 2), "kind": self.kind, "text": self.text,
                **({} if self.ok is None else {"ok": self.ok})}


@dataclass
class Verdict:
    step: int
    condition: str
    held: bool
    seen: str
    at: float

    def render(self) -> dict[str, Any]:
        return {"step": self.step, "condition": self.condition, "held": self.held,
                "seen": self.seen, "at": round(self.at, 2)}


@dataclass
class Report:
    name: str
    mode: str
    timeline: list[Event] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    failovers: list[dict[str, Any]] = field(default_factory=list)
    probe: dict[str, Any] = field(default_factory=dict)
    probe_errors: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    lab_seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.error and all(v.held for v in self.verdicts)

    def render(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "passed": self.passed,
                "lab_seconds": round(self.lab_seconds, 2),
                **({"error": self.error} if self.error else {}),
                "expectations": [v.render() for v in self.verdicts],
                "failovers": self.failovers, "probe": self.probe,
                "probe_errors": self.probe_errors,
                "timeline": [e.render() for e in self.timeline]}


@dataclass
class Sampler:
    """Reads ``/stacklab/v1/ha`` in the background and keeps each watched value's changes."""

    driver: Driver
    token: Callable[[], str]  # the runner's current token (renewed when refused)
    routers: dict[str, str]  # id -> name
    changes: list[tuple[float, str, Any, Any]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    fine_until: float = FINE_WINDOW

    async def look(self) -> None:
        answer = await self.driver.sample(self.token())
        if not answer.ok:
            return
        ha = answer.body
        now = self.driver.now()
        seen: dict[str, Any] = {
            "VIP holder": short(ha["holder"]),
            "Galera primary component": tuple(sorted(short(n) or "" for n in
                                                     ha["primary_component"])),
        }
        if ha["rabbit_serving"] is not None:
            seen["RabbitMQ serving"] = tuple(sorted(short(n) or "" for n in
                                                    ha["rabbit_serving"]))
        for router_id, name in self.routers.items():
            masters = tuple(sorted(short(node) or "" for node in
                                   ha["routers"].get(router_id, [])))
            seen[f"router {name} master"] = masters
        for key, value in seen.items():
            if key in self.values and self.values[key] != value:
                self.changes.append((now, key, self.values[key], value))
            self.values[key] = value

    async def run(self) -> None:
        while True:
            await self.look()
            fine = self.driver.now() < self.fine_until
            await self.driver.sleep(FINE_SAMPLE if fine else COARSE_SAMPLE)


def shown(value: Any) -> str:
    if value is None or value == ():
        return "none"
    if isinstance(value, tuple):
        return "+".join(value)
    return str(value)


class Runner:
    def __init__(self, scenario: Scenario, driver: Driver, credentials: Credentials,
                 mode: str, *, probe: bool = True) -> None:
        self.scenario = scenario
        self.driver = driver
        self.credentials = credentials
        self.report = Report(scenario.name, mode)
        self.resources = Resources({"networks": {}, "routers": {}, "servers": {}})
        self._token: str | None = None
        self._last_act = 0.0
        self.acts: list[tuple[float, Step, dict[str, Any]]] = []
        self.probe: Probe | None = (Probe(driver, credentials, scenario.probe_calls,
                                          scenario.probe_interval,
                                          prefix=f"scenario-{scenario.name}-probe")
                                    if probe else None)
        self.sampler: Sampler | None = None
        self.observer = Observer(driver, self.call, lambda: self._token or "",
                                 self.resources, self.probe, lambda: self._last_act)

    # -- the API --------------------------------------------------------------------------------

    async def token(self) -> str:
        """The runner's admin token (logging in if it has none); ScenarioFailed if it cannot."""
        answer, token = await self._login()
        if token is None:
            raise ScenarioFailed(f"cannot log in as {self.credentials.username}: "
                                 f"{answer.describe()} {answer.text[:200]}")
        return token

    async def _login(self) -> tuple[Answer, str | None]:
        if self._token is not None:
            return Answer(201, None), self._token
        answer, token = await issue_token(self.driver, self.credentials)
        self._token = token
        return answer, token

    async def call(self, method: str, path: str, body: Any = None, *,
                   headers: dict[str, str] | None = None) -> Answer:
        """One request as the admin; a token refused (expired) is renewed once, and a login
        refused (the control plane down) is the answer."""
        for _ in range(2):
            login, token = await self._login()
            if token is None:
                return login
            answer = await self.driver.request(method, path, token=token, json=body,
                                               headers=headers)
            if answer.status != 401:
                return answer
            self._token = None
        return answer

    async def need(self, method: str, path: str, body: Any = None, *,
                   headers: dict[str, str] | None = None) -> Any:
        answer = await self.call(method, path, body, headers=headers)
        if not answer.ok:
            raise ScenarioFailed(f"{method} {path} answered {answer.describe()}: "
                                 f"{answer.text[:300]}")
        return answer.body

    def event(self, kind: str, text: str, ok: bool | None = None) -> None:
        self.report.timeline.append(Event(self.driver.now(), kind, text, ok))

    # -- before the steps -----------------------------------------------------------------------

    async def check_requires(self) -> None:
        requires = self.scenario.requires
        status = await self.need("GET", "/stacklab/v1/status")
        nodes = {node["name"]: node for node in status["nodes"]}
        missing = [n for n in requires.get("nodes", []) if short(n) not in nodes]
        if missing:
            raise ScenarioFailed(f"the lab has no node {', '.join(missing)}")
        for role, count in requires.get("roles", {}).items():
            have = sum(1 for node in nodes.values() if role in node["roles"])
            if have < count:
                raise ScenarioFailed(f"the scenario needs {count} {role} nodes, the lab has "
                                     f"{have}")
        if requires.get("dvr"):
            computes = [n for n in nodes.values() if "compute" in n["roles"]]
            if not any("neutron-l3-agent" in n["services"] for n in computes):
                raise ScenarioFailed("the scenario needs DVR (an L3 agent on the compute "
                                     "nodes: a topology with 'dvr: true')")

    async def setup(self) -> None:
        public: str | None = None
        for index, item in enumerate(self.scenario.setup):
            ((kind, spec),) = item.items()
            name = spec["name"]
            if kind == "network":
                network = (await self.need("POST", "/networking/v2.0/networks", {
                    "network": {"name": f"{self.scenario.name}-{name}"}}))["network"]
                cidr = spec.get("cidr", f"10.{90 + index // 250}.{index % 250}.0/24")
                subnet = (await self.need("POST", "/networking/v2.0/subnets", {"subnet": {
                    "network_id": network["id"], "cidr": cidr, "ip_version": 4,
                    "name": f"{self.scenario.name}-{name}"}}))["subnet"]
                self.resources.ids["networks"][name] = network["id"]
                self.resources.ids.setdefault("subnets", {})[name] = subnet["id"]
            elif kind == "router":
                body: dict[str, Any] = {"name": f"{self.scenario.name}-{name}"}
                for option in ("ha", "distributed"):
                    if option in spec:
                        body[option] = spec[option]
                if spec.get("gateway"):
                    if public is None:
                        found = (await self.need(
                            "GET", "/networking/v2.0/networks?router:external=True"))["networks"]
                        if not found:
                            raise ScenarioFailed("the lab has no external network")
                        public = found[0]["id"]
                    body["external_gateway_info"] = {"network_id": public}
                router = (await self.need("POST", "/networking/v2.0/routers",
                                          {"router": body}))["router"]
                self.resources.ids["routers"][name] = router["id"]
                for network in spec.get("networks", []):
                    subnet_id = self.resources.ids.get("subnets", {}).get(network)
                    if subnet_id is None:
                        raise ScenarioFailed(f"setup[{index}]: no network {network!r} "
                                             "made before")
                    await self.need("PUT", f"/networking/v2.0/routers/{router['id']}/"
                                    "add_router_interface", {"subnet_id": subnet_id})
            else:
                await self.boot(index, spec)
            self.event("setup", f"{kind} {name} made")

    async def boot(self, index: int, spec: dict[str, Any]) -> None:
        name = spec["name"]
        network = self.resources.ids["networks"].get(spec["network"])
        if network is None:
            raise ScenarioFailed(f"setup[{index}]: no network {spec['network']!r} made before")
        flavors = (await self.need("GET", "/compute/v2.1/flavors"))["flavors"]
        flavor = next((f["id"] for f in flavors if f["name"] == spec.get("flavor", "m1.tiny")),
                      None)
        images = (await self.need("GET", "/image/v2/images"))["images"]
        image = next((i["id"] for i in images if "image" not in spec
                      or i["name"] == spec["image"]), None)
        if flavor is None or image is None:
            raise ScenarioFailed(f"setup[{index}]: no flavor or image to boot {name}")
        body: dict[str, Any] = {"name": f"{self.scenario.name}-{name}", "flavorRef": flavor,
                                "imageRef": image, "networks": [{"uuid": network}]}
        if "host" in spec:
            body["availability_zone"] = f"nova:{self._fqdn(spec['host'])}"
        server = (await self.need("POST", "/compute/v2.1/servers", {"server": body},
                                  headers=COMPUTE_VERSION))["server"]
        self.resources.ids["servers"][name] = server["id"]
        began = self.driver.now()
        while True:
            shown_ = (await self.need("GET", f"/compute/v2.1/servers/{server['id']}",
                                      headers=COMPUTE_VERSION))["server"]
            if shown_["status"] == "ACTIVE":
                return
            if shown_["status"] == "ERROR" or self.driver.now() - began > SERVER_BUILD_BUDGET:
                raise ScenarioFailed(f"setup[{index}]: server {name} is {shown_['status']}")
            await self.driver.advance(1.0)

    def _fqdn(self, name: str) -> str:
        return name if "." in name else f"{name}.openstack.local"

    # -- the steps ------------------------------------------------------------------------------

    async def run(self) -> Report:
        background: list[asyncio.Task[None]] = []
        try:
            await self.token()
            await self.check_requires()
            await self.setup()
            await self.token()
            self.sampler = Sampler(self.driver, lambda: self._token or "",
                                   {v: k for k, v in self.resources.ids["routers"].items()})
            await self.sampler.look()
            background.append(asyncio.ensure_future(self.sampler.run()))
            if self.probe is not None:
                background.append(asyncio.ensure_future(self.probe.run()))
            self._last_act = self.driver.now()
            for step in self.scenario.steps:
                await self.step(step)
        except ScenarioFailed as error:
            self.report.error = str(error)
            self.event("error", str(error), False)
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self.finish()
        return self.report

    async def step(self, step: Step) -> None:
        text = f"[{step.index}] {step.describe()}"
        if step.kind == "act":
            path, body = (("/stacklab/v1/faults/heal", None) if step.value == "heal"
                          else ("/stacklab/v1/faults", step.value))
            # What held just before the fault: where each failover starts from.
            before: dict[str, Any] = {}
            if self.sampler is not None:
                await self.sampler.look()
                before = dict(self.sampler.values)
            self._last_act = self.driver.now()
            self.acts.append((self._last_act, step, before))
            answer = await self.call("POST", path, body)
            if self.sampler is not None:
                self.sampler.fine_until = self._last_act + FINE_WINDOW
            if not answer.ok:
                raise ScenarioFailed(f"steps[{step.index}].act: the lab refused it: "
                                     f"{answer.describe()} {_message(answer)}")
            self.event("step", text + ("" if answer.body.get("changed") else " (no change)"))
        elif step.kind == "wait":
            if isinstance(step.value, int | float):
                self.event("step", text)
                await self.driver.advance(float(step.value))
            else:
                await self.wait_until(step, text)
        elif step.kind == "expect":
            self.observer.fresh()
            results = [(condition, await evaluate(self.observer, condition))
                       for condition in conditions_list(step.value)]
            for condition, (held, seen) in results:
                self.verdict(step, condition, held, seen)
            self.event("step", text, all(held for _, (held, _) in results))
        else:
            await self.api_call(step, text)

    async def wait_until(self, step: Step, text: str) -> None:
        conditions = conditions_list(step.value["until"])
        timeout = float(step.value.get("timeout", DEFAULT_WAIT_TIMEOUT))
        began = self.driver.now()
        self.event("step", text)
        while True:
            self.observer.fresh()
            results = [(condition, await evaluate(self.observer, condition))
                       for condition in conditions]
            if all(held for _, (held, _) in results):
                self.event("step", f"[{step.index}] held after "
                                   f"{self.driver.now() - began:.2f} s", True)
                for condition, (held, seen) in results:
                    self.verdict(step, condition, held, seen)
                return
            if self.driver.now() - began >= timeout:
                for condition, (held, seen) in results:
                    self.verdict(step, condition, held, seen + f" (after {timeout:g} s)")
                self.event("step", f"[{step.index}] not held within {timeout:g} s", False)
                return
            await self.driver.advance(UNTIL_POLL)

    async def api_call(self, step: Step, text: str) -> None:
        spec = step.value
        path = self.fill(spec["path"])
        body = self.fill(spec.get("body"))
        headers = {**COMPUTE_VERSION, **spec.get("headers", {})} \
            if path.startswith("/compute") else spec.get("headers")
        answer = await self.call(spec.get("method", "POST" if "body" in spec else "GET"),
                                 path, body, headers=headers)
        if "status" in spec:
            held = answer.status == spec["status"]
            self.verdict(step, {"status": spec["status"]}, held,
                         f"answered {answer.describe()} {_message(answer)}".strip())
        else:
            held = answer.ok
        self.event("step", f"{text}: {answer.describe()}", held)

    def fill(self, value: Any) -> Any:
        """``{servers.vm1}`` and the like replaced by the ids setup made."""
        if isinstance(value, str):
            return PLACEHOLDER.sub(lambda m: self.resources.id(m.group(1), m.group(2)), value)
        if isinstance(value, list):
            return [self.fill(item) for item in value]
        if isinstance(value, dict):
            return {key: self.fill(item) for key, item in value.items()}
        return value

    def verdict(self, step: Step, condition: dict[str, Any], held: bool, seen: str) -> None:
        from stacklab.scenarios.format import conditions_text

        self.report.verdicts.append(Verdict(step.index, conditions_text(condition), held,
                                            seen, self.driver.now()))

    # -- the report -----------------------------------------------------------------------------

    def finish(self) -> None:
        report = self.report
        report.lab_seconds = self.driver.now()
        if self.sampler is not None:
            for at, key, old, new in self.sampler.changes:
                report.timeline.append(Event(at, "change", f"{key}: {shown(old)} -> "
                                                           f"{shown(new)}"))
            report.failovers = failovers(self.acts, self.sampler.changes)
        if self.probe is not None:
            report.probe = self.probe.summary()
            report.probe_errors = [{"at": r.at, "call": r.call, "outcome": r.outcome(),
                                    "took": r.took} for r in self.probe.records if not r.ok]
            report.timeline.extend(outages(self.probe.records))
        report.timeline.sort(key=lambda e: e.at)


def failovers(acts: list[tuple[float, Step, dict[str, Any]]],
              changes: list[tuple[float, str, Any, Any]]) -> list[dict[str, Any]]:
    """For each act, how long until each watched value settled on a new holder: the VIPs on
    another proxy, a router's master on another node (``from`` what held just before the
    act ``to`` the first other holder, in lab seconds from the act, as sampled). Nobody
    holding it before the act (a first election) is no failover."""
    found: list[dict[str, Any]] = []
    for number, (at, step, before) in enumerate(acts):
        until = acts[number + 1][0] if number + 1 < len(acts) else float("inf")
        done: set[str] = set()
        for when, key, _old, new in changes:
            if not at <= when < until or key in done:
                continue
            held = before.get(key)
            if held in (None, ()) or new in (None, ()) or new == held:
                continue
            done.add(key)
            found.append({"step": step.index, "act": step.describe(), "what": key,
                          "from": shown(held), "to": shown(new),
                          "seconds": round(when - at, 2)})
    return found


def outages(records: list[Any]) -> list[Event]:
    """The probe's failing stretches: when the first call failed, and when one succeeded again."""
    events = []
    failing: Any = None
    count = 0
    for record in sorted(records, key=lambda r: r.at):
        if not record.ok:
            if failing is None:
                failing, count = record, 0
            count += 1
        elif failing is not None:
            events.append(Event(failing.at, "probe", f"probe: {record.call} failing "
                                                     f"({failing.outcome()})", False))
            events.append(Event(record.at, "probe", f"probe: served again after "
                                                    f"{record.at - failing.at:.2f} s, "
                                                    f"{count} failed", True))
            failing = None
    if failing is not None:
        events.append(Event(failing.at, "probe", f"probe: {failing.call} failing "
                                                 f"({failing.outcome()}) to the end", False))
    return events


def _message(answer: Answer) -> str:
    body = answer.body
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
    return answer.text[:200] if answer.status is not None and not answer.ok else ""
