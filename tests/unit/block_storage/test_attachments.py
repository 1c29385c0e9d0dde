"""Attachments (3.27+) and the older attach actions, through the API in virtual time:
the status walk nova makes, cinder's refusals, and a dead cinder-volume."""

from __future__ import annotations

import asyncio
from typing import Any

from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample
from unit.block_storage.cinder_calls import Lab, run_lab

SAMPLES = "api-ref/source/v3/samples"
SERVER = "4b1d5a04-8c5e-4f34-9b0f-3d1c3b1d2a10"
OTHER_SERVER = "0f6e2f9e-5a53-4a41-9a8e-6a1b7c6f0c21"
CONNECTOR = {"initiator": "iqn.1993-08.org.debian:01:cad181614cec", "ip": "192.168.1.20",
             "platform": "x86_64", "host": "compute1", "os_type": "linux2",
             "multipath": False, "mountpoint": "/dev/vdb"}
V = "3.44"


def schema(path: str, method: str) -> Any:
    return openapi_response_schema("block-storage", path, method)


async def reserve(lab: Lab, volume: str, server: str = SERVER, *, expect: int = 200,
                  token: str | None = None, version: str = V, **extra: Any) -> Any:
    return await lab.call("POST", "/attachments", {"attachment": {
        "volume_uuid": volume, "instance_uuid": server, **extra}}, expect=expect,
        version=version, token=token)


def test_reserve_connect_complete_and_delete_walk_the_volume_through_its_statuses() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create(name="data"))["volume"]["id"]
        made = await reserve(lab, volume)
        assert_valid(made, schema("/v3/attachments", "post"))
        assert_shape_like_sample(made, sample("cinder", f"{SAMPLES}/attachment-create-"
                                                        "response.json"))
        attachment = made["attachment"]
        assert (attachment["status"], attachment["instance"], attachment["volume_id"]) == (
            "reserved", SERVER, volume)
        assert attachment["connection_info"] == {} and attachment["attached_at"] == ""
        assert (await lab.volume(volume))["status"] == "reserved"

        path = f"/attachments/{attachment['id']}"
        updated = await lab.call("PUT", path, {"attachment": {"connector": CONNECTOR}},
                                 version=V)
        assert_valid(updated, schema("/v3/attachments/{id}", "put"))
        info = updated["attachment"]["connection_info"]
        assert updated["attachment"]["status"] == "attaching"
        assert info["driver_volume_type"] == "iscsi" and info["volume_id"] == volume
        assert info["target_iqn"] == f"iqn.2010-10.org.openstack:volume-{volume}"
        assert info["target_portal"].endswith(":3260") and info["access_mode"] == "rw"
        assert info["attachment_id"] == attachment["id"]
        shown = await lab.volume(volume)
        assert (shown["status"], shown["attachments"]) == ("attaching", [])

        await lab.call("POST", f"{path}/action", {"os-complete": {}}, expect=204, version=V)
        shown = (await lab.call("GET", f"/volumes/{volume}", version=V))
        assert_valid(shown, schema("/v3/volumes/{id}", "get"))
        entry = shown["volume"]["attachments"][0]
        assert shown["volume"]["status"] == "in-use"
        assert (entry["server_id"], entry["attachment_id"], entry["device"], entry["id"],
                entry["host_name"]) == (SERVER, attachment["id"], "/dev/vdb", volume,
                                        "compute1")
        assert entry["attached_at"]

        listing = await lab.call("GET", "/attachments", version=V)
        assert_valid(listing, schema("/v3/attachments", "get"))
        assert [a["status"] for a in listing["attachments"]] == ["attached"]
        detailed = await lab.call("GET", "/attachments/detail", version=V)
        assert_valid(detailed, schema("/v3/attachments/detail", "get"))
        one = await lab.call("GET", path, version=V)
        assert_valid(one, schema("/v3/attachments/{id}", "get"))
        assert one["attachment"]["attach_mode"] == "rw"
        assert (await lab.call("GET", f"/attachments?volume_id={volume}", version=V)
                )["attachments"][0]["id"] == attachment["id"]
        assert (await lab.call("GET", f"/attachments?instance_id={OTHER_SERVER}",
                               version=V))["attachments"] == []

        # A deleted volume in use is refused; deleting the last attachment frees it.
        await lab.call("DELETE", f"/volumes/{volume}", expect=400)
        left = await lab.call("DELETE", path, version=V)
        assert left == {"attachments": []}
        shown = await lab.volume(volume)
        assert (shown["status"], shown["attachments"]) == ("available", [])
        await lab.call("GET", path, expect=404, version=V)

    run_lab(scenario)


def test_a_plain_volume_takes_one_attachment_a_multiattach_type_many() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create())["volume"]["id"]
        first = (await reserve(lab, volume, connector=CONNECTOR))["attachment"]
        assert first["status"] == "attaching" and first["attach_mode"] == "null"
        refused = await reserve(lab, volume, OTHER_SERVER, expect=400)
        assert refused["badRequest"]["message"] == (
            f"Invalid volume: Volume {volume} status must be available or downloading to "
            "reserve, but the current status is attaching.")
        await lab.call("POST", f"/attachments/{first['id']}/action", {"os-complete": {}},
                       expect=204, version=V)
        refused = await reserve(lab, volume, OTHER_SERVER, expect=400)
        assert "the current status is in-use." in refused["badRequest"]["message"]
        # The same server may reserve again (nova does while it moves a server).
        again = (await reserve(lab, volume))["attachment"]
        assert (await lab.volume(volume))["status"] == "in-use"
        await lab.call("DELETE", f"/attachments/{again['id']}", version=V)

        kind = (await lab.call("POST", "/types", {"volume_type": {
            "name": "shared", "extra_specs": {"multiattach": "<is> True"}}}))["volume_type"]
        shared = (await lab.create(volume_type=kind["name"]))["volume"]["id"]
        assert (await lab.volume(shared))["multiattach"] is True
        ids = []
        for server in (SERVER, OTHER_SERVER):
            made = (await reserve(lab, shared, server, connector=CONNECTOR, mode="ro",
                                  version="3.54"))["attachment"]
            assert made["attach_mode"] == "ro"
            await lab.call("POST", f"/attachments/{made['id']}/action", {"os-complete": {}},
                           expect=204, version="3.54")
            ids.append(made["id"])
        shown = await lab.volume(shared)
        assert shown["status"] == "in-use" and len(shown["attachments"]) == 2
        left = await lab.call("DELETE", f"/attachments/{ids[0]}", version=V)
        assert [a["id"] for a in left["attachments"]] == [ids[1]]
        assert (await lab.volume(shared))["status"] == "in-use"
        await lab.call("DELETE", f"/attachments/{ids[1]}", version=V)
        assert (await lab.volume(shared))["status"] == "available"

    run_lab(scenario)


def test_the_older_actions_reserve_connect_attach_and_detach() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create())["volume"]["id"]
        action = f"/volumes/{volume}/action"
        await lab.call("POST", action, {"os-reserve": None}, expect=202)
        assert (await lab.volume(volume))["status"] == "attaching"
        refused = await lab.call("POST", action, {"os-reserve": {}}, expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid volume: Volume status must be available to reserve, but the status is "
            "attaching.")
        connected = await lab.call("POST", action, {"os-initialize_connection": {
            "connector": CONNECTOR}})
        info = connected["connection_info"]
        assert info["driver_volume_type"] == "iscsi" and info["enforce_multipath"] is False
        assert info["data"]["target_lun"] == 0 and info["data"]["auth_method"] == "CHAP"
        await lab.call("POST", action, {"os-attach": {"instance_uuid": SERVER,
                                                      "mountpoint": "/dev/vdc"}}, expect=202)
        shown = await lab.volume(volume)
        assert shown["status"] == "in-use" and shown["attachments"][0]["device"] == "/dev/vdc"
        attachment = shown["attachments"][0]["attachment_id"]
        refused = await lab.call("POST", action, {"os-attach": {
            "instance_uuid": OTHER_SERVER, "mountpoint": "/dev/vdd"}}, expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid volume: volume is already attached and multiple attachments are not "
            "enabled")

        await lab.call("POST", action, {"os-begin_detaching": {}}, expect=202)
        assert (await lab.volume(volume))["status"] == "detaching"
        await lab.call("POST", action, {"os-roll_detaching": {}}, expect=202)
        assert (await lab.volume(volume))["status"] == "in-use"
        await lab.call("POST", action, {"os-begin_detaching": {}}, expect=202)
        await lab.call("POST", action, {"os-detach": {"attachment_id": attachment}},
                       expect=202)
        await lab.call("POST", action, {"os-terminate_connection": {"connector": CONNECTOR}},
                       expect=202)
        shown = await lab.volume(volume)
        assert (shown["status"], shown["attachments"]) == ("available", [])
        refused = await lab.call("POST", action, {"os-begin_detaching": {}}, expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and "
            "attach_status must be 'attached' to detach.")
        # By host name too (glance's and the cinder backup's way).
        await lab.call("POST", action, {"os-attach": {"host_name": "My_Host",
                                                      "mountpoint": "/dev/vdc"}}, expect=202)
        detail = (await lab.call("GET", "/attachments/detail", version=V))["attachments"][0]
        assert detail["instance"] is None and detail["status"] == "attached"
        shown = await lab.volume(volume)
        assert shown["attachments"][0]["host_name"] == "my-host"
        await lab.call("POST", action, {"os-detach": {}}, expect=202)
        assert (await lab.volume(volume))["status"] == "available"

    run_lab(scenario)


def test_admin_force_detach_and_reset_status_take_attachments_away() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create())["volume"]["id"]
        action = f"/volumes/{volume}/action"
        first = (await reserve(lab, volume, connector=CONNECTOR))["attachment"]
        await lab.call("POST", f"/attachments/{first['id']}/action", {"os-complete": {}},
                       expect=204, version=V)
        await lab.call("POST", action, {"os-force_detach": {
            "attachment_id": first["id"], "connector": CONNECTOR}}, expect=202)
        shown = await lab.volume(volume)
        assert (shown["status"], shown["attachments"]) == ("available", [])

        refused = await lab.call("POST", action, {"os-reset_status": {"status": "in-use"}},
                                 expect=400)
        assert refused["badRequest"]["message"] == (
            "Cannot reset-state to in-use because volume does not have any attachments.")
        second = (await reserve(lab, volume))["attachment"]
        await lab.call("POST", action, {"os-reset_status": {"status": "in-use",
                                                            "attach_status": "detached"}},
                       expect=202)
        assert (await lab.volume(volume))["status"] == "available"
        await lab.call("GET", f"/attachments/{second['id']}", expect=404, version=V)

    run_lab(scenario)


def test_bad_input_other_projects_and_versions_are_refused_as_cinder_does() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create())["volume"]["id"]

        async def refused(body: dict[str, Any], field: str, version: str = V) -> None:
            answer = await lab.call("POST", "/attachments", {"attachment": body},
                                    expect=400, version=version)
            assert field in answer["badRequest"]["message"], answer

        await refused({"instance_uuid": SERVER}, "volume_uuid")
        await refused({"volume_uuid": "not-a-uuid"}, "volume_uuid")
        await refused({"volume_uuid": volume, "instance_uuid": "x"}, "instance_uuid")
        await refused({"volume_uuid": volume, "mode": "rw"}, "mode")  # 3.54 on
        await refused({"volume_uuid": volume, "mode": "wr"}, "mode", "3.54")
        await refused({"volume_uuid": volume, "connector": "iqn"}, "connector")
        await lab.call("POST", "/attachments", {"attachment": {"volume_uuid": volume}},
                       expect=404, version="3.26")
        await lab.call("GET", "/attachments?bogus=1", expect=200, version=V)  # admin
        member, _ = await lab.member("attacher")
        await lab.call("GET", "/attachments?bogus=1", expect=400, version=V, token=member)

        made = (await reserve(lab, volume))["attachment"]
        path = f"/attachments/{made['id']}"
        # Another project sees neither the volume nor its attachments.
        missing = await reserve(lab, volume, expect=404, token=member)
        assert missing["itemNotFound"]["message"] == f"Volume {volume} could not be found."
        for method, body in (("GET", None), ("DELETE", None),
                             ("PUT", {"attachment": {"connector": CONNECTOR}})):
            answer = await lab.call(method, path, body, expect=404, version=V, token=member)
            assert answer["itemNotFound"]["message"] == (
                f"Volume attachment could not be found with filter: attachment_id = "
                f"{made['id']}.")
        assert (await lab.call("GET", "/attachments", version=V, token=member)
                )["attachments"] == []
        # An empty connector, or one without an initiator for iSCSI.
        answer = await lab.call("PUT", path, {"attachment": {"connector": {}}}, expect=400,
                                version=V)
        assert "connector" in answer["badRequest"]["message"]
        answer = await lab.call("PUT", path, {"attachment": {"connector": {"host": "h"}}},
                                expect=400, version=V)
        assert answer["badRequest"]["message"] == (
            "Invalid input received: Connector doesn't have required information: initiator")
        # os-complete arrived in 3.44.
        await lab.call("POST", f"{path}/action", {"os-complete": {}}, expect=404,
                       version="3.43")
        await lab.call("POST", f"/volumes/{volume}/action", {"os-attach": {
            "mountpoint": "/dev/vdb"}}, expect=400)

    run_lab(scenario)


def test_a_dead_cinder_volume_makes_connecting_fail_after_the_rpc_timeout() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create())["volume"]["id"]
        node = (await lab.volume(volume))["os-vol-host-attr:host"].partition("@")[0]
        made = (await reserve(lab, volume))["attachment"]
        lab.cloud.runtime.stop_service(node, "cinder-volume")
        timeout = lab.cloud.config.DEFAULT.rpc_response_timeout

        pending = asyncio.create_task(lab.call(
            "PUT", f"/attachments/{made['id']}", {"attachment": {"connector": CONNECTOR}},
            expect=500, version=V))
        await lab.settle(timeout + 1)
        answer = await pending
        assert answer["computeFault"]["message"] == "Unable to update the attachment."
        shown = (await lab.call("GET", f"/attachments/{made['id']}", version=V))
        assert shown["attachment"]["status"] == "reserved"

        pending = asyncio.create_task(lab.call(
            "POST", f"/volumes/{volume}/action",
            {"os-initialize_connection": {"connector": CONNECTOR}}, expect=500))
        await lab.settle(timeout + 1)
        answer = await pending
        assert "Traceback" not in str(answer) and "computeFault" in answer

        lab.cloud.runtime.start_service(node, "cinder-volume")
        await lab.settle()
        updated = await lab.call("PUT", f"/attachments/{made['id']}",
                                 {"attachment": {"connector": CONNECTOR}}, version=V)
        assert updated["attachment"]["status"] == "attaching"

    run_lab(scenario)


def test_attachment_lists_filter_sort_and_page() -> None:
    async def scenario(lab: Lab) -> None:
        made = []
        for _ in range(3):
            volume = (await lab.create())["volume"]["id"]
            made.append((await reserve(lab, volume))["attachment"]["id"])
            await lab.settle(1)
        await lab.call("PUT", f"/attachments/{made[0]}", {"attachment": {
            "connector": CONNECTOR}}, version=V)
        newest_first = [a["id"] for a in (await lab.call("GET", "/attachments",
                                                         version=V))["attachments"]]
        assert newest_first == made[::-1]
        page = (await lab.call("GET", f"/attachments?limit=1&marker={made[2]}",
                               version=V))["attachments"]
        assert [a["id"] for a in page] == [made[1]]
        attaching = (await lab.call("GET", "/attachments?attach_status=attaching",
                                    version=V))["attachments"]
        assert [a["id"] for a in attaching] == [made[0]]
        # "status" is an allowed filter that names no column: cinder answers nothing.
        assert (await lab.call("GET", "/attachments?status=reserved", version=V)
                )["attachments"] == []
        await lab.call("GET", "/attachments?marker=nope", expect=404, version=V)
        sorted_asc = (await lab.call("GET", "/attachments/detail?sort=created_at:asc",
                                     version=V))["attachments"]
        assert [a["id"] for a in sorted_asc] == made

    run_lab(scenario)
