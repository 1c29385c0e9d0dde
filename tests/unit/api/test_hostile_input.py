"""Hostile input meets the shared request path: a 400 in the service's format, never a 500.

Lone surrogates and invalid UTF-8 (body, path, query), integers no column holds,
NaN, header values a client cannot read; checked once in stacklab.api, so every
service gets them.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote, unquote

import pytest
from starlette.testclient import TestClient

from stacklab.api.errors import BadRequest
from stacklab.api.validation import (
    INT64_MAX,
    MAX_INT,
    Schema,
    check_integers,
    describe_neutron,
    describe_nova,
    parse_json,
)
from stacklab.cloud import Cloud
from support.inprocess import admin_token

JSON = {"content-type": "application/json"}


@pytest.fixture
def headers(client: TestClient) -> dict[str, str]:
    return {"X-Auth-Token": admin_token(client), **JSON}


def post_raw(client: TestClient, path: str, raw: bytes, headers: dict[str, str]) -> Any:
    return client.post(path, content=raw, headers=headers)


# -- bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [
    b'{"project": {"name": "\\ud800"}}',          # JSON's own escape of a lone surrogate
    b'{"project": {"name": "\xed\xa0\x80"}}',      # the same surrogate as raw (CESU) bytes
    b'{"project": {"name": "ok", "tags": ["a\\udfffb"]}}',
    b'{"project": {"name": "ok", "\\ud800": 1}}',  # in a key
])
def test_a_lone_surrogate_in_a_keystone_body_is_400_naming_the_field(
        client: TestClient, headers: dict[str, str], raw: bytes) -> None:
    response = post_raw(client, "/identity/v3/projects", raw, headers)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert message.startswith("Invalid input for field 'project")
    assert "is not valid Unicode" in message


def test_a_lone_surrogate_in_a_nova_body_is_400_in_novas_words(
        client: TestClient, headers: dict[str, str]) -> None:
    raw = b'{"keypair": {"name": "k\\ud800"}}'
    response = post_raw(client, "/compute/v2.1/os-keypairs", raw, headers)
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute name. Value: k\\ud800.")


def test_a_lone_surrogate_in_a_glance_body_is_400(
        client: TestClient, headers: dict[str, str]) -> None:
    response = post_raw(client, "/image/v2/images", b'{"name": "\\udc80"}', headers)
    assert response.status_code == 400
    assert response.json()["code"] == "400 Bad Request"


def test_invalid_utf8_in_a_body_is_malformed_json(
        client: TestClient, headers: dict[str, str]) -> None:
    response = post_raw(client, "/compute/v2.1/os-keypairs", b'{"keypair": {"name": "\xff"}}',
                        headers)
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == "Malformed request body"


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}'])
def test_nan_and_infinity_are_not_json(raw: bytes) -> None:
    with pytest.raises(BadRequest):
        parse_json(raw)


def test_parse_json_keeps_valid_unicode() -> None:
    assert parse_json('{"name": "東京 😀 é"}'.encode()) == {"name": "東京 😀 é"}


# -- integers ----------------------------------------------------------------------------


def test_an_integer_beyond_64_bits_is_400_naming_the_field_in_each_services_words(
        client: TestClient, headers: dict[str, str]) -> None:
    # An image property no schema bounds (glance's extra properties are strings; a
    # project's "extra" keys are free): the shared guard still stops it.
    too_big = 2**63
    keystone = client.patch("/identity/v3/regions/RegionOne", headers=headers,
                            content=json.dumps({"region": {"extra": too_big}}))
    assert keystone.status_code == 400
    assert keystone.json()["error"]["message"] == (
        f"Invalid input for field 'region/extra': {too_big} is greater than the maximum of "
        f"{INT64_MAX}")
    # Valid for nova's schema at 2.1 but for the count, which that schema does not bound.
    nova = client.post("/compute/v2.1/servers", headers=headers, content=json.dumps(
        {"server": {"name": "s", "flavorRef": "1", "min_count": too_big}}))
    assert nova.status_code == 400, nova.text
    assert nova.json()["badRequest"]["message"].startswith(
        "Invalid input for field/attribute min_count.")


def test_check_integers_allows_the_64_bit_range_only() -> None:
    check_integers({"a": [INT64_MAX, -(2**63), True, 1.5]})
    with pytest.raises(BadRequest, match="'a/1': -9223372036854775809 is less than"):
        check_integers({"a": [0, -(2**63) - 1]})


def test_numeric_strings_meet_minimum_and_maximum_as_nova_checks_them() -> None:
    schema = Schema({"type": "object", "properties": {
        "ram": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1,
                "maximum": MAX_INT}}})
    schema.validate({"ram": "512"})
    with pytest.raises(BadRequest) as caught:
        schema.validate({"ram": "2147483648"}, describe_nova)
    assert caught.value.message == (
        "Invalid input for field/attribute ram. Value: 2147483648. 2147483648 is greater "
        "than the maximum of 2147483647")
    with pytest.raises(BadRequest) as caught:
        schema.validate({"ram": 0}, describe_neutron)
    assert caught.value.message == (
        "Invalid input for ram. Reason: 0 is less than the minimum of 1.")


@pytest.mark.parametrize(("field", "value"), [
    ("ram", 2**31), ("vcpus", "2147483648"), ("disk", 2**63), ("swap", 2**40),
    ("OS-FLV-EXT-DATA:ephemeral", "99999999999999999999999"),
])
def test_flavor_sizes_beyond_novas_int_columns_are_400(
        client: TestClient, headers: dict[str, str], field: str, value: Any) -> None:
    flavor: dict[str, Any] = {"name": f"big-{field}", "ram": 64, "vcpus": 1, "disk": 1}
    flavor[field] = value
    response = client.post("/compute/v2.1/flavors", headers=headers,
                           content=json.dumps({"flavor": flavor}))
    assert response.status_code == 400, response.text
    assert response.json()["badRequest"]["message"] == (
        f"Invalid input for field/attribute {field}. Value: {value}. {value} is greater than "
        "the maximum of 2147483647")


def test_the_largest_flavor_nova_takes_is_taken(client: TestClient,
                                                headers: dict[str, str]) -> None:
    response = client.post("/compute/v2.1/flavors", headers=headers, content=json.dumps(
        {"flavor": {"name": "huge", "ram": MAX_INT, "vcpus": MAX_INT, "disk": MAX_INT}}))
    assert response.status_code == 200, response.text
    assert response.json()["flavor"]["ram"] == MAX_INT


@pytest.mark.parametrize("value", [2**31, "2147483648", 2**63])
def test_quota_values_beyond_novas_int_columns_are_400(
        client: TestClient, headers: dict[str, str], cloud: Cloud, value: Any) -> None:
    project = client.get("/identity/v3/projects?name=admin", headers=headers).json()[
        "projects"][0]["id"]
    response = client.put(f"/compute/v2.1/os-quota-sets/{project}", headers=headers,
                          content=json.dumps({"quota_set": {"instances": value}}))
    assert response.status_code == 400, response.text
    assert response.json()["badRequest"]["message"].startswith(
        f"Invalid input for field/attribute instances. Value: {value}.")


@pytest.mark.parametrize("field", ["min_ram", "min_disk"])
def test_glance_min_ram_and_min_disk_beyond_their_columns_are_400(
        client: TestClient, headers: dict[str, str], field: str) -> None:
    for value in (2**31, 2**63, 2**64):
        created = client.post("/image/v2/images", headers=headers,
                              content=json.dumps({"name": "big", field: value}))
        assert created.status_code == 400, created.text
        assert created.json()["message"] == (
            f"Invalid input for field '{field}': {value} is greater than the maximum of "
            f"{MAX_INT}")
    image = client.post("/image/v2/images", headers=headers,
                        content=json.dumps({"name": "ok", field: MAX_INT}))
    assert image.status_code == 201, image.text
    patched = client.patch(
        f"/image/v2/images/{image.json()['id']}", headers={
            **headers, "content-type": "application/openstack-images-v2.1-json-patch"},
        content=json.dumps([{"op": "replace", "path": f"/{field}", "value": 2**63}]))
    assert patched.status_code == 400, patched.text


# -- paths and queries -------------------------------------------------------------------


@pytest.mark.parametrize("segment", ["%FF", "%ED%A0%80", "%C3%28", "%F0%28%8C%28"])
def test_invalid_utf8_in_a_path_is_400_in_the_services_format(
        client: TestClient, headers: dict[str, str], segment: str) -> None:
    keystone = client.get(f"/identity/v3/projects/{segment}", headers=headers)
    assert keystone.status_code == 400
    assert keystone.json()["error"]["message"] == (
        "Invalid input: the request path is not valid UTF-8.")
    nova = client.get(f"/compute/v2.1/servers/{segment}", headers=headers)
    assert nova.status_code == 400
    assert "badRequest" in nova.json()
    neutron = client.get(f"/networking/v2.0/networks/{segment}", headers=headers)
    assert neutron.status_code == 400
    assert "NeutronError" in neutron.json()
    # Even where no operation is declared.
    assert client.get(f"/image/v2/nothing/{segment}", headers=headers).status_code == 400


@pytest.mark.parametrize("query", ["name=%FF", "name=%ED%A0%80", "limit=1&name=a%C3"])
def test_invalid_utf8_in_a_query_is_400_naming_the_parameter(
        client: TestClient, headers: dict[str, str], query: str) -> None:
    response = client.get(f"/identity/v3/projects?{query}", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Invalid input for query parameter name: the value is not valid UTF-8.")
    response = client.get(f"/compute/v2.1/servers?{query}", headers=headers)
    assert response.status_code == 400


def test_valid_utf8_in_paths_and_queries_still_works(
        client: TestClient, headers: dict[str, str]) -> None:
    created = client.post("/identity/v3/projects", headers=headers,
                          json={"project": {"name": "東京"}})
    assert created.status_code == 201
    found = client.get("/identity/v3/projects?name=%E6%9D%B1%E4%BA%AC", headers=headers)
    assert [p["name"] for p in found.json()["projects"]] == ["東京"]


@pytest.mark.parametrize("tag", ["été", "東京", "a\u2028b"])
def test_a_non_ascii_tag_in_a_path_is_stored_and_its_location_escaped(
        client: TestClient, headers: dict[str, str], tag: str) -> None:
    project = client.post("/identity/v3/projects", headers=headers,
                          json={"project": {"name": f"tagged-{len(tag)}"}}).json()["project"]
    response = client.put(f"/identity/v3/projects/{project['id']}/tags/{quote(tag)}",
                          headers=headers)
    assert response.status_code == 201, response.text
    location = response.headers["location"]
    assert location.isascii()
    assert unquote(location).endswith(f"/tags/{tag}")
    tags = client.get(f"/identity/v3/projects/{project['id']}/tags", headers=headers)
    assert tags.json()["tags"] == [tag]


def test_a_non_ascii_server_tag_answers_an_ascii_location(
        client: TestClient, headers: dict[str, str]) -> None:
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    server = client.post("/compute/v2.1/servers", headers={
        **headers, "OpenStack-API-Version": "compute 2.96"}, json={"server": {
            "name": "tagged", "imageRef": image, "flavorRef": "1", "networks": "none"}})
    assert server.status_code == 202, server.text
    server_id = server.json()["server"]["id"]
    response = client.put(f"/compute/v2.1/servers/{server_id}/tags/%C3%A9t%C3%A9",
                          headers={**headers, "OpenStack-API-Version": "compute 2.26"})
    assert response.status_code == 201, response.text
    assert response.headers["location"].endswith("/tags/%C3%A9t%C3%A9")


def test_a_long_numeric_string_is_checked_in_linear_time(
        client: TestClient, headers: dict[str, str]) -> None:
    # The schema is read before the policy: any user could send this to an admin's route.
    began = time.perf_counter()
    response = client.post("/compute/v2.1/flavors", headers=headers, content=json.dumps(
        {"flavor": {"name": "long", "ram": "1" * 60000 + "x", "vcpus": 1, "disk": 1}}))
    assert response.status_code == 400
    assert time.perf_counter() - began < 1.0
