"""``/os-assisted-volume-snapshots``: cinder's service user asks nova to snapshot (or merge)
a volume file of a running server; nova finds the server by the volume's mapping and casts
to its compute, whose hypervisor cannot snapshot the lab's block-device volumes, so cinder
hears of an error."""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import pytest

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volume_extend import attached
from unit.compute.test_volumes import nova

ROOT = "/os-assisted-volume-snapshots"
MISSING = "f0000000-0000-4000-8000-000000000000"


async def service_token(lab: Lab) -> str:
    return await lab.login("cinder", "secret", "service")


def test_nova_takes_the_request_and_its_compute_reports_the_failure_to_cinder(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(lab: Lab) -> None:
        server, volume = await attached(lab)
        token = await service_token(lab)
        # cinder's snapshot, in creating, as its remotefs driver leaves it for nova.
        snapshot = (await lab.call("POST", "/snapshots", {"snapshot": {
            "volume_id": volume, "force": True}}, expect=202))["snapshot"]["id"]
        await lab.settle()
        await lab.call("POST", f"/snapshots/{snapshot}/action", {
            "os-reset_status": {"status": "creating"}}, expect=202)
        made = await nova(lab, "POST", ROOT, {"snapshot": {
            "volume_id": volume, "create_info": {
                "snapshot_id": snapshot, "type": "qcow2", "new_file": "new_file"}}},
            token=token)
        assert made == {"snapshot": {"id": None, "volumeId": volume}}
        await lab.settle()
        shown = (await lab.call("GET", f"/snapshots/{snapshot}"))["snapshot"]
        assert shown["status"] == "error"
        given = await nova(lab, "POST", ROOT, {"snapshot": {
            "volume_id": volume, "create_info": {
                "snapshot_id": snapshot, "type": "qcow2", "new_file": "f", "id": snapshot}}},
            token=token)
        assert given["snapshot"]["id"] == snapshot

        info = quote(json.dumps({"volume_id": volume, "type": "qcow2"}))
        await nova(lab, "DELETE", f"{ROOT}/{snapshot}?delete_info={info}", token=token,
                   expect=204)
        await lab.settle()
        assert server

    with caplog.at_level(logging.ERROR, logger="nova.compute.manager"):
        run_lab(scenario)
    assert [r.getMessage() for r in caplog.records
            if "Error occurred during volume_snapshot_create" in r.getMessage()]
    assert [r.getMessage() for r in caplog.records
            if "Error occurred during volume_snapshot_delete" in r.getMessage()]


def test_refusals_are_novas_400_and_403() -> None:
    async def scenario(lab: Lab) -> None:
        _, volume = await attached(lab)
        token = await service_token(lab)
        create_info = {"snapshot_id": MISSING, "type": "qcow2", "new_file": "n"}
        # Only the service user (or an admin).
        member, _ = await lab.member("avs")
        await nova(lab, "POST", ROOT, {"snapshot": {"volume_id": volume,
                                                    "create_info": create_info}},
                   token=member, expect=403)
        # A volume no server has is nova's VolumeBDMNotFound, as 400.
        refused = await nova(lab, "POST", ROOT, {"snapshot": {
            "volume_id": MISSING, "create_info": create_info}}, token=token, expect=400)
        assert refused["badRequest"]["message"] == \
            f"No volume Block Device Mapping with id {MISSING}."
        for body in ({"snapshot": {"volume_id": volume}},
                     {"snapshot": {"volume_id": volume,
                                   "create_info": {**create_info, "type": "raw"}}},
                     {"snapshot": {"volume_id": volume,
                                   "create_info": {**create_info, "colour": 1}}}):
            await nova(lab, "POST", ROOT, body, token=token, expect=400)
        # delete_info: missing, no JSON, or without the volume.
        for query in ("", "?delete_info=nope", f"?delete_info={quote(json.dumps({}))}",
                      f"?delete_info={quote(json.dumps([volume]))}"):
            await nova(lab, "DELETE", f"{ROOT}/{MISSING}{query}", token=token, expect=400)
        # From 2.75 no other query parameter.
        info = quote(json.dumps({"volume_id": volume}))
        await nova(lab, "DELETE", f"{ROOT}/{MISSING}?delete_info={info}&x=1", token=token,
                   version="2.75", expect=400)

    run_lab(scenario)
