"""Regions, services and endpoints, and the catalog tokens carry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Forbidden
from stacklab.identity import models as m
from stacklab.identity.endpoint_policy import forget_associations
from stacklab.identity.errors import duplicate, not_found
from stacklab.identity.rows import filtered, row_or_404
from stacklab.identity.state import IdentityState

INTERFACES = ("public", "internal", "admin")


_SUBSTITUTION = "$(project_id)s"
_TENANT = "$(tenant_id)s"


class Catalog:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    # -- regions ---------------------------------------------------------------------

    def get_region(self, session: Session, region_id: str) -> m.Region:
        return row_or_404(session, m.Region, region_id, "region")

    def list_regions(self, session: Session, filters: Mapping[str, Any]) -> list[m.Region]:
        return filtered(session, m.Region, filters, ("parent_region_id",), m.Region.id)

    def create_region(self, session: Session, fields: Mapping[str, Any],
                      region_id: str | None = None) -> m.Region:
        region_id = region_id or fields.get("id") or self.state.new_id()
        if session.get(m.Region, region_id) is not None:
            raise duplicate("region", f"Duplicate ID, {region_id}")
        parent = fields.get("parent_region_id")
        if parent is not None and session.get(m.Region, parent) is None:
            raise not_found("region", parent)
        region = m.Region(id=region_id, description=fields.get("description", ""),
                          parent_region_id=parent)
        session.add(region)
        self.state.changed()
        return region

    def update_region(self, session: Session, region_id: str,
                      fields: Mapping[str, Any]) -> m.Region:
        region = self.get_region(session, region_id)
        parent = fields.get("parent_region_id", region.parent_region_id)
        if parent == region.id:
            raise BadRequest("Circular reference or a repeated entry found in region tree")
        if parent is not None and session.get(m.Region, parent) is None:
            raise not_found("region", parent)
        for name in ("description", "parent_region_id"):
            if name in fields:
                setattr(region, name, fields[name])
        self.state.changed()
        return region

    def delete_region(self, session: Session, region_id: str) -> None:
        """Delete a region and its child regions, unless an endpoint sits in any of them."""
        region = self.get_region(session, region_id)
        tree = [region.id]
        frontier = [region.id]
        while frontier:
            frontier = list(session.scalars(
                select(m.Region.id).where(m.Region.parent_region_id.in_(frontier))))
            tree.extend(frontier)
        if session.scalar(select(m.Endpoint.id).where(m.Endpoint.region_id.in_(tree))):
            raise Forbidden(f"Unable to delete region {region.id} because it or its child "
                            "regions have associated endpoints.")
        for region_in_tree in reversed(tree):
            forget_associations(session, region_id=region_in_tree)
            session.delete(self.get_region(session, region_in_tree))
            session.flush()
        self.state.changed()

    # -- services --------------------------------------------------------------------

    def get_service(self, session: Session, service_id: str) -> m.CatalogService:
        return row_or_404(session, m.CatalogService, service_id, "service")

    def list_services(self, session: Session,
                      filters: Mapping[str, Any]) -> list[m.CatalogService]:
        return filtered(session, m.CatalogService, filters, ("type", "name"),
                        m.CatalogService.type)

    def create_service(self, session: Session, fields: Mapping[str, Any],
                       service_id: str | None = None) -> m.CatalogService:
        service = m.CatalogService(
            id=service_id or self.state.new_id(), type=fields["type"], name=fields.get("name"),
            description=fields.get("description"), enabled=fields.get("enabled", True),
            extra={k: v for k, v in fields.items()
                   if k not in ("type", "name", "description", "enabled")})
        session.add(service)
        self.state.changed()
        return service

    def update_service(self, session: Session, service_id: str,
                       fields: Mapping[str, Any]) -> m.CatalogService:
        service = self.get_service(session, service_id)
        for name in ("type", "name", "description", "enabled"):
            if name in fields:
                setattr(service, name, fields[name])
        self.state.changed()
        return service

    def delete_service(self, session: Session, service_id: str) -> None:
        forget_associations(session, service_id=service_id)
        session.delete(self.get_service(session, service_id))
        self.state.changed()

    # -- endpoints -------------------------------------------------------------------

    def get_endpoint(self, session: Session, endpoint_id: str) -> m.Endpoint:
        return row_or_404(session, m.Endpoint, endpoint_id, "endpoint")

    def list_endpoints(self, session: Session, filters: Mapping[str, Any]) -> list[m.Endpoint]:
        return filtered(session, m.Endpoint, filters, ("service_id", "interface", "region_id"),
                        m.Endpoint.service_id, m.Endpoint.interface)

    def _endpoint_region(self, session: Session, fields: Mapping[str, Any],
                         current: str | None = None) -> str | None:
        """keystone's rule: an unknown ``region_id`` is refused, while the legacy ``region``
        alone names a region that is created if it does not exist yet."""
        if fields.get("region_id") is None and fields.get("region") is not None:
            region_id = str(fields["region"])
            if session.get(m.Region, region_id) is None:
                self.create_region(session, {"description": ""}, region_id=region_id)
                session.flush()
            return region_id
        given: str | None = fields.get("region_id", current)
        if given is not None and session.get(m.Region, given) is None:
            raise BadRequest("Expecting to find endpoint region_id in region table. The server "
                             "could not comply with the request since it is either malformed "
                             "or otherwise incorrect. The client is assumed to be in error.")
        return given

    def create_endpoint(self, session: Session, fields: Mapping[str, Any],
                        endpoint_id: str | None = None) -> m.Endpoint:
        self.get_service(session, fields["service_id"])
        region_id = self._endpoint_region(session, fields)
        endpoint = m.Endpoint(
            id=endpoint_id or self.state.new_id(), service_id=fields["service_id"],
            interface=fields["interface"], url=fields["url"], region_id=region_id,
            enabled=fields.get("enabled", True), extra=dict(fields.get("extra", {})))
        session.add(endpoint)
        self.state.changed()
        return endpoint

    def update_endpoint(self, session: Session, endpoint_id: str,
                        fields: Mapping[str, Any]) -> m.Endpoint:
        endpoint = self.get_endpoint(session, endpoint_id)
        if "service_id" in fields:
            self.get_service(session, fields["service_id"])
        endpoint.region_id = self._endpoint_region(session, fields, endpoint.region_id)
        for name in ("service_id", "interface", "url", "enabled"):
            if name in fields:
                setattr(endpoint, name, fields[name])
        self.state.changed()
        return endpoint

    def delete_endpoint(self, session: Session, endpoint_id: str) -> None:
        forget_associations(session, endpoint_id=endpoint_id)
        session.delete(self.get_endpoint(session, endpoint_id))
        self.state.changed()

    # -- the catalog -----------------------------------------------------------------

    def render(self, session: Session | None, project_id: str | None = None) \
            -> list[dict[str, Any]]:
        """The v3 catalog: every enabled service with its enabled endpoints, their URLs'
        ``$(project_id)s``/``$(tenant_id)s`` filled in with the token's project (keystone's
        ``format_url``); without a project such an endpoint is left out, as keystone's
        silent key errors leave it. Without a ``session``, one of its own is opened if
        the catalog has to be read (a validation usually finds it cached). The answer is
        shared between calls: not to be changed."""
        return self.state.cached(("catalog", project_id),
                                 lambda: self._format(self._render(session), project_id))

    @staticmethod
    def _format(catalog: list[dict[str, Any]], project_id: str | None) \
            -> list[dict[str, Any]]:
        if not any(_SUBSTITUTION in e["url"] or _TENANT in e["url"]
                   for s in catalog for e in s["endpoints"]):
            return catalog
        out = []
        for service in catalog:
            endpoints = []
            for endpoint in service["endpoints"]:
                url = endpoint["url"]
                if _SUBSTITUTION in url or _TENANT in url:
                    if project_id is None:
                        continue
                    url = url.replace(_SUBSTITUTION, project_id).replace(_TENANT, project_id)
                    endpoint = {**endpoint, "url": url}
                endpoints.append(endpoint)
            out.append({**service, "endpoints": endpoints})
        return out

    def _render(self, session: Session | None) -> list[dict[str, Any]]:
        def compute(session: Session) -> list[dict[str, Any]]:
            endpoints: dict[str, list[dict[str, Any]]] = {}
            for endpoint in session.scalars(select(m.Endpoint).where(m.Endpoint.enabled)):
                endpoints.setdefault(endpoint.service_id, []).append({
                    "id": endpoint.id, "interface": endpoint.interface,
                    "region_id": endpoint.region_id, "region": endpoint.region_id,
                    "url": endpoint.url,
                })
            return [
                {"endpoints": endpoints.get(s.id, []), "id": s.id, "type": s.type,
                 "name": s.name or ""}
                for s in session.scalars(select(m.CatalogService).where(
                    m.CatalogService.enabled).order_by(m.CatalogService.type))
            ]

        def read() -> list[dict[str, Any]]:
            if session is not None:
                return compute(session)
            with self.state.db.session() as own:
                return compute(own)

        return self.state.cached("catalog", read)

    def ensure_service_endpoints(self, session: Session, *, type: str, name: str,
                                 description: str, url: str, region_id: str) -> None:
        """At start: the service a stacklab package serves is in the catalog, at today's URL.

        Endpoints stacklab made itself follow the server's address across
        restarts; an operator's own endpoints are left alone.
        """
        service = session.scalar(select(m.CatalogService).where(
            m.CatalogService.type == type, m.CatalogService.name == name))
        if service is None:
            service = self.create_service(session, {"type": type, "name": name,
                                                    "description": description})
        existing = {e.interface: e for e in session.scalars(select(m.Endpoint).where(
            m.Endpoint.service_id == service.id))}
        for interface in INTERFACES:
            endpoint = existing.get(interface)
            if endpoint is None:
                self.create_endpoint(session, {
                    "service_id": service.id, "interface": interface, "url": url,
                    "region_id": region_id, "extra": {"stacklab_managed": True}})
            elif endpoint.extra.get("stacklab_managed") and endpoint.url != url:
                endpoint.url = url
                self.state.changed()
