"""Volume types over HTTP: create, show, update, delete, extra specs, private access,
encryption; the default type; what a member sees."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from support.inprocess import admin_token
from unit.block_storage.cinder_calls import V3, at, member_token


@pytest.fixture
def admin(client: TestClient) -> str:
    return admin_token(client)


def create(client: TestClient, token: str, **fields: Any) -> Any:
    return client.post(f"{V3}/types", headers=at(token), json={"volume_type": fields})


def test_the_default_type_exists_and_cannot_be_deleted(client: TestClient, admin: str) -> None:
    shown = client.get(f"{V3}/types/default", headers=at(admin))
    assert shown.status_code == 200, shown.text
    default = shown.json()["volume_type"]
    assert (default["name"], default["is_public"]) == ("__DEFAULT__", True)
    assert default["description"] == "Default Volume Type"
    assert default["os-volume-type-access:is_public"] is True
    refused = client.delete(f"{V3}/types/{default['id']}", headers=at(admin))
    assert refused.status_code == 400
    assert "default volume type" in refused.json()["badRequest"]["message"]


def test_create_show_update_and_delete_a_type(client: TestClient, admin: str) -> None:
    made = create(client, admin, name="gold", description="fast",
                  extra_specs={"volume_backend_name": "lvm"})
    assert made.status_code == 200, made.text
    body = made.json()["volume_type"]
    assert body["extra_specs"] == {"volume_backend_name": "lvm"}
    # types_manage's view: no qos_specs_id; volume_type_access extends the create only.
    assert "qos_specs_id" not in body and body["is_public"] is True
    assert body["os-volume-type-access:is_public"] is True
    ident = body["id"]
    assert client.get(f"{V3}/types/{ident}", headers=at(admin)).json()[
        "volume_type"]["qos_specs_id"] is None
    assert create(client, admin, name="gold").status_code == 409
    updated = client.put(f"{V3}/types/{ident}", headers=at(admin),
                         json={"volume_type": {"description": "faster"}})
    assert updated.json()["volume_type"]["description"] == "faster"
    assert set(updated.json()["volume_type"]) == {"id", "name", "is_public", "extra_specs",
                                                  "description"}
    nothing = client.put(f"{V3}/types/{ident}", headers=at(admin),
                         json={"volume_type": {}})
    assert nothing.status_code == 400
    blank = client.put(f"{V3}/types/{ident}", headers=at(admin),
                       json={"volume_type": {"name": "  "}})
    assert blank.json()["badRequest"]["message"] == "Volume type name can not be empty."
    names = [t["name"] for t in client.get(f"{V3}/types", headers=at(admin)).json()[
        "volume_types"]]
    assert set(names) == {"__DEFAULT__", "gold"}
    assert client.delete(f"{V3}/types/{ident}", headers=at(admin)).status_code == 202
    gone = client.get(f"{V3}/types/{ident}", headers=at(admin))
    assert gone.status_code == 404
    assert gone.json()["itemNotFound"]["message"] == f"Volume type {ident} could not be found."


def test_bad_type_bodies_name_the_field(client: TestClient, admin: str) -> None:
    long_name = create(client, admin, name="x" * 256)
    assert long_name.status_code == 400
    assert "name" in long_name.json()["badRequest"]["message"]
    bad_public = create(client, admin, name="t", **{"os-volume-type-access:is_public": "maybe"})
    assert bad_public.status_code == 400
    assert "os-volume-type-access:is_public" in bad_public.json()["badRequest"]["message"]
    bad_spec = create(client, admin, name="t", extra_specs={"k": 1})
    assert bad_spec.status_code == 400 and "k" in bad_spec.json()["badRequest"]["message"]
    assert client.post(f"{V3}/types", headers=at(admin), json={"x": {}}).status_code == 400
    assert client.post(f"{V3}/types", headers=at(admin), content=b"{").status_code == 400


def test_extra_specs(client: TestClient, admin: str) -> None:
    ident = create(client, admin, name="specs").json()["volume_type"]["id"]
    url = f"{V3}/types/{ident}/extra_specs"
    posted = client.post(url, headers=at(admin), json={"extra_specs": {"a": "1", "b": "2"}})
    assert posted.json() == {"extra_specs": {"a": "1", "b": "2"}}
    assert client.get(url, headers=at(admin)).json() == {"extra_specs": {"a": "1", "b": "2"}}
    assert client.get(f"{url}/a", headers=at(admin)).json() == {"a": "1"}
    put = client.put(f"{url}/a", headers=at(admin), json={"a": "3"})
    assert put.json() == {"a": "3"}
    mismatch = client.put(f"{url}/a", headers=at(admin), json={"b": "3"})
    assert mismatch.json()["badRequest"]["message"] == "Request body and URI mismatch"
    assert client.put(f"{url}/a", headers=at(admin),
                      json={"a": "1", "b": "2"}).status_code == 400
    assert client.delete(f"{url}/a", headers=at(admin)).status_code == 202
    missing = client.delete(f"{url}/a", headers=at(admin))
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == (
        f"Volume Type {ident} has no extra specs with key a.")
    both = client.post(url, headers=at(admin), json={"extra_specs": {
        "cacheable": "<is> True", "multiattach": "<is> True"}})
    assert both.status_code == 400


def test_private_types_and_access(client: TestClient, admin: str) -> None:
    member, project = member_token(client, admin, "types")
    private = create(client, admin, name="private",
                     **{"os-volume-type-access:is_public": False}).json()["volume_type"]
    ident = private["id"]
    assert private["is_public"] is False
    # A member sees public types only, without the admin's fields.
    seen = client.get(f"{V3}/types", headers=at(member)).json()["volume_types"]
    assert [t["name"] for t in seen] == ["__DEFAULT__"]
    assert "qos_specs_id" not in seen[0] and seen[0]["extra_specs"] == {}
    assert client.get(f"{V3}/types/{ident}", headers=at(member)).status_code == 404
    # The admin's default list is the public types; is_public=none lists all.
    admin_default = client.get(f"{V3}/types", headers=at(admin)).json()["volume_types"]
    assert "private" not in [t["name"] for t in admin_default]
    everything = client.get(f"{V3}/types?is_public=none", headers=at(admin)).json()
    assert "private" in [t["name"] for t in everything["volume_types"]]
    assert client.get(f"{V3}/types?is_public=maybe", headers=at(admin)).status_code == 400

    action = f"{V3}/types/{ident}/action"
    added = client.post(action, headers=at(admin),
                        json={"addProjectAccess": {"project": project}})
    assert added.status_code == 202, added.text
    again = client.post(action, headers=at(admin),
                        json={"addProjectAccess": {"project": project}})
    assert again.status_code == 409
    listed = client.get(f"{V3}/types/{ident}/os-volume-type-access", headers=at(admin))
    assert listed.json() == {"volume_type_access": [
        {"volume_type_id": ident, "project_id": project}]}
    assert client.get(f"{V3}/types/{ident}", headers=at(member)).status_code == 200
    assert "private" in [t["name"] for t in client.get(
        f"{V3}/types", headers=at(member)).json()["volume_types"]]
    # A member may not change access or types.
    assert client.post(action, headers=at(member),
                       json={"removeProjectAccess": {"project": project}}).status_code == 403
    assert create(client, member, name="mine").status_code == 403
    removed = client.post(action, headers=at(admin),
                          json={"removeProjectAccess": {"project": project}})
    assert removed.status_code == 202
    assert client.post(action, headers=at(admin), json={
        "removeProjectAccess": {"project": project}}).status_code == 404
    public = create(client, admin, name="public").json()["volume_type"]["id"]
    assert client.get(f"{V3}/types/{public}/os-volume-type-access",
                      headers=at(admin)).status_code == 404
    assert client.post(f"{V3}/types/{public}/action", headers=at(admin), json={
        "addProjectAccess": {"project": project}}).status_code == 400
    assert client.post(action, headers=at(admin), json={"nope": {}}).status_code == 400


def test_type_listing_sorts_and_pages(client: TestClient, admin: str) -> None:
    for name in ("b", "a", "c"):
        create(client, admin, name=name)
    page = client.get(f"{V3}/types?sort=name:asc&limit=2", headers=at(admin)).json()
    assert [t["name"] for t in page["volume_types"]] == ["__DEFAULT__", "a"]
    next_href = page["volume_type_links"][0]["href"]
    assert next_href.startswith("http://testserver/volume/v3/types?")
    marker = page["volume_types"][-1]["id"]
    rest = client.get(f"{V3}/types?sort=name:asc&limit=2&marker={marker}",
                      headers=at(admin)).json()
    assert [t["name"] for t in rest["volume_types"]] == ["b", "c"]
    assert client.get(f"{V3}/types?sort=nope", headers=at(admin)).status_code == 400
    assert client.get(f"{V3}/types?limit=x", headers=at(admin)).status_code == 400
    assert client.get(f"{V3}/types?marker=nope", headers=at(admin)).status_code == 404
    assert client.get(f"{V3}/types?sort=name&sort_key=id",
                      headers=at(admin)).status_code == 400


def test_encryption_types_are_data(client: TestClient, admin: str) -> None:
    ident = create(client, admin, name="luks").json()["volume_type"]["id"]
    url = f"{V3}/types/{ident}/encryption"
    assert client.get(url, headers=at(admin)).json() == {}
    made = client.post(url, headers=at(admin), json={"encryption": {
        "provider": "luks", "control_location": "front-end", "cipher": "aes-xts-plain64",
        "key_size": 256}})
    assert made.status_code == 200, made.text
    encryption = made.json()["encryption"]
    assert (encryption["volume_type_id"], encryption["key_size"]) == (ident, 256)
    assert client.post(url, headers=at(admin), json={"encryption": {
        "provider": "luks", "control_location": "front-end"}}).status_code == 400
    shown = client.get(url, headers=at(admin)).json()
    assert shown["provider"] == "luks" and shown["deleted"] is False
    assert client.get(f"{url}/cipher", headers=at(admin)).json() == {
        "cipher": "aes-xts-plain64"}
    bad = client.post(url, headers=at(admin), json={"encryption": {
        "provider": "luks", "control_location": "middle"}})
    assert bad.status_code == 400 and "control_location" in bad.json()["badRequest"]["message"]
    updated = client.put(f"{url}/{encryption['encryption_id']}", headers=at(admin),
                         json={"encryption": {"key_size": 512}})
    assert updated.json() == {"encryption": {"key_size": 512}}
    assert client.get(url, headers=at(admin)).json()["key_size"] == 512
    assert client.delete(f"{url}/{encryption['encryption_id']}",
                         headers=at(admin)).status_code == 202
    assert client.get(url, headers=at(admin)).json() == {}
