"""Template resources and OS::Heat::Stack: nested stacks that are real stacks (own id,
parent, ``<stack>-<resource>-<random>`` names), their outputs as the resource's
attributes, updated and deleted with their parent; heat's 400s for a template resource
whose file is missing and for nesting beyond max_nested_stack_depth."""

from __future__ import annotations

from typing import Any

import yaml

from unit.orchestration.heat_calls import Heat, run_heat

SERVER = yaml.safe_dump({
    "heat_template_version": "2018-08-31",
    "parameters": {"prefix": {"type": "string"}, "length": {"type": "number",
                                                            "default": 8}},
    "resources": {"word": {"type": "OS::Heat::RandomString",
                           "properties": {"length": {"get_param": "length"}}},
                  "name": {"type": "OS::Heat::Value", "properties": {"value": {
                      "list_join": ["-", [{"get_param": "prefix"},
                                          {"get_attr": ["word", "value"]}]]}}}},
    "outputs": {"name": {"value": {"get_attr": ["name", "value"]}},
                "length": {"value": {"get_param": "length"}}}})


def parent(length: int = 8) -> dict[str, Any]:
    return {"heat_template_version": "2018-08-31", "resources": {
        "direct": {"type": "server.yaml", "properties": {"prefix": "d", "length": length}},
        "mapped": {"type": "My::Server", "properties": {"prefix": "m"}}},
        "outputs": {"direct": {"value": {"get_attr": ["direct", "name"]}},
                    "length": {"value": {"get_attr": ["direct", "length"]}},
                    "mapped_id": {"value": {"get_attr": ["mapped", "OS::stack_id"]}}}}


ENV = {"resource_registry": {"My::Server": "server.yaml"}}


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


def test_template_resources_make_nested_stacks_updated_and_deleted_with_their_parent(
        ) -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("top", parent(), files={"server.yaml": SERVER},
                                      environment=ENV))["stack"]["id"]
        shown = await heat.until("top", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        out = outputs(shown)
        assert out["direct"].startswith("d-") and len(out["direct"]) == 10
        assert out["length"] == 8
        listed = (await heat.call("GET", "/stacks", params={"show_nested": "true"}))["stacks"]
        nested = [s for s in listed if s["parent"] == stack_id]
        assert sorted(s["stack_name"].rsplit("-", 1)[0] for s in nested) == [
            "top-direct", "top-mapped"]
        assert all(len(s["stack_name"].rsplit("-", 1)[1]) == 12 for s in nested)
        assert out["mapped_id"] in {s["id"] for s in nested}
        assert {s["id"] for s in (await heat.call("GET", "/stacks"))["stacks"]} == {stack_id}
        res = (await heat.call("GET", f"/stacks/top/{stack_id}/resources/mapped"))["resource"]
        assert res["physical_resource_id"] == out["mapped_id"]
        assert res["resource_type"] == "My::Server"
        assert {"href": res["links"][-1]["href"], "rel": "nested"} == res["links"][-1]
        # Nested resources (depth 1) name their parent resource and their stack.
        deep = (await heat.call("GET", f"/stacks/top/{stack_id}/resources",
                                params={"nested_depth": "1"}))["resources"]
        inner = [r for r in deep if r.get("parent_resource") == "direct"]
        assert sorted(r["resource_name"] for r in inner) == ["name", "word"]
        assert all(r["links"][1]["href"].split("/")[-2].startswith("top-direct-")
                   for r in inner)
        # The nested stack's own events are there.
        child = next(s for s in nested if s["stack_name"].startswith("top-direct-"))
        events = (await heat.call("GET", f"/stacks/{child['stack_name']}/{child['id']}/"
                                  "events"))["events"]
        assert {"word", "name"} <= {e["resource_name"] for e in events}
        # An update reaches the nested stack (its parameter changed).
        await heat.call("PATCH", f"/stacks/top/{stack_id}", {"template": parent(12)},
                        expect=202)
        shown = await heat.until("top", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert outputs(shown)["length"] == 12
        assert len(outputs(shown)["direct"]) == 14
        child_now = await heat.stack(child["stack_name"], child["id"])
        assert child_now["stack_status"] == "UPDATE_COMPLETE"
        # A new template resource from a new file and registry entry, made by an update.
        more = parent(12)
        more["resources"]["extra"] = {"type": "My::Other", "properties": {"prefix": "x"}}
        more["outputs"]["extra"] = {"value": {"get_attr": ["extra", "name"]}}
        await heat.call("PATCH", f"/stacks/top/{stack_id}", {
            "template": more, "files": {"other.yaml": SERVER},
            "environment": {"resource_registry": {"My::Other": "other.yaml"}}}, expect=202)
        shown = await heat.until("top", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        assert outputs(shown)["extra"].startswith("x-")
        # Deleting the parent deletes the nested stacks.
        await heat.call("DELETE", f"/stacks/top/{stack_id}", expect=204)
        await heat.settle(10)
        listed = (await heat.call("GET", "/stacks", params={"show_nested": "true"}))["stacks"]
        assert listed == []

    run_heat(scenario)


def test_os_heat_stack_makes_a_stack_of_its_own_with_its_outputs() -> None:
    async def scenario(heat: Heat) -> None:
        template = {"heat_template_version": "2018-08-31", "resources": {"inner": {
            "type": "OS::Heat::Stack", "properties": {
                "template": SERVER, "parameters": {"prefix": "s", "length": 4}}}},
            "outputs": {"name": {"value": {"get_attr": ["inner", "outputs", "name"]}}}}
        stack_id = (await heat.create("outer", template))["stack"]["id"]
        shown = await heat.until("outer", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert outputs(shown)["name"].startswith("s-") and len(outputs(shown)["name"]) == 6
        listed = (await heat.call("GET", "/stacks"))["stacks"]
        assert sorted(s["stack_name"].rsplit("-", 1)[0] for s in listed) == [
            "outer", "outer-inner"]
        await heat.call("DELETE", f"/stacks/outer/{stack_id}", expect=204)
        await heat.settle(10)
        assert (await heat.call("GET", "/stacks"))["stacks"] == []

    run_heat(scenario)


def test_a_missing_template_file_and_too_deep_a_nesting_are_refused_400() -> None:
    async def scenario(heat: Heat) -> None:
        answer = await heat.create("bad", parent(), environment=ENV, expect=400)
        assert answer["error"]["message"] == (
            'Could not fetch remote template "server.yaml": Invalid URL scheme ')
        assert answer["error"]["type"] == "StackValidationFailed"
        loop = yaml.safe_dump({"heat_template_version": "2018-08-31", "resources": {
            "again": {"type": "loop.yaml"}}})
        answer = await heat.create("deep", yaml.safe_load(loop), files={"loop.yaml": loop},
                                   expect=400)
        message = answer["error"]["message"]
        assert message.startswith("RequestLimitExceeded: resources.again<loop.yaml>.")
        assert message.endswith("Request limit exceeded: Recursion depth exceeds 5.")
        assert message.count("again<loop.yaml>") == 6
        answer = await heat.create("prop", parent(), files={"server.yaml": SERVER},
                                   environment={"resource_registry": {
                                       "My::Server": "server.yaml"}}, expect=201)
        bad = parent()
        bad["resources"]["direct"]["properties"]["nope"] = 1
        answer = await heat.create("prop2", bad, files={"server.yaml": SERVER},
                                   environment=ENV, expect=400)
        assert "Unknown Property nope" in answer["error"]["message"]

    run_heat(scenario)
