"""Image v2 routes in an in-process cloud: the v2.0 patch dialect, single-store images,
metadata definitions, tasks and the import methods; bodies checked against glance's
OpenAPI description and api-ref samples (shared/api-ref)."""

from __future__ import annotations

import hashlib
import http.server
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.image.builtin import cirros_bytes
from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample
from support.inprocess import admin_token, ephemeral_config

V20 = "application/openstack-images-v2.0-json-patch"
V21 = "application/openstack-images-v2.1-json-patch"
SAMPLES = "api-ref/source/v2/samples"
# A well-formed qcow2: glance inspects uploads against their disk_format (qcow2 here).
DATA = cirros_bytes()


class Glance:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = {"X-Auth-Token": token}

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        response = self.client.request(method, f"/image{path}", headers=headers, **kw)
        assert response.status_code < 500, response.text
        return response


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    instance = Cloud(ephemeral_config())
    instance.start("http://testserver")
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def client(cloud: Cloud) -> Iterator[TestClient]:
    with TestClient(build_app(cloud)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def admin(client: TestClient) -> Glance:
    return Glance(client, admin_token(client))


@pytest.fixture(scope="module")
def member(client: TestClient, admin: Glance) -> Glance:
    """A member (not admin) of a project of its own."""
    auth = {"X-Auth-Token": admin.headers["X-Auth-Token"]}
    project = client.post("/identity/v3/projects", headers=auth, json={
        "project": {"name": "imgproj", "domain_id": "default"}}).json()["project"]
    user = client.post("/identity/v3/users", headers=auth, json={"user": {
        "name": "imguser", "password": "pw-imguser", "domain_id": "default"}}).json()["user"]
    role = client.get("/identity/v3/roles?name=member", headers=auth).json()["roles"][0]
    assert client.put(f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/"
                      f"{role['id']}", headers=auth).status_code == 204
    answer = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "imguser", "domain": {"id": "default"}, "password": "pw-imguser"}}},
        "scope": {"project": {"id": project["id"]}}}})
    assert answer.status_code == 201, answer.text
    return Glance(client, answer.headers["X-Subject-Token"])


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    """A loopback HTTP server: ``/disk`` serves DATA, ``/away`` redirects off-box."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/away":
                self.send_response(302)
                self.send_header("Location", "http://192.0.2.1/disk")
                self.end_headers()
                return
            if self.path != "/disk":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def new_image(glance: Glance, **fields: Any) -> dict[str, Any]:
    body = {"name": f"img-{uuid.uuid4().hex[:6]}", "disk_format": "qcow2",
            "container_format": "bare", **fields}
    response = glance("POST", "/v2/images", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


# -- images: patch dialects, stores, the empty id ---------------------------------------


def test_v20_patch_dialect_is_glance_s(member: Glance) -> None:
    image = new_image(member)
    path = f"/v2/images/{image['id']}"
    changed = member("PATCH", path, headers={"Content-Type": V20}, json=[
        {"replace": "/name", "value": "renamed"}, {"add": "/os_distro", "value": "rhel"},
        {"add": "/trait:STORAGE_DISK_SSD", "value": "required"}])
    assert changed.status_code == 200, changed.text
    assert_valid(changed.json(), openapi_response_schema("image", "/v2/images/{image_id}",
                                                         "patch"))
    assert changed.json()["name"] == "renamed"
    assert changed.json()["trait:STORAGE_DISK_SSD"] == "required"
    again = member("PATCH", path, headers={"Content-Type": V20},
                   json=[{"add": "/os_distro", "value": "windows"}])
    assert again.status_code == 409 and "already present" in again.json()["message"]
    # The same add in the v2.1 dialect replaces.
    v21 = member("PATCH", path, headers={"Content-Type": V21},
                 json=[{"op": "add", "path": "/os_distro", "value": "windows"}])
    assert v21.json()["os_distro"] == "windows"
    removed = member("PATCH", path, headers={"Content-Type": V20},
                     json=[{"remove": "/os_distro"}, {"replace": "/os_hidden", "value": True}])
    assert "os_distro" not in removed.json() and removed.json()["os_hidden"] is True
    bad = member("PATCH", path, headers={"Content-Type": V20},
                 json=[{"op": "replace", "path": "/name", "value": "x"}])
    assert bad.status_code == 400 and "exactly one member" in bad.json()["message"]
    wrong = member("PATCH", path, headers={"Content-Type": "application/json"}, json=[])
    assert wrong.status_code == 415
    assert wrong.headers["Accept-Patch"] == f"{V20}, {V21}"


def test_a_query_on_a_core_attribute_filters_the_column(member: Glance) -> None:
    """Tempest's ListUserImagesTest: ``?size=N`` finds the image of that size, as
    ``?min_ram=`` the one of that minimum; neither looks among the extra properties."""
    image = new_image(member, min_ram=4321, os_distro="cirros")
    assert member("PUT", f"/v2/images/{image['id']}/file", content=DATA,
                  headers={"Content-Type": "application/octet-stream"}).status_code == 204
    for query in (f"size={len(DATA)}", "min_ram=4321", "os_distro=cirros"):
        found = member("GET", f"/v2/images?{query}&min_ram=4321").json()["images"]
        assert [i["id"] for i in found] == [image["id"]], query
    assert member("GET", f"/v2/images?size={len(DATA) + 1}&min_ram=4321").json()[
        "images"] == []


def test_single_store_images_show_no_stores(admin: Glance, member: Glance) -> None:
    image = new_image(member)
    assert member("PUT", f"/v2/images/{image['id']}/file", content=DATA,
                  headers={"Content-Type": "application/octet-stream"}).status_code == 204
    shown = member("GET", f"/v2/images/{image['id']}").json()
    assert shown["status"] == "active" and "stores" not in shown
    for path in ("/v2/info/stores", "/v2/info/stores/detail"):
        stores = admin("GET", path)
        assert stores.status_code == 404
        assert stores.json()["message"] == "Multi backend is not supported at this site."


@pytest.mark.parametrize("method", ["GET", "DELETE", "HEAD"])
def test_an_empty_image_id_is_404(member: Glance, method: str) -> None:
    assert member(method, "/v2/images/").status_code == 404


# -- metadata definitions -------------------------------------------------------------


SCHEMA_SAMPLES = {
    "namespace": "namespace-show", "namespaces": "namespaces-list",
    "resource_type": "resource-type-association-show",
    "resource_types": "resource-type-associations-list", "object": "object-show",
    "objects": "objects-list", "property": "property-show", "properties": "properties-list",
    "tag": "tag-show", "tags": "tags-list",
}


@pytest.mark.parametrize("path", list(SCHEMA_SAMPLES))
def test_metadef_schemas_name_what_glance_s_do(member: Glance, path: str) -> None:
    served = member("GET", f"/v2/schemas/metadefs/{path}")
    assert served.status_code == 200
    upstream = sample("glance", f"{SAMPLES}/schemas-metadef-{SCHEMA_SAMPLES[path]}-response.json")
    assert served.json()["name"] == upstream["name"]
    assert sorted(served.json()["properties"]) == sorted(upstream["properties"])


def test_namespace_life_as_tempest_drives_it(admin: Glance, member: Glance) -> None:
    types = admin("GET", "/v2/metadefs/resource_types").json()
    assert_valid(types, openapi_response_schema("image", "/v2/metadefs/resource_types", "get"))
    assert_shape_like_sample(types, sample("glance", f"{SAMPLES}/"
                                                     "metadef-resource-types-list-response.json"))
    resource_type = types["resource_types"][0]["name"]
    created = admin("POST", "/v2/metadefs/namespaces", json={
        "namespace": "Lab::Tempest", "visibility": "public", "description": "Tempest",
        "display_name": "Lab::Tempest", "protected": True,
        "resource_type_associations": [{"name": resource_type}]})
    assert created.status_code == 201, created.text
    assert created.headers["Location"].endswith("/v2/metadefs/namespaces/Lab::Tempest")
    assert_valid(created.json(), openapi_response_schema(
        "image", "/v2/metadefs/namespaces", "post", "201"))
    listed = admin("GET", "/v2/metadefs/namespaces").json()
    assert_valid(listed, openapi_response_schema("image", "/v2/metadefs/namespaces", "get"))
    assert "Lab::Tempest" in [ns["namespace"] for ns in listed["namespaces"]]
    shown = member("GET", "/v2/metadefs/namespaces/Lab::Tempest")
    assert shown.status_code == 200 and shown.json()["visibility"] == "public"
    assert_shape_like_sample(shown.json(), sample(
        "glance", f"{SAMPLES}/metadef-namespace-details-response.json"),
        ignore={"$.properties", "$.resource_type_associations[*].prefix"})
    # Only admins change metadefs (glance's default metadef_admin).
    refused = member("DELETE", "/v2/metadefs/namespaces/Lab::Tempest")
    assert refused.status_code == 403
    protected = admin("DELETE", "/v2/metadefs/namespaces/Lab::Tempest")
    assert protected.status_code == 403 and "protected" in protected.json()["message"]
    updated = admin("PUT", "/v2/metadefs/namespaces/Lab::Tempest", json={
        "namespace": "Lab::Tempest", "description": "Tempest", "visibility": "private",
        "display_name": "Lab::Tempest", "protected": False})
    assert updated.status_code == 200, updated.text
    assert_valid(updated.json(), openapi_response_schema(
        "image", "/v2/metadefs/namespaces/{namespace_name}", "put"))
    assert (updated.json()["visibility"], updated.json()["protected"]) == ("private", False)
    # Now private to the admin project: another project neither sees nor touches it.
    assert member("GET", "/v2/metadefs/namespaces/Lab::Tempest").status_code == 404
    assert member("DELETE", "/v2/metadefs/namespaces/Lab::Tempest").status_code == 404
    assert "Lab::Tempest" not in [ns["namespace"] for ns in member(
        "GET", "/v2/metadefs/namespaces").json()["namespaces"]]
    assert admin("DELETE", "/v2/metadefs/namespaces/Lab::Tempest").status_code == 204
    assert admin("GET", "/v2/metadefs/namespaces/Lab::Tempest").status_code == 404


def _walk(glance: Glance, path: str, key: str, name: str) -> list[str]:
    """Every item of a list, one page at a time by its ``next`` links."""
    seen: list[str] = []
    while True:
        body = glance("GET", path).json()
        assert len(body[key]) <= 1
        seen += [item[name] for item in body[key]]
        if "next" not in body:
            return seen
        path = body["next"]


def test_namespaces_page_by_name(admin: Glance, member: Glance) -> None:
    for name in ("Lab::Page::B", "Lab::Page::A", "Lab::Page::C"):
        assert admin("POST", "/v2/metadefs/namespaces", json={
            "namespace": name, "visibility": "public"}).status_code == 201
    assert admin("POST", "/v2/metadefs/namespaces", json={
        "namespace": "Lab::Page::Hidden"}).status_code == 201
    every = [ns["namespace"] for ns in admin(
        "GET", "/v2/metadefs/namespaces").json()["namespaces"]]
    assert {"Lab::Page::A", "Lab::Page::Hidden"} <= set(every)
    assert _walk(admin, "/v2/metadefs/namespaces?limit=1", "namespaces", "namespace") == every
    ordered = admin("GET", "/v2/metadefs/namespaces?sort_key=namespace&sort_dir=asc"
                           "&limit=2&marker=Lab::Page::A").json()
    assert [ns["namespace"] for ns in ordered["namespaces"]] == ["Lab::Page::B",
                                                                 "Lab::Page::C"]
    mine = [ns["namespace"] for ns in member("GET", "/v2/metadefs/namespaces?sort_key="
                                                    "namespace&sort_dir=asc").json()[
        "namespaces"]]
    assert [n for n in mine if n.startswith("Lab::Page::")] == [
        "Lab::Page::A", "Lab::Page::B", "Lab::Page::C"]
    # Another project's private namespace is no marker for a member.
    unknown = member("GET", "/v2/metadefs/namespaces?marker=Lab::Page::Hidden")
    assert unknown.status_code == 404
    assert "namespace=Lab::Page::Hidden was not found" in unknown.text
    assert admin("GET", "/v2/metadefs/namespaces?sort_key=description").status_code == 400
    for name in ("Lab::Page::A", "Lab::Page::B", "Lab::Page::C", "Lab::Page::Hidden"):
        assert admin("DELETE", f"/v2/metadefs/namespaces/{name}").status_code == 204


def test_read_only_and_bad_bodies(admin: Glance) -> None:
    stamped = admin("POST", "/v2/metadefs/namespaces",
                    json={"namespace": "Lab::Ro", "created_at": "now"})
    assert stamped.status_code == 403
    assert stamped.json()["message"] == "Attribute 'created_at' is read-only."
    assert admin("POST", "/v2/metadefs/namespaces",
                 json={"visibility": "public"}).status_code == 400
    assert admin("POST", "/v2/metadefs/namespaces",
                 json={"namespace": "Lab::Bad", "visibility": "shared"}).status_code == 400
    for inner in ({"tags": [{}]}, {"objects": [{"description": "d"}]},
                  {"resource_type_associations": [{"prefix": "p"}]},
                  {"properties": {"p": {"type": "string"}}}):
        nameless = admin("POST", "/v2/metadefs/namespaces", json={"namespace": "Lab::In",
                                                                   **inner})
        assert nameless.status_code == 400, nameless.text
    assert admin("GET", "/v2/metadefs/namespaces/Lab::In").status_code == 404


def namespace(admin: Glance, name: str) -> str:
    assert admin("POST", "/v2/metadefs/namespaces",
                 json={"namespace": name, "visibility": "public"}).status_code == 201
    return f"/v2/metadefs/namespaces/{name}"


def test_objects(admin: Glance, member: Glance) -> None:
    base = namespace(admin, "Lab::Objects")
    request = sample("glance", f"{SAMPLES}/metadef-object-create-request.json")
    created = admin("POST", f"{base}/objects", json=request)
    assert created.status_code == 201, created.text
    assert_shape_like_sample(created.json(), sample(
        "glance", f"{SAMPLES}/metadef-object-create-response.json"))
    name = request["name"]
    assert admin("POST", f"{base}/objects", json={"name": name}).status_code == 409
    listed = member("GET", f"{base}/objects").json()
    assert [o["name"] for o in listed["objects"]] == [name]
    assert_valid(listed, openapi_response_schema(
        "image", "/v2/metadefs/namespaces/{namespace_name}/objects", "get"))
    renamed = admin("PUT", f"{base}/objects/{name}", json={"name": "Renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Renamed"
    assert member("PUT", f"{base}/objects/Renamed", json={"name": "x"}).status_code == 403
    assert admin("GET", f"{base}/objects/{name}").status_code == 404
    assert admin("DELETE", f"{base}/objects/Renamed").status_code == 204
    assert admin("GET", f"{base}/objects").json()["objects"] == []


def test_properties_with_a_resource_type(admin: Glance) -> None:
    base = namespace(admin, "Lab::Props")
    rt = admin("POST", f"{base}/resource_types",
               json={"name": "OS::Glance::Image", "prefix": "hw_"})
    assert rt.status_code == 201, rt.text
    assert_shape_like_sample(rt.json(), sample(
        "glance", f"{SAMPLES}/metadef-resource-type-assoc-create-response.json"),
        ignore={"$.properties_target"})
    request = sample("glance", f"{SAMPLES}/metadef-property-create-request.json")
    created = admin("POST", f"{base}/properties", json=request)
    assert created.status_code == 201, created.text
    assert created.json() == sample("glance",
                                    f"{SAMPLES}/metadef-property-create-response.json")
    name = request["name"]
    assert admin("GET", f"{base}/properties/{name}").json()["title"] == request["title"]
    prefixed = admin("GET", f"{base}/properties/hw_{name}?resource_type=OS::Glance::Image")
    assert prefixed.status_code == 200 and prefixed.json()["name"] == name
    shown = admin("GET", f"{base}?resource_type=OS::Glance::Image").json()
    assert list(shown["properties"]) == [f"hw_{name}"]
    updated = admin("PUT", f"{base}/properties/{name}",
                    json={**request, "title": "New title"})
    assert updated.json()["title"] == "New title"
    listed = admin("GET", f"{base}/properties").json()
    assert_valid(listed, openapi_response_schema(
        "image", "/v2/metadefs/namespaces/{namespace_name}/properties", "get"))
    assert admin("POST", f"{base}/properties",
                 json={"name": "x", "type": "string"}).status_code == 400
    assert admin("DELETE", f"{base}/properties/{name}").status_code == 204
    assert admin("GET", f"{base}/properties").json() == {"properties": {}}
    associations = admin("GET", f"{base}/resource_types").json()
    assert [a["name"] for a in associations["resource_type_associations"]] == \
        ["OS::Glance::Image"]
    assert admin("DELETE", f"{base}/resource_types/OS::Glance::Image").status_code == 204
    assert admin("GET", f"{base}/resource_types").json() == {"resource_type_associations": []}


def test_tags(admin: Glance, member: Glance) -> None:
    base = namespace(admin, "Lab::Tags")
    request = sample("glance", f"{SAMPLES}/metadef-tags-create-request.json")
    created = admin("POST", f"{base}/tags", json=request)
    assert created.status_code == 201 and created.json() == sample(
        "glance", f"{SAMPLES}/metadef-tags-create-response.json")
    assert len(member("GET", f"{base}/tags").json()["tags"]) == 3
    one = admin("POST", f"{base}/tags/added")
    assert one.status_code == 201
    assert_shape_like_sample(one.json(), sample("glance",
                                                f"{SAMPLES}/metadef-tag-create-response.json"))
    appended = admin("POST", f"{base}/tags", headers={"X-Openstack-Append": "True"},
                     json={"tags": [{"name": "more"}]})
    assert appended.status_code == 201
    assert len(admin("GET", f"{base}/tags").json()["tags"]) == 5
    renamed = admin("PUT", f"{base}/tags/added", json={"name": "renamed"})
    assert renamed.json()["name"] == "renamed"
    assert admin("GET", f"{base}/tags/renamed").status_code == 200
    assert admin("POST", f"{base}/tags/RENAMED").status_code == 409
    assert admin("DELETE", f"{base}/tags/renamed").status_code == 204
    assert admin("DELETE", f"{base}/tags").status_code == 204
    assert admin("GET", f"{base}/tags").json() == {"tags": []}


# -- tasks and imports ----------------------------------------------------------------


def test_task_schemas_hold_what_glance_s_samples_show(member: Glance) -> None:
    task = member("GET", "/v2/schemas/task").json()
    upstream = sample("glance", f"{SAMPLES}/schemas-task-show-response.json")
    assert task["name"] == "task"
    # glance has since added image_id, request_id and user_id to its task schema.
    assert set(upstream["properties"]) <= set(task["properties"])
    tasks = member("GET", "/v2/schemas/tasks").json()
    upstream = sample("glance", f"{SAMPLES}/schemas-tasks-list-response.json")
    assert tasks["name"] == "tasks"
    assert set(upstream["properties"]["tasks"]["items"]["properties"]) <= \
        set(tasks["properties"]["tasks"]["items"]["properties"])


def image_tasks(glance: Glance, image_id: str) -> list[dict[str, Any]]:
    body = glance("GET", f"/v2/images/{image_id}/tasks").json()
    if body["tasks"]:
        # The OpenAPI description leaves out the deleted/deleted_at that glance's task
        # records carry (its api-ref sample shows them), so the sample is the check; the
        # sample's "request-id" and "user" are older spellings of request_id and user_id;
        # its input is the request it was given (with a multi-store backend).
        assert_shape_like_sample(body, sample("glance",
                                              f"{SAMPLES}/image-tasks-show-response.json"),
                                 ignore={"$.tasks[*].request-id", "$.tasks[*].user",
                                         "$.tasks[*].input"})
        assert {"request_id", "user_id"} <= set(body["tasks"][0])
    return list(body["tasks"])


def test_import_methods_are_offered(member: Glance) -> None:
    info = member("GET", "/v2/info/import").json()
    assert info["import-methods"]["value"] == ["glance-direct", "web-download",
                                               "glance-download"]


def test_glance_direct_import_is_a_task(member: Glance) -> None:
    image = new_image(member)
    assert member("PUT", f"/v2/images/{image['id']}/stage", content=DATA,
                  headers={"Content-Type": "application/octet-stream"}).status_code == 204
    answer = member("POST", f"/v2/images/{image['id']}/import",
                    json={"method": {"name": "glance-direct"}})
    assert answer.status_code == 202, answer.text
    assert member("GET", f"/v2/images/{image['id']}").json()["status"] == "active"
    (task,) = image_tasks(member, image["id"])
    assert task["status"] == "success"
    assert task["request_id"] == answer.headers["x-openstack-request-id"]
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"


def test_web_download_from_loopback(member: Glance, web: str) -> None:
    image = new_image(member)
    answer = member("POST", f"/v2/images/{image['id']}/import",
                    json={"method": {"name": "web-download", "uri": f"{web}/disk"}})
    assert answer.status_code == 202, answer.text
    shown = member("GET", f"/v2/images/{image['id']}").json()
    assert (shown["status"], shown["size"]) == ("active", len(DATA))
    assert "os_glance_import_task" not in shown
    assert member("GET", f"/v2/images/{image['id']}/file").content == DATA
    assert [t["status"] for t in image_tasks(member, image["id"])] == ["success"]


def test_web_download_refuses_other_hosts_and_redirects_off_box(member: Glance,
                                                                web: str) -> None:
    image = new_image(member)
    refused = member("POST", f"/v2/images/{image['id']}/import",
                     json={"method": {"name": "web-download", "uri": "http://192.0.2.1/x"}})
    assert refused.status_code == 400
    assert refused.json()["message"] == \
        "URI for web-download does not pass filtering: http://192.0.2.1/x"
    assert image_tasks(member, image["id"]) == []
    redirected = member("POST", f"/v2/images/{image['id']}/import",
                        json={"method": {"name": "web-download", "uri": f"{web}/away"}})
    assert redirected.status_code == 202
    (task,) = image_tasks(member, image["id"])
    assert task["status"] == "failure" and "Redirect to disallowed URL" in task["message"]
    assert member("GET", f"/v2/images/{image['id']}").json()["status"] == "queued"


def test_glance_download_within_the_lab_s_region(member: Glance) -> None:
    source = new_image(member, hw_cpu_cores="5", os_distro="rhel", speed="88mph")
    member("PUT", f"/v2/images/{source['id']}/file", content=DATA,
           headers={"Content-Type": "application/octet-stream"})
    target = new_image(member, container_format="ovf", disk_format="iso", os_distro="windows")
    answer = member("POST", f"/v2/images/{target['id']}/import", json={"method": {
        "name": "glance-download", "glance_image_id": source["id"],
        "glance_region": "RegionOne", "glance_service_interface": "public"}})
    assert answer.status_code == 202, answer.text
    assert [t["status"] for t in image_tasks(member, target["id"])] == ["success"]
    shown = member("GET", f"/v2/images/{target['id']}").json()
    assert shown["status"] == "active" and shown["size"] == len(DATA)
    assert (shown["disk_format"], shown["container_format"]) == ("qcow2", "bare")
    assert (shown["hw_cpu_cores"], shown["os_distro"]) == ("5", "rhel")
    assert "speed" not in shown


def test_glance_download_failures_are_glance_s(member: Glance) -> None:
    image = new_image(member, os_distro="windows")
    bad_id = member("POST", f"/v2/images/{image['id']}/import", json={"method": {
        "name": "glance-download", "glance_image_id": "foo", "glance_region": "RegionOne"}})
    assert bad_id.status_code == 400
    assert "image id does not look like a UUID" in bad_id.json()["message"]
    elsewhere = member("POST", f"/v2/images/{image['id']}/import", json={"method": {
        "name": "glance-download", "glance_image_id": str(uuid.uuid4()),
        "glance_region": "not a region", "glance_service_interface": "not an interface"}})
    assert elsewhere.status_code == 202
    missing = new_image(member)
    member("POST", f"/v2/images/{missing['id']}/import", json={"method": {
        "name": "glance-download", "glance_image_id": str(uuid.uuid4()),
        "glance_region": "RegionOne"}})
    for image_id in (image["id"], missing["id"]):
        assert [t["status"] for t in image_tasks(member, image_id)] == ["failure"]
        assert member("GET", f"/v2/images/{image_id}").json()["status"] == "queued"
    assert member("GET", f"/v2/images/{image['id']}").json()["os_distro"] == "windows"


def test_tasks_api_is_admin_only_and_imports(admin: Glance, member: Glance, web: str) -> None:
    assert member("GET", "/v2/tasks").status_code == 403
    task_body = {"type": "import", "input": {
        "import_from": f"{web}/disk", "import_from_format": "qcow2",
        "image_properties": {"name": "from-task", "disk_format": "qcow2",
                             "container_format": "bare"}}}
    created = admin("POST", "/v2/tasks", json=task_body)
    assert created.status_code == 201, created.text
    assert_shape_like_sample(created.json(), sample("glance",
                                                    f"{SAMPLES}/task-create-response.json"))
    task = admin("GET", f"/v2/tasks/{created.json()['id']}").json()
    assert_valid(task, openapi_response_schema("image", "/v2/tasks/{task_id}", "get"))
    assert task["status"] == "success"
    image = admin("GET", f"/v2/images/{task['result']['image_id']}").json()
    assert (image["status"], image["disk_format"]) == ("active", "qcow2")
    listed = admin("GET", "/v2/tasks").json()
    assert_valid(listed, openapi_response_schema("image", "/v2/tasks", "get"))
    assert task["id"] in [t["id"] for t in listed["tasks"]]
    fake = admin("POST", "/v2/tasks", json={**task_body, "input": {
        **task_body["input"], "import_from": "http://dummy-img-file.qcow2"}})
    assert fake.status_code == 400 and "does not pass filtering" in fake.json()["message"]
    assert admin("DELETE", f"/v2/tasks/{task['id']}").status_code == 405
    assert admin("GET", "/v2/tasks?status=bogus").status_code == 400
    second = admin("POST", "/v2/tasks", json=task_body)
    assert second.status_code == 201, second.text
    every = [t["id"] for t in admin("GET", "/v2/tasks").json()["tasks"]]
    assert every[0] == second.json()["id"] and task["id"] in every
    assert _walk(admin, "/v2/tasks?limit=1", "tasks", "id") == every
    oldest_first = admin("GET", "/v2/tasks?sort_dir=asc&sort_key=created_at").json()["tasks"]
    assert [t["id"] for t in oldest_first] == every[::-1]
    unknown = admin("GET", f"/v2/tasks?marker={uuid.uuid4()}")
    assert unknown.status_code == 400 and "not found" in unknown.json()["message"]
    assert admin("GET", f"/v2/tasks/{uuid.uuid4()}").status_code == 404


# -- 2.17: POST/GET /v2/images/{id}/locations -------------------------------------------


def test_versions_advertise_2_17_as_current(admin: Glance) -> None:
    versions = admin("GET", "/versions").json()["versions"]
    assert versions[0] == {**versions[0], "id": "v2.17", "status": "CURRENT"}


def test_add_location_from_loopback_makes_the_image_active(
        admin: Glance, member: Glance, web: str) -> None:
    image = new_image(member)
    body = {**sample("glance", f"{SAMPLES}/add-location-request.json"), "url": f"{web}/disk"}
    body["validation_data"]["os_hash_value"] = hashlib.sha512(DATA).hexdigest()
    answer = member("POST", f"/v2/images/{image['id']}/locations", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.content == b""
    shown = member("GET", f"/v2/images/{image['id']}").json()
    assert (shown["status"], shown["os_hash_algo"], shown["os_hash_value"],
            shown["checksum"]) == ("active", "sha512", hashlib.sha512(DATA).hexdigest(),
                                   hashlib.md5(DATA).hexdigest())
    assert member("GET", f"/v2/images/{image['id']}/file").content == DATA
    tasks = member("GET", f"/v2/images/{image['id']}/tasks").json()["tasks"]
    assert [(t["type"], t["status"]) for t in tasks] == [("location_import", "success")]
    # Listing locations is for services only (fetch_image_location).
    assert member("GET", f"/v2/images/{image['id']}/locations").status_code == 403
    locations = admin("GET", f"/v2/images/{image['id']}/locations")
    assert locations.status_code == 200
    assert locations.json() == [{"url": f"{web}/disk", "metadata": {}}]
    assert_shape_like_sample(locations.json(),
                             sample("glance", f"{SAMPLES}/locations-list-detail-response.json"),
                             ignore={"$[*].metadata.store"})
    # Only a queued image takes a location.
    again = member("POST", f"/v2/images/{image['id']}/locations", json={"url": f"{web}/disk"})
    assert again.status_code == 409
    assert "not allowed to add locations if image status is active" in again.text


@pytest.mark.parametrize(("body", "status", "message"), [
    ({}, 400, "url"),
    ({"url": "LOOP", "validation_data": {"os_hash_value": "ab" * 64}}, 400, "os_hash_algo"),
    ({"url": "LOOP", "validation_data": {"os_hash_algo": "sha123", "os_hash_value": "ab"}},
     400, "sha123"),
    ({"url": "LOOP", "validation_data": {"os_hash_algo": "sha512", "os_hash_value": "ab" * 32}},
     400, "not the correct size for (sha512)"),
    ({"url": "http://192.0.2.1/disk"}, 403, "http store must be enabled"),
])
def test_add_location_refusals(member: Glance, web: str, body: dict[str, Any], status: int,
                               message: str) -> None:
    image = new_image(member)
    if body.get("url") == "LOOP":
        body = {**body, "url": f"{web}/disk"}
    answer = member("POST", f"/v2/images/{image['id']}/locations", json=body)
    assert answer.status_code == status, answer.text
    assert message in answer.text
    assert member("GET", f"/v2/images/{image['id']}").json()["status"] == "queued"


def test_locations_of_an_unknown_image_are_404(admin: Glance) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert admin("GET", f"/v2/images/{missing}/locations").status_code == 404
    assert admin("POST", f"/v2/images/{missing}/locations",
                 json={"url": "http://127.0.0.1/x"}).status_code == 404
