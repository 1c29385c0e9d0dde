"""nova's deprecated os-volumes and os-snapshots: proxies to cinder until 2.35."""

from __future__ import annotations

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volumes import boot, image, nova, valid


def test_os_volumes_create_show_list_delete_through_cinder() -> None:
    async def scenario(lab: Lab) -> None:
        made = await nova(lab, "POST", "/os-volumes", {"volume": {
            "size": "1", "display_name": "v", "display_description": "d",
            "metadata": {"k": "v"}}}, version="2.35")
        volume = made["volume"]
        valid(made, "POST", "/os-volumes", "2.35")
        assert (volume["size"], volume["displayName"], volume["displayDescription"],
                volume["metadata"], volume["attachments"], volume["volumeType"],
                volume["snapshotId"], volume["availabilityZone"]) == (
            1, "v", "d", {"k": "v"}, [{}], "__DEFAULT__", None, "nova")
        await lab.settle()
        # cinder holds it, in the caller's project.
        assert (await lab.volume(volume["id"]))["name"] == "v"
        shown = await nova(lab, "GET", f"/os-volumes/{volume['id']}", version="2.1")
        valid(shown, "GET", "/os-volumes/{volume_id}", "2.1")
        assert shown["volume"]["status"] == "available"
        listed = await nova(lab, "GET", "/os-volumes/detail?limit=1", version="2.35")
        valid(listed, "GET", "/os-volumes/detail", "2.35")
        assert [v["id"] for v in listed["volumes"]] == [volume["id"]]
        assert (await nova(lab, "GET", "/os-volumes?offset=1", version="2.35"))[
            "volumes"] == []

        # Attached: its one attachment, with the device.
        server = (await boot(lab, imageRef=await image(lab)))["id"]
        await nova(lab, "POST", f"/servers/{server}/os-volume_attachments",
                   {"volumeAttachment": {"volumeId": volume["id"]}})
        attached = (await nova(lab, "GET", f"/os-volumes/{volume['id']}",
                               version="2.35"))["volume"]
        assert attached["attachments"] == [{"id": volume["id"], "volumeId": volume["id"],
                                            "serverId": server, "device": "/dev/vdb"}]
        # cinder refuses to delete an attached volume: nova's InvalidInput.
        refused = await nova(lab, "DELETE", f"/os-volumes/{volume['id']}", version="2.35",
                             expect=400)
        assert refused["badRequest"]["message"].startswith("Invalid input received: ")
        await nova(lab, "DELETE", f"/servers/{server}/os-volume_attachments/{volume['id']}",
                   expect=202)
        await lab.settle(5)
        await nova(lab, "DELETE", f"/os-volumes/{volume['id']}", version="2.35", expect=202)
        await lab.settle()
        missing = await nova(lab, "GET", f"/os-volumes/{volume['id']}", version="2.35",
                             expect=404)
        assert missing["itemNotFound"]["message"] == (
            f"Volume {volume['id']} could not be found.")

        # 2.36 on: gone.
        await nova(lab, "GET", "/os-volumes", version="2.36", expect=404)
        # Bad input and blank or unknown ids.
        for body in ({"volume": {"size": 0}}, {"volume": {"size": "#$%"}},
                     {"volume": {"display_name": "x"}}):
            await nova(lab, "POST", "/os-volumes", body, version="2.35", expect=400)
        await nova(lab, "POST", "/os-volumes", {"volume": {
            "size": 1, "snapshot_id": "00000000-0000-0000-0000-000000000000"}},
            version="2.35", expect=404)
        await nova(lab, "GET", "/os-volumes/", version="2.35", expect=404)
        await nova(lab, "DELETE", "/os-volumes/", version="2.35", expect=404)
        await nova(lab, "DELETE", "/os-volumes/not-a-volume", version="2.35", expect=404)

    run_lab(scenario)


def test_os_snapshots_through_cinder() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create(size=2))["volume"]["id"]
        made = await nova(lab, "POST", "/os-snapshots", {"snapshot": {
            "volume_id": volume, "display_name": "s", "force": "false"}}, version="2.35")
        valid(made, "POST", "/os-snapshots", "2.35")
        snapshot = made["snapshot"]
        assert (snapshot["volumeId"], snapshot["size"], snapshot["displayName"]) == (
            volume, 2, "s")
        await lab.settle()
        shown = await nova(lab, "GET", f"/os-snapshots/{snapshot['id']}", version="2.35")
        valid(shown, "GET", "/os-snapshots/{snapshot_id}", "2.35")
        assert shown["snapshot"]["status"] == "available"
        listed = await nova(lab, "GET", "/os-snapshots/detail", version="2.35")
        assert [s["id"] for s in listed["snapshots"]] == [snapshot["id"]]
        await nova(lab, "POST", "/os-snapshots", {"snapshot": {
            "volume_id": "00000000-0000-0000-0000-000000000000"}}, version="2.35",
            expect=404)
        await nova(lab, "DELETE", f"/os-snapshots/{snapshot['id']}", version="2.35",
                   expect=202)
        await lab.settle()
        missing = await nova(lab, "GET", f"/os-snapshots/{snapshot['id']}",
                             version="2.35", expect=404)
        assert missing["itemNotFound"]["message"] == (
            f"Snapshot {snapshot['id']} could not be found.")

    run_lab(scenario)
