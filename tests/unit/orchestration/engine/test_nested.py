"""engine.nested: which plugin serves a type, the checks of template resources' nested
templates before any action (custom constraints, unknown properties, a missing file,
max_nested_stack_depth), and nested stacks two levels deep, rolled back with their
parent."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from stacklab.orchestration import template as tpl
from stacklab.orchestration.engine.nested import (
    check_resources,
    child_parameters,
    plugin_for,
    resolved_type,
)
from stacklab.orchestration.resources.plugins.heat import RandomString
from stacklab.orchestration.resources.plugins.nested import TemplateResource
from unit.orchestration.heat_calls import Heat, run_heat

V = "2018-08-31"
LEAF = yaml.safe_dump({"heat_template_version": V,
                       "parameters": {"flavor": {"type": "string", "constraints": [
                           {"custom_constraint": "nova.flavor"}]},
                                      "tags": {"type": "comma_delimited_list",
                                               "default": []}},
                       "resources": {"v": {"type": "OS::Heat::Value", "properties": {
                           "value": {"get_param": "flavor"}}}},
                       "outputs": {"flavor": {"value": {"get_attr": ["v", "value"]}},
                                   "tags": {"value": {"get_param": "tags"}}}})
MIDDLE = yaml.safe_dump({"heat_template_version": V,
                         "parameters": {"flavor": {"type": "string"}},
                         "resources": {"leaf": {"type": "leaf.yaml", "properties": {
                             "flavor": {"get_param": "flavor"}, "tags": ["a", "b"]}}},
                         "outputs": {"flavor": {"value": {"get_attr": ["leaf", "flavor"]}},
                                     "tags": {"value": {"get_attr": ["leaf", "tags"]}}}})
FILES = {"leaf.yaml": LEAF, "middle.yaml": MIDDLE}


def top(flavor: str, *, fail: bool = False) -> dict[str, Any]:
    resources: dict[str, Any] = {"mid": {"type": "middle.yaml",
                                         "properties": {"flavor": flavor}}}
    if fail:
        resources["broken"] = {"type": "OS::Heat::TestResource", "depends_on": "mid",
                               "properties": {"fail": True}}
    return {"heat_template_version": V, "resources": resources,
            "outputs": {"flavor": {"value": {"get_attr": ["mid", "flavor"]}},
                        "tags": {"value": {"get_attr": ["mid", "tags"]}}}}


def test_a_template_file_name_is_served_by_the_template_resource() -> None:
    assert plugin_for("server.yaml") is TemplateResource
    assert plugin_for("server.template") is TemplateResource
    assert plugin_for("OS::Heat::RandomString") is RandomString
    assert plugin_for("server.json") is None
    env = tpl.Environment.from_dict({"resource_registry": {"My::S": "s.yaml",
                                                           "My::R": "OS::Heat::RandomString"}})
    assert resolved_type(env, "My::S", "x") == "s.yaml"
    assert resolved_type(env, "My::R", "x") == "OS::Heat::RandomString"
    assert child_parameters({"a": ["x", "y"], "b": None, "c": {"k": 1}, "d": 2}) == {
        "a": "x,y", "c": {"k": 1}, "d": 2}


def _check(template: dict[str, Any], files: dict[str, str]) -> None:
    tmpl = tpl.parse(template, files=files)
    values = tmpl.validate_parameters(custom=lambda name, value: True, stack_name="s",
                                      stack_id="None", project_id="p")
    resolver = tpl.StackResolver(values, files)
    check_resources(tmpl, tpl.Environment(), resolver, files, lambda name, value: True)


def test_nested_templates_are_checked_with_heats_paths() -> None:
    _check(top("m1.tiny"), FILES)
    with pytest.raises(tpl.StackValidationFailed) as missing:
        _check(top("m1.tiny"), {"middle.yaml": MIDDLE})
    assert str(missing.value) == ('resources.mid<middle.yaml>: Could not fetch remote '
                                  'template "leaf.yaml": Invalid URL scheme ')
    unknown = top("m1.tiny")
    unknown["resources"]["mid"]["properties"]["size"] = 3
    with pytest.raises(tpl.StackValidationFailed) as bad:
        _check(unknown, FILES)
    assert str(bad.value) == "Property error: resources.mid.properties: Unknown Property size"
    with pytest.raises(tpl.StackValidationFailed) as required:
        _check({"heat_template_version": V, "resources": {"mid": {"type": "middle.yaml"}}},
               FILES)
    assert "flavor" in str(required.value)


def test_a_template_that_nests_itself_stops_at_max_nested_stack_depth() -> None:
    loop = yaml.safe_dump({"heat_template_version": V,
                           "resources": {"again": {"type": "loop.yaml"}}})
    with pytest.raises(tpl.StackValidationFailed) as deep:
        _check(yaml.safe_load(loop), {"loop.yaml": loop})
    assert deep.value.error == "RequestLimitExceeded"
    assert deep.value.path == ["resources", "again<loop.yaml>"] * 6
    # Five levels are fine.
    chain = {f"l{i}.yaml": yaml.safe_dump({"heat_template_version": V, "resources": {
        "next": {"type": f"l{i + 1}.yaml"}}}) for i in range(4)}
    chain["l4.yaml"] = yaml.safe_dump({"heat_template_version": V, "resources": {}})
    _check({"heat_template_version": V, "resources": {"first": {"type": "l0.yaml"}}}, chain)
    chain["l4.yaml"] = yaml.safe_dump({"heat_template_version": V, "resources": {
        "next": {"type": "l5.yaml"}}})
    chain["l5.yaml"] = chain["l0.yaml"].replace("l1.yaml", "l9.yaml")
    with pytest.raises(tpl.StackValidationFailed):
        _check({"heat_template_version": V, "resources": {"first": {"type": "l0.yaml"}}},
               chain)


def test_a_custom_constraint_of_a_nested_template_is_answered_at_create() -> None:
    async def scenario(heat: Heat) -> None:
        answer = await heat.create("n", top("m1.huge-nope"), files=FILES, expect=400)
        assert answer["error"]["message"] == (
            "resources.mid<middle.yaml>.resources.leaf<leaf.yaml>: Parameter 'flavor' is "
            "invalid: Error validating value 'm1.huge-nope': The Flavor (m1.huge-nope) "
            "could not be found.")
        stack_id = (await heat.create("n", top("m1.tiny"), files=FILES))["stack"]["id"]
        shown = await heat.until("n", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert outputs == {"flavor": "m1.tiny", "tags": ["a", "b"]}
        listed = (await heat.call("GET", f"/stacks/n/{stack_id}/resources",
                                  params={"nested_depth": "2"}))["resources"]
        assert [(r["resource_name"], r.get("parent_resource")) for r in listed] == [
            ("mid", None), ("leaf", "mid"), ("v", "leaf")]
        events = (await heat.call("GET", f"/stacks/n/{stack_id}/events",
                                  params={"nested_depth": "2"}))["events"]
        assert {"mid", "leaf", "v"} <= {e["resource_name"] for e in events}
        answer = await heat.request("GET", f"/stacks/n/{stack_id}/resources",
                                    params={"nested_depth": "x"})
        assert answer.status_code == 400

    run_heat(scenario)


def test_a_failed_create_rolls_its_nested_stacks_back() -> None:
    async def scenario(heat: Heat) -> None:
        made = await heat.create("r", top("m1.tiny", fail=True), files=FILES,
                                 disable_rollback=False)
        stack_id = made["stack"]["id"]
        shown = await heat.until("r", stack_id, "ROLLBACK_COMPLETE", "ROLLBACK_FAILED",
                                 "CREATE_FAILED")
        assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown["stack_status_reason"]
        listed = (await heat.call("GET", "/stacks", params={"show_nested": "true"}))["stacks"]
        assert [s["id"] for s in listed] == [stack_id]

    run_heat(scenario)


def test_an_os_heat_stack_that_makes_itself_stops_at_max_nested_stack_depth() -> None:
    again = yaml.safe_dump({"heat_template_version": V, "resources": {"again": {
        "type": "OS::Heat::Stack", "properties": {"template": {"get_file": "self.yaml"}}}}})

    async def scenario(heat: Heat) -> None:
        made = await heat.create("deep", yaml.safe_load(again), files={"self.yaml": again})
        shown = await heat.until("deep", made["stack"]["id"], "CREATE_COMPLETE",
                                 "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_FAILED"
        assert shown["stack_status_reason"].endswith(
            "Request limit exceeded: Recursion depth exceeds 5.")
        stacks = (await heat.call("GET", "/stacks"))["stacks"]
        # The top stack and the five it made, one in another.
        assert len(stacks) == 6

    run_heat(scenario)


def test_a_group_of_a_template_that_nests_itself_stops_at_max_nested_stack_depth() -> None:
    loop = yaml.safe_dump({"heat_template_version": V, "resources": {"g": {
        "type": "OS::Heat::ResourceGroup", "properties": {
            "count": 1, "resource_def": {"type": "loop.yaml"}}}}})
    with pytest.raises(tpl.StackValidationFailed) as deep:
        _check(yaml.safe_load(loop), {"loop.yaml": loop})
    assert deep.value.error == "RequestLimitExceeded"
    assert str(deep.value).endswith("Request limit exceeded: Recursion depth exceeds 5.")


def test_validate_and_create_check_template_resource_files_as_heat_does() -> None:
    template = {"heat_template_version": V, "resources": {"web": {"type": "web.yaml"}},
                "outputs": {}}
    ok = yaml.safe_dump({"heat_template_version": V, "resources": {}})

    async def scenario(heat: Heat) -> None:
        for files, message in (
                ({}, 'Could not fetch remote template "web.yaml": Invalid URL scheme '),
                ({"web.yaml": "resources: [unclosed"}, "Error parsing template web.yaml "),
                ({"web.yaml": "resources: {}"}, "Template format version not found.")):
            for path, body in (("/validate", {"template": template, "files": files}),
                               ("/stacks", {"stack_name": "w", "template": template,
                                            "files": files})):
                refused = await heat.call("POST", path, body, expect=400)
                assert refused["error"]["message"].startswith(message), (path, refused)
                assert refused["error"]["type"] == "StackValidationFailed"
        validated = await heat.call("POST", "/validate", {"template": template,
                                                          "files": {"web.yaml": ok}})
        assert validated["Description"] == "No description"

    run_heat(scenario)
