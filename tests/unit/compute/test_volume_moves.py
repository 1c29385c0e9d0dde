"""Moves keep a server's volumes, end to end in virtual time: evacuation, rebuild, resize and
its revert, cold and live migration, shelve-offload and unshelve each give cinder new
attachments naming the new host and delete the old ones, so ``volume show`` and nova's
``os-volume_attachments`` agree after every move. Multiattach from nova's side too."""

from __future__ import annotations

from typing import Any

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volumes import boot, image, nova, valid

COMPUTE1 = "compute1.openstack.local"
COMPUTE2 = "compute2.openstack.local"
ATTACHMENTS = "/servers/{server_id}/os-volume_attachments"


async def wait_for(lab: Lab, server: str, *statuses: str) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for _ in range(400):
        shown = (await nova(lab, "GET", f"/servers/{server}"))["server"]
        if shown["status"] in statuses and shown["OS-EXT-STS:task_state"] is None:
            return shown
        await lab.clock.run_for(0.5)
    raise AssertionError(f"server {server} stayed {shown['status']}/"
                         f"{shown['OS-EXT-STS:task_state']}")


async def volume_backed(lab: Lab, host: str = COMPUTE1) -> tuple[str, str, str]:
    """A server booted from an image volume on ``host`` with a second volume attached by the
    API: (server, root volume, data volume)."""
    shown = await boot(lab, availability_zone=f"nova:{host}", block_device_mapping_v2=[
        {"source_type": "image", "destination_type": "volume", "uuid": await image(lab),
         "boot_index": 0, "volume_size": 1, "delete_on_termination": True}])
    assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", host), shown
    data = (await lab.create(name="data"))["volume"]["id"]
    await nova(lab, "POST", f"/servers/{shown['id']}/os-volume_attachments",
               {"volumeAttachment": {"volumeId": data}})
    root = shown["os-extended-volumes:volumes_attached"][0]["id"]
    return shown["id"], root, data


async def attached_to(lab: Lab, server: str, host: str,
                      *volumes: str) -> dict[str, str]:
    """Each volume in-use with one attachment, to ``server`` on ``host``, the one nova's
    mapping names; returns the attachment ids by volume."""
    listed = (await nova(lab, "GET", f"/servers/{server}/os-volume_attachments",
                         version="2.89"))
    valid(listed, "GET", ATTACHMENTS, "2.89")
    by_volume = {a["volumeId"]: a for a in listed["volumeAttachments"]}
    assert sorted(by_volume) == sorted(volumes), listed
    found: dict[str, str] = {}
    for volume in volumes:
        shown = await lab.volume(volume)
        assert shown["status"] == "in-use", shown
        assert [(a["server_id"], a["host_name"]) for a in shown["attachments"]] == [
            (server, host)], shown["attachments"]
        ident = shown["attachments"][0]["attachment_id"]
        assert by_volume[volume]["attachment_id"] == ident
        detail = (await lab.call("GET", f"/attachments/{ident}"))["attachment"]
        assert detail["status"] == "attached", detail
        found[volume] = ident
    return found


async def until_down(lab: Lab, host: str) -> None:
    lab.cloud.node_down(host)
    await lab.clock.run_for(lab.cloud.config.DEFAULT.service_down_time + 1)
    services = (await nova(lab, "GET", f"/os-services?host={host}"))["services"]
    assert [s["state"] for s in services if s["binary"] == "nova-compute"] == ["down"]


def test_an_evacuated_server_gets_its_volumes_on_the_new_host() -> None:
    async def scenario(lab: Lab) -> None:
        server, root, data = await volume_backed(lab)
        before = await attached_to(lab, server, COMPUTE1, root, data)
        await until_down(lab, COMPUTE1)
        await nova(lab, "POST", f"/servers/{server}/action", {"evacuate": {}}, version="2.94")
        shown = await wait_for(lab, server, "ACTIVE", "ERROR")
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", COMPUTE2), shown
        after = await attached_to(lab, server, COMPUTE2, root, data)
        # New attachments for the destination; the dead source's are gone.
        assert not set(before.values()) & set(after.values())
        for old in before.values():
            await lab.call("GET", f"/attachments/{old}", expect=404)
        # The source back: its cleanup touches no volume.
        lab.cloud.node_up(COMPUTE1)
        await lab.clock.run_for(5)
        assert await attached_to(lab, server, COMPUTE2, root, data) == after
        # And the server is deleted from its new host with its volumes as asked.
        await nova(lab, "DELETE", f"/servers/{server}", expect=204)
        await lab.settle(5)
        await lab.call("GET", f"/volumes/{root}", expect=404)
        assert (await lab.volume(data))["status"] == "available"

    run_lab(scenario)


def test_resize_and_revert_and_cold_migration_move_the_attachments() -> None:
    async def scenario(lab: Lab) -> None:
        server, root, data = await volume_backed(lab)
        action = f"/servers/{server}/action"
        await nova(lab, "POST", action, {"resize": {"flavorRef": "2"}}, expect=202)
        shown = await wait_for(lab, server, "VERIFY_RESIZE", "ERROR")
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("VERIFY_RESIZE",
                                                                    COMPUTE2), shown
        await attached_to(lab, server, COMPUTE2, root, data)
        await nova(lab, "POST", action, {"revertResize": None}, expect=202)
        shown = await wait_for(lab, server, "ACTIVE", "ERROR")
        assert shown["OS-EXT-SRV-ATTR:host"] == COMPUTE1, shown
        await attached_to(lab, server, COMPUTE1, root, data)
        await nova(lab, "POST", action, {"migrate": None}, expect=202)
        shown = await wait_for(lab, server, "VERIFY_RESIZE", "ERROR")
        assert shown["OS-EXT-SRV-ATTR:host"] == COMPUTE2, shown
        await nova(lab, "POST", action, {"confirmResize": None}, expect=204)
        shown = await wait_for(lab, server, "ACTIVE", "ERROR")
        await attached_to(lab, server, COMPUTE2, root, data)

    run_lab(scenario)


def test_live_migration_attaches_on_the_destination_then_drops_the_source() -> None:
    async def scenario(lab: Lab) -> None:
        server, root, data = await volume_backed(lab)
        before = await attached_to(lab, server, COMPUTE1, root, data)
        await nova(lab, "POST", f"/servers/{server}/action",
                   {"os-migrateLive": {"host": None, "block_migration": "auto"}}, expect=202)
        shown = await wait_for(lab, server, "ACTIVE", "ERROR")
        assert shown["OS-EXT-SRV-ATTR:host"] == COMPUTE2, shown
        after = await attached_to(lab, server, COMPUTE2, root, data)
        assert not set(before.values()) & set(after.values())

    run_lab(scenario)


def test_shelve_offload_reserves_the_volumes_and_unshelve_connects_them_again() -> None:
    async def scenario(lab: Lab) -> None:
        server = (await boot(lab, imageRef=await image(lab),
                             availability_zone=f"nova:{COMPUTE1}"))["id"]
        data = (await lab.create(name="data"))["volume"]["id"]
        path = f"/servers/{server}/os-volume_attachments"
        await nova(lab, "POST", path, {"volumeAttachment": {"volumeId": data}})
        action = f"/servers/{server}/action"
        # nova's shelved_offload_time 0: offloaded at once.
        await nova(lab, "POST", action, {"shelve": None}, expect=202)
        await wait_for(lab, server, "SHELVED_OFFLOADED")
        # No host holds it: the volume is the server's, reserved, connected nowhere.
        shown = await lab.volume(data)
        assert shown["status"] == "reserved", shown
        assert shown["attachments"] == []  # cinder shows the attached ones only
        reserved = (await lab.call("GET", f"/attachments?volume_id={data}"))["attachments"]
        assert [(a["instance"], a["status"]) for a in reserved] == [(server, "reserved")]
        # One more, attached while offloaded: it gets its device on the new host.
        late = (await lab.create(name="late"))["volume"]["id"]
        await nova(lab, "POST", path, {"volumeAttachment": {"volumeId": late}})
        await nova(lab, "POST", action, {"unshelve": {"host": COMPUTE2}}, version="2.91",
                   expect=202)
        shown = await wait_for(lab, server, "ACTIVE", "ERROR")
        assert shown["OS-EXT-SRV-ATTR:host"] == COMPUTE2, shown
        await attached_to(lab, server, COMPUTE2, data, late)
        devices = (await nova(lab, "GET", path))["volumeAttachments"]
        assert sorted(a["device"] for a in devices) == ["/dev/vdb", "/dev/vdc"]

    run_lab(scenario)


def test_rebuild_keeps_the_volumes_and_refuses_a_new_image_before_2_93(
        ) -> None:
    async def scenario(lab: Lab) -> None:
        server, root, data = await volume_backed(lab)
        before = await attached_to(lab, server, COMPUTE1, root, data)
        action = f"/servers/{server}/action"
        same = await image(lab)
        await nova(lab, "POST", action, {"rebuild": {"imageRef": same}}, expect=202)
        shown = await wait_for(lab, server, "ACTIVE", "ERROR")
        assert shown["image"] == "", shown  # still volume-backed
        after = await attached_to(lab, server, COMPUTE1, root, data)
        assert not set(before.values()) & set(after.values())
        headers = {"X-Auth-Token": lab.token}
        other = (await lab.client.post("/image/v2/images", headers=headers, json={
            "name": "other", "disk_format": "raw", "container_format": "bare"})).json()["id"]
        uploaded = await lab.client.put(f"/image/v2/images/{other}/file", content=b"x" * 512,
                                        headers={**headers,
                                                 "Content-Type": "application/octet-stream"})
        assert uploaded.status_code == 204, uploaded.text
        refused = await nova(lab, "POST", action, {"rebuild": {"imageRef": other}},
                             version="2.92", expect=400)
        assert refused["badRequest"]["message"] == (
            f"Image {other} is unacceptable: Unable to rebuild with a different image for a "
            "volume-backed server.")
        await attached_to(lab, server, COMPUTE1, root, data)

    run_lab(scenario)


def test_a_multiattach_volume_on_two_servers_from_2_60() -> None:
    async def scenario(lab: Lab) -> None:
        await lab.call("POST", "/types", {"volume_type": {
            "name": "multi", "extra_specs": {"multiattach": "<is> True"}}})
        shared = (await lab.create(name="shared", volume_type="multi"))["volume"]["id"]
        assert (await lab.volume(shared))["multiattach"] is True
        one = (await boot(lab, imageRef=await image(lab)))["id"]
        two = (await boot(lab, imageRef=await image(lab)))["id"]
        body = {"volumeAttachment": {"volumeId": shared}}
        old = await nova(lab, "POST", f"/servers/{one}/os-volume_attachments", body,
                         version="2.59", expect=400)
        assert old["badRequest"]["message"] == (
            "Multiattach volumes are only supported starting with compute API version 2.60.")
        for server in (one, two):
            made = await nova(lab, "POST", f"/servers/{server}/os-volume_attachments", body,
                              version="2.60")
            valid(made, "POST", ATTACHMENTS, "2.60")
        shown = await lab.volume(shared)
        assert shown["status"] == "in-use"
        assert sorted(a["server_id"] for a in shown["attachments"]) == sorted([one, two])
        again = await nova(lab, "POST", f"/servers/{one}/os-volume_attachments", body,
                           version="2.60", expect=400)
        assert again["badRequest"]["message"] == (
            f"Invalid volume: volume {shared} already attached")
        await nova(lab, "DELETE", f"/servers/{one}/os-volume_attachments/{shared}",
                   expect=202)
        shown = await lab.volume(shared)
        assert shown["status"] == "in-use"
        assert [a["server_id"] for a in shown["attachments"]] == [two]
        await nova(lab, "DELETE", f"/servers/{two}/os-volume_attachments/{shared}",
                   expect=202)
        shown = await lab.volume(shared)
        assert (shown["status"], shown["attachments"]) == ("available", [])

    run_lab(scenario)


def test_cinder_refusing_the_destination_s_attachment_fails_the_evacuation() -> None:
    async def scenario(lab: Lab) -> None:
        server, _root, data = await volume_backed(lab)
        await until_down(lab, COMPUTE1)
        # A volume in error takes no new attachment (cinder's 400).
        await lab.call("POST", f"/volumes/{data}/action",
                       {"os-reset_status": {"status": "error"}}, expect=202)
        await nova(lab, "POST", f"/servers/{server}/action", {"evacuate": {}}, version="2.94")
        shown = await wait_for(lab, server, "ERROR")
        assert "can not be created if the volume is in an error state" in \
            shown["fault"]["message"], shown["fault"]
        migrations = (await nova(lab, "GET", f"/os-migrations?instance_uuid={server}",
                                 version="2.59"))["migrations"]
        assert [(m["migration_type"], m["status"]) for m in migrations] == [
            ("evacuation", "failed")]
        actions = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions"))
        request_id = actions["instanceActions"][0]["request_id"]
        assert actions["instanceActions"][0]["action"] == "evacuate"
        events = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions/"
                             f"{request_id}"))["instanceAction"]["events"]
        assert {e["event"]: e["result"] for e in events}["compute_rebuild_instance"] == "Error"

    run_lab(scenario)
