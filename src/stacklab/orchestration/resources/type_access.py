"""A type's extra specs and the projects a private one is shared with: nova's flavors
(OS::Nova::Flavor) and cinder's volume types (OS::Cinder::VolumeType) keep both the same
way, under their own paths and names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from stacklab.orchestration.resources.base import Context


@dataclass(frozen=True)
class TypeApi:
    service: str
    collection: str  # "/flavors", "/types"
    specs: str  # the extra specs' sub-path: "os-extra_specs", "extra_specs"
    access: str  # the access list's sub-path: "os-flavor-access"
    access_key: str  # its body's key: "flavor_access"
    project_field: str  # a listed entry's project: "tenant_id", "project_id"
    member: str  # an action body's project key: "tenant", "project"
    add: str  # "addTenantAccess", "addProjectAccess"
    remove: str

    def path(self, ident: str) -> str:
        return f"{self.collection}/{quote(ident, safe='')}"

    async def extra_specs(self, ctx: Context, ident: str) -> dict[str, Any]:
        return dict((await ctx.call(self.service, "GET",
                                    f"{self.path(ident)}/{self.specs}"))["extra_specs"])

    async def set_specs(self, ctx: Context, ident: str, specs: Mapping[str, Any]) -> None:
        await ctx.call(self.service, "POST", f"{self.path(ident)}/{self.specs}",
                       json={"extra_specs": {k: str(v) for k, v in specs.items()}})

    async def replace_specs(self, ctx: Context, ident: str,
                            specs: Mapping[str, Any] | None) -> None:
        """Exactly ``specs`` afterwards: heat deletes every key, then sets the new ones."""
        for key in await self.extra_specs(ctx, ident):
            await ctx.call(self.service, "DELETE",
                           f"{self.path(ident)}/{self.specs}/{quote(key, safe='')}")
        if specs:
            await self.set_specs(ctx, ident, specs)

    async def share(self, ctx: Context, ident: str, project: str, *, add: bool = True
                    ) -> None:
        await ctx.call(self.service, "POST", f"{self.path(ident)}/action",
                       json={self.add if add else self.remove: {self.member: project}})

    async def sync_access(self, ctx: Context, ident: str, projects: Iterable[str]) -> None:
        """Shared with exactly ``projects`` afterwards: the others removed, the new added."""
        listed = (await ctx.call(self.service, "GET",
                                 f"{self.path(ident)}/{self.access}"))[self.access_key]
        before = {entry[self.project_field] for entry in listed}
        after = set(projects)
        for project in sorted(before - after):
            await self.share(ctx, ident, project, add=False)
        for project in sorted(after - before):
            await self.share(ctx, ident, project)
