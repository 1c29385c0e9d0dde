"""nova's admin APIs over HTTP: aggregates and zones, os-hosts, the hypervisors' search,
servers and uptime, tenant usage, the usage audit log and quota classes; each answer
checked with nova's own response schema of the request's microversion."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.compute.api import aggregates, quota_classes
from stacklab.compute.api import hosts as os_hosts
from stacklab.compute.scheduler import DEFAULT_ENABLED_FILTERS
from support.apiref import (
    FORMAT_CHECKER,
    assert_nova_response,
    assert_valid,
    nova_request_schema,
    nova_response_schema,
)
from support.inprocess import admin_token, ephemeral_config
from unit.compute.nova_calls import BASE, NOT_FOUND, at


def computes(client: TestClient, token: str) -> list[str]:
    body = client.get(f"{BASE}/os-hypervisors", headers=at(token, "2.1")).json()
    return [h["hypervisor_hostname"] for h in body["hypervisors"]]


def boot(client: TestClient, token: str, **extra: Any) -> dict[str, Any]:
    headers = at(token, "2.96")
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    created = client.post(f"{BASE}/servers", headers=headers, json={"server": {
        "name": "u", "imageRef": image, "flavorRef": "1", "networks": "none", **extra}})
    assert created.status_code == 202, created.text
    server: dict[str, Any] = client.get(f"{BASE}/servers/{created.json()['server']['id']}",
                                        headers=headers).json()["server"]
    return server


def test_aggregate_lifecycle_at_each_microversion(client: TestClient, token: str) -> None:
    host = computes(client, token)[0]
    for version in ("2.1", "2.41"):
        headers = at(token, version)
        created = client.post(f"{BASE}/os-aggregates", headers=headers, json={
            "aggregate": {"name": f"rack-{version}", "availability_zone": f"az-{version}"}})
        assert created.status_code == 200, created.text
        assert_nova_response(created.json(), "/os-aggregates", "POST", version)
        ident = created.json()["aggregate"]["id"]
        assert ("uuid" in created.json()["aggregate"]) == (version == "2.41")
        added = client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                            json={"add_host": {"host": host}})
        if version == "2.41":
            # The host is in az-2.1 already: a second zone is a conflict.
            assert added.status_code == 409, added.text
            continue
        assert added.status_code == 200, added.text
        assert_nova_response(added.json(), "/os-aggregates/{id}/action", "POST", version,
                             action="add_host")
        meta = client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                           json={"set_metadata": {"metadata": {"ssd": "true"}}})
        assert meta.json()["aggregate"]["metadata"] == {"availability_zone": "az-2.1",
                                                        "ssd": "true"}
        assert_nova_response(meta.json(), "/os-aggregates/{id}/action", "POST", version,
                             action="set_metadata")
        renamed = client.put(f"{BASE}/os-aggregates/{ident}", headers=headers,
                             json={"aggregate": {"name": " rack-one "}})
        assert renamed.json()["aggregate"]["name"] == "rack-one"
        assert_nova_response(renamed.json(), "/os-aggregates/{id}", "PUT", version)
    listed = client.get(f"{BASE}/os-aggregates", headers=at(token, "2.41"))
    assert_nova_response(listed.json(), "/os-aggregates", "GET", "2.41")
    assert [a["name"] for a in listed.json()["aggregates"]] == ["rack-one", "rack-2.41"]
    shown = client.get(f"{BASE}/os-aggregates/1", headers=at(token, "2.41"))
    assert_nova_response(shown.json(), "/os-aggregates/{id}", "GET", "2.41")
    assert shown.json()["aggregate"]["hosts"] == [host]
    refused = client.delete(f"{BASE}/os-aggregates/1", headers=at(token, "2.1"))
    assert refused.status_code == 400
    removed = client.post(f"{BASE}/os-aggregates/1/action", headers=at(token, "2.1"),
                          json={"remove_host": {"host": host}})
    assert removed.status_code == 200 and removed.json()["aggregate"]["hosts"] == []
    deleted = client.delete(f"{BASE}/os-aggregates/1", headers=at(token, "2.1"))
    assert (deleted.status_code, deleted.content) == (200, b"")
    gone = client.get(f"{BASE}/os-aggregates/1", headers=at(token, "2.1"))
    assert gone.json() == {"itemNotFound": {"code": 404,
                                            "message": "Aggregate 1 could not be found."}}


def test_aggregate_refusals(client: TestClient, token: str) -> None:
    headers = at(token, "2.1")
    client.post(f"{BASE}/os-aggregates", headers=headers, json={"aggregate": {"name": "a"}})
    twice = client.post(f"{BASE}/os-aggregates", headers=headers,
                        json={"aggregate": {"name": "a"}})
    assert twice.status_code == 409
    bad_zone = client.post(f"{BASE}/os-aggregates", headers=headers,
                           json={"aggregate": {"name": "b", "availability_zone": "a:b"}})
    assert bad_zone.status_code == 400
    assert client.get(f"{BASE}/os-aggregates/x", headers=headers).status_code == 400
    unknown = client.post(f"{BASE}/os-aggregates/1/action", headers=headers,
                          json={"add_host": {"host": "no-such-host"}})
    assert unknown.status_code == 404
    assert unknown.json()["itemNotFound"]["message"] == (
        "Compute host no-such-host could not be found.")
    images = {"cache": [{"id": "8a7a1a0e-7b7e-4c1c-9c6a-8d0a3e2f0b11"}]}
    before = client.post(f"{BASE}/os-aggregates/1/images", headers=at(token, "2.80"),
                         json=images)
    assert (before.status_code, before.json()) == (404, NOT_FOUND)
    cached = client.post(f"{BASE}/os-aggregates/1/images", headers=at(token, "2.81"),
                         json=images)
    assert (cached.status_code, cached.content) == (202, b"")
    twice_image = client.post(f"{BASE}/os-aggregates/1/images", headers=at(token, "2.81"),
                              json={"cache": images["cache"] * 2})
    assert twice_image.status_code == 400
    missing = client.post(f"{BASE}/os-aggregates/9/images", headers=at(token, "2.81"),
                          json=images)
    assert missing.status_code == 404


def test_zones_follow_aggregates_to_services_and_servers(client: TestClient,
                                                         token: str) -> None:
    headers = at(token, "2.96")
    hosts = computes(client, token)
    ident = client.post(f"{BASE}/os-aggregates", headers=headers, json={
        "aggregate": {"name": "edge", "availability_zone": "edge"}}).json()["aggregate"]["id"]
    client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                json={"add_host": {"host": hosts[-1]}})
    zones = client.get(f"{BASE}/os-availability-zone", headers=headers).json()
    assert_nova_response(zones, "/os-availability-zone", "GET", "2.96")
    assert [z["zoneName"] for z in zones["availabilityZoneInfo"]] == ["edge", "nova"]
    detail = client.get(f"{BASE}/os-availability-zone/detail", headers=headers).json()
    assert_nova_response(detail, "/os-availability-zone/detail", "GET", "2.96")
    edge = next(z for z in detail["availabilityZoneInfo"] if z["zoneName"] == "edge")
    assert list(edge["hosts"]) == [hosts[-1]]
    services = client.get(f"{BASE}/os-services?binary=nova-compute&host={hosts[-1]}",
                          headers=headers).json()["services"]
    assert services[0]["zone"] == "edge"
    server = boot(client, token, availability_zone="edge")
    assert server["OS-EXT-AZ:availability_zone"] == "edge"
    assert server["OS-EXT-SRV-ATTR:host"] == hosts[-1]
    elsewhere = boot(client, token)
    assert elsewhere["OS-EXT-AZ:availability_zone"] == "nova"


def test_hypervisor_search_servers_and_uptime(client: TestClient, token: str) -> None:
    server = boot(client, token)
    host = server["OS-EXT-SRV-ATTR:host"]
    found = client.get(f"{BASE}/os-hypervisors/{host}/servers", headers=at(token, "2.52"))
    assert_nova_response(found.json(), "/os-hypervisors/{id}/servers", "GET", "2.52")
    assert found.json()["hypervisors"][0]["servers"][0]["uuid"] == server["id"]
    search = client.get(f"{BASE}/os-hypervisors/compute/search", headers=at(token, "2.52"))
    assert_nova_response(search.json(), "/os-hypervisors/{id}/search", "GET", "2.52")
    assert len(search.json()["hypervisors"]) == len(computes(client, token))
    none = client.get(f"{BASE}/os-hypervisors/zzz/search", headers=at(token, "2.52"))
    assert none.status_code == 404
    for gone in ("search", "servers"):
        answer = client.get(f"{BASE}/os-hypervisors/compute/{gone}", headers=at(token, "2.53"))
        assert (answer.status_code, answer.json()) == (404, NOT_FOUND)
    ident = found.json()["hypervisors"][0]["id"]
    uptime = client.get(f"{BASE}/os-hypervisors/{ident}/uptime", headers=at(token, "2.1"))
    assert_nova_response(uptime.json(), "/os-hypervisors/{id}/uptime", "GET", "2.1")
    assert " up " in uptime.json()["hypervisor"]["uptime"]
    listed = client.get(f"{BASE}/os-hypervisors?hypervisor_hostname_pattern={host}"
                        "&with_servers=true", headers=at(token, "2.53")).json()
    assert_nova_response(listed, "/os-hypervisors", "GET", "2.53")
    [mine] = listed["hypervisors"]
    assert mine["servers"] == [{"name": found.json()["hypervisors"][0]["servers"][0]["name"],
                                "uuid": server["id"]}]
    new_uptime = client.get(f"{BASE}/os-hypervisors/{mine['id']}/uptime",
                            headers=at(token, "2.87"))
    assert_nova_response(new_uptime.json(), "/os-hypervisors/{id}/uptime", "GET", "2.87")
    assert client.get(f"{BASE}/os-hypervisors/{mine['id']}/uptime",
                      headers=at(token, "2.88")).status_code == 404
    shown = client.get(f"{BASE}/os-hypervisors/{mine['id']}?with_servers=1",
                       headers=at(token, "2.88")).json()
    assert_nova_response(shown, "/os-hypervisors/{id}", "GET", "2.88")
    assert shown["hypervisor"]["uptime"] and shown["hypervisor"]["servers"]
    missing = client.get(f"{BASE}/os-hypervisors/0a1b2c3d-0000-4000-8000-000000000000",
                         headers=at(token, "2.53"))
    assert missing.status_code == 404
    assert client.get(f"{BASE}/os-hypervisors/abc", headers=at(token, "2.53")).status_code \
        == 400
    assert client.get(f"{BASE}/os-hypervisors/abc", headers=at(token, "2.1")).status_code \
        == 404
    paged = client.get(f"{BASE}/os-hypervisors?limit=1", headers=at(token, "2.33")).json()
    assert_nova_response(paged, "/os-hypervisors", "GET", "2.33")
    assert len(paged["hypervisors"]) == 1 and "hypervisors_links" in paged
    bad = client.get(f"{BASE}/os-hypervisors?with_servers=maybe", headers=at(token, "2.53"))
    assert bad.status_code == 400


def test_os_hosts_until_2_42(client: TestClient, token: str) -> None:
    headers = at(token, "2.42")
    listed = client.get(f"{BASE}/os-hosts", headers=headers).json()
    assert_nova_response(listed, "/os-hosts", "GET", "2.42")
    kinds = {h["service"] for h in listed["hosts"]}
    assert {"compute", "scheduler", "conductor"} <= kinds
    nova_only = client.get(f"{BASE}/os-hosts?zone=nova", headers=headers).json()["hosts"]
    assert nova_only and all(h["service"] == "compute" for h in nova_only)
    assert client.get(f"{BASE}/os-hosts?zone=nowhere", headers=headers).json() == {"hosts": []}
    assert client.get(f"{BASE}/os-hosts?zone=", headers=headers).json() == listed
    host = nova_only[0]["host_name"]
    shown = client.get(f"{BASE}/os-hosts/{host}", headers=headers).json()
    assert_nova_response(shown, "/os-hosts/{id}", "GET", "2.42")
    assert [r["resource"]["project"] for r in shown["host"]] == [
        "(total)", "(used_now)", "(used_max)"]
    assert client.get(f"{BASE}/os-hosts/nowhere", headers=headers).status_code == 404
    refused = client.put(f"{BASE}/os-hosts/{host}", headers=headers,
                         json={"status": "enable"})
    assert refused.status_code == 501
    assert "notImplemented" in refused.json()
    assert client.put(f"{BASE}/os-hosts/nowhere", headers=headers,
                      json={"status": "enable"}).status_code == 404
    assert client.put(f"{BASE}/os-hosts/{host}", headers=headers,
                      json={"status": "bogus"}).status_code == 400
    for action in ("reboot", "shutdown", "startup"):
        assert client.get(f"{BASE}/os-hosts/{host}/{action}",
                          headers=headers).status_code == 501
        assert client.get(f"{BASE}/os-hosts/nowhere/{action}",
                          headers=headers).status_code == 404
    after = client.get(f"{BASE}/os-hosts", headers=at(token, "2.43"))
    assert (after.status_code, after.json()) == (404, NOT_FOUND)


def test_simple_tenant_usage(client: TestClient, cloud: Cloud, token: str) -> None:
    first = boot(client, token)
    boot(client, token)
    project = first["tenant_id"]
    window = "start=2000-01-01T00:00:00&end=2999-01-01T00:00:00"
    for version in ("2.1", "2.40"):
        headers = at(token, version)
        listed = client.get(f"{BASE}/os-simple-tenant-usage?{window}&detailed=1",
                            headers=headers).json()
        assert_nova_response(listed, "/os-simple-tenant-usage", "GET", version)
        [mine] = listed["tenant_usages"]
        assert mine["tenant_id"] == project and len(mine["server_usages"]) == 2
        shown = client.get(f"{BASE}/os-simple-tenant-usage/{project}?{window}",
                           headers=headers).json()
        assert_nova_response(shown, "/os-simple-tenant-usage/{id}", "GET", version)
        assert shown["tenant_usage"]["server_usages"][0]["instance_id"] == first["id"]
    summary = client.get(f"{BASE}/os-simple-tenant-usage?{window}",
                         headers=at(token, "2.1")).json()["tenant_usages"][0]
    assert "server_usages" not in summary
    paged = client.get(f"{BASE}/os-simple-tenant-usage/{project}?{window}&limit=1",
                       headers=at(token, "2.40")).json()
    assert_nova_response(paged, "/os-simple-tenant-usage/{id}", "GET", "2.40")
    assert [u["instance_id"] for u in paged["tenant_usage"]["server_usages"]] == [first["id"]]
    assert f"marker={first['id']}" in paged["tenant_usage_links"][0]["href"]
    nobody = client.get(f"{BASE}/os-simple-tenant-usage/?{window}", headers=at(token, "2.1"))
    assert (nobody.status_code, nobody.json()) == (404, NOT_FOUND)
    empty = client.get(f"{BASE}/os-simple-tenant-usage/other?{window}",
                       headers=at(token, "2.1")).json()
    assert empty == {"tenant_usage": {}}
    backwards = client.get(f"{BASE}/os-simple-tenant-usage?start=2030-01-01T00:00:00"
                           "&end=2020-01-01T00:00:00", headers=at(token, "2.1"))
    assert backwards.status_code == 400
    garbled = client.get(f"{BASE}/os-simple-tenant-usage?start=yesterday",
                         headers=at(token, "2.1"))
    assert garbled.status_code == 400
    assert cloud.unexpected_errors == 0


def _audit_schema(path: str) -> dict[str, Any]:
    # nova's schema calls hosts_not_run uuids, but nova lists host names there.
    schema = copy.deepcopy(nova_response_schema(path, "GET", "2.1"))
    assert schema is not None
    key = next(iter(schema["properties"]))
    del schema["properties"][key]["properties"]["hosts_not_run"]["items"]["format"]
    return schema


def test_instance_usage_audit_log(client: TestClient, token: str) -> None:
    headers = at(token, "2.1")
    listed = client.get(f"{BASE}/os-instance_usage_audit_log", headers=headers).json()
    assert_valid(listed, _audit_schema("/os-instance_usage_audit_log"))
    log = listed["instance_usage_audit_logs"]
    assert log["num_hosts"] == log["num_hosts_not_run"] == len(computes(client, token))
    shown = client.get(f"{BASE}/os-instance_usage_audit_log/2012-07-05 10:00:00",
                       headers=headers).json()
    assert_valid(shown, _audit_schema("/os-instance_usage_audit_log/{id}"))
    assert shown["instance_usage_audit_log"]["period_beginning"] == "2012-06-01 00:00:00"
    assert shown["instance_usage_audit_log"]["period_ending"] == "2012-07-01 00:00:00"
    january = client.get(f"{BASE}/os-instance_usage_audit_log/2012-01-01 00:00:00",
                         headers=headers).json()["instance_usage_audit_log"]
    assert (january["period_beginning"], january["period_ending"]) == (
        "2011-11-01 00:00:00", "2011-12-01 00:00:00")
    bad = client.get(f"{BASE}/os-instance_usage_audit_log/not-a-date", headers=headers)
    assert bad.status_code == 400


def test_quota_class_default_is_every_projects_default(client: TestClient,
                                                       token: str) -> None:
    for version in ("2.1", "2.50", "2.57"):
        shown = client.get(f"{BASE}/os-quota-class-sets/default",
                           headers=at(token, version)).json()
        assert_nova_response(shown, "/os-quota-class-sets/{id}", "GET", version)
    old = client.get(f"{BASE}/os-quota-class-sets/default",
                     headers=at(token, "2.1")).json()["quota_class_set"]
    assert "server_groups" not in old and "floating_ips" in old
    updated = client.put(f"{BASE}/os-quota-class-sets/default", headers=at(token, "2.57"),
                         json={"quota_class_set": {"instances": 33, "cores": "44"}})
    assert updated.status_code == 200, updated.text
    assert_nova_response(updated.json(), "/os-quota-class-sets/{id}", "PUT", "2.57")
    assert updated.json()["quota_class_set"]["instances"] == 33
    assert "id" not in updated.json()["quota_class_set"]
    project = client.get(f"{BASE}/os-quota-sets/someone", headers=at(token, "2.57")).json()
    assert (project["quota_set"]["instances"], project["quota_set"]["cores"]) == (33, 44)
    gone = client.put(f"{BASE}/os-quota-class-sets/default", headers=at(token, "2.50"),
                      json={"quota_class_set": {"floating_ips": 3}})
    assert gone.status_code == 400
    files = client.put(f"{BASE}/os-quota-class-sets/default", headers=at(token, "2.57"),
                       json={"quota_class_set": {"injected_files": 3}})
    assert files.status_code == 400


# Bodies on both sides of nova's request schemas: ours must take and refuse the same.
_SCHEMA_CASES: list[tuple[str, str, str | None, str, dict[str, Any], Any]] = [
    ("/os-aggregates", "POST", None, "2.1", aggregates.CREATE,
     [{"aggregate": {"name": "a"}}, {"aggregate": {"name": "a", "availability_zone": None}},
      {"aggregate": {"name": ""}}, {"aggregate": {"name": "a" * 256}},
      {"aggregate": {"name": "a", "extra": 1}}, {"aggregate": {}}, {"name": "a"},
      {"aggregate": {"name": "a", "availability_zone": ""}}]),
    ("/os-aggregates/{id}", "PUT", None, "2.1", aggregates.UPDATE,
     [{"aggregate": {"name": "b"}}, {"aggregate": {"availability_zone": "z"}},
      {"aggregate": {"availability_zone": None}}, {"aggregate": {}},
      {"aggregate": {"uuid": "x"}}]),
    ("/os-aggregates/{id}/action", "POST", "add_host", "2.1", aggregates.ADD_HOST,
     [{"add_host": {"host": "compute1.openstack.local"}}, {"add_host": {"host": ""}},
      {"add_host": {"host": "a b"}}, {"add_host": {}}, {"add_host": {"host": "h", "x": 1}}]),
    ("/os-aggregates/{id}/action", "POST", "set_metadata", "2.1", aggregates.SET_METADATA,
     [{"set_metadata": {"metadata": {"a": "1", "b": None}}},
      {"set_metadata": {"metadata": {"a/b": "1"}}}, {"set_metadata": {"metadata": {"a": 1}}},
      {"set_metadata": {"metadata": {"a": "x" * 256}}}, {"set_metadata": {}}]),
    ("/os-aggregates/{id}/images", "POST", None, "2.81", aggregates.CACHE_IMAGES,
     [{"cache": [{"id": "8a7a1a0e-7b7e-4c1c-9c6a-8d0a3e2f0b11"}]}, {"cache": []},
      {"cache": [{"id": "8a7a1a0e-7b7e-4c1c-9c6a-8d0a3e2f0b11", "x": 1}]}, {"cache": {}}]),
    ("/os-hosts/{id}", "PUT", None, "2.1", os_hosts.UPDATE,
     [{"status": "enable"}, {"maintenance_mode": "DISABLE"}, {}, {"status": "on"},
      {"status": "enable", "extra": 1}]),
    ("/os-quota-class-sets/{id}", "PUT", None, "2.1", quota_classes.UPDATE["2.1"],
     [{"quota_class_set": {"instances": 5, "floating_ips": "3"}},
      {"quota_class_set": {"instances": -2}}, {"quota_class_set": {"force": True}},
      {"quota_class_set": {"server_groups": 1}}]),
    ("/os-quota-class-sets/{id}", "PUT", None, "2.50", quota_classes.UPDATE["2.50"],
     [{"quota_class_set": {"floating_ips": 3}}, {"quota_class_set": {"injected_files": 3}}]),
    ("/os-quota-class-sets/{id}", "PUT", None, "2.57", quota_classes.UPDATE["2.57"],
     [{"quota_class_set": {"injected_files": 3}}, {"quota_class_set": {"key_pairs": "9"}}]),
]


@pytest.mark.parametrize(("path", "method", "action", "version", "ours", "bodies"),
                         _SCHEMA_CASES, ids=[f"{c[0]} {c[2] or c[1]} {c[3]}"
                                             for c in _SCHEMA_CASES])
def test_request_schemas_agree_with_novas(path: str, method: str, action: str | None,
                                          version: str, ours: dict[str, Any],
                                          bodies: list[Any]) -> None:
    theirs = nova_request_schema(path, method, version, action=action)
    assert theirs is not None
    for body in bodies:
        expected = Draft202012Validator(theirs, format_checker=FORMAT_CHECKER).is_valid(body)
        assert Draft202012Validator(ours).is_valid(body) == expected, body


def test_a_server_moved_into_another_zone_takes_that_zone(client: TestClient,
                                                           token: str) -> None:
    headers = at(token, "2.96")
    server = boot(client, token)
    source = server["OS-EXT-SRV-ATTR:host"]
    [other] = [h for h in computes(client, token) if h != source]
    ident = client.post(f"{BASE}/os-aggregates", headers=headers, json={
        "aggregate": {"name": "far", "availability_zone": "far"}}).json()["aggregate"]["id"]
    added = client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                        json={"add_host": {"host": other}})
    assert added.status_code == 200, added.text
    moved = client.post(f"{BASE}/servers/{server['id']}/action", headers=headers,
                        json={"migrate": None})
    assert moved.status_code == 202, moved.text
    shown = client.get(f"{BASE}/servers/{server['id']}", headers=headers).json()["server"]
    assert (shown["OS-EXT-SRV-ATTR:host"], shown["OS-EXT-AZ:availability_zone"]) == (
        other, "far")
    # Its source may now leave the default zone: the server is no longer there.
    client.post(f"{BASE}/servers/{server['id']}/action", headers=headers,
                json={"confirmResize": None})
    joined = client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                         json={"add_host": {"host": source}})
    assert joined.status_code == 200, joined.text


def _member_token(client: TestClient, admin: str) -> tuple[str, str]:
    """A member of a new project: (token, project id)."""
    identity = {"X-Auth-Token": admin}
    project = client.post("/identity/v3/projects", headers=identity, json={
        "project": {"name": "tenant", "domain_id": "default"}}).json()["project"]["id"]
    user = client.post("/identity/v3/users", headers=identity, json={
        "user": {"name": "tenant", "password": "pw", "domain_id": "default"}}).json()["user"]
    role = client.get("/identity/v3/roles", headers=identity,
                      params={"name": "member"}).json()["roles"][0]["id"]
    client.put(f"/identity/v3/projects/{project}/users/{user['id']}/roles/{role}",
               headers=identity)
    issued = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "id": user["id"], "password": "pw"}}},
        "scope": {"project": {"id": project}}}})
    assert issued.status_code == 201, issued.text
    return issued.headers["X-Subject-Token"], project


def test_the_admin_apis_are_admin_only(client: TestClient, token: str) -> None:
    member, project = _member_token(client, token)
    headers = at(member, "2.1")
    refused = [
        client.get(f"{BASE}/os-aggregates", headers=headers),
        client.post(f"{BASE}/os-aggregates", headers=headers, json={"aggregate": {"name": "x"}}),
        client.post(f"{BASE}/os-aggregates/1/action", headers=headers,
                    json={"add_host": {"host": "h"}}),
        client.get(f"{BASE}/os-hosts", headers=headers),
        client.get(f"{BASE}/os-hosts/h/reboot", headers=headers),
        client.get(f"{BASE}/os-hypervisors/h/search", headers=headers),
        client.get(f"{BASE}/os-simple-tenant-usage", headers=headers),
        client.get(f"{BASE}/os-simple-tenant-usage/other", headers=headers),
        client.get(f"{BASE}/os-instance_usage_audit_log", headers=headers),
        client.get(f"{BASE}/os-quota-class-sets/default", headers=headers),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    # A member reads its own project's usage.
    own = client.get(f"{BASE}/os-simple-tenant-usage/{project}", headers=headers)
    assert (own.status_code, own.json()) == (200, {"tenant_usage": {}})
    # Anyone lists the zones, without their hosts.
    zones = client.get(f"{BASE}/os-availability-zone", headers=headers)
    assert zones.status_code == 200


def test_enabled_aggregate_filters_steer_servers_by_flavor() -> None:
    """``[filter_scheduler] enabled_filters`` with AggregateInstanceExtraSpecsFilter: a
    flavor asking for ``ssd`` lands on the aggregate's host, or nowhere."""
    config = ephemeral_config()
    assert config.filter_scheduler.filters() == DEFAULT_ENABLED_FILTERS
    config.set("filter_scheduler", "enabled_filters",
               "ComputeFilter, AggregateInstanceExtraSpecsFilter")
    cloud = Cloud(config)
    cloud.start("http://testserver")
    try:
        with TestClient(build_app(cloud), raise_server_exceptions=False) as client:
            token = admin_token(client)
            headers = at(token, "2.96")
            flavor = client.post(f"{BASE}/flavors", headers=headers, json={"flavor": {
                "name": "ssd", "ram": 64, "vcpus": 1, "disk": 1}}).json()["flavor"]["id"]
            client.post(f"{BASE}/flavors/{flavor}/os-extra_specs", headers=headers, json={
                "extra_specs": {"aggregate_instance_extra_specs:ssd": "true"}})
            nowhere = boot(client, token, flavorRef=flavor)
            assert nowhere["status"] == "ERROR"
            target = computes(client, token)[-1]
            ident = client.post(f"{BASE}/os-aggregates", headers=headers, json={
                "aggregate": {"name": "fast"}}).json()["aggregate"]["id"]
            client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                        json={"add_host": {"host": target}})
            client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                        json={"set_metadata": {"metadata": {"ssd": "true"}}})
            for _ in range(2):
                placed = boot(client, token, flavorRef=flavor)
                assert placed["OS-EXT-SRV-ATTR:host"] == target, placed.get("fault")
            assert cloud.unexpected_errors == 0
    finally:
        cloud.stop()


def test_a_zone_whose_computes_are_all_disabled_is_unavailable(client: TestClient,
                                                                 token: str) -> None:
    headers = at(token, "2.96")
    host = computes(client, token)[0]
    ident = client.post(f"{BASE}/os-aggregates", headers=headers, json={
        "aggregate": {"name": "quiet", "availability_zone": "quiet"}}).json()["aggregate"]["id"]
    client.post(f"{BASE}/os-aggregates/{ident}/action", headers=headers,
                json={"add_host": {"host": host}})
    service = client.get(f"{BASE}/os-services?binary=nova-compute&host={host}",
                         headers=headers).json()["services"][0]
    client.put(f"{BASE}/os-services/{service['id']}", headers=headers,
               json={"status": "disabled"})
    zones = client.get(f"{BASE}/os-availability-zone", headers=headers).json()
    assert {z["zoneName"]: z["zoneState"]["available"]
            for z in zones["availabilityZoneInfo"]} == {"nova": True, "quiet": False}
    detail = client.get(f"{BASE}/os-availability-zone/detail", headers=headers).json()
    assert_nova_response(detail, "/os-availability-zone/detail", "GET", "2.96")
    quiet = next(z for z in detail["availabilityZoneInfo"] if z["zoneName"] == "quiet")
    assert quiet == {"zoneName": "quiet", "zoneState": {"available": False}, "hosts": None}
    # A zone that is not available cannot be asked for.
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    refused = client.post(f"{BASE}/servers", headers=headers, json={"server": {
        "name": "q", "imageRef": image, "flavorRef": "1", "networks": "none",
        "availability_zone": "quiet"}})
    assert refused.status_code == 400


def test_the_default_zone_is_configurable() -> None:
    config = ephemeral_config()
    config.set("DEFAULT", "default_availability_zone", "home")
    cloud = Cloud(config)
    cloud.start("http://testserver")
    try:
        with TestClient(build_app(cloud), raise_server_exceptions=False) as client:
            token = admin_token(client)
            zones = client.get(f"{BASE}/os-availability-zone", headers=at(token, "2.1")).json()
            assert [z["zoneName"] for z in zones["availabilityZoneInfo"]] == ["home"]
            assert boot(client, token)["OS-EXT-AZ:availability_zone"] == "home"
    finally:
        cloud.stop()
