"""Abandon and adopt as heat serves them: both behind heat's ``enable_stack_abandon`` and
``enable_stack_adopt`` (off upstream, on in the lab), an abandon taking the nested stacks
with it, an adopt taking the physical ids the data names without making anything."""

from __future__ import annotations

import json
from typing import Any

import yaml

from support.inprocess import ephemeral_config
from unit.orchestration.heat_calls import Heat, run_heat

V = "2018-08-31"
INNER = yaml.safe_dump({"heat_template_version": V,
                        "resources": {"word": {"type": "OS::Heat::RandomString",
                                               "properties": {"length": 8}}},
                        "outputs": {"word": {"value": {"get_attr": ["word", "value"]}}}})
TEMPLATE = {"heat_template_version": V,
            "resources": {"net": {"type": "OS::Neutron::Net", "properties": {"name": "kept"}},
                          "inner": {"type": "inner.yaml"}},
            "outputs": {"word": {"value": {"get_attr": ["inner", "word"]}},
                        "net": {"value": {"get_resource": "net"}}}}
FILES = {"inner.yaml": INNER}


async def _networks(heat: Heat) -> list[str]:
    answer = await heat.client.get("/networking/v2.0/networks", params={"name": "kept"},
                                   headers={"X-Auth-Token": heat.token})
    return sorted(n["id"] for n in answer.json()["networks"])


def _outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def test_abandon_takes_the_nested_stacks_and_adopt_takes_the_resources_back() -> None:
    async def scenario(heat: Heat) -> None:
        made = (await heat.create("a", TEMPLATE, files=FILES))["stack"]["id"]
        shown = await heat.until("a", made, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        before = _outputs(shown)
        nested = (await heat.call("GET", "/stacks", params={"show_nested": True}))["stacks"]
        assert len(nested) == 2
        data = await heat.call("DELETE", f"/stacks/a/{made}/abandon")
        assert set(data) >= {"id", "name", "action", "status", "template", "files",
                             "environment", "resources", "project_id", "tags"}
        assert data["resources"]["net"]["resource_id"] == before["net"]
        # heat's StackResource.prepare_abandon: the nested stack's own data.
        inner = data["resources"]["inner"]
        assert inner["resources"]["word"]["type"] == "OS::Heat::RandomString"
        assert inner["resources"]["word"]["resource_data"]["value"] == before["word"]
        # Both stacks gone, nothing they made deleted.
        assert (await heat.call("GET", "/stacks", params={"show_nested": True}))[
            "stacks"] == []
        assert await _networks(heat) == [before["net"]]

        answer = await heat.call("POST", "/stacks", {
            "stack_name": "b", "adopt_stack_data": json.dumps(data), "files": data["files"],
            "disable_rollback": True}, expect=201)
        adopted = answer["stack"]["id"]
        shown = await heat.until("b", adopted, "ADOPT_COMPLETE", "ADOPT_FAILED")
        assert shown["stack_status"] == "ADOPT_COMPLETE", shown["stack_status_reason"]
        assert shown["stack_status_reason"] == "Stack ADOPT completed successfully"
        assert _outputs(shown) == before
        assert await _networks(heat) == [before["net"]]
        listed = (await heat.call("GET", f"/stacks/b/{adopted}/resources",
                                  params={"nested_depth": 1}))["resources"]
        assert sorted((r["resource_name"], r["resource_status"]) for r in listed) == [
            ("inner", "ADOPT_COMPLETE"), ("net", "ADOPT_COMPLETE"), ("word", "ADOPT_COMPLETE")]
        # Adopted, the resources are the stack's: deleting it deletes them.
        await heat.call("DELETE", f"/stacks/b/{adopted}", expect=204)
        await heat.settle(10)
        assert (await heat.request("GET", f"/stacks/b/{adopted}")).status_code == 404
        assert await _networks(heat) == []

    run_heat(scenario)


def test_an_adopt_without_a_resource_id_fails_or_rolls_back_as_an_abandon() -> None:
    async def scenario(heat: Heat) -> None:
        template = {"heat_template_version": V, "resources": {
            "v": {"type": "OS::Heat::Value", "properties": {"value": "x"}}}}
        data = {"template": template, "resources": {"v": {"name": "v"}}}
        answer = await heat.call("POST", "/stacks", {
            "stack_name": "f", "adopt_stack_data": json.dumps(data)}, expect=201)
        shown = await heat.until("f", answer["stack"]["id"], "ADOPT_FAILED")
        assert shown["stack_status_reason"] == (
            "Resource ADOPT failed: Exception: resources.v: Resource ID was not provided.")
        answer = await heat.call("POST", "/stacks", {
            "stack_name": "r", "adopt_stack_data": yaml.safe_dump(data),
            "disable_rollback": False}, expect=201)
        shown = await heat.until("r", answer["stack"]["id"], "ROLLBACK_COMPLETE",
                                 "ROLLBACK_FAILED")
        assert shown["stack_status"] == "ROLLBACK_COMPLETE"
        bad = await heat.call("POST", "/stacks", {"stack_name": "x",
                                                  "adopt_stack_data": "{}"}, expect=400)
        assert bad["error"]["message"] == "Invalid adopt data: 'template'"

    run_heat(scenario)


def test_abandon_and_adopt_are_refused_as_heat_does_by_default() -> None:
    config = ephemeral_config()
    config.DEFAULT.enable_stack_abandon = False
    config.DEFAULT.enable_stack_adopt = False

    async def scenario(heat: Heat) -> None:
        template = {"heat_template_version": V, "resources": {}}
        made = (await heat.create("s", template))["stack"]["id"]
        await heat.until("s", made, "CREATE_COMPLETE")
        refused = await heat.call("DELETE", f"/stacks/s/{made}/abandon", expect=400)
        assert refused["error"]["message"] == "Stack Abandon is not supported."
        assert refused["error"]["type"] == "NotSupported"
        refused = await heat.call("POST", "/stacks", {
            "stack_name": "t", "adopt_stack_data": json.dumps({"template": template})},
            expect=400)
        assert refused["error"]["message"] == "Stack Adopt is not supported."
        assert (await heat.stack("s", made))["stack_status"] == "CREATE_COMPLETE"

    run_heat(scenario, config)
