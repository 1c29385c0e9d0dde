"""The probe: a client looping real API calls through the public VIP while the scenario runs,
as an operator's ``while true; do openstack server list; done`` would.

Each call is recorded with the lab time it was sent, how long it took and what it got
(a status, or no answer: the connection closed, nobody holding the VIP). Writes
(``network_create``) keep the ids the cloud acknowledged, so that a checker can ask
afterwards whether every acknowledged write is still there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stacklab.scenarios.driver import Answer, Driver


@dataclass(frozen=True)
class Credentials:
    username: str = "admin"
    password: str = "secret"
    project: str = "admin"
    user_domain: str = "Default"
    project_domain: str = "Default"

    def body(self) -> dict[str, Any]:
        return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": self.username, "domain": {"name": self.user_domain},
            "password": self.password}}},
            "scope": {"project": {"name": self.project,
                                  "domain": {"name": self.project_domain}}}}}


@dataclass(frozen=True)
class Record:
    at: float
    call: str
    took: float
    status: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def outcome(self) -> str:
        return str(self.status) if self.status is not None else self.error


# Each call: method and path (and body) as the CLI's request would be.
READS = {
    "server_list": ("GET", "/compute/v2.1/servers/detail"),
    "network_list": ("GET", "/networking/v2.0/networks"),
    "image_list": ("GET", "/image/v2/images"),
    "flavor_list": ("GET", "/compute/v2.1/flavors"),
    "agent_list": ("GET", "/networking/v2.0/agents"),
}


async def issue_token(driver: Driver, credentials: Credentials, *,
                      pump: bool = True) -> tuple[Answer, str | None]:
    answer = await driver.request("POST", "/identity/v3/auth/tokens", json=credentials.body(),
                                  pump=pump)
    token = (answer.headers or {}).get("x-subject-token") if answer.status == 201 else None
    return answer, token


@dataclass
class Probe:
    driver: Driver
    credentials: Credentials
    calls: Sequence[str]
    interval: float = 1.0
    prefix: str = "probe"
    token: str | None = None
    records: list[Record] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # acknowledged network ids
    _count: int = 0

    async def run(self) -> None:
        while True:
            for call in self.calls:
                await self.call(call)
            await self.driver.sleep(self.interval)

    async def call(self, call: str) -> Record:
        began = self.driver.now()
        if call == "token_issue" or self.token is None:
            answer, token = await issue_token(self.driver, self.credentials, pump=False)
            if token is not None:
                self.token = token
            if call == "token_issue":
                return self._record(began, call, answer)
            self._record(began, "token_issue", answer)
            if token is None:
                # No token, no call: the call failed as the login did.
                return self._record(began, call, Answer(answer.status, None,
                                                        error=answer.error or "no token"))
            began = self.driver.now()
        if call == "network_create":
            self._count += 1
            answer = await self.driver.request(
                "POST", "/networking/v2.0/networks", token=self.token, pump=False,
                json={"network": {"name": f"{self.prefix}-{self._count}"}})
            if answer.status == 201 and isinstance(answer.body, dict):
                self.written.append(answer.body["network"]["id"])
        else:
            method, path = READS[call]
            answer = await self.driver.request(method, path, token=self.token, pump=False)
        if answer.status == 401:
            self.token = None  # expired or revoked: the next call logs in again
        return self._record(began, call, answer)

    def _record(self, began: float, call: str, answer: Answer) -> Record:
        record = Record(round(began, 3), call, round(self.driver.now() - began, 3),
                        answer.status, answer.error)
        self.records.append(record)
        return record

    def select(self, *, since: float = 0.0, call: str | None = None) -> list[Record]:
        return [r for r in self.records if r.at >= since and (call is None or r.call == call)]

    def summary(self) -> dict[str, Any]:
        """Per call: how many succeeded, failed, the longest wait (lab seconds: a SYN
        retransmitted while nobody held the VIP, a connect timeout on a dead controller)
        and the failures' outcomes."""
        found: dict[str, Any] = {}
        for record in self.records:
            entry = found.setdefault(record.call, {"ok": 0, "errors": 0, "slowest": 0.0,
                                                   "outcomes": Counter()})
            entry["slowest"] = max(entry["slowest"], record.took)
            if record.ok:
                entry["ok"] += 1
            else:
                entry["errors"] += 1
                entry["outcomes"][record.outcome()] += 1
        for entry in found.values():
            entry["outcomes"] = dict(entry["outcomes"])
        return found

    async def stop(self, task: asyncio.Task[None]) -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
