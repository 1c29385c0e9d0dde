"""``/v2.0/agents`` filters: the agent type matches whatever its case."""

from __future__ import annotations

from unit.network.neutron_client import Neutron


def test_the_agent_type_filter_ignores_case(admin: Neutron) -> None:
    exact = admin.ok("GET", "/v2.0/agents?agent_type=DHCP agent")["agents"]
    assert exact and {a["agent_type"] for a in exact} == {"DHCP agent"}
    # Tempest's DHCP scheduler tests ask for "DHCP Agent" (neutron on MySQL finds them).
    assert admin.ok("GET", "/v2.0/agents?agent_type=DHCP Agent")["agents"] == exact
    # Other attributes still match exactly.
    host = exact[0]["host"]
    assert admin.ok("GET", f"/v2.0/agents?host={host.upper()}")["agents"] == []
