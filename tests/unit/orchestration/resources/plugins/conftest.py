"""A real in-process cloud for resource plugins, and the Context heat-engine would give them.

Each test runs ``run(scenario)``: a cloud on a ``VirtualClock`` (its nodes' background life
running, so builds, resizes and attachments progress as lab time passes), a ``demo`` project
with a member user, and a ``Lab`` that drives a plugin as the engine does (create, then
``create_complete`` with lab time passing between polls; update; delete) through a Context
whose ``call`` goes to the services' public APIs with that user's token, through
heat-engine's own ``Clients`` (the engine's headers and endpoints, by catalog type). The admin's own
client (``lab.admin``) reads back what the services show.
"""

from __future__ import annotations

import asyncio
import json
import string
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import httpx

from stacklab.api.app import build_app
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.orchestration.engine.clients import Clients
from stacklab.orchestration.resources.base import (
    COMPUTE,
    IDENTITY,
    IMAGE,
    NETWORK,
    VOLUME,
    ResourcePlugin,
)
from stacklab.orchestration.resources.properties import check_properties
from support.inprocess import ephemeral_config

# Each catalog type's endpoint (keystone's catalog): a plugin's path is relative to it, as
# keystoneauth's adapter takes it and heat-engine's clients do (/servers, /volumes,
# /v2.0/networks, /v2/images, /v3/users).
MOUNTS = {COMPUTE: "/compute/v2.1", NETWORK: "/networking", VOLUME: "/volume/v3",
          IMAGE: "/image", IDENTITY: "/identity"}
PASSWORD = "demo-secret"


class LabContext:
    """heat-engine's Context for one resource of the stack ``stack``, as the demo user."""

    def __init__(self, lab: Lab, resource_name: str, token: str, project_id: str,
                 stack_name: str = "stack") -> None:
        self.lab = lab
        self.stack_id = "5e3f0c6a-0000-4000-8000-000000000001"
        self.stack_name = stack_name
        self.project_id = project_id
        self.resource_name = resource_name
        self.data: MutableMapping[str, str] = {}
        self.metadata: MutableMapping[str, Any] = {}
        self.token = token
        self.calls: list[tuple[str, str, str]] = []

    def physical_name(self) -> str:
        if "physical_name" not in self.data:
            suffix = self.random_string(12, string.ascii_lowercase + string.digits)
            self.data["physical_name"] = f"{self.stack_name}-{self.resource_name}-{suffix}"
        return self.data["physical_name"]

    def cfn_url(self) -> str:
        return "http://testserver/heat-api-cfn/v1/"

    def keystone_url(self) -> str:
        return "http://testserver/identity/v3"

    async def create_stack_user(self, password: str) -> str:
        raise NotImplementedError("the plugin tests make no stack users")

    async def delete_stack_user(self, user_id: str) -> None:
        raise NotImplementedError("the plugin tests make no stack users")

    def random_string(self, length: int, characters: str) -> str:
        source = self.lab.names
        return "".join(characters[source.randint(0, len(characters) - 1)]
                       for _ in range(length))

    async def call(self, service: str, method: str, path: str, *, json: Any = None,
                   params: Mapping[str, Any] | None = None,
                   microversion: str | None = None) -> Any:
        self.calls.append((service, method, path))
        call = asyncio.ensure_future(self.lab.clients.call(
            self.token, service, method, path, json=json, params=params,
            microversion=microversion))
        # Some calls wait on the lab's time themselves (nova asks its compute over the bus
        # before it answers an attach): lab time passes while a call is out, as it would.
        while not call.done():
            await asyncio.wait({call}, timeout=0.01)
            if not call.done():
                await self.lab.clock.run_for(0.1)
        return call.result()


class Lab:
    def __init__(self, cloud: Cloud, clock: VirtualClock, admin: httpx.AsyncClient) -> None:
        self.cloud = cloud
        self.clock = clock
        self.admin = admin
        self.admin_headers: dict[str, str] = {}
        app = build_app(cloud)
        # heat-engine's own clients (headers, microversions, endpoints by catalog type).
        self.clients = Clients(lambda: app, lambda: "http://testserver", password="secret",
                               endpoints=MOUNTS)
        self.projects: dict[str, tuple[str, str]] = {}  # name -> (project id, token)
        self.names = cloud.ids.stream("heat-names")

    # -- the admin's view -----------------------------------------------------------------

    async def login(self, user: str, password: str, project: str) -> str:
        answer = await self.admin.post("/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
        assert answer.status_code == 201, answer.text
        return answer.headers["X-Subject-Token"]

    async def get(self, path: str, expect: int = 200, **headers: str) -> Any:
        answer = await self.admin.get(path, headers={**self.admin_headers, **headers})
        assert answer.status_code == expect, (path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def send(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        answer = await self.admin.request(method, path, json=body, headers=self.admin_headers)
        assert answer.status_code == expect, (path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def project(self, name: str = "demo") -> tuple[str, str]:
        """A project with a member user of the same name: (project id, user's token)."""
        if name not in self.projects:
            project = (await self.send("POST", "/identity/v3/projects", {"project": {
                "name": name, "domain_id": "default"}}, expect=201))["project"]["id"]
            user = (await self.send("POST", "/identity/v3/users", {"user": {
                "name": name, "domain_id": "default", "password": PASSWORD,
                "default_project_id": project}}, expect=201))["user"]["id"]
            roles = (await self.get("/identity/v3/roles?name=member"))["roles"]
            await self.send("PUT", f"/identity/v3/projects/{project}/users/{user}/roles/"
                            f"{roles[0]['id']}", expect=204)
            self.projects[name] = (project, await self.login(name, PASSWORD, name))
        return self.projects[name]

    async def context(self, resource_name: str, project: str = "demo") -> LabContext:
        project_id, token = await self.project(project)
        return LabContext(self, resource_name, token, project_id)

    async def admin_context(self, resource_name: str) -> LabContext:
        token = self.admin_headers["X-Auth-Token"]
        info = await self.get("/identity/v3/auth/tokens", **{"X-Subject-Token": token})
        return LabContext(self, resource_name, token, info["token"]["project"]["id"])

    # -- the engine's part ----------------------------------------------------------------

    async def until(self, check: Callable[[], Awaitable[bool]], interval: float,
                    limit: float = 600) -> None:
        """``check`` polled as heat-engine polls a *_complete, lab time passing between."""
        waited = 0.0
        while not await check():
            assert waited < limit, "never completed"
            await self.clock.run_for(interval)
            waited += interval

    async def create(self, plugin: ResourcePlugin, ctx: LabContext,
                     values: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
        """The resource made: (physical id, the checked properties)."""
        properties = check_properties(type(plugin).PROPERTIES, values,
                                      path=["resources", ctx.resource_name, "properties"])
        plugin.validate(properties)
        physical_id = await plugin.create(ctx, properties)
        await self.until(lambda: plugin.create_complete(ctx, physical_id, properties),
                         plugin.POLL_INTERVAL)
        return physical_id, properties

    async def update(self, plugin: ResourcePlugin, ctx: LabContext, physical_id: str | None,
                     old: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
        """An update as the engine makes it: only update_allowed changes reach the plugin
        (``UpdateReplace`` raised here otherwise, as the engine would replace)."""
        from stacklab.orchestration.resources.base import UpdateReplace

        new = check_properties(type(plugin).PROPERTIES, values,
                               path=["resources", ctx.resource_name, "properties"])
        plugin.validate(new)
        changed = frozenset(k for k in new if new[k] != old.get(k))
        if any(not type(plugin).PROPERTIES[k].update_allowed for k in changed):
            raise UpdateReplace()
        await plugin.update(ctx, physical_id, old, new, changed)
        await self.until(lambda: plugin.update_complete(ctx, physical_id, new),
                         plugin.POLL_INTERVAL)
        return new

    async def delete(self, plugin: ResourcePlugin, ctx: LabContext, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        await plugin.delete(ctx, physical_id, properties)
        await self.until(lambda: plugin.delete_complete(ctx, physical_id, properties),
                         plugin.POLL_INTERVAL)


Scenario = Callable[[Lab], Awaitable[None]]


def run(scenario: Scenario) -> None:
    """A started cloud on a virtual clock, its nodes' life running, the admin logged in."""
    clock = VirtualClock()
    cloud = Cloud(ephemeral_config(), clock=clock)

    async def main() -> None:
        cloud.start("http://testserver")
        background = asyncio.create_task(cloud.run_background())
        try:
            await clock.run_for(0)
            transport = httpx.ASGITransport(app=build_app(cloud))
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as client:
                lab = Lab(cloud, clock, client)
                lab.admin_headers = {"X-Auth-Token": await lab.login("admin", "secret",
                                                                      "admin")}
                await scenario(lab)
        finally:
            background.cancel()
            cloud.stop()

    asyncio.run(main())


def dumped(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
