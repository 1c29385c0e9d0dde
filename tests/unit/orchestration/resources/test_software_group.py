"""OS::Heat::SoftwareDeploymentGroup: a deployment per entry of ``servers`` in a nested
stack named by the map's keys, its attributes maps of those names."""

from __future__ import annotations

from typing import Any

from unit.orchestration.heat_calls import Heat, run_heat

CONFIG = {"type": "OS::Heat::SoftwareConfig", "properties": {
    "group": "script", "config": "#!/bin/sh\necho $who > $heat_outputs_path.result",
    "inputs": [{"name": "who"}], "outputs": [{"name": "result"}]}}


def group(servers: dict[str, str], transport: str = "CFN_SIGNAL") -> dict[str, Any]:
    return {"heat_template_version": "2018-08-31", "resources": {
        "config": CONFIG,
        "deploys": {"type": "OS::Heat::SoftwareDeploymentGroup", "properties": {
            "config": {"get_resource": "config"}, "servers": servers,
            "input_values": {"who": "all"}, "signal_transport": transport}}},
        "outputs": {"results": {"value": {"get_attr": ["deploys", "result"]}},
                    "codes": {"value": {"get_attr": ["deploys", "deploy_status_codes"]}},
                    "stdouts": {"value": {"get_attr": ["deploys", "deploy_stdouts"]}}}}


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def test_each_server_gets_a_deployment_and_its_signal_fills_the_maps() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("g", group({"a": "srv-a", "b": "srv-b"})))[
            "stack"]["id"]
        await heat.settle(5)
        rows = (await heat.call("GET", f"/stacks/g/{stack_id}/resources",
                                params={"nested_depth": 1}))["resources"]
        members = {r["resource_name"]: r for r in rows
                   if r["resource_type"] == "OS::Heat::SoftwareDeployment"}
        assert set(members) == {"a", "b"}
        for name, server in (("a", "srv-a"), ("b", "srv-b")):
            deployment = (await heat.call(
                "GET", f"/software_deployments/{members[name]['physical_resource_id']}"))[
                "software_deployment"]
            assert (deployment["server_id"], deployment["status"]) == (server,
                                                                      "IN_PROGRESS")
            derived = (await heat.call(
                "GET", f"/software_configs/{deployment['config_id']}"))["software_config"]
            inputs = {i["name"]: i.get("value") for i in derived["inputs"]}
            assert inputs["who"] == "all" and inputs["deploy_resource_name"] == name
            answer = await heat.client.post(
                inputs["deploy_signal_id"].removeprefix("http://testserver"),
                json={"deploy_stdout": f"out-{name}", "deploy_status_code": 0,
                      "result": f"done-{name}"})
            assert answer.status_code == 200, answer.text
        shown = await heat.until("g", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert outputs(shown) == {"results": {"a": "done-a", "b": "done-b"},
                                  "codes": {"a": 0, "b": 0},
                                  "stdouts": {"a": "out-a", "b": "out-b"}}

        # A server removed from the map loses its deployment; a new one gets one.
        await heat.call("PATCH", f"/stacks/g/{stack_id}", {
            "template": group({"a": "srv-a", "c": "srv-c"}, "NO_SIGNAL")}, expect=202)
        shown = await heat.until("g", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        servers = {d["server_id"] for d in (await heat.call(
            "GET", "/software_deployments"))["software_deployments"]}
        assert servers == {"srv-a", "srv-c"}
        await heat.call("DELETE", f"/stacks/g/{stack_id}", expect=204)
        await heat.settle(10)
        assert (await heat.call("GET", "/software_deployments"))["software_deployments"] == []

    run_heat(scenario)


def test_a_group_without_servers_is_refused() -> None:
    async def scenario(heat: Heat) -> None:
        template = group({})
        del template["resources"]["deploys"]["properties"]["servers"]
        refused = await heat.create("bad", template, expect=400)
        assert refused["error"]["message"] == (
            "Property error: resources.deploys.properties: Property servers not assigned")

    run_heat(scenario)


def _with_policy(servers: dict[str, str], who: str, policy: dict[str, Any]
                 ) -> dict[str, Any]:
    template = group(servers, "NO_SIGNAL")
    template["resources"]["deploys"]["properties"]["input_values"] = {"who": who}
    template["resources"]["deploys"]["update_policy"] = policy
    return template


def _whos(heat: Heat, stack_id: str) -> dict[str, str]:
    """The nested stack's deployments: name -> the ``who`` its definition gives now."""
    store = heat.cloud.orchestration.store
    group_id = store.resources(stack_id)["deploys"].physical_id
    resources = store.stack(group_id).template["resources"]
    return {n: d["properties"]["input_values"]["who"] for n, d in resources.items()}


def test_update_policy_batches_the_creates_and_rolls_the_updates_as_a_resource_group(
        ) -> None:
    servers = {"a": "srv-a", "b": "srv-b", "c": "srv-c"}
    policy = {"batch_create": {"max_batch_size": 2, "pause_time": 30},
              "rolling_update": {"max_batch_size": 1, "pause_time": 30}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("g", _with_policy(servers, "all", policy)))[
            "stack"]["id"]
        await heat.settle(10)
        assert _whos(heat, stack_id) == {"a": "all", "b": "all"}
        assert (await heat.stack("g", stack_id))["stack_status"] == "CREATE_IN_PROGRESS"
        shown = await heat.until("g", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert _whos(heat, stack_id) == {"a": "all", "b": "all", "c": "all"}

        await heat.call("PATCH", f"/stacks/g/{stack_id}", {
            "template": _with_policy(servers, "some", policy)}, expect=202)
        await heat.settle(10)
        # One at a time, the last named first (a ResourceGroup's highest index).
        assert _whos(heat, stack_id) == {"a": "all", "b": "all", "c": "some"}
        await heat.settle(30)
        assert _whos(heat, stack_id) == {"a": "all", "b": "some", "c": "some"}
        shown = await heat.until("g", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert _whos(heat, stack_id) == {"a": "some", "b": "some", "c": "some"}

        # Its pauses too must end within the stack's timeout.
        made = (await heat.create("late", _with_policy(servers, "all", {
            "batch_create": {"max_batch_size": 1, "pause_time": 30}}), timeout_mins=1)
            )["stack"]["id"]
        shown = await heat.until("late", made, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status_reason"].endswith(
            "The current update policy will result in stack update timeout.")

    run_heat(scenario)


def test_an_unknown_update_policy_key_is_refused() -> None:
    async def scenario(heat: Heat) -> None:
        refused = await heat.create("bad", _with_policy({"a": "srv-a"}, "all", {
            "rolling_update": {"min_in_service": 1}}), expect=400)
        # heat's SoftwareDeploymentGroup keeps no member in service while replacing.
        assert refused["error"]["message"] == (
            "Property error: resources.deploys.update_policy.rolling_update: Unknown "
            "Property min_in_service")

    run_heat(scenario)
