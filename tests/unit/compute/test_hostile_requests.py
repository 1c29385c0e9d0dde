"""Compute requests that used to answer 500 or stall the cloud: regular-expression filters
(RE2, linear time; an invalid pattern is nova's 400), action bodies that are not objects.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from support.inprocess import admin_token
from unit.compute.nova_calls import BASE


@pytest.fixture
def headers(client: TestClient) -> dict[str, str]:
    return {"X-Auth-Token": admin_token(client), "OpenStack-API-Version": "compute 2.96"}


def boot(client: TestClient, headers: dict[str, str], name: str, count: int = 1) -> None:
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    server: dict[str, Any] = {"name": name, "imageRef": image, "flavorRef": "1",
                              "networks": "none"}
    if count > 1:
        server.update(min_count=count, max_count=count)
    response = client.post(f"{BASE}/servers", headers=headers, json={"server": server})
    assert response.status_code == 202, response.text


def names(client: TestClient, headers: dict[str, str], **params: str) -> list[str]:
    response = client.get(f"{BASE}/servers", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return sorted(s["name"] for s in response.json()["servers"])


def test_the_name_filter_is_a_regular_expression_search(
        client: TestClient, headers: dict[str, str]) -> None:
    for name in ("web-1", "web-2", "db-1", "Web-3"):
        boot(client, headers, name)
    assert names(client, headers, name="web") == ["web-1", "web-2"]
    assert names(client, headers, name="^db") == ["db-1"]
    assert names(client, headers, name="-[13]$") == ["Web-3", "db-1", "web-1"]
    assert names(client, headers, name="(?i)^web") == ["Web-3", "web-1", "web-2"]
    assert names(client, headers, name="nothing") == []


def test_a_pathological_pattern_answers_at_once(
        client: TestClient, headers: dict[str, str]) -> None:
    # Python's re needs about 2**n steps per name here (n = 40: days); RE2 is linear.
    boot(client, headers, "a" * 40 + "b", count=8)
    began = time.perf_counter()
    assert names(client, headers, name="^(a+)+$") == []
    assert time.perf_counter() - began < 2.0
    assert len(names(client, headers, name="^(a+)+b")) == 8


@pytest.mark.parametrize(("name", "pattern"), [
    ("name", "["), ("name", "(a)\\1"), ("name", "(?=a)x"), ("ip", "["), ("ip", "a{2,1}"),
    ("ip6", "("),
])
def test_an_invalid_pattern_is_400_naming_the_filter(
        client: TestClient, headers: dict[str, str], name: str, pattern: str) -> None:
    boot(client, headers, "one")
    response = client.get(f"{BASE}/servers/detail", headers=headers, params={name: pattern})
    assert response.status_code == 400, response.text
    assert response.json() == {"badRequest": {"code": 400, "message": (
        f"Invalid input for query parameters {name}. Value: {pattern}. '{pattern}' is not a "
        "'regex'")}}


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"1", b"null", b"true", b"1.5", b'["os-stop"]'])
def test_an_action_body_that_is_not_an_object_is_400(
        client: TestClient, headers: dict[str, str], raw: bytes) -> None:
    boot(client, headers, "acted")
    server = client.get(f"{BASE}/servers", headers=headers).json()["servers"][0]["id"]
    response = client.post(f"{BASE}/servers/{server}/action", content=raw,
                           headers={**headers, "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json() == {"badRequest": {
        "code": 400, "message": "Malformed request body: too many body keys"}}


def test_an_operation_before_its_microversion_is_404(
        client: TestClient, headers: dict[str, str]) -> None:
    boot(client, headers, "console")
    server = client.get(f"{BASE}/servers", headers=headers).json()["servers"][0]["id"]
    response = client.post(f"{BASE}/servers/{server}/remote-consoles",
                           headers={**headers, "OpenStack-API-Version": "compute 2.5"},
                           json={"remote_console": {"protocol": "vnc", "type": "novnc"}})
    assert response.status_code == 404, response.text
    assert response.json()["itemNotFound"]["message"] == "The resource could not be found."


def test_no_compute_body_that_is_not_an_object_answers_5xx(
        client: TestClient, headers: dict[str, str], cloud: Cloud) -> None:
    """Every compute operation that takes a body, on real resources, at two microversions."""
    boot(client, headers, "target")
    server = client.get(f"{BASE}/servers", headers=headers).json()["servers"][0]["id"]
    project = client.get("/identity/v3/projects?name=admin",
                         headers=headers).json()["projects"][0]["id"]
    flavor = client.post(f"{BASE}/flavors", headers=headers, json={"flavor": {
        "name": "sweep", "ram": 64, "vcpus": 1, "disk": 1,
        "os-flavor-access:is_public": False}}).json()["flavor"]["id"]
    values = {"server_id": server, "flavor_id": flavor, "project_id": project, "key": "k",
              "tag": "t", "action": "enable", "port_id": "p", "name": "n", "group_id": "g",
              "image_id": "i", "network_id": "n",
              "aggregate_id": "1", "host_name": "compute1.openstack.local",
              "class_name": "default", "migration_id": "1", "volume_id": "v"}
    api = next(api for _, api in cloud.service_apis() if api.name == "compute")
    operations = [op for op in api.operations if op.method in ("POST", "PUT", "PATCH")]
    assert len(operations) >= 15
    answered: list[tuple[str, bytes, int]] = []
    for op in operations:
        path = op.path.format(**values)
        for raw in (b"[]", b'"x"', b"1", b"null", b"true", b"1.5", b"{}", b'{"x": []}'):
            for version in ("2.1", "2.96"):
                response = client.request(op.method, BASE.removesuffix("/v2.1") + path,
                                          content=raw, headers={
                                              **headers, "content-type": "application/json",
                                              "OpenStack-API-Version": f"compute {version}"})
                answered.append((op.name, raw, response.status_code))
    assert [a for a in answered if a[2] >= 500] == []
    assert cloud.unexpected_errors == 0
