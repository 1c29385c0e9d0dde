"""Neutron's agents and HA routers on a live cloud: DHCP and L3 scheduling, VRRP, failover.

The lab's neutron.conf (two DHCP agents per network, ``l3_ha = True``, HA routers on up to
three L3 agents) as an operator meets it: ``openstack network agent list``, the DHCP ports
each agent's dnsmasq holds, one ``active`` and one ``standby`` L3 agent per HA router, what
``ip netns`` shows on the network nodes (``stacklab netns``), and a failover when the node of
the active router is powered off (``stacklab node down``).

This module starts a cloud of its own (powering nodes off would disturb the shared ``live``
cloud) with ``[stacklab] ha_time_scale = 0.02``: the lab's timers run 50 times faster, so
an election (6.8 s of lab time with neutron's ``ha_vrrp_advert_int = 2``, plus the L3 agent's
2 s report batching) settles in about 0.2 s. Tests poll for it rather than sleep.

The scale runs the heartbeats too; this module's cloud sets them 50 times longer, so that
they keep neutron's and nova's real pace (agents report every 30 s, dead after 75 s): its
failover test asserts the new master and that the powered-off node's binding still reads
``active`` (neutron's "two actives"); the rewrite of a dead agent's ``active`` to
``standby`` is checked at the end on a cloud of its own with ``[AGENT] report_interval``
and ``agent_down_time`` shortened.

Upstream references: neutron @ 2131d26f7326, neutron-lib @ 6cd671a8c461.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.conftest import BIN, LiveCloud, start_cloud, stop_cloud
from support.apiref import assert_valid, openapi_response_schema

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]

CIRROS = "cirros-0.6.2-x86_64-disk"
DOMAIN = "openstack.local"
NETWORK_NODES = ("network1", "network2")
COMPUTE_NODES = ("compute1", "compute2")
OSC_AGENT_COLUMNS = ["ID", "Agent Type", "Host", "Availability Zone", "Alive", "State",
                     "Binary"]
HA_NET_CIDR = ipaddress.ip_network("169.254.192.0/18")  # l3_ha_net_cidr's default
PRIMARY_VIP_RANGE = ipaddress.ip_network("169.254.0.0/24")  # keepalived.py's primary VIP /24
HA_INTERFACE = "network:router_ha_interface"
HA_REPLICATED_INTERFACE = "network:ha_router_replicated_interface"
BAD_HA_CHANGE = ("Cannot change HA attribute of active routers. Please set router "
                 "admin_state_up to False prior to upgrade")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def fqdn(node: str) -> str:
    return f"{node}.{DOMAIN}"


def short(host: str) -> str:
    return host.split(".")[0]


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Independent CLI calls side by side (each is about a second of interpreter start-up)."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def wait_for(what: str, probe: Callable[[], Any], done: Callable[[Any], bool],
             timeout: float = 10.0) -> Any:
    """Poll ``probe`` until ``done`` holds for what it returns; fail naming the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s; last seen {value!r}")
        time.sleep(0.02)


def table(text: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a cliff table as the CLI prints it."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert lines, text

    def cells(line: str) -> list[str]:
        return [cell.strip() for cell in line.strip().strip("|").split("|")]

    header = cells(lines[0])
    return header, [dict(zip(header, cells(line), strict=True)) for line in lines[1:]]


# -- checking bodies ---------------------------------------------------------------------------

# Keys the network spec types wrongly (upstream's samples fail on each): neutron returns a
# boolean "alive", an object "configurations" and "port_details", lists of port forwardings
# and conntrack helpers.
SPEC_MISTYPED = {"alive", "configurations", "port_details", "port_forwardings",
                 "conntrack_helpers"}


def _loosen(node: Any) -> Any:
    """The body without nulls (the spec types nullable fields as non-null) or mistyped keys."""
    if isinstance(node, dict):
        return {k: _loosen(v) for k, v in node.items()
                if v is not None and k not in SPEC_MISTYPED}
    if isinstance(node, list):
        return [_loosen(item) for item in node]
    return node


def assert_spec(body: Any, template: str, method: str = "get", status: str = "200") -> None:
    """The network spec's response schema, as a shape check (the spec is loose)."""
    assert_valid(_loosen(body), openapi_response_schema("network", template, method, status),
                 where=f"{method.upper()} {template} {status}")


def assert_agent_shape(agent: dict[str, Any]) -> None:
    """One agent of a listing, against the spec's agent (the hosting listings have no schema)."""
    assert_spec({"agent": agent}, "/v2.0/agents/{id}")
    assert isinstance(agent["alive"], bool), agent
    assert isinstance(agent["configurations"], dict), agent


def assert_neutron_error(response: httpx.Response, status: int, kind: str,
                         message: str | None = None) -> dict[str, str]:
    """neutron's error body: exactly ``{"NeutronError": {"type", "message", "detail"}}``."""
    assert response.status_code == status, f"{status} expected: {response.status_code} " \
        f"{response.text}"
    body = response.json()
    assert list(body) == ["NeutronError"], body
    error: dict[str, str] = body["NeutronError"]
    assert set(error) == {"type", "message", "detail"}, error
    assert error["type"] == kind, error
    if message is not None:
        assert error["message"] == message, error
    return error


class Neutron:
    """Raw HTTP to the networking endpoint."""

    def __init__(self, lab: LiveCloud, auth_token: str) -> None:
        self.client = httpx.Client(base_url=f"{lab.url}/networking", timeout=30,
                                   headers={"X-Auth-Token": auth_token})

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self.client.request(method, path, **kw)
        assert response.status_code < 500, f"{method} {path}: {response.text}"
        assert "Traceback" not in response.text
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

    def network_with_subnet(self, cidr: str, **subnet: Any) -> tuple[str, str]:
        network = self.create("networks", "network", name=unique("ha-net"))
        created = self.create("subnets", "subnet", network_id=network["id"], cidr=cidr,
                              ip_version=4, **subnet)
        return network["id"], created["id"]

    def l3_agents(self, router_id: str) -> list[dict[str, Any]]:
        agents: list[dict[str, Any]] = self.get(f"/v2.0/routers/{router_id}/l3-agents")["agents"]
        return agents

    def ha_states(self, router_id: str) -> dict[str, str | None]:
        """Short host name -> the ha_state neutron shows for the router's agent there."""
        return {short(a["host"]): a.get("ha_state") for a in self.l3_agents(router_id)}

    def wait_elected(self, router_id: str, agents: int = 2) -> dict[str, str | None]:
        """Until one agent is active and the others standby (an election settled)."""
        return wait_for(
            f"router {router_id} elects one master among {agents} agents",
            lambda: self.ha_states(router_id),
            lambda s: len(s) == agents and sorted(s.values()) == sorted(
                ["active"] + ["standby"] * (agents - 1)))

    def ha_ports(self, router_id: str) -> list[dict[str, Any]]:
        ports: list[dict[str, Any]] = self.get("/v2.0/ports", device_id=router_id,
                                               device_owner=HA_INTERFACE)["ports"]
        return ports


def active_host(states: dict[str, str | None]) -> str:
    return next(host for host, state in states.items() if state == "active")


def standby_host(states: dict[str, str | None]) -> str:
    return next(host for host, state in states.items() if state == "standby")


def stacklab(lab: LiveCloud, *args: str) -> str:
    """The ``stacklab`` lab-control CLI against this cloud (found through its state dir)."""
    result = subprocess.run([str(BIN / "stacklab"), *args, "--state-dir", str(lab.state_dir)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"stacklab {' '.join(args)}: {result.stderr}"
    return result.stdout


def netns(lab: LiveCloud, node: str) -> dict[str, dict[str, Any]]:
    """``stacklab netns <node> --json``: the node's namespaces by name."""
    body = json.loads(stacklab(lab, "netns", node, "--json"))
    assert body["node"] == fqdn(node), body
    return {ns["name"]: ns for ns in body["namespaces"]}


def netns_http(lab: LiveCloud, node: str) -> dict[str, dict[str, Any]]:
    """The same view over HTTP (cheap enough to poll), which takes an admin token."""
    response = httpx.get(f"{lab.url}/stacklab/v1/nodes/{node}/netns", timeout=10,
                         headers={"X-Auth-Token": token(lab)})
    assert response.status_code == 200, response.text
    return {ns["name"]: ns for ns in response.json()["namespaces"]}


def devices(namespace: dict[str, Any]) -> dict[str, list[str]]:
    """Device name prefix (``ha-``, ``qr-``, ``qg-``, ``tap``) + port -> its addresses."""
    return {device["name"]: device["addresses"] for device in namespace["devices"]}


def device_name(prefix: str, port_id: str) -> str:
    """neutron's device names: the prefix and the port id, cut to IFNAMSIZ - 1 (14)."""
    return (prefix + port_id)[:14]


def cidr_of(port: dict[str, Any], prefix: int) -> str:
    return f"{port['fixed_ips'][0]['ip_address']}/{prefix}"


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    """A cloud of this module's own, with keepalived's timers 50 times faster."""
    tmp = tmp_path_factory.mktemp("network-ha")
    config = tmp / "stacklab.ini"
    # 50 times upstream's heartbeat periods at 50 times the pace: their real seconds.
    config.write_text("[stacklab]\nha_time_scale = 0.02\n\n[AGENT]\nreport_interval = 1500\n\n"
                      "[DEFAULT]\nagent_down_time = 3750\nreport_interval = 500\n"
                      "service_down_time = 3000\n")
    cloud = start_cloud(tmp, "--config", str(config))
    yield cloud
    stop_cloud(cloud)


def token(lab: LiveCloud, user: str = "admin", password: str = "secret",
          project: str = "admin") -> str:
    response = httpx.post(f"{lab.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def neutron(lab: LiveCloud) -> Iterator[Neutron]:
    client = Neutron(lab, token(lab))
    yield client
    client.client.close()


@pytest.fixture(scope="module")
def sdk(lab: LiveCloud) -> Any:
    return lab.connect()


@pytest.fixture(scope="module")
def admin_project(sdk: Any) -> str:
    project_id: str = sdk.current_project_id
    return project_id


def new_project(sdk: Any) -> str:
    project_id: str = sdk.identity.create_project(name=unique("ha-proj"),
                                                  domain_id="default").id
    return project_id


@pytest.fixture(scope="module")
def tenant_net(lab: LiveCloud) -> dict[str, str]:
    """``network create`` + ``subnet create``: a tenant network the lab's DHCP agents serve."""
    name = unique("ha-tenant")
    network = lab.openstack_json("network", "create", name)
    subnet = lab.openstack_json("subnet", "create", "--network", network["id"],
                                "--subnet-range", "10.41.0.0/24", name)
    return {"name": name, "network_id": network["id"], "subnet_id": subnet["id"],
            "cidr": "10.41.0.0/24"}


@pytest.fixture(scope="module")
def ha_router(lab: LiveCloud, neutron: Neutron, tenant_net: dict[str, str]) -> dict[str, Any]:
    """``router create`` (HA by the lab's default), its gateway on ``public``, an interface."""
    name = unique("ha-router")
    router = lab.openstack_json("router", "create", name)
    lab.openstack("router", "set", "--external-gateway", "public", router["id"])
    lab.openstack("router", "add", "subnet", router["id"], tenant_net["subnet_id"])
    return {"id": router["id"], "name": name, "created": router}


@pytest.fixture(scope="module")
def server(lab: LiveCloud, tenant_net: dict[str, str]) -> dict[str, Any]:
    """A server on the tenant network (its port comes after the two DHCP ports)."""
    created = lab.openstack_json("server", "create", "--image", CIRROS, "--flavor", "m1.tiny",
                                 "--network", tenant_net["network_id"], "--wait",
                                 unique("ha-vm"))
    assert created["status"] == "ACTIVE", created
    return dict(created)


@pytest.fixture(scope="module")
def floating_ip(lab: LiveCloud, neutron: Neutron, ha_router: dict[str, Any],
                server: dict[str, Any]) -> dict[str, Any]:
    """``floating ip create public`` + ``server add floating ip`` on the server."""
    fip = lab.openstack_json("floating", "ip", "create", "public")
    lab.openstack("server", "add", "floating", "ip", server["id"], fip["floating_ip_address"])
    neutron.wait_elected(ha_router["id"])
    return dict(fip)


# -- the agents --------------------------------------------------------------------------------

LAB_AGENTS = {
    **{("Open vSwitch agent", n): "neutron-openvswitch-agent"
       for n in NETWORK_NODES + COMPUTE_NODES},
    **{("DHCP agent", n): "neutron-dhcp-agent" for n in NETWORK_NODES},
    **{("L3 agent", n): "neutron-l3-agent" for n in NETWORK_NODES},
    **{("Metadata agent", n): "neutron-metadata-agent" for n in NETWORK_NODES},
}
TOPICS = {"Open vSwitch agent": "N/A", "DHCP agent": "dhcp_agent", "L3 agent": "l3_agent",
          "Metadata agent": "N/A"}


def test_cli_agent_list_shows_the_labs_agents_all_alive(lab: LiveCloud) -> None:
    header, rows = table(lab.openstack("network", "agent", "list").stdout)
    assert header == OSC_AGENT_COLUMNS
    found = {(row["Agent Type"], short(row["Host"])): row for row in rows}
    assert len(rows) == len(LAB_AGENTS), rows
    assert set(found) == set(LAB_AGENTS)
    for (agent_type, _), row in found.items():
        assert row["Alive"] == ":-)", row
        assert row["State"] == "UP", row
        assert row["Binary"] == LAB_AGENTS[(agent_type, short(row["Host"]))], row
        assert row["Host"].endswith(f".{DOMAIN}"), row
        # DHCP and L3 agents are in the "nova" zone; the others have none.
        zoned = agent_type in ("DHCP agent", "L3 agent")
        assert row["Availability Zone"] == ("nova" if zoned else "None"), row
        uuid.UUID(row["ID"])


def test_agents_over_http_and_the_sdk(neutron: Neutron, sdk: Any) -> None:
    body = neutron.get("/v2.0/agents")
    assert_spec(body, "/v2.0/agents")
    agents = body["agents"]
    assert {(a["agent_type"], short(a["host"])) for a in agents} == set(LAB_AGENTS)
    for agent in agents:
        assert_agent_shape(agent)
        assert agent["alive"] is True and agent["admin_state_up"] is True, agent
        assert agent["topic"] == TOPICS[agent["agent_type"]], agent
        assert agent["binary"] == LAB_AGENTS[(agent["agent_type"], short(agent["host"]))]
        if agent["agent_type"] == "L3 agent":
            # No DVR in the lab: the network nodes' L3 agents are legacy ones.
            assert agent["configurations"]["agent_mode"] == "legacy", agent
        shown = neutron.get(f"/v2.0/agents/{agent['id']}")
        assert_spec(shown, "/v2.0/agents/{id}")
        assert shown["agent"]["id"] == agent["id"]
    by_sdk = list(sdk.network.agents())
    assert {(a.agent_type, short(a.host)) for a in by_sdk} == set(LAB_AGENTS)
    assert all(a.is_alive for a in by_sdk)
    l3 = list(sdk.network.agents(agent_type="L3 agent"))
    assert sorted(short(a.host) for a in l3) == list(NETWORK_NODES)


def test_cli_agent_list_filters_and_show_and_set(lab: LiveCloud) -> None:
    dhcp, by_host = in_parallel(
        lambda: lab.openstack_json("network", "agent", "list", "--agent-type", "dhcp"),
        lambda: lab.openstack_json("network", "agent", "list", "--host",
                                   f"{NETWORK_NODES[0]}.{DOMAIN}"))
    assert sorted(short(a["Host"]) for a in dhcp) == list(NETWORK_NODES)
    assert {a["Agent Type"] for a in dhcp} == {"DHCP agent"}
    assert {short(a["Host"]) for a in by_host} == {NETWORK_NODES[0]}
    agent = dhcp[0]
    shown = lab.openstack_json("network", "agent", "show", agent["ID"])
    assert (shown["id"], shown["alive"], shown["agent_type"]) == (agent["ID"], True,
                                                                  "DHCP agent")
    lab.openstack("network", "agent", "set", "--description", "by the course", agent["ID"])
    try:
        described = lab.openstack_json("network", "agent", "show", agent["ID"])
        assert described["description"] == "by the course"
    finally:
        lab.openstack("network", "agent", "set", "--description", "", agent["ID"])


def test_agent_bodies_have_neutrons_keys(neutron: Neutron) -> None:
    expected = {"id", "agent_type", "binary", "topic", "host", "admin_state_up", "created_at",
                "started_at", "heartbeat_timestamp", "alive", "configurations", "description",
                "availability_zone", "resources_synced"}
    for agent in neutron.get("/v2.0/agents")["agents"]:
        assert set(agent) == expected, sorted(set(agent) ^ expected)


def test_min_l3_agents_per_router_is_accepted_with_a_deprecation_warning(
        lab: LiveCloud) -> None:
    log = lab.log.read_text()
    assert 'Option "min_l3_agents_per_router" from group "DEFAULT" is deprecated for ' \
        "removal" in log, log


# -- DHCP: two agents per network, a port each --------------------------------------------------


def test_cli_a_network_gets_two_dhcp_agents_with_a_port_each(
        lab: LiveCloud, neutron: Neutron, sdk: Any, tenant_net: dict[str, str]) -> None:
    network_id = tenant_net["network_id"]
    listed, ports = in_parallel(
        lambda: lab.openstack("network", "agent", "list", "--network", network_id).stdout,
        lambda: lab.openstack_json("port", "list", "--device-owner", "network:dhcp",
                                   "--network", network_id, "--long"))
    header, rows = table(listed)
    assert header == OSC_AGENT_COLUMNS
    assert sorted((r["Agent Type"], short(r["Host"]), r["Alive"]) for r in rows) == [
        ("DHCP agent", "network1", ":-)"), ("DHCP agent", "network2", ":-)")]
    # One port per agent, the subnet's first free addresses (.1 is the gateway's).
    assert len(ports) == 2, ports
    addresses = sorted(ip["ip_address"] for p in ports for ip in p["Fixed IP Addresses"])
    assert addresses == ["10.41.0.2", "10.41.0.3"]
    assert {p["Status"] for p in ports} == {"ACTIVE"}
    # Over HTTP: which agent holds which port, and the hosting listing.
    body = neutron.get("/v2.0/ports", network_id=network_id, device_owner="network:dhcp")
    assert_spec(body, "/v2.0/ports")
    by_host = {short(p["binding:host_id"]): p for p in body["ports"]}
    assert sorted(by_host) == list(NETWORK_NODES)
    for port in body["ports"]:
        assert port["device_id"].startswith("dhcp"), port
        assert port["device_id"].endswith(f"-{network_id}"), port
        assert port["fixed_ips"][0]["subnet_id"] == tenant_net["subnet_id"]
    hosting = neutron.get(f"/v2.0/networks/{network_id}/dhcp-agents")["agents"]
    assert sorted(short(a["host"]) for a in hosting) == list(NETWORK_NODES)
    for agent in hosting:
        assert_agent_shape(agent)
        assert agent["agent_type"] == "DHCP agent" and agent["alive"] is True, agent
    assert len(list(sdk.network.network_hosting_dhcp_agents(network_id))) == 2
    # Each network node runs a dnsmasq in qdhcp-<network> with its own port's address.
    for node in NETWORK_NODES:
        namespace = netns(lab, node)[f"qdhcp-{network_id}"]
        port = by_host[node]
        assert namespace["processes"] == ["dnsmasq"], namespace
        assert devices(namespace) == {device_name("tap", port["id"]): [cidr_of(port, 24)]}


def test_dhcp_port_device_ids_are_neutrons(neutron: Neutron, tenant_net: dict[str, str]) -> None:
    network_id = tenant_net["network_id"]
    ports = neutron.get("/v2.0/ports", network_id=network_id,
                        device_owner="network:dhcp")["ports"]
    assert sorted(p["device_id"] for p in ports) == sorted(
        f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, node)}-{network_id}" for node in NETWORK_NODES)


def test_cli_a_servers_port_gets_the_address_after_the_dhcp_ports(
        server: dict[str, Any], tenant_net: dict[str, str]) -> None:
    # What `server create --wait` printed: .1 is the gateway's, .2 and .3 the DHCP ports'.
    assert server["addresses"] == {tenant_net["name"]: ["10.41.0.4"]}


# -- HA routers: scheduling, the election, namespaces -------------------------------------------


def test_cli_a_router_is_ha_by_default_with_one_active_and_one_standby_agent(
        lab: LiveCloud, neutron: Neutron, sdk: Any, ha_router: dict[str, Any]) -> None:
    router_id = ha_router["id"]
    shown = lab.openstack_json("router", "show", router_id)
    assert shown["ha"] is True and shown["distributed"] is False, shown
    assert shown["status"] == "ACTIVE", shown
    assert sdk.network.get_router(router_id).is_ha is True
    neutron.wait_elected(router_id)
    header, rows = table(lab.openstack("network", "agent", "list", "--router", router_id,
                                       "--long").stdout)
    assert header == [*OSC_AGENT_COLUMNS, "HA State"]
    assert sorted(short(r["Host"]) for r in rows) == list(NETWORK_NODES)
    assert {(r["Agent Type"], r["Alive"], r["State"], r["Binary"]) for r in rows} == {
        ("L3 agent", ":-)", "UP", "neutron-l3-agent")}
    assert sorted(r["HA State"] for r in rows) == ["active", "standby"]
    # Over HTTP and through the SDK, the same.
    agents = neutron.l3_agents(router_id)
    for agent in agents:
        assert_agent_shape(agent)
    assert sorted(a["ha_state"] for a in agents) == ["active", "standby"]
    assert sorted(a.ha_state for a in sdk.network.routers_hosting_l3_agents(router_id)) == [
        "active", "standby"]


def test_an_ha_router_has_an_ha_port_per_agent_on_the_projects_ha_network(
        neutron: Neutron, ha_router: dict[str, Any], admin_project: str) -> None:
    router_id = ha_router["id"]
    ports = neutron.ha_ports(router_id)
    assert sorted(short(p["binding:host_id"]) for p in ports) == list(NETWORK_NODES)
    networks = {p["network_id"] for p in ports}
    assert len(networks) == 1, ports
    for port in ports:
        # neutron-lib constants HA_PORT_NAME; HA ports and the HA network belong to no project.
        assert port["name"] == f"HA port project {admin_project}", port
        assert port["project_id"] == "" and port["status"] == "ACTIVE", port
        assert ipaddress.ip_address(port["fixed_ips"][0]["ip_address"]) in HA_NET_CIDR, port
    network = neutron.get(f"/v2.0/networks/{networks.pop()}")["network"]
    assert network["name"] == f"HA network project {admin_project}", network
    assert network["project_id"] == "", network
    subnet = neutron.get(f"/v2.0/subnets/{network['subnets'][0]}")["subnet"]
    assert subnet["cidr"] == str(HA_NET_CIDR) and subnet["gateway_ip"] is None, subnet
    assert subnet["name"] == f"HA subnet project {admin_project}", subnet
    # The router's interface on an HA router is a replicated one.
    interfaces = neutron.get("/v2.0/ports", device_id=router_id,
                             device_owner=HA_REPLICATED_INTERFACE)["ports"]
    assert [p["fixed_ips"][0]["ip_address"] for p in interfaces] == ["10.41.0.1"]


def test_cli_netns_the_master_holds_the_addresses_and_the_vip(
        lab: LiveCloud, neutron: Neutron, ha_router: dict[str, Any]) -> None:
    router_id = ha_router["id"]
    states = neutron.wait_elected(router_id)
    active, standby = active_host(states), standby_host(states)
    ha_port = {short(p["binding:host_id"]): p for p in neutron.ha_ports(router_id)}
    interface = neutron.get("/v2.0/ports", device_id=router_id,
                            device_owner=HA_REPLICATED_INTERFACE)["ports"][0]
    gateway = neutron.get("/v2.0/ports", device_id=router_id,
                          device_owner="network:router_gateway")["ports"][0]
    qr, qg = device_name("qr-", interface["id"]), device_name("qg-", gateway["id"])
    namespace = f"qrouter-{router_id}"

    text = stacklab(lab, "netns", active)
    assert namespace in text.split("\n\n")[0].splitlines(), text  # `ip netns`
    master = netns(lab, active)[namespace]
    found = devices(master)
    assert set(found) == {device_name("ha-", ha_port[active]["id"]), qr, qg}, found
    ha_addresses = found[device_name("ha-", ha_port[active]["id"])]
    assert ha_addresses[0] == cidr_of(ha_port[active], 18), ha_addresses
    # keepalived's primary VIP: 169.254.0.<VRID>/24 on the ha- device.
    assert len(ha_addresses) == 2, ha_addresses
    vip = ipaddress.ip_interface(ha_addresses[1])
    assert vip.network == PRIMARY_VIP_RANGE and 1 <= int(vip) - int(vip.network[0]) <= 254
    assert found[qr] == ["10.41.0.1/24"]
    assert found[qg][0] == cidr_of(gateway, 24)
    assert master["ha_state"] == "active"
    assert "keepalived" in master["processes"]
    assert any("metadata" in p for p in master["processes"]), master
    for device, addresses in ((qr, "10.41.0.1/24"), (qg, cidr_of(gateway, 24))):
        assert any(line.startswith(device) and addresses in line and " UP " in line
                   for line in text.splitlines()), text

    backup = netns(lab, standby)[namespace]
    assert devices(backup) == {device_name("ha-", ha_port[standby]["id"]):
                               [cidr_of(ha_port[standby], 18)], qr: [], qg: []}
    assert backup["ha_state"] == "standby"
    assert backup["processes"] == ["keepalived"], backup


# -- a floating IP behind the HA router --------------------------------------------------------


def test_cli_a_floating_ip_on_a_server_behind_the_ha_router(
        lab: LiveCloud, neutron: Neutron, sdk: Any, ha_router: dict[str, Any],
        tenant_net: dict[str, str], server: dict[str, Any],
        floating_ip: dict[str, Any]) -> None:
    address = floating_ip["floating_ip_address"]
    assert ipaddress.ip_address(address) in ipaddress.ip_network("192.168.100.0/24")
    shown, fip = in_parallel(
        lambda: lab.openstack_json("server", "show", server["id"], "-c", "addresses"),
        lambda: lab.openstack_json("floating", "ip", "show", floating_ip["id"]))
    port = neutron.get("/v2.0/ports", device_id=server["id"])["ports"][0]
    # (Which fixed address the server has depends on the ports made before it: checked by
    # test_cli_a_servers_port_gets_the_address_after_the_dhcp_ports.)
    fixed = port["fixed_ips"][0]["ip_address"]
    assert shown["addresses"] == {tenant_net["name"]: [fixed, address]}
    assert fip["status"] == "ACTIVE", fip
    assert fip["fixed_ip_address"] == fixed
    assert fip["port_id"] == port["id"] and fip["router_id"] == ha_router["id"], fip
    assert fip["port_details"] == {
        "name": port["name"], "network_id": tenant_net["network_id"],
        "mac_address": port["mac_address"], "admin_state_up": True, "status": "ACTIVE",
        "device_id": server["id"], "device_owner": port["device_owner"]}
    assert port["device_owner"].startswith("compute:"), port
    body = neutron.get(f"/v2.0/floatingips/{floating_ip['id']}")
    assert_spec(body, "/v2.0/floatingips/{id}")
    assert sdk.network.get_ip(floating_ip["id"]).status == "ACTIVE"
    # keepalived puts the floating IP, as a /32, on the master's qg- device only.
    states = neutron.wait_elected(ha_router["id"])
    namespace = f"qrouter-{ha_router['id']}"
    gateway = [a for name, a in devices(netns(lab, active_host(states))[namespace]).items()
               if name.startswith("qg-")]
    assert gateway and f"{address}/32" in gateway[0], gateway
    standby = [a for name, a in devices(netns(lab, standby_host(states))[namespace]).items()
               if name.startswith("qg-")]
    assert standby == [[]], standby


# -- failover ----------------------------------------------------------------------------------


def test_cli_failover_when_the_active_node_goes_down_and_no_preemption_on_return(
        lab: LiveCloud, neutron: Neutron, ha_router: dict[str, Any],
        floating_ip: dict[str, Any]) -> None:
    router_id = ha_router["id"]
    states = neutron.wait_elected(router_id)
    old, new = active_host(states), standby_host(states)
    namespace = f"qrouter-{router_id}"
    try:
        assert stacklab(lab, "node", "down", old).strip() == f"{fqdn(old)} is down"
        after = wait_for(f"{new} takes over router {router_id}",
                         lambda: neutron.ha_states(router_id),
                         lambda s: s[new] == "active")
        # The powered-off node cannot report: until neutron sees its agent dead
        # (agent_down_time, 75 s) its binding still reads active ("two actives").
        assert after == {old: "active", new: "active"}
        _, rows = table(lab.openstack("network", "agent", "list", "--router", router_id,
                                      "--long").stdout)
        assert {short(r["Host"]): (r["Alive"], r["HA State"]) for r in rows} == {
            old: (":-)", "active"), new: (":-)", "active")}
        # The new master holds the addresses, the VIP and the floating IP.
        found = devices(netns(lab, new)[namespace])
        addresses = [a for addrs in found.values() for a in addrs]
        assert "10.41.0.1/24" in addresses, found
        assert f"{floating_ip['floating_ip_address']}/32" in addresses, found
        assert any(ipaddress.ip_interface(a).network == PRIMARY_VIP_RANGE
                   for a in addresses), found
        # The powered-off node shows nothing, through the CLI (JSON and text) and HTTP.
        assert netns(lab, old) == {} and netns_http(lab, old) == {}
        assert stacklab(lab, "netns", old).strip() == ""
    finally:
        up = stacklab(lab, "node", "up", old)
    assert up.strip() == f"{fqdn(old)} is up"
    # keepalived comes back as BACKUP and, with nopreempt, stays so: no second move.
    back = wait_for(f"{old} rejoins router {router_id} as standby",
                    lambda: neutron.ha_states(router_id),
                    lambda s: s == {old: "standby", new: "active"})
    time.sleep(0.5)  # 25 s of lab time: a preempting keepalived would have taken over
    assert neutron.ha_states(router_id) == back
    rejoined = devices(netns_http(lab, old)[namespace])
    assert [a for name, a in rejoined.items() if not name.startswith("ha-")] == [[], []], \
        rejoined


# -- bad input ---------------------------------------------------------------------------------


def test_cli_a_29_runs_out_of_addresses_after_the_dhcp_ports(
        lab: LiveCloud, neutron: Neutron) -> None:
    network_id, _ = neutron.network_with_subnet("10.43.0.0/29")
    # .1 is the gateway and .7 the broadcast; the two DHCP agents' ports take .2 and .3.
    dhcp = wait_for("two DHCP ports", lambda: neutron.get(
        "/v2.0/ports", network_id=network_id, device_owner="network:dhcp")["ports"],
        lambda ports: len(ports) == 2)
    assert sorted(p["fixed_ips"][0]["ip_address"] for p in dhcp) == ["10.43.0.2", "10.43.0.3"]
    taken = [neutron.create("ports", "port", network_id=network_id)["fixed_ips"][0]
             ["ip_address"] for _ in range(3)]
    assert taken == ["10.43.0.4", "10.43.0.5", "10.43.0.6"]
    message = f"No more IP addresses available on network {network_id}."
    result = lab.openstack("port", "create", "--network", network_id, unique("full"),
                           check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    response = neutron.call("POST", "/v2.0/ports", json={"port": {"network_id": network_id}})
    assert_neutron_error(response, 409, "IpAddressGenerationFailure", message)


def test_cli_deleting_a_network_with_ports_is_409_but_dhcp_ports_do_not_count(
        lab: LiveCloud, neutron: Neutron) -> None:
    network_id, _ = neutron.network_with_subnet("10.44.0.0/24")
    port = neutron.create("ports", "port", network_id=network_id)
    message = (f"Unable to complete operation on network {network_id}. There are one or more "
               "ports still in use on the network.")
    result = lab.openstack("network", "delete", network_id, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert_neutron_error(neutron.call("DELETE", f"/v2.0/networks/{network_id}"), 409,
                         "NetworkInUse", message)
    neutron.ok("DELETE", f"/v2.0/ports/{port['id']}", 204)
    # Only the DHCP agents' ports are left: neutron deletes them with the network.
    neutron.ok("DELETE", f"/v2.0/networks/{network_id}", 204)
    assert neutron.get("/v2.0/ports", network_id=network_id)["ports"] == []
    for node in NETWORK_NODES:
        assert f"qdhcp-{network_id}" not in netns_http(lab, node)


def test_cli_overlapping_cidrs_on_one_router_are_400(lab: LiveCloud, neutron: Neutron) -> None:
    _, first = neutron.network_with_subnet("10.45.0.0/24")
    _, second = neutron.network_with_subnet("10.45.0.0/25")  # overlap across networks is fine
    router = neutron.create("routers", "router", name=unique("ha-overlap"))
    neutron.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
               json={"subnet_id": first})
    message = (f"Bad router request: Cidr 10.45.0.0/25 of subnet {second} overlaps with cidr "
               f"10.45.0.0/24 of subnet {first}.")
    result = lab.openstack("router", "add", "subnet", router["id"], second, check=False)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    response = neutron.call("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                            json={"subnet_id": second})
    assert_neutron_error(response, 400, "BadRequest", message)


def test_the_same_subnet_twice_on_a_router_is_400(neutron: Neutron) -> None:
    _, subnet = neutron.network_with_subnet("10.46.0.0/24")
    router = neutron.create("routers", "router", name=unique("ha-twice"))
    path = f"/v2.0/routers/{router['id']}/add_router_interface"
    neutron.ok("PUT", path, json={"subnet_id": subnet})
    assert_neutron_error(neutron.call("PUT", path, json={"subnet_id": subnet}), 400,
                         "BadRequest",
                         f"Bad router request: Router already has a port on subnet {subnet}.")


def test_an_interface_needs_a_subnet_with_a_gateway(neutron: Neutron) -> None:
    _, subnet = neutron.network_with_subnet("10.47.0.0/24", gateway_ip=None)
    router = neutron.create("routers", "router", name=unique("ha-nogw"))
    response = neutron.call("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
                            json={"subnet_id": subnet})
    assert_neutron_error(response, 400, "BadRequest", "Bad router request: Subnet for router "
                         "interface must have a gateway IP.")


def test_cli_ha_cannot_change_on_an_active_router(lab: LiveCloud, neutron: Neutron) -> None:
    router = neutron.create("routers", "router", name=unique("ha-active"))
    result = lab.openstack("router", "set", "--no-ha", router["id"], check=False)
    assert result.returncode != 0 and BAD_HA_CHANGE in result.stderr, result.stderr
    response = neutron.call("PUT", f"/v2.0/routers/{router['id']}",
                            json={"router": {"ha": False}})
    error = assert_neutron_error(response, 400, "BadRequest")
    assert BAD_HA_CHANGE in error["message"], error
    assert neutron.get(f"/v2.0/routers/{router['id']}")["router"]["ha"] is True
    assert len(neutron.l3_agents(router["id"])) == 2


def test_the_ha_change_refusal_is_a_bad_router_request(neutron: Neutron) -> None:
    router = neutron.create("routers", "router", name=unique("ha-msg"))
    response = neutron.call("PUT", f"/v2.0/routers/{router['id']}",
                            json={"router": {"ha": False}})
    assert_neutron_error(response, 400, "BadRequest", f"Bad router request: {BAD_HA_CHANGE}.")


def test_cli_no_ha_works_once_the_router_is_disabled_and_back(
        lab: LiveCloud, neutron: Neutron) -> None:
    router = neutron.create("routers", "router", name=unique("ha-migrate"))
    _, subnet = neutron.network_with_subnet("10.48.0.0/24")
    neutron.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
               json={"subnet_id": subnet})
    lab.openstack("router", "set", "--disable", router["id"])
    lab.openstack("router", "set", "--no-ha", router["id"])
    shown = lab.openstack_json("router", "show", router["id"])
    assert shown["ha"] is False and shown["admin_state_up"] is False, shown
    # A legacy router: one L3 agent, no HA ports, a plain interface.
    assert len(neutron.l3_agents(router["id"])) == 1
    assert neutron.ha_ports(router["id"]) == []
    owners = [p["device_owner"] for p in neutron.get("/v2.0/ports", device_id=router["id"])
              ["ports"]]
    assert owners == ["network:router_interface"]
    # And back: HA again while down, then enabled, it elects a master.
    neutron.ok("PUT", f"/v2.0/routers/{router['id']}", json={"router": {"ha": True}})
    neutron.ok("PUT", f"/v2.0/routers/{router['id']}",
               json={"router": {"admin_state_up": True}})
    neutron.wait_elected(router["id"])
    owners = [p["device_owner"] for p in neutron.get("/v2.0/ports", device_id=router["id"])
              ["ports"] if p["device_owner"] != HA_INTERFACE]
    assert owners == [HA_REPLICATED_INTERFACE]


def test_a_disabled_router_keeps_status_active(lab: LiveCloud, neutron: Neutron) -> None:
    router = neutron.create("routers", "router", name=unique("ha-disabled"))
    lab.openstack("router", "set", "--disable", router["id"])
    shown = neutron.get(f"/v2.0/routers/{router['id']}")["router"]
    assert shown["admin_state_up"] is False
    assert shown["status"] == "ACTIVE", shown


def test_a_disabled_router_has_no_namespace(lab: LiveCloud, neutron: Neutron) -> None:
    router = neutron.create("routers", "router", name=unique("ha-nons"))
    neutron.wait_elected(router["id"])
    neutron.ok("PUT", f"/v2.0/routers/{router['id']}",
               json={"router": {"admin_state_up": False}})
    for node in NETWORK_NODES:
        assert f"qrouter-{router['id']}" not in netns_http(lab, node)


def test_a_legacy_routers_l3_agent_has_ha_state_null(neutron: Neutron) -> None:
    router = neutron.create("routers", "router", name=unique("ha-legacy"), ha=False)
    agents = neutron.l3_agents(router["id"])
    assert len(agents) == 1, agents
    assert "ha_state" in agents[0] and agents[0]["ha_state"] is None, agents[0]


# -- policy: what a member sees ----------------------------------------------------------------


@pytest.fixture(scope="module")
def member(lab: LiveCloud, sdk: Any) -> dict[str, Any]:
    name = unique("ha-member")
    project = sdk.identity.create_project(name=name, domain_id="default")
    user = sdk.identity.create_user(name=name, password="pw", domain_id="default",
                                    default_project_id=project.id)
    role = sdk.identity.find_role("member")
    sdk.identity.assign_project_role_to_user(project, user, role)
    return {"name": name, "project_id": project.id,
            "cli": ("--os-username", name, "--os-password", "pw", "--os-project-name", name),
            "token": token(lab, name, "pw", name)}


def test_cli_a_member_does_not_see_ha_or_distributed(
        lab: LiveCloud, neutron: Neutron, member: dict[str, Any]) -> None:
    created = lab.openstack_json(*member["cli"], "router", "create", unique("ha-mine"))
    assert created["project_id"] == member["project_id"]
    assert "ha" not in created and "distributed" not in created, created
    as_member = Neutron(lab, member["token"])
    try:
        body = as_member.get(f"/v2.0/routers/{created['id']}")
        assert_spec(body, "/v2.0/routers/{id}")
        assert "ha" not in body["router"] and "distributed" not in body["router"], body
        # The admin sees that it is HA (the lab's default) and that it was scheduled as such.
        assert neutron.get(f"/v2.0/routers/{created['id']}")["router"]["ha"] is True
        neutron.wait_elected(created["id"])
        # Asking for it is the admin's call.
        refused = lab.openstack(*member["cli"], "router", "create", "--ha", unique("ha-no"),
                                check=False)
        assert refused.returncode != 0, refused.stdout
        assert "(rule:create_router and rule:create_router:ha) is disallowed by policy" in \
            refused.stderr, refused.stderr
        response = as_member.call("POST", "/v2.0/routers",
                                  json={"router": {"name": unique("ha-no"), "ha": True}})
        assert_neutron_error(response, 403, "PolicyNotAuthorized", "(rule:create_router and "
                             "rule:create_router:ha) is disallowed by policy")
    finally:
        as_member.client.close()


def test_a_members_agent_list_is_empty(lab: LiveCloud, member: dict[str, Any]) -> None:
    as_member = Neutron(lab, member["token"])
    try:
        assert as_member.get("/v2.0/agents") == {"agents": []}
    finally:
        as_member.client.close()


# -- VRIDs -------------------------------------------------------------------------------------


def test_cli_two_ha_routers_of_a_project_get_different_vrids(
        lab: LiveCloud, neutron: Neutron, sdk: Any) -> None:
    project = new_project(sdk)
    routers = [neutron.create("routers", "router", name=unique("ha-vrid"), project_id=project)
               for _ in range(2)]
    states = {r["id"]: neutron.wait_elected(r["id"]) for r in routers}
    views = dict(zip(NETWORK_NODES, in_parallel(*[
        (lambda n=node: netns(lab, n)) for node in NETWORK_NODES]), strict=True))
    vips = {}
    for router in routers:
        master = views[active_host(states[router["id"]])][f"qrouter-{router['id']}"]
        found = [ipaddress.ip_interface(a) for name, addrs in devices(master).items()
                 if name.startswith("ha-") for a in addrs]
        vip = [a for a in found if a.network == PRIMARY_VIP_RANGE]
        assert len(vip) == 1, found
        vips[router["id"]] = vip[0]
    # neutron draws a free VRID of 1..254 per project HA network; stacklab takes the lowest.
    assert len(set(vips.values())) == 2, vips
    assert sorted(str(v) for v in vips.values()) == ["169.254.0.1/24", "169.254.0.2/24"]
    # Both routers share the project's one HA network, each with its own addresses.
    ports = [p for r in routers for p in neutron.ha_ports(r["id"])]
    assert len({p["network_id"] for p in ports}) == 1
    assert len({p["fixed_ips"][0]["ip_address"] for p in ports}) == 4
    assert len(neutron.get("/v2.0/networks", name=f"HA network project {project}")
               ["networks"]) == 1


def test_the_last_ha_router_takes_the_ha_network_with_it(neutron: Neutron, sdk: Any) -> None:
    project = new_project(sdk)
    router = neutron.create("routers", "router", name=unique("ha-last"), project_id=project)
    name = f"HA network project {project}"
    assert len(neutron.get("/v2.0/networks", name=name)["networks"]) == 1
    neutron.ok("DELETE", f"/v2.0/routers/{router['id']}", 204)
    assert neutron.ha_ports(router["id"]) == []
    assert neutron.get("/v2.0/networks", name=name)["networks"] == []


# -- agent liveness (a cloud of its own) -------------------------------------------------------


def test_a_dead_agents_active_binding_turns_standby(tmp_path: Path) -> None:
    config = tmp_path / "stacklab.ini"
    # Agents report every second of real time and are dead after 3 (lab seconds at 0.02).
    config.write_text("[stacklab]\nha_time_scale = 0.02\n\n[AGENT]\nreport_interval = 50\n\n"
                      "[DEFAULT]\nagent_down_time = 150\n")
    own = start_cloud(tmp_path, "--config", str(config))
    neutron = Neutron(own, token(own))
    try:
        time.sleep(3.5)  # past agent_down_time: reporting every second, all are alive
        agents = neutron.get("/v2.0/agents")["agents"]
        assert all(a["alive"] for a in agents), [(a["host"], a["agent_type"], a["alive"])
                                                 for a in agents]
        router = neutron.create("routers", "router", name="liveness")
        states = neutron.wait_elected(router["id"])
        old, new = active_host(states), standby_host(states)
        stacklab(own, "node", "down", old)
        # Once the server sees the agent dead, its active binding is rewritten to standby.
        wait_for("the dead agent's binding turns standby", lambda: neutron.l3_agents(
            router["id"]), lambda agents: {short(a["host"]): (a["alive"], a["ha_state"])
                                           for a in agents} == {old: (False, "standby"),
                                                                new: (True, "active")},
            timeout=8)
        stacklab(own, "node", "up", old)
        wait_for("the agent reports again", lambda: neutron.l3_agents(router["id"]),
                 lambda agents: all(a["alive"] for a in agents), timeout=4)
    finally:
        neutron.client.close()
        stop_cloud(own)
