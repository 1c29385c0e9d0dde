"""A volume made from a backup (POST /v3/volumes with backup_id, 3.47): the scheduler
places a raw volume, its cinder-volume hands it to a cinder-backup, which restores the
backup's bytes into it; it is ``creating`` until then."""

from __future__ import annotations

from typing import Any

from support.apiref import (
    assert_shape_like_sample,
    assert_valid,
    openapi_response_schema,
    sample,
)
from unit.block_storage.cinder_calls import Lab, run_lab

SAMPLES = "api-ref/source/v3/samples/volumes"


async def _backed_up(lab: Lab, data: bytes, *, token: str | None = None,
                     size: int = 1) -> tuple[str, str]:
    """A volume holding ``data`` and an available backup of it: (volume, backup)."""
    volume = str((await lab.create(size=size, token=token))["volume"]["id"])
    shown = await lab.volume(volume)
    lab.cloud.block_storage.store.write(shown["os-vol-host-attr:host"].partition("#")[0],
                                        volume, data)
    made = await lab.call("POST", "/backups", {"backup": {"volume_id": volume}},
                          token=token, expect=202)
    await lab.settle()
    return volume, str(made["backup"]["id"])


def _bytes_of(lab: Lab, volume: dict[str, Any]) -> bytes:
    backend = volume["os-vol-host-attr:host"].partition("#")[0]
    return lab.cloud.block_storage.store.read(backend, volume["id"])


def test_a_volume_made_from_a_backup_holds_its_bytes() -> None:
    async def scenario(lab: Lab) -> None:
        data = bytes(range(256)) * 500
        _, backup = await _backed_up(lab, data, size=2)
        # The cinder-backup processes stop (still reported up): the restore waits in the
        # queue, and the new volume with it.
        controllers = ("controller1.openstack.local", "controller2.openstack.local")
        for controller in controllers:
            lab.cloud.runtime.stop_service(controller, "cinder-backup")
        made = await lab.call("POST", "/volumes", {"volume": {
            "backup_id": backup, "name": "from-backup"}}, expect=202)
        assert_valid(made, openapi_response_schema("block-storage", "/v3/volumes", "post",
                                                   "202"))
        assert_shape_like_sample(made, sample(
            "cinder", f"{SAMPLES}/v3.65/volume-create-response.json"))
        body = made["volume"]
        # No size: the backup's.
        assert (body["status"], body["size"]) == ("creating", 2)
        await lab.settle(5)
        # The raw volume is made and placed, the backup restoring into it: still creating.
        waiting = await lab.volume(body["id"])
        assert waiting["status"] == "creating" and waiting["os-vol-host-attr:host"]
        assert (await lab.call("GET", f"/backups/{backup}"))["backup"]["status"] == \
            "restoring"
        for controller in controllers:
            lab.cloud.runtime.start_service(controller, "cinder-backup")
        volume = await lab.until_status(body["id"], "available", "error")
        assert volume["status"] == "available" and _bytes_of(lab, volume) == data
        assert volume["metadata"] == {"src_backup_id": backup}
        assert volume["service_uuid"] and volume["name"] == "from-backup"
        shown = (await lab.call("GET", f"/backups/{backup}"))["backup"]
        assert shown["status"] == "available"
        # Bigger than the backup is fine; the restore fills its start.
        bigger = (await lab.call("POST", "/volumes", {"volume": {
            "backup_id": backup, "size": 3}}, expect=202))["volume"]["id"]
        volume = await lab.until_status(bigger, "available", "error")
        assert (volume["size"], _bytes_of(lab, volume)) == (3, data)

    run_lab(scenario)


def test_a_volume_from_a_backup_is_checked_as_cinder_checks_it() -> None:
    async def scenario(lab: Lab) -> None:
        token, project = await lab.member("fb")
        _, backup = await _backed_up(lab, b"x" * 100, token=token, size=2)
        create = "/volumes"
        # Smaller than the backup.
        small = await lab.call("POST", create, {"volume": {"backup_id": backup, "size": 1}},
                               token=token, expect=400)
        assert small["badRequest"]["message"] == (
            "Invalid input received: Volume size 1GB cannot be smaller than the backup size "
            "2GB. It must be >= backup size.")
        # Another project's backup, and one that does not exist: not found.
        stranger, _ = await lab.member("fb-stranger")
        hidden = await lab.call("POST", create, {"volume": {"backup_id": backup}},
                                token=stranger, expect=404)
        assert hidden["itemNotFound"]["message"] == f"Backup {backup} could not be found."
        missing = "6d2a2ab5-1e0f-4c1b-9b55-5b5ae64c2cf0"
        await lab.call("POST", create, {"volume": {"backup_id": missing}}, token=token,
                       expect=404)
        # Bad input names the field.
        bad = await lab.call("POST", create, {"volume": {"backup_id": "nope"}}, token=token,
                             expect=400)
        assert "backup_id" in bad["badRequest"]["message"]
        # A backup that is not available.
        await lab.call("POST", f"/backups/{backup}/action",
                       {"os-reset_status": {"status": "error"}}, expect=202)
        await lab.settle()
        refused = await lab.call("POST", create, {"volume": {"backup_id": backup}},
                                 token=token, expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid backup: Originating backup status must be one of 'available' values")
        await lab.call("POST", f"/backups/{backup}/action",
                       {"os-reset_status": {"status": "available"}}, expect=202)
        await lab.settle()
        # Before 3.47 the key means nothing: an empty volume of the size asked.
        plain = await lab.call("POST", create, {"volume": {"backup_id": backup, "size": 1}},
                               token=token, expect=202, version="3.46")
        volume = await lab.until_status(plain["volume"]["id"], "available", "error")
        assert volume["metadata"] == {}
        # Quota: the volume counts as any other.
        await lab.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {"gigabytes": 4}})
        over = await lab.call("POST", create, {"volume": {"backup_id": backup}}, token=token,
                              expect=413)
        assert "gigabytes" in str(over)

    run_lab(scenario)


def test_without_a_cinder_backup_the_new_volume_errors() -> None:
    async def scenario(lab: Lab) -> None:
        _, backup = await _backed_up(lab, b"data")
        for controller in ("controller1.openstack.local", "controller2.openstack.local"):
            lab.cloud.runtime.stop_service(controller, "cinder-backup")
        await lab.settle(lab.cloud.config.DEFAULT.service_down_time + 10)
        made = await lab.call("POST", "/volumes", {"volume": {"backup_id": backup}},
                              expect=202)
        volume = await lab.until_status(made["volume"]["id"], "available", "error")
        assert volume["status"] == "error"
        assert (await lab.call("GET", f"/backups/{backup}"))["backup"]["status"] == \
            "available"

    run_lab(scenario)
