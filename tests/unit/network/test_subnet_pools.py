"""Subnet pools as the domain keeps them: bounds, visibility, the default pool and the next
free prefix (neutron's subnet allocation), without HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest
from stacklab.network import models as m
from stacklab.network.service import NetworkService

MEMBER = RequestContext(request_id="req-1", project_id="p1", roles=["member"])
OTHER = RequestContext(request_id="req-2", project_id="p2", roles=["member"])
ADMIN = RequestContext(request_id="req-3", project_id="admin", roles=["admin"])


def make_pool(service: NetworkService, session: Session, **fields: Any) -> m.SubnetPool:
    pool = service.pools.create(session, "p1", {"name": "pool", **fields})
    session.flush()
    return pool


def take(service: NetworkService, session: Session, pool: m.SubnetPool,
         prefixlen: int | None = None) -> str:
    """Allocate a prefix and hold it with a subnet, as a subnet created from the pool does."""
    network = service.create_network(session, "p1", {"name": "n"})
    session.flush()
    cidr = service.pools.allocate_prefix(session, pool, prefixlen)
    subnet = service.create_subnet(session, "p1", {"network_id": network.id, "cidr": cidr,
                                                   "ip_version": pool.ip_version})
    subnet.subnetpool_id = pool.id
    session.flush()
    return cidr


def test_prefixes_come_lowest_first_and_skip_the_taken(service: NetworkService) -> None:
    with service.db.session() as session:
        pool = make_pool(service, session, prefixes=["10.0.0.0/16"], default_prefixlen=24)
        assert take(service, session, pool) == "10.0.0.0/24"
        assert take(service, session, pool) == "10.0.1.0/24"
        assert take(service, session, pool, prefixlen=23) == "10.0.2.0/23"
        assert take(service, session, pool) == "10.0.4.0/24"


def test_prefixlen_defaults_and_bounds(service: NetworkService) -> None:
    with service.db.session() as session:
        pool = make_pool(service, session, prefixes=["10.0.0.0/16"], min_prefixlen=20,
                         default_prefixlen=24, max_prefixlen=26)
        assert service.pools.allocate_prefix(session, pool, None).endswith("/24")
        assert service.pools.allocate_prefix(session, pool, 26).endswith("/26")
        assert service.pools.allocate_prefix(session, pool, 20).endswith("/20")
        for wrong in (19, 27):
            with pytest.raises(BadRequest) as refused:
                service.pools.allocate_prefix(session, pool, wrong)
            assert refused.value.message == (
                f"Invalid input for operation: Illegal prefix bounds: prefixlen {wrong}, "
                "min_prefixlen 20, max_prefixlen 26.")


def test_an_exhausted_pool_is_neutrons_subnet_allocation_error(
        service: NetworkService) -> None:
    with service.db.session() as session:
        pool = make_pool(service, session, prefixes=["10.1.0.0/24"], default_prefixlen=25)
        assert [take(service, session, pool) for _ in range(2)] == ["10.1.0.0/25",
                                                                    "10.1.0.128/25"]
        with pytest.raises(ApiError) as full:
            service.pools.allocate_prefix(session, pool, None)
    assert (full.value.status, full.value.kind) == (409, "SubnetAllocationError")
    assert full.value.message == "Insufficient prefix space to allocate subnet size /25."


def test_the_default_pool_of_the_subnets_ip_version(service: NetworkService) -> None:
    asking = {"use_default_subnetpool": True, "ip_version": 4}
    with service.db.session() as session:
        make_pool(service, session, prefixes=["fd00::/48"], is_default=True, shared=True)
        with pytest.raises(BadRequest) as missing:
            service.pools.for_subnet(session, asking, MEMBER)
        assert missing.value.message == "No default subnetpool found for IPv4"
        default = make_pool(service, session, prefixes=["10.0.0.0/16"], is_default=True,
                            shared=True)
        assert service.pools.for_subnet(session, asking, OTHER) is default
        assert service.pools.for_subnet(session, {"ip_version": 4}, MEMBER) is None


def test_another_projects_private_pool_does_not_exist_for_a_member(
        service: NetworkService) -> None:
    with service.db.session() as session:
        pool = make_pool(service, session, prefixes=["10.0.0.0/16"])
        assert service.pools.for_subnet(session, {"subnetpool_id": pool.id}, MEMBER) is pool
        assert service.pools.get(session, pool.id, ADMIN) is pool
        with pytest.raises(ApiError) as hidden:
            service.pools.get(session, pool.id, OTHER)
        assert (hidden.value.status, hidden.value.kind) == (404, "SubnetPoolNotFound")
        assert hidden.value.message == f"Subnet pool {pool.id} could not be found."


def test_a_new_pools_bounds_default_to_its_widest_prefix(service: NetworkService) -> None:
    with service.db.session() as session:
        pool = make_pool(service, session, prefixes=["10.0.1.0/24", "10.0.0.0/24",
                                                     "10.2.0.0/20"])
        assert pool.prefixes == ["10.0.0.0/23", "10.2.0.0/20"]
        assert (pool.ip_version, pool.min_prefixlen, pool.default_prefixlen,
                pool.max_prefixlen) == (4, 20, 20, 32)
        with pytest.raises(BadRequest, match="Illegal prefix bounds: prefixlen 16, "
                                             "min_prefixlen 16, max_prefixlen 33"):
            make_pool(service, session, prefixes=["10.0.0.0/16"], max_prefixlen=33)
        with pytest.raises(BadRequest, match="Cannot mix IPv4 and IPv6 prefixes"):
            make_pool(service, session, prefixes=["10.0.0.0/16", "fd00::/48"])


def test_an_update_adds_prefixes_and_keeps_the_bounds(service: NetworkService) -> None:
    with service.db.session() as session:
        pool = make_pool(service, session, prefixes=["10.0.0.0/24"], min_prefixlen=24)
        service.pools.update(pool, {"prefixes": ["10.0.1.0/24"], "name": "wider"})
        assert (pool.prefixes, pool.name) == (["10.0.0.0/23"], "wider")
        with pytest.raises(BadRequest, match="Illegal prefix bounds: prefixlen 24, "
                                             "min_prefixlen 25"):
            service.pools.update(pool, {"min_prefixlen": 25})


def test_a_pool_with_subnets_is_not_deleted(service: NetworkService) -> None:
    with service.db.session() as session:
        pool = make_pool(service, session, prefixes=["10.0.0.0/16"], default_prefixlen=24)
        take(service, session, pool)
        with pytest.raises(ApiError) as in_use:
            service.pools.delete(session, pool)
        assert (in_use.value.status, in_use.value.kind) == (409, "SubnetPoolInUse")
        unused = make_pool(service, session, prefixes=["10.9.0.0/16"])
        service.pools.delete(session, unused)
        session.flush()
        assert session.get(m.SubnetPool, unused.id) is None
