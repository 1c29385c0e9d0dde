"""Extending an attached volume (cinder 3.42): cinder-volume grows it, tells nova with a
``volume-extended`` event, nova records an action and its compute has the guest see the
new size; before 3.42 an in-use volume is refused with cinder's message."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from unit.block_storage.cinder_calls import Lab, run_lab
from unit.compute.test_volumes import boot, image, nova

OLD = "3.41"
NEW = "3.42"


async def attached(lab: Lab) -> tuple[str, str]:
    server = (await boot(lab, imageRef=await image(lab)))["id"]
    volume = (await lab.create(name="data"))["volume"]["id"]
    await nova(lab, "POST", f"/servers/{server}/os-volume_attachments",
               {"volumeAttachment": {"volumeId": volume}}, version="2.79")
    assert (await lab.volume(volume))["status"] == "in-use"
    return server, volume


def test_an_in_use_volume_is_extended_from_3_42_and_nova_sees_it() -> None:
    async def scenario(lab: Lab) -> None:
        server, volume = await attached(lab)
        action = f"/volumes/{volume}/action"
        refused = await lab.call("POST", action, {"os-extend": {"new_size": 2}},
                                 expect=400, version=OLD)
        assert refused["badRequest"]["message"] == (
            f"Invalid volume: Volume {volume} status must be '{{'status': 'available'}}' "
            "to extend, currently in-use.")
        await lab.call("POST", action, {"os-extend": {"new_size": 1}}, expect=400,
                       version=NEW)
        await lab.call("POST", action, {"os-extend": {"new_size": 2}}, expect=202,
                       version=NEW)
        await lab.settle()
        shown = await lab.volume(volume)
        assert (shown["size"], shown["status"]) == (2, "in-use")
        assert [a["server_id"] for a in shown["attachments"]] == [server]
        # nova: an extend_volume action whose compute event succeeded, the mapping's new
        # size, and a guest that saw its disk grow.
        actions = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions",
                              version="2.84"))["instanceActions"]
        extend = [a for a in actions if a["action"] == "extend_volume"]
        assert len(extend) == 1
        detail = (await nova(lab, "GET", f"/servers/{server}/os-instance-actions/"
                                         f"{extend[0]['request_id']}",
                             version="2.84"))["instanceAction"]
        assert [(e["event"], e["result"]) for e in detail["events"]] == [
            ("compute_extend_volume", "Success")]
        with lab.cloud.compute.db.session() as session:
            bdm = lab.cloud.compute.volumes.find(session, server, volume)
            assert bdm is not None and bdm.volume_size == 2
        console = (await nova(lab, "POST", f"/servers/{server}/action",
                              {"os-getConsoleOutput": {}}))["output"]
        assert "[vdb] new size: 4194304 512-byte logical blocks" in console

    run_lab(scenario)


def test_an_available_volume_still_extends_and_nova_hears_nothing(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create(name="free"))["volume"]["id"]
        await lab.call("POST", f"/volumes/{volume}/action", {"os-extend": {"new_size": 3}},
                       expect=202, version=NEW)
        await lab.settle()
        shown = await lab.volume(volume)
        assert (shown["size"], shown["status"]) == (3, "available")

    with caplog.at_level(logging.INFO, logger="cinder.compute.nova"):
        run_lab(scenario)
    assert not [r for r in caplog.records if r.name == "cinder.compute.nova"]


def test_the_extend_attached_rule_decides_for_in_use_volumes(tmp_path: Path) -> None:
    overrides = tmp_path / "policy.yaml"
    overrides.write_text('"volume:extend_attached_volume": "!"\n')

    async def scenario(lab: Lab) -> None:
        _, volume = await attached(lab)
        lab.cloud.policy_for("volume").load_overrides(overrides)
        refused = await lab.call("POST", f"/volumes/{volume}/action",
                                 {"os-extend": {"new_size": 2}}, expect=403, version=NEW)
        assert "volume:extend_attached_volume" in refused["forbidden"]["message"]
        # An available volume answers to volume:extend only.
        free = (await lab.create(name="free"))["volume"]["id"]
        await lab.call("POST", f"/volumes/{free}/action", {"os-extend": {"new_size": 2}},
                       expect=202, version=NEW)

    run_lab(scenario)
