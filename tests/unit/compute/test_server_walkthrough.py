"""One server through every action, in-process, each answer checked against nova's schemas."""

from __future__ import annotations

import time
from typing import Any

from starlette.testclient import TestClient

from support.apiref import assert_nova_response
from support.inprocess import admin_token

VERSION = "2.96"


def _wait(client: TestClient, headers: dict[str, str], server_id: str,
          status: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(500):
        body = client.get(f"/compute/v2.1/servers/{server_id}", headers=headers).json()
        # Done: the status reached and no task under way (a snapshot shows ACTIVE meanwhile).
        if body["server"]["status"] == status and body["server"]["OS-EXT-STS:task_state"] \
                is None:
            return dict(body["server"])
        time.sleep(0.005)
    raise AssertionError(f"never reached {status}: {body}")


# (action body, status once done, flavor name once done)
STEPS: list[tuple[dict[str, Any], str, str]] = [
    ({"os-stop": None}, "SHUTOFF", "tiny128"),
    ({"os-start": None}, "ACTIVE", "tiny128"),
    ({"reboot": {"type": "HARD"}}, "ACTIVE", "tiny128"),
    ({"reboot": {"type": "SOFT"}}, "ACTIVE", "tiny128"),
    ({"pause": None}, "PAUSED", "tiny128"),
    ({"unpause": None}, "ACTIVE", "tiny128"),
    ({"suspend": None}, "SUSPENDED", "tiny128"),
    ({"resume": None}, "ACTIVE", "tiny128"),
    ({"rescue": None}, "RESCUE", "tiny128"),
    ({"unrescue": None}, "ACTIVE", "tiny128"),
    ({"resize": {"flavorRef": "84"}}, "VERIFY_RESIZE", "tiny192"),
    ({"confirmResize": None}, "ACTIVE", "tiny192"),
    ({"resize": {"flavorRef": "42"}}, "VERIFY_RESIZE", "tiny128"),
    ({"revertResize": None}, "ACTIVE", "tiny192"),
    ({"migrate": None}, "VERIFY_RESIZE", "tiny192"),
    ({"confirmResize": None}, "ACTIVE", "tiny192"),
    ({"os-migrateLive": {"host": None, "block_migration": "auto"}}, "ACTIVE", "tiny192"),
    ({"createImage": {"name": "walk-snap"}}, "ACTIVE", "tiny192"),
    ({"shelve": None}, "SHELVED_OFFLOADED", "tiny192"),
    ({"unshelve": None}, "ACTIVE", "tiny192"),
    ({"lock": {"locked_reason": "maintenance"}}, "ACTIVE", "tiny192"),
    ({"unlock": None}, "ACTIVE", "tiny192"),
    ({"os-resetState": {"state": "error"}}, "ERROR", "tiny192"),
    ({"os-resetState": {"state": "active"}}, "ACTIVE", "tiny192"),
]


def test_a_server_through_every_action(client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client), "OpenStack-API-Version": f"compute {VERSION}"}
    for flavor_id, name, ram in (("42", "tiny128", 128), ("84", "tiny192", 192)):
        created = client.post("/compute/v2.1/flavors", headers=headers, json={"flavor": {
            "name": name, "id": flavor_id, "ram": ram, "vcpus": 1, "disk": 1}})
        assert created.status_code == 200, created.text
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    created = client.post("/compute/v2.1/servers", headers=headers, json={"server": {
        "name": "walk", "imageRef": image, "flavorRef": "42", "networks": "none"}})
    assert created.status_code == 202, created.text
    assert_nova_response(created.json(), "/servers", "POST", VERSION)
    server_id = created.json()["server"]["id"]
    server = _wait(client, headers, server_id, "ACTIVE")
    assert_nova_response({"server": server}, "/servers/{id}", "GET", VERSION)
    hosts = {server["OS-EXT-SRV-ATTR:host"]}

    for body, status, flavor in STEPS:
        name = next(iter(body))
        answer = client.post(f"/compute/v2.1/servers/{server_id}/action", headers=headers,
                             json=body)
        assert answer.status_code in (200, 202, 204), (name, answer.text)
        if answer.content:
            assert_nova_response(answer.json(), "/servers/{id}/action", "POST", VERSION,
                                 action=name)
        server = _wait(client, headers, server_id, status)
        assert server["flavor"]["original_name"] == flavor, name
        assert server["OS-EXT-STS:task_state"] is None, name
        assert_nova_response({"server": server}, "/servers/{id}", "GET", VERSION)
        hosts.add(server["OS-EXT-SRV-ATTR:host"])
    # Cold and live migration moved it between the two computes (no host while offloaded).
    assert hosts - {None} == {"compute1.openstack.local", "compute2.openstack.local"}

    snapshots = [i for i in client.get("/image/v2/images", headers=headers).json()["images"]
                 if i["name"] == "walk-snap"]
    assert len(snapshots) == 1 and snapshots[0]["status"] == "active"
    assert snapshots[0]["instance_uuid"] == server_id
    # The shelved image goes away once the server is unshelved, as in nova.
    names = [i["name"] for i in client.get("/image/v2/images", headers=headers).json()["images"]]
    assert "walk-shelved" not in names

    console = client.post(f"/compute/v2.1/servers/{server_id}/action", headers=headers,
                          json={"os-getConsoleOutput": {"length": 2}})
    assert console.status_code == 200
    assert console.json()["output"].rstrip().endswith("walk login:")
    assert len(console.json()["output"].splitlines()) == 2

    actions = client.get(f"/compute/v2.1/servers/{server_id}/os-instance-actions",
                         headers=headers).json()
    assert_nova_response(actions, "/servers/{server_id}/os-instance-actions", "GET", VERSION)
    recorded = [a["action"] for a in actions["instanceActions"]]
    assert recorded[-1] == "create" and "live-migration" in recorded and "resize" in recorded
    _pages_of_actions(client, headers, server_id, recorded)

    deleted = client.delete(f"/compute/v2.1/servers/{server_id}", headers=headers)
    assert deleted.status_code == 204
    for _ in range(200):
        if client.get(f"/compute/v2.1/servers/{server_id}", headers=headers).status_code == 404:
            break
        time.sleep(0.005)
    else:
        raise AssertionError("server never went away")


def _pages_of_actions(client: TestClient, headers: dict[str, str], server_id: str,
                      recorded: list[str]) -> None:
    """2.58's limit and marker walk the newest-first list; a full page links on (nova's
    plain ``links``), an unknown marker is nova's 400; before 2.58 both are ignored."""
    url = f"/compute/v2.1/servers/{server_id}/os-instance-actions"
    walked: list[str] = []
    params: dict[str, str] = {"limit": "5"}
    while True:
        page = client.get(url, headers=headers, params=params).json()
        assert_nova_response(page, "/servers/{server_id}/os-instance-actions", "GET", VERSION)
        walked += [a["action"] for a in page["instanceActions"]]
        if "links" not in page:
            break
        assert len(page["instanceActions"]) == 5
        next_url = page["links"][0]["href"]
        assert "limit=5" in next_url
        params = {"limit": "5", "marker": next_url.rsplit("marker=", 1)[1]}
    assert walked == recorded
    unknown = client.get(url, headers=headers, params={"marker": "req-nope"})
    assert unknown.status_code == 400
    assert unknown.json()["badRequest"]["message"] == "Marker req-nope could not be found."
    old = client.get(url, params={"limit": "1", "marker": "req-nope"},
                     headers={**headers, "OpenStack-API-Version": "compute 2.57"})
    assert [a["action"] for a in old.json()["instanceActions"]] == recorded


def test_sub_resources_match_nova_schemas(client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client), "OpenStack-API-Version": f"compute {VERSION}"}
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    server_id = client.post("/compute/v2.1/servers", headers=headers, json={"server": {
        "name": "subs", "imageRef": image, "flavorRef": "1", "networks": "none"}}
    ).json()["server"]["id"]
    _wait(client, headers, server_id, "ACTIVE")
    base = f"/compute/v2.1/servers/{server_id}"
    template = "/servers/{server_id}"
    for method, path, body in (
        ("PUT", "/metadata", {"metadata": {"a": "1"}}),
        ("POST", "/metadata", {"metadata": {"b": "2"}}),
        ("GET", "/metadata", None),
        ("PUT", "/tags", {"tags": ["x", "y"]}),
        ("GET", "/tags", None),
        ("GET", "/os-instance-actions", None),
        ("POST", "/remote-consoles", {"remote_console": {"protocol": "vnc", "type": "novnc"}}),
    ):
        answer = client.request(method, base + path, headers=headers, json=body)
        assert answer.status_code == 200, (method, path, answer.text)
        assert_nova_response(answer.json(), template + path, method, VERSION)
    assert client.get(base + "/metadata", headers=headers).json() == {
        "metadata": {"a": "1", "b": "2"}}
    assert client.get(base + "/tags/x", headers=headers).status_code == 204
    assert client.get(base + "/tags/z", headers=headers).status_code == 404
    request_id = client.get(base + "/os-instance-actions", headers=headers).json()[
        "instanceActions"][-1]["request_id"]
    action = client.get(f"{base}/os-instance-actions/{request_id}", headers=headers).json()
    assert_nova_response(action, template + "/os-instance-actions/{id}", "GET", VERSION)
    assert [e["event"] for e in action["instanceAction"]["events"]] == [
        "conductor_schedule_and_build_instances", "compute__do_build_and_run_instance"]
    assert all(e["result"] == "Success" for e in action["instanceAction"]["events"])


def test_quota_sets_govern_creation(client: TestClient) -> None:
    headers = {"X-Auth-Token": admin_token(client), "OpenStack-API-Version": f"compute {VERSION}"}
    token_info = client.get("/identity/v3/auth/tokens", headers={
        "X-Auth-Token": headers["X-Auth-Token"], "X-Subject-Token": headers["X-Auth-Token"]})
    project = token_info.json()["token"]["project"]["id"]
    base = f"/compute/v2.1/os-quota-sets/{project}"
    for path, template in (("", "/os-quota-sets/{id}"), ("/detail", "/os-quota-sets/{id}/detail"),
                           ("/defaults", "/os-quota-sets/{id}/defaults")):
        answer = client.get(base + path, headers=headers)
        assert answer.status_code == 200, answer.text
        assert_nova_response(answer.json(), template, "GET", VERSION)
    updated = client.put(base, headers=headers, json={"quota_set": {"instances": 1}})
    assert updated.status_code == 200, updated.text
    assert_nova_response(updated.json(), "/os-quota-sets/{id}", "PUT", VERSION)
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    server = {"server": {"name": "q", "imageRef": image, "flavorRef": "1", "networks": "none"}}
    assert client.post("/compute/v2.1/servers", headers=headers, json=server).status_code == 202
    refused = client.post("/compute/v2.1/servers", headers=headers, json=server)
    assert refused.status_code == 403
    assert refused.json()["forbidden"]["message"] == (
        "Quota exceeded for instances: Requested 1, but already used 1 of 1 instances")
    detail = client.get(base + "/detail", headers=headers).json()["quota_set"]
    assert detail["instances"] == {"limit": 1, "in_use": 1, "reserved": 0}
    limits = client.get("/compute/v2.1/limits", headers=headers).json()["limits"]["absolute"]
    assert limits["maxTotalInstances"] == 1 and limits["totalInstancesUsed"] == 1
    assert client.delete(base, headers=headers).status_code == 202
    assert client.get(base, headers=headers).json()["quota_set"]["instances"] == 10
