"""``/v2.0/agents`` filters: the agent type matches whatever its case."""

from __future__ import annotations

from unit.network.neutron_client import Neutron, expect_error


def test_the_agent_type_filter_ignores_case(admin: Neutron) -> None:
    exact = admin.ok("GET", "/v2.0/agents?agent_type=DHCP agent")["agents"]
    assert exact and {a["agent_type"] for a in exact} == {"DHCP agent"}
    # Tempest's DHCP scheduler tests ask for "DHCP Agent" (neutron on MySQL finds them).
    assert admin.ok("GET", "/v2.0/agents?agent_type=DHCP Agent")["agents"] == exact
    # Other attributes still match exactly.
    host = exact[0]["host"]
    assert admin.ok("GET", f"/v2.0/agents?host={host.upper()}")["agents"] == []


def test_an_admin_moves_a_network_between_dhcp_agents(admin: Neutron) -> None:
    network = admin.create("networks", "network", name="by-hand")
    agent = admin.ok("GET", "/v2.0/agents?agent_type=DHCP agent")["agents"][0]
    path = f"/v2.0/agents/{agent['id']}/dhcp-networks"
    response = admin.call("POST", path, {"network_id": network["id"]})
    assert (response.status_code, response.json()) == (201, None)
    assert [n["id"] for n in admin.ok("GET", path)["networks"]] == [network["id"]]
    hosting = admin.ok("GET", f"/v2.0/networks/{network['id']}/dhcp-agents")["agents"]
    assert [a["id"] for a in hosting] == [agent["id"]]
    expect_error(admin.call("POST", path, {"network_id": network["id"]}), 409,
                 "NetworkHostedByDHCPAgent", f"The network {network['id']} has been already "
                 f"hosted by the DHCP Agent {agent['id']}.")
    admin.ok("DELETE", f"{path}/{network['id']}", status=204)
    assert admin.ok("GET", path)["networks"] == []
    expect_error(admin.call("DELETE", f"{path}/{network['id']}"), 409,
                 "NetworkNotHostedByDhcpAgent", f"The network {network['id']} is not hosted "
                 f"by the DHCP Agent {agent['id']}.")


def test_only_an_enabled_dhcp_agent_takes_a_network(admin: Neutron) -> None:
    network = admin.create("networks", "network", name="by-hand")
    l3 = admin.ok("GET", "/v2.0/agents?agent_type=L3 agent")["agents"][0]
    expect_error(admin.call("POST", f"/v2.0/agents/{l3['id']}/dhcp-networks",
                            {"network_id": network["id"]}), 404, "InvalidDHCPAgent",
                 f"Agent {l3['id']} is not a valid DHCP Agent or has been disabled.")
