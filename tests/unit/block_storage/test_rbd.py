"""The rbd backend (enabled_backends = lvm,ceph): one cinder-volume service for both
controllers, volumes in the Ceph cluster's ``volumes`` pool, usable with one storage node
lost, failing with both, usable again once they return."""

from __future__ import annotations

import pytest

from stacklab.block_storage.rbd import RbdError
from stacklab.block_storage.storage import GIB
from stacklab.config import RBD_DRIVER
from support.inprocess import ephemeral_config
from unit.block_storage.cinder_calls import Lab, run_lab

C1 = "controller1.openstack.local"
S1 = "storage1.openstack.local"
S2 = "storage2.openstack.local"
CEPH_HOST = "rbd:volumes@ceph"


def ceph_config() -> object:
    config = ephemeral_config()
    config.DEFAULT.enabled_backends = "lvm,ceph"
    return config


async def ceph_type(lab: Lab) -> str:
    body = await lab.call("POST", "/types", {"volume_type": {
        "name": "ceph", "extra_specs": {"volume_backend_name": "ceph"}}})
    return str(body["volume_type"]["id"])


async def create_on_ceph(lab: Lab, name: str) -> dict[str, object]:
    created = await lab.create(name=name, volume_type="ceph")
    return await lab.until_status(created["volume"]["id"], "available", "error")


def test_the_ceph_backend_is_one_service_with_the_clusters_capacity() -> None:
    async def scenario(lab: Lab) -> None:
        lab.token = await lab.login()
        assert lab.cloud.config.ceph.volume_driver == RBD_DRIVER
        services = (await lab.call("GET", "/os-services?binary=cinder-volume"))["services"]
        assert sorted(s["host"] for s in services) == [
            f"{C1}@lvm", "controller2.openstack.local@lvm", CEPH_HOST]
        pools = (await lab.call("GET", "/scheduler-stats/get_pools?detail=true"))["pools"]
        ceph = next(p for p in pools if p["name"] == f"{CEPH_HOST}#ceph")
        caps = ceph["capabilities"]
        assert caps["storage_protocol"] == "ceph" and caps["backend_state"] == "up"
        # Two 100 GB OSDs, size 2: 100 GiB of MAX AVAIL.
        assert caps["total_capacity_gb"] == 100.0 and caps["free_capacity_gb"] == 100.0

    run_lab(scenario, ceph_config())


def test_a_ceph_volume_outlives_a_storage_node_and_creates_fail_with_both() -> None:
    async def scenario(lab: Lab) -> None:
        lab.token = await lab.login()
        await ceph_type(lab)
        first = await create_on_ceph(lab, "first")
        assert first["status"] == "available"
        assert first["os-vol-host-attr:host"] == f"{CEPH_HOST}#ceph"
        cluster = lab.cloud.controlplane.ceph
        assert cluster is not None
        assert f"volume-{first['id']}" in cluster.pool("volumes").objects

        lab.cloud.node_down(S1)
        await lab.settle(21.0)  # osd_heartbeat_grace: storage1's OSD is marked down
        assert lab.cloud.controlplane.status()["ceph"]["health"] == "HEALTH_WARN"
        second = await create_on_ceph(lab, "second")
        assert second["status"] == "available"

        lab.cloud.node_down(S2)
        third = await create_on_ceph(lab, "third")
        assert third["status"] == "error"
        pools = (await lab.call("GET", "/scheduler-stats/get_pools?detail=true"))["pools"]
        caps = next(p for p in pools if p["name"] == f"{CEPH_HOST}#ceph")["capabilities"]
        assert (caps["backend_state"], caps["total_capacity_gb"]) == ("down", "unknown")

        lab.cloud.node_up(S1)
        lab.cloud.node_up(S2)
        await lab.settle(5.0)  # storage1 recovers what it missed (second) from storage2
        status = lab.cloud.controlplane.status()["ceph"]
        assert status["health"] == "HEALTH_OK", status["checks"]
        fourth = await create_on_ceph(lab, "fourth")
        assert fourth["status"] == "available"
        await lab.call("DELETE", f"/volumes/{first['id']}", expect=202)
        await lab.settle(1.0)
        assert f"volume-{first['id']}" not in cluster.pool("volumes").objects
        assert f"volume-{second['id']}" in cluster.pool("volumes").objects

    run_lab(scenario, ceph_config())


def test_a_ceph_volumes_bytes_are_read_by_the_other_nodes_process() -> None:
    """The two cinder-volume processes of the shared backend_host each have their own
    model of the cluster: what one wrote, the other reads (from the store), while its own
    cluster still decides whether the op is served."""
    async def scenario(lab: Lab) -> None:
        lab.token = await lab.login()
        await ceph_type(lab)
        images = (await lab.client.get("/image/v2/images", headers={
            "X-Auth-Token": lab.token})).json()["images"]
        created = await lab.create(name="boot", volume_type="ceph", imageRef=images[0]["id"])
        volume = await lab.until_status(created["volume"]["id"], "available", "error")
        assert volume["status"] == "available"
        file = await lab.client.get(f"/image/v2/images/{images[0]['id']}/file",
                                    headers={"X-Auth-Token": lab.token})
        cluster = lab.cloud.controlplane.ceph
        assert cluster is not None
        # As the other process's cluster model, which never saw this write.
        cluster.pool("volumes").objects.pop(f"volume-{volume['id']}")
        store = lab.cloud.block_storage.store
        assert store.read(CEPH_HOST, str(volume["id"])) == file.content
        # The pool's use, as the scheduler and get_pools see it, counts what the store
        # holds too: 0.02 GiB written, then gone from this model alone.
        store.write(CEPH_HOST, "big", bytes(GIB // 50))
        cluster.pool("volumes").objects.pop("volume-big")
        pools = (await lab.call("GET", "/scheduler-stats/get_pools?detail=true"))["pools"]
        caps = next(p for p in pools if p["name"] == f"{CEPH_HOST}#ceph")["capabilities"]
        assert (caps["total_capacity_gb"], caps["free_capacity_gb"]) == (100.0, 99.98)
        lab.cloud.node_down(S1)
        lab.cloud.node_down(S2)
        with pytest.raises(RbdError):
            store.read(CEPH_HOST, str(volume["id"]))

    run_lab(scenario, ceph_config())
