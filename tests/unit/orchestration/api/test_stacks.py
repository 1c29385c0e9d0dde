"""heat-api v1 in-process: stacks built by heat-engine over the bus, their resources,
events and outputs, shaped as heat's api-ref samples, errors in heat's fault format."""

from __future__ import annotations

from typing import Any

from support.apiref import assert_shape_like_sample, sample
from unit.orchestration.heat_calls import Heat, run_heat

SAMPLES = "api-ref/source/v1/samples"

RANDOM = {
    "heat_template_version": "2018-08-31",
    "description": "a random string and a test resource using it",
    "parameters": {"len": {"type": "number", "default": 10}},
    "resources": {
        "r": {"type": "OS::Heat::RandomString", "properties": {"length": {"get_param": "len"}}},
        "t": {"type": "OS::Heat::TestResource",
              "properties": {"value": {"get_attr": ["r", "value"]}, "wait_secs": 2}}},
    "outputs": {"v": {"value": {"get_attr": ["t", "output"]}, "description": "stored"},
                "ref": {"value": {"get_resource": "r"}}},
}


def heat_sample(name: str) -> Any:
    return sample("heat", f"{SAMPLES}/{name}")


async def _created(heat: Heat, name: str, template: Any, **fields: Any) -> tuple[str, dict]:
    body = await heat.create(name, template, **fields)
    stack_id = body["stack"]["id"]
    shown = await heat.until(name, stack_id, "CREATE_COMPLETE", "CREATE_FAILED",
                             "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
    return stack_id, shown


def test_a_stack_is_built_in_dependency_order_and_shown_as_heat_does() -> None:
    async def scenario(heat: Heat) -> None:
        answer = await heat.request("POST", "/stacks", {"stack_name": "s1", "template": RANDOM})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert_shape_like_sample(body, heat_sample("stack-create-response.json"))
        stack_id = body["stack"]["id"]
        # The new stack's URL is in Location too, as heat's serializer puts it.
        assert answer.headers["Location"] == body["stack"]["links"][0]["href"]
        assert body["stack"]["links"][0]["href"].endswith(
            f"/heat-api/v1/{heat.project}/stacks/s1/{stack_id}")
        shown = await heat.until("s1", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert_shape_like_sample({"stack": shown}, heat_sample("stack-show-response.json"))
        assert shown["stack_status_reason"] == "Stack CREATE completed successfully"
        assert shown["description"] == "a random string and a test resource using it"
        assert shown["parameters"]["len"] == "10"
        assert shown["parameters"]["OS::stack_id"] == stack_id
        outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert len(outputs["v"]) == 10 and outputs["ref"].startswith("s1-r-")

        listed = await heat.call("GET", "/stacks")
        assert_shape_like_sample(listed, heat_sample("stacks-list-response.json"))
        assert [s["stack_name"] for s in listed["stacks"]] == ["s1"]

        resources = await heat.call("GET", f"/stacks/s1/{stack_id}/resources")
        assert_shape_like_sample(resources, heat_sample("resources-list-response.json"))
        by_name = {r["resource_name"]: r for r in resources["resources"]}
        assert by_name["r"]["required_by"] == ["t"]
        assert by_name["t"]["resource_status"] == "CREATE_COMPLETE"
        res = await heat.call("GET", f"/stacks/s1/{stack_id}/resources/r")
        assert_shape_like_sample(res, heat_sample("resource-show-response.json"))
        assert res["resource"]["attributes"] == {"value": outputs["v"]}

        events = await heat.call("GET", f"/stacks/s1/{stack_id}/events")
        assert_shape_like_sample(events, heat_sample("events-list-response.json"))
        assert [(e["resource_name"], e["resource_status"], e["resource_status_reason"])
                for e in events["events"]] == [
            ("s1", "CREATE_IN_PROGRESS", "Stack CREATE started"),
            ("r", "CREATE_IN_PROGRESS", "state changed"),
            ("r", "CREATE_COMPLETE", "state changed"),
            ("t", "CREATE_IN_PROGRESS", "state changed"),
            ("t", "CREATE_COMPLETE", "state changed"),
            ("s1", "CREATE_COMPLETE", "Stack CREATE completed successfully")]
        event = events["events"][1]
        shown_event = await heat.call("GET", f"/stacks/s1/{stack_id}/resources/r/events/"
                                      f"{event['id']}")
        assert_shape_like_sample(shown_event, heat_sample("event-show-response.json"))
        assert shown_event["event"]["resource_type"] == "OS::Heat::RandomString"

        outputs_list = await heat.call("GET", f"/stacks/s1/{stack_id}/outputs")
        assert_shape_like_sample(outputs_list, heat_sample("stack-outputs-list-response.json"))
        output = await heat.call("GET", f"/stacks/s1/{stack_id}/outputs/v")
        assert output["output"]["output_value"] == outputs["v"]
        assert (await heat.call("GET", f"/stacks/s1/{stack_id}/template")) == RANDOM

        # By name alone: heat's lookup redirects to name/id.
        found = await heat.request("GET", "/stacks/s1")
        assert found.status_code == 302
        assert found.headers["location"].endswith(f"/stacks/s1/{stack_id}")
        found = await heat.request("GET", "/stacks/s1/resources")
        assert found.headers["location"].endswith(f"/stacks/s1/{stack_id}/resources")

        await heat.call("DELETE", f"/stacks/s1/{stack_id}", expect=204)
        await heat.settle(5)
        gone = await heat.request("GET", f"/stacks/s1/{stack_id}")
        assert gone.status_code == 404
        assert gone.json() == {
            "explanation": "The resource could not be found.", "code": 404,
            "error": {"message": "The Stack (s1) could not be found.", "traceback": None,
                      "type": "EntityNotFound"},
            "title": "Not Found"}
        assert (await heat.call("GET", "/stacks"))["stacks"] == []

    run_heat(scenario)


FAILING = {
    "heat_template_version": "2016-10-14",
    "resources": {
        "ok": {"type": "OS::Heat::TestResource"},
        "bad": {"type": "OS::Heat::TestResource", "depends_on": "ok",
                "properties": {"fail": True}}},
}


def test_a_failing_resource_fails_the_stack_with_heats_reason() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id, shown = await _created(heat, "f1", FAILING)
        assert shown["stack_status"] == "CREATE_FAILED"
        assert shown["stack_status_reason"] == (
            "Resource CREATE failed: ValueError: resources.bad: Test Resource failed bad")
        resources = {r["resource_name"]: r for r in (await heat.call(
            "GET", f"/stacks/f1/{stack_id}/resources"))["resources"]}
        assert resources["bad"]["resource_status"] == "CREATE_FAILED"
        assert resources["bad"]["resource_status_reason"] == (
            "ValueError: resources.bad: Test Resource failed bad")
        assert resources["ok"]["resource_status"] == "CREATE_COMPLETE"

    run_heat(scenario)


def test_rollback_deletes_what_was_made_when_enabled() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id, shown = await _created(heat, "f2", FAILING, disable_rollback=False)
        assert (shown["stack_status"], shown["stack_status_reason"]) == (
            "ROLLBACK_COMPLETE", "Stack ROLLBACK completed successfully")
        assert (await heat.call("GET", f"/stacks/f2/{stack_id}/resources"))["resources"] == []
        events = (await heat.call("GET", f"/stacks/f2/{stack_id}/events",
                                  params={"resource_name": "f2"}))["events"]
        assert [e["resource_status"] for e in events] == [
            "CREATE_IN_PROGRESS", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS",
            "ROLLBACK_COMPLETE"]

    run_heat(scenario)


def test_update_in_place_replace_add_and_remove() -> None:
    template = {"heat_template_version": "2018-08-31", "resources": {
        "a": {"type": "OS::Heat::TestResource", "properties": {"value": "one"}},
        "b": {"type": "OS::Heat::RandomString", "properties": {"length": 8}},
        "gone": {"type": "OS::Heat::Value", "properties": {"value": 1}}},
        "outputs": {"a": {"value": {"get_attr": ["a", "output"]}}}}

    async def scenario(heat: Heat) -> None:
        stack_id, _ = await _created(heat, "u1", template)
        before = {r["resource_name"]: r for r in (await heat.call(
            "GET", f"/stacks/u1/{stack_id}/resources"))["resources"]}
        new = {"heat_template_version": "2018-08-31", "resources": {
            "a": {"type": "OS::Heat::TestResource", "properties": {"value": "two"}},
            "b": {"type": "OS::Heat::RandomString", "properties": {"length": 9}},
            "c": {"type": "OS::Heat::None"}},
            "outputs": {"a": {"value": {"get_attr": ["a", "output"]}}}}
        # The preview (update --dry-run) reaches the verdicts the update then acts on.
        preview = await heat.call("PUT", f"/stacks/u1/{stack_id}/preview", {"template": new})
        changes = preview["resource_changes"]
        assert {kind: [r["resource_name"] for r in entries]
                for kind, entries in changes.items()} == {
            "added": ["c"], "deleted": ["gone"], "replaced": ["b"], "updated": ["a"],
            "unchanged": []}
        shape = heat_sample("stack-update-preview-response.json")
        # The sample abbreviates: heat's format_stack_resource gives the stack's identity
        # as an object, and a resource not made yet has no times (isotime(None)).
        assert_shape_like_sample(changes, shape, ignore={
            f"$.{kind}[*].{key}" for kind in shape for key in ("stack_identity",
                                                               "updated_time")})
        # Updated and deleted resources as they are; the others as the new stack's (INIT).
        assert changes["updated"][0]["physical_resource_id"] == (
            before["a"]["physical_resource_id"])
        assert changes["updated"][0]["resource_action"] == "CREATE"
        assert (changes["added"][0]["resource_action"],
                changes["added"][0]["physical_resource_id"]) == ("INIT", "")
        assert changes["deleted"][0]["resource_identity"] == {
            "stack_name": "u1", "stack_id": stack_id, "tenant": heat.project,
            "path": "/resources/gone"}
        # Nothing was changed by it.
        assert (await heat.stack("u1", stack_id))["stack_status"] == "CREATE_COMPLETE"
        # PATCH preview (--dry-run --existing) with nothing sent: nothing changes.
        same = (await heat.call("PATCH", f"/stacks/u1/{stack_id}/preview", {}))[
            "resource_changes"]
        assert sorted(r["resource_name"] for r in same["unchanged"]) == ["a", "b", "gone"]
        assert not (same["added"] or same["deleted"] or same["replaced"] or same["updated"])
        missing = await heat.request("PUT", f"/stacks/u1/{stack_id}/preview", {})
        assert (missing.status_code, missing.json()["error"]["message"]) == (
            400, "No template specified")

        await heat.call("PUT", f"/stacks/u1/{stack_id}", {"template": new}, expect=202)
        shown = await heat.until("u1", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status_reason"] == "Stack UPDATE completed successfully"
        assert shown["outputs"][0]["output_value"] == "two"
        after = {r["resource_name"]: r for r in (await heat.call(
            "GET", f"/stacks/u1/{stack_id}/resources"))["resources"]}
        assert sorted(after) == ["a", "b", "c"]
        # value is update_allowed: same physical resource; length is not: replaced.
        assert after["a"]["physical_resource_id"] == before["a"]["physical_resource_id"]
        assert after["a"]["resource_status"] == "UPDATE_COMPLETE"
        assert after["b"]["physical_resource_id"] != before["b"]["physical_resource_id"]
        assert after["b"]["resource_status"] == "CREATE_COMPLETE"

        # PATCH (--existing): the stored template and parameters are kept.
        await heat.call("PATCH", f"/stacks/u1/{stack_id}", {}, expect=202)
        shown = await heat.until("u1", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE"

    run_heat(scenario)


def test_a_preview_sees_what_refers_to_a_replaced_resource_change_too() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id, _ = await _created(heat, "p1", RANDOM)
        # A new length replaces r; t's value (r's string) is then new: t is updated.
        changes = (await heat.call("PATCH", f"/stacks/p1/{stack_id}/preview",
                                   {"parameters": {"len": 12}}))["resource_changes"]
        assert {kind: [r["resource_name"] for r in entries]
                for kind, entries in changes.items()} == {
            "added": [], "deleted": [], "replaced": ["r"], "updated": ["t"],
            "unchanged": []}
        await heat.call("PATCH", f"/stacks/p1/{stack_id}", {"parameters": {"len": 12}},
                        expect=202)
        await heat.until("p1", stack_id, "UPDATE_COMPLETE")
        resources = {r["resource_name"]: r["resource_status"] for r in (await heat.call(
            "GET", f"/stacks/p1/{stack_id}/resources"))["resources"]}
        assert resources == {"r": "CREATE_COMPLETE", "t": "UPDATE_COMPLETE"}

    run_heat(scenario)


def test_a_preview_with_show_nested_previews_what_a_nested_stack_would_get() -> None:
    inner = ("heat_template_version: 2018-08-31\n"
             "parameters: {v: {type: string}}\n"
             "resources:\n"
             "  t: {type: OS::Heat::TestResource, properties: {value: {get_param: v}}}\n"
             "  n: {type: OS::Heat::None}\n")

    def outer(value: str) -> dict[str, Any]:
        return {"heat_template_version": "2018-08-31", "resources": {
            "inner": {"type": "inner.yaml", "properties": {"v": value}}}}

    async def scenario(heat: Heat) -> None:
        body = await heat.create("nest", outer("one"), files={"inner.yaml": inner})
        stack_id = body["stack"]["id"]
        await heat.until("nest", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        path = f"/stacks/nest/{stack_id}/preview"
        sent = {"template": outer("two"), "files": {"inner.yaml": inner}}
        flat = (await heat.call("PUT", path, sent))["resource_changes"]
        assert [r["resource_name"] for r in flat["updated"]] == ["inner"]
        assert flat["unchanged"] == []
        nested = (await heat.call("PUT", path, sent, params={"show_nested": "True"}))[
            "resource_changes"]
        assert sorted((r["stack_name"] == "nest", r["resource_name"])
                      for r in nested["updated"]) == [(False, "t"), (True, "inner")]
        assert [r["resource_name"] for r in nested["unchanged"]] == ["n"]
        assert nested["unchanged"][0]["stack_name"].startswith("nest-inner-")

    run_heat(scenario)


def test_a_failed_update_rolls_back_to_the_previous_template() -> None:
    template = {"heat_template_version": "2018-08-31", "resources": {
        "a": {"type": "OS::Heat::TestResource", "properties": {"value": "one"}}}}

    async def scenario(heat: Heat) -> None:
        stack_id, _ = await _created(heat, "u2", template, disable_rollback=False)
        failing = {"heat_template_version": "2018-08-31", "resources": {
            "a": {"type": "OS::Heat::TestResource", "properties": {"value": "two"}},
            "b": {"type": "OS::Heat::TestResource", "depends_on": ["a"],
                  "properties": {"fail": True}}}}
        await heat.call("PUT", f"/stacks/u2/{stack_id}", {"template": failing}, expect=202)
        shown = await heat.until("u2", stack_id, "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
        assert shown["stack_status_reason"] == "Stack ROLLBACK completed successfully"
        names = [r["resource_name"] for r in (await heat.call(
            "GET", f"/stacks/u2/{stack_id}/resources"))["resources"]]
        assert names == ["a"]
        assert (await heat.call("GET", f"/stacks/u2/{stack_id}/template")) == template

    run_heat(scenario)


def test_bad_templates_are_refused_with_heats_messages() -> None:
    async def refused(heat: Heat, template: Any, message: str, **fields: Any) -> None:
        answer = await heat.request("POST", "/stacks", {"stack_name": "bad",
                                                        "template": template, **fields})
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert body["code"] == 400 and body["title"] == "Bad Request"
        assert body["error"]["message"] == message, body

    async def scenario(heat: Heat) -> None:
        v = "2018-08-31"
        await refused(heat, {"heat_template_version": v, "resources": {
            "x": {"type": "OS::Nope::Thing"}}},
            "The Resource Type (OS::Nope::Thing) could not be found.")
        await refused(heat, {"heat_template_version": v, "parameters": {
            "p": {"type": "string"}}, "resources": {}},
            "The Parameter (p) was not provided.")
        await refused(heat, {"heat_template_version": v, "parameters": {
            "p": {"type": "number", "constraints": [{"range": {"min": 1, "max": 3}}]}}},
            "Parameter 'p' is invalid: 7 is out of range (min: 1, max: 3)",
            parameters={"p": 7})
        await refused(heat, {"heat_template_version": v, "resources": {
            "a": {"type": "OS::Heat::None", "depends_on": "b"},
            "b": {"type": "OS::Heat::None", "depends_on": "a"}}},
            "Circular Dependency Found: {a: {b}, b: {a}}")
        await refused(heat, {"heat_template_version": v, "resources": {
            "a": {"type": "OS::Heat::Value", "properties": {
                "value": {"Fn::Join": [",", ["x"]]}}}}},
            "resources.a.properties.value.Fn::Join: The template version is invalid: The "
            "function Fn::Join is not supported in this version of HOT.")
        await refused(heat, {"heat_template_version": v, "resources": {
            "a": {"type": "OS::Heat::Value", "properties": {
                "value": {"get_attr": ["zz", "x"]}}}}},
            'The specified reference "zz" (in a.Properties.value) is incorrect.')
        await refused(heat, {"heat_template_version": v, "resources": {
            "a": {"type": "OS::Heat::RandomString", "properties": {"length": 0}}}},
            "Property error: resources.a.properties.length: 0 is out of range (min: 1, "
            "max: 512)")
        await refused(heat, {"heat_template_version": "1999-01-01"},
                      "The template version is invalid: \"heat_template_version: 1999-01-01\"."
                      " \"heat_template_version\" should be one of: 2013-05-23, 2014-10-16, "
                      "2015-04-30, 2015-10-15, 2016-04-08, 2016-10-14, 2017-02-24, 2017-09-01, "
                      "2018-03-02, 2018-08-31, 2021-04-16, newton, ocata, pike, queens, "
                      "rocky, wallaby")

    run_heat(scenario)
