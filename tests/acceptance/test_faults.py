"""``stacklab fault`` and ``stacklab status`` against a live ``stacklab up --ephemeral``.

The cloud is this module's own (its faults would disturb the shared one), ephemeral:
the CLI finds it with ``--url`` and the admin credentials in the ``clouds.yaml`` entry
``stacklab up`` wrote, as an ephemeral cloud has no state dir to read. Its config
shortens neutron's liveness (agents report every second, dead after three) and runs
keepalived's timers 50 times faster, so what an operator waits minutes for in the real
lab settles here in seconds; tests poll for it rather than sleep.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud, wait_for

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]

DOMAIN = "openstack.local"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("faults")
    config = tmp / "stacklab.ini"
    # Every lab timer runs on the scaled clock: 50 and 150 lab seconds are 1 s and 3 s of
    # real time at 0.02, so a busy machine does not make a healthy agent miss its reports.
    config.write_text("[stacklab]\nha_time_scale = 0.02\n"
                      "[AGENT]\nreport_interval = 50\n"
                      "[DEFAULT]\nagent_down_time = 150\n")
    cloud = start_cloud(tmp, "--ephemeral", "--config", str(config))
    yield cloud
    stop_cloud(cloud)


def stacklab(lab: LiveCloud, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    return lab.stacklab(*args, check=ok)


def status(lab: LiveCloud) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(stacklab(lab, "status", "--json").stdout)
    return body




def agents_alive(body: dict[str, Any]) -> dict[tuple[str, str], str]:
    rows = next(s["rows"] for s in body["sections"] if s["name"] == "network_agents")
    return {(row[0], row[2]): row[3] for row in rows}


def test_a_stopped_agent_shows_in_the_status_until_healed(lab: LiveCloud) -> None:
    first = stacklab(lab, "status").stdout.splitlines()
    assert first[0] == f"endpoint {lab.url}  status ready"

    stopped = stacklab(lab, "fault", "stop", "network1", "neutron-dhcp-agent")
    assert stopped.stdout.strip() == "neutron-dhcp-agent stopped on network1"
    again = stacklab(lab, "fault", "stop", "network1", "neutron-dhcp-agent")
    assert again.stdout.strip().startswith("no change")
    assert stacklab(lab, "fault", "list").stdout.splitlines() == [
        f"stopped  neutron-dhcp-agent on network1.{DOMAIN}"]

    # Its reports stopped: neutron sees it dead after agent_down_time (3 s here).
    body = wait_for("network1's DHCP agent dead", lambda: status(lab),
                    lambda b: agents_alive(b)[(f"network1.{DOMAIN}",
                                               "neutron-dhcp-agent")] == "XXX")
    assert body["status"] == "degraded"
    assert agents_alive(body)[(f"network2.{DOMAIN}", "neutron-dhcp-agent")] == ":-)"
    text = stacklab(lab, "status").stdout
    assert "neutron-dhcp-agent(stopped)" in text
    assert "degraded  neutron-dhcp-agent is stopped on network1" in text

    # A restart starts it anew; heal leaves nothing in force.
    restarted = stacklab(lab, "fault", "restart", "network1", "neutron-dhcp-agent")
    assert restarted.stdout.strip() == \
        f"neutron-dhcp-agent restarted on network1.{DOMAIN}"
    stacklab(lab, "fault", "detach", "compute1", "overlay")
    stacklab(lab, "fault", "partition", "controller1", "controller2,arbiter")
    # controller1 alone is a Galera minority: the DB VIP's HAProxy sends its queries there
    # (500s, the CLI's token refused) until clustercheck marks it DOWN (fall x inter), as in
    # the real lab; then controller2 serves.
    wait_for("the CLI served again after the partition",
             lambda: stacklab(lab, "fault", "link", "controller1", "arbiter", "--latency", "0.2",
                              ok=False).returncode, lambda code: code == 0)
    listed = json.loads(stacklab(lab, "fault", "list", "--json").stdout)["faults"]
    assert listed["networks_detached"] == [{"node": f"compute1.{DOMAIN}", "network": "overlay"}]
    assert len(listed["cut"]) == 2 and len(listed["links"]) == 1
    assert stacklab(lab, "fault", "heal").stdout.strip() == "healed: every fault undone"
    assert stacklab(lab, "fault", "heal").stdout.strip() == "nothing to heal"
    assert stacklab(lab, "fault", "list").stdout.strip() == "no faults in force"
    wait_for("the lab ready again", lambda: status(lab)["status"], lambda s: s == "ready")


def test_a_clean_keepalived_stop_moves_an_ha_router_at_once(lab: LiveCloud) -> None:
    token = httpx.post(f"{lab.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
    ).headers["X-Subject-Token"]
    neutron = httpx.Client(base_url=f"{lab.url}/networking/v2.0",
                           headers={"X-Auth-Token": token}, timeout=30)
    router = neutron.post("/routers", json={"router": {"name": f"r-{uuid.uuid4().hex[:8]}"}})
    assert router.status_code == 201, router.text
    router_id = router.json()["router"]["id"]

    def ha_states() -> dict[str, str]:
        agents = neutron.get(f"/routers/{router_id}/l3-agents").json()["agents"]
        return {a["host"].split(".")[0]: a["ha_state"] for a in agents}

    try:
        states = wait_for("one active, one standby", ha_states,
                          lambda s: sorted(s.values()) == ["active", "standby"])
        old = next(host for host, state in states.items() if state == "active")
        new = next(host for host, state in states.items() if state == "standby")
        assert stacklab(lab, "fault", "stop", old, "keepalived").stdout.strip() == \
            f"keepalived stopped on {old}"
        wait_for(f"{new} takes over", ha_states, lambda s: s[new] == "active")
        node = next(n for n in status(lab)["nodes"] if n["name"] == old)
        assert node["service_states"]["keepalived"] == "stopped"
        assert node["service_states"]["neutron-l3-agent"] == "running"
    finally:
        stacklab(lab, "fault", "heal")
        neutron.delete(f"/routers/{router_id}")
        neutron.close()


def test_bad_faults_are_refused_with_the_apis_message(lab: LiveCloud) -> None:
    unknown = stacklab(lab, "fault", "power-off", "nowhere", ok=False)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "stacklab: Could not find node: nowhere. (HTTP 404)"
    wrong = stacklab(lab, "fault", "stop", "network1", "nova-compute", ok=False)
    assert wrong.stderr.strip() == \
        "stacklab: 'service': network1 runs no nova-compute (HTTP 400)"
    lossy = stacklab(lab, "fault", "link", "controller1", "arbiter", "--loss", "3", ok=False)
    assert "loss within 0..1 (HTTP 400)" in lossy.stderr
    no_pacemaker = stacklab(lab, "pcs", "standby", "proxy1", ok=False)
    assert no_pacemaker.returncode == 1
    assert "no Pacemaker cluster" in no_pacemaker.stderr and "(HTTP 409)" in no_pacemaker.stderr
    assert "Traceback" not in unknown.stderr + wrong.stderr + lossy.stderr + \
        no_pacemaker.stderr


def compute_states(lab: LiveCloud) -> dict[str, str]:
    rows = lab.openstack_json("compute", "service", "list", "--service", "nova-compute")
    return {row["Host"]: row["State"] for row in rows}


def test_a_paused_broker_makes_healthy_computes_look_down_until_it_heals(
        lab: LiveCloud) -> None:
    # The controllers cut from each other: the API still serves through the proxies (Galera
    # keeps its Primary Component through the arbiter both reach), but the two RabbitMQ
    # nodes each see half of the cluster and pause (pause_minority), so the computes'
    # reports, calls to a conductor over the broker, stop.
    assert set(compute_states(lab).values()) == {"up"}
    try:
        stacklab(lab, "fault", "partition", "controller1", "controller2")
        body = wait_for("both RabbitMQ nodes paused", lambda: status(lab), lambda b: [
            row[1] for row in next(s for s in b["sections"] if s["name"] == "rabbitmq")
            ["rows"]] == ["paused", "paused"])
        assert body["status"] == "degraded"
        text = stacklab(lab, "status").stdout
        assert "RabbitMQ (cluster_partition_handling pause_minority)" in text
        assert f"control plane: RabbitMQ node controller1.{DOMAIN} is paused" in text
        # service_down_time (60 lab s) after the last report got through: down, through
        # the real CLI.
        wait_for("the computes down", lambda: compute_states(lab),
                 lambda states: set(states.values()) == {"down"}, timeout=40)
    finally:
        stacklab(lab, "fault", "heal")
    # Healed: the brokers resume within a second, the computes reconnect on oslo's backoff
    # and report again.
    wait_for("the computes up again", lambda: compute_states(lab),
             lambda states: set(states.values()) == {"up"}, timeout=40)
    wait_for("the lab ready again", lambda: status(lab)["status"], lambda s: s == "ready",
             timeout=40)
