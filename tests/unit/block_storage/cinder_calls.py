"""Helpers for calling the Block Storage API in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from starlette.testclient import TestClient

from stacklab.clock import VirtualClock

V3 = "/volume/v3"


def at(token: str, version: str = "3.71") -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"volume {version}"}


def member_token(client: TestClient, admin: str, name: str) -> tuple[str, str]:
    """A new project and a user with the member role in it: (token, project id)."""
    headers = {"X-Auth-Token": admin}
    project = client.post("/identity/v3/projects", headers=headers,
                          json={"project": {"name": f"p-{name}"}}).json()["project"]["id"]
    user = client.post("/identity/v3/users", headers=headers, json={
        "user": {"name": f"u-{name}", "password": f"pw-{name}"}}).json()["user"]["id"]
    member = client.get("/identity/v3/roles?name=member", headers=headers).json()["roles"][0]
    client.put(f"/identity/v3/projects/{project}/users/{user}/roles/{member['id']}",
               headers=headers)
    issued = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": user, "password": f"pw-{name}"}}},
        "scope": {"project": {"id": project}}}})
    assert issued.status_code == 201, issued.text
    return issued.headers["X-Subject-Token"], project


class Lab:
    """A started cloud on a virtual clock and its API through httpx on the test's own loop
    (so the casts to the scheduler and the volume services run step by step)."""

    def __init__(self, cloud: Any, clock: VirtualClock, client: httpx.AsyncClient) -> None:
        self.cloud = cloud
        self.clock = clock
        self.client = client
        self.token = ""

    async def login(self, name: str = "admin", password: str = "secret",
                    project: str = "admin") -> str:
        answer = await self.client.post("/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": name, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
        assert answer.status_code == 201, answer.text
        return str(answer.headers["X-Subject-Token"])

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
        return await self.login(f"u-{name}", f"pw-{name}", f"p-{name}"), project

    async def call(self, method: str, path: str, body: Any = None, *, expect: int = 200,
                   token: str | None = None, version: str = "3.71") -> Any:
        answer = await self.client.request(
            method, f"/volume/v3{path}", json=body,
            headers={"X-Auth-Token": token or self.token,
                     "OpenStack-API-Version": f"volume {version}"})
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def settle(self, seconds: float = 1.0) -> None:
        await self.clock.run_for(seconds)

    async def until_status(self, ident: str, *statuses: str) -> dict[str, Any]:
        """Wait (in real time too: image data is read on a worker thread) until the volume
        leaves its transient status."""
        for _ in range(200):
            shown = await self.volume(ident)
            if shown["status"] in statuses:
                return shown
            await asyncio.sleep(0.01)
            await self.clock.run_for(0.1)
        raise AssertionError(f"volume {ident} stayed {shown['status']}")

    async def create(self, *, token: str | None = None, expect: int = 202,
                     **fields: Any) -> dict[str, Any]:
        body = await self.call("POST", "/volumes", {"volume": {"size": 1, **fields}},
                               expect=expect, token=token)
        await self.settle()
        return dict(body)

    async def volume(self, ident: str, token: str | None = None) -> dict[str, Any]:
        return dict((await self.call("GET", f"/volumes/{ident}", token=token))["volume"])


Scenario = Callable[[Lab], Awaitable[None]]


def run_lab(scenario: Scenario, config: Any = None, *, heartbeats: bool = True) -> None:
    """Start a cloud on a virtual clock (its services reporting), run ``scenario``, stop."""
    from stacklab.api.app import build_app
    from stacklab.cloud import Cloud
    from support.inprocess import ephemeral_config

    clock = VirtualClock()
    cloud = Cloud(config or ephemeral_config(), clock=clock)

    async def main() -> None:
        cloud.start("http://testserver")
        background = asyncio.create_task(cloud.run_background()) if heartbeats else None
        try:
            transport = httpx.ASGITransport(app=build_app(cloud))
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as client:
                lab = Lab(cloud, clock, client)
                lab.token = await lab.login()
                await lab.settle(0)
                await scenario(lab)
        finally:
            if background is not None:
                background.cancel()
            cloud.stop()

    asyncio.run(main())
