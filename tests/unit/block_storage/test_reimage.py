"""os-reimage (3.68): a volume written anew from an image, cinder's refusals, and an image
of a volume-backed server (its root snapshot's bytes)."""

from __future__ import annotations

import json

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volume_reimage import upload


def _bytes(lab: Lab, shown: dict[str, object]) -> bytes:
    backend = str(shown["os-vol-host-attr:host"]).partition("#")[0]
    return bytes(lab.cloud.block_storage.store.read(backend, str(shown["id"])))


def test_reimage_rewrites_an_available_volume() -> None:
    async def scenario(lab: Lab) -> None:
        image = await upload(lab, "fresh", b"fresh bytes", os_distro="cirros")
        volume = (await lab.create(name="v"))["volume"]["id"]
        action = f"/volumes/{volume}/action"
        body = {"os-reimage": {"image_id": image}}
        # An action of 3.68 on.
        await lab.call("POST", action, body, version="3.67", expect=404)
        await lab.call("POST", action, body, version="3.68", expect=202)
        assert (await lab.volume(volume))["status"] == "downloading"
        shown = await lab.until_status(volume, "available", "error")
        assert (shown["status"], shown["bootable"]) == ("available", "true")
        assert shown["volume_image_metadata"]["image_id"] == image
        assert shown["volume_image_metadata"]["os_distro"] == "cirros"
        assert _bytes(lab, shown) == b"fresh bytes"

    run_lab(scenario)


def test_reimage_refusals_are_cinder_s() -> None:
    async def scenario(lab: Lab) -> None:
        image = await upload(lab, "fresh", b"fresh bytes")
        volume = (await lab.create(name="v"))["volume"]["id"]
        action = f"/volumes/{volume}/action"
        missing = "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53"
        gone = await lab.call("POST", action, {"os-reimage": {"image_id": missing}},
                              expect=404)
        assert gone["itemNotFound"]["message"] == f"Image {missing} could not be found."
        bad = await lab.call("POST", action, {"os-reimage": {"image_id": "nope"}},
                             expect=400)
        assert "badRequest" in bad
        await lab.call("POST", action, {"os-reimage": {"image_id": image, "extra": 1}},
                       expect=400)
        big = await upload(lab, "big", b"big", min_disk=4)
        refused = await lab.call("POST", action, {"os-reimage": {"image_id": big}},
                                 expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid input received: Volume size 1GB cannot be smaller than the image "
            "minDisk size 4GB.")
        assert (await lab.volume(volume))["status"] == "available"  # put back
        # Reserved (nova's rebuild holds it): only with reimage_reserved.
        server = "0c0b5b9b-6f0d-4d5b-9a53-0b1de8f6c9a1"
        await lab.call("POST", "/attachments", {"attachment": {
            "volume_uuid": volume, "instance_uuid": server}}, expect=200)
        reserved = await lab.call("POST", action, {"os-reimage": {"image_id": image}},
                                  expect=400)
        assert reserved["badRequest"]["message"] == (
            f"Invalid volume: Volume {volume} status must be available or error, but current "
            "status is reserved.")
        await lab.call("POST", action, {"os-reimage": {"image_id": image,
                                                       "reimage_reserved": True}},
                       expect=202)
        assert (await lab.until_status(volume, "reserved", "error"))["status"] == "reserved"
        # A volume no backend took (error, no host): refused, not written by anyone.
        await lab.call("POST", "/types", {"volume_type": {
            "name": "nowhere", "extra_specs": {"volume_backend_name": "nowhere"}}})
        lost = (await lab.create(name="lost", volume_type="nowhere"))["volume"]["id"]
        assert (await lab.volume(lost))["status"] == "error"
        hostless = await lab.call("POST", f"/volumes/{lost}/action",
                                  {"os-reimage": {"image_id": image}}, expect=400)
        assert hostless["badRequest"]["message"] == (
            f"Invalid volume: Volume {lost} is on no host.")
        assert (await lab.volume(lost))["status"] == "error"
        # Two attachments: cinder's 409.
        await lab.call("POST", "/types", {"volume_type": {
            "name": "multi", "extra_specs": {"multiattach": "<is> True"}}})
        shared = (await lab.create(name="shared", volume_type="multi"))["volume"]["id"]
        for instance in (server, "5b1c2e4a-0d5c-4c1e-8d3e-2a6b9f7c1d20"):
            made = await lab.call("POST", "/attachments", {"attachment": {
                "volume_uuid": shared, "instance_uuid": instance}}, expect=200)
            await lab.call("POST", f"/attachments/{made['attachment']['id']}/action",
                           {"os-complete": {}}, expect=204)
        twice = await lab.call("POST", f"/volumes/{shared}/action", {"os-reimage": {
            "image_id": image, "reimage_reserved": True}}, expect=409)
        assert twice["conflictingRequest"]["message"] == (
            "Cannot re-image a volume which is attached to more than one server.")

    run_lab(scenario)


def test_reimage_from_an_image_of_a_volume_backed_server_uses_its_snapshot() -> None:
    async def scenario(lab: Lab) -> None:
        source = (await lab.create(name="source"))["volume"]["id"]
        shown = await lab.volume(source)
        backend = shown["os-vol-host-attr:host"].partition("#")[0]
        lab.cloud.block_storage.store.write(backend, source, b"snapshotted root")
        snapshot = (await lab.call("POST", "/snapshots", {"snapshot": {
            "volume_id": source}}, expect=202))["snapshot"]["id"]
        await lab.settle()
        mapping = [{"source_type": "snapshot", "destination_type": "volume",
                    "boot_index": 0, "snapshot_id": snapshot, "volume_size": 1}]
        image = await upload(lab, "bfv-snap", b"", block_device_mapping=json.dumps(mapping),
                             bdm_v2="True")
        target = (await lab.create(name="target"))["volume"]["id"]
        await lab.call("POST", f"/volumes/{target}/action",
                       {"os-reimage": {"image_id": image}}, expect=202)
        shown = await lab.until_status(target, "available", "error")
        assert shown["status"] == "available"
        assert _bytes(lab, shown) == b"snapshotted root"
        # A root snapshot larger than the volume is refused.
        mapping[0]["volume_size"] = 3
        large = await upload(lab, "bfv-large", b"", block_device_mapping=json.dumps(mapping),
                             bdm_v2="True")
        refused = await lab.call("POST", f"/volumes/{target}/action",
                                 {"os-reimage": {"image_id": large}}, expect=400)
        assert refused["badRequest"]["message"] == (
            "Volume size must be greater than the image size. (Image: 3, Volume: 1).")

    run_lab(scenario)
