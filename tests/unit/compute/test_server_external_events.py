"""``POST /os-server-external-events``, and neutron → nova through it (network-changed)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from support.inprocess import admin_token
from unit.network.neutron_client import Neutron, member

PATH = "/compute/v2.1/os-server-external-events"


def _headers(token: str, version: str = "2.1") -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"compute {version}"}


def _service_token(client: TestClient, user: str) -> str:
    answer = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": "secret"}}},
        "scope": {"project": {"name": "service", "domain": {"id": "default"}}}}})
    assert answer.status_code == 201, answer.text
    return answer.headers["X-Subject-Token"]


def _wait(client: TestClient, token: str, server_id: str, status: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(500):
        body = client.get(f"/compute/v2.1/servers/{server_id}", headers=_headers(token)).json()
        if body["server"]["status"] == status and body["server"]["OS-EXT-STS:task_state"] \
                is None:
            return dict(body["server"])
        time.sleep(0.005)
    raise AssertionError(f"never reached {status}: {body}")


def _boot(client: TestClient, token: str, networks: Any = "none") -> str:
    image = client.get("/image/v2/images", headers={"X-Auth-Token": token}).json()["images"][0]
    created = client.post("/compute/v2.1/servers", headers=_headers(token, "2.37"), json={
        "server": {"name": "ev", "imageRef": image["id"], "flavorRef": "1",
                   "networks": networks}})
    assert created.status_code == 202, created.text
    server_id: str = created.json()["server"]["id"]
    _wait(client, token, server_id, "ACTIVE")
    return server_id


UNKNOWN = "3f1d6b0e-93c5-4c1e-9c1a-0d6e1f1b2a77"


def test_only_a_service_user_or_an_admin_may_send_events(client: TestClient) -> None:
    admin = admin_token(client)
    user = member(client, Neutron(client, admin), "proj-ev")
    body = {"events": [{"name": "network-changed", "server_uuid": UNKNOWN}]}
    refused = client.post(PATH, headers=_headers(user.neutron.token), json=body)
    assert refused.status_code == 403, refused.text
    assert "forbidden" in refused.json()
    # neutron's own user gets through policy (and finds no such server).
    answer = client.post(PATH, headers=_headers(_service_token(client, "neutron")), json=body)
    assert answer.status_code == 404, answer.text
    assert answer.json() == {"itemNotFound": {
        "code": 404, "message": "No instances found for any event"}}


def test_each_event_is_answered_on_its_own(client: TestClient) -> None:
    admin = admin_token(client)
    server_id = _boot(client, admin)
    events = [
        {"name": "network-changed", "server_uuid": server_id, "tag": "port-1"},
        {"name": "network-vif-plugged", "server_uuid": UNKNOWN, "status": "completed"},
    ]
    answer = client.post(PATH, headers=_headers(admin), json={"events": events})
    assert answer.status_code == 207, answer.text
    assert answer.json() == {"events": [
        {"name": "network-changed", "server_uuid": server_id, "tag": "port-1",
         "status": "completed", "code": 200},
        {"name": "network-vif-plugged", "server_uuid": UNKNOWN, "status": "failed",
         "code": 404},
    ]}
    alone = client.post(PATH, headers=_headers(admin), json={"events": events[:1]})
    assert alone.status_code == 200, alone.text
    assert [e["code"] for e in alone.json()["events"]] == [200]


def test_a_server_on_no_host_cannot_take_events(client: TestClient) -> None:
    admin = admin_token(client)
    server_id = _boot(client, admin)
    shelved = client.post(f"/compute/v2.1/servers/{server_id}/action", headers=_headers(admin),
                          json={"shelve": None})
    assert shelved.status_code == 202, shelved.text
    assert _wait(client, admin, server_id, "SHELVED_OFFLOADED")["OS-EXT-SRV-ATTR:host"] is None
    events = [{"name": "network-changed", "server_uuid": server_id},
              {"name": "network-changed", "server_uuid": UNKNOWN}]
    answer = client.post(PATH, headers=_headers(admin), json={"events": events})
    # No event was taken: the whole answer is nova's 404, as upstream.
    assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(("version", "body", "message"), [
    ("2.1", {"events": [{"name": "power-update", "server_uuid": UNKNOWN}]},
     "Invalid input for field/attribute name. Value: power-update. 'power-update' is not one "
     "of ['network-changed', 'network-vif-plugged', 'network-vif-unplugged', "
     "'network-vif-deleted']"),
    ("2.1", {"events": []}, "Invalid input for field/attribute events. Value: []. [] should "
     "be non-empty"),
    ("2.1", {"events": [{"name": "network-changed"}]},
     "Invalid input for field/attribute 0. Value: {'name': 'network-changed'}. 'server_uuid' "
     "is a required property"),
    ("2.1", {"events": [{"name": "network-changed", "server_uuid": "not-a-uuid"}]},
     None),
    ("2.1", {"events": [{"name": "network-changed", "server_uuid": UNKNOWN,
                         "status": "done"}]}, None),
    ("2.1", {"events": [{"name": "network-changed", "server_uuid": UNKNOWN,
                         "tag": "t" * 256}]}, None),
    ("2.1", {"events": [{"name": "network-changed", "server_uuid": UNKNOWN, "x": 1}]}, None),
    ("2.1", {"event": []}, "'events' is a required property"),
])
def test_a_body_nova_would_refuse_is_400(client: TestClient, version: str, body: Any,
                                         message: str | None) -> None:
    answer = client.post(PATH, headers=_headers(admin_token(client), version), json=body)
    assert answer.status_code == 400, answer.text
    text = answer.json()["badRequest"]["message"]
    if message is not None:
        assert text == message
    else:
        assert text.startswith("Invalid input for field/attribute"), text


def test_later_microversions_take_later_event_names(client: TestClient) -> None:
    admin = admin_token(client)
    server_id = _boot(client, admin)
    for version, name in (("2.51", "volume-extended"), ("2.76", "power-update"),
                          ("2.82", "accelerator-request-bound"), ("2.93", "volume-reimaged")):
        body = {"events": [{"name": name, "server_uuid": server_id}]}
        earlier = f"2.{int(version.split('.')[1]) - 1}"
        assert client.post(PATH, headers=_headers(admin, earlier), json=body).status_code \
            == 400, name
        taken = client.post(PATH, headers=_headers(admin, version), json=body)
        assert taken.status_code == 200, taken.text


def test_a_floating_ip_reaches_server_show_through_neutrons_event(
        cloud: Cloud, client: TestClient) -> None:
    admin = admin_token(client)
    neutron = Neutron(client, admin)
    net = neutron.create("networks", "network", name="ev-net")
    subnet = neutron.create("subnets", "subnet", network_id=net["id"], ip_version=4,
                            cidr="10.77.0.0/24")
    public = neutron.ok("GET", "/v2.0/networks?name=public")["networks"][0]
    router = neutron.create("routers", "router", name="ev-router",
                            external_gateway_info={"network_id": public["id"]})
    neutron.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
               {"subnet_id": subnet["id"]})
    server_id = _boot(client, admin, [{"uuid": net["id"]}])
    port = neutron.ok("GET", f"/v2.0/ports?device_id={server_id}")["ports"][0]
    fip = neutron.create("floatingips", "floatingip", floating_network_id=public["id"],
                         port_id=port["id"])
    shown = client.get(f"/compute/v2.1/servers/{server_id}", headers=_headers(admin)).json()
    kinds = {(a["addr"], a["OS-EXT-IPS:type"]) for a in shown["server"]["addresses"]["ev-net"]}
    assert (fip["floating_ip_address"], "floating") in kinds
    # Taken away again: the server's addresses follow.
    neutron.ok("PUT", f"/v2.0/floatingips/{fip['id']}", {"floatingip": {"port_id": None}})
    shown = client.get(f"/compute/v2.1/servers/{server_id}", headers=_headers(admin)).json()
    assert [a["OS-EXT-IPS:type"] for a in shown["server"]["addresses"]["ev-net"]] == ["fixed"]
    assert cloud.unexpected_errors == 0
