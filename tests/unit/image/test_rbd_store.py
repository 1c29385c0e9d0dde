"""glance's rbd store ([glance_store] default_store = rbd): image bytes in the Ceph cluster's
``images`` pool, served with one storage node lost, a 500 (glance's, for a store error) and
the upload restored to queued with both lost, served again once they return."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.config import Config, lab_defaults
from support.inprocess import admin_token, ephemeral_config

S1 = "storage1.openstack.local"
S2 = "storage2.openstack.local"
C1 = "controller1.openstack.local"


@pytest.fixture
def rbd_cloud() -> Iterator[Cloud]:
    config = ephemeral_config()
    config.glance_store.stores = "file,http,rbd"
    config.glance_store.default_store = "rbd"
    # The client's 5 s timeout and the OSDs' 20 s grace take 50 ms and 200 ms here.
    config.stacklab.ha_time_scale = 0.01
    cloud = Cloud(config)
    cloud.start("http://testserver")
    yield cloud
    cloud.stop()


def new_image(client: TestClient, headers: dict[str, str]) -> str:
    created = client.post("/image/v2/images", headers=headers, json={
        "name": "blob", "disk_format": "raw", "container_format": "bare"})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_an_rbd_image_lives_in_the_cluster_and_fails_as_glance_without_it(
        rbd_cloud: Cloud) -> None:
    cluster = rbd_cloud.controlplane.ceph
    assert cluster is not None
    with TestClient(build_app(rbd_cloud), raise_server_exceptions=False) as client:
        headers = {"X-Auth-Token": admin_token(client)}
        # The lab's CirrOS went to the rbd store too.
        assert len(cluster.pool("images").objects) == 1
        image = new_image(client, headers)
        put = client.put(f"/image/v2/images/{image}/file", content=b"rbd bytes",
                         headers={**headers, "Content-Type": "application/octet-stream"})
        assert put.status_code == 204, put.text
        assert cluster.pool("images").objects[image] == b"rbd bytes"

        # The bytes are not on a controller: controller1 lost, glance on controller2 reads
        # them; with storage1 lost too, from storage2's copy.
        rbd_cloud.node_down(C1)
        rbd_cloud.node_down(S1)
        got = client.get(f"/image/v2/images/{image}/file", headers=headers)
        assert (got.status_code, got.content) == (200, b"rbd bytes")

        rbd_cloud.node_down(S2)
        got = client.get(f"/image/v2/images/{image}/file", headers=headers)
        assert got.status_code == 500
        assert got.json()["message"].startswith("The server has either erred")
        second = new_image(client, headers)
        put = client.put(f"/image/v2/images/{second}/file", content=b"more",
                         headers={**headers, "Content-Type": "application/octet-stream"})
        assert put.status_code == 500
        shown = client.get(f"/image/v2/images/{second}", headers=headers).json()
        assert shown["status"] == "queued"
        assert rbd_cloud.unexpected_errors == 0

        rbd_cloud.node_up(S2)
        got = client.get(f"/image/v2/images/{image}/file", headers=headers)
        assert (got.status_code, got.content) == (200, b"rbd bytes")


def test_every_store_path_answers_as_glance_without_the_cluster(rbd_cloud: Cloud) -> None:
    """Import, snapshot upload and internal reads with both storage nodes lost: a failed
    task or glance's 500, never an unexpected error."""
    from stacklab.api.errors import ApiError
    from stacklab.image.rbdstore import StoreUnavailable

    with TestClient(build_app(rbd_cloud), raise_server_exceptions=False) as client:
        headers = {"X-Auth-Token": admin_token(client)}
        staged = new_image(client, headers)
        put = client.put(f"/image/v2/images/{staged}/stage", content=b"staged",
                         headers={**headers, "Content-Type": "application/octet-stream"})
        assert put.status_code == 204, put.text
        stored = new_image(client, headers)
        put = client.put(f"/image/v2/images/{stored}/file", content=b"stored",
                         headers={**headers, "Content-Type": "application/octet-stream"})
        assert put.status_code == 204, put.text
        queued = new_image(client, headers)

        rbd_cloud.node_down(S1)
        rbd_cloud.node_down(S2)
        # glance-direct: the import is accepted, its task fails with the store's reason.
        answer = client.post(f"/image/v2/images/{staged}/import", headers=headers,
                             json={"method": {"name": "glance-direct"}})
        assert answer.status_code == 202, answer.text
        tasks = client.get(f"/image/v2/images/{staged}/tasks", headers=headers).json()
        assert tasks["tasks"][0]["status"] == "failure"
        assert "ceph cluster" in tasks["tasks"][0]["message"]
        shown = client.get(f"/image/v2/images/{staged}", headers=headers).json()
        assert shown["status"] != "active" and "os_glance_import_task" not in shown

        images = rbd_cloud.image
        # A server snapshot's bytes: the store refuses them, the image stays queued.
        with pytest.raises(StoreUnavailable):
            images.store_data(queued, b"snapshot")
        shown = client.get(f"/image/v2/images/{queued}", headers=headers).json()
        assert shown["status"] == "queued"
        # What a copy reads: glance's 500.
        with pytest.raises(ApiError) as raised:
            images.read_data(stored)
        assert raised.value.status == 500
        got = client.get(f"/image/v2/images/{stored}/file", headers=headers)
        assert got.status_code == 500
        assert rbd_cloud.unexpected_errors == 0

        rbd_cloud.node_up(S1)
        rbd_cloud.node_up(S2)
        assert images.read_data(stored) == b"stored"
        answer = client.post(f"/image/v2/images/{staged}/import", headers=headers,
                             json={"method": {"name": "glance-direct"}})
        assert answer.status_code == 202, answer.text
        shown = client.get(f"/image/v2/images/{staged}", headers=headers).json()
        assert shown["status"] == "active"


def test_two_glance_workers_on_one_store_serve_each_other_s_rbd_images(
        tmp_path: Path) -> None:
    """api_workers = 2 runs two glance processes on one store, each with its model of the
    cluster: the objects are the store's, so either worker serves what the other took
    (it answered 204, no data, when each process kept its own), and the other's `ceph
    df` counts it."""
    config = lab_defaults(Config())
    config.stacklab.state_dir = str(tmp_path)
    config.glance_store.stores = "file,http,rbd"
    config.glance_store.default_store = "rbd"
    first = Cloud(config)
    first.start("http://testserver")
    second = Cloud(config)  # migrates nothing more: the store is at head
    second.start("http://testserver")
    try:
        with TestClient(build_app(first), raise_server_exceptions=False) as client:
            headers = {"X-Auth-Token": admin_token(client)}
            image = new_image(client, headers)
            put = client.put(f"/image/v2/images/{image}/file", content=b"rbd bytes",
                             headers={**headers, "Content-Type": "application/octet-stream"})
            assert put.status_code == 204, put.text
        with TestClient(build_app(second), raise_server_exceptions=False) as client:
            headers = {"X-Auth-Token": admin_token(client)}
            got = client.get(f"/image/v2/images/{image}/file", headers=headers)
            assert (got.status_code, got.content) == (200, b"rbd bytes")
        for cloud in (first, second):
            cluster = cloud.controlplane.ceph
            assert cluster is not None
            images = next(p for p in cluster.status()["pools"] if p["name"] == "images")
            assert images["objects"] == 2  # the lab's CirrOS (each start's) and this one
            assert image in cluster.pool("images").objects
    finally:
        first.stop()
        second.stop()
