"""Booting from the image of a volume-backed server: the image's block device mapping
(bdm v2) names a cinder snapshot for each volume, and nova makes the new server's volumes
from them (the image's own data, none, is not used)."""

from __future__ import annotations

import json
from typing import Any

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volume_backed_snapshot import glance, volume_backed
from unit.compute.test_volumes import boot, nova, valid


async def snapshot_image(lab: Lab) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """A volume-backed server whose root holds b"root data", its image and mappings."""
    server = await volume_backed(lab)
    root = server["os-extended-volumes:volumes_attached"][0]["id"]
    host = (await lab.volume(root))["os-vol-host-attr:host"].partition("#")[0]
    lab.cloud.block_storage.store.write(host, root, b"root data")
    made = await nova(lab, "POST", f"/servers/{server['id']}/action",
                      {"createImage": {"name": "bfv-snap"}}, expect=202, version="2.45")
    await lab.settle()
    mapping = json.loads((await glance(lab, made["image_id"]))["block_device_mapping"])
    return server, made["image_id"], mapping


def test_boot_from_a_volume_backed_servers_image_makes_volumes_from_its_snapshots() -> None:
    async def scenario(lab: Lab) -> None:
        _, image_id, mapping = await snapshot_image(lab)
        shown = await boot(lab, imageRef=image_id)
        assert shown["status"] == "ACTIVE", shown.get("fault")
        assert shown["image"]["id"] == image_id
        attached = shown["os-extended-volumes:volumes_attached"]
        assert [a["delete_on_termination"] for a in attached] == [True, False]
        root, data = [await lab.volume(a["id"]) for a in attached]
        assert (root["snapshot_id"], data["snapshot_id"]) == (
            mapping[0]["snapshot_id"], mapping[1]["snapshot_id"])
        assert (root["size"], data["size"]) == (1, 2)
        assert (root["status"], root["bootable"]) == ("in-use", "true")
        backend = root["os-vol-host-attr:host"].partition("#")[0]
        assert lab.cloud.block_storage.store.read(backend, root["id"]) == b"root data"
        listed = await nova(lab, "GET", f"/servers/{shown['id']}/os-volume_attachments")
        valid(listed, "GET", "/servers/{server_id}/os-volume_attachments", "2.96")
        assert sorted((a["volumeId"], a["device"]) for a in listed["volumeAttachments"]) == \
            sorted([(root["id"], "/dev/vda"), (data["id"], "/dev/vdb")])
        # The image's mappings are not among the server's image properties (SM_SKIP_KEYS).
        detail = (await nova(lab, "GET", f"/servers/{shown['id']}", version="2.98"))["server"]
        assert "block_device_mapping" not in detail["image"]["properties"]
        # Deleting the server deletes the root (delete_on_termination), keeps the other.
        await nova(lab, "DELETE", f"/servers/{shown['id']}", expect=204)
        for _ in range(20):
            await lab.settle()
        await lab.call("GET", f"/volumes/{root['id']}", expect=404)
        assert (await lab.volume(data["id"]))["status"] == "available"

    run_lab(scenario)


def test_the_request_overrides_the_images_mappings_by_device() -> None:
    async def scenario(lab: Lab) -> None:
        _, image_id, mapping = await snapshot_image(lab)
        blank = {"source_type": "blank", "destination_type": "volume", "volume_size": 3,
                 "device_name": "/dev/vdb", "boot_index": -1,
                 "delete_on_termination": True}
        shown = await boot(lab, imageRef=image_id, block_device_mapping_v2=[blank])
        assert shown["status"] == "ACTIVE", shown.get("fault")
        volumes = [await lab.volume(a["id"])
                   for a in shown["os-extended-volumes:volumes_attached"]]
        assert sorted((v["size"], v["snapshot_id"]) for v in volumes) == sorted(
            [(3, None), (1, mapping[0]["snapshot_id"])])
        # An image whose snapshot is gone: nova's invalid mapping.
        await lab.call("DELETE", f"/snapshots/{mapping[1]['snapshot_id']}", expect=202)
        await lab.settle()
        body = {"name": "s", "flavorRef": "1", "networks": "none", "imageRef": image_id}
        refused = await nova(lab, "POST", "/servers", {"server": body}, expect=400)
        assert refused["badRequest"]["message"] == (
            f"Block Device Mapping is Invalid: failed to get snapshot "
            f"{mapping[1]['snapshot_id']}.")

    run_lab(scenario)
