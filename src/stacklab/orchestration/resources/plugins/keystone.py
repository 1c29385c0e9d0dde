"""Heat's OS::Keystone::Project, User, Role and Group through keystone's v3 API (admin
work under keystone's default policy: a member's stack gets keystone's 403).

Names or ids are accepted where heat accepts either and resolved as heat's keystone
client plugin does (the id first, then the first of that name), failing with heat's
``The KeystoneRole (x) could not be found.``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from stacklab.orchestration.resources.base import (
    IDENTITY,
    Context,
    ResourcePlugin,
    delete_if_there,
    find_by_name_or_id,
)
from stacklab.orchestration.resources.plugins.neutron import NotFound, ServiceConstraint
from stacklab.orchestration.resources.properties import BOOLEAN, LIST, MAP, STRING
from stacklab.orchestration.resources.properties import Attribute as A
from stacklab.orchestration.resources.properties import Property as P
from stacklab.orchestration.resources.registry import register
from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import CustomConstraint

_ENTITIES = {"roles": "KeystoneRole", "projects": "KeystoneProject",
             "domains": "KeystoneDomain", "groups": "KeystoneGroup", "users": "KeystoneUser"}


def _custom(name: str) -> tuple[CustomConstraint, ...]:
    return (ServiceConstraint(name),)


def _path(*parts: str) -> str:
    return "/v3/" + "/".join(quote(part, safe="") for part in parts)


async def find_id(ctx: Context, collection: str, value: str, domain: str | None = None
                  ) -> str:
    """The id of the ``collection`` item numbered or named ``value``."""
    params = {"name": value, **({"domain_id": domain} if domain else {})}
    return await find_by_name_or_id(
        ctx, IDENTITY, value, show=_path(collection, value),
        found=lambda body: body[collection[:-1]]["id"], listing=_path(collection),
        params=params, matches=lambda body: body[collection],
        missing=NotFound(f"The {_ENTITIES[collection]} ({value}) could not be found.",
                         "EntityNotFound"), ambiguous=None)


async def _delete(ctx: Context, path: str) -> None:
    await delete_if_there(ctx, IDENTITY, path)


_DOMAIN = P(STRING, "Name or id of keystone domain.", default="default", update_allowed=True,
            constraints=_custom("keystone.domain"))
_ROLES = P(LIST, "List of role assignments.", update_allowed=True, schema=P(
    MAP, "Map between role with either project or domain.", schema={
        "role": P(STRING, "Keystone role.", required=True, constraints=_custom("keystone.role")),
        "project": P(STRING, "Keystone project.", constraints=_custom("keystone.project")),
        "domain": P(STRING, "Keystone domain.", constraints=_custom("keystone.domain"))}))


def _check_roles(properties: Mapping[str, Any]) -> None:
    for assignment in properties.get("roles") or []:
        if assignment.get("project") is not None and assignment.get("domain") is not None:
            raise StackValidationFailed("Cannot define the following properties at the same "
                                        "time: project, domain.")
        if assignment.get("project") is None and assignment.get("domain") is None:
            raise StackValidationFailed("Either project or domain must be specified for role "
                                        f"{assignment.get('role')}")


async def _grants(ctx: Context, roles: list[Mapping[str, Any]]) -> set[tuple[str, str, str]]:
    """The (target collection, target id, role id) of each assignment, resolved."""
    out = set()
    for assignment in roles:
        role = await find_id(ctx, "roles", assignment["role"])
        if assignment.get("project") is not None:
            out.add(("projects", await find_id(ctx, "projects", assignment["project"]), role))
        else:
            out.add(("domains", await find_id(ctx, "domains", assignment["domain"]), role))
    return out


async def _assign(ctx: Context, actor: str, actor_id: str, old: list[Mapping[str, Any]],
                  new: list[Mapping[str, Any]]) -> None:
    """The actor's (``users``/``groups``) assignments changed from ``old`` to ``new``."""
    before = await _grants(ctx, old)
    after = await _grants(ctx, new)
    for target, target_id, role in sorted(before - after):
        await _delete(ctx, _path(target, target_id, actor, actor_id, "roles", role))
    for target, target_id, role in sorted(after - before):
        await ctx.call(IDENTITY, "PUT", _path(target, target_id, actor, actor_id, "roles",
                                              role))


class _Keystone(ResourcePlugin):
    COLLECTION = ""

    async def _show(self, ctx: Context, physical_id: str) -> dict[str, Any]:
        found: dict[str, Any] = (await ctx.call(IDENTITY, "GET", _path(
            self.COLLECTION, physical_id)))[self.COLLECTION[:-1]]
        return found

    async def _post(self, ctx: Context, body: dict[str, Any]) -> str:
        made = await ctx.call(IDENTITY, "POST", _path(self.COLLECTION),
                              json={self.COLLECTION[:-1]: body})
        return str(made[self.COLLECTION[:-1]]["id"])

    async def _patch(self, ctx: Context, physical_id: str, body: dict[str, Any]) -> None:
        if body:
            await ctx.call(IDENTITY, "PATCH", _path(self.COLLECTION, physical_id),
                           json={self.COLLECTION[:-1]: body})

    async def delete(self, ctx: Context, physical_id: str | None,
                     properties: Mapping[str, Any]) -> None:
        if physical_id is not None:
            await _delete(ctx, _path(self.COLLECTION, physical_id))

    async def attributes(self, ctx: Context, physical_id: str | None,
                         properties: Mapping[str, Any]) -> Mapping[str, Any]:
        if physical_id is None:
            return {}
        shown = await self._show(ctx, physical_id)
        return {**{name: shown.get(name) for name in self.ATTRIBUTES}, "show": shown}


@register
class Project(_Keystone):
    TYPE = "OS::Keystone::Project"
    DESCRIPTION = ("A Keystone project: the unit that owns resources and quotas, in a domain "
                   "and optionally under a parent project.")
    COLLECTION = "projects"
    PROPERTIES = {
        "name": P(STRING, "Name of keystone project.", update_allowed=True),
        "domain": _DOMAIN,
        "description": P(STRING, "Description of keystone project.", default="",
                         update_allowed=True),
        "enabled": P(BOOLEAN, "This project is enabled or disabled.", default=True,
                     update_allowed=True),
        "parent": P(STRING, "The name or ID of parent of this keystone project in "
                    "hierarchy.", constraints=_custom("keystone.project")),
        "tags": P(LIST, "A list of tags for labeling and sorting projects.", default=[],
                  update_allowed=True),
    }
    ATTRIBUTES = {
        "name": A("Project name."),
        "parent_id": A("Parent project id."),
        "domain_id": A("Domain id for project."),
        "enabled": A("Flag of enable project.", BOOLEAN),
        "is_domain": A("Indicates whether the project also acts as a domain.", BOOLEAN),
    }

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        body: dict[str, Any] = {
            "name": properties.get("name") or ctx.physical_name(),
            "domain_id": await find_id(ctx, "domains", properties["domain"]),
            "description": properties["description"], "enabled": properties["enabled"],
            "tags": properties["tags"]}
        if properties.get("parent"):
            body["parent_id"] = await find_id(ctx, "projects", properties["parent"])
        return await self._post(ctx, body)

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        body: dict[str, Any] = {}
        if "name" in changed:
            body["name"] = new.get("name") or ctx.physical_name()
        if "domain" in changed:
            body["domain_id"] = await find_id(ctx, "domains", new["domain"])
        for key in ("description", "enabled", "tags"):
            if key in changed:
                body[key] = new[key]
        await self._patch(ctx, physical_id, body)


@register
class User(_Keystone):
    TYPE = "OS::Keystone::User"
    DESCRIPTION = ("A Keystone user, with its groups and role assignments on projects or "
                   "domains.")
    COLLECTION = "users"
    PROPERTIES = {
        "name": P(STRING, "Name of keystone user.", update_allowed=True),
        "domain": P(STRING, "Name or ID of keystone domain.", default="default",
                    update_allowed=True, constraints=_custom("keystone.domain")),
        "description": P(STRING, "Description of keystone user.", default="",
                         update_allowed=True),
        "enabled": P(BOOLEAN, "Keystone user is enabled or disabled.", default=True,
                     update_allowed=True),
        "email": P(STRING, "Email address of keystone user.", update_allowed=True),
        "password": P(STRING, "Password of keystone user.", update_allowed=True),
        "default_project": P(STRING, "Name or ID of default project of keystone user.",
                             update_allowed=True, constraints=_custom("keystone.project")),
        "groups": P(LIST, "Keystone user groups.", update_allowed=True, schema=P(
            STRING, "Keystone user group.", constraints=_custom("keystone.group"))),
        "roles": _ROLES,
    }
    ATTRIBUTES = {
        "name": A("User name."),
        "default_project_id": A("Default project id for user."),
        "domain_id": A("Domain id for user."),
        "enabled": A("Flag of enable user.", BOOLEAN),
        "password_expires_at": A("Show user password expiration time."),
    }

    def validate(self, properties: Mapping[str, Any]) -> None:
        _check_roles(properties)

    async def _body(self, ctx: Context, given: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if "domain" in given:
            body["domain_id"] = await find_id(ctx, "domains", given["domain"])
        if given.get("default_project"):
            body["default_project_id"] = await find_id(ctx, "projects",
                                                       given["default_project"])
        for key in ("description", "enabled", "email", "password"):
            if key in given and (given[key] is not None or key == "email"):
                body[key] = given[key]
        return body

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        body = await self._body(ctx, {k: v for k, v in properties.items() if v is not None})
        body["name"] = properties.get("name") or ctx.physical_name()
        ident = await self._post(ctx, body)
        for group in properties.get("groups") or []:
            await ctx.call(IDENTITY, "PUT", _path(
                "groups", await find_id(ctx, "groups", group), "users", ident))
        await _assign(ctx, "users", ident, [], properties.get("roles") or [])
        return ident

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        given = {k: new.get(k) for k in changed if k not in ("name", "groups", "roles")}
        body = await self._body(ctx, given)
        if "name" in changed:
            body["name"] = new.get("name") or ctx.physical_name()
        await self._patch(ctx, physical_id, body)
        if "groups" in changed:
            before = {await find_id(ctx, "groups", g) for g in old.get("groups") or []}
            after = {await find_id(ctx, "groups", g) for g in new.get("groups") or []}
            for group in sorted(before - after):
                await _delete(ctx, _path("groups", group, "users", physical_id))
            for group in sorted(after - before):
                await ctx.call(IDENTITY, "PUT", _path("groups", group, "users", physical_id))
        if "roles" in changed:
            await _assign(ctx, "users", physical_id, old.get("roles") or [],
                          new.get("roles") or [])


@register
class Role(_Keystone):
    TYPE = "OS::Keystone::Role"
    DESCRIPTION = "A Keystone role, global or (named with a domain) domain-specific."
    COLLECTION = "roles"
    PROPERTIES = {
        "name": P(STRING, "Name of keystone role.", update_allowed=True),
        "domain": P(STRING, "Name or id of keystone domain.",
                    constraints=_custom("keystone.domain")),
    }
    ATTRIBUTES = {}

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        body: dict[str, Any] = {"name": properties.get("name") or ctx.physical_name()}
        if properties.get("domain"):
            body["domain_id"] = await find_id(ctx, "domains", properties["domain"])
        return await self._post(ctx, body)

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        await self._patch(ctx, physical_id, {"name": new.get("name") or ctx.physical_name()})


@register
class Group(_Keystone):
    TYPE = "OS::Keystone::Group"
    DESCRIPTION = ("A Keystone group: a collection of users of one domain, given roles on "
                   "projects or domains as one.")
    COLLECTION = "groups"
    PROPERTIES = {
        "name": P(STRING, "Name of keystone group.", update_allowed=True),
        "domain": _DOMAIN,
        "description": P(STRING, "Description of keystone group.", default="",
                         update_allowed=True),
        "roles": _ROLES,
    }
    ATTRIBUTES = {}

    def validate(self, properties: Mapping[str, Any]) -> None:
        _check_roles(properties)

    async def create(self, ctx: Context, properties: Mapping[str, Any]) -> str:
        ident = await self._post(ctx, {
            "name": properties.get("name") or ctx.physical_name(),
            "domain_id": await find_id(ctx, "domains", properties["domain"]),
            "description": properties["description"]})
        await _assign(ctx, "groups", ident, [], properties.get("roles") or [])
        return ident

    async def update(self, ctx: Context, physical_id: str | None, old: Mapping[str, Any],
                     new: Mapping[str, Any], changed: frozenset[str]) -> None:
        assert physical_id is not None
        body: dict[str, Any] = {}
        if "name" in changed:
            body["name"] = new.get("name") or ctx.physical_name()
        if "domain" in changed:
            body["domain_id"] = await find_id(ctx, "domains", new["domain"])
        if "description" in changed:
            body["description"] = new["description"]
        await self._patch(ctx, physical_id, body)
        if "roles" in changed:
            await _assign(ctx, "groups", physical_id, old.get("roles") or [],
                          new.get("roles") or [])
