"""Domains, projects and project tags."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import (
    api,
    collection_links,
    flat,
    identity,
    query_bool,
    render_domain,
    render_project,
)
from stacklab.identity.errors import not_found

# -- domains ---------------------------------------------------------------------------


def _domain_target(call: Call) -> dict[str, Any]:
    return {"target.domain.id": call.params.get("domain_id"),
            "domain_id": call.params.get("domain_id")}


@api.route("GET", "/v3/domains", policy="identity:list_domains")
async def list_domains(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        domains = service.resources.list_domains(session, name=call.query.get("name"),
                                                 enabled=query_bool(call, "enabled"))
        return {"domains": [render_domain(call, d) for d in domains],
                "links": collection_links(call, "/v3/domains")}


@api.route("POST", "/v3/domains", policy="identity:create_domain", status=201,
           schema=schemas.DOMAIN_CREATE)
async def create_domain(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        domain = service.resources.create_domain(session, call.body["domain"])
        return {"domain": render_domain(call, domain)}


@api.route("GET", "/v3/domains/{domain_id}", policy="identity:get_domain", target=_domain_target)
async def get_domain(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"domain": render_domain(call, service.resources.get_domain(
            session, call.params["domain_id"]))}


@api.route("PATCH", "/v3/domains/{domain_id}", policy="identity:update_domain",
           target=_domain_target, schema=schemas.DOMAIN_UPDATE)
async def update_domain(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        domain = service.resources.update_domain(session, call.params["domain_id"],
                                                 call.body["domain"])
        return {"domain": render_domain(call, domain)}


@api.route("DELETE", "/v3/domains/{domain_id}", policy="identity:delete_domain",
           target=_domain_target, status=204)
async def delete_domain(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.resources.delete_domain(session, call.params["domain_id"])


# -- projects --------------------------------------------------------------------------


def _project_target(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        project = session.get(m.Project, call.params["project_id"])
        if project is None:
            raise not_found("project", call.params["project_id"])
        return flat("target.project", {"id": project.id, "domain_id": project.domain_id,
                                       "parent_id": project.parent_id})


def _new_project_target(call: Call) -> dict[str, Any]:
    fields = call.body["project"]
    domain_id = fields.get("domain_id") or call.context.domain_id or \
        call.cloud.config.identity.default_domain_id
    return flat("target.project", {"domain_id": domain_id, "parent_id": fields.get("parent_id")})


def _list_target(call: Call) -> dict[str, Any]:
    return {"target.domain_id": call.query.get("domain_id"),
            "domain_id": call.query.get("domain_id")}


@api.route("GET", "/v3/projects", policy="identity:list_projects", target=_list_target)
async def list_projects(call: Call) -> dict[str, Any]:
    service = identity(call)
    filters: dict[str, Any] = {k: call.query.get(k) for k in (
        "name", "domain_id", "parent_id", "tags", "tags-any", "not-tags", "not-tags-any")}
    filters["enabled"] = query_bool(call, "enabled")
    with service.db.session() as session:
        projects = service.resources.list_projects(session, filters)
        return {"projects": [render_project(call, p) for p in projects],
                "links": collection_links(call, "/v3/projects")}


@api.route("POST", "/v3/projects", policy="identity:create_project", status=201,
           target=_new_project_target, schema=schemas.PROJECT_CREATE)
async def create_project(call: Call) -> dict[str, Any]:
    service = identity(call)
    default_domain = call.context.domain_id or call.cloud.config.identity.default_domain_id
    with service.db.session() as session:
        project = service.resources.create_project(session, call.body["project"],
                                                   default_domain)
        return {"project": render_project(call, project)}


@api.route("GET", "/v3/projects/{project_id}", policy="identity:get_project",
           target=_project_target)
async def get_project(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        project = service.resources.get_project(session, call.params["project_id"])
        body = render_project(call, project)
        if "parents_as_ids" in call.query or "parents_as_list" in call.query:
            parents = service.resources.ancestors(session, project)
            body["parents"] = [{"project": render_project(call, p)} for p in parents]
        if "subtree_as_ids" in call.query or "subtree_as_list" in call.query:
            subtree = service.resources.subtree(session, project.id)
            body["subtree"] = [{"project": render_project(call, p)} for p in subtree]
        return {"project": body}


@api.route("PATCH", "/v3/projects/{project_id}", policy="identity:update_project",
           target=_project_target, schema=schemas.PROJECT_UPDATE)
async def update_project(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        project = service.resources.update_project(session, call.params["project_id"],
                                                   call.body["project"])
        return {"project": render_project(call, project)}


@api.route("DELETE", "/v3/projects/{project_id}", policy="identity:delete_project",
           target=_project_target, status=204)
async def delete_project(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.resources.delete_project(session, call.params["project_id"])


# -- project tags ----------------------------------------------------------------------


@api.route("GET", "/v3/projects/{project_id}/tags", policy="identity:list_project_tags",
           target=_project_target)
async def list_project_tags(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        project = service.resources.get_project(session, call.params["project_id"])
        return {"tags": list(project.tags),
                "links": collection_links(call, f"/v3/projects/{project.id}/tags")}


@api.route("PUT", "/v3/projects/{project_id}/tags", policy="identity:update_project_tags",
           target=_project_target, schema=schemas.PROJECT_TAGS)
async def replace_project_tags(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        project = service.resources.set_tags(session, call.params["project_id"],
                                             call.body["tags"])
        return {"tags": list(project.tags),
                "links": collection_links(call, f"/v3/projects/{project.id}/tags")}


@api.route("DELETE", "/v3/projects/{project_id}/tags", policy="identity:delete_project_tags",
           target=_project_target, status=204)
async def clear_project_tags(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.resources.set_tags(session, call.params["project_id"], [])


@api.route("GET", "/v3/projects/{project_id}/tags/{tag}", policy="identity:get_project_tag",
           target=_project_target, status=204)
async def check_project_tag(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        project = service.resources.get_project(session, call.params["project_id"])
        if call.params["tag"] not in project.tags:
            raise not_found("project tag", call.params["tag"])


@api.route("PUT", "/v3/projects/{project_id}/tags/{tag}", policy="identity:create_project_tag",
           target=_project_target, status=201, body_optional=True)
async def add_project_tag(call: Call) -> Reply:
    service = identity(call)
    tag = call.params["tag"]
    if not (0 < len(tag) <= 255 and "," not in tag and "/" not in tag):
        raise BadRequest(f"Invalid input for field 'tag': {tag!r} is not a valid tag")
    with service.db.session() as session:
        project = service.resources.get_project(session, call.params["project_id"])
        service.resources.set_tags(session, project.id, [*project.tags, tag])
    return Reply(None, status=201,
                 headers={"Location": call.url_for(f"/v3/projects/{project.id}/tags/{tag}")})


@api.route("DELETE", "/v3/projects/{project_id}/tags/{tag}", policy="identity:delete_project_tag",
           target=_project_target, status=204)
async def remove_project_tag(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        project = service.resources.get_project(session, call.params["project_id"])
        if call.params["tag"] not in project.tags:
            raise not_found("project tag", call.params["tag"])
        service.resources.set_tags(session, project.id,
                                   [t for t in project.tags if t != call.params["tag"]])
