"""Backups end to end in virtual time: API -> cinder-backup -> the volume's cinder-volume
and the object store, and back."""

from __future__ import annotations

from typing import Any

from stacklab.block_storage import models as m
from support.apiref import (
    assert_shape_like_sample,
    assert_valid,
    openapi_response_schema,
    sample,
)
from unit.block_storage.cinder_calls import Lab, run_lab

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"
SAMPLES = "api-ref/source/v3/samples/backups"


async def _volume_with(lab: Lab, data: bytes, *, token: str | None = None,
                       size: int = 1) -> str:
    ident = str((await lab.create(size=size, token=token))["volume"]["id"])
    shown = await lab.volume(ident)
    lab.cloud.block_storage.store.write(shown["os-vol-host-attr:host"].partition("#")[0],
                                        ident, data)
    return ident


def _bytes_of(lab: Lab, volume: dict[str, Any]) -> bytes:
    backend = volume["os-vol-host-attr:host"].partition("#")[0]
    return lab.cloud.block_storage.store.read(backend, volume["id"])


async def _backup(lab: Lab, volume_id: str, *, token: str | None = None,
                  expect: int = 202, **fields: Any) -> dict[str, Any]:
    made = await lab.call("POST", "/backups", {"backup": {"volume_id": volume_id, **fields}},
                          token=token, expect=expect)
    await lab.settle()
    return dict(made)


async def _show(lab: Lab, ident: str, token: str | None = None) -> dict[str, Any]:
    return dict((await lab.call("GET", f"/backups/{ident}", token=token))["backup"])


def test_cinder_backup_runs_on_each_controller() -> None:
    async def scenario(lab: Lab) -> None:
        rows = (await lab.call("GET", "/os-services?binary=cinder-backup"))["services"]
        assert sorted((r["host"], r["state"], r["zone"]) for r in rows) == [
            (C1, "up", "nova"), (C2, "up", "nova")]

    run_lab(scenario)


def test_a_backup_holds_the_volumes_bytes_and_restores_them() -> None:
    async def scenario(lab: Lab) -> None:
        data = bytes(range(256)) * 300  # more than two digest blocks
        source = await _volume_with(lab, data)
        made = await _backup(lab, source, name="b1", description="first")
        assert_shape_like_sample(made, sample("cinder", f"{SAMPLES}/backup-create-response.json"))
        ident = made["backup"]["id"]
        assert (await lab.volume(source))["status"] == "available"
        body = await lab.call("GET", f"/backups/{ident}")
        assert_valid(body, openapi_response_schema("block-storage", "/v3/backups/{id}", "get"))
        assert_shape_like_sample(body, sample(
            "cinder", f"{SAMPLES}/v3.56/backup-show-response.json"))
        shown = body["backup"]
        assert (shown["status"], shown["size"], shown["is_incremental"],
                shown["container"], shown["object_count"]) == (
            "available", 1, False, "volumebackups", 1)
        assert shown["os-backup-project-attr:project_id"] and shown["user_id"]
        store = lab.cloud.block_storage.backup_store
        names = store.names("volumebackups", f"volume_{source}/")
        assert len(names) == 3 and names[0].endswith("-00001")

        # Into a new volume, made for it (named after the backup, of its size).
        restored = await lab.call("POST", f"/backups/{ident}/restore", {"restore": {}},
                                  expect=202)
        assert_shape_like_sample(restored, sample(
            "cinder", "api-ref/source/v3/samples/backup-restore-response.json"))
        new = restored["restore"]["volume_id"]
        assert restored["restore"]["volume_name"] == f"restore_backup_{ident}"
        volume = await lab.until_status(new, "available", "error")
        assert volume["status"] == "available" and _bytes_of(lab, volume) == data
        assert volume["metadata"] == {"src_backup_id": ident}
        assert (await _show(lab, ident))["status"] == "available"

        # Into an existing volume: it is overwritten.
        target = await _volume_with(lab, b"old bytes")
        answer = await lab.call("POST", f"/backups/{ident}/restore",
                                {"restore": {"volume_id": target}}, expect=202)
        assert answer["restore"]["volume_id"] == target
        assert (await lab.volume(target))["status"] == "restoring-backup"
        await lab.settle()
        volume = await lab.volume(target)
        assert volume["status"] == "available" and _bytes_of(lab, volume) == data

        # Listing, with the sample's shapes.
        listed = await lab.call("GET", "/backups?with_count=true")
        assert_shape_like_sample(listed, sample(
            "cinder", f"{SAMPLES}/v3.56/backups-list-response.json"))
        detail = await lab.call("GET", "/backups/detail?name=b1")
        assert_valid(detail, openapi_response_schema("block-storage", "/v3/backups/detail",
                                                     "get"))
        assert [b["id"] for b in detail["backups"]] == [ident]
        updated = await lab.call("PUT", f"/backups/{ident}", {"backup": {
            "name": "renamed", "metadata": {"k": "v"}}})
        assert updated["backup"]["name"] == "renamed"
        assert (await _show(lab, ident))["metadata"] == {"k": "v"}

        await lab.call("DELETE", f"/backups/{ident}", expect=202)
        await lab.settle()
        await lab.call("GET", f"/backups/{ident}", expect=404)
        assert store.names("volumebackups", f"volume_{source}/") == []

    run_lab(scenario)


def test_incremental_backups_chain_on_a_full_one() -> None:
    async def scenario(lab: Lab) -> None:
        first = b"A" * 70000
        source = await _volume_with(lab, first)
        refused = await _backup(lab, source, incremental=True, expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid backup: No backups available to do an incremental backup.")
        full = (await _backup(lab, source))["backup"]["id"]
        second = first[:100] + b"B" * 100 + first[200:] + b"tail"
        backend = (await lab.volume(source))["os-vol-host-attr:host"].partition("#")[0]
        lab.cloud.block_storage.store.write(backend, source, second)
        incremental = (await _backup(lab, source, incremental=True))["backup"]["id"]
        shown = await _show(lab, incremental)
        # Only the changed first block and the grown last one are stored.
        assert (shown["status"], shown["is_incremental"], shown["object_count"]) == (
            "available", True, 2)
        assert (await _show(lab, full))["has_dependent_backups"] is True
        busy = await lab.call("DELETE", f"/backups/{full}", expect=400)
        assert busy["badRequest"]["message"] == (
            "Invalid backup: Incremental backups exist for this backup.")
        for backup, expected in ((incremental, second), (full, first)):
            new = (await lab.call("POST", f"/backups/{backup}/restore",
                                  {"restore": {"name": f"from-{backup}"}},
                                  expect=202))["restore"]["volume_id"]
            volume = await lab.until_status(new, "available", "error")
            assert volume["name"] == f"from-{backup}" and _bytes_of(lab, volume) == expected
        await lab.call("DELETE", f"/backups/{incremental}", expect=202)
        await lab.settle()
        assert (await _show(lab, full))["has_dependent_backups"] is False
        await lab.call("DELETE", f"/backups/{full}", expect=202)

    run_lab(scenario)


def test_in_use_volumes_need_force_and_snapshots_can_be_backed_up() -> None:
    async def scenario(lab: Lab) -> None:
        source = await _volume_with(lab, b"snap data")
        # Attached for real (attachments API): reserve, connect, complete.
        attachment = (await lab.call("POST", "/attachments", {"attachment": {
            "volume_uuid": source, "instance_uuid": "5c1d6d5c-1c5a-4b51-a2e4-0d8e2b4c1f00"}},
            version="3.44"))["attachment"]["id"]
        await lab.call("PUT", f"/attachments/{attachment}", {"attachment": {"connector": {
            "initiator": "iqn.1993-08.org.debian:01:cad181614cec", "host": "compute1"}}},
            version="3.44")
        await lab.call("POST", f"/attachments/{attachment}/action", {"os-complete": {}},
                       expect=204, version="3.44")
        refused = await _backup(lab, source, expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid volume: Backing up an in-use volume must use the force flag.")
        forced = (await _backup(lab, source, force=True))["backup"]["id"]
        assert (await _show(lab, forced))["status"] == "available"
        assert (await lab.volume(source))["status"] == "in-use"
        await lab.call("DELETE", f"/attachments/{attachment}", version="3.44")
        assert (await lab.volume(source))["status"] == "available"

        snap = (await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": source}},
                               expect=202))["snapshot"]["id"]
        await lab.settle()
        backend = (await lab.volume(source))["os-vol-host-attr:host"].partition("#")[0]
        lab.cloud.block_storage.store.write(backend, source, b"changed since")
        made = await lab.call("POST", "/backups", {"backup": {
            "volume_id": source, "snapshot_id": snap}}, expect=202)
        snapshot = (await lab.call("GET", f"/snapshots/{snap}"))["snapshot"]
        assert snapshot["status"] == "backing-up"
        await lab.settle()
        shown = await _show(lab, made["backup"]["id"])
        assert shown["snapshot_id"] == snap and shown["status"] == "available"
        assert (await lab.call("GET", f"/snapshots/{snap}"))["snapshot"]["status"] == (
            "available")
        new = (await lab.call("POST", f"/backups/{shown['id']}/restore", {"restore": None},
                              expect=202))["restore"]["volume_id"]
        assert _bytes_of(lab, await lab.until_status(new, "available")) == b"snap data"
        other = await _volume_with(lab, b"")
        mismatch = await _backup(lab, other, snapshot_id=snap, expect=400)
        assert mismatch["badRequest"]["message"] == (
            f"Invalid volume: Volume {other} does not match with snapshot.volume_id "
            f"{source}.")

    run_lab(scenario)


def test_admin_actions_isolation_and_bad_input() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("bk")
        own = await _volume_with(lab, b"mine", token=token)
        backup = (await _backup(lab, own, token=token))["backup"]["id"]
        action = f"/backups/{backup}/action"
        # The admin's actions only.
        await lab.call("POST", action, {"os-reset_status": {"status": "error"}}, token=token,
                       expect=403)
        bad = await lab.call("POST", action, {"os-reset_status": {"status": "creating"}},
                             expect=400)
        assert bad["badRequest"]["message"] == (
            "Backup status: creating is invalid, valid statuses are: ['available', 'error'].")
        await lab.call("POST", action, {"os-reset_status": {"status": "error"}}, expect=202)
        await lab.settle()
        assert (await _show(lab, backup, token))["status"] == "error"
        await lab.call("POST", f"/backups/{backup}/restore", {"restore": {}}, token=token,
                       expect=400)

        # Another project's backups and volumes are not found.
        stranger, _ = await lab.member("stranger")
        await lab.call("GET", f"/backups/{backup}", token=stranger, expect=404)
        await lab.call("DELETE", f"/backups/{backup}", token=stranger, expect=404)
        assert (await lab.call("GET", "/backups", token=stranger))["backups"] == []
        missing = await _backup(lab, own, token=stranger, expect=404)
        assert missing["itemNotFound"]["message"] == f"Volume {own} could not be found."
        await lab.call("POST", f"/backups/{backup}/restore", {"restore": {"volume_id": own}},
                       token=stranger, expect=404)

        # Bad input names the field.
        for body, field in (({"backup": {}}, "volume_id"),
                            ({"backup": {"volume_id": "nope"}}, "volume_id"),
                            ({"backup": {"volume_id": own, "incremental": "maybe"}},
                             "incremental"),
                            ({"backup": {"volume_id": own, "colour": 1}}, "colour")):
            refused = await lab.call("POST", "/backups", body, token=token, expect=400)
            assert field in refused["badRequest"]["message"], refused
        refused = await lab.call("POST", f"/backups/{backup}/restore",
                                 {"restore": {"volume_id": "x"}}, expect=400)
        assert "volume_id" in refused["badRequest"]["message"]

        await lab.call("POST", action, {"os-force_delete": {}}, token=token, expect=403)
        await lab.call("POST", action, {"os-force_delete": {}}, expect=202)
        await lab.settle()
        await lab.call("GET", f"/backups/{backup}", expect=404)

    run_lab(scenario)


def test_backups_count_against_their_quotas() -> None:
    async def scenario(lab: Lab) -> None:
        token, project = await lab.member("bq")
        await lab.call("PUT", f"/os-quota-sets/{project}", {"quota_set": {
            "backups": 1, "backup_gigabytes": 3}})
        small = await _volume_with(lab, b"x", token=token)
        big = await _volume_with(lab, b"y", token=token, size=4)
        over = await _backup(lab, big, token=token, expect=413)
        assert over["overLimit"]["message"] == (
            "Requested backup exceeds allowed Backup gigabytes quota. Requested 4G, quota "
            "is 3G and 0G has been consumed.")
        await _backup(lab, small, token=token)
        over = await _backup(lab, small, token=token, expect=413)
        assert over["overLimit"]["message"] == "Maximum number of backups allowed (1) exceeded"
        usage = await lab.call("GET", f"/os-quota-sets/{project}?usage=True", token=token)
        assert usage["quota_set"]["backups"] == {"limit": 1, "in_use": 1, "reserved": 0}
        assert usage["quota_set"]["backup_gigabytes"]["in_use"] == 1

    run_lab(scenario)


def test_backups_need_a_backup_service_and_the_volumes_own_service() -> None:
    async def scenario(lab: Lab) -> None:
        source = await _volume_with(lab, b"data")
        node = (await lab.volume(source))["os-vol-host-attr:host"].partition("@")[0]
        # The volume's cinder-volume is stopped: the call for its bytes times out.
        lab.cloud.runtime.stop_service(node, "cinder-volume")
        made = await _backup(lab, source)
        await lab.settle(lab.cloud.config.DEFAULT.rpc_response_timeout + 5)
        shown = await _show(lab, made["backup"]["id"])
        assert shown["status"] == "error" and shown["fail_reason"]
        volume = await lab.volume(source)
        assert volume["status"] == "available"
        lab.cloud.runtime.start_service(node, "cinder-volume")
        await lab.call("DELETE", f"/backups/{shown['id']}", expect=202)

        # No cinder-backup up: 503 for a new backup.
        for controller in (C1, C2):
            lab.cloud.runtime.stop_service(controller, "cinder-backup")
        await lab.settle(lab.cloud.config.DEFAULT.service_down_time + 10)
        refused = await _backup(lab, source, expect=503)
        assert "Service cinder-backup could not be found." in str(refused)

    run_lab(scenario)


def test_a_backup_record_exports_and_imports() -> None:
    async def scenario(lab: Lab) -> None:
        data = b"exported" * 1000
        source = await _volume_with(lab, data)
        ident = (await _backup(lab, source))["backup"]["id"]
        record = await lab.call("GET", f"/backups/{ident}/export_record")
        assert_shape_like_sample(record, sample(
            "cinder", "api-ref/source/v3/samples/backup-record-export-response.json"))
        again = await lab.call("POST", "/backups/import_record", record, expect=400)
        assert again["badRequest"]["message"] == (
            "Invalid backup: Backup already exists in database.")
        # The database loses the row; the objects are still in the store.
        with lab.cloud.block_storage.db.session() as session:
            session.delete(session.get(m.Backup, ident))
        imported = await lab.call("POST", "/backups/import_record", record, expect=201)
        assert imported["backup"]["id"] == ident
        await lab.settle()
        assert (await _show(lab, ident))["status"] == "available"
        new = (await lab.call("POST", f"/backups/{ident}/restore", {"restore": {}},
                              expect=202))["restore"]["volume_id"]
        assert _bytes_of(lab, await lab.until_status(new, "available")) == data
        garbage = await lab.call("POST", "/backups/import_record", {"backup-record": {
            "backup_service": record["backup-record"]["backup_service"],
            "backup_url": "not base64!"}}, expect=400)
        assert garbage["badRequest"]["message"] == (
            "Invalid input received: Can't parse backup record.")

    run_lab(scenario)


def test_a_restore_puts_the_volumes_name_and_metadata_back() -> None:
    async def scenario(lab: Lab) -> None:
        source = str((await lab.create(name="src", description="the source",
                                       metadata={"k1": "v1", "k2": "v2"}))["volume"]["id"])
        ident = (await _backup(lab, source))["backup"]["id"]
        await lab.call("PUT", f"/volumes/{source}/metadata", {"metadata": {"other": "x"}})

        # Into a volume made for it: the source's name, description and metadata, marked
        # with the backup it came from.
        new = (await lab.call("POST", f"/backups/{ident}/restore", {"restore": {}},
                              expect=202))["restore"]["volume_id"]
        volume = await lab.until_status(new, "available", "error")
        assert (volume["name"], volume["description"]) == ("src", "the source")
        assert volume["metadata"] == {"k1": "v1", "k2": "v2", "src_backup_id": ident}

        # Into a named volume: its name stays, its metadata is the backup's.
        named = str((await lab.create(name="mine", metadata={"a": "b"}))["volume"]["id"])
        await lab.call("POST", f"/backups/{ident}/restore",
                       {"restore": {"volume_id": named}}, expect=202)
        volume = await lab.until_status(named, "available", "error")
        assert volume["name"] == "mine"
        assert volume["metadata"] == {"k1": "v1", "k2": "v2", "src_backup_id": ident}

        # Into its own volume: the metadata is back, with no mark.
        await lab.call("POST", f"/backups/{ident}/restore",
                       {"restore": {"volume_id": source}}, expect=202)
        volume = await lab.until_status(source, "available", "error")
        assert volume["metadata"] == {"k1": "v1", "k2": "v2"}

    run_lab(scenario)
