"""heat.conf's [DEFAULT] limits as the engine applies them (heat's service.py and
stack_resource.py): each a 400 ``RequestLimitExceeded`` in heat's words, each set from the
options."""

from __future__ import annotations

import json
from typing import Any

import yaml

from support.inprocess import ephemeral_config
from unit.orchestration.heat_calls import Heat, run_heat

V = "2018-08-31"


def _values(count: int) -> dict[str, Any]:
    return {"heat_template_version": V, "resources": {
        f"v{i}": {"type": "OS::Heat::Value", "properties": {"value": "x"}}
        for i in range(count)}}


def _limited(**options: int) -> Any:
    config = ephemeral_config()
    for name, value in options.items():
        setattr(config.DEFAULT, name, value)
    return config


def test_the_options_default_to_heats() -> None:
    config = ephemeral_config()
    assert (config.DEFAULT.max_template_size, config.DEFAULT.max_nested_stack_depth,
            config.DEFAULT.max_resources_per_stack,
            config.DEFAULT.max_stacks_per_tenant) == (524288, 5, 1000, 512)


def test_max_stacks_per_tenant_refuses_a_projects_next_stack_not_an_admins() -> None:
    async def scenario(heat: Heat) -> None:
        token, project = await heat.member("alice")
        await heat.call("POST", "/stacks", {"stack_name": "a", "template": _values(1)},
                        expect=201, token=token, project=project)
        refused = await heat.call("POST", "/stacks", {"stack_name": "b",
                                                      "template": _values(1)},
                                  expect=400, token=token, project=project)
        assert refused["error"]["type"] == "RequestLimitExceeded"
        assert refused["error"]["message"] == (
            "Request limit exceeded: You have reached the maximum stacks per tenant, 1. "
            "Please delete some stacks.")
        # heat does not count for an admin.
        for name in ("c", "d"):
            await heat.create(name, _values(1))

    run_heat(scenario, _limited(max_stacks_per_tenant=1))


def test_max_resources_per_stack_counts_the_templates_resources() -> None:
    async def scenario(heat: Heat) -> None:
        await heat.create("two", _values(2))
        refused = await heat.create("three", _values(3), expect=400)
        assert refused["error"]["type"] == "RequestLimitExceeded"
        assert refused["error"]["message"] == (
            "Request limit exceeded: Maximum resources per stack exceeded.")

    run_heat(scenario, _limited(max_resources_per_stack=2))


def test_max_resources_per_stack_minus_one_lifts_the_limit() -> None:
    async def scenario(heat: Heat) -> None:
        await heat.create("many", _values(3))

    run_heat(scenario, _limited(max_resources_per_stack=-1))


def test_max_template_size_refuses_a_longer_template() -> None:
    async def scenario(heat: Heat) -> None:
        text = json.dumps(_values(3))
        refused = await heat.create("big", text, expect=400)
        assert refused["error"]["message"] == (
            f"Request limit exceeded: Template size ({len(text)} bytes) exceeds maximum "
            "allowed size (100 bytes).")
        checked = await heat.call("POST", "/validate", {"template": text}, expect=400)
        assert "exceeds maximum allowed size (100 bytes)" in checked["error"]["message"]

    run_heat(scenario, _limited(max_template_size=100))


def test_max_nested_stack_depth_bounds_template_resources() -> None:
    inner = yaml.safe_dump(_values(1))
    middle = yaml.safe_dump({"heat_template_version": V, "resources": {
        "b": {"type": "inner.yaml"}}})
    top = {"heat_template_version": V, "resources": {"a": {"type": "middle.yaml"}}}
    files = {"inner.yaml": inner, "middle.yaml": middle}

    async def scenario(heat: Heat) -> None:
        refused = await heat.create("deep", top, files=files, expect=400)
        assert refused["error"]["message"].endswith(
            "Request limit exceeded: Recursion depth exceeds 1.")
        await heat.create("shallow", {"heat_template_version": V, "resources": {
            "b": {"type": "inner.yaml"}}}, files=files)

    run_heat(scenario, _limited(max_nested_stack_depth=1))


def test_max_nested_stack_depth_bounds_os_heat_stack() -> None:
    again = yaml.safe_dump({"heat_template_version": V, "resources": {"again": {
        "type": "OS::Heat::Stack", "properties": {"template": {"get_file": "self.yaml"}}}}})

    async def scenario(heat: Heat) -> None:
        made = await heat.create("deep", yaml.safe_load(again), files={"self.yaml": again})
        shown = await heat.until("deep", made["stack"]["id"], "CREATE_COMPLETE",
                                 "CREATE_FAILED")
        assert shown["stack_status_reason"].endswith(
            "Request limit exceeded: Recursion depth exceeds 2.")
        assert len((await heat.call("GET", "/stacks"))["stacks"]) == 3

    run_heat(scenario, _limited(max_nested_stack_depth=2))


def test_max_json_body_size_bounds_heat_apis_bodies_not_oslo_middlewares_limit() -> None:
    async def scenario(heat: Heat) -> None:
        body = {"stack_name": "big", "template": _values(1)}
        size = len(json.dumps(body, separators=(",", ":")).encode())  # as httpx sends it
        answer = await heat.request("POST", "/stacks", body)
        assert answer.status_code == 400
        assert answer.json()["error"]["type"] == "RequestLimitExceeded"
        assert answer.json()["error"]["message"] == (
            f"Request limit exceeded: JSON body size ({size} bytes) exceeds maximum "
            "allowed size (100 bytes).")

    run_heat(scenario, _limited(max_json_body_size=100))


def test_a_body_beyond_oslo_middlewares_limit_is_heats_to_take() -> None:
    async def scenario(heat: Heat) -> None:
        # heat-api has no sizelimit middleware: 150 KiB is within max_json_body_size.
        template = {**_values(1), "description": "x" * 150000}
        made = (await heat.create("long", template))["stack"]["id"]
        await heat.until("long", made, "CREATE_COMPLETE")

    run_heat(scenario)


def _group(count: int) -> dict[str, Any]:
    return {"heat_template_version": V, "resources": {"g": {
        "type": "OS::Heat::ResourceGroup", "properties": {"count": count, "resource_def": {
            "type": "OS::Heat::Value", "properties": {"value": "x"}}}}}}


def test_max_resources_per_stack_counts_the_nested_stacks_too() -> None:
    exceeded = "Request limit exceeded: Maximum resources per stack exceeded."

    async def scenario(heat: Heat) -> None:
        # The group and its two members: three.
        made = (await heat.create("fits", _group(2)))["stack"]["id"]
        shown = await heat.until("fits", made, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        await heat.call("PATCH", f"/stacks/fits/{made}", {"template": _group(3)},
                        expect=202)
        shown = await heat.until("fits", made, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_FAILED"
        assert shown["stack_status_reason"].endswith(exceeded)
        other = (await heat.create("over", _group(3)))["stack"]["id"]
        shown = await heat.until("over", other, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_FAILED"
        assert shown["stack_status_reason"].endswith(exceeded)

    run_heat(scenario, _limited(max_resources_per_stack=3))
