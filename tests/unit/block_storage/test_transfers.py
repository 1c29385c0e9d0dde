"""Volume transfers: one project offers a volume, another accepts it with the key."""

from __future__ import annotations

from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample
from unit.block_storage.cinder_calls import Lab, run_lab

SAMPLES = "api-ref/source/v3/samples"


def test_a_transfer_moves_the_volume_and_its_snapshots_to_the_accepting_project() -> None:
    async def scenario(lab: Lab) -> None:
        giver, giver_project = await lab.member("giver")
        taker, taker_project = await lab.member("taker")
        volume = (await lab.create(token=giver, name="gift"))["volume"]["id"]
        snap = (await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": volume}},
                               token=giver, expect=202))["snapshot"]["id"]
        await lab.settle()
        made = await lab.call("POST", "/volume-transfers", {"transfer": {
            "volume_id": volume, "name": " first volume "}}, token=giver, expect=202)
        assert_shape_like_sample(made, sample(
            "cinder", f"{SAMPLES}/volume_transfers/v3.57/volume-transfers-create-response.json"))
        transfer = made["transfer"]
        assert (transfer["name"], transfer["accepted"], transfer["source_project_id"]) == (
            "first volume", False, giver_project)
        assert len(transfer["auth_key"]) == 16
        assert (await lab.volume(volume, giver))["status"] == "awaiting-transfer"
        # Offered once only, and not deleted while offered.
        again = await lab.call("POST", "/volume-transfers", {"transfer": {
            "volume_id": volume}}, token=giver, expect=400)
        assert again["badRequest"]["message"] == "Invalid volume: status must be available"
        await lab.call("DELETE", f"/volumes/{volume}", token=giver, expect=400)

        shown = await lab.call("GET", f"/volume-transfers/{transfer['id']}", token=giver)
        assert_valid(shown, openapi_response_schema("block-storage",
                                                    "/v3/volume-transfers/{id}", "get"))
        assert "auth_key" not in shown["transfer"]
        # The taker cannot see it, only accept it with the key.
        await lab.call("GET", f"/volume-transfers/{transfer['id']}", token=taker, expect=404)
        assert (await lab.call("GET", "/volume-transfers", token=taker))["transfers"] == []
        wrong = await lab.call("POST", f"/volume-transfers/{transfer['id']}/accept",
                               {"accept": {"auth_key": "0" * 16}}, token=taker, expect=400)
        assert wrong["badRequest"]["message"] == (
            f"Invalid auth key: Attempt to transfer {transfer['id']} with invalid auth key.")
        accepted = await lab.call("POST", f"/volume-transfers/{transfer['id']}/accept",
                                  {"accept": {"auth_key": transfer["auth_key"]}},
                                  token=taker, expect=202)
        assert_shape_like_sample(accepted, sample(
            "cinder", f"{SAMPLES}/volume_transfers/volume-transfers-accept-response.json"))
        moved = await lab.volume(volume, taker)
        assert (moved["status"], moved["os-vol-tenant-attr:tenant_id"]) == (
            "available", taker_project)
        await lab.call("GET", f"/volumes/{volume}", token=giver, expect=404)
        assert (await lab.call("GET", f"/snapshots/{snap}", token=taker))["snapshot"][
            "id"] == snap
        # Accepted: gone from the lists, and not accepted twice.
        assert (await lab.call("GET", "/volume-transfers", token=giver))["transfers"] == []
        await lab.call("POST", f"/volume-transfers/{transfer['id']}/accept",
                       {"accept": {"auth_key": transfer["auth_key"]}}, token=taker,
                       expect=404)

    run_lab(scenario)


def test_no_snapshots_the_old_path_delete_and_bad_input() -> None:
    async def scenario(lab: Lab) -> None:
        giver, _ = await lab.member("g2")
        taker, taker_project = await lab.member("t2")
        volume = (await lab.create(token=giver))["volume"]["id"]
        snap = (await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": volume}},
                               token=giver, expect=202))["snapshot"]["id"]
        await lab.settle()
        # no_snapshots is 3.55's.
        old = await lab.call("POST", "/volume-transfers", {"transfer": {
            "volume_id": volume, "no_snapshots": True}}, token=giver, expect=400,
            version="3.54")
        assert "no_snapshots" in old["badRequest"]["message"]
        made = (await lab.call("POST", "/volume-transfers", {"transfer": {
            "volume_id": volume, "no_snapshots": True}}, token=giver,
            expect=202))["transfer"]
        assert made["no_snapshots"] is True
        await lab.call("POST", f"/os-volume-transfer/{made['id']}/accept",
                       {"accept": {"auth_key": made["auth_key"]}}, token=taker, expect=202)
        assert (await lab.volume(volume, taker))["os-vol-tenant-attr:tenant_id"] == (
            taker_project)
        # The snapshot stayed with the giver.
        await lab.call("GET", f"/snapshots/{snap}", token=giver)
        await lab.call("GET", f"/snapshots/{snap}", token=taker, expect=404)

        # The old path: no no_snapshots at all; delete gives the volume back.
        other = (await lab.create(token=giver))["volume"]["id"]
        refused = await lab.call("POST", "/os-volume-transfer", {"transfer": {
            "volume_id": other, "no_snapshots": False}}, token=giver, expect=400)
        assert "no_snapshots" in refused["badRequest"]["message"]
        offer = (await lab.call("POST", "/os-volume-transfer", {"transfer": {
            "volume_id": other, "name": "x"}}, token=giver, expect=202))["transfer"]
        listed = await lab.call("GET", "/os-volume-transfer/detail", token=giver)
        assert [t["id"] for t in listed["transfers"]] == [offer["id"]]
        # Its list, unpaginated, reads limit and offset as cinder's common.limited: a bad
        # one is 400 (was a 500 to the fuzz).
        for query, says in (("limit=abc", "limit param must be an integer"),
                            ("limit=-1", "limit param must be positive"),
                            ("offset=x", "offset must be an integer.")):
            bad = await lab.call("GET", f"/os-volume-transfer/detail?{query}", token=giver,
                                 expect=400)
            assert bad["badRequest"]["message"] == says
        assert (await lab.call("GET", "/os-volume-transfer?limit=0&offset=0",
                               token=giver))["transfers"][0]["id"] == offer["id"]
        assert (await lab.call("GET", "/os-volume-transfer?offset=1",
                               token=giver))["transfers"] == []
        assert_valid(listed, openapi_response_schema("block-storage",
                                                     "/v3/os-volume-transfer/detail", "get"))
        await lab.call("DELETE", f"/os-volume-transfer/{offer['id']}", token=taker,
                       expect=404)
        await lab.call("DELETE", f"/os-volume-transfer/{offer['id']}", token=giver,
                       expect=202)
        assert (await lab.volume(other, giver))["status"] == "available"
        await lab.call("GET", f"/os-volume-transfer/{offer['id']}", token=giver, expect=404)

        # Bad input names the field; another project's volume is not found.
        for body, field in (({"transfer": {}}, "volume_id"),
                            ({"transfer": {"volume_id": "nope"}}, "volume_id"),
                            ({"transfer": {"volume_id": other, "name": 5}}, "name")):
            bad = await lab.call("POST", "/volume-transfers", body, token=giver, expect=400)
            assert field in bad["badRequest"]["message"], bad
        bad = await lab.call("POST", f"/volume-transfers/{offer['id']}/accept",
                             {"accept": {}}, token=taker, expect=400)
        assert "auth_key" in bad["badRequest"]["message"]
        await lab.call("POST", "/volume-transfers", {"transfer": {"volume_id": other}},
                       token=taker, expect=404)

    run_lab(scenario)


def test_accepting_counts_against_the_takers_quota() -> None:
    async def scenario(lab: Lab) -> None:
        giver, _ = await lab.member("g3")
        taker, taker_project = await lab.member("t3")
        await lab.call("PUT", f"/os-quota-sets/{taker_project}", {"quota_set": {"volumes": 0}})
        volume = (await lab.create(token=giver))["volume"]["id"]
        made = (await lab.call("POST", "/volume-transfers", {"transfer": {
            "volume_id": volume}}, token=giver, expect=202))["transfer"]
        over = await lab.call("POST", f"/volume-transfers/{made['id']}/accept",
                              {"accept": {"auth_key": made["auth_key"]}}, token=taker,
                              expect=413)
        assert "Maximum number of volumes allowed (0)" in over["overLimit"]["message"]
        assert (await lab.volume(volume, giver))["status"] == "awaiting-transfer"

    run_lab(scenario)
