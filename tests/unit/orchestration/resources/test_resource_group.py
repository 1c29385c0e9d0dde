"""OS::Heat::ResourceGroup: members made from one definition (``%index%`` replaced),
scaled up and down on update, their attributes through the group's."""

from __future__ import annotations

from typing import Any

from unit.orchestration.heat_calls import Heat, run_heat


def group(count: int) -> dict[str, Any]:
    return {"heat_template_version": "2018-08-31", "resources": {"g": {
        "type": "OS::Heat::ResourceGroup", "properties": {
            "count": count, "resource_def": {"type": "OS::Heat::TestResource",
                                             "properties": {"value": "m-%index%",
                                                            "wait_secs": 1}}}}},
        "outputs": {"values": {"value": {"get_attr": ["g", "output"]}},
                    "refs": {"value": {"get_attr": ["g", "refs"]}}}}


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
        assert res["attributes"]["removed_rsrc_list"] == ["4", "3", "2"]
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

    run_heat(scenario)
