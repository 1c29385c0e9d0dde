"""createImage of a volume-backed server: each volume snapshotted in cinder, and an
active image of size 0 carrying the block device mapping that names the snapshots."""

from __future__ import annotations

import json
from typing import Any

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volumes import boot, image, nova


async def volume_backed(lab: Lab) -> dict[str, Any]:
    root = {"source_type": "image", "destination_type": "volume", "uuid": await image(lab),
            "boot_index": 0, "volume_size": 1, "delete_on_termination": True}
    blank = {"source_type": "blank", "destination_type": "volume", "volume_size": 2,
             "boot_index": -1}
    shown = await boot(lab, block_device_mapping_v2=[root, blank])
    assert shown["status"] == "ACTIVE", shown
    return shown


async def glance(lab: Lab, image_id: str) -> dict[str, Any]:
    answer = await lab.client.get(f"/image/v2/images/{image_id}",
                                  headers={"X-Auth-Token": lab.token})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_create_image_of_a_volume_backed_server_snapshots_its_volumes() -> None:
    async def scenario(lab: Lab) -> None:
        server = await volume_backed(lab)
        attached = [a["id"] for a in server["os-extended-volumes:volumes_attached"]]
        made = await nova(lab, "POST", f"/servers/{server['id']}/action",
                          {"createImage": {"name": "bfv-snap", "metadata": {"k": "v"}}},
                          expect=202, version="2.45")
        shown = await glance(lab, made["image_id"])
        assert (shown["status"], shown["size"]) == ("active", 0)
        assert (shown["disk_format"], shown["container_format"]) == ("qcow2", "bare")
        assert shown["k"] == "v" and shown["bdm_v2"] == "True"
        assert shown["root_device_name"] == "/dev/vda"
        assert "image_type" not in shown and "block_device_mapping" in shown
        mapping = json.loads(shown["block_device_mapping"])
        assert [(b["source_type"], b["destination_type"], b["boot_index"], b["device_name"],
                 b["volume_size"], b["volume_id"]) for b in mapping] == [
            ("snapshot", "volume", 0, "/dev/vda", 1, None),
            ("snapshot", "volume", None, "/dev/vdb", 2, None)]
        await lab.settle()
        for entry, volume in zip(mapping, attached, strict=True):
            snapshot = (await lab.call("GET", f"/snapshots/{entry['snapshot_id']}"))[
                "snapshot"]
            assert snapshot["volume_id"] == volume
            assert snapshot["name"] == "snapshot for bfv-snap"
            assert snapshot["status"] == "available"
        # The server did not move (no snapshot task on the compute), and its action log
        # has the createImage with nova-api's own event.
        after = (await nova(lab, "GET", f"/servers/{server['id']}"))["server"]
        assert (after["status"], after["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
        actions = (await nova(lab, "GET", f"/servers/{server['id']}/os-instance-actions",
                              version="2.84"))["instanceActions"]
        (create,) = [a for a in actions if a["action"] == "createImage"]
        detail = (await nova(lab, "GET", f"/servers/{server['id']}/os-instance-actions/"
                                         f"{create['request_id']}",
                             version="2.84"))["instanceAction"]
        assert [(e["event"], e["result"]) for e in detail["events"]] == [
            ("api_snapshot_instance", "Success")]

    run_lab(scenario)


def test_the_snapshot_quota_is_checked_before_any_snapshot() -> None:
    async def scenario(lab: Lab) -> None:
        server = await volume_backed(lab)
        project = server["tenant_id"]
        await lab.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"snapshots": 1}})
        refused = await nova(lab, "POST", f"/servers/{server['id']}/action",
                             {"createImage": {"name": "too-many"}}, expect=403,
                             version="2.45")
        assert refused["forbidden"]["message"] == "Quota exceeded for resources: snapshots"
        assert (await lab.call("GET", "/snapshots"))["snapshots"] == []

    run_lab(scenario)
