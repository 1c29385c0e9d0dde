"""Roles, implied roles, grants and the role assignment list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import (
    api,
    backend,
    collection_links,
    flat,
    link,
    query_flag,
    render_role,
    role_ref,
)
from stacklab.identity.api.resource import Resource, serve
from stacklab.identity.errors import not_found
from stacklab.identity.roles import SYSTEM, AssignmentQuery, EffectiveAssignment

ROLES = serve(Resource(
    "role", "roles", "roles", render_role, schemas.ROLE_CREATE, schemas.ROLE_UPDATE,
    filters=("name", "domain_id"), target_keys=("id", "domain_id"),
    new_target_keys=("domain_id",)))


# -- implied roles ---------------------------------------------------------------------


def _inference(call: Call, prior: m.Role, implied: list[m.Role] | m.Role) -> dict[str, Any]:
    implies: Any = [role_ref(call, r) for r in implied] if isinstance(implied, list) \
        else role_ref(call, implied)
    return {"prior_role": role_ref(call, prior), "implies": implies}


@api.route("GET", "/v3/roles/{prior_role_id}/implies", policy="identity:list_implied_roles")
async def list_implied_roles(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        prior = service.roles.get_role(session, call.params["prior_role_id"])
        return {"role_inference": _inference(call, prior,
                                             service.roles.implied_by(session, prior.id)),
                "links": link(call, f"/v3/roles/{prior.id}/implies")}


def _one_inference(call: Call, prior: m.Role, implied: m.Role) -> dict[str, Any]:
    return {"role_inference": _inference(call, prior, implied),
            "links": link(call, f"/v3/roles/{prior.id}/implies/{implied.id}")}


@api.route("PUT", "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
           policy="identity:create_implied_role", status=201, body_optional=True)
async def create_implied_role(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        return _one_inference(call, *service.roles.create_inference(
            session, call.params["prior_role_id"], call.params["implied_role_id"]))


@api.route("GET", "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
           policy="identity:get_implied_role")
async def get_implied_role(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        return _one_inference(call, *service.roles.check_inference(
            session, call.params["prior_role_id"], call.params["implied_role_id"]))


@api.route("HEAD", "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
           policy="identity:check_implied_role", status=204)
async def check_implied_role(call: Call) -> None:
    with backend(call) as (service, session):
        service.roles.check_inference(session, call.params["prior_role_id"],
                                      call.params["implied_role_id"])


@api.route("DELETE", "/v3/roles/{prior_role_id}/implies/{implied_role_id}",
           policy="identity:delete_implied_role", status=204)
async def delete_implied_role(call: Call) -> None:
    with backend(call) as (service, session):
        service.roles.delete_inference(session, call.params["prior_role_id"],
                                       call.params["implied_role_id"])


@api.route("GET", "/v3/role_inferences", policy="identity:list_role_inference_rules")
async def list_role_inferences(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        by_prior: dict[str, list[m.Role]] = {}
        for rule in service.roles.all_inferences(session):
            by_prior.setdefault(rule.prior_role_id, []).append(
                service.roles.get_role(session, rule.implied_role_id))
        inferences = [_inference(call, service.roles.get_role(session, prior), implied)
                      for prior, implied in sorted(by_prior.items())]
        return {"role_inferences": inferences, "links": link(call, "/v3/role_inferences")}


# -- grants ----------------------------------------------------------------------------
# /v3/{projects|domains}/{id}/{users|groups}/{id}/roles[/{role_id}], /v3/system/..., and
# keystone's OS-INHERIT variants (.../roles/{role_id}/inherited_to_projects).


@dataclass(frozen=True)
class GrantRoute:
    actor: str  # "user" | "group"
    scope: str  # "project" | "domain" | "system"
    inherited: bool = False

    def parts(self, call: Call) -> tuple[str, str, str, str]:
        scope_id = SYSTEM if self.scope == "system" else call.params["target_id"]
        return self.actor, call.params["actor_id"], self.scope, scope_id

    def target(self, call: Call) -> dict[str, Any]:
        actor, actor_id, scope, scope_id = self.parts(call)
        target: dict[str, Any] = {}
        with backend(call) as (service, session):
            if actor == "user":
                user = service.users.get_user(session, actor_id)
                target.update(flat("target.user", {"id": user.id, "domain_id": user.domain_id}))
            else:
                group = service.users.get_group(session, actor_id)
                target.update(flat("target.group", {"id": group.id,
                                                    "domain_id": group.domain_id}))
            if scope == "project":
                project = service.resources.get_project(session, scope_id)
                target.update(flat("target.project", {"id": project.id,
                                                      "domain_id": project.domain_id}))
            elif scope == "domain":
                target.update(flat("target.domain", {
                    "id": service.resources.get_domain(session, scope_id).id}))
            if "role_id" in call.params:
                role = service.roles.get_role(session, call.params["role_id"])
                target.update(flat("target.role", {"id": role.id, "domain_id": role.domain_id}))
        return target

    def policy(self, verb: str) -> str:
        if self.scope == "system":
            names = {"list": "list_system_grants_for", "check": "check_system_grant_for",
                     "create": "create_system_grant_for", "revoke": "revoke_system_grant_for"}
            return f"identity:{names[verb]}_{self.actor}"
        return f"identity:{verb}_grant" if verb != "list" else "identity:list_grants"

    def register(self, collection: str, one: str) -> None:
        async def list_grants(call: Call) -> dict[str, Any]:
            with backend(call) as (service, session):
                roles = service.roles.grants(session, *self.parts(call),
                                             inherited=self.inherited)
                return ROLES.listing(call, roles, call.request.url.path)

        async def check_grant(call: Call) -> None:
            with backend(call) as (service, session):
                service.roles.check_grant(session, *self.parts(call), call.params["role_id"],
                                          inherited=self.inherited)

        async def create_grant(call: Call) -> None:
            with backend(call) as (service, session):
                service.roles.grant(session, *self.parts(call), call.params["role_id"],
                                    inherited=self.inherited)

        async def revoke_grant(call: Call) -> None:
            with backend(call) as (service, session):
                service.roles.revoke_grant(session, *self.parts(call), call.params["role_id"],
                                           inherited=self.inherited)

        api.route("GET", collection, policy=self.policy("list"), target=self.target)(
            list_grants)
        for method in ("HEAD", "GET"):
            api.route(method, one, policy=self.policy("check"), target=self.target,
                      status=204)(check_grant)
        api.route("PUT", one, policy=self.policy("create"), target=self.target, status=204,
                  body_optional=True)(create_grant)
        api.route("DELETE", one, policy=self.policy("revoke"), target=self.target,
                  status=204)(revoke_grant)


for _actor in ("user", "group"):
    for _scope in ("project", "domain"):
        _base = f"/v3/{_scope}s/{{target_id}}/{_actor}s/{{actor_id}}/roles"
        GrantRoute(_actor, _scope).register(_base, f"{_base}/{{role_id}}")
        _inherit = f"/v3/OS-INHERIT/{_scope}s/{{target_id}}/{_actor}s/{{actor_id}}/roles"
        GrantRoute(_actor, _scope, inherited=True).register(
            f"{_inherit}/inherited_to_projects", f"{_inherit}/{{role_id}}/inherited_to_projects")
    _system = f"/v3/system/{_actor}s/{{actor_id}}/roles"
    GrantRoute(_actor, "system").register(_system, f"{_system}/{{role_id}}")


# -- the role assignment list ----------------------------------------------------------


def _assignments_target(call: Call) -> dict[str, Any]:
    return {"target.domain_id": call.query.get("scope.domain.id"),
            "domain_id": call.query.get("scope.domain.id")}


@api.route("GET", "/v3/role_assignments", policy="identity:list_role_assignments",
           target=_assignments_target)
async def list_role_assignments(call: Call) -> dict[str, Any]:
    query = call.query
    wanted = AssignmentQuery(
        effective=query_flag(call, "effective"), role_id=query.get("role.id"),
        user_id=query.get("user.id"), group_id=query.get("group.id"),
        project_id=query.get("scope.project.id"),
        include_subtree=query_flag(call, "include_subtree"),
        domain_id=query.get("scope.domain.id"), system=bool(query.get("scope.system")),
        inherited_only=query.get("scope.OS-INHERIT:inherited_to") == "projects")
    names = query_flag(call, "include_names")
    with backend(call) as (service, session):
        found = service.roles.list_assignments(session, wanted)
        return {"role_assignments": [_render_assignment(call, session, a, names)
                                     for a in found],
                "links": collection_links(call, "/v3/role_assignments")}


def _render_assignment(call: Call, session: Session, a: EffectiveAssignment,
                       names: bool) -> dict[str, Any]:
    role: dict[str, Any] = {"id": a.role_id}
    actor: dict[str, Any] = {"id": a.actor_id}
    scope: dict[str, Any]
    if a.scope_kind == "system":
        scope = {"system": {"all": True}}
    else:
        scope = {a.scope_kind: {"id": a.scope_id}}
    if names:
        role_row = session.get(m.Role, a.role_id)
        if role_row is not None:
            role["name"] = role_row.name
            if role_row.domain_id:
                role["domain"] = _domain_ref(session, role_row.domain_id)
        actor_row: m.User | m.Group | None = (
            session.get(m.User, a.actor_id) if a.actor_kind == "user"
            else session.get(m.Group, a.actor_id))
        if actor_row is not None:
            actor.update(name=actor_row.name, domain=_domain_ref(session, actor_row.domain_id))
        if a.scope_kind == "project":
            project = session.get(m.Project, a.scope_id)
            if project is not None:
                scope["project"].update(name=project.name,
                                        domain=_domain_ref(session, project.domain_id))
        elif a.scope_kind == "domain":
            domain = session.get(m.Domain, a.scope_id)
            if domain is not None:
                scope["domain"]["name"] = domain.name
    if a.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    actor_kind = a.actor_kind if a.via_group_id is None else "group"
    actor_id = a.actor_id if a.via_group_id is None else a.via_group_id
    role_id = a.prior_role_id or a.role_id
    if a.inherited or a.assigned_on:
        on = a.assigned_on or f"{a.scope_kind}s/{a.scope_id}"
        assignment = (f"/v3/OS-INHERIT/{on}/{actor_kind}s/{actor_id}/roles/{role_id}"
                      "/inherited_to_projects")
    else:
        scope_path = "/v3/system" if a.scope_kind == "system" else \
            f"/v3/{a.scope_kind}s/{a.scope_id}"
        assignment = f"{scope_path}/{actor_kind}s/{actor_id}/roles/{role_id}"
    links: dict[str, str] = {"assignment": call.url_for(assignment)}
    if a.via_group_id is not None:
        links["membership"] = call.url_for(f"/v3/groups/{a.via_group_id}/users/{a.actor_id}")
    if a.prior_role_id is not None:
        links["prior_role"] = call.url_for(f"/v3/roles/{a.prior_role_id}")
    return {"role": role, a.actor_kind: actor, "scope": scope, "links": links}


def _domain_ref(session: Session, domain_id: str) -> dict[str, str]:
    domain = session.get(m.Domain, domain_id)
    if domain is None:
        raise not_found("domain", domain_id)
    return {"id": domain.id, "name": domain.name}
