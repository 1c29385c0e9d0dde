"""The runner's own logic, without a cloud: token renewal, failover durations, probe outages."""

from __future__ import annotations

import asyncio
from typing import Any

from stacklab.scenarios.driver import Answer
from stacklab.scenarios.format import Step, parse
from stacklab.scenarios.probe import Credentials, Record
from stacklab.scenarios.runner import Runner, failovers, outages


class Scripted:
    """A driver answering from a script: each login a new token, 401 for the first one."""

    def __init__(self) -> None:
        self.logins = 0
        self.sent: list[tuple[str, str, str | None]] = []

    def now(self) -> float:
        return 0.0

    async def request(self, method: str, path: str, *, token: str | None = None,
                      json: Any = None, headers: dict[str, str] | None = None,
                      pump: bool = True) -> Answer:
        self.sent.append((method, path, token))
        if path == "/identity/v3/auth/tokens":
            self.logins += 1
            return Answer(201, {}, headers={"x-subject-token": f"t{self.logins}"})
        return Answer(401, {}) if token == "t1" else Answer(200, {"ok": True})


def test_a_refused_token_is_renewed_once() -> None:
    driver = Scripted()
    runner = Runner(parse({"name": "s", "steps": [{"wait": 1}]}), driver,  # type: ignore[arg-type]
                    Credentials(), "virtual", probe=False)
    answer = asyncio.run(runner.call("GET", "/compute/v2.1/servers"))
    assert answer.status == 200
    assert [token for _, path, token in driver.sent if path != "/identity/v3/auth/tokens"] \
        == ["t1", "t2"]


def test_a_failover_runs_from_the_act_to_the_first_other_holder() -> None:
    power_off = Step(1, "act", {"action": "power_off", "node": "proxy1"})
    heal = Step(4, "act", "heal")
    acts = [(10.0, power_off, {"VIP holder": "proxy1", "router r1 master": ("network2",)}),
            (40.0, heal, {"VIP holder": "proxy2", "router r1 master": ("network1",)})]
    changes = [(10.25, "VIP holder", "proxy1", None), (14.0, "VIP holder", None, "proxy2"),
               (16.8, "router r1 master", ("network2",), ()),
               (17.0, "router r1 master", (), ("network1",)),
               (41.0, "router r1 master", ("network1",), ("network1", "network2")),
               (43.0, "router r1 master", ("network1", "network2"), ("network1",))]
    found = failovers(acts, changes)
    assert [(f["step"], f["what"], f["from"], f["to"], f["seconds"]) for f in found] == [
        (1, "VIP holder", "proxy1", "proxy2", 4.0),
        (1, "router r1 master", "network2", "network1", 7.0),
        # A split brain healed is a change of masters, from the act on.
        (4, "router r1 master", "network1", "network1+network2", 1.0)]


def test_no_holder_before_the_act_is_a_first_election_not_a_failover() -> None:
    act = Step(0, "act", {"action": "power_off", "node": "network1"})
    assert failovers([(0.0, act, {"router r1 master": ()})],
                     [(7.0, "router r1 master", (), ("network2",))]) == []


def test_the_probe_s_outages_are_when_it_failed_and_served_again() -> None:
    records = [Record(0.0, "server_list", 0.0, 200), Record(1.0, "server_list", 0.0, 503),
               Record(2.0, "server_list", 0.0, None, "connection closed"),
               Record(3.0, "server_list", 0.0, 200), Record(4.0, "server_list", 0.0, 500)]
    assert [(e.at, e.text, e.ok) for e in outages(records)] == [
        (1.0, "probe: server_list failing (503)", False),
        (3.0, "probe: served again after 2.00 s, 2 failed", True),
        (4.0, "probe: server_list failing (500) to the end", False)]
