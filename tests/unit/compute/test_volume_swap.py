"""Swap volume (``PUT /servers/{id}/os-volume_attachments/{volume}`` naming another
volume), end to end in virtual time: cinder's migration of an attached volume asks nova to
swap it for the destination's copy, nova moves the server to the copy and completes the
migration, and the volume keeps its id, its attachment to the server and its bytes."""

from __future__ import annotations

from support.apiref import assert_valid, nova_request_schema, nova_response_schema
from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volume_moves import COMPUTE1
from unit.compute.test_volumes import boot, image, nova, valid

ATTACHMENTS = "/servers/{server_id}/os-volume_attachments"


def other_backend(lab: Lab, host: str) -> str:
    """A cinder-volume backend other than the one of ``host`` (host@backend#pool)."""
    backend = host.partition("#")[0]
    return next(b.host for b in lab.cloud.block_storage.backends if b.host != backend)


async def attached_volume(lab: Lab, data: bytes = b"guest data") -> tuple[str, str, str]:
    """A server on compute1 with a volume (holding ``data``) attached by nova: (server,
    volume, the volume's host)."""
    server = (await boot(lab, imageRef=await image(lab),
                         availability_zone=f"nova:{COMPUTE1}"))["id"]
    volume = (await lab.create(name="data"))["volume"]["id"]
    host = (await lab.volume(volume))["os-vol-host-attr:host"]
    lab.cloud.block_storage.store.write(host.partition("#")[0], volume, data)
    await nova(lab, "POST", f"/servers/{server}/os-volume_attachments",
               {"volumeAttachment": {"volumeId": volume}})
    assert (await lab.volume(volume))["status"] == "in-use"
    return server, volume, host


async def watch(lab: Lab, volume: str, seconds: float = 30.0) -> list[tuple[str, str]]:
    """The volume's (status, migration_status) as they change, every lab half second."""
    seen: list[tuple[str, str]] = []
    for _ in range(int(seconds * 2)):
        shown = await lab.volume(volume)
        now = (shown["status"], shown["migration_status"])
        if not seen or seen[-1] != now:
            seen.append(now)
        if now[1] in ("success", "error"):
            break
        await lab.clock.run_for(0.5)
    return seen


def test_migrating_an_attached_volume_swaps_it_through_nova() -> None:
    async def scenario(lab: Lab) -> None:
        server, volume, host = await attached_volume(lab)
        before = (await lab.volume(volume))["attachments"][0]["attachment_id"]
        destination = other_backend(lab, host)
        await lab.call("POST", f"/volumes/{volume}/action",
                       {"os-migrate_volume": {"host": destination}}, expect=202)
        seen = await watch(lab, volume)
        # In use all along: the volume never shows nova's detach while it migrates.
        assert seen[0] == ("in-use", "starting") and seen[-1] == ("in-use", "success"), seen
        assert ("in-use", "migrating") in seen, seen
        shown = await lab.volume(volume)
        assert shown["os-vol-host-attr:host"] == f"{destination}#lvm"
        assert [a["server_id"] for a in shown["attachments"]] == [server]
        after = shown["attachments"][0]["attachment_id"]
        assert after != before
        store = lab.cloud.block_storage.store
        assert store.read(destination, volume) == b"guest data"
        assert store.read(host.partition("#")[0], volume) == b""
        # nova's mapping names the same volume with the attachment cinder shows.
        listed = await nova(lab, "GET", f"/servers/{server}/os-volume_attachments",
                            version="2.89")
        valid(listed, "GET", ATTACHMENTS, "2.89")
        (mapped,) = listed["volumeAttachments"]
        assert (mapped["volumeId"], mapped["attachment_id"]) == (volume, after)
        detail = (await lab.call("GET", f"/attachments/{after}"))["attachment"]
        assert (detail["volume_id"], detail["status"]) == (volume, "attached")
        # The temporary volume is gone; the migration is nova's swap_volume action.
        listed_volumes = (await lab.call("GET", "/volumes/detail?all_tenants=1"))["volumes"]
        assert [v["id"] for v in listed_volumes if v["name"] == "data"] == [volume]
        actions = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions"))
        swap = [a for a in actions["instanceActions"] if a["action"] == "swap_volume"]
        assert len(swap) == 1
        events = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions/"
                                         f"{swap[0]['request_id']}", version="2.51"))
        assert [(e["event"], e["result"]) for e in events["instanceAction"]["events"]] == [
            ("compute_swap_volume", "Success")]
        # The volume still detaches through nova.
        await nova(lab, "DELETE", f"/servers/{server}/os-volume_attachments/{volume}",
                   expect=202)
        assert (await lab.volume(volume))["status"] == "available"

    run_lab(scenario)


def test_retype_on_demand_of_an_attached_volume_migrates_it_through_nova() -> None:
    async def scenario(lab: Lab) -> None:
        server, volume, host = await attached_volume(lab, b"retyped")
        destination = other_backend(lab, host)
        location = next(p.capabilities["location_info"]
                        for p in lab.cloud.block_storage.pools() if p.host == destination)
        await lab.call("POST", "/types", {"volume_type": {
            "name": "there", "extra_specs": {"location_info": location}}})
        await lab.call("POST", f"/volumes/{volume}/action", {"os-retype": {
            "new_type": "there", "migration_policy": "on-demand"}}, expect=202)
        seen = await watch(lab, volume)
        assert ("retyping", "migrating") in seen, seen
        assert seen[-1] == ("in-use", "success"), seen
        shown = await lab.volume(volume)
        assert (shown["volume_type"], shown["os-vol-host-attr:host"]) == (
            "there", f"{destination}#lvm")
        assert [a["server_id"] for a in shown["attachments"]] == [server]
        assert lab.cloud.block_storage.store.read(destination, volume) == b"retyped"

    run_lab(scenario)


def test_the_swap_body_cinder_sends_is_nova_s() -> None:
    """What cinder's novaclient sends (volumeId only) is nova's body at 2.1 and at 2.85, and
    nova answers 202 with no body (nova's own response schema: null)."""
    body = {"volumeAttachment": {"volumeId": "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53"}}
    for version in ("2.1", "2.85"):
        schema = nova_request_schema(f"{ATTACHMENTS}/{{id}}", "PUT", version)
        assert schema is not None
        assert_valid(body, schema, where=f"swap body at {version}")
        assert nova_response_schema(f"{ATTACHMENTS}/{{id}}", "PUT", version) == {
            "type": "null"}


def test_swap_refusals_are_nova_s() -> None:
    async def scenario(lab: Lab) -> None:
        server, volume, _ = await attached_volume(lab)
        spare = (await lab.create(name="spare"))["volume"]["id"]
        path = f"/servers/{server}/os-volume_attachments/{volume}"
        body = {"volumeAttachment": {"volumeId": spare}}
        member, _ = await lab.member("swapper")
        own = (await boot(lab, token=member, imageRef=await image(lab)))["id"]
        # Only a service (or an admin) may swap, even on one's own server: cinder does.
        denied = await nova(lab, "PUT", f"/servers/{own}/os-volume_attachments/{volume}",
                            body, token=member, expect=403)
        assert "forbidden" in denied
        # Not migrating: this is cinder's call only.
        refused = await nova(lab, "PUT", path, body, expect=409)
        assert refused["conflictingRequest"]["message"] == (
            f"volume {volume} is not migrating; this API should only be called by Cinder")
        await lab.call("POST", f"/volumes/{volume}/action",
                       {"os-reset_status": {"migration_status": "migrating"}}, expect=202)
        missing = "6a1b7c6f-0c21-4a41-9a8e-0f6e2f9e5a53"
        gone = await nova(lab, "PUT", path, {"volumeAttachment": {"volumeId": missing}},
                          expect=400)
        assert gone["badRequest"]["message"] == f"Volume {missing} could not be found."
        await nova(lab, "PUT", f"/servers/{server}/os-volume_attachments/{missing}", body,
                   expect=404)
        small = (await lab.create(name="small", size=1))["volume"]["id"]
        await lab.call("POST", f"/volumes/{volume}/action", {"os-extend": {"new_size": 2}},
                       version="3.42", expect=202)
        await lab.settle()
        smaller = await nova(lab, "PUT", path, {"volumeAttachment": {"volumeId": small}},
                             expect=400)
        assert smaller["badRequest"]["message"] == (
            "Invalid volume: New volume must be the same size or larger.")
        other = (await boot(lab, imageRef=await image(lab)))["id"]
        await nova(lab, "POST", f"/servers/{other}/os-volume_attachments",
                   {"volumeAttachment": {"volumeId": spare}})
        busy = await nova(lab, "PUT", path, body, expect=400)
        assert busy["badRequest"]["message"] == (
            "Invalid volume: New volume must be detached in order to swap.")
        # From 2.85 the attachment is looked up first (404); before, nova's swap checks
        # where cinder says the volume is attached.
        elsewhere = f"/servers/{other}/os-volume_attachments/{volume}"
        swap_to_small = {"volumeAttachment": {"volumeId": small}}
        await nova(lab, "PUT", elsewhere, swap_to_small, expect=404)
        wrong = await nova(lab, "PUT", elsewhere, swap_to_small, version="2.84", expect=400)
        assert wrong["badRequest"]["message"] == (
            "Invalid volume: Old volume is attached to a different instance.")
        await nova(lab, "POST", f"/servers/{server}/action", {"suspend": None}, expect=202)
        suspended = await nova(lab, "PUT", path, {"volumeAttachment": {"volumeId": small}},
                               expect=409)
        assert suspended["conflictingRequest"]["message"] == (
            f"Cannot 'swap_volume' instance {server} while it is in vm_state suspended")
        # Nothing changed hands.
        shown = await lab.volume(volume)
        assert (shown["status"], [a["server_id"] for a in shown["attachments"]]) == (
            "in-use", [server])
        assert (await lab.volume(small))["status"] == "available"

    run_lab(scenario)
