"""Image v2 against a live cloud: the real CLI and SDK, bodies checked against glance's spec."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud
from support.apiref import assert_valid, openapi_response_schema

# Every test here runs in each shape of the cloud (conftest.py SHAPES).
pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180), pytest.mark.every_shape]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Glance:
    """Raw HTTP to the image endpoint with a token."""

    def __init__(self, live: LiveCloud, token: str) -> None:
        self.client = httpx.Client(base_url=f"{live.url}/image", timeout=30,
                                   headers={"X-Auth-Token": token})

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        response = self.client.request(method, path, **kw)
        assert response.status_code < 500, response.text
        assert "Traceback" not in response.text
        return response


def token_for(live: LiveCloud, user: str, password: str, project: str) -> str:
    response = httpx.post(f"{live.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


@pytest.fixture(scope="module")
def glance(live: LiveCloud) -> Iterator[Glance]:
    client = Glance(live, token_for(live, "admin", "secret", "admin"))
    yield client
    client.client.close()


def image_schema() -> Any:
    return openapi_response_schema("image", "/v2/images/{image_id}", "get")


def test_the_lab_has_cirros_out_of_the_box(live: LiveCloud) -> None:
    images = live.openstack_json("image", "list")
    cirros = [i for i in images if i["Name"] == "cirros-0.6.2-x86_64-disk"]
    assert len(cirros) == 1 and cirros[0]["Status"] == "active"
    shown = live.openstack_json("image", "show", cirros[0]["ID"])
    assert shown["visibility"] == "public"
    assert shown["disk_format"] == "qcow2"
    assert shown["size"] > 1000


def test_create_upload_save_round_trip_with_the_cli(live: LiveCloud, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4096 + b"tail"  # about 1 MB, not a multiple of any chunk
    source = tmp_path / "disk.raw"
    source.write_bytes(data)
    name = unique("cli-img")
    created = live.openstack_json("image", "create", "--file", str(source), "--disk-format",
                                  "raw", "--container-format", "bare", "--property",
                                  "os_distro=lab", "--tag", "first", name)
    assert created["status"] == "active"
    assert created["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    # The CLI files fields it has no column for under "properties", as with real glance.
    extra = created.get("properties", {})
    assert extra["os_hash_algo"] == "sha512"
    assert extra["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert created["size"] == len(data)
    saved = tmp_path / "saved.raw"
    live.openstack("image", "save", "--file", str(saved), name)
    assert saved.read_bytes() == data
    live.openstack("image", "set", "--name", f"{name}-renamed", "--property", "hw_disk_bus=scsi",
                   "--tag", "second", "--min-ram", "64", name)
    shown = live.openstack_json("image", "show", f"{name}-renamed")
    assert shown["min_ram"] == 64
    assert sorted(shown["tags"]) == ["first", "second"]
    assert shown["properties"]["hw_disk_bus"] == "scsi"
    live.openstack("image", "unset", "--property", "hw_disk_bus", "--tag", "first",
                   f"{name}-renamed")
    shown = live.openstack_json("image", "show", f"{name}-renamed")
    assert shown["tags"] == ["second"]
    assert "hw_disk_bus" not in shown.get("properties", {})
    live.openstack("image", "delete", f"{name}-renamed")
    listed = live.openstack_json("image", "list")
    assert all(i["Name"] != f"{name}-renamed" for i in listed)


def test_protected_image_cannot_be_deleted(live: LiveCloud) -> None:
    name = unique("prot")
    live.openstack("image", "create", "--protected", name)
    result = live.openstack("image", "delete", name, check=False)
    assert result.returncode != 0
    live.openstack("image", "set", "--unprotected", name)
    live.openstack("image", "delete", name)


def test_raw_http_bodies_match_glances_spec(glance: Glance) -> None:
    created = glance.request("POST", "/v2/images", json={
        "name": unique("raw"), "disk_format": "raw", "container_format": "bare",
        "visibility": "private", "custom": "value"})
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "queued" and body["custom"] == "value"
    assert body["file"] == f"/v2/images/{body['id']}/file"
    assert_valid(body, image_schema(), where="POST /v2/images")
    image_id = body["id"]
    upload = glance.request("PUT", f"/v2/images/{image_id}/file", content=b"abc" * 1000,
                            headers={"Content-Type": "application/octet-stream"})
    assert upload.status_code == 204
    again = glance.request("PUT", f"/v2/images/{image_id}/file", content=b"x",
                           headers={"Content-Type": "application/octet-stream"})
    assert again.status_code == 409
    shown = glance.request("GET", f"/v2/images/{image_id}").json()
    assert shown["status"] == "active" and shown["size"] == 3000
    assert "stores" not in shown  # glance shows it only with multiple stores
    assert_valid(shown, image_schema(), where="GET /v2/images/{id}")
    download = glance.request("GET", f"/v2/images/{image_id}/file")
    assert download.content == b"abc" * 1000
    assert download.headers["content-md5"] == hashlib.md5(
        b"abc" * 1000, usedforsecurity=False).hexdigest()
    listing = glance.request("GET", "/v2/images", params={"limit": 1}).json()
    assert len(listing["images"]) == 1 and "next" in listing
    assert listing["first"] == "/v2/images" and listing["schema"] == "/v2/schemas/images"
    assert_valid(listing, openapi_response_schema("image", "/v2/images", "get"),
                 where="GET /v2/images")
    patch = glance.request(
        "PATCH", f"/v2/images/{image_id}",
        json=[{"op": "replace", "path": "/name", "value": "patched"},
              {"op": "add", "path": "/extra", "value": "x"},
              {"op": "remove", "path": "/custom"}],
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert patch.status_code == 200, patch.text
    assert patch.json()["name"] == "patched" and "custom" not in patch.json()
    assert glance.request("DELETE", f"/v2/images/{image_id}").status_code == 204
    assert glance.request("GET", f"/v2/images/{image_id}").status_code == 404


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("POST", "/v2/images", {"json": {"disk_format": "floppy"}}, 400),
    ("POST", "/v2/images", {"json": {"min_ram": "lots"}}, 400),
    ("POST", "/v2/images", {"json": {"status": "active"}}, 403),
    ("POST", "/v2/images", {"content": b"{broken"}, 400),
    ("GET", f"/v2/images/{uuid.UUID(int=1)}", {}, 404),
    ("DELETE", f"/v2/images/{uuid.UUID(int=1)}", {}, 404),
    ("GET", "/v2/images", {"params": {"marker": str(uuid.UUID(int=2))}}, 400),
    ("GET", "/v2/images", {"params": {"sort_key": "nonsense"}}, 400),
    ("GET", "/v2/images", {"params": {"limit": "x"}}, 400),
])
def test_bad_input(glance: Glance, method: str, path: str, kwargs: dict[str, Any],
                   status: int) -> None:
    response = glance.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_patch_needs_glances_media_type(glance: Glance) -> None:
    image_id = glance.request("POST", "/v2/images", json={"name": unique("mt")}).json()["id"]
    response = glance.request("PATCH", f"/v2/images/{image_id}",
                              json=[{"op": "replace", "path": "/name", "value": "n"}])
    assert response.status_code == 415
    glance.request("DELETE", f"/v2/images/{image_id}")


def test_sharing_between_projects(live: LiveCloud, glance: Glance) -> None:
    other_project = unique("share-proj")
    user = unique("share-user")
    live.openstack("project", "create", other_project)
    live.openstack("user", "create", "--password", "pw", user)
    live.openstack("role", "add", "--project", other_project, "--user", user, "member")
    other_id = live.openstack_json("project", "show", other_project)["id"]
    other = Glance(live, token_for(live, user, "pw", other_project))
    image = glance.request("POST", "/v2/images", json={"name": unique("shared"),
                                                       "visibility": "shared"}).json()
    private = glance.request("POST", "/v2/images", json={"name": unique("private"),
                                                         "visibility": "private"}).json()
    assert other.request("GET", f"/v2/images/{private['id']}").status_code == 404
    assert other.request("GET", f"/v2/images/{image['id']}").status_code == 404
    member = glance.request("POST", f"/v2/images/{image['id']}/members",
                            json={"member": other_id})
    assert member.status_code == 200 and member.json()["status"] == "pending"
    assert other.request("GET", f"/v2/images/{image['id']}").status_code == 200
    listed = [i["id"] for i in other.request("GET", "/v2/images").json()["images"]]
    assert image["id"] not in listed  # pending shares stay out of the default list
    accepted = other.request("PUT", f"/v2/images/{image['id']}/members/{other_id}",
                             json={"status": "accepted"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    listed = [i["id"] for i in other.request("GET", "/v2/images").json()["images"]]
    assert image["id"] in listed and private["id"] not in listed
    # A member may not delete or publicize what it does not own.
    assert other.request("DELETE", f"/v2/images/{image['id']}").status_code in (403, 404)
    publicize = glance.request(
        "PATCH", f"/v2/images/{private['id']}",
        json=[{"op": "replace", "path": "/visibility", "value": "public"}],
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert publicize.status_code == 200  # admin may
    own = other.request("POST", "/v2/images", json={"name": unique("mine")}).json()
    refused = other.request(
        "PATCH", f"/v2/images/{own['id']}",
        json=[{"op": "replace", "path": "/visibility", "value": "public"}],
        headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert refused.status_code == 403
    other.client.close()


def test_deactivate_and_reactivate(live: LiveCloud, tmp_path: Path) -> None:
    source = tmp_path / "d.raw"
    source.write_bytes(b"d" * 100)
    name = unique("deact")
    live.openstack("image", "create", "--file", str(source), "--disk-format", "raw", name)
    live.openstack("image", "set", "--deactivate", name)
    assert live.openstack_json("image", "show", name)["status"] == "deactivated"
    live.openstack("image", "set", "--activate", name)
    assert live.openstack_json("image", "show", name)["status"] == "active"
    live.openstack("image", "delete", name)


def test_sdk_image_flow(live: LiveCloud) -> None:
    conn = live.connect()
    name = unique("sdk")
    image = conn.image.create_image(name=name, data=b"sdk-bytes" * 100, disk_format="raw",
                                    container_format="bare", validate_checksum=True)
    assert image.status == "active"
    assert image.checksum == hashlib.md5(b"sdk-bytes" * 100, usedforsecurity=False).hexdigest()
    fetched = conn.image.download_image(image)
    assert fetched.content == b"sdk-bytes" * 100 if hasattr(fetched, "content") else \
        fetched == b"sdk-bytes" * 100
    conn.image.add_tag(image, "t1")
    assert "t1" in conn.image.get_image(image).tags
    conn.image.delete_image(image)
    assert conn.image.find_image(name) is None


def test_glance_direct_import_with_the_cli(live: LiveCloud, tmp_path: Path) -> None:
    source = tmp_path / "staged.raw"
    source.write_bytes(b"staged" * 500)
    name = unique("import")
    created = live.openstack_json("image", "create", "--import", "--file", str(source),
                                  "--disk-format", "raw", "--container-format", "bare", name)
    shown = live.openstack_json("image", "show", created["id"])
    assert shown["status"] == "active"
    assert shown["size"] == 3000
    saved = tmp_path / "back.raw"
    live.openstack("image", "save", "--file", str(saved), created["id"])
    assert saved.read_bytes() == b"staged" * 500
    live.openstack("image", "delete", created["id"])


def test_import_state_errors(glance: Glance) -> None:
    image_id = glance.request("POST", "/v2/images", json={"name": unique("imp")}).json()["id"]
    early = glance.request("POST", f"/v2/images/{image_id}/import",
                           json={"method": {"name": "glance-direct"}})
    assert early.status_code == 409  # nothing staged yet
    staged = glance.request("PUT", f"/v2/images/{image_id}/stage", content=b"x" * 10,
                            headers={"Content-Type": "application/octet-stream"})
    assert staged.status_code == 204
    assert glance.request("GET", f"/v2/images/{image_id}").json()["status"] == "uploading"
    unknown = glance.request("POST", f"/v2/images/{image_id}/import",
                             json={"method": {"name": "copy-image"}})
    assert unknown.status_code == 400  # not enabled: the lab has one store
    not_queued = glance.request("POST", f"/v2/images/{image_id}/import",
                                json={"method": {"name": "web-download",
                                                 "uri": "http://127.0.0.1/x"}})
    assert not_queued.status_code == 409
    formatless = glance.request("POST", f"/v2/images/{image_id}/import",
                                json={"method": {"name": "glance-direct"}})
    assert formatless.status_code == 409
    assert "container_format" in formatless.json()["message"]
    glance.request("DELETE", f"/v2/images/{image_id}")
    image_id = glance.request("POST", "/v2/images", json={
        "name": unique("imp"), "disk_format": "raw", "container_format": "bare"}).json()["id"]
    glance.request("PUT", f"/v2/images/{image_id}/stage", content=b"x" * 10,
                   headers={"Content-Type": "application/octet-stream"})
    done = glance.request("POST", f"/v2/images/{image_id}/import",
                          json={"method": {"name": "glance-direct"}})
    assert done.status_code == 202
    assert glance.request("GET", f"/v2/images/{image_id}").json()["status"] == "active"
    glance.request("DELETE", f"/v2/images/{image_id}")


def test_list_filters_with_glances_in_and_eq_operators(glance: Glance) -> None:
    # openstackclient's `server list` resolves image names with ``id=in:<ids>``.
    ids = [glance.request("POST", "/v2/images", json={"name": f"in-op-{n}"}).json()["id"]
           for n in range(3)]
    try:
        listed = glance.request("GET", f"/v2/images?id=in:{ids[0]},{ids[2]}").json()["images"]
        assert sorted(i["id"] for i in listed) == sorted([ids[0], ids[2]])
        named = glance.request("GET", '/v2/images?name=in:"in-op-1",in-op-2').json()["images"]
        assert sorted(i["name"] for i in named) == ["in-op-1", "in-op-2"]
        exact = glance.request("GET", "/v2/images?name=eq:in-op-0").json()["images"]
        assert [i["id"] for i in exact] == [ids[0]]
        assert glance.request("GET", "/v2/images?id=in:").status_code == 400
    finally:
        for ident in ids:
            glance.request("DELETE", f"/v2/images/{ident}")
