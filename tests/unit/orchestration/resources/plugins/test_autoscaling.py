"""OS::Heat::AutoScalingGroup and OS::Heat::ScalingPolicy: members in a nested stack,
scaled by signals to a policy (its pre-signed alarm_url, or heat-api's resource signal)
within min_size/max_size, nothing done during the policy's cooldown; heat's checks of
the sizes; heat's capacity arithmetic."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.orchestration.resources.plugins.autoscaling import new_capacity
from unit.orchestration.heat_calls import Heat, run_heat


def scaled(desired: int = 2, **group: Any) -> dict[str, Any]:
    return {"heat_template_version": "2018-08-31", "resources": {
        "asg": {"type": "OS::Heat::AutoScalingGroup", "properties": {
            "min_size": 1, "max_size": 3, "desired_capacity": desired,
            "resource": {"type": "OS::Heat::RandomString", "properties": {"length": 6}},
            **group}},
        "up": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "auto_scaling_group_id": {"get_resource": "asg"}, "scaling_adjustment": 1,
            "adjustment_type": "change_in_capacity", "cooldown": 60}},
        "down": {"type": "OS::Heat::ScalingPolicy", "properties": {
            "auto_scaling_group_id": {"get_resource": "asg"}, "scaling_adjustment": -50,
            "adjustment_type": "percent_change_in_capacity"}}},
        "outputs": {"size": {"value": {"get_attr": ["asg", "current_size"]}},
                    "values": {"value": {"get_attr": ["asg", "outputs_list", "value"]}},
                    "alarm_url": {"value": {"get_attr": ["up", "alarm_url"]}},
                    "signal_url": {"value": {"get_attr": ["down", "signal_url"]}}}}


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


async def size(heat: Heat, stack_id: str) -> int:
    res = (await heat.call("GET", f"/stacks/as/{stack_id}/resources/asg"))["resource"]
    return int(res["attributes"]["current_size"])


async def members(heat: Heat, stack_id: str) -> list[str]:
    res = (await heat.call("GET", f"/stacks/as/{stack_id}/resources/asg"))["resource"]
    nested = next(link["href"] for link in res["links"] if link["rel"] == "nested")
    name, nested_id = nested.split("/")[-2:]
    listed = (await heat.call("GET", f"/stacks/{name}/{nested_id}/resources"))["resources"]
    return [r["resource_name"] for r in listed]


def test_a_group_scales_by_its_policies_signals_within_its_bounds() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("as", scaled()))["stack"]["id"]
        shown = await heat.until("as", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        out = outputs(shown)
        assert out["size"] == 2 and len(out["values"]) == 2
        assert all(len(v) == 6 for v in out["values"])
        url = out["alarm_url"]
        assert url.startswith(f"http://testserver/heat-api-cfn/v1/signal/{stack_id}/up?")
        assert out["signal_url"] == (f"http://testserver/heat-api/v1/{heat.project}/stacks/"
                                     f"as/{stack_id}/resources/down/signal")
        first = await members(heat, stack_id)
        # The alarm URL needs no token.
        answer = await heat.client.post(url.removeprefix("http://testserver"), json={})
        assert answer.status_code == 200, answer.text
        await heat.settle(10)
        assert await size(heat, stack_id) == 3
        grown = await members(heat, stack_id)
        assert set(first) < set(grown)
        newest = (set(grown) - set(first)).pop()
        assert outputs(await heat.stack("as", stack_id))["size"] == 3
        # Within the policy's cooldown (60 s) the signal is ignored; at max_size too.
        asg = (await heat.call("GET", f"/stacks/as/{stack_id}/resources/asg"))["resource"]
        await heat.call("PATCH", f"/stacks/as/{stack_id}", {"template": scaled(
            max_size=4)}, expect=202)
        await heat.until("as", stack_id, "UPDATE_COMPLETE")
        await heat.client.post(url.removeprefix("http://testserver"), json={})
        await heat.settle(10)
        assert await size(heat, stack_id) == 3
        await heat.settle(50)
        await heat.client.post(url.removeprefix("http://testserver"), json={})
        await heat.settle(10)
        assert await size(heat, stack_id) == 4
        await heat.settle(61)
        await heat.client.post(url.removeprefix("http://testserver"), json={})
        await heat.settle(10)
        assert await size(heat, stack_id) == 4
        assert asg["physical_resource_id"] == (await heat.call(
            "GET", f"/stacks/as/{stack_id}/resources/asg"))["resource"][
                "physical_resource_id"]
        # Down by half through heat-api's signal: the oldest go first.
        await heat.call("POST", f"/stacks/as/{stack_id}/resources/down/signal",
                        expect=200)
        await heat.settle(10)
        left = await members(heat, stack_id)
        assert len(left) == 2 and newest in left and not set(first) & set(left)
        await heat.call("POST", f"/stacks/as/{stack_id}/resources/down/signal",
                        expect=200)
        await heat.settle(10)
        assert newest not in await members(heat, stack_id)
        # min_size holds (1 * -50% is -1 at least: 0, kept at 1).
        await heat.call("POST", f"/stacks/as/{stack_id}/resources/down/signal",
                        expect=200)
        await heat.settle(10)
        assert await size(heat, stack_id) == 1
        events = (await heat.call("GET", f"/stacks/as/{stack_id}/resources/down/events")
                  )["events"]
        # The last signal changed nothing (min_size): no event, as heat's NoActionRequired.
        signals = [e for e in events if e["resource_status"] == "SIGNAL_COMPLETE"]
        assert len(signals) == 2
        assert signals[0]["resource_status_reason"] == "No signal details provided"
        ups = (await heat.call("GET", f"/stacks/as/{stack_id}/resources/up/events")
               )["events"]
        assert [e["resource_status_reason"] for e in ups
                if e["resource_status"] == "SIGNAL_COMPLETE"] == ["Unknown", "Unknown"]
        await heat.call("DELETE", f"/stacks/as/{stack_id}", expect=204)
        await heat.settle(10)
        assert (await heat.call("GET", "/stacks", params={"show_nested": "true"})
                )["stacks"] == []

    run_heat(scenario)


def test_an_update_of_desired_capacity_resizes_the_group() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("as", scaled(1)))["stack"]["id"]
        await heat.until("as", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert await size(heat, stack_id) == 1
        await heat.call("PATCH", f"/stacks/as/{stack_id}", {"template": scaled(3)},
                        expect=202)
        shown = await heat.until("as", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert outputs(shown)["size"] == 3

    run_heat(scenario)


def test_sizes_out_of_order_are_refused_with_heats_messages() -> None:
    async def scenario(heat: Heat) -> None:
        answer = await heat.create("as", scaled(min_size=4), expect=400)
        assert answer["error"]["message"] == "MinSize can not be greater than MaxSize"
        answer = await heat.create("as", scaled(5), expect=400)
        assert answer["error"]["message"] == (
            "DesiredCapacity must be between MinSize and MaxSize")
        bad = scaled()
        bad["resources"]["up"]["properties"]["adjustment_type"] = "more"
        answer = await heat.create("as", bad, expect=400)
        assert "adjustment_type" in answer["error"]["message"]

    run_heat(scenario)


@pytest.mark.parametrize(("current", "adjustment", "kind", "step", "expected"), [
    (2, 1, "change_in_capacity", None, 3),
    (2, 5, "change_in_capacity", None, 4),
    (2, -5, "change_in_capacity", None, 1),
    (2, 3, "exact_capacity", None, 3),
    (3, -50, "percent_change_in_capacity", None, 2),
    (2, 10, "percent_change_in_capacity", None, 3),
    (2, 10, "percent_change_in_capacity", 2, 4),
])
def test_new_capacity_is_heats(current: int, adjustment: float, kind: str,
                               step: int | None, expected: int) -> None:
    assert new_capacity(current, adjustment, kind, step, 1, 4) == expected


def test_a_group_of_template_resources_and_a_bad_member_definition() -> None:
    member = ("heat_template_version: 2018-08-31\n"
              "resources:\n  s: {type: OS::Heat::RandomString, properties: {length: 5}}\n"
              "outputs:\n  value: {value: {get_attr: [s, value]}}\n")

    async def scenario(heat: Heat) -> None:
        template = scaled()
        template["resources"]["asg"]["properties"]["resource"] = {"type": "member.yaml"}
        stack_id = (await heat.create("as", template, files={"member.yaml": member})
                    )["stack"]["id"]
        shown = await heat.until("as", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert [len(v) for v in outputs(shown)["values"]] == [5, 5]
        listed = (await heat.call("GET", "/stacks", params={"show_nested": "true"}))["stacks"]
        assert len(listed) == 4  # the stack, the group's, and one per member
        bad = scaled()
        bad["resources"]["asg"]["properties"]["resource"]["properties"]["length"] = "x"
        answer = await heat.create("bad", bad, expect=400)
        assert answer["error"]["message"].startswith(
            "Property error: resources.asg<nested_stack>.resources.member.properties.length")

    run_heat(scenario)


def test_a_new_definition_rolls_through_the_members_in_batches() -> None:
    async def scenario(heat: Heat) -> None:
        rolling = {"max_batch_size": 1, "pause_time": 5}
        stack_id = (await heat.create("as", scaled(3, rolling_updates=rolling))
                    )["stack"]["id"]
        await heat.until("as", stack_id, "CREATE_COMPLETE")
        longer = scaled(3, rolling_updates=rolling)
        longer["resources"]["asg"]["properties"]["resource"]["properties"]["length"] = 9
        started = heat.clock.now()
        await heat.call("PATCH", f"/stacks/as/{stack_id}", {"template": longer}, expect=202)
        shown = await heat.until("as", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert [len(v) for v in outputs(shown)["values"]] == [9, 9, 9]
        # Three batches, two pauses between them.
        assert heat.clock.now() - started >= 10
        res = (await heat.call("GET", f"/stacks/as/{stack_id}/resources/asg"))["resource"]
        name, nested_id = next(link["href"] for link in res["links"]
                               if link["rel"] == "nested").split("/")[-2:]
        events = (await heat.call("GET", f"/stacks/{name}/{nested_id}/events"))["events"]
        stack_updates = [e for e in events if e["resource_name"] == name
                         and e["resource_status"] == "UPDATE_COMPLETE"]
        assert len(stack_updates) == 3

    run_heat(scenario)


def test_pauses_beyond_the_stacks_timeout_fail_the_update_as_heat_does() -> None:
    async def scenario(heat: Heat) -> None:
        rolling = {"max_batch_size": 1, "pause_time": 30}
        stack_id = (await heat.create("as", scaled(3, rolling_updates=rolling),
                                      timeout_mins=1))["stack"]["id"]
        await heat.until("as", stack_id, "CREATE_COMPLETE")
        before = await members(heat, stack_id)
        longer = scaled(3, rolling_updates=rolling)
        longer["resources"]["asg"]["properties"]["resource"]["properties"]["length"] = 9
        await heat.call("PATCH", f"/stacks/as/{stack_id}", {"template": longer}, expect=202)
        shown = await heat.until("as", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        # Three batches, two pauses of 30 s: not within the stack's minute.
        assert shown["stack_status"] == "UPDATE_FAILED"
        assert shown["stack_status_reason"].endswith(
            "ValueError: resources.asg: The current update policy will result in stack "
            "update timeout.")
        assert await members(heat, stack_id) == before

    run_heat(scenario)


async def _nested(heat: Heat, stack_id: str) -> tuple[str, str]:
    res = (await heat.call("GET", f"/stacks/as/{stack_id}/resources/asg"))["resource"]
    name, nested_id = next(link["href"] for link in res["links"]
                           if link["rel"] == "nested").split("/")[-2:]
    return name, nested_id


def test_failed_members_are_the_first_removed_and_the_first_replaced() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("as", scaled(3, max_size=4)))["stack"]["id"]
        await heat.until("as", stack_id, "CREATE_COMPLETE")
        oldest, middle, newest = await members(heat, stack_id)
        name, nested_id = await _nested(heat, stack_id)
        # heat's grouputils: a FAILED member (here CHECK_FAILED) comes before the oldest.
        await heat.call("PATCH", f"/stacks/{name}/{nested_id}/resources/{newest}",
                        {"mark_unhealthy": True, "resource_status_reason": "broken"})
        await heat.call("POST", f"/stacks/as/{stack_id}/resources/down/signal",
                        expect=200)
        await heat.settle(10)
        assert await members(heat, stack_id) == [oldest, middle]
        # In a rolling update a failed member is the first to take the new definition.
        await heat.call("PATCH", f"/stacks/{name}/{nested_id}/resources/{middle}",
                        {"mark_unhealthy": True, "resource_status_reason": "broken"})
        rolling = {"max_batch_size": 1, "pause_time": 100}
        longer = scaled(2, max_size=4, rolling_updates=rolling)
        longer["resources"]["asg"]["properties"]["resource"]["properties"]["length"] = 9
        await heat.call("PATCH", f"/stacks/as/{stack_id}", {"template": longer}, expect=202)
        await heat.settle(20)
        held = heat.cloud.orchestration.store.stack(nested_id).template["resources"]
        assert {n: d["properties"]["length"] for n, d in held.items()} == {
            oldest: 6, middle: 9}
        shown = await heat.until("as", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]

    run_heat(scenario)


def test_min_in_service_keeps_the_members_in_service_by_making_new_ones_first() -> None:
    async def scenario(heat: Heat) -> None:
        rolling = {"max_batch_size": 1, "min_in_service": 3, "pause_time": 30}
        stack_id = (await heat.create("as", scaled(3, rolling_updates=rolling))
                    )["stack"]["id"]
        await heat.until("as", stack_id, "CREATE_COMPLETE")
        before = await members(heat, stack_id)
        longer = scaled(3, rolling_updates=rolling)
        longer["resources"]["asg"]["properties"]["resource"]["properties"]["length"] = 9
        await heat.call("PATCH", f"/stacks/as/{stack_id}", {"template": longer}, expect=202)
        await heat.settle(10)
        # heat's batches for 3 members, 1 at a time, 3 in service: (4, 1) three times,
        # then (3, 0): a fourth member first, then the old ones replaced, oldest first.
        during = await members(heat, stack_id)
        assert len(during) == 4 and set(before) < set(during)
        shown = await heat.until("as", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert [len(v) for v in outputs(shown)["values"]] == [9, 9, 9]
        after = await members(heat, stack_id)
        # The two oldest were replaced (a replaced member counts as new); the group
        # shrank back to 3 by removing the oldest left, the third.
        assert len(after) == 3 and set(after) & set(before) == set(before[:2])

    run_heat(scenario)
