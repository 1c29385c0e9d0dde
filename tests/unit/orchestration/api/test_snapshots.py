"""heat-api v1's stack snapshots in-process: a snapshot (a volume's backup in it), its
restore as an update to the snapshot's template, its delete, and heat's errors."""

from __future__ import annotations

from typing import Any

from support.apiref import assert_shape_like_sample, sample
from unit.orchestration.heat_calls import Heat, run_heat

SAMPLES = "api-ref/source/v1/samples"


def heat_sample(name: str) -> Any:
    return sample("heat", f"{SAMPLES}/{name}")


def _template(value: str, volume_name: str) -> dict[str, Any]:
    return {"heat_template_version": "2018-08-31", "resources": {
        "volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1,
                                                                 "name": volume_name}},
        "t": {"type": "OS::Heat::TestResource", "properties": {"value": value}}},
        "outputs": {"v": {"value": {"get_attr": ["t", "output"]}}}}


async def _backups(heat: Heat) -> list[dict[str, Any]]:
    answer = await heat.client.get("/volume/v3/backups/detail?all_tenants=1",
                                   headers={"X-Auth-Token": heat.token})
    return list(answer.json()["backups"])


def test_a_snapshot_is_taken_restored_and_deleted_as_heat_does() -> None:
    async def scenario(heat: Heat) -> None:
        body = await heat.create("vs", _template("one", "first"))
        stack_id = body["stack"]["id"]
        await heat.until("vs", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        path = f"/stacks/vs/{stack_id}/snapshots"

        taken = await heat.call("POST", path, {"name": "s1"})
        assert_shape_like_sample(taken, heat_sample("stack-snapshot-response.json"))
        assert (taken["name"], taken["action"], taken["status"], taken["data"]) == (
            "s1", "CREATE", "IN_PROGRESS", None)
        shown = await heat.until("vs", stack_id, "SNAPSHOT_COMPLETE", "SNAPSHOT_FAILED")
        assert shown["stack_status_reason"] == "Stack SNAPSHOT completed successfully"
        snapshot = (await heat.call("GET", f"{path}/{taken['id']}"))["snapshot"]
        assert_shape_like_sample({"snapshot": snapshot},
                                 heat_sample("stack-snapshot-show-response.json"))
        assert (snapshot["status"], snapshot["status_reason"]) == (
            "COMPLETE", "Stack SNAPSHOT completed successfully")
        data = snapshot["data"]
        assert (data["action"], data["status"], data["id"]) == (
            "SNAPSHOT", "COMPLETE", stack_id)
        saved = data["resources"]["volume"]
        assert (saved["action"], saved["status"]) == ("SNAPSHOT", "COMPLETE")
        backup_id = saved["resource_data"]["backup_id"]
        assert [(b["id"], b["status"], b["volume_id"]) for b in await _backups(heat)] == [
            (backup_id, "available", saved["resource_id"])]
        listed = await heat.call("GET", path)
        assert_shape_like_sample(listed, heat_sample("stack-snapshots-list-response.json"))
        assert [s["id"] for s in listed["snapshots"]] == [taken["id"]]

        await heat.call("PUT", f"/stacks/vs/{stack_id}",
                        {"template": _template("two", "second")}, expect=202)
        await heat.until("vs", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")

        # The restore: an update (RESTORE) to the snapshot's template, the volume
        # restored in place from its backup.
        answer = await heat.request("POST", f"{path}/{taken['id']}/restore")
        assert answer.status_code == 202, answer.text
        assert answer.json() == heat_sample("stack-snapshot-restore-response.json")
        shown = await heat.until("vs", stack_id, "RESTORE_COMPLETE", "RESTORE_FAILED")
        assert shown["stack_status_reason"] == "Stack RESTORE completed successfully"
        assert shown["outputs"][0]["output_value"] == "one"
        template = await heat.call("GET", f"/stacks/vs/{stack_id}/template")
        assert template["resources"]["volume"]["properties"] == {
            "size": 1, "name": "first", "metadata": {}, "backup_id": backup_id}
        resources = {r["resource_name"]: r for r in (await heat.call(
            "GET", f"/stacks/vs/{stack_id}/resources"))["resources"]}
        assert resources["volume"]["physical_resource_id"] == saved["resource_id"]
        assert resources["volume"]["resource_status"] == "UPDATE_COMPLETE"

        # Unknown, and another stack's: 404 as heat's snapshot_get_by_stack says.
        missing = await heat.request("GET", f"{path}/nope")
        assert missing.status_code == 404
        assert missing.json()["error"] == {"message": "Snapshot with id nope not found",
                                           "traceback": None, "type": "NotFound"}
        other = (await heat.create("other", {"heat_template_version": "2018-08-31"}))[
            "stack"]["id"]
        await heat.until("other", other, "CREATE_COMPLETE")
        wrong = await heat.request("POST", f"/stacks/other/{other}/snapshots/"
                                   f"{taken['id']}/restore")
        assert wrong.status_code == 404
        assert wrong.json()["error"]["message"] == (
            f"The Snapshot ({taken['id']}) for Stack (other) could not be found.")
        assert wrong.json()["error"]["type"] == "SnapshotNotFound"

        await heat.call("DELETE", f"{path}/{taken['id']}", expect=204)
        await heat.settle(5)
        assert (await heat.call("GET", path))["snapshots"] == []
        assert await _backups(heat) == []

        # A stack's delete deletes its snapshots (and their backups) first.
        await heat.call("POST", path, {})
        await heat.until("vs", stack_id, "SNAPSHOT_COMPLETE")
        assert len(await _backups(heat)) == 1
        await heat.call("DELETE", f"/stacks/vs/{stack_id}", expect=204)
        await heat.settle(10)
        assert await _backups(heat) == []

    run_heat(scenario)


def test_deletion_policy_snapshot_keeps_a_backup_and_is_refused_where_none_can_be() -> None:
    async def scenario(heat: Heat) -> None:
        body = await heat.create("kept", {"heat_template_version": "2018-08-31", "resources": {
            "volume": {"type": "OS::Cinder::Volume", "deletion_policy": "Snapshot",
                       "properties": {"size": 1}}}})
        stack_id = body["stack"]["id"]
        await heat.until("kept", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        volume_id = (await heat.call("GET", f"/stacks/kept/{stack_id}/resources"))[
            "resources"][0]["physical_resource_id"]
        await heat.call("DELETE", f"/stacks/kept/{stack_id}", expect=204)
        await heat.settle(10)
        assert (await heat.request("GET", f"/stacks/kept/{stack_id}")).status_code == 404
        assert [(b["volume_id"], b["status"]) for b in await _backups(heat)] == [
            (volume_id, "available")]
        gone = await heat.client.get(f"/volume/v3/volumes/{volume_id}",
                                     headers={"X-Auth-Token": heat.token})
        assert gone.status_code == 404

        answer = await heat.request("POST", "/stacks", {"stack_name": "dp", "template": {
            "heat_template_version": "2018-08-31", "resources": {
                "n": {"type": "OS::Heat::None", "deletion_policy": "Snapshot"}}}})
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["message"] == (
            'resources.n.deletion_policy: "Snapshot" deletion policy not supported')

    run_heat(scenario)


def test_a_server_is_snapshotted_as_an_image_and_rebuilt_from_it_on_restore() -> None:
    async def scenario(heat: Heat) -> None:
        template = {"heat_template_version": "2018-08-31", "resources": {"server": {
            "type": "OS::Nova::Server", "properties": {
                "image": "cirros-0.6.2-x86_64-disk", "flavor": "m1.tiny",
                "networks": [{"allocate_network": "none"}]}}}}
        stack_id = (await heat.create("vm", template))["stack"]["id"]
        await heat.until("vm", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        path = f"/stacks/vm/{stack_id}/snapshots"
        taken = await heat.call("POST", path, {"name": "img"})
        await heat.until("vm", stack_id, "SNAPSHOT_COMPLETE", "SNAPSHOT_FAILED")
        data = (await heat.call("GET", f"{path}/{taken['id']}"))["snapshot"]["data"]
        saved = data["resources"]["server"]
        image_id = saved["resource_data"]["snapshot_image_id"]
        headers = {"X-Auth-Token": heat.token}
        image = (await heat.client.get(f"/image/v2/images/{image_id}", headers=headers)).json()
        assert image["status"] == "active"

        await heat.call("POST", f"{path}/{taken['id']}/restore", expect=202)
        await heat.until("vm", stack_id, "RESTORE_COMPLETE", "RESTORE_FAILED")
        server = (await heat.client.get(f"/compute/v2.1/servers/{saved['resource_id']}",
                                        headers=headers)).json()["server"]
        assert (server["status"], server["image"]["id"]) == ("ACTIVE", image_id)

        # The image is the snapshot's: deleting the snapshot deletes it.
        await heat.call("DELETE", f"{path}/{taken['id']}", expect=204)
        await heat.settle(5)
        gone = await heat.client.get(f"/image/v2/images/{image_id}", headers=headers)
        assert gone.status_code == 404

    run_heat(scenario)


def test_a_snapshot_taken_by_an_engine_that_went_down_fails_with_its_stack() -> None:
    async def scenario(heat: Heat) -> None:
        from stacklab.orchestration.engine.stack import mark_failed

        stack_id = (await heat.create("gone", {"heat_template_version": "2018-08-31"}))[
            "stack"]["id"]
        await heat.until("gone", stack_id, "CREATE_COMPLETE")
        store = heat.cloud.orchestration.store
        # What a dead engine leaves: the stack and its new snapshot IN_PROGRESS.
        store.set_stack_state(stack_id, "SNAPSHOT", "IN_PROGRESS", "Stack SNAPSHOT started")
        taken = store.add_snapshot(stack_id, heat.project, "s")
        busy = await heat.request("POST", f"/stacks/gone/{stack_id}/snapshots", {})
        assert (busy.status_code, busy.json()["error"]["type"]) == (409, "ActionInProgress")
        deleting = await heat.request("DELETE",
                                      f"/stacks/gone/{stack_id}/snapshots/{taken.id}")
        assert (deleting.status_code, deleting.json()["error"]["message"]) == (
            400, "Deleting in-progress snapshot is not supported.")
        mark_failed(store, stack_id, "Engine went down during stack SNAPSHOT")
        shown = (await heat.call("GET", f"/stacks/gone/{stack_id}/snapshots/{taken.id}"))[
            "snapshot"]
        assert (shown["status"], shown["status_reason"]) == (
            "FAILED", "Engine went down during stack SNAPSHOT")
        refused = await heat.request(
            "POST", f"/stacks/gone/{stack_id}/snapshots/{taken.id}/restore")
        assert (refused.status_code, refused.json()["error"]["message"]) == (
            400, "Restoring incomplete snapshot is not supported.")
        await heat.call("DELETE", f"/stacks/gone/{stack_id}/snapshots/{taken.id}",
                        expect=204)

    run_heat(scenario)
