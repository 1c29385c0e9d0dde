"""os-volume_upload_image: a volume's bytes into a new glance image through glance's API."""

from __future__ import annotations

from typing import Any

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.block_storage.test_qcow2 import read_qcow2


async def _volume_with(lab: Lab, data: bytes, **fields: Any) -> str:
    ident = str((await lab.create(**fields))["volume"]["id"])
    host = (await lab.volume(ident))["os-vol-host-attr:host"].partition("#")[0]
    lab.cloud.block_storage.store.write(host, ident, data)
    return ident


async def _image(lab: Lab, ident: str) -> tuple[int, dict[str, Any]]:
    answer = await lab.client.get(f"/image/v2/images/{ident}",
                                  headers={"X-Auth-Token": lab.token})
    return answer.status_code, answer.json() if answer.status_code == 200 else {}


def test_a_volume_uploads_into_a_new_image() -> None:
    async def scenario(lab: Lab) -> None:
        data = b"\x01\x02volume bytes" * 100
        volume = await _volume_with(lab, data, description="d")
        answer = (await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "from-volume", "visibility": "shared",
                                       "protected": "false"}}, expect=202))
        body = answer["os-volume_upload_image"]
        assert (body["id"], body["status"], body["size"], body["display_description"],
                body["image_name"], body["disk_format"], body["container_format"],
                body["visibility"], body["protected"]) == (
            volume, "uploading", 1, "d", "from-volume", "raw", "bare", "shared", False)
        assert body["volume_type"]["name"] == "__DEFAULT__"
        assert (await lab.volume(volume))["status"] == "uploading"
        await lab.settle()
        assert (await lab.volume(volume))["status"] == "available"
        status, image = await _image(lab, body["image_id"])
        assert status == 200 and (image["status"], image["name"], image["size"],
                                  image["visibility"]) == (
            "active", "from-volume", len(data), "shared")
        got = await lab.client.get(f"/image/v2/images/{body['image_id']}/file",
                                   headers={"X-Auth-Token": lab.token})
        assert got.content == data

        # Before 3.1 no visibility: glance's default (shared).
        old = (await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "old"}}, expect=202,
            version="3.0"))["os-volume_upload_image"]
        # glance's own answer says what it made.
        assert (old["visibility"], old["protected"]) == ("shared", False)
        await lab.settle()
        assert (await _image(lab, old["image_id"]))[1]["visibility"] == "shared"
        await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "x", "visibility": "private"}},
            expect=400, version="3.0")

    run_lab(scenario)


def test_upload_refusals() -> None:
    async def scenario(lab: Lab) -> None:
        volume = await _volume_with(lab, b"data")
        await lab.call("POST", f"/volumes/{volume}/action", {"os-reset_status": {
            "status": "error"}}, expect=202)
        # Only an available volume uploads (force is ignored unless enable_force_upload).
        refused = await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "i", "force": True}}, expect=400)
        assert refused["badRequest"]["message"] == (
            f"Invalid volume: Volume {volume} status must be available")
        await lab.call("POST", f"/volumes/{volume}/action", {"os-reset_status": {
            "status": "available"}}, expect=202)
        await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "i", "disk_format": "iso"}}, expect=400)

        # A member may upload its own volume, not publish it.
        token, _ = await lab.member("up")
        mine = str((await lab.create(token=token))["volume"]["id"])
        await lab.call("POST", f"/volumes/{mine}/action", {
            "os-volume_upload_image": {"image_name": "pub", "visibility": "public"}},
            token=token, expect=403)
        assert (await lab.volume(mine, token=token))["status"] == "available"
        await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "theirs"}}, token=token, expect=404)

    run_lab(scenario)


def test_a_failed_upload_deletes_the_image_and_frees_the_volume() -> None:
    async def scenario(lab: Lab) -> None:
        # glance checks what it is given against the disk_format: raw bytes are no vmdk,
        # and stacklab's cinder converts only to qcow2.
        volume = await _volume_with(lab, b"\x00" * 4096)
        body = (await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "q", "disk_format": "vmdk"}},
            expect=202))["os-volume_upload_image"]
        await lab.settle()
        assert (await lab.volume(volume))["status"] == "available"
        status, image = await _image(lab, body["image_id"])
        assert status == 404, image

    run_lab(scenario)


def test_a_qcow2_upload_is_converted() -> None:
    async def scenario(lab: Lab) -> None:
        data = b"\x07" * 70000 + bytes(200000) + b"end"
        volume = await _volume_with(lab, data)
        body = (await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "q", "disk_format": "qcow2"}},
            expect=202))["os-volume_upload_image"]
        await lab.settle()
        status, image = await _image(lab, body["image_id"])
        assert status == 200 and (image["status"], image["disk_format"],
                                  image["virtual_size"]) == ("active", "qcow2", 1024 ** 3)
        got = await lab.client.get(f"/image/v2/images/{body['image_id']}/file",
                                   headers={"X-Auth-Token": lab.token})
        assert read_qcow2(got.content)[:len(data)] == data

    run_lab(scenario)
