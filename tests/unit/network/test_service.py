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


# -- IPv6 automatic addresses (SLAAC, DHCPv6-stateless) --------------------------------------


def _dual_stack(service: NetworkService, session: Session,
                mode: str = "slaac") -> tuple[m.Network, m.Subnet, m.Subnet]:
    network = service.add_network(session, "p1", {"name": "n"})
    session.flush()
    v4 = service.add_subnet(session, "p1", {"network_id": network.id, "cidr": "10.0.0.0/24",
                                            "ip_version": 4}, MEMBER)
    v6 = service.add_subnet(session, "p1", {
        "network_id": network.id, "cidr": "2001:db8::/64", "ip_version": 6,
        "ipv6_ra_mode": mode, "ipv6_address_mode": mode}, MEMBER)
    session.flush()
    return network, v4, v6


def _addresses(service: NetworkService, session: Session, port: m.Port) -> dict[str, str]:
    return {a["subnet_id"]: a["ip_address"]
            for a in service.fixed_ips(session, [port.id])[port.id]}


@pytest.mark.parametrize("mode", ["slaac", "dhcpv6-stateless"])
def test_a_port_gets_its_mac_s_eui64_address_on_an_automatic_subnet(
        service: NetworkService, mode: str) -> None:
    with service.db.session() as session:
        network, v4, v6 = _dual_stack(service, session, mode)
        port = service.add_port(session, "p1", {"network_id": network.id,
                                                "mac_address": "fa:16:3e:12:34:56"})
        session.flush()
        # RFC 4291: ff:fe in the middle, the universal/local bit of the first octet flipped.
        assert _addresses(service, session, port) == {
            v4.id: "10.0.0.2", v6.id: "2001:db8::f816:3eff:fe12:3456"}


def test_naming_only_another_subnet_still_gives_the_automatic_address(
        service: NetworkService) -> None:
    with service.db.session() as session:
        network, v4, v6 = _dual_stack(service, session)
        named_v4 = service.add_port(session, "p1", {
            "network_id": network.id, "mac_address": "fa:16:3e:00:00:01",
            "fixed_ips": [{"subnet_id": v4.id}]})
        named_v6 = service.add_port(session, "p1", {
            "network_id": network.id, "mac_address": "fa:16:3e:00:00:02",
            "fixed_ips": [{"subnet_id": v6.id}]})
        session.flush()
        assert _addresses(service, session, named_v4)[v6.id] == "2001:db8::f816:3eff:fe00:1"
        # Its subnet named alone: the EUI-64 address, not the next free one (::2).
        assert _addresses(service, session, named_v6) == {v6.id: "2001:db8::f816:3eff:fe00:2"}


def test_an_automatic_subnet_takes_no_address_but_the_eui64_one(
        service: NetworkService) -> None:
    with service.db.session() as session:
        network, _, v6 = _dual_stack(service, session)
        with pytest.raises(ApiError) as refused:
            service.add_port(session, "p1", {
                "network_id": network.id, "mac_address": "fa:16:3e:00:00:03",
                "fixed_ips": [{"subnet_id": v6.id, "ip_address": "2001:db8::5"}]})
        assert (refused.value.status, refused.value.kind, refused.value.message) == (
            400, "AllocationOnAutoAddressSubnet",
            f"IPv6 address 2001:db8::5 cannot be directly assigned to a port on subnet "
            f"{v6.id} as the subnet is configured for automatic addresses")


def test_a_router_interface_takes_no_automatic_address(service: NetworkService) -> None:
    with service.db.session() as session:
        network, v4, _ = _dual_stack(service, session)
        port = service.create_port(session, "p1", {
            "network_id": network.id, "device_owner": "network:router_interface",
            "fixed_ips": [{"subnet_id": v4.id, "ip_address": "10.0.0.1"}]})
        session.flush()
        assert _addresses(service, session, port) == {v4.id: "10.0.0.1"}


def test_deleting_an_automatic_subnet_takes_its_addresses_from_the_ports(
        service: NetworkService) -> None:
    with service.db.session() as session:
        network, v4, v6 = _dual_stack(service, session)
        port = service.add_port(session, "p1", {"network_id": network.id})
        session.flush()
        service.delete_subnet(session, v6)
        session.flush()
        assert _addresses(service, session, port) == {v4.id: "10.0.0.2"}
        # A stateful subnet with a port's address stays in use.
        with pytest.raises(ApiError) as refused:
            service.delete_subnet(session, v4)
        assert (refused.value.status, refused.value.kind) == (409, "SubnetInUse")


def test_a_router_interface_keeps_an_automatic_subnet_in_use(service: NetworkService) -> None:
    with service.db.session() as session:
        network, _, v6 = _dual_stack(service, session)
        service.create_port(session, "p1", {
            "network_id": network.id, "device_owner": "network:router_interface",
            "fixed_ips": [{"subnet_id": v6.id, "ip_address": "2001:db8::1"}]})
        session.flush()
        with pytest.raises(ApiError) as refused:
            service.delete_subnet(session, v6)
        assert (refused.value.status, refused.value.kind) == (409, "SubnetInUse")


def test_an_external_network_goes_with_its_unassociated_floating_ips(
        service: NetworkService) -> None:
    with service.db.session() as session:
        network = service.create_network(session, "admin", {
            "name": "ext", "router:external": True, "provider:network_type": "flat",
            "provider:physical_network": "x"})
        session.flush()
        service.create_subnet(session, "admin", {"network_id": network.id, "ip_version": 4,
                                                 "cidr": "203.0.113.0/24"})
        session.flush()
        port = service.create_port(session, "p1", {"network_id": network.id,
                                                   "device_owner": "network:floatingip"})
        now = service.clock.now()
        session.add(m.FloatingIP(id="fip-1", project_id="p1", name="", description="",
                                 floating_network_id=network.id,
                                 floating_ip_address="203.0.113.2", floating_port_id=port.id,
                                 status="DOWN", tags=[], created_at=now, updated_at=now))
        session.flush()
        service.delete_network(session, network)
        session.flush()
        assert session.get(m.FloatingIP, "fip-1") is None
        assert session.get(m.Port, port.id) is None


@pytest.mark.parametrize(("fields", "message"), [
    ({"ipv6_ra_mode": "dhcpv6-stateless", "ipv6_address_mode": "slaac"},
     "ipv6_ra_mode set to 'dhcpv6-stateless' with ipv6_address_mode set to 'slaac' is not "
     "valid. If both attributes are set, they must be the same value"),
    ({"ipv6_address_mode": "slaac", "enable_dhcp": False},
     "ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False"),
    ({"ipv6_ra_mode": "slaac", "cidr": "2001:db8::/80"},
     "Invalid CIDR 2001:db8::/80 for IPv6 address mode. OpenStack uses the EUI-64 address "
     "format, which requires the prefix to be /64"),
    ({"ipv6_address_mode": "slaac", "ip_version": 4, "cidr": "10.0.0.0/24"},
     "ipv6_address_mode is not valid when ip_version is 4"),
])
def test_ipv6_modes_are_checked_as_neutron_does(service: NetworkService,
                                                fields: dict[str, object],
                                                message: str) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        session.flush()
        with pytest.raises(BadRequest) as refused:
            service.add_subnet(session, "p1", {"network_id": network.id, "ip_version": 6,
                                               "cidr": "2001:db8::/64", **fields}, MEMBER)
        assert refused.value.message == f"Invalid input for operation: {message}."


def test_only_the_ra_mode_makes_a_subnet_automatic(service: NetworkService) -> None:
    with service.db.session() as session:
        network = service.add_network(session, "p1", {"name": "n"})
        session.flush()
        v6 = service.add_subnet(session, "p1", {"network_id": network.id, "ip_version": 6,
                                                "cidr": "2001:db8::/64",
                                                "ipv6_ra_mode": "slaac"}, MEMBER)
        session.flush()
        port = service.add_port(session, "p1", {"network_id": network.id,
                                                "mac_address": "fa:16:3e:00:00:09"})
        session.flush()
        assert _addresses(service, session, port) == {v6.id: "2001:db8::f816:3eff:fe00:9"}
