"""Compute's routes and server actions served at the microversions nova serves them, each
checked with the schema of the request's version, each answering only its declared errors."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from stacklab.compute.api import api
from support.apiref import assert_nova_response, nova_request_schema
from unit.compute.nova_calls import BASE, NOT_FOUND, action, at


def test_every_compute_route_declares_its_expected_errors() -> None:
    undeclared = [op.name for op in api.operations if op.expected_errors is None]
    # Routes added by other work may still declare nothing; the servers' own all do.
    assert not [name for name in undeclared if "/servers" in name and "events" not in name]
    route = next(op for op in api.operations if op.path == "/v2.1/servers/{server_id}/action")
    assert route.actions is not None
    assert all(a.expected_errors is not None for a in route.actions.actions.values())


def test_tags_are_absent_before_2_26(client: TestClient, token: str, server: str) -> None:
    before = client.get(f"{BASE}/servers/{server}/tags", headers=at(token, "2.25"))
    assert (before.status_code, before.json()) == (404, NOT_FOUND)
    replaced = client.put(f"{BASE}/servers/{server}/tags", headers=at(token, "2.26"),
                          json={"tags": ["a", "b"]})
    assert (replaced.status_code, replaced.json()) == (200, {"tags": ["a", "b"]})


def test_the_legacy_console_actions_end_at_2_5(client: TestClient, token: str,
                                               server: str) -> None:
    legacy = action(client, token, server, "2.5", {"os-getVNCConsole": {"type": "novnc"}})
    assert legacy.status_code == 200, legacy.text
    assert legacy.json()["console"]["type"] == "novnc"
    gone = action(client, token, server, "2.6", {"os-getVNCConsole": {"type": "novnc"}})
    assert (gone.status_code, gone.json()) == (404, NOT_FOUND)


def test_an_action_added_later_is_absent_before_then_checked_then_not_implemented(
        client: TestClient, token: str, server: str) -> None:
    early = action(client, token, server, "2.16", {"trigger_crash_dump": None})
    assert (early.status_code, early.json()) == (404, NOT_FOUND)
    # From 2.17 nova's schema applies first (the value must be null), then stacklab's 501.
    wrong = action(client, token, server, "2.17", {"trigger_crash_dump": {}})
    assert wrong.status_code == 400
    assert action(client, token, server, "2.17",
                  {"trigger_crash_dump": None}).status_code == 501


def test_an_action_schema_follows_the_version(client: TestClient, token: str,
                                             server: str) -> None:
    # Before 2.73 nova does not look at lock's value; from 2.73 it is checked.
    long_reason = {"lock": {"locked_reason": "x" * 256}}
    refused = action(client, token, server, "2.73", long_reason)
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute locked_reason.")
    assert action(client, token, server, "2.72", long_reason).status_code == 202
    assert action(client, token, server, "2.73", {"unlock": None}).status_code == 202
    assert action(client, token, server, "2.73",
                  {"lock": {"locked_reason": "maintenance"}}).status_code == 202
    shown = client.get(f"{BASE}/servers/{server}", headers=at(token, "2.73")).json()
    assert shown["server"]["locked_reason"] == "maintenance"


def test_unknown_and_malformed_actions_keep_nova_s_answers(client: TestClient, token: str,
                                                          server: str) -> None:
    unknown = action(client, token, server, "2.96", {"sharpen": None})
    assert unknown.json() == {"badRequest": {"code": 400,
                                             "message": "There is no such action: sharpen"}}
    response = client.post(f"{BASE}/servers/{server}/action", headers=at(token, "2.96"),
                           json=["pause"])
    assert response.json()["badRequest"]["message"] == (
        "Malformed request body: too many body keys")


def test_key_pair_fields_follow_the_version(client: TestClient, token: str) -> None:
    typed = {"keypair": {"name": "k1", "type": "ssh"}}
    refused = client.post(f"{BASE}/os-keypairs", headers=at(token, "2.1"), json=typed)
    assert refused.status_code == 400
    assert "'type' was unexpected" in refused.json()["badRequest"]["message"]
    assert client.post(f"{BASE}/os-keypairs", headers=at(token, "2.2"),
                       json=typed).status_code == 201
    # From 2.92 nova no longer generates keys.
    generated = client.post(f"{BASE}/os-keypairs", headers=at(token, "2.92"),
                            json={"keypair": {"name": "k2"}})
    assert generated.status_code == 400
    assert "'public_key' is a required property" in generated.json()["badRequest"]["message"]


def test_flavor_description_and_update_from_2_55(client: TestClient, token: str) -> None:
    flavor = {"flavor": {"name": "f1", "ram": 64, "vcpus": 1, "disk": 1,
                         "description": "small"}}
    refused = client.post(f"{BASE}/flavors", headers=at(token, "2.54"), json=flavor)
    assert refused.status_code == 400
    assert "'description' was unexpected" in refused.json()["badRequest"]["message"]
    created = client.post(f"{BASE}/flavors", headers=at(token, "2.55"), json=flavor)
    assert created.status_code == 200, created.text
    ident = created.json()["flavor"]["id"]
    change = {"flavor": {"description": "tiny"}}
    old = client.put(f"{BASE}/flavors/{ident}", headers=at(token, "2.54"), json=change)
    assert (old.status_code, old.json()) == (404, NOT_FOUND)
    new = client.put(f"{BASE}/flavors/{ident}", headers=at(token, "2.55"), json=change)
    assert (new.status_code, new.json()["flavor"]["description"]) == (200, "tiny")


@pytest.mark.parametrize("version", ["2.1", "2.55", "2.102"])
def test_a_flavor_id_may_be_a_json_number_as_nova_s_schema_allows(
        client: TestClient, token: str, version: str) -> None:
    body = {"flavor": {"name": f"int-{version}", "ram": 64, "vcpus": 1, "disk": 1,
                       "id": 12345 + int(version.split(".")[1])}}
    schema = nova_request_schema("/flavors", "POST", version)
    assert schema is not None and Draft202012Validator(schema).is_valid(body)
    created = client.post(f"{BASE}/flavors", headers=at(token, version), json=body)
    assert created.status_code == 200, created.text
    # Stored and shown as its string form, so it is found by that id afterwards.
    ident = created.json()["flavor"]["id"]
    assert ident == str(body["flavor"]["id"])
    assert_nova_response(created.json(), "/flavors", "POST", version)
    shown = client.get(f"{BASE}/flavors/{ident}", headers=at(token, version))
    assert shown.status_code == 200 and shown.json()["flavor"]["name"] == f"int-{version}"
    again = client.post(f"{BASE}/flavors", headers=at(token, version), json={
        "flavor": {**body["flavor"], "name": "other"}})
    assert again.status_code == 409, again.text
    # Still bounded as nova bounds it: no objects, booleans or blank strings.
    for bad in ({"id": True}, {"id": {"n": 1}}, {"id": " 1"}):
        refused = client.post(f"{BASE}/flavors", headers=at(token, version), json={
            "flavor": {**body["flavor"], "name": "bad", **bad}})
        assert refused.status_code == 400, (bad, refused.text)
        assert not Draft202012Validator(schema).is_valid({"flavor": {
            **body["flavor"], **bad}})


def test_quota_keys_removed_by_later_versions(client: TestClient, token: str) -> None:
    project = client.get(f"{BASE}/limits", headers=at(token, "2.1"))
    assert project.status_code == 200
    url = f"{BASE}/os-quota-sets/p-1"
    for version, key in (("2.36", "floating_ips"), ("2.57", "injected_files")):
        refused = client.put(url, headers=at(token, version), json={"quota_set": {key: 5}})
        assert refused.status_code == 400, (version, key)
        assert f"'{key}' was unexpected" in refused.json()["badRequest"]["message"]
    assert client.put(url, headers=at(token, "2.35"),
                      json={"quota_set": {"floating_ips": 5}}).status_code == 200
    assert client.put(url, headers=at(token, "2.56"),
                      json={"quota_set": {"injected_files": 5}}).status_code == 200


def test_service_update_is_one_operation_per_version_range(client: TestClient,
                                                          token: str) -> None:
    services = client.get(f"{BASE}/os-services", headers=at(token, "2.53")).json()["services"]
    compute = next(s for s in services if s["binary"] == "nova-compute")
    by_id = client.put(f"{BASE}/os-services/{compute['id']}", headers=at(token, "2.53"),
                       json={"status": "disabled", "disabled_reason": "maintenance"})
    assert by_id.status_code == 200, by_id.text
    assert by_id.json()["service"]["status"] == "disabled"
    # Before 2.53 the path names the action, and the body the host and binary.
    legacy = client.put(f"{BASE}/os-services/enable", headers=at(token, "2.52"),
                        json={"host": compute["host"], "binary": "nova-compute"})
    assert (legacy.status_code, legacy.json()["service"]["status"]) == (200, "enabled")
    # Each with its own schema: the 2.53 body is not a pre-2.53 one.
    mixed = client.put(f"{BASE}/os-services/enable", headers=at(token, "2.52"),
                       json={"status": "enabled"})
    assert mixed.status_code == 400


def test_hypervisor_statistics_end_at_2_87(client: TestClient, token: str) -> None:
    url = f"{BASE}/os-hypervisors/statistics"
    assert client.get(url, headers=at(token, "2.87")).status_code == 200
    assert client.get(url, headers=at(token, "2.88")).json() == NOT_FOUND


def test_no_undeclared_error_was_met(client: TestClient, cloud: Cloud, token: str,
                                     server: str) -> None:
    # A run through several routes' errors: each is declared, none became a 500.
    for method, path, body in (("GET", f"/servers/{server}/tags/none", None),
                               ("DELETE", "/servers/nothing", None),
                               ("PUT", f"/servers/{server}", {"server": {"name": 3}}),
                               ("POST", f"/servers/{server}/action", {"os-start": None})):
        response = client.request(method, BASE + path, headers=at(token, "2.96"), json=body)
        assert 400 <= response.status_code < 500, (path, response.text)
    assert cloud.unexpected_errors == 0


def test_flavor_access_actions_share_the_action_dispatch(client: TestClient,
                                                         token: str) -> None:
    flavor = {"flavor": {"name": "private", "ram": 64, "vcpus": 1, "disk": 1,
                         "os-flavor-access:is_public": False}}
    ident = client.post(f"{BASE}/flavors", headers=at(token, "2.1"),
                        json=flavor).json()["flavor"]["id"]
    url = f"{BASE}/flavors/{ident}/action"
    added = client.post(url, headers=at(token, "2.1"),
                        json={"addTenantAccess": {"tenant": "p-2"}})
    assert added.status_code == 200, added.text
    assert {"flavor_id": ident, "tenant_id": "p-2"} in added.json()["flavor_access"]
    unknown = client.post(url, headers=at(token, "2.1"), json={"grantAccess": {}})
    assert unknown.json()["badRequest"]["message"] == "There is no such action: grantAccess"
    no_tenant = client.post(url, headers=at(token, "2.1"), json={"removeTenantAccess": {}})
    assert no_tenant.status_code == 400
    assert "'tenant' is a required property" in no_tenant.json()["badRequest"]["message"]
    removed = client.post(url, headers=at(token, "2.1"),
                          json={"removeTenantAccess": {"tenant": "p-2"}})
    assert removed.status_code == 200, removed.text
    assert {"flavor_id": ident, "tenant_id": "p-2"} not in removed.json()["flavor_access"]


def test_lock_reads_no_reason_before_2_73(client: TestClient, token: str, server: str,
                                          cloud: Cloud) -> None:
    # The fuzz's find: nova's pre-2.73 lock checks none of its value, and stores none of it.
    odd = action(client, token, server, "2.72", {"lock": {"locked_reason": {"a": 1}}})
    assert odd.status_code == 202, odd.text
    shown = client.get(f"{BASE}/servers/{server}", headers=at(token, "2.73")).json()
    assert (shown["server"]["locked"], shown["server"]["locked_reason"]) == (True, None)
    assert cloud.unexpected_errors == 0


def test_every_listed_version_document_can_be_followed(client: TestClient) -> None:
    """As Tempest's version test: each self link of the root list answers its own document,
    the legacy v2 one included (nova serves it as v2.0, with no microversions)."""
    listed = client.get("/compute/")
    assert listed.status_code == 200
    seen = {}
    for version in listed.json()["versions"]:
        [link] = [x["href"] for x in version["links"] if x["rel"] == "self"]
        path = link[link.index("/compute/"):]
        for variant in (path, path.rstrip("/")):
            shown = client.get(variant)
            assert shown.status_code == 200, (variant, shown.text)
            assert_nova_response(shown.json(), "/", "GET", "2.1")
            seen[version["id"]] = shown.json()["version"]
    assert seen["v2.0"]["status"] == "DEPRECATED" and seen["v2.0"]["version"] == ""
    assert seen["v2.0"]["media-types"][0]["type"].endswith("version=2")
    assert seen["v2.1"]["status"] == "CURRENT" and seen["v2.1"]["min_version"] == "2.1"
