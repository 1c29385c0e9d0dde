"""Rebuild of a volume-backed server at 2.93, end to end in virtual time: nova has cinder
re-image the root volume (os-reimage, 3.68), waits for its volume-reimaged event and
connects the volume again; before 2.93 a new image is refused."""

from __future__ import annotations

from typing import Any

from support.apiref import assert_nova_response
from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volume_moves import COMPUTE1, attached_to, volume_backed, wait_for
from unit.compute.test_volumes import image, nova


async def upload(lab: Lab, name: str, data: bytes, **fields: Any) -> str:
    headers = {"X-Auth-Token": lab.token}
    made = await lab.client.post("/image/v2/images", headers=headers, json={
        "name": name, "disk_format": "raw", "container_format": "bare", **fields})
    ident = str(made.json()["id"])
    answer = await lab.client.put(f"/image/v2/images/{ident}/file", content=data,
                                  headers={**headers,
                                           "Content-Type": "application/octet-stream"})
    assert answer.status_code == 204, answer.text
    return ident


def root_bytes(lab: Lab, shown: dict[str, Any]) -> bytes:
    backend = shown["os-vol-host-attr:host"].partition("#")[0]
    return bytes(lab.cloud.block_storage.store.read(backend, shown["id"]))


def test_rebuild_at_2_93_reimages_the_root_volume() -> None:
    async def scenario(lab: Lab) -> None:
        server, root, data = await volume_backed(lab)
        other = await upload(lab, "other", b"new root disk")
        action = f"/servers/{server}/action"
        refused = await nova(lab, "POST", action, {"rebuild": {"imageRef": other}},
                             version="2.92", expect=400)
        assert "Unable to rebuild with a different image" in refused["badRequest"]["message"]
        answer = await nova(lab, "POST", action, {"rebuild": {"imageRef": other}},
                            version="2.93", expect=202)
        assert_nova_response(answer, "/servers/{id}/action", "POST", "2.93",
                             action="rebuild")
        assert answer["server"]["image"] == ""  # still volume-backed
        shown = await wait_for(lab, server, "ACTIVE", "ERROR")
        assert shown["status"] == "ACTIVE", shown.get("fault")
        volume = await lab.volume(root)
        assert volume["volume_image_metadata"]["image_id"] == other
        assert root_bytes(lab, volume) == b"new root disk"
        await attached_to(lab, server, COMPUTE1, root, data)
        events = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions/"
                                         f"{await _last(lab, server, 'rebuild')}",
                             version="2.51"))["instanceAction"]["events"]
        assert [(e["event"], e["result"]) for e in events] == [
            ("compute_rebuild_instance", "Success")]
        # The server's image properties are the new image's.
        detail = (await nova(lab, "GET", f"/servers/{server}", version="2.98"))["server"]
        assert detail["image"] == ""

    run_lab(scenario)


async def _last(lab: Lab, server: str, name: str) -> str:
    actions = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions"))
    return str(next(a["request_id"] for a in actions["instanceActions"]
                    if a["action"] == name))


def test_a_reimage_cinder_refuses_aborts_the_rebuild() -> None:
    async def scenario(lab: Lab) -> None:
        server, root, _ = await volume_backed(lab)
        # An image that needs a larger disk than the 1 GB root volume: cinder's 400.
        big = await upload(lab, "big", b"too big", min_disk=5)
        await nova(lab, "POST", f"/servers/{server}/action", {"rebuild": {"imageRef": big}},
                   version="2.93", expect=202)
        shown = await wait_for(lab, server, "ERROR")
        assert shown["fault"]["message"] == (
            f"Build of instance {server} aborted: Failed to rebuild volume backed instance.")
        volume = await lab.volume(root)
        # cinder put the volume back; it stays reserved for the server, connected to none.
        assert volume["status"] == "reserved"
        assert volume["volume_image_metadata"]["image_id"] != big

    run_lab(scenario)


def test_rebuild_refuses_a_volume_not_in_use() -> None:
    async def scenario(lab: Lab) -> None:
        server, _, data = await volume_backed(lab)
        await lab.call("POST", f"/volumes/{data}/action",
                       {"os-reset_status": {"status": "error"}}, expect=202)
        refused = await nova(lab, "POST", f"/servers/{server}/action",
                             {"rebuild": {"imageRef": await image(lab)}}, version="2.93",
                             expect=400)
        assert refused["badRequest"]["message"] == (
            f"Invalid volume: volume '{data}' status must be 'in-use'. Currently in "
            "'error' status")

    run_lab(scenario)
