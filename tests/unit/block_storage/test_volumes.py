"""Volumes end to end in virtual time: API -> cinder-scheduler -> the owning cinder-volume."""

from __future__ import annotations

from sqlalchemy import select

from stacklab.block_storage import models as m
from support.apiref import assert_shape_like_sample, sample
from unit.block_storage.cinder_calls import Lab, run_lab

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"
SAMPLES = "api-ref/source/v3/samples/volumes"


def test_an_empty_volume_is_scheduled_to_a_cinder_volume_that_owns_it() -> None:
    async def scenario(lab: Lab) -> None:
        made = await lab.call("POST", "/volumes", {"volume": {"size": 1, "name": "v1"}},
                              expect=202)
        body = made["volume"]
        assert body["status"] == "creating"
        # The contrib extensions' attributes extend a show and a detailed list only.
        assert not [key for key in body if key.startswith("os-vol-")]
        assert_shape_like_sample(made, sample(
            "cinder", f"{SAMPLES}/v3.65/volume-create-response.json"))
        await lab.settle()
        shown = await lab.volume(body["id"])
        assert shown["status"] == "available"
        host = shown["os-vol-host-attr:host"]
        assert host in (f"{C1}@lvm#lvm", f"{C2}@lvm#lvm")
        services = {r.host: r.uuid for r in lab.cloud.block_storage.list_services()}
        assert shown["service_uuid"] == services[host.partition("#")[0]]
        assert shown["volume_type"] == "__DEFAULT__" and shown["bootable"] == "false"
        assert shown["attachments"] == [] and shown["consumes_quota"] is True
        # The capacity weigher spreads: the next volume goes to the other backend.
        second = await lab.create(name="v2")
        other = (await lab.volume(second["volume"]["id"]))["os-vol-host-attr:host"]
        assert {host, other} == {f"{C1}@lvm#lvm", f"{C2}@lvm#lvm"}

    run_lab(scenario)


def test_a_volume_from_an_image_holds_the_images_bytes_and_metadata() -> None:
    async def scenario(lab: Lab) -> None:
        images = (await lab.client.get("/image/v2/images", headers={
            "X-Auth-Token": lab.token})).json()["images"]
        image = images[0]
        made = await lab.create(imageRef=image["id"], name="boot")
        ident = made["volume"]["id"]
        shown = await lab.until_status(ident, "available", "error")
        assert shown["status"] == "available" and shown["bootable"] == "true"
        assert shown["volume_image_metadata"]["image_id"] == image["id"]
        assert shown["volume_image_metadata"]["checksum"] == image["checksum"]
        backend = shown["os-vol-host-attr:host"].partition("#")[0]
        data = lab.cloud.block_storage.store.read(backend, ident)
        file = await lab.client.get(f"/image/v2/images/{image['id']}/file",
                                    headers={"X-Auth-Token": lab.token})
        assert data == file.content and len(data) == image["size"]
        shown_meta = await lab.call("POST", f"/volumes/{ident}/action",
                                    {"os-show_image_metadata": {}})
        assert shown_meta["metadata"]["image_name"] == image["name"]
        # By name too; an unknown image is cinder's 400.
        by_name = await lab.create(imageRef=image["name"])
        shown = await lab.until_status(by_name["volume"]["id"], "available", "error")
        assert shown["bootable"] == "true"
        bad = await lab.call("POST", "/volumes", {"volume": {"size": 1, "imageRef": "nope"}},
                             expect=400)
        assert bad["badRequest"]["message"] == (
            "Invalid image identifier or unable to access requested image.")

    run_lab(scenario)


def test_snapshots_and_clones_stay_on_their_sources_backend() -> None:
    async def scenario(lab: Lab) -> None:
        source = (await lab.create(name="src", size=2))["volume"]["id"]
        host = (await lab.volume(source))["os-vol-host-attr:host"]
        lab.cloud.block_storage.store.write(host.partition("#")[0], source, b"payload")
        snap = await lab.call("POST", "/snapshots", {"snapshot": {
            "volume_id": source, "name": "s1", "metadata": {"k": "v"}}}, expect=202)
        assert snap["snapshot"]["status"] == "creating"
        await lab.settle()
        snapshot = (await lab.call("GET", f"/snapshots/{snap['snapshot']['id']}"))["snapshot"]
        assert (snapshot["status"], snapshot["size"], snapshot["metadata"]) == (
            "available", 2, {"k": "v"})
        assert snapshot["os-extended-snapshot-attributes:progress"] == "100%"
        for _ in range(2):  # the capacity weigher alone would alternate backends
            from_snap = (await lab.create(snapshot_id=snapshot["id"], size=None))["volume"]
            shown = await lab.volume(from_snap["id"])
            assert (shown["os-vol-host-attr:host"], shown["size"]) == (host, 2)
            assert shown["snapshot_id"] == snapshot["id"]
            backend = host.partition("#")[0]
            assert lab.cloud.block_storage.store.read(backend, shown["id"]) == b"payload"
        clone = (await lab.create(source_volid=source, size=3))["volume"]
        shown = await lab.volume(clone["id"])
        assert (shown["os-vol-host-attr:host"], shown["source_volid"], shown["size"]) == (
            host, source, 3)
        small = await lab.call("POST", "/volumes", {"volume": {
            "source_volid": source, "size": 1}}, expect=400)
        assert "cannot be smaller than original volume size" in small["badRequest"]["message"]

        # A volume with snapshots is not deleted without cascade.
        refused = await lab.call("DELETE", f"/volumes/{source}", expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid volume: Volume status must be available or error or error_restoring or "
            "error_extending or error_managing and must not be migrating, attached, belong "
            "to a group, have snapshots, awaiting a transfer, or be disassociated from "
            "snapshots after volume transfer.")
        await lab.call("DELETE", f"/volumes/{source}?cascade=true", expect=202)
        await lab.settle()
        await lab.call("GET", f"/volumes/{source}", expect=404)
        await lab.call("GET", f"/snapshots/{snapshot['id']}", expect=404)

    run_lab(scenario)


def test_update_metadata_bootable_readonly_extend_and_image_metadata() -> None:
    async def scenario(lab: Lab) -> None:
        ident = (await lab.create(name="meta", metadata={"a": "1"}))["volume"]["id"]
        path = f"/volumes/{ident}"
        updated = await lab.call("PUT", path, {"volume": {"name": "renamed",
                                                          "description": "d"}})
        assert (updated["volume"]["name"], updated["volume"]["description"]) == (
            "renamed", "d")
        await lab.call("PUT", path, {"volume": {}}, expect=400)  # 3.53: something to change
        assert (await lab.call("POST", f"{path}/metadata", {"metadata": {"b": "2"}}))[
            "metadata"] == {"a": "1", "b": "2"}
        assert (await lab.call("PUT", f"{path}/metadata", {"metadata": {"c": "3"}}))[
            "metadata"] == {"c": "3"}
        assert await lab.call("GET", f"{path}/metadata/c") == {"meta": {"c": "3"}}
        await lab.call("PUT", f"{path}/metadata/c", {"meta": {"d": "4"}}, expect=400)
        await lab.call("DELETE", f"{path}/metadata/c")
        await lab.call("DELETE", f"{path}/metadata/c", expect=404)

        action = f"{path}/action"
        await lab.call("POST", action, {"os-set_bootable": {"bootable": True}})
        assert (await lab.volume(ident))["bootable"] == "true"
        await lab.call("POST", action, {"os-update_readonly_flag": {"readonly": True}},
                       expect=202)
        with lab.cloud.db.session() as session:
            row = session.get(m.Volume, ident)
            assert row is not None and row.admin_metadata == {"readonly": "True"}
        await lab.call("POST", action, {"os-set_image_metadata": {"metadata": {
            "hw_disk_bus": "scsi"}}})
        assert (await lab.volume(ident))["volume_image_metadata"] == {"hw_disk_bus": "scsi"}
        await lab.call("POST", action, {"os-unset_image_metadata": {"key": "hw_disk_bus"}})
        await lab.call("POST", action, {"os-unset_image_metadata": {"key": "hw_disk_bus"}},
                       expect=404)

        await lab.call("POST", action, {"os-extend": {"new_size": 3}}, expect=202)
        assert (await lab.volume(ident))["status"] == "extending"
        await lab.settle()
        shown = await lab.volume(ident)
        assert (shown["status"], shown["size"]) == ("available", 3)
        smaller = await lab.call("POST", action, {"os-extend": {"new_size": 2}}, expect=400)
        assert smaller["badRequest"]["message"] == (
            "Invalid input received: New size for extend must be greater than current size. "
            "(current: 3, extended: 2).")
        await lab.call("POST", action, {"os-extend": {"new_size": "x"}}, expect=400)
        await lab.call("POST", action, {"os-nothing": {}}, expect=400)

    run_lab(scenario)


def test_bad_input_is_400_naming_the_field() -> None:
    async def scenario(lab: Lab) -> None:
        async def refused(volume: object, field: str) -> None:
            answer = await lab.call("POST", "/volumes", {"volume": volume}, expect=400)
            assert field in answer["badRequest"]["message"], answer

        await refused({"size": "abc"}, "size")
        await refused({"size": 0}, "size")
        await refused({"size": 2 ** 40}, "size")
        await refused({"size": 1, "name": "n" * 256}, "name")
        await refused({"size": 1, "metadata": {"k": 1}}, "k")
        await refused({"size": 1, "snapshot_id": "not-a-uuid"}, "snapshot_id")
        await refused({"size": 1, "bogus": 1}, "bogus")
        await refused({"size": 1, "availability_zone": "elsewhere"}, "elsewhere")
        await refused({"size": 1, "multiattach": True}, "multiattach")
        answer = await lab.call("POST", "/volumes", {"volume": {}}, expect=400)
        assert answer["badRequest"]["message"] == (
            "Invalid input received: Volume size 'None' must be an integer and greater than 0")
        missing = await lab.call("POST", "/volumes", {"volume": {
            "size": 1, "volume_type": "nope"}}, expect=404)
        assert missing["itemNotFound"]["message"] == "Volume type nope could not be found."
        await lab.call("GET", "/volumes?bogus=1", expect=400)
        await lab.call("GET", "/volumes?bogus=1", version="3.30")  # ignored before 3.31

    run_lab(scenario)


def test_another_projects_volume_is_not_found_and_cannot_be_a_source() -> None:
    async def scenario(lab: Lab) -> None:
        mine = (await lab.create(name="admins"))["volume"]["id"]
        snap = (await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": mine}},
                               expect=202))["snapshot"]["id"]
        await lab.settle()
        other, _ = await lab.member("iso")
        for path in (f"/volumes/{mine}", f"/snapshots/{snap}", f"/volumes/{mine}/metadata"):
            await lab.call("GET", path, token=other, expect=404)
        await lab.call("DELETE", f"/volumes/{mine}", token=other, expect=404)
        await lab.call("POST", "/volumes", {"volume": {"source_volid": mine}}, token=other,
                       expect=404)
        await lab.call("POST", "/volumes", {"volume": {"snapshot_id": snap}}, token=other,
                       expect=404)
        await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": mine}}, token=other,
                       expect=404)
        assert (await lab.call("GET", "/volumes", token=other))["volumes"] == []
        # A member sees neither the host nor the admin's attributes of its own volume.
        own = (await lab.create(token=other, name="own"))["volume"]["id"]
        shown = await lab.volume(own, token=other)
        assert "os-vol-host-attr:host" not in shown and "migration_status" not in shown
        # The admin lists everyone's with all_tenants.
        everyone = await lab.call("GET", "/volumes?all_tenants=1")
        assert {mine, own} <= {v["id"] for v in everyone["volumes"]}

    run_lab(scenario)


def test_listing_filters_sorts_pages_and_counts() -> None:
    async def scenario(lab: Lab) -> None:
        for index, name in enumerate(("c", "a", "b")):
            await lab.create(name=name, size=index + 1, metadata={"n": name})
        by_name = await lab.call("GET", "/volumes/detail?sort=name:asc")
        assert [v["name"] for v in by_name["volumes"]] == ["a", "b", "c"]
        page = await lab.call("GET", "/volumes?sort=name:asc&limit=2&with_count=true")
        assert [v["name"] for v in page["volumes"]] == ["a", "b"] and page["count"] == 3
        assert "marker=" in page["volumes_links"][0]["href"]
        rest = await lab.call("GET", f"/volumes?sort=name:asc&limit=2&marker="
                                     f"{page['volumes'][-1]['id']}")
        assert [v["name"] for v in rest["volumes"]] == ["c"] and "volumes_links" not in rest
        filtered = await lab.call("GET", "/volumes/detail?metadata={'n':'b'}")
        assert [v["name"] for v in filtered["volumes"]] == ["b"]
        assert [v["name"] for v in (await lab.call("GET", "/volumes?size=3"))["volumes"]] == [
            "b"]
        assert [v["name"] for v in (await lab.call("GET", "/volumes?name~=a"))[
            "volumes"]] == ["a"]
        await lab.call("GET", "/volumes?marker=nope", expect=404)
        await lab.call("GET", "/volumes?sort=size:sideways", expect=400)
        summary = await lab.call("GET", "/volumes/summary")
        assert summary["volume-summary"]["total_count"] == 3
        assert summary["volume-summary"]["total_size"] == 6

    run_lab(scenario)


def test_delete_and_force_delete_follow_cinders_state_checks() -> None:
    async def scenario(lab: Lab) -> None:
        ident = (await lab.create(name="del"))["volume"]["id"]
        action = f"/volumes/{ident}/action"
        # (in-use needs an attachment: test_attachments resets to it.)
        await lab.call("POST", action, {"os-reset_status": {"status": "attaching"}},
                       expect=202)
        refused = await lab.call("DELETE", f"/volumes/{ident}", expect=400)
        assert "status must be available or error" in refused["badRequest"]["message"]
        await lab.call("POST", action, {"os-reset_status": {"status": "bogus"}}, expect=400)
        member, _ = await lab.member("force")
        own = (await lab.create(token=member))["volume"]["id"]
        await lab.call("POST", f"/volumes/{own}/action", {"os-force_delete": {}},
                       token=member, expect=403)
        await lab.call("POST", action, {"os-force_delete": {}}, expect=202)
        await lab.settle()
        await lab.call("GET", f"/volumes/{ident}", expect=404)
        # 3.23's DELETE ?force=true is the admin's too.
        other = (await lab.create())["volume"]["id"]
        await lab.call("POST", f"/volumes/{other}/action",
                       {"os-reset_status": {"status": "error_deleting"}}, expect=202)
        await lab.call("DELETE", f"/volumes/{other}?force=true", expect=202)
        await lab.settle()
        await lab.call("GET", f"/volumes/{other}", expect=404)

    run_lab(scenario)


def test_a_dead_cinder_volume_strands_its_volumes_until_it_returns() -> None:
    async def scenario(lab: Lab) -> None:
        ident = (await lab.create(name="stranded"))["volume"]["id"]
        host = (await lab.volume(ident))["os-vol-host-attr:host"]
        node = host.partition("@")[0]
        survivor = C2 if node == C1 else C1
        lab.cloud.runtime.stop_service(node, "cinder-volume")
        # Requests on it are accepted and wait in its service's queue.
        await lab.call("POST", f"/volumes/{ident}/action", {"os-extend": {"new_size": 2}},
                       expect=202)
        await lab.settle(5)
        assert (await lab.volume(ident))["status"] == "extending"
        # Once its service is down, the scheduler sends new volumes to the other backend.
        await lab.settle(lab.cloud.config.DEFAULT.service_down_time + 10)
        fresh = (await lab.create(name="elsewhere"))["volume"]["id"]
        assert (await lab.volume(fresh))["os-vol-host-attr:host"] == f"{survivor}@lvm#lvm"
        lab.cloud.runtime.start_service(node, "cinder-volume")
        await lab.settle()
        shown = await lab.volume(ident)
        assert (shown["status"], shown["size"]) == ("available", 2)

        # With both down, a new volume has no backend: error, and no host.
        # (Stopped, not powered off: controller2 off would take the RabbitMQ cluster with
        # it, as a two-node pause_minority cluster pauses its survivor.)
        lab.cloud.runtime.stop_service(C1, "cinder-volume")
        lab.cloud.runtime.stop_service(C2, "cinder-volume")
        await lab.settle(lab.cloud.config.DEFAULT.service_down_time + 10)
        nowhere = (await lab.create(name="nowhere"))["volume"]["id"]
        shown = await lab.volume(nowhere)
        assert (shown["status"], shown["os-vol-host-attr:host"]) == ("error", None)
        # An errored volume no service owns is deleted at once.
        await lab.call("DELETE", f"/volumes/{nowhere}", expect=202)
        await lab.call("GET", f"/volumes/{nowhere}", expect=404)

    run_lab(scenario)


def test_volumes_count_against_the_quotas() -> None:
    async def scenario(lab: Lab) -> None:
        token, project = await lab.member("quota")
        await lab.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {
            "volumes": 1, "gigabytes": 3}})
        await lab.create(token=token, size=2)
        over = await lab.call("POST", "/volumes", {"volume": {"size": 1}}, token=token,
                              expect=413)
        assert over["overLimit"]["message"] == (
            "Maximum number of volumes allowed (1) exceeded for quota 'volumes'.")
        await lab.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"volumes": 5}})
        too_big = await lab.call("POST", "/volumes", {"volume": {"size": 2}}, token=token,
                                 expect=413)
        assert too_big["overLimit"]["message"] == (
            "Requested volume or snapshot exceeds allowed gigabytes quota. Requested 2G, "
            "quota is 3G and 2G has been consumed.")
        usage = await lab.call("GET", f"/os-quota-sets/{project}?usage=True", token=token)
        assert usage["quota_set"]["volumes"] == {"limit": 5, "in_use": 1, "reserved": 0}
        assert usage["quota_set"]["gigabytes___DEFAULT__"]["in_use"] == 2
        limits = (await lab.call("GET", "/limits", token=token))["limits"]["absolute"]
        assert (limits["maxTotalVolumes"], limits["totalVolumesUsed"],
                limits["totalGigabytesUsed"]) == (5, 1, 2)

    run_lab(scenario)


def test_get_pools_shows_each_backends_capacity() -> None:
    async def scenario(lab: Lab) -> None:
        await lab.create(size=4)
        pools = (await lab.call("GET", "/scheduler-stats/get_pools?detail=true"))["pools"]
        assert sorted(p["name"] for p in pools) == [f"{C1}@lvm#lvm", f"{C2}@lvm#lvm"]
        provisioned = sorted(p["capabilities"]["provisioned_capacity_gb"] for p in pools)
        assert provisioned == [0, 4]
        assert all(p["capabilities"]["volume_backend_name"] == "lvm" for p in pools)
        names = (await lab.call("GET", "/scheduler-stats/get_pools"))["pools"]
        assert all(set(p) == {"name"} for p in names)
        with lab.cloud.db.session() as session:
            assert session.scalars(select(m.Volume)).first() is not None

    run_lab(scenario)


def test_backend_host_makes_the_controllers_one_service_active_passive() -> None:
    from support.inprocess import ephemeral_config

    config = ephemeral_config()
    config.lvm.backend_host = "cinder-cluster"

    async def scenario(lab: Lab) -> None:
        services = lab.cloud.block_storage.list_services(binary="cinder-volume")
        assert [s.host for s in services] == ["cinder-cluster@lvm"]
        ident = (await lab.create(name="shared"))["volume"]["id"]
        assert (await lab.volume(ident))["os-vol-host-attr:host"] == "cinder-cluster@lvm#lvm"
        # Either node's process serves the one queue: with controller1's stopped,
        # controller2's consumes it, and the service keeps reporting. (A controller powered
        # off would take the two-node RabbitMQ cluster's survivor with it: pause_minority.)
        lab.cloud.runtime.stop_service(C1, "cinder-volume")
        await lab.call("POST", f"/volumes/{ident}/action", {"os-extend": {"new_size": 2}},
                       expect=202)
        await lab.settle(lab.cloud.config.DEFAULT.service_down_time + 10)
        shown = await lab.volume(ident)
        assert (shown["status"], shown["size"]) == ("available", 2)
        record = lab.cloud.block_storage.list_services(binary="cinder-volume")[0]
        assert lab.cloud.block_storage.services.is_up(record) and record.node == C2

    run_lab(scenario, config)
