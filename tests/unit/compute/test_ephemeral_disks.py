"""Servers' root disks on the lab's Ceph (``[libvirt] images_type = rbd``) or on their
compute's own disk (the default), in virtual time through the API: what an evacuation
keeps, what the nodes' loss does to them.

A guest's console tells its disk: CirrOS's growroot grows a fresh disk on its first boot
("CHANGED") and finds a disk booted before grown already ("NOCHANGE").
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stacklab.compute.disks import EphemeralDisks, ImageUnacceptable
from stacklab.config import Config
from support.apiref import assert_nova_response
from support.inprocess import ephemeral_config
from unit.compute.test_evacuation import boot_on, evacuations, power_off_until_down
from unit.compute.test_server_lifecycle import COMPUTE1, COMPUTE2, Lab, heartbeats, run_lab

S1 = "storage1.openstack.local"
S2 = "storage2.openstack.local"
FRESH = "growroot: CHANGED"
KEPT = "growroot: NOCHANGE"
IO_ERROR = "blk_update_request: I/O error, dev vda"


def rbd_config(**libvirt: Any) -> Config:
    config = ephemeral_config()
    config.libvirt.images_type = "rbd"
    for name, value in libvirt.items():
        setattr(config.libvirt, name, value)
    return config


async def console(lab: Lab, server: str) -> str:
    body = await lab.request("POST", f"/servers/{server}/action",
                             {"os-getConsoleOutput": {}})
    return str(body["output"])


def last_boot(log: str) -> str:
    """The console since the guest's last boot."""
    return log[log.rindex("Linux version"):]


def vms_pool(lab: Lab) -> dict[str, bytes]:
    cluster = lab.cloud.controlplane.ceph
    assert cluster is not None
    return cluster.pool("vms").objects


async def events(lab: Lab, server: str, action: str) -> list[tuple[str, str | None, str]]:
    actions = (await lab.request("GET", f"/servers/{server}/os-instance-actions",
                                 version="2.84"))["instanceActions"]
    request_id = next(a["request_id"] for a in actions if a["action"] == action)
    shown = (await lab.request("GET", f"/servers/{server}/os-instance-actions/{request_id}",
                               version="2.84"))["instanceAction"]
    return [(e["event"], e["result"], e.get("details") or "") for e in shown["events"]]


def test_an_rbd_disk_is_in_the_vms_pool_and_an_evacuation_boots_it_again() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        server = await boot_on(lab, "kept", COMPUTE1)
        assert f"{server}_disk" in vms_pool(lab)
        assert FRESH in await console(lab, server)

        await power_off_until_down(lab, COMPUTE1)
        # 2.14+: nova-compute finds the disk on shared storage by itself.
        await lab.request("POST", f"/servers/{server}/action", {"evacuate": {}},
                          version="2.94")
        await lab.clock.run_for(20)
        shown = await lab.show(server)
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", COMPUTE2)
        assert KEPT in last_boot(await console(lab, server))
        # The lost compute is back: its stale guest goes, the disk stays the server's.
        lab.cloud.node_up(COMPUTE1)
        assert await evacuations(lab, server) == [(COMPUTE1, COMPUTE2, "completed")]
        assert f"{server}_disk" in vms_pool(lab)

        await lab.request("DELETE", f"/servers/{server}", expect=204)
        await lab.clock.run_for(10)
        assert f"{server}_disk" not in vms_pool(lab)
        reports.cancel()

    run_lab(scenario, rbd_config())


def test_a_local_disk_is_lost_with_its_compute_and_the_evacuation_starts_from_the_image(
        ) -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        server = await boot_on(lab, "local", COMPUTE1)
        assert vms_pool(lab) == {}
        await power_off_until_down(lab, COMPUTE1)

        # Before 2.14 the caller says where the disk is: shared storage is wrong here.
        answer = await lab.request("POST", f"/servers/{server}/action",
                                   {"evacuate": {"onSharedStorage": True}}, version="2.13")
        assert answer == {"adminPass": None}
        await lab.clock.run_for(20)
        shown = await lab.show(server)
        assert (shown["status"], shown["OS-EXT-STS:task_state"],
                shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", None, COMPUTE1)
        assert await evacuations(lab, server) == [(COMPUTE1, COMPUTE2, "failed")]
        assert ("compute_rebuild_instance", "Error",
                "Invalid state of instance files on shared storage") in [
            (name, result, details.strip())
            for name, result, details in await events(lab, server, "evacuate")]

        answer = await lab.request("POST", f"/servers/{server}/action",
                                   {"evacuate": {"onSharedStorage": "false"}}, version="2.13")
        assert answer["adminPass"]
        await lab.clock.run_for(20)
        shown = await lab.show(server)
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", COMPUTE2)
        # A new disk from the image: the guest grows it as on its first boot.
        assert FRESH in last_boot(await console(lab, server))
        reports.cancel()

    run_lab(scenario)


def test_the_callers_word_on_the_disk_before_2_14() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        server = await boot_on(lab, "said", COMPUTE1)
        await power_off_until_down(lab, COMPUTE1)
        refused = await lab.client.post(
            f"/compute/v2.1/servers/{server}/action",
            headers={**lab.headers, "OpenStack-API-Version": "compute 2.13"},
            json={"evacuate": {"onSharedStorage": True, "adminPass": "new"}})
        assert refused.status_code == 400
        assert refused.json() == {"badRequest": {
            "code": 400, "message": "admin password can't be changed on existing disk"}}
        # The flag is required before 2.14.
        missing = await lab.client.post(
            f"/compute/v2.1/servers/{server}/action",
            headers={**lab.headers, "OpenStack-API-Version": "compute 2.13"},
            json={"evacuate": {}})
        assert missing.status_code == 400
        # The disk is on rbd: "not shared" is refused by the destination.
        await lab.request("POST", f"/servers/{server}/action",
                          {"evacuate": {"onSharedStorage": False}}, version="2.1")
        await lab.clock.run_for(20)
        assert await evacuations(lab, server) == [(COMPUTE1, COMPUTE2, "failed")]
        answer = await lab.request("POST", f"/servers/{server}/action",
                                   {"evacuate": {"onSharedStorage": True}}, version="2.1")
        assert answer == {"adminPass": None}
        assert_nova_response(answer, "/servers/{id}/action", "POST", "2.1", action="evacuate")
        await lab.clock.run_for(20)
        shown = await lab.show(server)
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", COMPUTE2)
        assert KEPT in last_boot(await console(lab, server))
        reports.cancel()

    run_lab(scenario, rbd_config())


def test_without_the_storage_nodes_a_disk_fails_its_guest_and_new_builds_fail_everywhere(
        ) -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        server = await boot_on(lab, "stranded", COMPUTE1)
        lab.cloud.node_down(S1)
        await lab.clock.run_for(21)  # osd_heartbeat_grace: storage1's OSD marked down
        # Degraded: the disk serves from storage2.
        await lab.request("POST", f"/servers/{server}/action", {"reboot": {"type": "HARD"}},
                          expect=202)
        await lab.clock.run_for(20)
        assert (await lab.show(server))["status"] == "ACTIVE"
        assert IO_ERROR not in await console(lab, server)

        lab.cloud.node_down(S2)
        await lab.clock.run_for(1)
        assert IO_ERROR in await console(lab, server)
        await lab.request("POST", f"/servers/{server}/action", {"reboot": {"type": "HARD"}},
                          expect=202)
        await lab.clock.run_for(30)  # rbd_connect_timeout (5 s), then the server fails
        shown = await lab.show(server)
        assert shown["status"] == "ERROR"
        assert shown["fault"]["message"].startswith("Error connecting to ceph cluster")

        # A new server's disk cannot be made on either compute: tried on both, then ERROR.
        new = await lab.create("new")
        await lab.clock.run_for(60)
        shown = await lab.show(new)
        assert shown["status"] == "ERROR"
        assert shown["fault"]["message"] == (
            "Exceeded maximum number of retries. Exhausted all hosts available for "
            f"retrying build failures for instance {new}.")
        builds = [e for e in await events(lab, new, "create")
                  if e[0] == "compute__do_build_and_run_instance"]
        assert len(builds) == 2
        reports.cancel()

    run_lab(scenario, rbd_config())


def test_an_evacuation_whose_disk_the_cluster_cannot_serve_fails() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        server = await boot_on(lab, "unreachable", COMPUTE1)
        lab.cloud.node_down(S1)
        lab.cloud.node_down(S2)
        await power_off_until_down(lab, COMPUTE1)
        await lab.request("POST", f"/servers/{server}/action", {"evacuate": {}},
                          version="2.94")
        await lab.clock.run_for(30)
        shown = await lab.show(server)
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ERROR", COMPUTE2)
        assert shown["fault"]["message"].startswith("Error connecting to ceph cluster")
        assert await evacuations(lab, server) == [(COMPUTE1, COMPUTE2, "failed")]
        reports.cancel()

    run_lab(scenario, rbd_config())


def test_an_image_backend_stacklab_does_not_model_is_refused() -> None:
    with pytest.raises(ValueError, match="images_type 'lvm'"):
        EphemeralDisks("lvm")
    with pytest.raises(ValueError, match="needs the lab's Ceph cluster"):
        EphemeralDisks("rbd")


def test_a_hosts_image_cache_downloads_once_and_an_image_without_data_is_unacceptable(
        ) -> None:
    fetched: list[str] = []

    async def glance(image: str) -> bytes:
        fetched.append(image)
        return b"" if image == "lost" else b"qcow2"

    async def scenario() -> None:
        disks = EphemeralDisks()
        await disks.create("a", COMPUTE1, "img", glance)
        await disks.create("b", COMPUTE1, "img", glance)
        await disks.create("c", COMPUTE2, "img", glance)
        assert fetched == ["img", "img"]  # once per host
        assert await disks.boot("a", COMPUTE1) is True
        assert await disks.boot("a", COMPUTE1) is False
        # glance's 204 (the file store of a lost controller): nova's ImageUnacceptable.
        with pytest.raises(ImageUnacceptable, match="Image lost is unacceptable: Image has "
                                                   "no associated data"):
            await disks.create("d", COMPUTE1, "lost", glance)
        assert not disks.has_disk("d")

    asyncio.run(scenario())
