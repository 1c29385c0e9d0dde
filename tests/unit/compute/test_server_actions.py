"""Server actions and sub-resources over HTTP, checked against nova's own schemas per version.

createBackup (Location before 2.45, the image id from it; rotation through glance),
restore and forceDelete, the deprecated floating IP actions (gone at 2.44),
injectNetworkInfo, os-server-password, diagnostics (free-form before 2.48,
nova's standard shape from it), and what every compute answer carries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from stacklab.compute import models as m
from support.apiref import (
    assert_nova_response,
    nova_request_schema,
    nova_response_schema,
    nova_success_code,
)
from unit.compute.nova_calls import BASE, NOT_FOUND, action, at
from unit.network.neutron_client import Neutron


def show(client: TestClient, token: str, server: str) -> dict[str, Any]:
    answer = client.get(f"{BASE}/servers/{server}", headers=at(token, "2.96"))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()["server"]
    return body


def settled(client: TestClient, token: str, server: str) -> dict[str, Any]:
    """The server once no task is under way (a snapshot answers before it is done)."""
    for _ in range(400):
        body = show(client, token, server)
        if body["OS-EXT-STS:task_state"] is None:
            return body
        time.sleep(0.005)
    raise AssertionError(f"{server} still busy: {body['OS-EXT-STS:task_state']}")


def eventually(check: Callable[[], bool]) -> None:
    for _ in range(400):
        if check():
            return
        time.sleep(0.005)
    raise AssertionError("never came true")


def backups(client: TestClient, token: str, server: str) -> list[dict[str, Any]]:
    listed = client.get("/image/v2/images", headers={"X-Auth-Token": token}, params={
        "image_type": "backup", "instance_uuid": server, "sort_key": "created_at",
        "sort_dir": "asc"})
    images: list[dict[str, Any]] = listed.json()["images"]
    return images


# -- every answer -------------------------------------------------------------------------------


def test_every_compute_answer_carries_x_compute_request_id(client: TestClient,
                                                           token: str) -> None:
    for path, status in (("/servers", 200), ("/servers/nope", 404), ("/no-such-thing", 501)):
        answer = client.get(BASE + path, headers=at(token, "2.1"))
        assert answer.status_code == status
        assert answer.headers["x-compute-request-id"] == \
            answer.headers["x-openstack-request-id"]
        assert answer.headers["x-compute-request-id"].startswith("req-")
    # Only nova's: glance answers without it.
    assert "x-compute-request-id" not in client.get(
        "/image/v2/images", headers={"X-Auth-Token": token}).headers


# -- createBackup -------------------------------------------------------------------------------


def test_create_backup_answers_per_version_and_rotates(client: TestClient, token: str,
                                                       server: str) -> None:
    body = {"createBackup": {"name": "b1", "backup_type": "daily", "rotation": 2}}
    old = action(client, token, server, "2.1", body)
    assert old.status_code == nova_success_code("/servers/{id}/action", "POST", "2.1",
                                                action="createBackup")
    assert old.content == b""
    image_id = old.headers["location"].rsplit("/", 1)[1]
    assert old.headers["location"].endswith(f"/compute/v2.1/images/{image_id}")
    settled(client, token, server)
    new = action(client, token, server, "2.45", {"createBackup": {**body["createBackup"],
                                                                  "name": "b2"}})
    assert new.status_code == 202
    assert_nova_response(new.json(), "/servers/{id}/action", "POST", "2.45",
                         action="createBackup")
    assert "location" not in new.headers
    settled(client, token, server)
    third = action(client, token, server, "2.45", {"createBackup": {**body["createBackup"],
                                                                    "name": "b3"}})
    settled(client, token, server)
    # Rotation 2: two are left, the one just made among them, all active, all "daily".
    eventually(lambda: len(backups(client, token, server)) == 2)
    kept = backups(client, token, server)
    assert third.json()["image_id"] in {i["id"] for i in kept}
    assert {(i["status"], i["backup_type"], i["image_type"]) for i in kept} == {
        ("active", "daily", "backup")}
    actions = client.get(f"{BASE}/servers/{server}/os-instance-actions",
                         headers=at(token, "2.96")).json()["instanceActions"]
    assert [a["action"] for a in actions][:3] == ["createBackup"] * 3


def test_create_backup_with_rotation_zero_keeps_nothing_and_gives_no_location(
        client: TestClient, token: str, server: str) -> None:
    answer = action(client, token, server, "2.1", {"createBackup": {
        "name": "gone", "backup_type": "weekly", "rotation": "0"}})
    assert answer.status_code == 202, answer.text
    assert "location" not in answer.headers
    settled(client, token, server)
    eventually(lambda: backups(client, token, server) == [])


@pytest.mark.parametrize("args", [
    {"name": "b", "backup_type": "daily"},
    {"name": "b", "backup_type": "daily", "rotation": -1},
    {"name": "b", "backup_type": "daily", "rotation": "two"},
])
def test_create_backup_checks_its_arguments(client: TestClient, token: str, server: str,
                                            args: dict[str, Any]) -> None:
    answer = action(client, token, server, "2.1", {"createBackup": args})
    assert answer.status_code == 400
    assert answer.json()["badRequest"]["message"].startswith("Invalid input for field")


def test_a_second_image_while_the_first_is_made_is_409(client: TestClient, token: str,
                                                       server: str) -> None:
    # nova answers while the image uploads (the fast profile's upload takes a moment).
    first = action(client, token, server, "2.45", {"createImage": {"name": "first"}})
    assert first.status_code == 202, first.text
    for body in ({"createImage": {"name": "again"}},
                 {"createBackup": {"name": "again", "backup_type": "daily", "rotation": 1}}):
        answer = action(client, token, server, "2.1", body)
        assert answer.status_code == 409
        assert answer.json()["conflictingRequest"]["message"].startswith(
            f"Cannot '{next(iter(body))}' instance {server} while it is in task_state image_")
    settled(client, token, server)
    image = client.get(f"/image/v2/images/{first.json()['image_id']}",
                       headers={"X-Auth-Token": token}).json()
    assert image["status"] == "active"


def test_create_image_s_location_is_glance_s_address_of_the_image(
        cloud: Cloud, client: TestClient, token: str, server: str) -> None:
    """Before 2.45, the Location nova answers is the image's in glance, under the catalog's
    image endpoint (its own port where glance runs apart), not nova's address."""
    assert cloud.compute.image_endpoint == f"{cloud.base_url}/image"
    cloud.compute.image_endpoint = "http://glance.example:9292/image"
    answer = action(client, token, server, "2.1", {"createImage": {"name": "snap"}})
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    prefix = "http://glance.example:9292/image/v2/images/"
    assert location.startswith(prefix)
    settled(client, token, server)
    image = client.get(f"/image/v2/images/{location[len(prefix):]}",
                       headers={"X-Auth-Token": token})
    assert image.status_code == 200 and image.json()["name"] == "snap"


# -- restore and forceDelete ------------------------------------------------------------------


def test_restore_is_only_for_soft_deleted_servers(client: TestClient, token: str,
                                                  server: str) -> None:
    answer = action(client, token, server, "2.1", {"restore": None})
    assert (answer.status_code, answer.json()) == (409, {"conflictingRequest": {
        "code": 409,
        "message": f"Cannot 'restore' instance {server} while it is in vm_state active"}})
    missing = action(client, token, "0" * 32, "2.1", {"restore": {}})
    assert missing.status_code == 404


def test_force_delete_deletes_an_active_server_at_once(client: TestClient, token: str,
                                                       server: str) -> None:
    answer = action(client, token, server, "2.1", {"forceDelete": None})
    assert (answer.status_code, answer.content) == (202, b"")
    gone = client.get(f"{BASE}/servers/{server}", headers=at(token, "2.1"))
    assert gone.status_code == 404
    assert action(client, token, server, "2.1", {"forceDelete": None}).status_code == 404


# -- floating IPs, network info ------------------------------------------------------------


def test_floating_ip_actions_end_at_2_43_and_need_the_servers_network(
        client: TestClient, token: str, server: str) -> None:
    add = {"addFloatingIp": {"address": "192.168.100.10"}}
    gone = action(client, token, server, "2.44", add)
    assert (gone.status_code, gone.json()) == (404, NOT_FOUND)
    # A server with no ports has no fixed address to put it on.
    early = action(client, token, server, "2.43", add)
    assert (early.status_code, early.json()["badRequest"]["message"]) == (
        400, "Instance network is not ready yet")
    bad = action(client, token, server, "2.43", {"addFloatingIp": {"address": "x"}})
    assert bad.status_code == 400
    remove = action(client, token, server, "2.43",
                    {"removeFloatingIp": {"address": "192.168.100.10"}})
    assert (remove.status_code, remove.json()) == (404, {"itemNotFound": {
        "code": 404, "message": "floating IP not found"}})


def test_inject_network_info_is_an_admins_202(client: TestClient, token: str,
                                              server: str) -> None:
    answer = action(client, token, server, "2.1", {"injectNetworkInfo": None})
    assert (answer.status_code, answer.content) == (202, b"")


# -- os-server-password and diagnostics ---------------------------------------------------


def test_server_password_is_empty_and_clears(client: TestClient, token: str,
                                             server: str) -> None:
    path = f"{BASE}/servers/{server}/os-server-password"
    shown = client.get(path, headers=at(token, "2.1"))
    assert shown.status_code == 200
    assert_nova_response(shown.json(), "/servers/{server_id}/os-server-password", "GET", "2.1")
    assert shown.json() == {"password": ""}
    cleared = client.delete(path, headers=at(token, "2.1"))
    assert (cleared.status_code, cleared.content) == (204, b"")
    missing = client.get(f"{BASE}/servers/nope/os-server-password", headers=at(token, "2.1"))
    assert missing.status_code == 404


def test_diagnostics_are_free_form_before_2_48_then_novas_standard(
        client: TestClient, token: str, server: str) -> None:
    path = f"{BASE}/servers/{server}/diagnostics"
    old = client.get(path, headers=at(token, "2.47"))
    assert old.status_code == 200, old.text
    assert_nova_response(old.json(), "/servers/{server_id}/diagnostics", "GET", "2.47")
    assert {"cpu0_time", "memory", "vda_read"} <= set(old.json())
    assert old.json()["memory"] == 512 * 1024  # m1.tiny, in KiB
    new = client.get(path, headers=at(token, "2.48"))
    assert new.status_code == 200, new.text
    assert_nova_response(new.json(), "/servers/{server_id}/diagnostics", "GET", "2.48")
    assert (new.json()["state"], new.json()["driver"], new.json()["num_cpus"],
            new.json()["memory_details"]["maximum"]) == ("running", "libvirt", 1, 512)
    # A guest that does not run reports nothing: nova's 409 names its power state.
    assert action(client, token, server, "2.1", {"os-stop": None}).status_code == 202
    stopped = client.get(path, headers=at(token, "2.48"))
    assert (stopped.status_code, stopped.json()["conflictingRequest"]["message"]) == (
        409, f"Cannot 'get_diagnostics' instance {server} while it is in power state shutdown")


# -- create, resize, list ------------------------------------------------------------------


def test_access_ips_are_kept_in_netaddrs_form(client: TestClient, token: str,
                                              server: str) -> None:
    updated = client.put(f"{BASE}/servers/{server}", headers=at(token, "2.1"), json={
        "server": {"accessIPv4": "1.1.1.1", "accessIPv6": "0000:0000::BABE:202:0202"}})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["server"]["accessIPv4"], updated.json()["server"]["accessIPv6"]) \
        == ("1.1.1.1", "::babe:202:202")
    assert show(client, token, server)["accessIPv6"] == "::babe:202:202"


def test_resize_takes_the_disk_config(client: TestClient, token: str, server: str) -> None:
    answer = action(client, token, server, "2.1", {"resize": {
        "flavorRef": "2", "OS-DCF:diskConfig": "AUTO"}})
    assert answer.status_code == 202, answer.text
    assert show(client, token, server)["OS-DCF:diskConfig"] == "AUTO"


def test_deleting_a_resized_server_has_its_source_compute_let_the_old_guest_go(
        cloud: Cloud, client: TestClient, token: str, server: str) -> None:
    """nova-api confirms the resize first through the source compute (confirm_resize): the
    guest left there goes from that compute's hypervisor, whichever process runs it."""
    source = show(client, token, server)["OS-EXT-SRV-ATTR:host"]
    assert action(client, token, server, "2.1", {"resize": {"flavorRef": "2"}}
                  ).status_code == 202
    eventually(lambda: show(client, token, server)["status"] == "VERIFY_RESIZE")
    assert server in cloud.compute.agents[source].hypervisor.domains
    assert client.delete(f"{BASE}/servers/{server}",
                         headers=at(token, "2.1")).status_code == 204
    eventually(lambda: client.get(f"{BASE}/servers/{server}",
                                  headers=at(token, "2.1")).status_code == 404)
    assert server not in cloud.compute.agents[source].hypervisor.domains
    with cloud.compute.db.session() as session:
        statuses = [status for (status,) in session.execute(select(m.Migration.status).where(
            m.Migration.instance_uuid == server))]
    assert statuses == ["confirmed"]


def test_tenant_id_without_all_tenants_lists_the_callers_own(
        client: TestClient, token: str, server: str, cloud: Cloud) -> None:
    with cloud.compute.db.session() as session:
        instance = cloud.compute.instances.find(session, server)
        assert instance is not None
        instance.project_id = "someone-else"
    headers = at(token, "2.1")
    assert client.get(f"{BASE}/servers", headers=headers,
                      params={"tenant_id": "someone-else"}).json()["servers"] == []
    listed = client.get(f"{BASE}/servers", headers=headers,
                        params={"tenant_id": "someone-else", "all_tenants": "1"})
    assert [s["id"] for s in listed.json()["servers"]] == [server]


def test_the_console_log_tail_is_novas(client: TestClient, token: str, server: str) -> None:
    def output(length: Any) -> str:
        answer = action(client, token, server, "2.1", {"os-getConsoleOutput": {
            "length": length}})
        assert answer.status_code == 200, answer.text
        text: str = answer.json()["output"]
        return text

    full = output(None)
    assert full.endswith("] s login:") and len(full.split("\n")) > 10
    assert len(output(10).split("\n")) == 10
    assert output("3") == "\n".join(full.split("\n")[-3:])
    assert output(0) == ""
    # nova cuts -length lines: -1 drops the first line rather than meaning "all of it".
    assert output(-1) == "\n".join(full.split("\n")[1:])
    refused = action(client, token, server, "2.1", {"os-getConsoleOutput": {"length": -2}})
    assert refused.status_code == 400


# -- flavors -------------------------------------------------------------------------------


@pytest.mark.parametrize(("sent", "public"), [
    ("True", True), ("true", True), ("1", True), ("yes", True), ("on", True), (True, True),
    ("False", False), ("off", False), (False, False)])
def test_flavor_is_public_takes_novas_boolean_strings(client: TestClient, token: str,
                                                      sent: Any, public: bool) -> None:
    created = client.post(f"{BASE}/flavors", headers=at(token, "2.1"), json={"flavor": {
        "name": f"pub-{sent}", "ram": 64, "vcpus": 1, "disk": 1,
        "os-flavor-access:is_public": sent}})
    assert created.status_code == 200, created.text
    assert created.json()["flavor"]["os-flavor-access:is_public"] is public


def test_flavor_is_public_refuses_other_strings(client: TestClient, token: str) -> None:
    refused = client.post(f"{BASE}/flavors", headers=at(token, "2.1"), json={"flavor": {
        "name": "maybe", "ram": 64, "vcpus": 1, "disk": 1,
        "os-flavor-access:is_public": "maybe"}})
    assert refused.status_code == 400


@pytest.mark.parametrize("networks", ["none", "auto"])
def test_a_create_naming_an_unknown_security_group_is_400(client: TestClient, token: str,
                                                         networks: str) -> None:
    headers = at(token, "2.37")
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    answer = client.post(f"{BASE}/servers", headers=headers, json={"server": {
        "name": "sg", "imageRef": image, "flavorRef": "1", "networks": networks,
        "security_groups": [{"name": "does_not_exist"}]}})
    assert (answer.status_code, answer.json()) == (400, {"badRequest": {
        "code": 400,
        "message": "Unable to find security_group with name or id 'does_not_exist'"}})


def test_add_and_remove_floating_ip_through_neutron(client: TestClient, token: str,
                                                    cloud: Cloud) -> None:
    neutron = Neutron(client, token)
    net = neutron.create("networks", "network", name="fip-net")
    subnet = neutron.create("subnets", "subnet", network_id=net["id"], ip_version=4,
                            cidr="10.78.0.0/24")
    public = neutron.ok("GET", "/v2.0/networks?name=public")["networks"][0]
    router = neutron.create("routers", "router", name="fip-router",
                            external_gateway_info={"network_id": public["id"]})
    neutron.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface",
               {"subnet_id": subnet["id"]})
    headers = at(token, "2.43")
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    created = client.post(f"{BASE}/servers", headers=headers, json={"server": {
        "name": "fip", "imageRef": image, "flavorRef": "1", "networks": [{"uuid": net["id"]}]}})
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    eventually(lambda: show(client, token, server_id)["status"] == "ACTIVE")
    fip = neutron.create("floatingips", "floatingip", floating_network_id=public["id"])
    address = fip["floating_ip_address"]

    wrong = action(client, token, server_id, "2.43", {"addFloatingIp": {
        "address": address, "fixed_address": "10.99.0.1"}})
    assert (wrong.status_code, wrong.json()["badRequest"]["message"]) == (
        400, "Specified fixed address not assigned to instance")
    added = action(client, token, server_id, "2.43", {"addFloatingIp": {"address": address}})
    assert (added.status_code, added.content) == (202, b"")
    kinds = {(a["addr"], a["OS-EXT-IPS:type"])
             for a in show(client, token, server_id)["addresses"]["fip-net"]}
    assert (address, "floating") in kinds
    port = neutron.ok("GET", f"/v2.0/ports?device_id={server_id}")["ports"][0]
    assert neutron.ok("GET", f"/v2.0/floatingips/{fip['id']}")["floatingip"]["port_id"] == \
        port["id"]

    removed = action(client, token, server_id, "2.43", {"removeFloatingIp": {"address": address}})
    assert (removed.status_code, removed.content) == (202, b"")
    assert [a["OS-EXT-IPS:type"] for a in show(client, token, server_id)["addresses"]["fip-net"]] \
        == ["fixed"]
    again = action(client, token, server_id, "2.43", {"removeFloatingIp": {"address": address}})
    assert (again.status_code, again.json()["conflictingRequest"]["message"]) == (
        409, f"Floating IP {address} is not associated with instance {server_id}.")
    assert cloud.unexpected_errors == 0


def test_an_unknown_hypervisor_is_404_and_a_non_uuid_from_2_53_is_400(
        client: TestClient, token: str) -> None:
    unknown = "9c6d38cc-fcfb-437a-85b9-7b788af8bf01"
    for version, ident in (("2.1", unknown), ("2.1", "nope"), ("2.53", unknown)):
        answer = client.get(f"{BASE}/os-hypervisors/{ident}", headers=at(token, version))
        assert (answer.status_code, answer.json()) == (404, {"itemNotFound": {
            "code": 404, "message": f"Hypervisor with ID '{ident}' could not be found."}})
    refused = client.get(f"{BASE}/os-hypervisors/nope", headers=at(token, "2.53"))
    assert (refused.status_code, refused.json()["badRequest"]["message"]) == (
        400, "Invalid uuid nope")


# -- changePassword and resetNetwork ----------------------------------------------------------


def _events(client: TestClient, token: str, server: str, request_id: str) -> dict[str, Any]:
    answer = client.get(f"{BASE}/servers/{server}/os-instance-actions/{request_id}",
                        headers=at(token, "2.51"))
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()["instanceAction"]
    return found


def test_change_password_is_asked_of_the_compute_and_answers_202(
        client: TestClient, token: str, server: str) -> None:
    settled(client, token, server)
    path = "/servers/{id}/action"
    answer = action(client, token, server, "2.1", {"changePassword": {"adminPass": "s3cret"}})
    assert answer.status_code == nova_success_code(path, "POST", "2.1", action="changePassword")
    # nova's response schema is null: no body.
    assert nova_response_schema(path, "POST", "2.1", action="changePassword") == {"type": "null"}
    assert answer.content == b""
    # nova's compute API waits for the compute's answer: the task is over when it answers.
    assert show(client, token, server)["OS-EXT-STS:task_state"] is None
    record = _events(client, token, server, answer.headers["x-openstack-request-id"])
    assert record["action"] == "changePassword"
    assert [(e["event"], e["result"]) for e in record["events"]] == [
        ("compute_set_admin_password", "Success")]


def test_change_password_needs_an_active_server_and_a_running_guest(
        client: TestClient, token: str, server: str) -> None:
    settled(client, token, server)
    body = {"changePassword": {"adminPass": "s3cret"}}
    assert action(client, token, server, "2.1", {"os-stop": None}).status_code == 202
    settled(client, token, server)
    stopped = action(client, token, server, "2.1", body)
    assert stopped.status_code == 409
    assert stopped.json()["conflictingRequest"]["message"] == (
        f"Cannot 'changePassword' instance {server} while it is in vm_state stopped")
    # Reset to active, the guest is still off: the compute refuses, nova's 409.
    reset = action(client, token, server, "2.1", {"os-resetState": {"state": "active"}})
    assert reset.status_code == 202
    off = action(client, token, server, "2.1", body)
    assert off.status_code == 409
    assert off.json()["conflictingRequest"]["message"] == (
        f"Failed to set admin password on {server} because instance {server} is not running")
    assert show(client, token, server)["OS-EXT-STS:task_state"] is None


def test_change_password_checks_its_body_and_the_server(client: TestClient, token: str,
                                                        server: str) -> None:
    settled(client, token, server)
    path = "/servers/{id}/action"
    for version in ("2.1", "2.104"):
        schema = nova_request_schema(path, "POST", version, action="changePassword")
        assert schema is not None
        for body in ({"changePassword": {}}, {"changePassword": {"adminPass": 1}},
                     {"changePassword": {"adminPass": "p", "other": 1}},
                     {"changePassword": {"adminPass": ""}}):
            # A 400 exactly where nova's own schema refuses the body.
            valid = jsonschema.Draft202012Validator(schema).is_valid(body)
            answer = action(client, token, server, version, body)
            assert answer.status_code == (202 if valid else 400), (version, body, answer.text)
    missing = action(client, token, "nope", "2.1", {"changePassword": {"adminPass": "p"}})
    assert (missing.status_code, missing.json()) == (404, {"itemNotFound": {
        "code": 404, "message": "Instance nope could not be found."}})


def test_reset_network_is_gone_at_every_version(client: TestClient, token: str,
                                                server: str) -> None:
    for version in ("2.1", "2.104"):
        for target in (server, "nope"):
            answer = action(client, token, target, version, {"resetNetwork": None})
            assert answer.status_code == 410
            # nova's faults have no name of their own for 410: computeFault.
            assert answer.json() == {"computeFault": {
                "code": 410,
                "message": "This resource is no longer available.  No forwarding address "
                           "is given."}}
