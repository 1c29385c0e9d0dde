"""OS::Heat::ResourceGroup: members made from one definition (``%index%`` replaced),
scaled up and down on update, their attributes through the group's; removal_policies,
rolling updates and batched creates as heat's."""

from __future__ import annotations

from typing import Any

from unit.orchestration.heat_calls import Heat, run_heat


def group(count: int, value: str = "m-%index%", **extra: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {
        "type": "OS::Heat::ResourceGroup", "properties": {
            "count": count, "resource_def": {"type": "OS::Heat::TestResource",
                                             "properties": {"value": value,
                                                            "wait_secs": 1}}}}
    for key, item in extra.items():
        target = definition if key == "update_policy" else definition["properties"]
        target[key] = item
    return {"heat_template_version": "2018-08-31", "resources": {"g": definition},
            "outputs": {"values": {"value": {"get_attr": ["g", "output"]}},
                        "refs": {"value": {"get_attr": ["g", "refs"]}},
                        "names": {"value": {"get_attr": ["g", "refs_map"]}}}}


def _outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


async def _members(heat: Heat, stack_id: str) -> dict[str, str]:
    """The nested stack's members: name -> the value its definition gives now."""
    store = heat.cloud.orchestration.store
    group_id = store.resources(stack_id)["g"].physical_id
    resources = store.stack(group_id).template["resources"]
    return {name: d["properties"]["value"] for name, d in resources.items()}


def test_a_group_scales_from_two_to_five_and_back() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("grp", group(2)))["stack"]["id"]
        shown = await heat.until("grp", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert outputs["values"] == ["m-0", "m-1"]
        first_refs = outputs["refs"]
        for count, values in ((5, ["m-0", "m-1", "m-2", "m-3", "m-4"]), (2, ["m-0", "m-1"])):
            await heat.call("PATCH", f"/stacks/grp/{stack_id}",
                            {"template": group(count)}, expect=202)
            shown = await heat.until("grp", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
            assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
            outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
            assert outputs["values"] == values
        # The first two members were never touched.
        assert outputs["refs"] == first_refs
        res = (await heat.call("GET", f"/stacks/grp/{stack_id}/resources/g"))["resource"]
        # heat lists only what removal_policies removed (a smaller count is no removal).
        assert res["attributes"]["removed_rsrc_list"] == []
        await heat.call("DELETE", f"/stacks/grp/{stack_id}", expect=204)
        await heat.settle(5)
        assert (await heat.request("GET", f"/stacks/grp/{stack_id}")).status_code == 404

    run_heat(scenario)


def test_a_group_is_a_nested_stack_checked_before_any_action() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("grp", group(2)))["stack"]["id"]
        await heat.until("grp", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        res = (await heat.call("GET", f"/stacks/grp/{stack_id}/resources/g"))["resource"]
        nested = next(link["href"] for link in res["links"] if link["rel"] == "nested")
        name, nested_id = nested.split("/")[-2:]
        assert name.startswith("grp-g-") and nested_id == res["physical_resource_id"]
        members = (await heat.call("GET", f"/stacks/{name}/{nested_id}/resources")
                   )["resources"]
        assert sorted(m["resource_name"] for m in members) == ["0", "1"]
        bad = group(2)
        bad["resources"]["g"]["properties"]["resource_def"]["type"] = "OS::No::Such"
        answer = await heat.create("bad", bad, expect=400)
        assert answer["error"]["message"] == (
            "resources.g<nested_stack>: The Resource Type (OS::No::Such) could not be found.")
        bad = group(2)
        bad["resources"]["g"]["properties"]["resource_def"]["properties"]["colour"] = "red"
        answer = await heat.create("bad", bad, expect=400)
        assert answer["error"]["message"] == (
            "Property error: resources.g<nested_stack>.resources[0].properties: Unknown "
            "Property colour")
        # update_policy is checked against the type's schema (heat's update_policy_schema).
        answer = await heat.create("bad", group(2, update_policy={
            "rolling_update": {"max_batch_size": 0}}), expect=400)
        assert answer["error"]["message"] == (
            "Property error: resources.g.update_policy.rolling_update.max_batch_size: 0 is "
            "out of range (min: 1, max: None)")
        bad = group(2)
        bad["resources"]["other"] = {"type": "OS::Heat::TestResource",
                                     "update_policy": {"rolling_update": {}}}
        for answer in (await heat.create("bad", bad, expect=400),
                       await heat.call("POST", "/validate", {"template": bad}, expect=400)):
            assert answer["error"]["message"] == (
                "Property error: resources.other.update_policy: Unknown Property "
                "rolling_update")

    run_heat(scenario)


def test_removal_policies_remove_named_members_first_and_never_reuse_their_names() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("grp", group(3)))["stack"]["id"]
        shown = await heat.until("grp", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        refs = _outputs(shown)["names"]
        # Member 1 by name: count 2 keeps 0 and 2.
        await heat.call("PATCH", f"/stacks/grp/{stack_id}", {"template": group(
            2, removal_policies=[{"resource_list": ["1"]}])}, expect=202)
        shown = await heat.until("grp", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert _outputs(shown)["values"] == ["m-0", "m-2"]
        # Member 0 by reference (its physical id, as refs shows it), the count kept: a
        # new member takes the next free name, 3; the skiplist is kept (append).
        await heat.call("PATCH", f"/stacks/grp/{stack_id}", {"template": group(
            2, removal_policies=[{"resource_list": [refs["0"]]}])}, expect=202)
        shown = await heat.until("grp", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert _outputs(shown)["values"] == ["m-2", "m-3"]
        assert _outputs(shown)["names"]["2"] == refs["2"]
        res = (await heat.call("GET", f"/stacks/grp/{stack_id}/resources/g"))["resource"]
        assert res["attributes"]["removed_rsrc_list"] == ["0", "1"]
        # mode update: the skiplist is replaced by what the policies name now.
        await heat.call("PATCH", f"/stacks/grp/{stack_id}", {"template": group(
            3, removal_policies=[{"resource_list": ["3"]}],
            removal_policies_mode="update")}, expect=202)
        shown = await heat.until("grp", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert _outputs(shown)["values"] == ["m-0", "m-1", "m-2"]
        res = (await heat.call("GET", f"/stacks/grp/{stack_id}/resources/g"))["resource"]
        assert res["attributes"]["removed_rsrc_list"] == ["3"]

    run_heat(scenario)


def test_a_rolling_update_changes_members_in_batches_pause_time_apart() -> None:
    policy = {"rolling_update": {"max_batch_size": 2, "pause_time": 60}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("grp", group(5, update_policy=policy)))["stack"]["id"]
        await heat.until("grp", stack_id, "CREATE_COMPLETE")
        await heat.call("PATCH", f"/stacks/grp/{stack_id}", {"template": group(
            5, "new-%index%", update_policy=policy)}, expect=202)
        await heat.settle(20)
        # The highest indexes first, two at a time.
        members = await _members(heat, stack_id)
        assert sorted(n for n, v in members.items() if v.startswith("new")) == ["3", "4"]
        assert (await heat.stack("grp", stack_id))["stack_status"] == "UPDATE_IN_PROGRESS"
        await heat.settle(60)
        members = await _members(heat, stack_id)
        assert sorted(n for n, v in members.items() if v.startswith("new")) == [
            "1", "2", "3", "4"]
        shown = await heat.until("grp", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert _outputs(shown)["values"] == [f"new-{i}" for i in range(5)]

    run_heat(scenario)


def test_min_in_service_makes_a_member_first_and_batch_create_makes_them_in_batches(
        ) -> None:
    rolling = {"rolling_update": {"max_batch_size": 1, "min_in_service": 2,
                                  "pause_time": 30}}
    batched = {"batch_create": {"max_batch_size": 2, "pause_time": 30}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("grp", group(2, update_policy=rolling)))["stack"]["id"]
        await heat.until("grp", stack_id, "CREATE_COMPLETE")
        await heat.call("PATCH", f"/stacks/grp/{stack_id}", {"template": group(
            2, "new-%index%", update_policy=rolling)}, expect=202)
        await heat.settle(5)
        # Two kept in service: a third member with the new definition comes first.
        assert await _members(heat, stack_id) == {"0": "m-0", "1": "m-1", "2": "new-2"}
        shown = await heat.until("grp", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert await _members(heat, stack_id) == {"0": "new-0", "1": "new-1"}

        other = (await heat.create("bat", group(5, update_policy=batched)))["stack"]["id"]
        await heat.settle(10)
        assert sorted(await _members(heat, other)) == ["0", "1"]
        assert (await heat.stack("bat", other))["stack_status"] == "CREATE_IN_PROGRESS"
        await heat.settle(30)
        assert sorted(await _members(heat, other)) == ["0", "1", "2", "3"]
        shown = await heat.until("bat", other, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert _outputs(shown)["values"] == [f"m-{i}" for i in range(5)]

    run_heat(scenario)


def test_pauses_beyond_the_stacks_timeout_fail_as_heats_update_timeout() -> None:
    batched = {"batch_create": {"max_batch_size": 1, "pause_time": 30}}
    rolling = {"rolling_update": {"max_batch_size": 2, "pause_time": 30}}
    too_long = "ValueError: resources.g: The current update policy will result in stack " \
        "update timeout."

    async def scenario(heat: Heat) -> None:
        # Three batches, two pauses of 30 s: a minute, not within the stack's minute.
        made = (await heat.create("bat", group(3, update_policy=batched),
                                  timeout_mins=1))["stack"]["id"]
        shown = await heat.until("bat", made, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_FAILED"
        assert shown["stack_status_reason"].endswith(too_long)
        made = (await heat.create("fits", group(2, update_policy=batched),
                                  timeout_mins=1))["stack"]["id"]
        shown = await heat.until("fits", made, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]

        made = (await heat.create("grp", group(5, update_policy=rolling),
                                  timeout_mins=1))["stack"]["id"]
        await heat.until("grp", made, "CREATE_COMPLETE")
        await heat.call("PATCH", f"/stacks/grp/{made}", {"template": group(
            5, "new-%index%", update_policy=rolling)}, expect=202)
        shown = await heat.until("grp", made, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_FAILED"
        assert shown["stack_status_reason"].endswith(too_long)
        assert set((await _members(heat, made)).values()) == {f"m-{i}" for i in range(5)}

    run_heat(scenario)
