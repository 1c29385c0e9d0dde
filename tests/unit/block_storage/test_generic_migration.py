"""cinder's generic migration of an attached volume when it does not complete: the
destination never makes the temporary volume, or nova refuses the swap. The volume stays
where it was, in use, its migration ``error``, and the temporary volume goes."""

from __future__ import annotations

import asyncio
from typing import Any

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volume_swap import attached_volume, other_backend, watch
from unit.compute.test_volumes import boot, image, nova


async def temporary(lab: Lab, volume: str) -> list[dict[str, Any]]:
    listed = (await lab.call("GET", "/volumes/detail?all_tenants=1"))["volumes"]
    return [v for v in listed if v["migration_status"] == f"target:{volume}"]


def test_a_destination_that_never_makes_the_copy_fails_the_migration() -> None:
    async def scenario(lab: Lab) -> None:
        server, volume, host = await attached_volume(lab, b"stays")
        destination = other_backend(lab, host)
        node = next(b.node for b in lab.cloud.block_storage.backends
                    if b.host == destination)
        project = (await lab.volume(volume))["os-vol-tenant-attr:tenant_id"]
        used = (await lab.call("GET", f"/os-quota-sets/{project}?usage=True"))[
            "quota_set"]["volumes"]["in_use"]
        lab.cloud.runtime.stop_service(node, "cinder-volume")
        await lab.call("POST", f"/volumes/{volume}/action",
                       {"os-migrate_volume": {"host": destination}}, expect=202)
        await lab.settle(5)
        # The destination's copy waits in its queue; it counts against no quota.
        (made,) = await temporary(lab, volume)
        assert (made["status"], made["consumes_quota"]) == ("creating", False)
        assert made["os-vol-host-attr:host"] == f"{destination}#lvm"
        assert (await lab.call("GET", f"/os-quota-sets/{project}?usage=True"))[
            "quota_set"]["volumes"]["in_use"] == used
        shown = await lab.volume(volume)
        assert (shown["status"], shown["migration_status"]) == ("in-use", "migrating")
        # cinder waits migration_create_volume_timeout_secs (300), looking at growing
        # intervals, then gives up.
        seen = await watch(lab, volume, seconds=400)
        assert seen[-1] == ("in-use", "error"), seen
        assert await temporary(lab, volume) == []
        shown = await lab.volume(volume)
        assert shown["os-vol-host-attr:host"] == host
        assert [a["server_id"] for a in shown["attachments"]] == [server]
        assert lab.cloud.block_storage.store.read(host.partition("#")[0], volume) == b"stays"

    run_lab(scenario)


def test_nova_refusing_the_swap_fails_the_migration() -> None:
    async def scenario(lab: Lab) -> None:
        await lab.call("POST", "/types", {"volume_type": {
            "name": "multi", "extra_specs": {"multiattach": "<is> True"}}})
        shared = (await lab.create(name="shared", volume_type="multi"))["volume"]["id"]
        servers = [(await boot(lab, imageRef=await image(lab)))["id"] for _ in range(2)]
        for server in servers:
            await nova(lab, "POST", f"/servers/{server}/os-volume_attachments",
                       {"volumeAttachment": {"volumeId": shared}}, version="2.60")
        host = (await lab.volume(shared))["os-vol-host-attr:host"]
        # Two read/write attachments: nova will not swap either (its 400 to cinder).
        await lab.call("POST", f"/volumes/{shared}/action",
                       {"os-migrate_volume": {"host": other_backend(lab, host)}}, expect=202)
        seen = await watch(lab, shared)
        assert seen[-1] == ("in-use", "error"), seen
        await asyncio.sleep(0)
        await lab.settle(2)
        assert await temporary(lab, shared) == []
        shown = await lab.volume(shared)
        assert shown["os-vol-host-attr:host"] == host
        assert sorted(a["server_id"] for a in shown["attachments"]) == sorted(servers)

    run_lab(scenario)
