"""``[stacklab] ha_time_scale`` runs every timer of the lab's services, through the API.

At 0.1 (ten times faster) nova's computes report every second of real time and are
down 6 s after their last report (report_interval 10, service_down_time 60), neutron's
agents report every 3 s and are dead 7.5 s after theirs (30, 75), and the DHCP failover
moves a dead agent's networks after 2 x 7.5 s. What clients read stays wall-clock time:
``updated_at`` and ``heartbeat_timestamp`` are when the reports came.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from stacklab.config import Config
from support.inprocess import ephemeral_config, project_network
from unit.compute.test_server_lifecycle import COMPUTE1, COMPUTE2, Lab, heartbeats, run_lab

SCALE = 0.1
NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
# Virtual seconds of slack around each boundary (the scaled seconds are not exact in binary).
EPSILON = 0.05


def scaled_config() -> Config:
    config = ephemeral_config()
    config.stacklab.ha_time_scale = SCALE
    return config


def stamp(text: str) -> float:
    """A time as nova (naive UTC with microseconds) or neutron (naive UTC) prints it."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


async def computes(lab: Lab) -> dict[str, dict[str, Any]]:
    listed = await lab.request("GET", "/os-services?binary=nova-compute")
    return {s["host"]: s for s in listed["services"]}


async def agents(lab: Lab, agent_type: str) -> dict[str, dict[str, Any]]:
    answer = await lab.client.get("/networking/v2.0/agents", headers=lab.headers,
                                  params={"agent_type": agent_type})
    assert answer.status_code == 200, answer.text
    return {a["host"]: a for a in answer.json()["agents"]}


def test_a_silent_compute_is_down_after_a_tenth_of_service_down_time() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        server = await lab.create("s", availability_zone=f"nova:{COMPUTE2}")
        await lab.clock.run_for(30)
        assert (await lab.show(server))["status"] == "ACTIVE"
        # The reports come every second of real time, stamped with the wall clock.
        beats = {host: stamp(s["updated_at"]) for host, s in (await computes(lab)).items()}
        now = lab.clock.now()
        assert all(now - 1 - EPSILON <= beat <= now for beat in beats.values()), (now, beats)

        # compute2's last report came within the last second: up for at least 5 s more,
        # down 6 s after it.
        lab.cloud.node_down(COMPUTE2)
        await lab.clock.run_for(5 - EPSILON)
        assert {h: s["state"] for h, s in (await computes(lab)).items()} == {
            COMPUTE1: "up", COMPUTE2: "up"}
        # Still up: nova-api refuses to evacuate from it.
        await lab.request("POST", f"/servers/{server}/action", {"evacuate": {}}, expect=400)
        await lab.clock.run_for(1 + 2 * EPSILON)
        shown = await computes(lab)
        assert {h: s["state"] for h, s in shown.items()} == {COMPUTE1: "up", COMPUTE2: "down"}
        # Its last report is still when it came; compute1's keep coming.
        assert stamp(shown[COMPUTE2]["updated_at"]) == beats[COMPUTE2]
        assert lab.clock.now() - beats[COMPUTE2] > 6
        assert lab.clock.now() - stamp(shown[COMPUTE1]["updated_at"]) <= 1 + EPSILON
        await lab.request("POST", f"/servers/{server}/action", {"evacuate": {}})
        await lab.clock.run_for(10)
        assert (await lab.show(server))["OS-EXT-SRV-ATTR:host"] == COMPUTE1
        reports.cancel()

    run_lab(scenario, scaled_config())


def test_a_silent_agent_is_dead_after_a_tenth_of_agent_down_time() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        await lab.clock.run_for(30)
        shown = await agents(lab, "DHCP agent")
        now = lab.clock.now()
        # Every 3 s of real time, stamped with the wall clock.
        assert all(now - 3 - EPSILON <= stamp(a["heartbeat_timestamp"]) <= now
                   for a in shown.values()), (now, shown)

        lab.cloud.node_down(NETWORK1)
        # Its last report came within the last 3 s: alive for at least 4.5 s more.
        await lab.clock.run_for(4.5 - EPSILON)
        assert {h: a["alive"] for h, a in (await agents(lab, "DHCP agent")).items()} == {
            NETWORK1: True, NETWORK2: True}
        await lab.clock.run_for(3 + 2 * EPSILON)
        shown = await agents(lab, "DHCP agent")
        assert {h: a["alive"] for h, a in shown.items()} == {NETWORK1: False, NETWORK2: True}
        assert lab.clock.now() - stamp(shown[NETWORK1]["heartbeat_timestamp"]) > 7.5
        reports.cancel()

    run_lab(scenario, scaled_config())


def test_the_dhcp_failover_moves_a_dead_agents_network_ten_times_sooner() -> None:
    config = scaled_config()
    config.DEFAULT.dhcp_agents_per_network = 1

    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        network_id, _ = project_network(lab.cloud)
        await lab.clock.run_for(0)

        async def hosts() -> list[str]:
            answer = await lab.client.get(f"/networking/v2.0/networks/{network_id}"
                                          "/dhcp-agents", headers=lab.headers)
            assert answer.status_code == 200, answer.text
            return sorted(a["host"] for a in answer.json()["agents"])

        [first] = await hosts()
        lab.cloud.node_down(first)
        # neutron moves it once the agent's heartbeat is 2 x agent_down_time old (15 s
        # here), at its next check (every agent_down_time / 2: 3.7 s).
        await lab.clock.run_for(15 - 3 - EPSILON)
        assert await hosts() == [first]
        await lab.clock.run_for(3 + 3.7 + 2 * EPSILON)
        [second] = await hosts()
        assert second != first
        reports.cancel()

    run_lab(scenario, config)
