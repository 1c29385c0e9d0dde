"""OS-ENDPOINT-POLICY without HTTP: associations, and an endpoint's policy in keystone's
order (the endpoint's own, its service's in its region or a parent region, its service's)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from stacklab.api.errors import NotFound
from stacklab.identity import models as m
from stacklab.identity.service import IdentityService


@dataclass
class Catalog:
    service: str
    parent: str  # region "parent", with "child" under it
    child: str
    endpoint: str  # of the service, in the child region
    other: str  # of the service, in no region
    policies: list[str]


def setup(identity: IdentityService) -> Catalog:
    with identity.db.session() as session:
        parent = identity.catalog.create_region(session, {}, region_id="parent")
        child = identity.catalog.create_region(session, {"parent_region_id": "parent"},
                                               region_id="child")
        service = identity.catalog.create_service(session, {"type": "compute"})
        session.flush()
        endpoint = identity.catalog.create_endpoint(session, {
            "service_id": service.id, "interface": "public", "url": "http://a",
            "region_id": child.id})
        other = identity.catalog.create_endpoint(session, {
            "service_id": service.id, "interface": "admin", "url": "http://b"})
        policies = [identity.policy_blobs.create_policy(session, {"type": "t", "blob": str(i)})
                    for i in range(3)]
        session.flush()
        return Catalog(service.id, parent.id, child.id, endpoint.id, other.id,
                       [p.id for p in policies])


def policy_of(identity: IdentityService, endpoint_id: str) -> str:
    with identity.db.session() as session:
        return identity.endpoint_policy.policy_for_endpoint(session, endpoint_id).id


def test_resolution_order(started: IdentityService) -> None:
    c = setup(started)
    ep = started.endpoint_policy
    with pytest.raises(NotFound, match="No policy is associated"):
        policy_of(started, c.endpoint)
    with started.db.session() as session:
        ep.associate(session, c.policies[0], service_id=c.service)
    assert policy_of(started, c.endpoint) == c.policies[0]
    with started.db.session() as session:
        # The parent region's association is found from the child region's endpoint.
        ep.associate(session, c.policies[1], service_id=c.service, region_id=c.parent)
    assert policy_of(started, c.endpoint) == c.policies[1]
    assert policy_of(started, c.other) == c.policies[0]
    with started.db.session() as session:
        ep.associate(session, c.policies[2], endpoint_id=c.endpoint)
    assert policy_of(started, c.endpoint) == c.policies[2]
    with started.db.session() as session:
        ep.dissociate(session, c.policies[2], endpoint_id=c.endpoint)
    assert policy_of(started, c.endpoint) == c.policies[1]


def test_one_policy_per_target_and_checks(started: IdentityService) -> None:
    c = setup(started)
    ep = started.endpoint_policy
    with started.db.session() as session:
        ep.associate(session, c.policies[0], service_id=c.service)
        ep.associate(session, c.policies[1], service_id=c.service)
    with started.db.session() as session:
        ep.check(session, c.policies[1], service_id=c.service)
        with pytest.raises(NotFound, match="policy association"):
            ep.check(session, c.policies[0], service_id=c.service)
        with pytest.raises(NotFound, match="endpoint"):
            ep.associate(session, c.policies[0], endpoint_id="missing")
        with pytest.raises(NotFound, match="policy"):
            ep.associate(session, "missing", service_id=c.service)


def test_endpoints_for_policy_take_the_region_subtree(started: IdentityService) -> None:
    c = setup(started)
    ep = started.endpoint_policy
    with started.db.session() as session:
        ep.associate(session, c.policies[0], service_id=c.service, region_id=c.parent)
        ep.associate(session, c.policies[1], service_id=c.service)
    with started.db.session() as session:
        assert [e.id for e in ep.endpoints_for_policy(session, c.policies[0])] == [c.endpoint]
        assert sorted(e.id for e in ep.endpoints_for_policy(session, c.policies[1])) == \
            sorted([c.endpoint, c.other])


def test_deleting_what_an_association_names_drops_it(started: IdentityService) -> None:
    c = setup(started)
    with started.db.session() as session:
        started.endpoint_policy.associate(session, c.policies[0], endpoint_id=c.endpoint)
        started.endpoint_policy.associate(session, c.policies[1], service_id=c.service)
    with started.db.session() as session:
        started.catalog.delete_endpoint(session, c.endpoint)
        started.policy_blobs.delete_policy(session, c.policies[1])
    with started.db.session() as session:
        assert session.query(m.PolicyAssociation).count() == 0
