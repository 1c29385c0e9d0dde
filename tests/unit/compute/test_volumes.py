"""A server's volumes through nova's API, end to end in virtual time: nova calls cinder's
attachments API over HTTP with the user's token, and the bodies match nova's schemas."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from support.apiref import assert_nova_response
from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.nova_calls import BASE

T = TypeVar("T")


async def during(lab: Lab, work: Awaitable[T]) -> T:
    """Run ``work`` while the virtual clock moves (builds and cinder wait on it)."""
    task = asyncio.ensure_future(work)
    while not task.done():
        await lab.clock.run_for(0.5)
        await asyncio.sleep(0)
    return task.result()


async def nova(lab: Lab, method: str, path: str, body: Any = None, *, version: str = "2.96",
               expect: int = 200, token: str | None = None) -> Any:
    answer = await during(lab, lab.client.request(
        method, f"{BASE}{path}", json=body,
        headers={"X-Auth-Token": token or lab.token,
                 "OpenStack-API-Version": f"compute {version}"}))
    assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
    return answer.json() if answer.content else None


async def image(lab: Lab) -> str:
    answer = await lab.client.get("/image/v2/images", headers={"X-Auth-Token": lab.token})
    return str(answer.json()["images"][0]["id"])


async def boot(lab: Lab, token: str | None = None, **server: Any) -> dict[str, Any]:
    body = {"name": "s", "flavorRef": "1", "networks": "none", **server}
    made = await nova(lab, "POST", "/servers", {"server": body}, expect=202, token=token)
    ident = made["server"]["id"]
    for _ in range(200):
        shown = (await nova(lab, "GET", f"/servers/{ident}", token=token))["server"]
        if shown["status"] != "BUILD":
            return dict(shown)
    raise AssertionError(f"server {ident} stayed BUILD")


def valid(body: Any, method: str, path: str, version: str) -> None:
    """The body against nova's own response schema at ``version``."""
    assert_nova_response(body, path, method, version)


def test_attach_list_show_and_detach_walk_the_volume_through_cinder() -> None:
    async def scenario(lab: Lab) -> None:
        server = (await boot(lab, imageRef=await image(lab)))["id"]
        volume = (await lab.create(name="data"))["volume"]["id"]
        path = f"/servers/{server}/os-volume_attachments"
        made = await nova(lab, "POST", path, {"volumeAttachment": {"volumeId": volume}},
                          version="2.79")
        assert made["volumeAttachment"] == {
            "id": volume, "serverId": server, "volumeId": volume, "device": "/dev/vdb",
            "tag": None, "delete_on_termination": False}
        valid(made, "POST", "/servers/{server_id}/os-volume_attachments", "2.79")
        shown = await lab.volume(volume)
        assert shown["status"] == "in-use", shown
        assert [(a["server_id"], a["device"]) for a in shown["attachments"]] == [
            (server, "/dev/vdb")]
        for version in ("2.1", "2.70", "2.79", "2.89"):
            listed = await nova(lab, "GET", path, version=version)
            valid(listed, "GET", "/servers/{server_id}/os-volume_attachments", version)
            one = await nova(lab, "GET", f"{path}/{volume}", version=version)
            valid(one, "GET", "/servers/{server_id}/os-volume_attachments/{id}", version)
        newest = (await nova(lab, "GET", f"{path}/{volume}", version="2.89"))["volumeAttachment"]
        assert newest["attachment_id"] == shown["attachments"][0]["attachment_id"]
        assert "id" not in newest and newest["bdm_uuid"]
        server_view = (await nova(lab, "GET", f"/servers/{server}"))["server"]
        assert server_view["os-extended-volumes:volumes_attached"] == [
            {"id": volume, "delete_on_termination": False}]
        # The same volume again: nova's own mappings refuse it.
        again = await nova(lab, "POST", path, {"volumeAttachment": {"volumeId": volume}},
                           expect=400)
        assert again["badRequest"]["message"] == (
            f"Invalid volume: volume {volume} is already attached to instances: {server}")
        await nova(lab, "DELETE", f"{path}/{volume}", expect=202)
        assert (await lab.volume(volume))["status"] == "available"
        assert (await nova(lab, "GET", path))["volumeAttachments"] == []
        gone = await nova(lab, "DELETE", f"{path}/{volume}", expect=404)
        assert gone["itemNotFound"]["message"] == (
            f"Instance {server} is not attached to volume {volume}")

    run_lab(scenario)


def test_attach_refusals_are_nova_s() -> None:
    async def scenario(lab: Lab) -> None:
        server = (await boot(lab, imageRef=await image(lab)))["id"]
        path = f"/servers/{server}/os-volume_attachments"
        missing = "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53"
        answer = await nova(lab, "POST", path, {"volumeAttachment": {"volumeId": missing}},
                            expect=404)
        assert answer["itemNotFound"]["message"] == f"Volume {missing} could not be found."
        volume = (await lab.create())["volume"]["id"]
        bad = await nova(lab, "POST", path, {"volumeAttachment": {
            "volumeId": volume, "device": "/dev/sdz!"}}, expect=400)
        assert "badRequest" in bad
        await nova(lab, "POST", f"/servers/{server}/action", {"suspend": None}, expect=202)
        suspended = await nova(lab, "POST", path, {"volumeAttachment": {"volumeId": volume}},
                               expect=409)
        assert suspended["conflictingRequest"]["message"] == (
            f"Cannot 'attach_volume' instance {server} while it is in vm_state suspended")
        await nova(lab, "POST", f"/servers/{server}/action", {"resume": None}, expect=202)
        # 2.85: only delete_on_termination changes; the device is not mutable.
        await nova(lab, "POST", path, {"volumeAttachment": {"volumeId": volume}})
        update = f"{path}/{volume}"
        await nova(lab, "PUT", update, {"volumeAttachment": {
            "volumeId": volume, "delete_on_termination": True}}, version="2.85", expect=202)
        shown = (await nova(lab, "GET", update, version="2.85"))["volumeAttachment"]
        assert shown["delete_on_termination"] is True
        fixed = await nova(lab, "PUT", update, {"volumeAttachment": {
            "volumeId": volume, "device": "/dev/vdq"}}, version="2.85", expect=400)
        assert fixed["badRequest"]["message"] == "The device property is not mutable"
        # Before 2.85 a PUT is a swap, cinder's call for a migrating volume.
        swap = await nova(lab, "PUT", update, {"volumeAttachment": {"volumeId": volume}},
                          version="2.84", expect=409)
        assert "is not migrating" in swap["conflictingRequest"]["message"]

    run_lab(scenario)


def test_boot_from_an_image_volume_and_delete_cleans_up() -> None:
    async def scenario(lab: Lab) -> None:
        bdm = {"source_type": "image", "destination_type": "volume", "uuid": await image(lab),
               "boot_index": 0, "volume_size": 1, "delete_on_termination": True}
        blank = {"source_type": "blank", "destination_type": "volume", "volume_size": 1,
                 "boot_index": -1}
        shown = await boot(lab, block_device_mapping_v2=[bdm, blank])
        assert shown["status"] == "ACTIVE", shown
        assert shown["image"] == ""
        attached = shown["os-extended-volumes:volumes_attached"]
        assert [a["delete_on_termination"] for a in attached] == [True, False]
        root_volume = await lab.volume(attached[0]["id"])
        extra_volume = await lab.volume(attached[1]["id"])
        assert root_volume["status"] == extra_volume["status"] == "in-use"
        assert root_volume["bootable"] == "true"
        assert extra_volume["name"] == f"{shown['id']}-blank-vol"
        devices = await nova(lab, "GET", f"/servers/{shown['id']}/os-volume_attachments")
        assert [a.get("device") for a in devices["volumeAttachments"]] == [
            "/dev/vda", "/dev/vdb"]
        root_detach = await nova(lab, "DELETE", f"/servers/{shown['id']}/os-volume_attachments/"
                                 f"{root_volume['id']}", expect=400)
        assert root_detach["badRequest"]["message"] == "Cannot detach a root device volume"
        await nova(lab, "DELETE", f"/servers/{shown['id']}", expect=204)
        await lab.settle(5)
        await lab.call("GET", f"/volumes/{root_volume['id']}", expect=404)
        assert (await lab.volume(extra_volume["id"]))["status"] == "available"

    run_lab(scenario)


def test_boot_from_an_existing_volume_and_refusals() -> None:
    async def scenario(lab: Lab) -> None:
        made = (await lab.create(imageRef=await image(lab)))["volume"]["id"]
        volume = await lab.until_status(made, "available", "error")
        assert volume["bootable"] == "true", volume
        bdm = {"source_type": "volume", "destination_type": "volume", "uuid": made,
               "boot_index": 0}
        shown = await boot(lab, block_device_mapping_v2=[bdm])
        assert shown["status"] == "ACTIVE" and shown["image"] == ""
        assert (await lab.volume(made))["status"] == "in-use"
        # In use now: cinder refuses another server's reservation.
        refused = await nova(lab, "POST", "/servers", {"server": {
            "name": "t", "flavorRef": "1", "networks": "none",
            "block_device_mapping_v2": [bdm]}}, expect=400)
        assert refused["badRequest"]["message"].startswith("Invalid volume: ")
        missing = await nova(lab, "POST", "/servers", {"server": {
            "name": "t", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": [
                {**bdm, "uuid": "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53"}]}}, expect=400)
        assert missing["badRequest"]["message"] == (
            "Block Device Mapping is Invalid: failed to get volume "
            "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53.")
        # A data volume nova cannot see is its VolumeNotFound (nova gets every mapped
        # volume first); a root snapshot it cannot see, SnapshotNotFound.
        ghost = "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53"
        data = await nova(lab, "POST", "/servers", {"server": {
            "name": "t", "flavorRef": "1", "networks": "none", "imageRef": await image(lab),
            "block_device_mapping_v2": [{"source_type": "volume", "uuid": ghost,
                                         "destination_type": "volume", "boot_index": 1}]}},
            expect=400)
        assert data["badRequest"]["message"] == f"Volume {ghost} could not be found."
        snap = await nova(lab, "POST", "/servers", {"server": {
            "name": "t", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": [
                {"source_type": "snapshot", "uuid": ghost, "destination_type": "volume",
                 "volume_size": 1, "boot_index": 0}]}}, expect=400)
        assert snap["badRequest"]["message"] == f"Snapshot {ghost} could not be found."
        no_root = await nova(lab, "POST", "/servers", {"server": {
            "name": "t", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": [
                {"source_type": "blank", "destination_type": "volume", "volume_size": 1,
                 "boot_index": 1}]}}, expect=400)
        assert "Boot sequence" in no_root["badRequest"]["message"]
        await nova(lab, "DELETE", f"/servers/{shown['id']}", expect=204)
        await lab.settle(5)
        # Not delete_on_termination: the volume stays, free again.
        assert (await lab.volume(made))["status"] == "available"

    run_lab(scenario)


def test_legacy_mapping_boots_from_its_vda_volume_holding_no_disk_in_placement() -> None:
    async def scenario(lab: Lab) -> None:
        made = (await lab.create(imageRef=await image(lab)))["volume"]["id"]
        await lab.until_status(made, "available")
        shown = await boot(lab, block_device_mapping=[
            {"volume_id": made, "device_name": "vda", "delete_on_termination": "true"}])
        assert shown["status"] == "ACTIVE" and shown["image"] == ""
        assert shown["os-extended-volumes:volumes_attached"] == [
            {"id": made, "delete_on_termination": True}]
        # Only the flavor's memory and cpu: the root disk is the volume, on no host.
        usage = lab.cloud.compute.placement.allocations[shown["id"]].resources
        assert usage.get("DISK_GB", 0) == 0 and usage["MEMORY_MB"] > 0
        both = await nova(lab, "POST", "/servers", {"server": {
            "name": "t", "flavorRef": "1", "networks": "none",
            "block_device_mapping": [{"volume_id": made, "device_name": "vda"}],
            "block_device_mapping_v2": [{"source_type": "blank", "volume_size": 1,
                                         "destination_type": "volume", "boot_index": 0}]}},
            expect=400)
        assert both["badRequest"]["message"] == (
            "Using different block_device_mapping syntaxes is not allowed")
        await nova(lab, "DELETE", f"/servers/{shown['id']}", expect=204)
        await lab.settle(5)
        await lab.call("GET", f"/volumes/{made}", expect=404)

    run_lab(scenario)


def test_cinder_s_quota_fails_the_build_of_a_volume_the_user_may_not_have() -> None:
    async def scenario(lab: Lab) -> None:
        token, project = await lab.member("tight")
        await lab.call("PUT", f"/os-quota-sets/{project}",
                       {"quota_set": {"gigabytes": 0}})
        bdm = {"source_type": "blank", "destination_type": "volume", "volume_size": 1,
               "boot_index": 0}
        made = await nova(lab, "POST", "/servers", {"server": {
            "name": "t", "flavorRef": "1", "networks": "none",
            "block_device_mapping_v2": [bdm]}}, expect=202, token=token)
        ident = made["server"]["id"]
        shown: dict[str, Any] = {}
        for _ in range(100):
            shown = (await nova(lab, "GET", f"/servers/{ident}", token=token))["server"]
            if shown["status"] != "BUILD":
                break
        # The volume is the user's, counted by cinder against the user's project.
        assert shown["status"] == "ERROR", shown
        assert shown["fault"]["message"].startswith(f"Build of instance {ident} aborted: ")
        assert "gigabytes" in shown["fault"]["message"]
        assert shown["os-extended-volumes:volumes_attached"] == []

    run_lab(scenario)
