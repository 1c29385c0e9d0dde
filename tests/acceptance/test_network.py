"""Networking v2.0 on a live cloud: the real CLI and SDK, bodies checked against neutron's spec.

Every test makes its own networks, subnets, ports, groups and servers (unique names) and
deletes them again (``Trash``), so that the shared session cloud ends each test as it found
it: the admin project owns only ``public``, no shared network is left for ``--nic auto`` to
trip on. Raw HTTP goes through ``Neutron``, which checks every JSON body it gets back: success
bodies against the network OpenAPI spec (as a shape check, see ``assert_spec_shape``), error
bodies against neutron's ``{"NeutronError": {"type", "message", "detail"}}``. The CLI costs
about a second a call, so it is kept for what a user types; the rest is raw HTTP or the SDK.

Upstream references for the expectations: neutron @ 2131d26f7326, neutron-lib @ 6cd671a8c461,
nova @ 00a030403f67.
"""

from __future__ import annotations

import ipaddress
import json
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud, wait_for
from support.apiref import (
    assert_nova_response,
    assert_shape_like_sample,
    assert_valid,
    openapi_response_schema,
    sample,
)

# Every test here runs in each shape of the cloud (conftest.py SHAPES).
pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180), pytest.mark.every_shape]

CIRROS = "cirros-0.6.2-x86_64-disk"
COMPUTE1, COMPUTE2 = "compute1.openstack.local", "compute2.openstack.local"
NOVA_VERSION = "2.96"
SAMPLES = "api-ref/source/v2/samples"
MAC_PREFIX = "fa:16:3e:"  # neutron's [DEFAULT] base_mac


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token(live: LiveCloud, user: str = "admin", password: str = "secret",
          project: str = "admin") -> str:
    response = httpx.post(f"{live.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run independent CLI calls side by side (each is a second of interpreter start-up)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


# -- checking bodies ---------------------------------------------------------------------------

# The network spec types these keys wrongly; upstream's own samples fail on each of them (with
# these keys and the nulls left out, every network/subnet/port/security group sample passes).
SPEC_MISTYPED = {
    "l2_adjacency",  # spec: string; neutron and the samples: boolean
    "dns_assignment",  # spec: string; the samples: a list of {hostname, ip_address, fqdn}
    "port_range_min",  # spec: string; the samples: integer
    "port_range_max",
    "security_group_rules",  # spec: string; the samples: a list (checked rule by rule below)
}

_COLLECTIONS = ("networks", "subnets", "ports", "security-groups", "security-group-rules",
                "extensions")


def _loosen(node: Any) -> Any:
    """The body without nulls (the spec types nullable fields as non-null) or mistyped keys."""
    if isinstance(node, dict):
        return {k: _loosen(v) for k, v in node.items()
                if v is not None and k not in SPEC_MISTYPED}
    if isinstance(node, list):
        return [_loosen(item) for item in node]
    return node


def spec_template(path: str) -> str | None:
    parts = path.split("?")[0].strip("/").split("/")
    if len(parts) < 2 or parts[0] != "v2.0" or parts[1] not in _COLLECTIONS:
        return None
    if len(parts) == 2:
        return f"/v2.0/{parts[1]}"
    return f"/v2.0/{parts[1]}/{{id}}" if len(parts) == 3 else None


def assert_spec_shape(body: Any, template: str, method: str, status: int) -> None:
    """The network spec's response schema, used as a shape check (not a strict oracle)."""
    where = f"{method} {template} {status}"
    schema = openapi_response_schema("network", template, method.lower(), str(status))
    assert_valid(_loosen(body), schema, where=where)
    rule_schema = openapi_response_schema("network", "/v2.0/security-group-rules/{id}", "get")
    groups = body.get("security_groups") or [body.get("security_group") or {}]
    for group in groups:
        for rule in group.get("security_group_rules") or []:
            assert_valid({"security_group_rule": _loosen(rule)}, rule_schema,
                         where=f"{where}: a rule of group {group.get('id')}")


def assert_neutron_error(response: httpx.Response, status: int, kind: str | None = None,
                         message: str | None = None) -> dict[str, str]:
    """neutron's error body: exactly ``{"NeutronError": {"type", "message", "detail"}}``."""
    assert response.status_code == status, f"{status} expected: {response.status_code} " \
        f"{response.text}"
    body = response.json()
    assert list(body) == ["NeutronError"], body
    error: dict[str, str] = body["NeutronError"]
    assert set(error) == {"type", "message", "detail"}, error
    assert all(isinstance(error[k], str) for k in error), error
    if kind is not None:
        assert error["type"] == kind, error
    if message is not None:
        assert error["message"] == message, error
    return error


# Keys of upstream's samples that stacklab leaves out. Each is the attribute of an extension
# stacklab does not advertise, which is how neutron itself behaves without that extension;
# the check fails if the extension ever appears in /v2.0/extensions without its attribute.
NOT_ADVERTISED = {
    ("network", "vlan_transparent"): "vlan-transparent",
    ("network", "qinq"): "qinq",
    ("network", "pvlan"): "pvlan",
    ("subnet", "router:external"): "subnet-external-network",
    ("port", "data_plane_status"): "data-plane-status",
    ("port", "dns_domain"): "dns-domain-ports",
    ("port", "hardware_offload_type"): "port-hardware-offload-type",
    ("port", "pvlan_type"): "pvlan",
    ("port", "pvlan_community"): "pvlan",
    ("port", "trusted"): "port-trusted-vif",
    ("security_group_rule", "belongs_to_default_sg"):
        "security-groups-rules-belongs-to-default-sg",
    ("network", "dns_domain"): "dns-integration",
    ("network", "ipv4_address_scope"): "address-scope",
    ("network", "ipv6_address_scope"): "address-scope",
    ("network", "qos_policy_id"): "qos",
    ("network", "is_default"): "auto-allocated-topology",
    ("subnet", "dns_publish_fixed_ip"): "subnet-dns-publish-fixed-ip",
    ("subnet", "segment_id"): "segment",
    ("port", "dns_name"): "dns-integration",
    ("port", "dns_assignment"): "dns-integration",
    ("port", "ip_allocation"): "ip_allocation",
    ("port", "propagate_uplink_status"): "uplink-status-propagation",
    ("port", "qos_policy_id"): "qos",
    ("port", "qos_network_policy_id"): "qos-port-network-policy",
    ("port", "resource_request"): "port-resource-request",
    ("security_group", "shared"): "security-groups-shared-filtering",
    ("security_group_rule", "remote_address_group_id"): "security-groups-remote-address-group",
}

SAMPLE_FILES = {
    "network": "networks/network-provider-show-response.json",
    "subnet": "subnets/subnet-show-response.json",
    "port": "ports/port-show-response.json",
    "security_group": "security-groups/security-group-show-response.json",
    "security_group_rule": "security-groups/security-group-rule-show-response.json",
}


# Attributes neutron shows as null when unset, which its samples show set.
NULLABLE = {"qos_policy_id", "qos_network_policy_id", "segment_id", "subnetpool_id",
            "gateway_ip", "ipv6_ra_mode", "ipv6_address_mode", "remote_group_id",
            "remote_ip_prefix", "remote_address_group_id", "protocol", "port_range_min",
            "port_range_max", "provider:physical_network", "provider:segmentation_id"}


def assert_like_sample(body: dict[str, Any], kind: str, advertised: set[str]) -> None:
    """Our keys are a superset of the sample's (but for NOT_ADVERTISED), with the same types."""
    expected = sample("neutron", f"{SAMPLES}/{SAMPLE_FILES[kind]}")[kind]
    missing = set(expected) - set(body)
    # neutron's auto-allocated-topology extends external networks only (the sample, an
    # internal network with is_default, is not what its code answers).
    internal = kind == "network" and not body.get("router:external")
    unexplained = sorted(k for k in missing if not (internal and k == "is_default") and (
        (kind, k) not in NOT_ADVERTISED or NOT_ADVERTISED[(kind, k)] in advertised))
    assert not unexplained, f"{kind} lacks the sample's {unexplained}"
    ignore = [f"$.{k}" for k in missing | {k for k in NULLABLE if body.get(k) is None}]
    if kind == "security_group":
        ignore.append("$.security_group_rules[*].belongs_to_default_sg")
    assert_shape_like_sample(body, expected, ignore=ignore)


# -- raw HTTP clients -------------------------------------------------------------------------


class Neutron:
    """Raw HTTP to the networking endpoint; every JSON body it gets back is checked."""

    def __init__(self, live: LiveCloud, auth_token: str) -> None:
        self.client = httpx.Client(base_url=f"{live.url}/networking", timeout=30,
                                   headers={"X-Auth-Token": auth_token})

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self.client.request(method, path, **kw)
        assert response.status_code < 500, f"{method} {path}: {response.text}"
        assert "Traceback" not in response.text
        template = spec_template(path)
        if response.status_code >= 400:
            assert_neutron_error(response, response.status_code)
        elif response.status_code != 204 and template is not None:
            assert_spec_shape(response.json(), template, method, response.status_code)
        return response

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = self.call(method, path, **kw)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.ok("GET", path, params=params)

    def create(self, collection: str, resource: str, **fields: Any) -> dict[str, Any]:
        created: dict[str, Any] = self.ok("POST", f"/v2.0/{collection}", 201,
                                          json={resource: fields})[resource]
        return created


class Nova:
    """Raw HTTP to the compute endpoint at one microversion, with polling for states."""

    def __init__(self, live: LiveCloud, auth_token: str) -> None:
        self.client = httpx.Client(base_url=f"{live.url}/compute/v2.1", timeout=30, headers={
            "X-Auth-Token": auth_token, "OpenStack-API-Version": f"compute {NOVA_VERSION}"})

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self.client.request(method, path, **kw)
        assert response.status_code < 500, f"{method} {path}: {response.text}"
        return response

    def show(self, server_id: str) -> dict[str, Any]:
        response = self.call("GET", f"/servers/{server_id}")
        assert response.status_code == 200, response.text
        server: dict[str, Any] = response.json()["server"]
        return server

    def wait(self, server_id: str, status: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        server: dict[str, Any] = {}
        while time.monotonic() < deadline:
            server = self.show(server_id)
            if server["status"] == status and server.get("OS-EXT-STS:task_state") is None:
                assert_nova_response({"server": server}, "/servers/{id}", "GET", NOVA_VERSION)
                return server
            if server["status"] == "ERROR" and status != "ERROR":
                raise AssertionError(f"server {server_id} went to ERROR: {server.get('fault')}")
            time.sleep(0.02)
        raise AssertionError(f"server {server_id} not {status} in {timeout} s: "
                             f"{server.get('status')}/{server.get('OS-EXT-STS:task_state')}")

    def wait_gone(self, server_id: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.call("GET", f"/servers/{server_id}").status_code == 404:
                return
            time.sleep(0.02)
        raise AssertionError(f"server {server_id} still there after {timeout} s")

    def action(self, server_id: str, body: dict[str, Any]) -> httpx.Response:
        return self.call("POST", f"/servers/{server_id}/action", json=body)


class Member:
    """A member user of a project of its own: raw clients and the CLI arguments to be it."""

    def __init__(self, live: LiveCloud, name: str, project_id: str, user_id: str) -> None:
        self.name = name
        self.project_id = project_id
        self.user_id = user_id
        self.token = token(live, name, "pw", name)
        self.neutron = Neutron(live, self.token)
        self.nova = Nova(live, self.token)
        self.cli_args = ("--os-username", name, "--os-password", "pw",
                         "--os-project-name", name)

    def drop(self, identity: httpx.Client) -> None:
        self.neutron.client.close()
        self.nova.client.close()
        identity.delete(f"/users/{self.user_id}")
        identity.delete(f"/projects/{self.project_id}")


def make_member(live: LiveCloud, identity: httpx.Client) -> Member:
    name = unique("netm")
    project = identity.post("/projects", json={"project": {"name": name, "domain_id": "default"}})
    assert project.status_code == 201, project.text
    user = identity.post("/users", json={"user": {"name": name, "password": "pw",
                                                  "domain_id": "default"}})
    assert user.status_code == 201, user.text
    project_id, user_id = project.json()["project"]["id"], user.json()["user"]["id"]
    role = identity.get("/roles", params={"name": "member"}).json()["roles"][0]["id"]
    granted = identity.put(f"/projects/{project_id}/users/{user_id}/roles/{role}")
    assert granted.status_code == 204, granted.text
    return Member(live, name, project_id, user_id)


class Trash:
    """What a test made, deleted in reverse at its end: servers first, then neutron's."""

    def __init__(self, neutron: Neutron, nova: Nova) -> None:
        self.neutron = neutron
        self.nova = nova
        self.paths: list[str] = []
        self.servers: list[str] = []

    def add(self, collection: str, resource: dict[str, Any]) -> dict[str, Any]:
        self.paths.append(f"/v2.0/{collection}/{resource['id']}")
        return resource

    def server(self, server_id: str) -> str:
        self.servers.append(server_id)
        return server_id

    def empty(self) -> None:
        servers, self.servers = self.servers, []
        paths, self.paths = self.paths, []
        for server_id in servers:
            assert self.nova.call("DELETE", f"/servers/{server_id}").status_code in (204, 404)
        for server_id in servers:
            self.nova.wait_gone(server_id)
        for path in reversed(paths):
            response = self.neutron.client.delete(path)
            assert response.status_code in (204, 404), f"DELETE {path}: {response.text}"


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def admin_token(live: LiveCloud) -> str:
    return token(live)


@pytest.fixture(scope="module")
def neutron(live: LiveCloud, admin_token: str) -> Iterator[Neutron]:
    client = Neutron(live, admin_token)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def nova(live: LiveCloud, admin_token: str) -> Iterator[Nova]:
    client = Nova(live, admin_token)
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def identity(live: LiveCloud, admin_token: str) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=f"{live.url}/identity/v3", timeout=30,
                          headers={"X-Auth-Token": admin_token})
    yield client
    client.close()


@pytest.fixture(scope="module")
def member(live: LiveCloud, identity: httpx.Client) -> Iterator[Member]:
    """A member of another project than the admin's."""
    user = make_member(live, identity)
    yield user
    user.drop(identity)


@pytest.fixture(scope="module")
def advertised(neutron: Neutron) -> set[str]:
    return {e["alias"] for e in neutron.get("/v2.0/extensions")["extensions"]}


@pytest.fixture
def trash(neutron: Neutron, nova: Nova) -> Iterator[Trash]:
    bin_ = Trash(neutron, nova)
    yield bin_
    bin_.empty()


@pytest.fixture(scope="module")
def public(neutron: Neutron) -> dict[str, Any]:
    networks = neutron.get("/v2.0/networks", name="public")["networks"]
    assert len(networks) == 1, networks
    network: dict[str, Any] = networks[0]
    return network


@pytest.fixture(scope="module")
def boot(live: LiveCloud, nova: Nova) -> Iterator[dict[str, Any]]:
    """What booting needs: the CirrOS image and two small flavors of the module's own."""
    images = nova.client.get(f"{live.url}/image/v2/images", params={"name": CIRROS})
    assert images.status_code == 200, images.text
    flavors = []
    for ram in (64, 128):
        created = nova.call("POST", "/flavors", json={"flavor": {
            "name": unique(f"net-f{ram}"), "ram": ram, "vcpus": 1, "disk": 1}})
        assert created.status_code == 200, created.text
        flavors.append(created.json()["flavor"])
    yield {"image": images.json()["images"][0]["id"], "small": flavors[0], "large": flavors[1]}
    for flavor in flavors:
        nova.call("DELETE", f"/flavors/{flavor['id']}")


@pytest.fixture(scope="module")
def sdk(live: LiveCloud) -> Iterator[Any]:
    connection = live.connect()
    yield connection
    connection.close()


def network_with_subnet(neutron: Neutron, trash: Trash, cidr: str, *,
                        client: Neutron | None = None, **subnet: Any) -> tuple[dict[str, Any],
                                                                                dict[str, Any]]:
    """A fresh network with one subnet (made by ``client``, cleaned up by the admin)."""
    maker = client or neutron
    network = trash.add("networks", maker.create("networks", "network",
                                                  name=unique("net")))
    version = ipaddress.ip_network(cidr).version
    created = maker.create("subnets", "subnet", network_id=network["id"], cidr=cidr,
                           ip_version=version, name=unique("sub"), **subnet)
    if created["enable_dhcp"]:
        dhcp_ports_added(neutron, network["id"])
    return network, trash.add("subnets", created)


def dhcp_ports_added(neutron: Neutron, network_id: str) -> None:
    """Wait for the DHCP ports of the agents the network is scheduled to: they add them
    when told over the bus, at once in the embedded shape, a moment later over a real
    broker (as neutron's agents do), and they take the pool's first addresses."""
    agents = neutron.get(f"/v2.0/networks/{network_id}/dhcp-agents")["agents"]
    wait_for("the network's DHCP ports", lambda: [
        port for port in neutron.get("/v2.0/ports", network_id=network_id,
                                     device_owner="network:dhcp")["ports"]
        if port["fixed_ips"]], lambda ports: len(ports) >= len(agents))


def port_on(neutron: Neutron, trash: Trash, network_id: str, **fields: Any) -> dict[str, Any]:
    return trash.add("ports", neutron.create("ports", "port", network_id=network_id, **fields))


def first_free(neutron: Neutron, subnet: dict[str, Any]) -> str:
    """The lowest pool address no port holds: what stacklab's IPAM hands out next.

    (neutron picks at random among the free addresses; stacklab takes the lowest, so that
    runs repeat.) DHCP ports, which the lab's DHCP agents add on a DHCP subnet, count too.
    """
    used = {ip["ip_address"] for port in neutron.get(
        "/v2.0/ports", network_id=subnet["network_id"])["ports"]
        for ip in port["fixed_ips"] if ip["subnet_id"] == subnet["id"]}
    for pool in subnet["allocation_pools"]:
        address = ipaddress.ip_address(pool["start"])
        while address <= ipaddress.ip_address(pool["end"]):
            if str(address) not in used:
                return str(address)
            address += 1
    raise AssertionError(f"subnet {subnet['id']} is full")


def ports_of_server(neutron: Neutron, server_id: str) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = neutron.get("/v2.0/ports", device_id=server_id)["ports"]
    return ports


def boot_server(nova: Nova, trash: Trash, boot: dict[str, Any], networks: Any, *,
                flavor: str = "small", client: Nova | None = None) -> httpx.Response:
    response = (client or nova).call("POST", "/servers", json={"server": {
        "name": unique("netsrv"), "imageRef": boot["image"], "flavorRef": boot[flavor]["id"],
        "networks": networks}})
    if response.status_code == 202:
        trash.server(response.json()["server"]["id"])
    return response


# -- the lab's external network ---------------------------------------------------------------


def test_network_list_shows_the_external_network_public(live: LiveCloud) -> None:
    listed, shown, subnet = in_parallel(
        lambda: live.openstack_json("network", "list"),
        lambda: live.openstack_json("network", "show", "public"),
        lambda: live.openstack_json("subnet", "show", "public-subnet"))
    rows = [n for n in listed if n["Name"] == "public"]
    assert len(rows) == 1 and rows[0]["Subnets"] == [subnet["id"]]
    assert shown["router:external"] is True
    assert shown["provider:network_type"] == "flat"
    assert shown["provider:physical_network"] == "external"
    assert shown["provider:segmentation_id"] is None
    assert shown["mtu"] == 1500 and shown["shared"] is False and shown["status"] == "ACTIVE"
    assert subnet["network_id"] == shown["id"]
    assert subnet["cidr"] == "192.168.100.0/24"
    assert subnet["gateway_ip"] == "192.168.100.1"
    assert subnet["enable_dhcp"] is False
    assert subnet["ip_version"] == 4


def test_public_network_bodies_match_spec_and_samples(neutron: Neutron, public: dict[str, Any],
                                                      advertised: set[str]) -> None:
    shown = neutron.get(f"/v2.0/networks/{public['id']}")["network"]
    assert_like_sample(shown, "network", advertised)
    assert shown["router:external"] is True and shown["provider:network_type"] == "flat"
    subnet = neutron.get(f"/v2.0/subnets/{shown['subnets'][0]}")["subnet"]
    assert_like_sample(subnet, "subnet", advertised)
    assert (subnet["cidr"], subnet["gateway_ip"], subnet["enable_dhcp"]) == \
        ("192.168.100.0/24", "192.168.100.1", False)


# -- networks ---------------------------------------------------------------------------------


def test_cli_network_create_is_a_vxlan_tenant_network(live: LiveCloud, neutron: Neutron) -> None:
    name = unique("cli-net")
    created = live.openstack_json("network", "create", "--description", "cli", name)
    try:
        assert created["name"] == name and created["description"] == "cli"
        assert created["mtu"] == 1450  # 1500 minus VXLAN's 50 bytes
        assert created["provider:network_type"] == "vxlan"
        assert created["provider:physical_network"] is None
        assert isinstance(created["provider:segmentation_id"], int)
        assert created["router:external"] is False and created["shared"] is False
        assert created["admin_state_up"] is True and created["status"] == "ACTIVE"
        shown = neutron.get(f"/v2.0/networks/{created['id']}")["network"]
        assert shown["provider:segmentation_id"] == created["provider:segmentation_id"]
    finally:
        live.openstack("network", "delete", created["id"])
    response = neutron.call("GET", f"/v2.0/networks/{created['id']}")
    assert_neutron_error(response, 404, "NetworkNotFound",
                         f"Network {created['id']} could not be found.")


def test_segmentation_ids_differ_and_an_admin_may_choose_one(neutron: Neutron,
                                                             trash: Trash) -> None:
    first = trash.add("networks", neutron.create("networks", "network", name=unique("seg")))
    second = trash.add("networks", neutron.create("networks", "network", name=unique("seg")))
    assert first["provider:segmentation_id"] != second["provider:segmentation_id"]
    chosen = trash.add("networks", neutron.create(
        "networks", "network", name=unique("seg"), **{"provider:network_type": "vxlan",
                                                       "provider:segmentation_id": 777}))
    assert (chosen["provider:network_type"], chosen["provider:segmentation_id"],
            chosen["mtu"]) == ("vxlan", 777, 1450)


def test_a_member_does_not_see_provider_attributes(neutron: Neutron, member: Member,
                                                   trash: Trash, public: dict[str, Any],
                                                   advertised: set[str]) -> None:
    own = trash.add("networks", member.neutron.create("networks", "network",
                                                      name=unique("mnet")))
    assert own["project_id"] == member.project_id and own["mtu"] == 1450
    provider = {"provider:network_type", "provider:physical_network",
                "provider:segmentation_id"}
    assert not provider & set(own)
    for network in (member.neutron.get(f"/v2.0/networks/{own['id']}")["network"],
                    member.neutron.get(f"/v2.0/networks/{public['id']}")["network"],
                    *member.neutron.get("/v2.0/networks")["networks"]):
        assert not provider & set(network), network
    # The member's view is the sample's without the provider extension's attributes.
    plain = sample("neutron", f"{SAMPLES}/networks/network-show-response.json")["network"]
    missing = sorted(set(plain) - set(own)
                     - {key for kind, key in NOT_ADVERTISED if kind == "network"})
    assert missing == []
    as_admin = neutron.get(f"/v2.0/networks/{own['id']}")["network"]
    assert as_admin["provider:network_type"] == "vxlan"
    assert isinstance(as_admin["provider:segmentation_id"], int)
    assert_like_sample(as_admin, "network", advertised)


def test_a_member_may_not_choose_provider_attributes(member: Member) -> None:
    response = member.neutron.call("POST", "/v2.0/networks", json={"network": {
        "name": unique("mnet"), "provider:network_type": "vxlan"}})
    assert_neutron_error(response, 403, "PolicyNotAuthorized")


def test_network_update_and_bodies(neutron: Neutron, trash: Trash,
                                   advertised: set[str]) -> None:
    network = trash.add("networks", neutron.create("networks", "network", name=unique("upd")))
    assert_like_sample(network, "network", advertised)
    updated = neutron.ok("PUT", f"/v2.0/networks/{network['id']}", json={"network": {
        "name": f"{network['name']}-2", "description": "renamed"}})["network"]
    assert (updated["name"], updated["description"]) == (f"{network['name']}-2", "renamed")
    assert updated["revision_number"] > network["revision_number"]
    listed = neutron.get("/v2.0/networks", id=network["id"])["networks"]
    assert [n["name"] for n in listed] == [updated["name"]]


# -- subnets ----------------------------------------------------------------------------------


def test_cli_subnet_create_has_neutrons_default_pool_and_gateway(live: LiveCloud,
                                                                 neutron: Neutron,
                                                                 trash: Trash,
                                                                 advertised: set[str]) -> None:
    network = trash.add("networks", neutron.create("networks", "network", name=unique("sn")))
    name = unique("cli-sub")
    created = live.openstack_json("subnet", "create", "--network", network["id"],
                                  "--subnet-range", "10.61.0.0/24", name)
    trash.add("subnets", created)
    assert created["allocation_pools"] == [{"start": "10.61.0.2", "end": "10.61.0.254"}]
    assert created["gateway_ip"] == "10.61.0.1"
    assert created["enable_dhcp"] is True and created["ip_version"] == 4
    assert created["dns_nameservers"] == [] and created["host_routes"] == []
    shown = neutron.get(f"/v2.0/subnets/{created['id']}")["subnet"]
    assert_like_sample(shown, "subnet", advertised)
    assert neutron.get(f"/v2.0/networks/{network['id']}")["network"]["subnets"] == \
        [created["id"]]


def test_cli_subnets_from_a_subnet_pool(live: LiveCloud, neutron: Neutron,
                                        trash: Trash) -> None:
    pool = trash.add("subnetpools", live.openstack_json(
        "subnet", "pool", "create", "--pool-prefix", "10.210.0.0/16",
        "--default-prefix-length", "24", unique("pool")))
    assert pool["prefixes"] == ["10.210.0.0/16"] and pool["default_prefixlen"] == 24
    network = trash.add("networks", neutron.create("networks", "network", name=unique("pn")))
    cidrs = []
    for extra in ((), ("--prefix-length", "26")):
        created = trash.add("subnets", live.openstack_json(
            "subnet", "create", "--network", network["id"], "--subnet-pool", pool["id"],
            *extra, unique("psub")))
        assert created["subnetpool_id"] == pool["id"]
        cidrs.append(created["cidr"])
    assert cidrs == ["10.210.0.0/24", "10.210.1.0/26"]
    in_use = neutron.call("DELETE", f"/v2.0/subnetpools/{pool['id']}")
    assert_neutron_error(in_use, 409, "SubnetPoolInUse")
    too_big = neutron.call("POST", "/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "subnetpool_id": pool["id"], "prefixlen": 8,
        "ip_version": 4}})
    assert_neutron_error(too_big, 400)


def test_cli_subnet_with_pools_nameservers_and_host_routes(live: LiveCloud, neutron: Neutron,
                                                           trash: Trash) -> None:
    network = trash.add("networks", neutron.create("networks", "network", name=unique("sn")))
    created = live.openstack_json(
        "subnet", "create", "--network", network["id"], "--subnet-range", "10.62.0.0/24",
        "--gateway", "10.62.0.254", "--allocation-pool", "start=10.62.0.10,end=10.62.0.20",
        "--allocation-pool", "start=10.62.0.100,end=10.62.0.110",
        "--dns-nameserver", "192.0.2.53", "--dns-nameserver", "192.0.2.54",
        "--host-route", "destination=172.16.0.0/16,gateway=10.62.0.1", "--no-dhcp",
        unique("cli-sub"))
    trash.add("subnets", created)
    assert created["gateway_ip"] == "10.62.0.254"
    assert created["allocation_pools"] == [{"start": "10.62.0.10", "end": "10.62.0.20"},
                                           {"start": "10.62.0.100", "end": "10.62.0.110"}]
    assert created["dns_nameservers"] == ["192.0.2.53", "192.0.2.54"]
    assert created["host_routes"] == [{"destination": "172.16.0.0/16", "nexthop": "10.62.0.1"}]
    assert created["enable_dhcp"] is False
    # The first address is the first of the first pool.
    port = port_on(neutron, trash, network["id"])
    assert port["fixed_ips"] == [{"subnet_id": created["id"], "ip_address": "10.62.0.10"}]


def test_ipv6_subnet_defaults(neutron: Neutron, trash: Trash, advertised: set[str]) -> None:
    network, subnet = network_with_subnet(neutron, trash, "fd00:61::/64")
    assert subnet["ip_version"] == 6
    assert subnet["gateway_ip"] == "fd00:61::1"
    assert subnet["allocation_pools"] == [{"start": "fd00:61::2",
                                           "end": "fd00:61::ffff:ffff:ffff:ffff"}]
    assert (subnet["ipv6_ra_mode"], subnet["ipv6_address_mode"]) == (None, None)
    assert_like_sample(subnet, "subnet", advertised)
    expected = first_free(neutron, subnet)
    port = port_on(neutron, trash, network["id"])
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": expected}]
    slaac = neutron.create("subnets", "subnet", network_id=network["id"], ip_version=6,
                           cidr="fd00:62::/64", ipv6_ra_mode="slaac",
                           ipv6_address_mode="slaac")
    trash.add("subnets", slaac)
    assert (slaac["ipv6_ra_mode"], slaac["ipv6_address_mode"]) == ("slaac", "slaac")


def test_a_dual_stack_port_gets_an_address_on_each_family(neutron: Neutron,
                                                          trash: Trash) -> None:
    network, v4 = network_with_subnet(neutron, trash, "10.63.0.0/24")
    stateful = trash.add("subnets", neutron.create(
        "subnets", "subnet", network_id=network["id"], ip_version=6, cidr="fd00:64::/64",
        enable_dhcp=False))
    slaac = trash.add("subnets", neutron.create(
        "subnets", "subnet", network_id=network["id"], ip_version=6, cidr="fd00:63::/64",
        ipv6_ra_mode="slaac", ipv6_address_mode="slaac"))
    expected = {(v4["id"], first_free(neutron, v4)),
                (stateful["id"], first_free(neutron, stateful))}
    port = port_on(neutron, trash, network["id"])
    mac = bytearray(int(b, 16) for b in port["mac_address"].split(":"))
    mac[0] ^= 0x02
    eui64 = ipaddress.IPv6Address(
        int(ipaddress.IPv6Address("fd00:63::"))
        | int.from_bytes(bytes(mac[:3]) + b"\xff\xfe" + bytes(mac[3:]), "big"))
    expected.add((slaac["id"], str(eui64)))
    assert {(ip["subnet_id"], ip["ip_address"]) for ip in port["fixed_ips"]} == expected


def test_an_overlapping_cidr_on_the_same_network_is_400(neutron: Neutron, trash: Trash) -> None:
    network, _ = network_with_subnet(neutron, trash, "10.64.0.0/24")
    response = neutron.call("POST", "/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "10.64.0.128/25", "ip_version": 4}})
    assert_neutron_error(response, 400, message=(
        f"Invalid input for operation: Requested subnet with cidr: 10.64.0.128/25 for "
        f"network: {network['id']} overlaps with another subnet."))
    # Another network may use the same range.
    network_with_subnet(neutron, trash, "10.64.0.0/24")


@pytest.mark.parametrize(("cidr", "reason"), [
    ("10.65.300.0/24", "'10.65.300.0/24' is not a valid IP subnet"),
    ("not-a-cidr", "'not-a-cidr' is not a valid IP subnet"),
    ("10.65.0.1/24", "'10.65.0.1/24' is not a valid IP subnet"),
])
def test_an_invalid_cidr_is_400(neutron: Neutron, trash: Trash, cidr: str, reason: str) -> None:
    network = trash.add("networks", neutron.create("networks", "network", name=unique("bad")))
    response = neutron.call("POST", "/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": cidr, "ip_version": 4}})
    assert_neutron_error(response, 400, message=f"Invalid input for cidr. Reason: {reason}.")


def test_400_types_are_neutrons_exception_names(neutron: Neutron, trash: Trash) -> None:
    network, _ = network_with_subnet(neutron, trash, "10.66.0.0/24")
    overlap = neutron.call("POST", "/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "10.66.0.0/25", "ip_version": 4}})
    invalid = neutron.call("POST", "/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "garbage", "ip_version": 4}})
    assert [assert_neutron_error(overlap, 400)["type"],
            assert_neutron_error(invalid, 400)["type"]] == ["InvalidInput", "HTTPBadRequest"]


def test_subnet_with_service_types(neutron: Neutron, trash: Trash) -> None:
    network = trash.add("networks", neutron.create("networks", "network", name=unique("st")))
    subnet = trash.add("subnets", neutron.create(
        "subnets", "subnet", network_id=network["id"], cidr="10.67.0.0/24", ip_version=4,
        service_types=["compute:nova"]))
    assert subnet["service_types"] == ["compute:nova"]


def test_deleting_a_subnet_with_allocations_is_409(neutron: Neutron, trash: Trash) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.68.0.0/24")
    port = port_on(neutron, trash, network["id"])
    response = neutron.call("DELETE", f"/v2.0/subnets/{subnet['id']}")
    assert_neutron_error(response, 409, "SubnetInUse", (
        f"Unable to complete operation on subnet {subnet['id']}: One or more ports have an IP "
        "allocation from this subnet."))
    neutron.ok("DELETE", f"/v2.0/ports/{port['id']}", 204)
    neutron.ok("DELETE", f"/v2.0/subnets/{subnet['id']}", 204)
    assert neutron.get(f"/v2.0/networks/{network['id']}")["network"]["subnets"] == []


# -- ports ------------------------------------------------------------------------------------


def test_cli_port_create_gets_a_neutron_mac_and_the_first_free_address(
        live: LiveCloud, neutron: Neutron, trash: Trash, advertised: set[str]) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.70.0.0/24")
    name = unique("cli-port")
    expected = first_free(neutron, subnet)
    created = live.openstack_json("port", "create", "--network", network["id"], name)
    trash.add("ports", created)
    assert created["mac_address"].startswith(MAC_PREFIX)
    assert created["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": expected}]
    assert created["status"] == "DOWN" and created["device_owner"] == ""
    next_free = first_free(neutron, subnet)
    assert ipaddress.ip_address(next_free) > ipaddress.ip_address(expected)
    second = port_on(neutron, trash, network["id"])
    assert second["fixed_ips"][0]["ip_address"] == next_free
    assert second["mac_address"].startswith(MAC_PREFIX)
    assert second["mac_address"] != created["mac_address"]
    shown = neutron.get(f"/v2.0/ports/{created['id']}")["port"]
    assert_like_sample(shown, "port", advertised)
    assert shown["binding:vif_type"] == "unbound" and shown["binding:host_id"] == ""
    # The project's default group is put on a new port.
    default = neutron.get("/v2.0/security-groups", name="default",
                          project_id=shown["project_id"])["security_groups"]
    assert shown["security_groups"] == [default[0]["id"]]
    # Deleting one frees its address for the next.
    neutron.ok("DELETE", f"/v2.0/ports/{created['id']}", 204)
    assert port_on(neutron, trash, network["id"])["fixed_ips"][0]["ip_address"] == expected


def test_a_port_with_a_given_ip_address(neutron: Neutron, trash: Trash) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.71.0.0/24")
    port = port_on(neutron, trash, network["id"], fixed_ips=[
        {"subnet_id": subnet["id"], "ip_address": "10.71.0.50"}])
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.71.0.50"}]
    by_address_only = port_on(neutron, trash, network["id"],
                              fixed_ips=[{"ip_address": "10.71.0.51"}])
    assert by_address_only["fixed_ips"] == [{"subnet_id": subnet["id"],
                                             "ip_address": "10.71.0.51"}]


def test_the_same_address_twice_is_409(neutron: Neutron, trash: Trash) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.72.0.0/24")
    wanted = [{"subnet_id": subnet["id"], "ip_address": "10.72.0.9"}]
    port_on(neutron, trash, network["id"], fixed_ips=wanted)
    response = neutron.call("POST", "/v2.0/ports", json={"port": {
        "network_id": network["id"], "fixed_ips": wanted}})
    assert_neutron_error(response, 409, "IpAddressAlreadyAllocated",
                         f"IP address 10.72.0.9 already allocated in subnet {subnet['id']}")


def test_binding_profile_is_for_services_only(neutron: Neutron, trash: Trash) -> None:
    network, _ = network_with_subnet(neutron, trash, "10.73.0.0/24")
    # neutron's create_port:binding:profile is rule:service_api: not even the admin.
    response = neutron.call("POST", "/v2.0/ports", json={"port": {
        "network_id": network["id"], "binding:profile": {"local_link_information": []}}})
    error = assert_neutron_error(response, 403, "PolicyNotAuthorized")
    assert "create_port:binding:profile" in error["message"]


def test_allowed_address_pairs_get_the_ports_mac(neutron: Neutron, trash: Trash) -> None:
    network, _ = network_with_subnet(neutron, trash, "10.73.0.0/24")
    port = port_on(neutron, trash, network["id"],
                   allowed_address_pairs=[{"ip_address": "10.73.0.99"}])
    assert port["allowed_address_pairs"] == [{"ip_address": "10.73.0.99",
                                              "mac_address": port["mac_address"]}]


def test_a_29_runs_out_of_addresses_with_409(neutron: Neutron, trash: Trash) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.74.0.0/29", enable_dhcp=False)
    assert subnet["allocation_pools"] == [{"start": "10.74.0.2", "end": "10.74.0.6"}]
    addresses = [port_on(neutron, trash, network["id"])["fixed_ips"][0]["ip_address"]
                 for _ in range(5)]
    assert addresses == [f"10.74.0.{i}" for i in range(2, 7)]
    response = neutron.call("POST", "/v2.0/ports", json={"port": {"network_id": network["id"]}})
    assert_neutron_error(response, 409, "IpAddressGenerationFailure",
                         f"No more IP addresses available on network {network['id']}.")


def test_deleting_a_network_with_ports_is_409(live: LiveCloud, neutron: Neutron,
                                              trash: Trash) -> None:
    network, _ = network_with_subnet(neutron, trash, "10.75.0.0/24")
    port = port_on(neutron, trash, network["id"])
    response = neutron.call("DELETE", f"/v2.0/networks/{network['id']}")
    assert_neutron_error(response, 409, "NetworkInUse", (
        f"Unable to complete operation on network {network['id']}. There are one or more "
        "ports still in use on the network."))
    neutron.ok("DELETE", f"/v2.0/ports/{port['id']}", 204)
    # Without ports the network goes, its subnets with it.
    live.openstack("network", "delete", network["id"])
    assert neutron.get("/v2.0/subnets", network_id=network["id"])["subnets"] == []


def test_sdk_ports_round_trip(sdk: Any, neutron: Neutron, trash: Trash) -> None:
    network = trash.add("networks", sdk.network.create_network(name=unique("sdk")).to_dict())
    subnet = sdk.network.create_subnet(network_id=network["id"], ip_version=4,
                                       cidr="10.76.0.0/28", name=unique("sdk"),
                                       is_dhcp_enabled=False)
    trash.add("subnets", subnet.to_dict())
    assert (subnet.gateway_ip, subnet.allocation_pools) == \
        ("10.76.0.1", [{"start": "10.76.0.2", "end": "10.76.0.14"}])
    port = sdk.network.create_port(network_id=network["id"], name=unique("sdk"))
    trash.add("ports", port.to_dict())
    assert port.mac_address.startswith(MAC_PREFIX)
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.76.0.2"}]
    updated = sdk.network.update_port(port, name="renamed", description="d")
    assert (updated.name, updated.description) == ("renamed", "d")
    assert [p.id for p in sdk.network.ports(network_id=network["id"])] == [port.id]
    assert sdk.network.find_network(network["name"]).id == network["id"]


# -- tags given in a body ---------------------------------------------------------------------


def _posted_bodies(stderr: str, path: str) -> list[str]:
    """The JSON bodies keystoneauth's ``--debug`` log shows POSTed to a URL ending in ``path``."""
    return [line for line in stderr.splitlines()
            if line.startswith("REQ: curl") and "-X POST" in line
            and f"{path} " in line]


def test_cli_port_create_sends_its_tags_in_the_post(live: LiveCloud, neutron: Neutron,
                                                    trash: Trash) -> None:
    network, _ = network_with_subnet(neutron, trash, "10.83.0.0/24")
    result = live.openstack("--debug", "port", "create", "--network", network["id"],
                            "--tag", "red", "--tag", "a,b", "-f", "json", unique("tagged"))
    port = trash.add("ports", json.loads(result.stdout))
    assert sorted(port["tags"]) == ["a,b", "red"]
    # tag-ports-during-bulk-creation advertised: the tags go in the create, no /tags call.
    posts = _posted_bodies(result.stderr, "/v2.0/ports")
    assert len(posts) == 1 and '"tags"' in posts[0], result.stderr[-3000:]
    assert "/tags" not in result.stderr
    shown = neutron.get(f"/v2.0/ports/{port['id']}")["port"]
    assert sorted(shown["tags"]) == ["a,b", "red"]


def test_cli_network_create_tags_it_after_the_post(live: LiveCloud, neutron: Neutron,
                                                   trash: Trash) -> None:
    # As upstream, only ports take tags in a create body: the CLI creates the network, then
    # sets its tags.
    result = live.openstack("--debug", "network", "create", "--tag", "a", "--tag", "b",
                            "-f", "json", unique("tagged"))
    network = trash.add("networks", json.loads(result.stdout))
    assert network["tags"] == ["a", "b"]
    posts = _posted_bodies(result.stderr, "/v2.0/networks")
    assert len(posts) == 1 and '"tags"' not in posts[0], result.stderr[-3000:]
    assert neutron.get(f"/v2.0/networks/{network['id']}")["network"]["tags"] == ["a", "b"]


def test_sdk_tags_in_a_port_create_and_added_by_post(sdk: Any, neutron: Neutron,
                                                     trash: Trash) -> None:
    network = sdk.network.create_network(name=unique("sdk-tags"))
    trash.add("networks", network.to_dict())
    sdk.network.set_tags(network, ["old"])
    # openstacksdk's add_tags is tag-creation's POST: it adds, keeps what is there.
    sdk.network.add_tags(network, ["new/one", "two,2", "old"])
    assert sdk.network.get_network(network.id).tags == ["old", "new/one", "two,2"]
    ports = list(sdk.network.create_ports([
        {"network_id": network.id, "name": unique("sdk"), "tags": ["x"]},
        {"network_id": network.id, "name": unique("sdk"), "tags": ["y", "z"]}]))
    for port in ports:
        trash.add("ports", port.to_dict())
    assert [p.tags for p in ports] == [["x"], ["y", "z"]]
    assert sdk.network.get_port(ports[1].id).tags == ["y", "z"]
    response = neutron.call("POST", f"/v2.0/networks/{network.id}/tags",
                            json={"tags": [f"t{n}" for n in range(51)]})
    assert_neutron_error(response, 400, "BadRequest", "Bad networks request: The number of "
                         "tags exceed the per-resource limit of 50.")


# -- security groups --------------------------------------------------------------------------


def _rule_tuples(rules: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(r["direction"], r["ethertype"], r["protocol"], r["port_range_min"],
             r["port_range_max"], r["remote_ip_prefix"], r["remote_group_id"]) for r in rules}


def test_the_projects_default_group_has_its_four_rules(live: LiveCloud, member: Member,
                                                       advertised: set[str]) -> None:
    listed = member.neutron.get("/v2.0/security-groups")["security_groups"]
    assert [g["name"] for g in listed] == ["default"]
    default = listed[0]
    assert default["project_id"] == member.project_id
    assert default["description"] == "Default security group"
    assert_like_sample(default, "security_group", advertised)
    gid = default["id"]
    assert _rule_tuples(default["security_group_rules"]) == {
        ("ingress", "IPv4", None, None, None, None, gid),
        ("ingress", "IPv6", None, None, None, None, gid),
        ("egress", "IPv4", None, None, None, None, None),
        ("egress", "IPv6", None, None, None, None, None)}
    rules = live.openstack_json(*member.cli_args, "security", "group", "rule", "list",
                                "default")
    assert sorted((r["Direction"], r["Ethertype"]) for r in rules) == [
        ("egress", "IPv4"), ("egress", "IPv6"), ("ingress", "IPv4"), ("ingress", "IPv6")]
    # The default group cannot be made twice, nor renamed.
    again = member.neutron.call("POST", "/v2.0/security-groups",
                                json={"security_group": {"name": "default"}})
    assert_neutron_error(again, 409, "SecurityGroupDefaultAlreadyExists",
                         "Default security group already exists.")


def test_cli_security_group_and_rules(live: LiveCloud, neutron: Neutron, trash: Trash,
                                      advertised: set[str]) -> None:
    name = unique("cli-sg")
    group = live.openstack_json("security", "group", "create", "--description", "web", name)
    trash.add("security-groups", group)
    assert group["description"] == "web"
    assert _rule_tuples(group["rules"]) == {("egress", "IPv4", None, None, None, None, None),
                                            ("egress", "IPv6", None, None, None, None, None)}
    ssh = ("security", "group", "rule", "create", "--ingress", "--protocol", "tcp",
           "--dst-port", "22", "--remote-ip", "0.0.0.0/0", group["id"])
    rule = live.openstack_json(*ssh)
    assert (rule["direction"], rule["ether_type"], rule["protocol"], rule["port_range_min"],
            rule["port_range_max"], rule["remote_ip_prefix"]) == \
        ("ingress", "IPv4", "tcp", 22, 22, "0.0.0.0/0")
    shown = neutron.get(f"/v2.0/security-group-rules/{rule['id']}")["security_group_rule"]
    assert_like_sample(shown, "security_group_rule", advertised)
    duplicate = live.openstack(*ssh, check=False)
    assert duplicate.returncode != 0
    assert f"Security group rule already exists. Rule id is {rule['id']}." in duplicate.stderr
    response = neutron.call("POST", "/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": group["id"], "direction": "ingress", "ethertype": "IPv4",
        "protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
        "remote_ip_prefix": "0.0.0.0/0"}})
    assert_neutron_error(response, 409, "SecurityGroupRuleExists",
                         f"Security group rule already exists. Rule id is {rule['id']}.")
    body = neutron.get(f"/v2.0/security-groups/{group['id']}")["security_group"]
    assert_like_sample(body, "security_group", advertised)
    assert len(body["security_group_rules"]) == 3
    neutron.ok("DELETE", f"/v2.0/security-group-rules/{rule['id']}", 204)
    gone = neutron.call("GET", f"/v2.0/security-group-rules/{rule['id']}")
    assert_neutron_error(gone, 404, "SecurityGroupRuleNotFound",
                         f"Security group rule {rule['id']} does not exist")
    assert len(neutron.get(f"/v2.0/security-groups/{group['id']}")["security_group"][
        "security_group_rules"]) == 2


def _rule(neutron: Neutron, group_id: str, **fields: Any) -> httpx.Response:
    return neutron.call("POST", "/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": group_id, "direction": "ingress", **fields}})


def test_a_bad_protocol_is_400(neutron: Neutron, trash: Trash) -> None:
    group = trash.add("security-groups", neutron.create(
        "security-groups", "security_group", name=unique("sg")))
    error = assert_neutron_error(_rule(neutron, group["id"], protocol="bogus"), 400,
                                 "SecurityGroupRuleInvalidProtocol")
    assert error["message"].startswith("Security group rule protocol bogus not supported. "
                                       "Only protocol values [")
    assert error["message"].endswith("and integer representations [0 to 255] are supported.")
    assert_neutron_error(_rule(neutron, group["id"], protocol="256"), 400,
                         "SecurityGroupRuleInvalidProtocol")
    assert _rule(neutron, group["id"], protocol="112").status_code == 201
    sideways = neutron.call("POST", "/v2.0/security-group-rules", json={"security_group_rule": {
        "security_group_id": group["id"], "direction": "sideways"}})
    assert_neutron_error(sideways, 400)


@pytest.mark.parametrize("protocol", ["vrrp", "gre", "sctp"])
def test_named_ip_protocols_are_accepted(neutron: Neutron, trash: Trash, protocol: str) -> None:
    group = trash.add("security-groups", neutron.create(
        "security-groups", "security_group", name=unique("sg")))
    response = _rule(neutron, group["id"], protocol=protocol)
    assert response.status_code == 201, response.text
    assert response.json()["security_group_rule"]["protocol"] == protocol


def test_protocol_any_is_shown_as_null(neutron: Neutron, trash: Trash) -> None:
    group = trash.add("security-groups", neutron.create(
        "security-groups", "security_group", name=unique("sg")))
    response = _rule(neutron, group["id"], protocol="any", remote_ip_prefix="10.0.0.0/8")
    assert response.status_code == 201, response.text
    assert response.json()["security_group_rule"]["protocol"] is None


def test_equivalent_rules_are_duplicates(neutron: Neutron, trash: Trash) -> None:
    group = trash.add("security-groups", neutron.create(
        "security-groups", "security_group", name=unique("sg")))
    first = _rule(neutron, group["id"], protocol="tcp", port_range_min=80, port_range_max=80)
    assert first.status_code == 201
    rule_id = first.json()["security_group_rule"]["id"]
    for same in ({"protocol": "tcp", "remote_ip_prefix": "0.0.0.0/0"}, {"protocol": "6"}):
        response = _rule(neutron, group["id"], port_range_min=80, port_range_max=80, **same)
        assert_neutron_error(response, 409, "SecurityGroupRuleExists",
                             f"Security group rule already exists. Rule id is {rule_id}.")


def test_a_group_in_use_cannot_be_deleted(neutron: Neutron, trash: Trash) -> None:
    group = trash.add("security-groups", neutron.create(
        "security-groups", "security_group", name=unique("sg")))
    network, _ = network_with_subnet(neutron, trash, "10.77.0.0/24")
    port = port_on(neutron, trash, network["id"], security_groups=[group["id"]])
    assert port["security_groups"] == [group["id"]]
    response = neutron.call("DELETE", f"/v2.0/security-groups/{group['id']}")
    assert_neutron_error(response, 409, "SecurityGroupInUse",
                         f"Security Group {group['id']} in use.")
    neutron.ok("DELETE", f"/v2.0/ports/{port['id']}", 204)
    neutron.ok("DELETE", f"/v2.0/security-groups/{group['id']}", 204)


# -- filters, fields, sorting, pagination -----------------------------------------------------


@pytest.fixture
def five_ports(neutron: Neutron, trash: Trash) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    network, _ = network_with_subnet(neutron, trash, "10.78.0.0/24", enable_dhcp=False)
    ports = [port_on(neutron, trash, network["id"], name=f"p{i}", description=f"{i % 2}")
             for i in (3, 0, 4, 1, 2)]
    return network, ports


def test_filters_and_fields(neutron: Neutron, trash: Trash,
                            five_ports: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    network, ports = five_ports
    by_name = neutron.get("/v2.0/networks", name=network["name"])["networks"]
    assert [n["id"] for n in by_name] == [network["id"]]
    assert neutron.get("/v2.0/networks", name=unique("none"))["networks"] == []
    on_network = neutron.get("/v2.0/ports", network_id=network["id"])["ports"]
    assert sorted(p["id"] for p in on_network) == sorted(p["id"] for p in ports)
    odd = neutron.get("/v2.0/ports", network_id=network["id"], description="1")["ports"]
    assert sorted(p["name"] for p in odd) == ["p1", "p3"]
    both = neutron.get("/v2.0/ports", network_id=network["id"], name=["p0", "p4"])["ports"]
    assert sorted(p["name"] for p in both) == ["p0", "p4"]
    trimmed = neutron.get("/v2.0/ports", network_id=network["id"], fields=["id", "name"])
    assert {tuple(sorted(p)) for p in trimmed["ports"]} == {("id", "name")}
    one = neutron.get(f"/v2.0/networks/{network['id']}", fields=["id", "name"])["network"]
    assert one == {"id": network["id"], "name": network["name"]}
    subnets = neutron.get("/v2.0/subnets", network_id=network["id"], fields="cidr")["subnets"]
    assert subnets == [{"cidr": "10.78.0.0/24"}]
    external = neutron.get("/v2.0/networks", **{"router:external": "true"})["networks"]
    assert "public" in [n["name"] for n in external]
    assert all(n["router:external"] for n in external)


def test_sorting(neutron: Neutron,
                 five_ports: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
    network, _ = five_ports
    ascending = neutron.get("/v2.0/ports", network_id=network["id"], sort_key="name",
                            sort_dir="asc")["ports"]
    assert [p["name"] for p in ascending] == ["p0", "p1", "p2", "p3", "p4"]
    descending = neutron.get("/v2.0/ports", network_id=network["id"], sort_key="name",
                             sort_dir="desc")["ports"]
    assert [p["name"] for p in descending] == ["p4", "p3", "p2", "p1", "p0"]
    two_keys = neutron.get("/v2.0/ports", network_id=network["id"],
                           sort_key=["description", "name"], sort_dir=["desc", "asc"])["ports"]
    assert [p["name"] for p in two_keys] == ["p1", "p3", "p0", "p2", "p4"]


@pytest.mark.parametrize(("params", "message"), [
    ({"sort_key": "bogus", "sort_dir": "asc"}, "['bogus'] is invalid attribute for sort_keys"),
    ({"sort_key": "name"}, "The number of sort_keys and sort_dirs must be same"),
], ids=["unknown-key", "key-without-dir"])
def test_bad_sort_parameters_are_400(neutron: Neutron, params: dict[str, str],
                                     message: str) -> None:
    response = neutron.call("GET", "/v2.0/networks", params=params)
    assert_neutron_error(response, 400, "HTTPBadRequest", message)


def test_pagination_with_limit_and_marker(neutron: Neutron,
                                          five_ports: tuple[dict[str, Any],
                                                            list[dict[str, Any]]]) -> None:
    network, _ = five_ports
    base = {"network_id": network["id"], "sort_key": "name", "sort_dir": "asc", "limit": 2}
    first = neutron.get("/v2.0/ports", **base)
    assert [p["name"] for p in first["ports"]] == ["p0", "p1"]
    nexts = [link for link in first["ports_links"] if link["rel"] == "next"]
    assert len(nexts) == 1
    href = httpx.URL(nexts[0]["href"])
    assert href.path.endswith("/v2.0/ports")
    assert href.params["marker"] == first["ports"][-1]["id"]
    assert href.params["network_id"] == network["id"] and href.params["limit"] == "2"
    second = neutron.get("/v2.0/ports", **dict(href.params))
    assert [p["name"] for p in second["ports"]] == ["p2", "p3"]
    third_href = next(link["href"] for link in second["ports_links"] if link["rel"] == "next")
    third = neutron.get("/v2.0/ports", **dict(httpx.URL(third_href).params))
    assert [p["name"] for p in third["ports"]] == ["p4"]
    assert [link["rel"] for link in third.get("ports_links", [])] == ["previous"]
    previous = httpx.URL(third["ports_links"][0]["href"]).params
    assert previous["marker"] == third["ports"][0]["id"] and previous["page_reverse"] == "True"


def test_sdk_follows_pagination_links(sdk: Any,
                                      five_ports: tuple[dict[str, Any],
                                                        list[dict[str, Any]]]) -> None:
    network, _ = five_ports
    paged = list(sdk.network.ports(network_id=network["id"], limit=2, sort_key="name",
                                   sort_dir="asc"))
    assert [p.name for p in paged] == ["p0", "p1", "p2", "p3", "p4"]


def test_pagination_links_are_neutrons(neutron: Neutron,
                                       five_ports: tuple[dict[str, Any],
                                                         list[dict[str, Any]]]) -> None:
    network, _ = five_ports
    first = neutron.get("/v2.0/ports", network_id=network["id"], sort_key="name",
                        sort_dir="asc", limit=2, fields=["id", "name"])
    assert sorted(link["rel"] for link in first["ports_links"]) == ["next", "previous"]
    for link in first["ports_links"]:
        assert httpx.URL(link["href"]).params.get_list("fields") == ["id", "name"]


# -- project isolation and policy -------------------------------------------------------------


def test_a_member_of_another_project_cannot_see_or_use_a_private_network(
        neutron: Neutron, member: Member, trash: Trash, public: dict[str, Any]) -> None:
    private, private_subnet = network_with_subnet(neutron, trash, "10.80.0.0/24")
    shared = trash.add("networks", neutron.create("networks", "network", name=unique("shared"),
                                                  shared=True))
    shared_subnet = trash.add("subnets", neutron.create(
        "subnets", "subnet", network_id=shared["id"], cidr="10.81.0.0/24", ip_version=4))
    try:
        hidden = member.neutron.call("GET", f"/v2.0/networks/{private['id']}")
        assert_neutron_error(hidden, 404, "NetworkNotFound",
                             f"Network {private['id']} could not be found.")
        subnet = member.neutron.call("GET", f"/v2.0/subnets/{private_subnet['id']}")
        assert_neutron_error(subnet, 404, "SubnetNotFound")
        port = member.neutron.call("POST", "/v2.0/ports",
                                   json={"port": {"network_id": private["id"]}})
        assert_neutron_error(port, 404, "NetworkNotFound",
                             f"Network {private['id']} could not be found.")
        listed = {n["id"] for n in member.neutron.get("/v2.0/networks")["networks"]}
        assert private["id"] not in listed
        assert {shared["id"], public["id"]} <= listed
        seen = member.neutron.get(f"/v2.0/subnets/{shared_subnet['id']}")["subnet"]
        assert seen["cidr"] == "10.81.0.0/24"
        own_port = trash.add("ports", member.neutron.create("ports", "port",
                                                           network_id=shared["id"]))
        assert own_port["project_id"] == member.project_id
        assert own_port["fixed_ips"][0]["subnet_id"] == shared_subnet["id"]
        # The admin's ports stay out of the member's sight even on the shared network.
        admins = port_on(neutron, trash, shared["id"])
        member_ports = {p["id"] for p in member.neutron.get(
            "/v2.0/ports", network_id=shared["id"])["ports"]}
        assert member_ports == {own_port["id"]}
        assert_neutron_error(member.neutron.call("GET", f"/v2.0/ports/{admins['id']}"), 404,
                             "PortNotFound", f"Port {admins['id']} could not be found.")
        # Nor change or delete it: 403, since the member may see it.
        refused = member.neutron.call("DELETE", f"/v2.0/networks/{shared['id']}")
        assert "rule:delete_network" in assert_neutron_error(refused, 403,
                                                             "PolicyNotAuthorized")["message"]
        renamed = member.neutron.call("PUT", f"/v2.0/networks/{shared['id']}",
                                      json={"network": {"name": "mine"}})
        assert_neutron_error(renamed, 403, "PolicyNotAuthorized")
    finally:
        # A shared network left behind would be one more choice for every `--nic auto`.
        trash.empty()


@pytest.mark.parametrize(("attribute", "rule"), [
    ("shared", "create_network:shared"),
    ("router:external", "create_network:router:external"),
])
def test_a_member_cannot_create_a_shared_or_external_network(member: Member, attribute: str,
                                                             rule: str) -> None:
    response = member.neutron.call("POST", "/v2.0/networks", json={"network": {
        "name": unique("mnet"), attribute: True}})
    error = assert_neutron_error(response, 403, "PolicyNotAuthorized")
    assert rule in error["message"] and error["message"].endswith(" is disallowed by policy")
    names = [n["name"] for n in member.neutron.get("/v2.0/networks")["networks"]]
    assert not [n for n in names if n.startswith("mnet-")]


@pytest.mark.parametrize("attribute", ["shared", "router:external"])
def test_a_member_may_say_not_shared_and_not_external(member: Member, trash: Trash,
                                                      attribute: str) -> None:
    response = member.neutron.call("POST", "/v2.0/networks", json={"network": {
        "name": unique("mnet"), attribute: False}})
    if response.status_code == 201:
        trash.add("networks", response.json()["network"])
    assert response.status_code == 201, response.text
    assert response.json()["network"][attribute] is False


@pytest.mark.parametrize("case", ["create-shared", "delete-others"])
def test_the_policy_messages_are_neutrons(neutron: Neutron, member: Member, trash: Trash,
                                          case: str) -> None:
    if case == "create-shared":
        response = member.neutron.call("POST", "/v2.0/networks", json={"network": {
            "name": unique("mnet"), "shared": True}})
        expected = "(rule:create_network and rule:create_network:shared) is disallowed by policy"
    else:
        shared = trash.add("networks", neutron.create("networks", "network",
                                                      name=unique("shared"), shared=True))
        response = member.neutron.call("DELETE", f"/v2.0/networks/{shared['id']}")
        expected = "rule:delete_network is disallowed by policy"
    assert_neutron_error(response, 403, "PolicyNotAuthorized", expected)


def test_cli_member_refused_a_shared_network(live: LiveCloud, member: Member) -> None:
    result = live.openstack(*member.cli_args, "network", "create", "--share", unique("mnet"),
                            check=False)
    assert result.returncode != 0
    assert "disallowed by policy" in result.stderr


# -- extensions -------------------------------------------------------------------------------

SERVED = {"binding", "external-net", "net-mtu", "port-security", "provider", "security-group",
          "project-id", "pagination", "sorting", "standard-attr-description",
          "standard-attr-revisions", "standard-attr-timestamp", "allowed-address-pairs",
          "extra_dhcp_opt"}
# Extensions that bring a collection: listed if and only if the collection answers.
COLLECTION_OF = {
    "security-group": "/v2.0/security-groups", "router": "/v2.0/routers",
    "agent": "/v2.0/agents", "quotas": "/v2.0/quotas", "rbac-policies": "/v2.0/rbac-policies",
    "subnet_allocation": "/v2.0/subnetpools", "address-scope": "/v2.0/address-scopes",
    "qos": "/v2.0/qos/policies", "segment": "/v2.0/segments", "trunk": "/v2.0/trunks",
    "network-ip-availability": "/v2.0/network-ip-availabilities",
    "availability_zone": "/v2.0/availability_zones", "metering": "/v2.0/metering/metering-labels",
    "network-segment-range": "/v2.0/network-segment-ranges", "flavors": "/v2.0/flavors",
    "address-group": "/v2.0/address-groups", "local-ip": "/v2.0/local-ips",
    "logging": "/v2.0/log/logs",
}


def test_cli_extension_list_names_what_is_served(live: LiveCloud, neutron: Neutron) -> None:
    listed = live.openstack_json("extension", "list", "--network")
    aliases = {e["Alias"] for e in listed}
    assert aliases >= SERVED
    answers = {alias: neutron.client.get(path).status_code
               for alias, path in COLLECTION_OF.items()}
    assert {a for a, status in answers.items() if status == 200} == \
        {a for a in COLLECTION_OF if a in aliases}, answers
    body = neutron.get("/v2.0/extensions")
    expected = sample("neutron", f"{SAMPLES}/extensions/extensions-list-response.json")
    assert_shape_like_sample(body, expected)
    assert {e["alias"] for e in body["extensions"]} == aliases
    one = neutron.get("/v2.0/extensions/security-group")
    assert_shape_like_sample(one, sample(
        "neutron", f"{SAMPLES}/extensions/extension-show-response.json"))
    assert one["extension"]["alias"] == "security-group"
    missing = neutron.call("GET", "/v2.0/extensions/no-such-extension")
    assert_neutron_error(missing, 404)


# Attribute -> the extension that brings it (neutron-lib api/definitions); core attributes
# are not listed.
EXTENSION_OF = {
    "network": {"availability_zone_hints": "network_availability_zone",
                "availability_zones": "network_availability_zone",
                "dns_domain": "dns-integration", "ipv4_address_scope": "address-scope",
                "ipv6_address_scope": "address-scope", "l2_adjacency": "l2_adjacency",
                "qos_policy_id": "qos", "is_default": "auto-allocated-topology",
                "tags": "standard-attr-tag", "mtu": "net-mtu",
                "port_security_enabled": "port-security", "router:external": "external-net",
                "provider:network_type": "provider"},
    "subnet": {"dns_publish_fixed_ip": "subnet-dns-publish-fixed-ip", "segment_id": "segment",
               "service_types": "subnet-service-types", "tags": "standard-attr-tag"},
    "port": {"dns_name": "dns-integration", "dns_assignment": "dns-integration",
             "ip_allocation": "ip_allocation",
             "propagate_uplink_status": "uplink-status-propagation", "qos_policy_id": "qos",
             "qos_network_policy_id": "qos-port-network-policy",
             "resource_request": "port-resource-request", "tags": "standard-attr-tag",
             "binding:host_id": "binding", "security_groups": "security-group",
             "allowed_address_pairs": "allowed-address-pairs",
             "extra_dhcp_opts": "extra_dhcp_opt"},
    "security_group": {"stateful": "stateful-security-group", "tags": "standard-attr-tag"},
    "security_group_rule": {"normalized_cidr": "security-groups-normalized-cidr",
                            "remote_address_group_id": "security-groups-remote-address-group"},
}


def test_every_attribute_shown_has_its_extension_listed(neutron: Neutron, trash: Trash,
                                                        advertised: set[str]) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.82.0.0/24")
    port = port_on(neutron, trash, network["id"])
    group = trash.add("security-groups", neutron.create(
        "security-groups", "security_group", name=unique("sg")))
    bodies = {"network": neutron.get(f"/v2.0/networks/{network['id']}")["network"],
              "subnet": subnet, "port": port, "security_group": group,
              "security_group_rule": group["security_group_rules"][0]}
    unlisted = sorted(f"{kind}.{key} ({EXTENSION_OF[kind][key]})"
                      for kind, body in bodies.items() for key in body
                      if key in EXTENSION_OF[kind] and EXTENSION_OF[kind][key] not in advertised)
    assert not unlisted, "shown without their extension: " + ", ".join(unlisted)


# -- servers on networks ----------------------------------------------------------------------


def test_cli_server_on_a_network_gets_a_bound_port(live: LiveCloud, neutron: Neutron,
                                                   nova: Nova, trash: Trash,
                                                   boot: dict[str, Any]) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.90.0.0/24")
    address = first_free(neutron, subnet)
    name = unique("cli-srv")
    created = live.openstack_json("server", "create", "--flavor", boot["small"]["id"],
                                  "--image", CIRROS, "--nic", f"net-id={network['id']}",
                                  "--wait", name)
    trash.server(created["id"])
    assert created["status"] == "ACTIVE"
    assert created["addresses"] == {network["name"]: [address]}
    ports = ports_of_server(neutron, created["id"])
    assert len(ports) == 1
    port = ports[0]
    assert port["network_id"] == network["id"]
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": address}]
    assert port["binding:host_id"] == created["OS-EXT-SRV-ATTR:host"]
    assert port["device_owner"] == "compute:nova" and port["device_id"] == created["id"]
    assert port["status"] == "ACTIVE" and port["binding:vif_type"] == "ovs"
    assert port["project_id"] == created["project_id"]
    listed, shown = in_parallel(
        lambda: live.openstack_json("server", "list", "--name", f"^{name}$"),
        lambda: live.openstack_json("server", "show", name))
    assert [s["Networks"] for s in listed] == [{network["name"]: [address]}]
    assert shown["addresses"] == {network["name"]: [address]}
    raw = nova.show(created["id"])
    assert raw["addresses"] == {network["name"]: [{
        "version": 4, "addr": address, "OS-EXT-IPS:type": "fixed",
        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}]}
    assert_nova_response({"server": raw}, "/servers/{id}", "GET", NOVA_VERSION)
    # nova made this port: it goes with the server.
    live.openstack("server", "delete", "--wait", created["id"])
    assert ports_of_server(neutron, created["id"]) == []
    assert neutron.call("GET", f"/v2.0/ports/{port['id']}").status_code == 404


def test_cli_server_on_a_given_port_keeps_it(live: LiveCloud, neutron: Neutron, nova: Nova,
                                             trash: Trash, boot: dict[str, Any]) -> None:
    network, _ = network_with_subnet(neutron, trash, "10.91.0.0/24")
    given = port_on(neutron, trash, network["id"], name=unique("given"))
    created = live.openstack_json("server", "create", "--flavor", boot["small"]["id"],
                                  "--image", CIRROS, "--nic", f"port-id={given['id']}",
                                  "--wait", unique("cli-srv"))
    trash.server(created["id"])
    assert created["addresses"] == {network["name"]: [given["fixed_ips"][0]["ip_address"]]}
    bound = neutron.get(f"/v2.0/ports/{given['id']}")["port"]
    assert (bound["device_id"], bound["device_owner"], bound["binding:host_id"],
            bound["status"]) == (created["id"], "compute:nova",
                                 created["OS-EXT-SRV-ATTR:host"], "ACTIVE")
    # A port in use cannot be given to a second server.
    in_use = boot_server(nova, trash, boot, [{"port": given["id"]}])
    assert in_use.status_code == 409, in_use.text
    assert in_use.json()["conflictingRequest"]["message"] == \
        f"Port {given['id']} is still in use."
    nova.call("DELETE", f"/servers/{created['id']}")
    nova.wait_gone(created["id"])
    kept = neutron.get(f"/v2.0/ports/{given['id']}")["port"]
    assert (kept["device_id"], kept["device_owner"], kept["binding:host_id"],
            kept["binding:vif_type"], kept["status"]) == ("", "", "", "unbound", "DOWN")
    assert kept["fixed_ips"] == given["fixed_ips"] and kept["mac_address"] == \
        given["mac_address"]


def test_nic_auto_takes_the_only_network_and_refuses_two(live: LiveCloud, neutron: Neutron,
                                                         trash: Trash, identity: httpx.Client,
                                                         boot: dict[str, Any]) -> None:
    user = make_member(live, identity)
    try:
        network, subnet = network_with_subnet(neutron, trash, "10.92.0.0/24",
                                              client=user.neutron)
        address = first_free(neutron, subnet)
        created = live.openstack_json(*user.cli_args, "server", "create", "--flavor",
                                      boot["small"]["id"], "--image", CIRROS, "--nic", "auto",
                                      "--wait", unique("auto"))
        trash.server(created["id"])
        assert created["addresses"] == {network["name"]: [address]}
        network_with_subnet(neutron, trash, "10.93.0.0/24", client=user.neutron)
        refused = boot_server(user.nova, trash, boot, "auto", client=user.nova)
        assert refused.status_code == 409, refused.text
        assert refused.json() == {"conflictingRequest": {"code": 409, "message": (
            "Multiple possible networks found, use a Network ID to be more specific.")}}
    finally:
        trash.empty()
        user.drop(identity)


def test_nic_auto_counts_networks_without_subnets(live: LiveCloud, neutron: Neutron,
                                                  trash: Trash, identity: httpx.Client,
                                                  boot: dict[str, Any]) -> None:
    user = make_member(live, identity)
    try:
        network_with_subnet(neutron, trash, "10.94.0.0/24", client=user.neutron)
        trash.add("networks", user.neutron.create("networks", "network", name=unique("bare")))
        refused = boot_server(user.nova, trash, boot, "auto", client=user.nova)
        assert refused.status_code == 409, refused.text
    finally:
        trash.empty()
        user.drop(identity)


def test_cli_auto_allocated_topology_serves_nic_auto(live: LiveCloud, neutron: Neutron,
                                                    trash: Trash, identity: httpx.Client,
                                                    boot: dict[str, Any]) -> None:
    """A project with no network: the CLI's resource check passes (the lab's public network
    is the default external one, its pool the default), a server with ``--nic auto`` gets
    the auto-allocated network, and the CLI's delete takes the topology down."""
    user = make_member(live, identity)
    topology = ("network", "auto", "allocated", "topology")
    try:
        checked = live.openstack_json(*user.cli_args, *topology, "create",
                                      "--check-resources")
        # The CLI shows a dry_run column its SDK reads from no key neutron sends ("id":
        # "dry-run=pass"): passing is the command succeeding.
        assert checked == {"dry_run": None}, checked
        assert user.neutron.get("/v2.0/networks", tenant_id=user.project_id)["networks"] == []
        created = live.openstack_json(*user.cli_args, "server", "create", "--flavor",
                                      boot["small"]["id"], "--image", CIRROS, "--nic", "auto",
                                      "--wait", unique("auto"))
        trash.server(created["id"])
        assert list(created["addresses"]) == ["auto_allocated_network"]
        made = live.openstack_json(*user.cli_args, *topology, "create")
        network = neutron.get(f"/v2.0/networks/{made['id']}")["network"]
        assert (network["name"], network["project_id"]) == ("auto_allocated_network",
                                                            user.project_id)
        routers = user.neutron.get("/v2.0/routers")["routers"]
        assert [r["name"] for r in routers] == ["auto_allocated_router"]
        trash.empty()
        live.openstack(*user.cli_args, *topology, "delete")
        assert neutron.call("GET", f"/v2.0/networks/{made['id']}").status_code == 404
        assert user.neutron.get("/v2.0/routers")["routers"] == []
    finally:
        trash.empty()
        user.drop(identity)


def test_an_unknown_network_is_400(live: LiveCloud, nova: Nova, trash: Trash,
                                   boot: dict[str, Any]) -> None:
    missing = str(uuid.uuid4())
    response = boot_server(nova, trash, boot, [{"uuid": missing}])
    assert response.status_code == 400, response.text
    assert response.json() == {"badRequest": {"code": 400, "message":
                                              f"Network {missing} could not be found."}}
    # The CLI looks the network up itself first.
    result = live.openstack("server", "create", "--flavor", boot["small"]["id"], "--image",
                            CIRROS, "--nic", f"net-id={missing}", unique("nosrv"), check=False)
    assert result.returncode != 0 and missing in result.stderr


def _full_network_server(neutron: Neutron, nova: Nova, trash: Trash,
                         boot: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    network, subnet = network_with_subnet(neutron, trash, "10.95.0.0/30", enable_dhcp=False)
    assert subnet["allocation_pools"] == [{"start": "10.95.0.2", "end": "10.95.0.2"}]
    port_on(neutron, trash, network["id"])
    response = boot_server(nova, trash, boot, [{"uuid": network["id"]}])
    assert response.status_code == 202, response.text
    return network, nova.wait(response.json()["server"]["id"], "ERROR")


def test_a_server_on_a_full_network_ends_in_error(neutron: Neutron, nova: Nova, trash: Trash,
                                                  boot: dict[str, Any]) -> None:
    network, server = _full_network_server(neutron, nova, trash, boot)
    fault = server["fault"]
    assert fault["code"] == 500
    assert fault["message"].startswith(f"Build of instance {server['id']} aborted: ")
    assert network["id"] in fault["message"]
    assert ports_of_server(neutron, server["id"]) == []
    assert server["addresses"] == {}


def test_the_full_network_fault_is_novas(neutron: Neutron, nova: Nova, trash: Trash,
                                         boot: dict[str, Any]) -> None:
    network, server = _full_network_server(neutron, nova, trash, boot)
    assert server["fault"]["message"] == (
        f"Build of instance {server['id']} aborted: Failed to allocate the network(s) with "
        f"error No fixed IP addresses available for network: {network['id']}, not "
        "rescheduling.")


def _binding(neutron: Neutron, server_id: str) -> str:
    ports = ports_of_server(neutron, server_id)
    assert len(ports) == 1, ports
    host: str = ports[0]["binding:host_id"]
    assert ports[0]["status"] == "ACTIVE"
    return host


def test_migrations_move_the_port_binding(neutron: Neutron, nova: Nova, trash: Trash,
                                          boot: dict[str, Any]) -> None:
    network, subnet = network_with_subnet(neutron, trash, "10.96.0.0/24")
    address = first_free(neutron, subnet)
    response = boot_server(nova, trash, boot, [{"uuid": network["id"]}])
    assert response.status_code == 202, response.text
    server = nova.wait(response.json()["server"]["id"], "ACTIVE")
    first = server["OS-EXT-SRV-ATTR:host"]
    second = COMPUTE2 if first == COMPUTE1 else COMPUTE1
    assert _binding(neutron, server["id"]) == first
    live_migrate = nova.action(server["id"], {"os-migrateLive": {
        "host": None, "block_migration": "auto"}})
    assert live_migrate.status_code == 202, live_migrate.text
    assert nova.wait(server["id"], "ACTIVE")["OS-EXT-SRV-ATTR:host"] == second
    assert _binding(neutron, server["id"]) == second
    # A resize runs on the other host from VERIFY_RESIZE on; a revert brings it back.
    resize = {"resize": {"flavorRef": boot["large"]["id"]}}
    assert nova.action(server["id"], resize).status_code == 202
    assert nova.wait(server["id"], "VERIFY_RESIZE")["OS-EXT-SRV-ATTR:host"] == first
    assert _binding(neutron, server["id"]) == first
    assert nova.action(server["id"], {"revertResize": None}).status_code == 202
    assert nova.wait(server["id"], "ACTIVE")["OS-EXT-SRV-ATTR:host"] == second
    assert _binding(neutron, server["id"]) == second
    assert nova.action(server["id"], resize).status_code == 202
    nova.wait(server["id"], "VERIFY_RESIZE")
    assert nova.action(server["id"], {"confirmResize": None}).status_code == 204
    assert nova.wait(server["id"], "ACTIVE")["OS-EXT-SRV-ATTR:host"] == first
    assert _binding(neutron, server["id"]) == first
    assert nova.show(server["id"])["addresses"][network["name"]][0]["addr"] == address


# -- issue 9: wrong types and other projects' resources, through the real clients -------------


@pytest.fixture(scope="module")
def owner(live: LiveCloud, identity: httpx.Client) -> Iterator[Member]:
    """A member of a second project, whose resources ``member`` must not reach."""
    user = make_member(live, identity)
    yield user
    user.drop(identity)


@pytest.fixture(scope="module")
def member_sdk(live: LiveCloud, member: Member) -> Iterator[Any]:
    connection = live.connect(username=member.name, password="pw", project_name=member.name)
    yield connection
    connection.close()


def test_sdk_a_name_of_the_wrong_type_is_neutrons_400(sdk: Any) -> None:
    from openstack import exceptions

    with pytest.raises(exceptions.BadRequestException) as raised:
        sdk.network.create_network(name=["a"])
    assert "Invalid input for name. Reason: '['a']' is not a valid string." in str(raised.value)
    names = [n.name for n in sdk.network.networks()]
    assert ["a"] not in names


def test_sdk_an_mtu_past_the_column_is_neutrons_400(sdk: Any) -> None:
    from openstack import exceptions

    with pytest.raises(exceptions.BadRequestException) as raised:
        sdk.network.create_network(name=unique("mtu"), mtu=2**40)
    assert (f"Invalid input for mtu. Reason: '{2**40}' is too large - must be no larger than "
            "'2147483647'.") in str(raised.value)


@pytest.mark.parametrize(("field", "value", "kind", "message"), [
    ("admin_state_up", "", "InvalidInput",
     "Invalid input for operation: '' cannot be converted to boolean."),
    ("network_id", ["x"], "HTTPBadRequest",
     "Invalid input for network_id. Reason: '['x']' is not a valid UUID."),
])
def test_raw_wrong_types_on_a_port_are_neutrons_400(neutron: Neutron, trash: Trash, field: str,
                                                    value: Any, kind: str,
                                                    message: str) -> None:
    network = trash.add("networks", neutron.create("networks", "network", name=unique("wt")))
    body = {"network_id": network["id"], field: value}
    assert_neutron_error(neutron.call("POST", "/v2.0/ports", json={"port": body}), 400, kind,
                         message)


def test_cli_a_port_range_past_65535_is_refused(live: LiveCloud, neutron: Neutron,
                                                trash: Trash) -> None:
    group = trash.add("security-groups", neutron.create("security-groups", "security_group",
                                                        name=unique("range")))
    result = live.openstack("security", "group", "rule", "create", "--protocol", "tcp",
                            "--dst-port", f"22:{2**40}", group["id"], check=False)
    assert result.returncode != 0
    assert f"Invalid value for port {2**40}" in result.stderr
    rules = neutron.get("/v2.0/security-group-rules", security_group_id=group["id"])
    assert all(r["direction"] == "egress" for r in rules["security_group_rules"])


def test_sdk_a_port_with_another_projects_group_is_not_found(
        member_sdk: Any, member: Member, owner: Member, trash: Trash) -> None:
    from openstack import exceptions

    theirs = trash.add("security-groups", owner.neutron.create(
        "security-groups", "security_group", name=unique("theirs")))
    mine = trash.add("networks", member.neutron.create("networks", "network",
                                                       name=unique("mine")))
    with pytest.raises(exceptions.NotFoundException) as raised:
        member_sdk.network.create_port(network_id=mine["id"], security_group_ids=[theirs["id"]])
    assert f"Security group {theirs['id']} does not exist" in str(raised.value)
    port = trash.add("ports", member.neutron.create("ports", "port", network_id=mine["id"]))
    with pytest.raises(exceptions.NotFoundException):
        member_sdk.network.update_port(port["id"], security_group_ids=[theirs["id"]])
    assert theirs["id"] not in member.neutron.get(f"/v2.0/ports/{port['id']}")["port"][
        "security_groups"]


def test_sdk_a_router_interface_with_another_projects_port_or_subnet_is_not_found(
        member_sdk: Any, member: Member, owner: Member, neutron: Neutron,
        trash: Trash) -> None:
    from openstack import exceptions

    network, subnet = network_with_subnet(neutron, trash, "10.97.0.0/24", client=owner.neutron)
    port = trash.add("ports", owner.neutron.create("ports", "port", network_id=network["id"]))
    router = trash.add("routers", member.neutron.create("routers", "router",
                                                        name=unique("mine")))
    with pytest.raises(exceptions.NotFoundException) as raised:
        member_sdk.network.add_interface_to_router(router["id"], port=port["id"])
    assert f"Port {port['id']} could not be found." in str(raised.value)
    with pytest.raises(exceptions.NotFoundException) as raised:
        member_sdk.network.add_interface_to_router(router["id"], subnet=subnet["id"])
    assert f"Subnet {subnet['id']} could not be found." in str(raised.value)
    assert owner.neutron.get(f"/v2.0/ports/{port['id']}")["port"]["device_id"] == ""


def test_a_port_on_another_projects_network_is_refused(member: Member, owner: Member,
                                                       neutron: Neutron, trash: Trash,
                                                       public: dict[str, Any]) -> None:
    theirs, _ = network_with_subnet(neutron, trash, "10.98.0.0/24", client=owner.neutron)
    hidden = member.neutron.call("POST", "/v2.0/ports",
                                 json={"port": {"network_id": theirs["id"]}})
    assert_neutron_error(hidden, 404, "NetworkNotFound",
                         f"Network {theirs['id']} could not be found.")
    external = member.neutron.call("POST", "/v2.0/ports",
                                   json={"port": {"network_id": public["id"]}})
    assert_neutron_error(external, 403, "HTTPForbidden", f"Tenant {member.project_id} not "
                         "allowed to create port on this network")
