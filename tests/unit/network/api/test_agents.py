"""``/v2.0/agents`` on the generic controller: filters (the agent type whatever its case,
``alive`` and the printed times as the bodies show them), sorting and pages in SQL, and the
agents' DHCP scheduling by hand."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from stacklab.cloud import Cloud
from stacklab.network import models as m
from unit.network.neutron_client import Neutron, expect_error

MISSING = "7c1c6ab9-3a52-4a8e-9d2b-1f0c2b0f4e11"


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


# -- the list, in SQL ------------------------------------------------------------------------


def _ids(body: dict[str, Any]) -> list[str]:
    return [a["id"] for a in body["agents"]]


def test_agents_are_sorted_and_paged_in_sql(cloud: Cloud, admin: Neutron) -> None:
    every = admin.ok("GET", "/v2.0/agents")["agents"]
    assert len(every) >= 4
    # Unsorted: by node, then by kind.
    assert [(a["host"], a["agent_type"]) for a in every] == sorted(
        (a["host"], a["agent_type"]) for a in every)
    by_type = admin.ok("GET", "/v2.0/agents?sort_key=agent_type&sort_dir=desc"
                              "&sort_key=host&sort_dir=asc")["agents"]
    assert [(a["agent_type"], a["host"]) for a in by_type] == sorted(
        ((a["agent_type"], a["host"]) for a in every),
        key=lambda pair: (_Desc(pair[0]), pair[1]))
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = cloud.network.db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        first = admin.ok("GET", "/v2.0/agents?limit=2&sort_key=host&sort_dir=desc")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # The page is cut by the database, not after loading every agent.
    assert any("network_agent" in s and "LIMIT" in s for s in statements), statements
    ordered = sorted(every, key=lambda a: (_Desc(a["host"]), a["agent_type"]))
    assert _ids(first) == [a["id"] for a in ordered[:2]]
    assert [link["rel"] for link in first["agents_links"]] == ["next", "previous"]
    second = admin.ok("GET", "/v2.0/agents?limit=2&sort_key=host&sort_dir=desc"
                             f"&marker={ordered[1]['id']}")
    assert _ids(second) == [a["id"] for a in ordered[2:4]]
    back = admin.ok("GET", "/v2.0/agents?limit=1&sort_key=host&sort_dir=desc"
                           f"&marker={ordered[2]['id']}&page_reverse=True")
    assert _ids(back) == [ordered[1]["id"]]
    expect_error(admin.call("GET", f"/v2.0/agents?limit=2&marker={MISSING}"), 404, "NotFound",
                 f"Marker {MISSING} could not be found.")
    expect_error(admin.call("GET", "/v2.0/agents?sort_key=alive&sort_dir=asc"), 400,
                 "HTTPBadRequest", "['alive'] is invalid attribute for sort_keys")
    trimmed = admin.ok("GET", "/v2.0/agents?fields=id&fields=host&limit=1")["agents"]
    assert trimmed == [{"id": every[0]["id"], "host": every[0]["host"]}]


class _Desc:
    """A string that sorts backwards (for one descending key among ascending ones)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __lt__(self, other: _Desc) -> bool:
        return self.text > other.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)


def test_agent_filters_match_what_the_bodies_show(cloud: Cloud, admin: Neutron) -> None:
    every = admin.ok("GET", "/v2.0/agents")["agents"]
    assert all(a["alive"] for a in every)
    down = every[0]
    with cloud.network.db.session() as session:
        # Its last report older than agent_down_time: neutron shows it dead.
        session.get(m.Agent, down["id"]).heartbeat_timestamp -= 1000
    assert _ids(admin.ok("GET", "/v2.0/agents?alive=False")) == [down["id"]]
    alive = admin.ok("GET", "/v2.0/agents?alive=true")["agents"]
    assert [a["id"] for a in alive] == [a["id"] for a in every[1:]]
    assert all(a["alive"] for a in alive)
    assert len(_ids(admin.ok("GET", "/v2.0/agents?alive=true&alive=false"))) == len(every)
    shown = admin.ok("GET", f"/v2.0/agents/{down['id']}")["agent"]
    assert shown["alive"] is False
    # Times filter as neutron prints them, to the second.
    printed = shown["heartbeat_timestamp"]
    assert _ids(admin.ok("GET", f"/v2.0/agents?heartbeat_timestamp={printed}")) == \
        [down["id"]]
    assert admin.ok("GET", "/v2.0/agents?created_at=not-a-time")["agents"] == []
    assert len(_ids(admin.ok("GET", "/v2.0/agents?resources_synced=None"))) == len(every)
    assert admin.ok("GET", "/v2.0/agents?resources_synced=true")["agents"] == []
    assert _ids(admin.ok("GET", f"/v2.0/agents?host={down['host']}&binary={down['binary']}"
                                f"&admin_state_up=True")) == [down["id"]]
    # Unknown attributes filter nothing, as neutron's controller ignores them.
    assert len(_ids(admin.ok("GET", "/v2.0/agents?no_such=1"))) == len(every)


def test_agents_update_and_delete_through_the_generic_controller(admin: Neutron) -> None:
    agent = admin.ok("GET", "/v2.0/agents?agent_type=L3 agent")["agents"][0]
    path = f"/v2.0/agents/{agent['id']}"
    updated = admin.ok("PUT", path, {"agent": {"admin_state_up": False,
                                               "description": "drained"}})["agent"]
    assert (updated["admin_state_up"], updated["description"]) == (False, "drained")
    assert "revision_number" not in updated
    assert _ids(admin.ok("GET", "/v2.0/agents?admin_state_up=false")) == [agent["id"]]
    expect_error(admin.call("PUT", path, {"agent": {"host": "elsewhere"}}), 400,
                 "HTTPBadRequest", "Unrecognized attribute(s) 'host'")
    admin.ok("DELETE", path, status=204)
    expect_error(admin.call("GET", path), 404, "AgentNotFound",
                 f"Agent {agent['id']} could not be found.")
    expect_error(admin.call("DELETE", path), 404, "AgentNotFound",
                 f"Agent {agent['id']} could not be found.")
