"""neutron's quotas as the domain keeps them: limits, usage and OverQuota, without HTTP."""

from __future__ import annotations

import pytest

from stacklab.api.errors import ApiError, BadRequest
from stacklab.network import quotas
from stacklab.network.service import NetworkService


def make_networks(service: NetworkService, project: str, count: int) -> None:
    with service.db.session() as session:
        for index in range(count):
            service.create_network(session, project, {"name": f"n{index}"})


def test_a_project_over_its_limit_gets_neutrons_over_quota(service: NetworkService) -> None:
    make_networks(service, "p1", 2)
    with service.db.session() as session:
        quotas.set_limits(session, "p1", {"network": 3})
        quotas.enforce(session, "p1", "network")
        with pytest.raises(ApiError) as over:
            quotas.enforce(session, "p1", "network", count=2)
    assert (over.value.status, over.value.kind) == (409, "OverQuota")
    assert over.value.message == "Quota exceeded for resources: ['network']."


def test_usage_is_counted_per_project(service: NetworkService) -> None:
    make_networks(service, "p1", 2)
    with service.db.session() as session:
        quotas.set_limits(session, "p2", {"network": 1})
        quotas.enforce(session, "p2", "network")
        assert quotas.details(session, "p1")["network"] == {"limit": 100, "used": 2,
                                                             "reserved": 0}
        assert quotas.details(session, "p2")["network"]["used"] == 0


def test_minus_one_is_no_limit(service: NetworkService) -> None:
    make_networks(service, "p1", 3)
    with service.db.session() as session:
        quotas.set_limits(session, "p1", {"network": -1})
        quotas.enforce(session, "p1", "network", count=1000)


def test_check_limit_refuses_a_limit_below_usage(service: NetworkService) -> None:
    make_networks(service, "p1", 2)
    with service.db.session() as session:
        with pytest.raises(BadRequest) as refused:
            quotas.set_limits(session, "p1", {"network": 1}, check_limit=True)
        assert refused.value.message == ("Quota limit 1 for network must be greater than or "
                                         "equal to already used 2.")
        assert quotas.set_limits(session, "p1", {"network": 1})["network"] == 1


def test_limits_listed_and_reset(service: NetworkService) -> None:
    with service.db.session() as session:
        quotas.set_limits(session, "p2", {"port": 7})
        quotas.set_limits(session, "p1", {"router": 0})
        listed = quotas.all_limits(session)
        assert [q["project_id"] for q in listed] == ["p1", "p2"]
        assert (listed[0]["router"], listed[1]["port"], listed[1]["network"]) == (0, 7, 100)
        quotas.reset(session, "p2")
        assert quotas.limits(session, "p2") == quotas.DEFAULTS
