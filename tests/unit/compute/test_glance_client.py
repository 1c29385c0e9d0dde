"""nova → glance over HTTP: look-ups with the user's token, snapshots through the Image API.

Everything here goes through the in-process app: the image client reaches glance
through the same request path as any client, so glance's visibility, policy
and request ids apply to nova's calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.cloud import Cloud
from stacklab.compute.glance import GlanceClient, GlanceError, image_properties
from stacklab.observability.logging import LOGGERS, configure
from support.inprocess import admin_token
from unit.network.neutron_client import Neutron, member

VERSION = "2.96"


@pytest.fixture
def central_logs(cloud: Cloud) -> Iterator[None]:
    """The cloud's central log store fed as ``stacklab up`` feeds it, undone afterwards."""
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).propagate,
                    list(logging.getLogger(name).handlers)) for name in LOGGERS}
    configure(store=cloud.logs)
    yield
    for name, (level, propagate, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


def _glance(cloud: Cloud) -> GlanceClient:
    glance = cloud.compute.glance
    assert glance is not None
    return glance


def _headers(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"compute {VERSION}"}


def _private_image(client: TestClient, token: str, name: str, data: bytes = b"disk") -> str:
    created = client.post("/image/v2/images", headers={"X-Auth-Token": token}, json={
        "name": name, "disk_format": "raw", "container_format": "bare",
        "visibility": "private", "hw_arch": "x86_64"})
    assert created.status_code == 201, created.text
    image_id: str = created.json()["id"]
    put = client.put(f"/image/v2/images/{image_id}/file", content=data,
                     headers={"X-Auth-Token": token,
                              "Content-Type": "application/octet-stream"})
    assert put.status_code == 204, put.text
    return image_id


def _wait(client: TestClient, token: str, server_id: str, status: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(500):
        body = client.get(f"/compute/v2.1/servers/{server_id}", headers=_headers(token)).json()
        if body["server"]["status"] == status and body["server"]["OS-EXT-STS:task_state"] \
                is None:
            return dict(body["server"])
        time.sleep(0.005)
    raise AssertionError(f"never reached {status}: {body}")


def _boot(client: TestClient, token: str, image_id: str, name: str = "vm") -> str:
    created = client.post("/compute/v2.1/servers", headers=_headers(token), json={"server": {
        "name": name, "imageRef": image_id, "flavorRef": "1", "networks": "none"}})
    assert created.status_code == 202, created.text
    server_id: str = created.json()["server"]["id"]
    _wait(client, token, server_id, "ACTIVE")
    return server_id


def test_a_look_up_with_the_users_token_sees_only_what_the_user_may(
        cloud: Cloud, client: TestClient) -> None:
    admin = admin_token(client)
    image_id = _private_image(client, admin, "admins-own")
    other = member(client, Neutron(client, admin), "proj-other")
    glance = _glance(cloud)
    assert client.portal is not None
    with pytest.raises(GlanceError) as refused:
        client.portal.call(lambda: glance.show(image_id, token=other.neutron.token))
    assert refused.value.status == 404
    # The same image, asked as nova itself (the service user), is there.
    shown = client.portal.call(lambda: glance.show(image_id))
    assert shown["id"] == image_id and shown["visibility"] == "private"
    assert image_properties(shown) == {"hw_arch": "x86_64"}


def test_an_id_that_is_not_a_path_segment_names_no_image(cloud: Cloud,
                                                         client: TestClient) -> None:
    glance = _glance(cloud)
    assert client.portal is not None
    for odd in ("..", "a/b", "x?y=1", "%2e%2e"):
        with pytest.raises(GlanceError) as refused:
            client.portal.call(lambda odd=odd: glance.show(odd))
        assert refused.value.status == 404, odd


def test_booting_from_another_projects_private_image_is_nova_400(client: TestClient) -> None:
    admin = admin_token(client)
    image_id = _private_image(client, admin, "not-yours")
    other = member(client, Neutron(client, admin), "proj-boot")
    created = client.post("/compute/v2.1/servers", headers=_headers(other.neutron.token),
                          json={"server": {"name": "x", "imageRef": image_id,
                                           "flavorRef": "1", "networks": "none"}})
    assert created.status_code == 400, created.text
    assert created.json()["badRequest"]["message"] == "Can not find requested image"
    # Its properties reach the scheduler's spec when the owner boots it.
    server_id = _boot(client, admin, image_id)
    shown = client.get(f"/compute/v2.1/servers/{server_id}", headers=_headers(admin)).json()
    assert shown["server"]["image"]["id"] == image_id


def test_a_snapshot_is_the_callers_image_made_through_glance(
        cloud: Cloud, client: TestClient, central_logs: None) -> None:
    admin = admin_token(client)
    user = member(client, Neutron(client, admin), "proj-snap")
    public = client.get("/image/v2/images", headers={"X-Auth-Token": admin}).json()["images"]
    base = next(i for i in public if i["visibility"] == "public")
    server_id = _boot(client, user.neutron.token, base["id"])
    answer = client.post(f"/compute/v2.1/servers/{server_id}/action",
                         headers=_headers(user.neutron.token),
                         json={"createImage": {"name": "snap", "metadata": {"k": "v"}}})
    assert answer.status_code == 202, answer.text
    nova_request = answer.headers["x-openstack-request-id"]
    image_id = answer.json()["image_id"]
    _wait(client, user.neutron.token, server_id, "ACTIVE")
    image = client.get(f"/image/v2/images/{image_id}",
                       headers={"X-Auth-Token": user.neutron.token}).json()
    assert image["owner"] == user.project_id
    assert image["status"] == "active" and image["size"] == base["size"]
    assert image["checksum"] == base["checksum"]
    assert (image["instance_uuid"], image["image_type"], image["base_image_ref"],
            image["k"]) == (server_id, "snapshot", base["id"], "v")
    # glance logged nova's create under nova's request as the global request id, and the
    # nova request's own lines kept their request id after the call to glance returned.
    glance_lines = cloud.logs.search(global_request_id=nova_request, service="image")
    assert any('"POST /image/v2/images"' in line["message"] for line in glance_lines)
    nova_lines = cloud.logs.search(request_id=nova_request)
    assert any("/action" in line["message"] and "status: 202" in line["message"]
               for line in nova_lines)


def test_a_shelved_servers_image_goes_when_the_server_is_deleted(client: TestClient) -> None:
    admin = admin_token(client)
    images = client.get("/image/v2/images", headers={"X-Auth-Token": admin}).json()["images"]
    server_id = _boot(client, admin, images[0]["id"], name="shelf")
    assert client.post(f"/compute/v2.1/servers/{server_id}/action", headers=_headers(admin),
                       json={"shelve": None}).status_code == 202
    shelved = _wait(client, admin, server_id, "SHELVED_OFFLOADED")
    assert shelved["OS-EXT-SRV-ATTR:host"] is None
    named = client.get("/image/v2/images", headers={"X-Auth-Token": admin},
                       params={"name": "shelf-shelved"}).json()["images"]
    assert [i["status"] for i in named] == ["active"]
    deleted = client.delete(f"/compute/v2.1/servers/{server_id}", headers=_headers(admin))
    assert deleted.status_code == 204, deleted.text
    gone = client.get(f"/image/v2/images/{named[0]['id']}", headers={"X-Auth-Token": admin})
    assert gone.status_code == 404


def test_a_snapshot_whose_image_was_deleted_meanwhile_is_no_error(
        cloud: Cloud, client: TestClient) -> None:
    admin = admin_token(client)
    glance = _glance(cloud)
    assert client.portal is not None
    image = client.portal.call(lambda: glance.create(
        {"name": "gone", "disk_format": "raw", "container_format": "bare"}, token=admin))
    assert client.delete(f"/image/v2/images/{image['id']}",
                         headers={"X-Auth-Token": admin}).status_code == 204
    assert client.portal.call(lambda: glance.upload(image["id"], b"data")) is False
    assert client.portal.call(lambda: glance.download(image["id"])) == b""
    client.portal.call(lambda: glance.delete(image["id"]))  # already gone: fine
    assert cloud.unexpected_errors == 0
