"""OS-EP-FILTER: endpoint groups (the generic controller) and project associations."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import api, backend, collection_links, link, render_project
from stacklab.identity.api.catalog import render_endpoint
from stacklab.identity.api.resource import Resource, serve

PREFIX = "/v3/OS-EP-FILTER"


def render_endpoint_group(call: Call, g: m.EndpointGroup) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "description": g.description,
            "filters": dict(g.filters),
            "links": link(call, f"{PREFIX}/endpoint_groups/{g.id}")}


ENDPOINT_GROUPS = serve(Resource(
    "endpoint_group", "endpoint_groups", "endpoint_filter", render_endpoint_group,
    schemas.ENDPOINT_GROUP_CREATE, schemas.ENDPOINT_GROUP_UPDATE, filters=("name",),
    prefix="OS-EP-FILTER/"))

GROUP = f"{PREFIX}/endpoint_groups/{{endpoint_group_id}}"
GROUP_PROJECT = f"{GROUP}/projects/{{project_id}}"
PROJECT_ENDPOINT = f"{PREFIX}/projects/{{project_id}}/endpoints/{{endpoint_id}}"


def _projects(call: Call, projects: list[m.Project], path: str) -> dict[str, Any]:
    return {"projects": [render_project(call, p) for p in projects],
            "links": collection_links(call, path)}


def _endpoints(call: Call, endpoints: list[m.Endpoint], path: str) -> dict[str, Any]:
    return {"endpoints": [render_endpoint(call, e) for e in endpoints],
            "links": collection_links(call, path)}


# -- endpoint groups and projects ------------------------------------------------------


@api.route("GET", f"{GROUP}/projects",
           policy="identity:list_projects_associated_with_endpoint_group")
async def list_group_projects(call: Call) -> dict[str, Any]:
    group_id = call.params["endpoint_group_id"]
    with backend(call) as (service, session):
        return _projects(call, service.endpoint_filter.projects_of_group(session, group_id),
                         f"{PREFIX}/endpoint_groups/{group_id}/projects")


@api.route("GET", f"{GROUP}/endpoints",
           policy="identity:list_endpoints_associated_with_endpoint_group")
async def list_group_endpoints(call: Call) -> dict[str, Any]:
    group_id = call.params["endpoint_group_id"]
    with backend(call) as (service, session):
        return _endpoints(call, service.endpoint_filter.endpoints_in_group(session, group_id),
                          f"{PREFIX}/endpoint_groups/{group_id}/endpoints")


@api.route("GET", GROUP_PROJECT, policy="identity:get_endpoint_group_in_project")
async def show_group_in_project(call: Call) -> dict[str, Any]:
    group_id, project_id = call.params["endpoint_group_id"], call.params["project_id"]
    with backend(call) as (service, session):
        service.endpoint_filter.group_in_project(session, group_id, project_id)
    return {"project_endpoint_group": {
        "endpoint_group_id": group_id, "project_id": project_id,
        "links": link(call, f"{PREFIX}/endpoint_groups/{group_id}/projects/{project_id}")}}


@api.route("PUT", GROUP_PROJECT, policy="identity:add_endpoint_group_to_project", status=204,
           body_optional=True)
async def add_group_to_project(call: Call) -> None:
    with backend(call) as (service, session):
        service.endpoint_filter.add_group_to_project(
            session, call.params["endpoint_group_id"], call.params["project_id"])


@api.route("DELETE", GROUP_PROJECT, policy="identity:remove_endpoint_group_from_project",
           status=204)
async def remove_group_from_project(call: Call) -> None:
    with backend(call) as (service, session):
        service.endpoint_filter.remove_group_from_project(
            session, call.params["endpoint_group_id"], call.params["project_id"])


@api.route("GET", f"{PREFIX}/projects/{{project_id}}/endpoint_groups",
           policy="identity:list_endpoint_groups_for_project")
async def list_project_groups(call: Call) -> dict[str, Any]:
    project_id = call.params["project_id"]
    with backend(call) as (service, session):
        groups = service.endpoint_filter.groups_of_project(session, project_id)
        return {"endpoint_groups": [render_endpoint_group(call, g) for g in groups],
                "links": collection_links(call, f"{PREFIX}/projects/{project_id}/endpoint_groups")}


# -- endpoints and projects ------------------------------------------------------------


@api.route("GET", f"{PREFIX}/projects/{{project_id}}/endpoints",
           policy="identity:list_endpoints_for_project")
async def list_project_endpoints(call: Call) -> dict[str, Any]:
    project_id = call.params["project_id"]
    with backend(call) as (service, session):
        return _endpoints(call, service.endpoint_filter.endpoints_of_project(session, project_id),
                          f"{PREFIX}/projects/{project_id}/endpoints")


@api.route("GET", PROJECT_ENDPOINT, policy="identity:check_endpoint_in_project", status=204)
async def check_project_endpoint(call: Call) -> None:
    with backend(call) as (service, session):
        service.endpoint_filter.check_endpoint_in_project(
            session, call.params["endpoint_id"], call.params["project_id"])


@api.route("PUT", PROJECT_ENDPOINT, policy="identity:add_endpoint_to_project", status=204,
           body_optional=True)
async def add_project_endpoint(call: Call) -> None:
    with backend(call) as (service, session):
        service.endpoint_filter.add_endpoint_to_project(
            session, call.params["endpoint_id"], call.params["project_id"])


@api.route("DELETE", PROJECT_ENDPOINT, policy="identity:remove_endpoint_from_project",
           status=204)
async def remove_project_endpoint(call: Call) -> None:
    with backend(call) as (service, session):
        service.endpoint_filter.remove_endpoint_from_project(
            session, call.params["endpoint_id"], call.params["project_id"])


@api.route("GET", f"{PREFIX}/endpoints/{{endpoint_id}}/projects",
           policy="identity:list_projects_for_endpoint")
async def list_endpoint_projects(call: Call) -> dict[str, Any]:
    endpoint_id = call.params["endpoint_id"]
    with backend(call) as (service, session):
        return _projects(call, service.endpoint_filter.projects_of_endpoint(session, endpoint_id),
                         f"{PREFIX}/endpoints/{endpoint_id}/projects")
