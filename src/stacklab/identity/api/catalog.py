"""Regions, services and endpoints."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import api, collection_links, identity, link


def render_region(call: Call, r: m.Region) -> dict[str, Any]:
    return {"id": r.id, "description": r.description or "",
            "parent_region_id": r.parent_region_id, "links": link(call, f"/v3/regions/{r.id}")}


def render_service(call: Call, s: m.CatalogService) -> dict[str, Any]:
    body: dict[str, Any] = {**s.extra, "id": s.id, "type": s.type, "enabled": s.enabled,
                            "links": link(call, f"/v3/services/{s.id}")}
    if s.name is not None:
        body["name"] = s.name
    if s.description is not None:
        body["description"] = s.description
    return body


def render_endpoint(call: Call, e: m.Endpoint) -> dict[str, Any]:
    return {"id": e.id, "interface": e.interface, "region_id": e.region_id,
            "region": e.region_id, "url": e.url, "service_id": e.service_id,
            "enabled": e.enabled, "links": link(call, f"/v3/endpoints/{e.id}")}


# -- regions ---------------------------------------------------------------------------


@api.route("GET", "/v3/regions", policy="identity:list_regions")
async def list_regions(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        regions = service.catalog.list_regions(session, call.query.get("parent_region_id"))
        return {"regions": [render_region(call, r) for r in regions],
                "links": collection_links(call, "/v3/regions")}


@api.route("POST", "/v3/regions", policy="identity:create_region", status=201,
           schema=schemas.REGION_CREATE)
async def create_region(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"region": render_region(call, service.catalog.create_region(
            session, call.body["region"]))}


@api.route("PUT", "/v3/regions/{region_id}", policy="identity:create_region", status=201,
           schema=schemas.REGION_CREATE)
async def create_region_with_id(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"region": render_region(call, service.catalog.create_region(
            session, call.body["region"], region_id=call.params["region_id"]))}


@api.route("GET", "/v3/regions/{region_id}", policy="identity:get_region")
async def get_region(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"region": render_region(call, service.catalog.get_region(
            session, call.params["region_id"]))}


@api.route("PATCH", "/v3/regions/{region_id}", policy="identity:update_region",
           schema=schemas.REGION_UPDATE)
async def update_region(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"region": render_region(call, service.catalog.update_region(
            session, call.params["region_id"], call.body["region"]))}


@api.route("DELETE", "/v3/regions/{region_id}", policy="identity:delete_region", status=204)
async def delete_region(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.catalog.delete_region(session, call.params["region_id"])


# -- services --------------------------------------------------------------------------


@api.route("GET", "/v3/services", policy="identity:list_services")
async def list_services(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        services = service.catalog.list_services(session, call.query.get("type"),
                                                 call.query.get("name"))
        return {"services": [render_service(call, s) for s in services],
                "links": collection_links(call, "/v3/services")}


@api.route("POST", "/v3/services", policy="identity:create_service", status=201,
           schema=schemas.SERVICE_CREATE)
async def create_service(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"service": render_service(call, service.catalog.create_service(
            session, call.body["service"]))}


@api.route("GET", "/v3/services/{service_id}", policy="identity:get_service")
async def get_service(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"service": render_service(call, service.catalog.get_service(
            session, call.params["service_id"]))}


@api.route("PATCH", "/v3/services/{service_id}", policy="identity:update_service",
           schema=schemas.SERVICE_UPDATE)
async def update_service(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"service": render_service(call, service.catalog.update_service(
            session, call.params["service_id"], call.body["service"]))}


@api.route("DELETE", "/v3/services/{service_id}", policy="identity:delete_service", status=204)
async def delete_service(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.catalog.delete_service(session, call.params["service_id"])


# -- endpoints -------------------------------------------------------------------------


@api.route("GET", "/v3/endpoints", policy="identity:list_endpoints")
async def list_endpoints(call: Call) -> dict[str, Any]:
    service = identity(call)
    filters = {k: call.query.get(k) for k in ("service_id", "interface", "region_id")}
    with service.db.session() as session:
        endpoints = service.catalog.list_endpoints(session, filters)
        return {"endpoints": [render_endpoint(call, e) for e in endpoints],
                "links": collection_links(call, "/v3/endpoints")}


@api.route("POST", "/v3/endpoints", policy="identity:create_endpoint", status=201,
           schema=schemas.ENDPOINT_CREATE)
async def create_endpoint(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"endpoint": render_endpoint(call, service.catalog.create_endpoint(
            session, call.body["endpoint"]))}


@api.route("GET", "/v3/endpoints/{endpoint_id}", policy="identity:get_endpoint")
async def get_endpoint(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"endpoint": render_endpoint(call, service.catalog.get_endpoint(
            session, call.params["endpoint_id"]))}


@api.route("PATCH", "/v3/endpoints/{endpoint_id}", policy="identity:update_endpoint",
           schema=schemas.ENDPOINT_UPDATE)
async def update_endpoint(call: Call) -> dict[str, Any]:
    service = identity(call)
    with service.db.session() as session:
        return {"endpoint": render_endpoint(call, service.catalog.update_endpoint(
            session, call.params["endpoint_id"], call.body["endpoint"]))}


@api.route("DELETE", "/v3/endpoints/{endpoint_id}", policy="identity:delete_endpoint",
           status=204)
async def delete_endpoint(call: Call) -> None:
    service = identity(call)
    with service.db.session() as session:
        service.catalog.delete_endpoint(session, call.params["endpoint_id"])
