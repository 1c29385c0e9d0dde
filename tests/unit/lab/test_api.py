"""``/stacklab/v1``'s fault routes and status: admin only, keystone's errors, one mechanism.

Every route that changes the lab hands an action to ``topology.actions``; these tests
check what each answers and that the runtime changed (what the services do about it
is tests/unit/test_cloud_service_faults.py's).
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from stacklab.lab.declaration import LAB
from stacklab.lab.status import DEGRADED, Problem, Section, StatusView
from support.inprocess import admin_token

NETWORK1 = "network1.openstack.local"
COMPUTE1 = "compute1.openstack.local"
NO_FAULTS = {"nodes_down": [], "services_stopped": [], "networks_detached": [], "cut": [],
             "links": []}


@pytest.fixture
def admin(client: TestClient) -> dict[str, str]:
    return {"X-Auth-Token": admin_token(client)}


def member(client: TestClient, admin: dict[str, str]) -> dict[str, str]:
    """A plain member of a project of its own."""
    project = client.post("/identity/v3/projects", headers=admin, json={"project": {
        "name": "lab-member", "domain_id": "default"}}).json()["project"]["id"]
    user = client.post("/identity/v3/users", headers=admin, json={"user": {
        "name": "lab-member", "domain_id": "default", "password": "pw"}}).json()["user"]["id"]
    role = client.get("/identity/v3/roles?name=member", headers=admin).json()["roles"][0]["id"]
    assert client.put(f"/identity/v3/projects/{project}/users/{user}/roles/{role}",
                      headers=admin).status_code == 204
    answer = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "lab-member", "domain": {"id": "default"}, "password": "pw"}}},
        "scope": {"project": {"id": project}}}})
    assert answer.status_code == 201, answer.text
    return {"X-Auth-Token": answer.headers["X-Subject-Token"]}


def error(answer: Any, status: int) -> str:
    """The message of an error in keystone's format, after checking its code."""
    assert answer.status_code == status, answer.text
    body = answer.json()["error"]
    assert body["code"] == status
    message: str = body["message"]
    return message


ROUTES = [
    ("POST", "/stacklab/v1/faults", {"action": "heal"}),
    ("POST", "/stacklab/v1/faults/heal", None),
    ("POST", "/stacklab/v1/nodes/network1/down", None),
    ("POST", "/stacklab/v1/nodes/network1/up", None),
    ("POST", "/stacklab/v1/nodes/network1/services/neutron-l3-agent/stop", None),
    ("POST", "/stacklab/v1/nodes/network1/services/neutron-l3-agent/start", None),
    ("POST", "/stacklab/v1/nodes/network1/services/neutron-l3-agent/restart", None),
    ("GET", "/stacklab/v1/faults", None),
    ("GET", "/stacklab/v1/status", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_fault_route_takes_an_admin_token(
        client: TestClient, cloud: Cloud, admin: dict[str, str], method: str, path: str,
        body: Any) -> None:
    assert error(client.request(method, path, json=body), 401)
    refused = client.request(method, path, json=body, headers=member(client, admin))
    assert "stacklab:admin" in error(refused, 403)
    assert cloud.runtime.faults() == NO_FAULTS


def test_a_fault_is_one_action_and_the_answer_lists_the_faults_in_force(
        client: TestClient, cloud: Cloud, admin: dict[str, str]) -> None:
    assert client.get("/stacklab/v1/faults", headers=admin).json() == {"faults": NO_FAULTS}
    stop = {"action": "stop_service", "node": "network1", "service": "neutron-dhcp-agent"}
    answer = client.post("/stacklab/v1/faults", headers=admin, json=stop)
    assert answer.status_code == 200, answer.text
    stopped = [{"node": NETWORK1, "service": "neutron-dhcp-agent"}]
    assert answer.json() == {"changed": True,
                             "faults": {**NO_FAULTS, "services_stopped": stopped}}
    assert not cloud.runtime.running(NETWORK1, "neutron-dhcp-agent")
    # The same again changes nothing.
    assert client.post("/stacklab/v1/faults", headers=admin, json=stop).json()["changed"] \
        is False
    detach = {"action": "detach", "node": "compute1", "network": "overlay"}
    assert client.post("/stacklab/v1/faults", headers=admin, json=detach).json()["changed"]
    partition = {"action": "partition", "sides": [["controller1"], ["controller2", "arbiter"]]}
    assert client.post("/stacklab/v1/faults", headers=admin, json=partition).json()["changed"]
    link = {"action": "set_link", "source": "controller1", "target": "arbiter",
            "latency": 0.25, "loss": 0.1}
    assert client.post("/stacklab/v1/faults", headers=admin, json=link).status_code == 200
    faults = client.get("/stacklab/v1/faults", headers=admin).json()["faults"]
    assert faults["networks_detached"] == [{"node": COMPUTE1, "network": "overlay"}]
    assert len(faults["cut"]) == 2
    assert faults["links"] == [{"nodes": ["arbiter.openstack.local",
                                          "controller1.openstack.local"],
                                "latency": 0.25, "loss": 0.1}]

    healed = client.post("/stacklab/v1/faults/heal", headers=admin)
    assert healed.json() == {"changed": True, "faults": NO_FAULTS}
    assert cloud.runtime.running(NETWORK1, "neutron-dhcp-agent")
    again = client.post("/stacklab/v1/faults", headers=admin, json={"action": "heal"})
    assert again.json() == {"changed": False, "faults": NO_FAULTS}


@pytest.mark.parametrize(("body", "status", "named"), [
    (None, 400, "JSON object"),
    ([{"action": "heal"}], 400, "JSON object"),
    ({}, 400, "'action'"),
    ({"action": "reboot"}, 400, "'action' must be one of"),
    ({"action": "power_off"}, 400, "'node'"),
    ({"action": "power_off", "node": "nowhere"}, 404, "Could not find node: nowhere."),
    ({"action": "stop_service", "node": "network1"}, 400, "'service'"),
    ({"action": "stop_service", "node": "network1", "service": "nova-compute"}, 400,
     "'service'"),
    ({"action": "detach", "node": "controller1", "network": "overlay"}, 400, "'network'"),
    ({"action": "partition", "sides": [["controller1"]]}, 400, "'sides'"),
    ({"action": "partition", "sides": [["controller1"], ["nowhere"]]}, 404, "nowhere"),
    ({"action": "set_link", "source": "controller1", "target": "arbiter", "loss": 2}, 400,
     "loss"),
    ({"action": "set_link", "source": "controller1"}, 400, "'target'"),
])
def test_a_bad_action_is_refused_naming_the_field(
        client: TestClient, cloud: Cloud, admin: dict[str, str], body: Any, status: int,
        named: str) -> None:
    answer = client.post("/stacklab/v1/faults", headers=admin, json=body)
    assert named in error(answer, status)
    assert cloud.runtime.faults() == NO_FAULTS


def test_malformed_json_is_a_400(client: TestClient, admin: dict[str, str]) -> None:
    answer = client.post("/stacklab/v1/faults", content=b"{not json",
                         headers={**admin, "Content-Type": "application/json"})
    assert error(answer, 400)


def test_a_nodes_process_stops_starts_and_restarts(
        client: TestClient, cloud: Cloud, admin: dict[str, str]) -> None:
    base = "/stacklab/v1/nodes/network1/services/neutron-l3-agent"
    stopped = client.post(f"{base}/stop", headers=admin)
    assert stopped.json() == {"node": NETWORK1, "service": "neutron-l3-agent",
                              "changed": True, "state": "stopped"}
    assert client.post(f"{base}/stop", headers=admin).json()["changed"] is False
    started = client.post(f"{base}/start", headers=admin).json()
    assert (started["changed"], started["state"]) == (True, "running")
    # A restart always starts the process anew, whether it ran or not.
    for _ in range(2):
        restarted = client.post(f"{base}/restart", headers=admin).json()
        assert (restarted["changed"], restarted["state"]) == (True, "running")
    assert cloud.runtime.faults() == NO_FAULTS
    # By FQDN too.
    fqdn = client.post(f"/stacklab/v1/nodes/{NETWORK1}/services/keepalived/stop",
                       headers=admin)
    assert fqdn.json()["state"] == "stopped"
    assert not cloud.runtime.running(NETWORK1, "keepalived")


def test_process_routes_refuse_unknown_nodes_processes_and_dead_nodes(
        client: TestClient, cloud: Cloud, admin: dict[str, str]) -> None:
    assert error(client.post("/stacklab/v1/nodes/nowhere/services/keepalived/stop",
                             headers=admin), 404) == "Could not find node: nowhere."
    assert error(client.post("/stacklab/v1/nodes/network1/services/nova-compute/stop",
                             headers=admin), 404) == \
        "Could not find service nova-compute on node network1."
    # An operation the lab does not have is answered as any service answers one (501).
    assert error(client.post("/stacklab/v1/nodes/network1/services/keepalived/reload",
                             headers=admin), 501)
    client.post("/stacklab/v1/nodes/network1/down", headers=admin)
    refused = client.post("/stacklab/v1/nodes/network1/services/keepalived/restart",
                          headers=admin)
    assert "powered off" in error(refused, 409)
    # Stopping one on a powered-off node is recorded: it stays stopped once powered on.
    stopped = client.post("/stacklab/v1/nodes/network1/services/keepalived/stop",
                          headers=admin)
    assert stopped.json()["changed"] is True
    client.post("/stacklab/v1/nodes/network1/up", headers=admin)
    assert not cloud.runtime.running(NETWORK1, "keepalived")
    assert cloud.runtime.running(NETWORK1, "neutron-l3-agent")


def test_node_power_routes_keep_their_answers(client: TestClient, cloud: Cloud,
                                              admin: dict[str, str]) -> None:
    down = client.post("/stacklab/v1/nodes/compute1/down", headers=admin)
    assert down.json() == {"node": COMPUTE1, "state": "down"}
    assert client.get("/stacklab/v1/faults", headers=admin).json()["faults"]["nodes_down"] \
        == [COMPUTE1]
    assert client.post("/stacklab/v1/nodes/compute1/down", headers=admin).json() == down.json()
    assert client.post("/stacklab/v1/nodes/compute1/up", headers=admin).json() == {
        "node": COMPUTE1, "state": "up"}
    assert error(client.post("/stacklab/v1/nodes/nowhere/up", headers=admin), 404) == \
        "Could not find node: nowhere."


def test_status_gives_a_verdict_from_nodes_processes_and_faults(
        client: TestClient, admin: dict[str, str]) -> None:
    status = client.get("/stacklab/v1/status", headers=admin).json()
    assert (status["status"], status["problems"], status["faults"]) == ("ready", [], NO_FAULTS)
    assert status["endpoint"] == "http://testserver"
    assert len(status["nodes"]) == 12
    assert [s["name"] for s in status["sections"]] == [
        "vips", "haproxy", "galera", "rabbitmq", "ceph", "network_agents",
        "compute_services", "volume_services"]

    client.post("/stacklab/v1/nodes/storage2/down", headers=admin)
    client.post("/stacklab/v1/faults", headers=admin, json={
        "action": "detach", "node": "compute2", "network": "overlay"})
    status = client.get("/stacklab/v1/status", headers=admin).json()
    assert status["status"] == "degraded"
    ceph = [p for p in status["problems"] if p["message"].startswith("ceph ")]
    assert [p for p in status["problems"] if p not in ceph] == [
        {"severity": "degraded", "message": "storage2 is powered off"},
        {"severity": "degraded",
         "message": "compute2.openstack.local is detached from overlay"}]
    # Its monitor is gone at once; its OSD is marked down after the heartbeat grace.
    assert {"severity": "degraded", "message": "ceph MON_DOWN: 1/3 mons down, quorum "
                                               "storage1,arbiter"} in ceph
    storage2 = next(n for n in status["nodes"] if n["name"] == "storage2")
    assert (storage2["state"], storage2["service_states"]) == ("down", {"ceph-osd": "stopped"})

    # The load balancers both off: nothing reaches the APIs.
    for node in ("proxy1", "proxy2"):
        client.post(f"/stacklab/v1/nodes/{node}/down", headers=admin)
    status = client.get("/stacklab/v1/status", headers=admin).json()
    assert status["status"] == "down"
    assert {"severity": "down", "message": "no haproxy runs anywhere"} in status["problems"]


def test_another_part_of_the_lab_adds_a_section_to_the_status(
        client: TestClient, cloud: Cloud, admin: dict[str, str]) -> None:
    async def vips(view: StatusView) -> Section:
        nodes = [node.fqdn for node in view.topology.nodes_with_role("proxy")]
        return Section("vips", "virtual IPs", ["vip", "holder"], [["public", nodes[0]]],
                       [Problem(DEGRADED, "the internal VIP has no holder")])

    cloud.get(LAB).add_section(vips)
    status = client.get("/stacklab/v1/status", headers=admin).json()
    assert status["sections"][-1] == {
        "name": "vips", "title": "virtual IPs", "columns": ["vip", "holder"],
        "rows": [["public", "proxy1.openstack.local"]],
        "problems": [{"severity": "degraded", "message": "the internal VIP has no holder"}]}
    assert status["status"] == "degraded"


def test_ha_shows_the_vip_holder_galera_and_the_ha_routers_keepalived(
        client: TestClient, admin: dict[str, str]) -> None:
    assert client.get("/stacklab/v1/ha").status_code == 401
    router = client.post("/networking/v2.0/routers", headers=admin,
                         json={"router": {"name": "r1", "ha": True}}).json()["router"]
    body = client.get("/stacklab/v1/ha", headers=admin).json()
    assert body["keepalived"]["holder"] == "proxy1.openstack.local"
    assert sorted(body["galera"]["primary_component"]) == [
        "arbiter.openstack.local", "controller1.openstack.local",
        "controller2.openstack.local"]
    assert {entry["node"] for entry in body["routers"][router["id"]]} == {
        "network1.openstack.local", "network2.openstack.local"}
    assert body["time_scale"] == 1.0


ADMIN_LOGIN = {"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}


def test_the_console_login_refuses_as_keystone_does(client: TestClient) -> None:
    # (That it works with the cloud's way in closed: tests/unit/ha/test_request_path.py.)
    assert client.post("/stacklab/v1/auth/tokens", json=ADMIN_LOGIN).status_code == 201
    wrong = {"auth": {**ADMIN_LOGIN["auth"], "identity": {
        "methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "wrong"}}}}}
    refused = client.post("/stacklab/v1/auth/tokens", json=wrong)
    assert "X-Subject-Token" not in refused.headers
    assert error(refused, 401)
    assert error(client.post("/stacklab/v1/auth/tokens", json={"auth": {}}), 400)
