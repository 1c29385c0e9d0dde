"""Managing existing backend storage: what os-unmanage leaves on a backend is listed as
manageable and taken back under a new id, with its bytes; the admin's only."""

from __future__ import annotations

from typing import Any

from support.apiref import (
    assert_shape_like_sample,
    assert_valid,
    openapi_response_schema,
    sample,
)
from unit.block_storage.cinder_calls import Lab, run_lab

SAMPLES = "api-ref/source/v3/samples"


async def _unmanaged(lab: Lab, data: bytes, size: int = 2) -> tuple[str, str]:
    """A volume holding ``data``, then unmanaged: (its id, its host@backend#pool)."""
    ident = str((await lab.create(size=size))["volume"]["id"])
    host = str((await lab.volume(ident))["os-vol-host-attr:host"])
    lab.cloud.block_storage.store.write(host.partition("#")[0], ident, data)
    await lab.call("POST", f"/volumes/{ident}/action", {"os-unmanage": {}}, expect=202)
    await lab.settle()
    await lab.call("GET", f"/volumes/{ident}", expect=404)
    return ident, host


def _by_name(listed: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {entry["reference"]["source-name"]: entry for entry in listed}


def test_an_unmanaged_volume_is_listed_and_managed_back() -> None:
    async def scenario(lab: Lab) -> None:
        data = b"kept on the backend" * 100
        old, host = await _unmanaged(lab, data)
        backend = host.partition("#")[0]
        kept = str((await lab.create())["volume"]["id"])
        kept_host = (await lab.volume(kept))["os-vol-host-attr:host"]
        detail = await lab.call("GET", f"/manageable_volumes/detail?host={backend}")
        # (The OpenAPI spec types cinder_id as a string; cinder's sample, as its driver,
        # gives null for an LV no volume owns: the sample's shape is checked.)
        # (Its first entry is a managed one; an unmanaged entry has nulls there.)
        assert_shape_like_sample(detail, sample(
            "cinder", f"{SAMPLES}/volume-manage-list-detail-response.json"), ignore={
                "$.manageable-volumes[*].cinder_id",
                "$.manageable-volumes[*].reason_not_safe"})
        entries = _by_name(detail["manageable-volumes"])
        assert entries[f"volume-{old}"] == {
            "reference": {"source-name": f"volume-{old}"}, "size": 2,
            "safe_to_manage": True, "reason_not_safe": None, "cinder_id": None,
            "extra_info": None}
        if kept_host.partition("#")[0] == backend:
            assert entries[f"volume-{kept}"]["reason_not_safe"] == "already managed"
            assert entries[f"volume-{kept}"]["cinder_id"] == kept
        summary = await lab.call("GET", f"/manageable_volumes?host={backend}"
                                        "&sort_key=size&sort_dir=desc&limit=1")
        assert_valid(summary, openapi_response_schema(
            "block-storage", "/v3/manageable_volumes", "get"))
        assert summary["manageable-volumes"] == [
            {"reference": {"source-name": f"volume-{old}"}, "size": 2,
             "safe_to_manage": True}]

        made = await lab.call("POST", "/manageable_volumes", {"volume": {
            "host": host, "ref": {"source-name": f"volume-{old}"}, "name": "managed",
            "bootable": True, "metadata": {"k": "v"}}}, expect=202)
        # (The manage sample is an old one, with "False" for encrypted: a volume's shape.)
        assert_shape_like_sample(made, sample(
            "cinder", f"{SAMPLES}/volumes/v3.65/volume-show-response.json"))
        body = made["volume"]
        assert (body["status"], body["size"], body["name"]) == ("managing", 0, "managed")
        await lab.settle()
        volume = await lab.volume(body["id"])
        assert (volume["status"], volume["size"], volume["bootable"]) == (
            "available", 2, "true")
        assert volume["os-vol-host-attr:host"] == host and volume["id"] != old
        store = lab.cloud.block_storage.store
        assert store.read(backend, body["id"]) == data
        # The LV is renamed after its new volume: the old name is gone from the list.
        listed = await lab.call("GET", f"/os-volume-manage?host={backend}", version="3.0")
        names = _by_name(listed["manageable-volumes"])
        assert f"volume-{old}" not in names and f"volume-{body['id']}" in names

    run_lab(scenario)


def test_manage_is_checked_as_cinder_checks_it() -> None:
    async def scenario(lab: Lab) -> None:
        old, host = await _unmanaged(lab, b"x")
        backend = host.partition("#")[0]
        ref = {"source-name": f"volume-{old}"}
        token, _ = await lab.member("mg")
        await lab.call("POST", "/manageable_volumes", {"volume": {"host": host, "ref": ref}},
                       token=token, expect=403)
        await lab.call("GET", f"/manageable_volumes?host={backend}", token=token,
                       expect=403)
        # Before 3.8 the v3 paths are not there; os-volume-manage is.
        await lab.call("GET", f"/manageable_volumes?host={backend}", version="3.7",
                       expect=404)
        missing = await lab.call("POST", "/os-volume-manage", {"volume": {"ref": ref}},
                                 version="3.0", expect=400)
        assert missing["badRequest"]["message"] == (
            "Invalid input received: Host field is missing.")
        both = await lab.call("GET", f"/manageable_volumes?host={backend}&cluster=c",
                              expect=400)
        assert both["badRequest"]["message"] == (
            "Invalid input received: One and only one of cluster and host must be set.")
        unknown = await lab.call("POST", "/manageable_volumes", {"volume": {
            "host": "nowhere@lvm", "ref": ref}}, expect=503)
        assert "Host 'nowhere@lvm' not found" in str(unknown)
        bad_type = await lab.call("POST", "/manageable_volumes", {"volume": {
            "host": host, "ref": ref, "volume_type": "nope"}}, expect=400)
        assert bad_type["badRequest"]["message"] == (
            "Invalid volume type: Cannot find requested 'nope' volume type")
        for body, field in (({"volume": {"host": host}}, "ref"),
                            ({"volume": {"host": host, "ref": ref, "bootable": "maybe"}},
                             "bootable"),
                            ({"volume": {"host": host, "ref": ref, "colour": 1}}, "colour")):
            refused = await lab.call("POST", "/manageable_volumes", body, expect=400)
            assert field in refused["badRequest"]["message"], refused
        sort = await lab.call("GET", f"/manageable_volumes?host={backend}&sort_key=name",
                              expect=400)
        assert sort["badRequest"]["message"] == "Invalid sort keys passed: name"

        # A reference the driver cannot use: the volume ends in error_managing.
        for bad_ref in ({"source-id": "1"}, {"source-name": "volume-nothere"}):
            made = await lab.call("POST", "/manageable_volumes", {"volume": {
                "host": host, "ref": bad_ref}}, expect=202)
            await lab.settle()
            assert (await lab.volume(made["volume"]["id"]))["status"] == "error_managing"
            await lab.call("DELETE", f"/volumes/{made['volume']['id']}", expect=202)
        # Managed once, it cannot be managed again.
        made = await lab.call("POST", "/manageable_volumes", {"volume": {
            "host": host, "ref": ref}}, expect=202)
        await lab.settle()
        new = made["volume"]["id"]
        again = await lab.call("POST", "/manageable_volumes", {"volume": {
            "host": host, "ref": {"source-name": f"volume-{new}"}}}, expect=400)
        assert again["badRequest"]["message"] == (
            "Invalid volume: Unable to manage existing volume. The volume is already "
            "managed")

    run_lab(scenario)


def test_a_snapshot_is_unmanaged_and_managed_back() -> None:
    async def scenario(lab: Lab) -> None:
        volume = str((await lab.create())["volume"]["id"])
        host = (await lab.volume(volume))["os-vol-host-attr:host"]
        backend = host.partition("#")[0]
        snap = (await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": volume}},
                               expect=202))["snapshot"]["id"]
        await lab.settle()
        token, _ = await lab.member("sn")
        await lab.call("POST", f"/snapshots/{snap}/action", {"os-unmanage": {}},
                       token=token, expect=404)
        await lab.call("POST", f"/snapshots/{snap}/action", {"os-unmanage": {}},
                       expect=202)
        await lab.settle()
        await lab.call("GET", f"/snapshots/{snap}", expect=404)
        listed = await lab.call("GET", f"/manageable_snapshots?host={backend}")
        assert_shape_like_sample(listed, sample(
            "cinder", f"{SAMPLES}/snapshot-manage-list-response.json"))
        assert listed["manageable-snapshots"] == [{
            "reference": {"source-name": f"_snapshot-{snap}"}, "size": 1,
            "safe_to_manage": True, "source_reference": {"source-name": f"volume-{volume}"}}]
        made = await lab.call("POST", "/manageable_snapshots", {"snapshot": {
            "volume_id": volume, "ref": {"source-name": f"_snapshot-{snap}"},
            "name": "back", "description": "d", "metadata": {"k": "v"}}}, expect=202)
        assert_shape_like_sample(made, sample(
            "cinder", f"{SAMPLES}/snapshot_manage_extensions/snapshot-manage-response.json"),
            ignore={"$.snapshot.metadata", "$.snapshot.updated_at"})
        # The snapshot view alone (Tempest's schema refuses the extensions' attributes).
        assert not [key for key in made["snapshot"] if key.startswith("os-extended")]
        await lab.settle()
        shown = (await lab.call("GET", f"/snapshots/{made['snapshot']['id']}"))["snapshot"]
        assert (shown["status"], shown["name"]) == ("available", "back")
        detail = await lab.call("GET", f"/manageable_snapshots/detail?host={backend}")
        entry = detail["manageable-snapshots"][0]
        assert (entry["safe_to_manage"], entry["cinder_id"]) == (False, shown["id"])
        await lab.call("POST", "/manageable_snapshots", {"snapshot": {
            "volume_id": volume}}, expect=400)

    run_lab(scenario)
