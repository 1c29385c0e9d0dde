"""Domains, projects and project tags."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.service import Call, Reply
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import (
    api,
    backend,
    collection_links,
    flat,
    render_domain,
    render_project,
)
from stacklab.identity.api.resource import Resource, domain_filter_target, serve
from stacklab.identity.service import IdentityService

# -- domains and projects --------------------------------------------------------------


def _domain_target(call: Call) -> dict[str, Any]:
    return {"target.domain.id": call.params.get("domain_id"),
            "domain_id": call.params.get("domain_id")}


DOMAINS = serve(Resource(
    "domain", "domains", "resources", render_domain, schemas.DOMAIN_CREATE,
    schemas.DOMAIN_UPDATE, filters=("name",), flags=("enabled",), path_target=_domain_target))


def _hierarchy(call: Call, service: IdentityService, session: Session,
               project: m.Project | m.Domain) -> dict[str, Any]:
    """The parents and subtree a show is asked for (``?parents_as_list``, ``?subtree_as_ids``…)."""
    body: dict[str, Any] = {}
    if isinstance(project, m.Domain):
        return body
    if "parents_as_ids" in call.query or "parents_as_list" in call.query:
        parents = service.resources.ancestors(session, project)
        body["parents"] = [{"project": render_project(call, p)} for p in parents]
    if "subtree_as_ids" in call.query or "subtree_as_list" in call.query:
        subtree = service.resources.subtree(session, project.id)
        body["subtree"] = [{"project": render_project(call, p)} for p in subtree]
    return body


def _project_target(project: m.Project | m.Domain) -> dict[str, Any]:
    """A project's target; a project acting as a domain has no domain or parent."""
    return flat("target.project", {"id": project.id,
                                   "domain_id": getattr(project, "domain_id", None),
                                   "parent_id": getattr(project, "parent_id", None)})


PROJECTS = serve(Resource(
    "project", "projects", "projects", render_project, schemas.PROJECT_CREATE,
    schemas.PROJECT_UPDATE,
    filters=("name", "domain_id", "parent_id", "tags", "tags-any", "not-tags", "not-tags-any"),
    flags=("enabled", "is_domain"), target_more=_project_target,
    new_target_keys=("parent_id",), in_domain=True, list_target=domain_filter_target,
    detail=_hierarchy))


# -- project tags ----------------------------------------------------------------------


def _tags(call: Call, project: m.Project) -> dict[str, Any]:
    return {"tags": list(project.tags),
            "links": collection_links(call, f"/v3/projects/{project.id}/tags")}


@api.route("GET", "/v3/projects/{project_id}/tags", policy="identity:list_project_tags",
           target=PROJECTS.target)
async def list_project_tags(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        return _tags(call, service.resources.get_project(session, call.params["project_id"]))


@api.route("PUT", "/v3/projects/{project_id}/tags", policy="identity:update_project_tags",
           target=PROJECTS.target, schema=schemas.PROJECT_TAGS)
async def replace_project_tags(call: Call) -> dict[str, Any]:
    with backend(call) as (service, session):
        return _tags(call, service.resources.set_tags(session, call.params["project_id"],
                                                      call.body["tags"]))


@api.route("DELETE", "/v3/projects/{project_id}/tags", policy="identity:delete_project_tags",
           target=PROJECTS.target, status=204)
async def clear_project_tags(call: Call) -> None:
    with backend(call) as (service, session):
        service.resources.set_tags(session, call.params["project_id"], [])


@api.route("GET", "/v3/projects/{project_id}/tags/{tag}", policy="identity:get_project_tag",
           target=PROJECTS.target, status=204)
async def check_project_tag(call: Call) -> None:
    with backend(call) as (service, session):
        service.resources.check_tag(session, call.params["project_id"], call.params["tag"])


@api.route("PUT", "/v3/projects/{project_id}/tags/{tag}", policy="identity:create_project_tag",
           target=PROJECTS.target, status=201, body_optional=True)
async def add_project_tag(call: Call) -> Reply:
    tag = call.params["tag"]
    with backend(call) as (service, session):
        project = service.resources.add_tag(session, call.params["project_id"], tag)
        where = call.url_for(f"/v3/projects/{project.id}/tags/{tag}")
    return Reply(None, status=201, headers={"Location": where})


@api.route("DELETE", "/v3/projects/{project_id}/tags/{tag}", policy="identity:delete_project_tag",
           target=PROJECTS.target, status=204)
async def remove_project_tag(call: Call) -> None:
    with backend(call) as (service, session):
        service.resources.remove_tag(session, call.params["project_id"], call.params["tag"])
