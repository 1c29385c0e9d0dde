"""One action on a stack: the timeout, deletion policies, conditions, outputs' errors,
cancel_update with its rollback."""

from __future__ import annotations

from unit.orchestration.heat_calls import Heat, run_heat


def test_a_create_past_timeout_mins_fails_as_heat_says() -> None:
    slow = {"heat_template_version": "2018-08-31", "resources": {
        "slow": {"type": "OS::Heat::TestResource", "properties": {
            "action_wait_secs": {"create": 300}}}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("late", slow, timeout_mins=1))["stack"]["id"]
        shown = await heat.until("late", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status_reason"] == "Create timed out"
        assert shown["timeout_mins"] == 1
        (res,) = (await heat.call("GET", f"/stacks/late/{stack_id}/resources"))["resources"]
        assert (res["resource_status"], res["resource_status_reason"]) == (
            "CREATE_FAILED", "CREATE aborted")

    run_heat(scenario)


def test_retain_keeps_nothing_from_the_delete_but_says_so() -> None:
    template = {"heat_template_version": "2018-08-31", "resources": {
        "kept": {"type": "OS::Heat::TestResource", "deletion_policy": "Retain"},
        "gone": {"type": "OS::Heat::TestResource"}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("ret", template))["stack"]["id"]
        await heat.until("ret", stack_id, "CREATE_COMPLETE")
        await heat.call("DELETE", f"/stacks/ret/{stack_id}", expect=204)
        await heat.settle(5)
        events = [(e.resource_name, e.action, e.status)
                  for e in heat.cloud.orchestration.events(stack_id)]
        assert ("kept", "DELETE", "COMPLETE") in events
        assert events[-1] == ("ret", "DELETE", "COMPLETE")

    run_heat(scenario)


def test_conditions_and_an_outputs_error() -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"env": {"type": "string", "default": "dev"}},
        "conditions": {"prod": {"equals": [{"get_param": "env"}, "prod"]}},
        "resources": {
            "always": {"type": "OS::Heat::Value", "properties": {"value": "a"}},
            "only_prod": {"type": "OS::Heat::Value", "condition": "prod",
                          "properties": {"value": "p"}}},
        "outputs": {
            "fine": {"value": {"get_attr": ["always", "value"]}},
            "joined": {"value": {"list_join": [",", {"get_attr": ["always", "value"]}]}}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("cond", template))["stack"]["id"]
        shown = await heat.until("cond", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        names = [r["resource_name"] for r in (await heat.call(
            "GET", f"/stacks/cond/{stack_id}/resources"))["resources"]]
        assert names == ["always"]
        outputs = {o["output_key"]: o for o in shown["outputs"]}
        assert outputs["fine"]["output_value"] == "a"
        assert outputs["joined"]["output_value"] is None
        assert "list_join" in outputs["joined"]["output_error"]
        # Flipping the condition on update adds the resource.
        await heat.call("PATCH", f"/stacks/cond/{stack_id}",
                        {"parameters": {"env": "prod"}}, expect=202)
        await heat.until("cond", stack_id, "UPDATE_COMPLETE")
        names = [r["resource_name"] for r in (await heat.call(
            "GET", f"/stacks/cond/{stack_id}/resources"))["resources"]]
        assert sorted(names) == ["always", "only_prod"]

    run_heat(scenario)


def test_cancel_update_fails_it_and_rolls_back() -> None:
    first = {"heat_template_version": "2018-08-31", "resources": {
        "a": {"type": "OS::Heat::TestResource", "properties": {"value": "one"}}}}
    slow = {"heat_template_version": "2018-08-31", "resources": {
        "a": {"type": "OS::Heat::TestResource", "properties": {
            "value": "two", "action_wait_secs": {"update": 300}}}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("cu", first))["stack"]["id"]
        await heat.until("cu", stack_id, "CREATE_COMPLETE")
        await heat.call("PUT", f"/stacks/cu/{stack_id}", {"template": slow}, expect=202)
        await heat.settle(3)
        assert (await heat.stack("cu", stack_id))["stack_status"] == "UPDATE_IN_PROGRESS"
        await heat.call("POST", f"/stacks/cu/{stack_id}/actions", {"cancel_update": None})
        shown = await heat.until("cu", stack_id, "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
        assert shown["stack_status_reason"] == "Stack ROLLBACK completed successfully"
        events = [(e.resource_name, e.action, e.status, e.reason)
                  for e in heat.cloud.orchestration.events(stack_id)
                  if e.resource_name == "cu"]
        assert ("cu", "UPDATE", "FAILED", "Stack UPDATE cancelled") in events
        assert (await heat.call("GET", f"/stacks/cu/{stack_id}/template")) == first
        refused = await heat.request("POST", f"/stacks/cu/{stack_id}/actions",
                                     {"cancel_update": None})
        assert refused.status_code == 400

    run_heat(scenario)
