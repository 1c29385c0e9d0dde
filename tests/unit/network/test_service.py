"""What the Networking domain does when a project asks for a network, subnet or port: quotas,
subnets from pools, DHCP scheduling, and the checks of updates and deletes (no HTTP)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest
from stacklab.network import models as m
from stacklab.network import quotas
from stacklab.network.service import NetworkService

MEMBER = RequestContext(request_id="req-1", project_id="p1", roles=["member"])


class Scheduled(list[str]):
    """The networks the service asked DHCP agents for, in order."""

    def __call__(self, session: Session, network_id: str) -> None:
        self.append(network_id)


@pytest.fixture
def scheduled(service: NetworkService) -> Scheduled:
    service.schedule_dhcp = record = Scheduled()
    return record


def test_a_new_subnet_asks_for_its_networks_dhcp_agents(service: NetworkService,
                                                        scheduled: Scheduled) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        session.flush()
        subnet = service.add_subnet(session, "p1", {
            "network_id": network.id, "cidr": "10.0.0.0/24", "ip_version": 4,
            "enable_dhcp": True}, MEMBER)
        assert (subnet.enable_dhcp, subnet.subnetpool_id) == (True, None)
    assert scheduled == [network.id]


def test_a_subnet_from_the_default_pool(service: NetworkService, scheduled: Scheduled) -> None:
    with service.db.session() as session:
        pool = service.pools.create(session, "admin", {
            "prefixes": ["10.8.0.0/16"], "default_prefixlen": 26, "is_default": True,
            "shared": True})
        network = service.add_network(session, "p1", {"name": "n"})
        session.flush()
        asked = {"network_id": network.id, "use_default_subnetpool": True, "ip_version": 4}
        first = service.add_subnet(session, "p1", asked, MEMBER)
        second = service.add_subnet(session, "p1", {**asked, "prefixlen": 24}, MEMBER)
        assert (first.cidr, first.subnetpool_id, first.gateway_ip) == (
            "10.8.0.0/26", pool.id, "10.8.0.1")
        assert second.cidr == "10.8.1.0/24"
    assert scheduled == [network.id, network.id]


def test_no_default_pool_is_refused_before_anything_is_made(service: NetworkService,
                                                            scheduled: Scheduled) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        session.flush()
        with pytest.raises(BadRequest) as missing:
            service.add_subnet(session, "p1", {"network_id": network.id,
                                               "use_default_subnetpool": True}, MEMBER)
        assert missing.value.message == "No default subnetpool found for IPv4"
        assert quotas.used(session, "p1", "subnet") == 0
    assert scheduled == []


def test_a_project_over_its_subnet_quota_gets_no_subnet(service: NetworkService,
                                                        scheduled: Scheduled) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        quotas.set_limits(session, "p1", {"subnet": 1})
        service.add_subnet(session, "p1", {"network_id": network.id, "cidr": "10.0.0.0/24",
                                           "ip_version": 4}, MEMBER)
        with pytest.raises(ApiError) as over:
            service.add_subnet(session, "p1", {"network_id": network.id,
                                               "cidr": "10.0.1.0/24", "ip_version": 4}, MEMBER)
        assert over.value.message == "Quota exceeded for resources: ['subnet']."
    assert scheduled == [network.id]


@pytest.mark.parametrize("resource", ["network", "port"])
def test_networks_and_ports_are_counted_against_the_quota(service: NetworkService,
                                                          resource: str) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        session.flush()
        quotas.set_limits(session, "p1", {resource: 1})
        with pytest.raises(ApiError) as over:
            if resource == "network":
                service.add_network(session, "p1", {"name": "n2"})
            else:
                service.add_port(session, "p1", {"network_id": network.id})
                service.add_port(session, "p1", {"network_id": network.id})
        assert (over.value.status, over.value.kind) == (409, "OverQuota")
        assert over.value.message == f"Quota exceeded for resources: ['{resource}']."


def test_a_router_interface_is_not_deleted_as_a_port(service: NetworkService) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        session.flush()
        port = service.add_port(session, "p1", {"network_id": network.id,
                                                "device_owner": "network:router_interface"})
        with pytest.raises(ApiError) as refused:
            service.delete_port(session, port)
        assert (refused.value.status, refused.value.kind) == (409, "L3PortInUse")
        plain = service.add_port(session, "p1", {"network_id": network.id})
        service.delete_port(session, plain)
        session.flush()
        assert session.get(m.Port, plain.id) is None


def test_a_network_other_projects_use_stays_shared(service: NetworkService) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n", "shared": True})
        session.flush()
        service.update_network(session, network, {"name": "renamed", "shared": False})
        assert (network.name, network.shared) == ("renamed", False)
        network.shared = True
        service.add_port(session, "p2", {"network_id": network.id})
        with pytest.raises(ApiError) as refused:
            service.update_network(session, network, {"shared": False})
        assert (refused.value.status, refused.value.kind) == (409, "InvalidSharedSetting")


def test_a_subnet_update_keeps_gateway_and_pools_consistent(service: NetworkService) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        subnet = service.add_subnet(session, "p1", {"network_id": network.id,
                                                    "cidr": "10.0.0.0/24", "ip_version": 4},
                                    MEMBER)
        with pytest.raises(BadRequest, match="gateway_ip and IP version are incompatible"):
            service.update_subnet(subnet, {"gateway_ip": "fd00::1"})
        with pytest.raises(ApiError, match=r"Gateway ip 10\.0\.0\.5 conflicts with allocation"):
            service.update_subnet(subnet, {"gateway_ip": "10.0.0.5"})
        service.update_subnet(subnet, {"gateway_ip": "10.0.0.254", "allocation_pools": [
            {"start": "10.0.0.2", "end": "10.0.0.200"}], "name": "s"})
        assert (subnet.gateway_ip, subnet.name) == ("10.0.0.254", "s")
