"""Helpers for driving heat-api in-process, on a virtual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from stacklab.clock import VirtualClock


class Heat:
    """A started cloud and heat-api through httpx on the test's own loop."""

    def __init__(self, cloud: Any, clock: VirtualClock, client: httpx.AsyncClient) -> None:
        self.cloud = cloud
        self.clock = clock
        self.client = client
        self.token = ""
        self.project = ""

    async def login(self, name: str = "admin", password: str = "secret",
                    project: str = "admin") -> tuple[str, str]:
        answer = await self.client.post("/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": name, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
        assert answer.status_code == 201, answer.text
        return str(answer.headers["X-Subject-Token"]), answer.json()["token"]["project"]["id"]

    async def member(self, name: str) -> tuple[str, str]:
        """A new project with a member user: (its token, its project id)."""
        headers = {"X-Auth-Token": self.token}
        project = (await self.client.post("/identity/v3/projects", headers=headers, json={
            "project": {"name": f"p-{name}"}})).json()["project"]["id"]
        user = (await self.client.post("/identity/v3/users", headers=headers, json={
            "user": {"name": f"u-{name}", "password": f"pw-{name}",
                     "default_project_id": project}})).json()["user"]["id"]
        roles = (await self.client.get("/identity/v3/roles?name=member",
                                       headers=headers)).json()["roles"]
        await self.client.put(f"/identity/v3/projects/{project}/users/{user}/roles/"
                              f"{roles[0]['id']}", headers=headers)
        token, _ = await self.login(f"u-{name}", f"pw-{name}", f"p-{name}")
        return token, project

    async def request(self, method: str, path: str, body: Any = None, *,
                      token: str | None = None, project: str | None = None,
                      params: Any = None) -> httpx.Response:
        sent = asyncio.ensure_future(self.client.request(
            method, f"/heat-api/v1/{project or self.project}{path}", json=body,
            params=params, headers={"X-Auth-Token": token or self.token}))
        # A request may wait on lab time (an engine's liveness check): the clock runs
        # while it is pending.
        while not sent.done():
            for _ in range(20):
                await asyncio.sleep(0)
                if sent.done():
                    break
            else:
                await self.clock.run_for(0.1)
        return sent.result()

    async def call(self, method: str, path: str, body: Any = None, *, expect: int = 200,
                   token: str | None = None, project: str | None = None,
                   params: Any = None) -> Any:
        answer = await self.request(method, path, body, token=token, project=project,
                                    params=params)
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def settle(self, seconds: float = 1.0) -> None:
        await self.clock.run_for(seconds)

    async def create(self, name: str, template: Any, *, expect: int = 201,
                     **fields: Any) -> Any:
        return await self.call("POST", "/stacks", {"stack_name": name, "template": template,
                                                   **fields}, expect=expect)

    async def stack(self, name: str, stack_id: str) -> dict[str, Any]:
        return dict((await self.call("GET", f"/stacks/{name}/{stack_id}"))["stack"])

    async def until(self, name: str, stack_id: str, *statuses: str,
                    seconds: float = 600) -> dict[str, Any]:
        """The stack once it reaches one of ``statuses`` (lab time runs meanwhile)."""
        waited = 0.0
        while True:
            shown = await self.stack(name, stack_id)
            if shown["stack_status"] in statuses:
                return shown
            if waited >= seconds:
                raise AssertionError(f"stack {name} stayed {shown['stack_status']}: "
                                     f"{shown['stack_status_reason']}")
            for _ in range(5):
                await asyncio.sleep(0)
            await self.clock.run_for(0.5)
            waited += 0.5


Scenario = Callable[[Heat], Awaitable[None]]


def run_heat(scenario: Scenario, config: Any = None) -> None:
    """Start a cloud on a virtual clock, run ``scenario`` as admin of the admin project."""
    from stacklab.api.app import build_app
    from stacklab.cloud import Cloud
    from support.inprocess import ephemeral_config

    clock = VirtualClock()
    cloud = Cloud(config or ephemeral_config(), clock=clock)

    async def main() -> None:
        cloud.start("http://testserver")
        try:
            transport = httpx.ASGITransport(app=build_app(cloud))
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as client:
                heat = Heat(cloud, clock, client)
                heat.token, heat.project = await heat.login()
                await heat.settle(0)
                await scenario(heat)
                assert cloud.unexpected_errors == 0
        finally:
            cloud.stop()

    asyncio.run(main())
