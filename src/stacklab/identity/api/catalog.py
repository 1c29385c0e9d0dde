"""Regions, services and endpoints: keystone's catalog, served by the generic controller."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import link
from stacklab.identity.api.resource import Resource, serve


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


REGIONS = serve(Resource(
    "region", "regions", "catalog", render_region, schemas.REGION_CREATE,
    schemas.REGION_UPDATE, filters=("parent_region_id",), put_creates=True))
SERVICES = serve(Resource(
    "service", "services", "catalog", render_service, schemas.SERVICE_CREATE,
    schemas.SERVICE_UPDATE, filters=("type", "name")))
ENDPOINTS = serve(Resource(
    "endpoint", "endpoints", "catalog", render_endpoint, schemas.ENDPOINT_CREATE,
    schemas.ENDPOINT_UPDATE, filters=("service_id", "interface", "region_id")))
