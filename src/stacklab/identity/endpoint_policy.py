"""OS-ENDPOINT-POLICY: which policy blob an endpoint is to use.

A policy is associated with an endpoint, with a service in a region, or with a service;
each of those holds at most one policy (associating another replaces it). An endpoint's
policy is its own association's, else its service's in its region or the nearest parent
region that has one, else its service's: keystone's order. Associations go with the
policy, endpoint, service or region they name.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from stacklab.api.errors import NotFound
from stacklab.identity import models as m
from stacklab.identity.rows import row_or_404
from stacklab.identity.state import IdentityState


class EndpointPolicy:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def _check_exists(self, session: Session, policy_id: str, endpoint_id: str | None,
                      service_id: str | None, region_id: str | None) -> None:
        row_or_404(session, m.Policy, policy_id, "policy")
        if endpoint_id is not None:
            row_or_404(session, m.Endpoint, endpoint_id, "endpoint")
        if service_id is not None:
            row_or_404(session, m.CatalogService, service_id, "service")
        if region_id is not None:
            row_or_404(session, m.Region, region_id, "region")

    def _find(self, session: Session, endpoint_id: str | None, service_id: str | None,
              region_id: str | None) -> m.PolicyAssociation | None:
        return session.scalar(select(m.PolicyAssociation).where(
            m.PolicyAssociation.endpoint_id.is_(None) if endpoint_id is None
            else m.PolicyAssociation.endpoint_id == endpoint_id,
            m.PolicyAssociation.service_id.is_(None) if service_id is None
            else m.PolicyAssociation.service_id == service_id,
            m.PolicyAssociation.region_id.is_(None) if region_id is None
            else m.PolicyAssociation.region_id == region_id))

    def associate(self, session: Session, policy_id: str, *, endpoint_id: str | None = None,
                  service_id: str | None = None, region_id: str | None = None) -> None:
        self._check_exists(session, policy_id, endpoint_id, service_id, region_id)
        found = self._find(session, endpoint_id, service_id, region_id)
        if found is not None:
            found.policy_id = policy_id
            return
        session.add(m.PolicyAssociation(id=self.state.new_id(), policy_id=policy_id,
                                        endpoint_id=endpoint_id, service_id=service_id,
                                        region_id=region_id))

    def check(self, session: Session, policy_id: str, *, endpoint_id: str | None = None,
              service_id: str | None = None, region_id: str | None = None
              ) -> m.PolicyAssociation:
        self._check_exists(session, policy_id, endpoint_id, service_id, region_id)
        found = self._find(session, endpoint_id, service_id, region_id)
        if found is None or found.policy_id != policy_id:
            raise NotFound("Could not find policy association.")
        return found

    def dissociate(self, session: Session, policy_id: str, *, endpoint_id: str | None = None,
                   service_id: str | None = None, region_id: str | None = None) -> None:
        session.delete(self.check(session, policy_id, endpoint_id=endpoint_id,
                                  service_id=service_id, region_id=region_id))

    def policy_for_endpoint(self, session: Session, endpoint_id: str) -> m.Policy:
        endpoint = row_or_404(session, m.Endpoint, endpoint_id, "endpoint")
        found = self._find(session, endpoint.id, None, None)
        region_id = endpoint.region_id
        seen: set[str] = set()
        while found is None and region_id is not None and region_id not in seen:
            seen.add(region_id)
            found = self._find(session, None, endpoint.service_id, region_id)
            region = session.get(m.Region, region_id)
            region_id = region.parent_region_id if region is not None else None
        if found is None:
            found = self._find(session, None, endpoint.service_id, None)
        policy = session.get(m.Policy, found.policy_id) if found is not None else None
        if policy is None:
            raise NotFound(f"No policy is associated with endpoint {endpoint_id}.")
        return policy

    def endpoints_for_policy(self, session: Session, policy_id: str) -> list[m.Endpoint]:
        """Every endpoint an association of the policy names, as keystone lists them: a
        service-and-region one takes the region's subtree."""
        row_or_404(session, m.Policy, policy_id, "policy")
        endpoints = list(session.scalars(select(m.Endpoint).order_by(m.Endpoint.id)))
        regions = list(session.scalars(select(m.Region)))
        found: list[m.Endpoint] = []
        associations = session.scalars(select(m.PolicyAssociation).where(
            m.PolicyAssociation.policy_id == policy_id).order_by(m.PolicyAssociation.id))
        for association in associations:
            if association.endpoint_id is not None:
                found += [e for e in endpoints if e.id == association.endpoint_id]
            elif association.region_id is None:
                found += [e for e in endpoints if e.service_id == association.service_id]
            else:
                subtree, frontier = {association.region_id}, [association.region_id]
                while frontier:
                    frontier = [r.id for r in regions
                                if r.parent_region_id in frontier and r.id not in subtree]
                    subtree.update(frontier)
                found += [e for e in endpoints if e.service_id == association.service_id
                          and e.region_id in subtree]
        return found


def forget_associations(session: Session, *, policy_id: str | None = None,
                        endpoint_id: str | None = None, service_id: str | None = None,
                        region_id: str | None = None) -> None:
    """Drop the associations naming a deleted policy, endpoint, service or region."""
    named = [column == value for column, value in (
        (m.PolicyAssociation.policy_id, policy_id),
        (m.PolicyAssociation.endpoint_id, endpoint_id),
        (m.PolicyAssociation.service_id, service_id),
        (m.PolicyAssociation.region_id, region_id)) if value is not None]
    if named:
        session.execute(delete(m.PolicyAssociation).where(or_(*named)))
