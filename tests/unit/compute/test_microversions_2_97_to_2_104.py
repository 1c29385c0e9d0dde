"""What each of nova's microversions 2.97 to 2.104 changes, in-process over HTTP, every body
checked against nova's own schema at the version asked; and the query parameters each
operation takes (nova's strict query schemas) compared with nova's own, version by version."""

from __future__ import annotations

import re
import time
from typing import Any

from starlette.testclient import TestClient

from stacklab.api.microversion import Version
from stacklab.compute import image_meta
from stacklab.compute.api import api
from support.apiref import api_ref, assert_nova_response
from support.inprocess import admin_token
from unit.compute.nova_calls import BASE, NOT_FOUND, at


def _active_server(client: TestClient, token: str, **extra: Any) -> dict[str, Any]:
    image = client.get("/image/v2/images", headers=at(token, "2.1")).json()["images"][0]["id"]
    made = client.post(f"{BASE}/servers", headers=at(token, "2.96"), json={"server": {
        "name": "v", "imageRef": image, "flavorRef": "1", "networks": "none"}, **extra})
    assert made.status_code == 202, made.text
    server_id = made.json()["server"]["id"]
    for _ in range(500):
        server = client.get(f"{BASE}/servers/{server_id}",
                            headers=at(token, "2.96")).json()["server"]
        if server["status"] == "ACTIVE":
            return dict(server)
        time.sleep(0.005)
    raise AssertionError("the server never became ACTIVE")


def test_compute_advertises_2_104(client: TestClient) -> None:
    version = client.get(f"{BASE}/").json()["version"]
    assert (version["version"], version["min_version"]) == ("2.104", "2.1")
    latest = client.get(f"{BASE}/flavors", headers=at(admin_token(client), "latest"))
    assert latest.headers["OpenStack-API-Version"] == "compute 2.104"


def test_shares_exist_from_2_97_and_none_can_be_attached(client: TestClient,
                                                         token: str) -> None:
    server = _active_server(client, token)
    url = f"{BASE}/servers/{server['id']}/shares"
    assert client.get(url, headers=at(token, "2.96")).json() == NOT_FOUND
    listed = client.get(url, headers=at(token, "2.97"))
    assert listed.status_code == 200, listed.text
    assert listed.json() == {"shares": []}
    assert_nova_response(listed.json(), "/servers/{server_id}/shares", "GET", "2.97")
    share = "9d6ef53d-2c8a-4c8b-8a8b-5b8b0f4c1f11"
    assert client.get(f"{url}/{share}", headers=at(token, "2.97")).json() == {
        "itemNotFound": {"code": 404, "message": f"Share {share} could not be found."}}
    running = client.post(url, headers=at(token, "2.97"), json={"share": {"share_id": share}})
    assert running.status_code == 409
    assert "while it is in vm_state active" in running.json()["conflictingRequest"]["message"]
    bad = client.post(url, headers=at(token, "2.97"), json={"share": {"share_id": "x y"}})
    assert bad.status_code == 400
    # A query parameter is refused on the shares' lists at every version they have.
    assert client.get(url, headers=at(token, "2.97"), params={"x": "1"}).status_code == 400


def test_server_views_from_2_98_to_2_100(client: TestClient, token: str) -> None:
    server = _active_server(client, token)
    url = f"{BASE}/servers/{server['id']}"
    before = client.get(url, headers=at(token, "2.97")).json()["server"]
    assert "properties" not in before["image"] and "scheduler_hints" not in before
    images = client.get(url, headers=at(token, "2.98")).json()
    assert_nova_response(images, "/servers/{id}", "GET", "2.98")
    assert isinstance(images["server"]["image"]["properties"], dict)
    assert "scheduler_hints" not in images["server"]
    hints = client.get(url, headers=at(token, "2.100")).json()
    assert_nova_response(hints, "/servers/{id}", "GET", "2.100")
    assert hints["server"]["scheduler_hints"] == {}
    detail = client.get(f"{BASE}/servers/detail", headers=at(token, "2.100")).json()
    assert_nova_response(detail, "/servers/detail", "GET", "2.100")
    renamed = client.put(url, headers=at(token, "2.100"), json={"server": {"name": "w"}})
    assert_nova_response(renamed.json(), "/servers/{id}", "PUT", "2.100")


def test_a_hinted_server_shows_its_hints_as_lists(client: TestClient, token: str) -> None:
    first = _active_server(client, token)
    second = _active_server(client, token,
                            **{"os:scheduler_hints": {"different_host": first["id"]}})
    shown = client.get(f"{BASE}/servers/{second['id']}", headers=at(token, "2.100")).json()
    assert shown["server"]["scheduler_hints"] == {"different_host": [first["id"]]}
    assert_nova_response(shown, "/servers/{id}", "GET", "2.100")


def test_image_properties_nova_knows_are_kept_and_shown() -> None:
    kept = image_meta.system_metadata({"hw_disk_bus": "virtio", "color": "red",
                                       "img_signature": "x", "os_distro": "a" * 300})
    assert kept == {"image_hw_disk_bus": "virtio", "image_color": "red",
                    "image_os_distro": "a" * 255}
    assert image_meta.shown_properties({**kept, "old_vm_state": "active"}) == {
        "hw_disk_bus": "virtio", "os_distro": "a" * 255}
    rebuilt = image_meta.with_image({**kept, "old_vm_state": "active"}, {"os_type": "linux"})
    assert rebuilt == {"old_vm_state": "active", "image_os_type": "linux"}


def test_spice_direct_is_a_console_type_from_2_99(client: TestClient, token: str) -> None:
    server = _active_server(client, token)
    body = {"remote_console": {"protocol": "spice", "type": "spice-direct"}}
    url = f"{BASE}/servers/{server['id']}/remote-consoles"
    older = client.post(url, headers=at(token, "2.98"), json=body)
    assert older.status_code == 400 and "spice-direct" in older.json()["badRequest"]["message"]
    newer = client.post(url, headers=at(token, "2.99"), json=body)
    # Known from 2.99, and unavailable here as every SPICE console.
    assert newer.json() == {"badRequest": {"code": 400,
                                           "message": "Unavailable console type spice-direct."}}
    wrong = client.post(url, headers=at(token, "2.99"), json={"remote_console": {
        "protocol": "vnc", "type": "spice-direct"}})
    assert "Unsupported console type" in wrong.json()["badRequest"]["message"]


def test_flavors_at_2_102(client: TestClient, token: str) -> None:
    older = client.get(f"{BASE}/flavors/1", headers=at(token, "2.101")).json()["flavor"]
    assert "rxtx_factor" in older and "OS-FLV-DISABLED:disabled" in older
    newer = client.get(f"{BASE}/flavors/1", headers=at(token, "2.102"))
    assert_nova_response(newer.json(), "/flavors/{id}", "GET", "2.102")
    assert "rxtx_factor" not in newer.json()["flavor"]
    assert "OS-FLV-DISABLED:disabled" not in newer.json()["flavor"]
    detail = client.get(f"{BASE}/flavors/detail", headers=at(token, "2.102"))
    assert_nova_response(detail.json(), "/flavors/detail", "GET", "2.102")

    names = [f["name"] for f in detail.json()["flavors"]]
    wanted = names[0]
    by_name = client.get(f"{BASE}/flavors", headers=at(token, "2.102"),
                         params={"name": f"^{re.escape(wanted)}$"})
    assert [f["name"] for f in by_name.json()["flavors"]] == [wanted]
    assert client.get(f"{BASE}/flavors", headers=at(token, "2.101"),
                      params={"name": "x"}).status_code == 400
    refused = client.get(f"{BASE}/flavors", headers=at(token, "2.102"),
                         params={"sort_key": "rxtx_factor"})
    assert refused.status_code == 400
    created = client.post(f"{BASE}/flavors", headers=at(token, "2.102"), json={"flavor": {
        "name": "r", "ram": 64, "vcpus": 1, "disk": 1, "rxtx_factor": 2.0}})
    assert created.status_code == 400 and "rxtx_factor" in created.json()["badRequest"]["message"]
    made = client.post(f"{BASE}/flavors", headers=at(token, "2.102"), json={"flavor": {
        "name": "r", "ram": 64, "vcpus": 1, "disk": 1}})
    assert made.status_code == 200, made.text
    assert_nova_response(made.json(), "/flavors", "POST", "2.102")


def test_unknown_query_parameters_are_refused_from_2_102(client: TestClient,
                                                         token: str) -> None:
    server = _active_server(client, token)
    url = f"{BASE}/servers/{server['id']}"
    assert client.get(url, headers=at(token, "2.101"), params={"foo": "1"}).status_code == 200
    refused = client.get(url, headers=at(token, "2.102"), params={"foo": "1"})
    assert refused.json() == {"badRequest": {
        "code": 400, "message": "Additional properties are not allowed ('foo' was unexpected)"}}
    # The server list has been strict since 2.75, but for names starting with "_".
    listed = f"{BASE}/servers"
    assert client.get(listed, headers=at(token, "2.74"), params={"foo": "1"}).status_code == 200
    assert client.get(listed, headers=at(token, "2.75"), params={"foo": "1"}).status_code == 400
    assert client.get(listed, headers=at(token, "2.75"), params={"_x": "1"}).status_code == 200
    assert client.get(listed, headers=at(token, "2.102"),
                      params={"name": "v", "limit": "1"}).status_code == 200
    # Operations nova checks loosely still take anything.
    assert client.post(f"{url}/action", headers=at(token, "2.102"), params={"foo": "1"},
                       json={"os-stop": None}).status_code == 202


def test_os_volumes_boot_is_the_servers_alias_until_2_103(client: TestClient,
                                                          token: str) -> None:
    server = _active_server(client, token)
    listed = client.get(f"{BASE}/os-volumes_boot", headers=at(token, "2.102"))
    assert listed.status_code == 200, listed.text
    assert server["id"] in {s["id"] for s in listed.json()["servers"]}
    shown = client.get(f"{BASE}/os-volumes_boot/{server['id']}", headers=at(token, "2.102"))
    assert shown.json()["server"]["id"] == server["id"]
    action = f"{BASE}/os-volumes_boot/{server['id']}/action"
    assert client.post(action, headers=at(token, "2.103"),
                       json={"os-stop": None}).json() == NOT_FOUND
    assert client.post(action, headers=at(token, "2.102"),
                       json={"os-stop": None}).status_code == 202
    for path in ("", "/detail", f"/{server['id']}"):
        gone = client.get(f"{BASE}/os-volumes_boot{path}", headers=at(token, "2.103"))
        assert (gone.status_code, gone.json()) == (404, NOT_FOUND)


def test_pinned_availability_zone_is_set_from_2_104(client: TestClient, token: str) -> None:
    server = _active_server(client, token)
    url = f"{BASE}/servers/{server['id']}"
    zone = server["OS-EXT-AZ:availability_zone"]
    older = client.put(url, headers=at(token, "2.103"),
                       json={"server": {"pinned_availability_zone": None}})
    assert older.status_code == 400
    unpinned = client.put(url, headers=at(token, "2.104"),
                          json={"server": {"pinned_availability_zone": None}})
    assert unpinned.status_code == 200, unpinned.text
    assert_nova_response(unpinned.json(), "/servers/{id}", "PUT", "2.104")
    assert unpinned.json()["server"]["pinned_availability_zone"] is None
    elsewhere = client.put(url, headers=at(token, "2.104"),
                           json={"server": {"pinned_availability_zone": "other-zone"}})
    assert elsewhere.status_code == 409
    assert f"current availability zone '{zone}'" in \
        elsewhere.json()["conflictingRequest"]["message"]
    pinned = client.put(url, headers=at(token, "2.104"),
                        json={"server": {"pinned_availability_zone": zone}})
    assert pinned.json()["server"]["pinned_availability_zone"] == zone
    again = client.put(url, headers=at(token, "2.104"),
                       json={"server": {"pinned_availability_zone": zone}})
    assert again.status_code == 200
    moved = client.put(url, headers=at(token, "2.104"),
                       json={"server": {"pinned_availability_zone": "other-zone"}})
    assert moved.status_code == 409 and "Unpin first" in \
        moved.json()["conflictingRequest"]["message"]
    shown = client.get(url, headers=at(token, "2.104")).json()["server"]
    assert shown["pinned_availability_zone"] == zone


# -- the query rules, against nova's own schemas ------------------------------------------------

_VERSIONS = [Version(2, minor) for minor in range(1, 105)]


def _derived() -> dict[tuple[str, str], list[dict[str, Any]]]:
    import json

    data = json.loads((api_ref() / "derived" / "nova" / "compute-v2.1.schemas.json").read_text())
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for operation in data["operations"]:
        key = (operation["method"], re.sub(r"\{[^}]*\}", "{}", operation["path"]))
        found[key] = operation.get("request_query") or []
    return found


def _strict_names(ranges: list[dict[str, Any]], version: Version) -> set[str] | None:
    for entry in ranges:
        low = Version.parse(entry["min_version"] or "2.0")
        high = Version.parse(entry["max_version"]) if entry["max_version"] else None
        if low <= version and (high is None or version <= high):
            schema = entry["schema"]
            if schema.get("additionalProperties", True) is False:
                return set(schema.get("properties", {}))
    return None


def test_each_operation_takes_the_query_parameters_nova_s_schema_names() -> None:
    derived = _derived()
    checked = 0
    for operation in api.operations:
        key = (operation.method,
               re.sub(r"\{[^}]*\}", "{}", operation.path.removeprefix("/v2.1")))
        if key not in derived:
            continue
        for version in _VERSIONS:
            if version not in operation.versions:
                continue
            expected = _strict_names(derived[key], version)
            rules = [r for r in operation.query_rules if r.min_version <= version]
            declared = set(max(rules, key=lambda r: r.min_version).names) if rules else None
            assert declared == expected, (operation.name, str(version))
            checked += 1
    assert checked > 1000
