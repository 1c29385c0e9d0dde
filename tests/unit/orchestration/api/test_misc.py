"""heat-api beyond the stack's life: its catalog entry, a member's stack acting through
a trust, list filters and paging, preview, actions, resource marks and signals,
template versions and functions, resource types, build info, heat-api-cfn's signal."""

from __future__ import annotations

from typing import Any

from support.apiref import assert_shape_like_sample, sample
from unit.orchestration.heat_calls import Heat, run_heat

SAMPLES = "api-ref/source/v1/samples"
SIMPLE = {"heat_template_version": "2018-08-31", "resources": {
    "v": {"type": "OS::Heat::Value", "properties": {"value": {"get_param": "x"}}}},
    "parameters": {"x": {"type": "string", "default": "hello"}},
    "outputs": {"x": {"value": {"get_attr": ["v", "value"]}}}}


def heat_sample(name: str) -> Any:
    return sample("heat", f"{SAMPLES}/{name}")


async def _stack(heat: Heat, name: str, template: Any = None, **fields: Any) -> str:
    stack_id = str((await heat.create(name, template or SIMPLE, **fields))["stack"]["id"])
    await heat.until(name, stack_id, "CREATE_COMPLETE")
    return stack_id


def test_the_catalog_names_heat_for_the_tokens_project() -> None:
    async def scenario(heat: Heat) -> None:
        answer = await heat.client.get("/identity/v3/auth/catalog",
                                       headers={"X-Auth-Token": heat.token})
        entries = {e["type"]: e for e in answer.json()["catalog"]}
        urls = {e["url"] for e in entries["orchestration"]["endpoints"]}
        assert urls == {f"http://testserver/heat-api/v1/{heat.project}"}
        assert {e["url"] for e in entries["cloudformation"]["endpoints"]} == {
            "http://testserver/heat-api-cfn/v1"}

    run_heat(scenario)


def test_a_members_stack_acts_through_a_trust_to_heat() -> None:
    async def scenario(heat: Heat) -> None:
        token, project = await heat.member("alice")
        body = await heat.call("POST", "/stacks", {"stack_name": "mine", "template": SIMPLE},
                               expect=201, token=token, project=project)
        stack_id = body["stack"]["id"]
        for _ in range(10):
            await heat.settle(1)
        shown = await heat.call("GET", f"/stacks/mine/{stack_id}", token=token,
                                project=project)
        assert shown["stack"]["stack_status"] == "CREATE_COMPLETE"
        row = heat.cloud.orchestration.store.stack(stack_id)
        trusts = await heat.client.get("/identity/v3/OS-TRUST/trusts",
                                       headers={"X-Auth-Token": heat.token})
        trust = next(t for t in trusts.json()["trusts"] if t["id"] == row.trust_id)
        assert trust["impersonation"] is True and trust["project_id"] == project
        # Another project sees nothing of it.
        other = await heat.request("GET", f"/stacks/mine/{stack_id}")
        assert other.status_code == 404
        foreign = await heat.request("GET", "/stacks", project=heat.project, token=token)
        assert foreign.status_code == 403

    run_heat(scenario)


def test_stack_list_filters_sorts_pages_and_tags() -> None:
    async def scenario(heat: Heat) -> None:
        ids = {}
        for name, tags in (("a1", "x,y"), ("b2", "y"), ("c3", None)):
            fields = {"tags": tags} if tags else {}
            ids[name] = await _stack(heat, name, **fields)
        names = [s["stack_name"] for s in (await heat.call(
            "GET", "/stacks", params={"sort_keys": "stack_name", "sort_dir": "asc"}))["stacks"]]
        assert names == ["a1", "b2", "c3"]
        page = (await heat.call("GET", "/stacks", params={
            "sort_keys": "stack_name", "sort_dir": "asc", "limit": 1,
            "marker": ids["a1"]}))["stacks"]
        assert [s["stack_name"] for s in page] == ["b2"]
        tagged = (await heat.call("GET", "/stacks", params={"tags": "y"}))["stacks"]
        assert sorted(s["stack_name"] for s in tagged) == ["a1", "b2"]
        assert [s["stack_name"] for s in (await heat.call(
            "GET", "/stacks", params={"tags": "x,y"}))["stacks"]] == ["a1"]
        assert [s["stack_name"] for s in (await heat.call(
            "GET", "/stacks", params={"name": "c3"}))["stacks"]] == ["c3"]
        assert (await heat.call("GET", "/stacks", params={"with_count": "true"}))[
            "count"] == 3
        refused = await heat.request("GET", "/stacks", params={"global_tenant": "true"})
        assert refused.status_code == 403  # stacks:global_index denies everybody
        bad = await heat.request("GET", "/stacks", params={"sort_keys": "nope"})
        assert bad.status_code == 400
        # heat's extract_bool: true or false only, for each boolean parameter.
        for name in ("global_tenant", "show_deleted", "show_nested", "with_count"):
            for value in ("maybe", "1", "yes"):
                bad = await heat.request("GET", "/stacks", params={name: value})
                assert bad.status_code == 400, (name, value)
                assert bad.json()["error"]["message"] == (
                    f'Unrecognized value "{value}" for "{name}", acceptable values are: '
                    "true, false.")
        assert len((await heat.call("GET", "/stacks", params={
            "global_tenant": "False", "show_nested": "FALSE"}))["stacks"]) == 3

    run_heat(scenario)


def test_preview_actions_marks_and_signals() -> None:
    async def scenario(heat: Heat) -> None:
        preview = await heat.call("POST", "/stacks/preview",
                                  {"stack_name": "p", "template": SIMPLE})
        assert_shape_like_sample(preview, heat_sample("stack-preview-response.json"),
                                 ignore={"$.stack.resources[*].properties",
                                         "$.stack.parameters",
                                         "$.stack.creation_time", "$.stack.updated_time",
                                         "$.stack.resources[*].updated_time",
                                         "$.stack.stack_status",
                                         "$.stack.stack_status_reason"})
        assert [r["resource_name"] for r in preview["stack"]["resources"]] == ["v"]
        stack_id = await _stack(heat, "act")
        base = f"/stacks/act/{stack_id}"
        for action, state in (("suspend", "SUSPEND_COMPLETE"), ("resume", "RESUME_COMPLETE"),
                              ("check", "CHECK_COMPLETE")):
            await heat.call("POST", f"{base}/actions", {action: None})
            shown = await heat.until("act", stack_id, state)
            assert shown["stack_status_reason"] == \
                f"Stack {action.upper()} completed successfully"
        bad = await heat.request("POST", f"{base}/actions", {"explode": None})
        assert bad.status_code == 400
        await heat.call("PATCH", f"{base}/resources/v", {
            "mark_unhealthy": True, "resource_status_reason": "broken"})
        res = (await heat.call("GET", f"{base}/resources/v"))["resource"]
        assert (res["resource_status"], res["resource_status_reason"]) == (
            "CHECK_FAILED", "broken")
        # OS::Heat::Value takes no signals: heat's ResourceActionNotSupported.
        refused = await heat.request("POST", f"{base}/resources/v/signal", {"ping": 1})
        assert refused.status_code == 400
        assert refused.json()["error"] == {
            "type": "ResourceActionNotSupported", "traceback": None,
            "message": "signal is not supported for resource."}
        assert refused.json()["title"] == "Bad Request"
        metadata = await heat.call("GET", f"{base}/resources/v/metadata")
        assert_shape_like_sample(metadata, heat_sample("resource-metadata-response.json"),
                                 ignore={"$.metadata"})
        missing = await heat.request("GET", f"{base}/resources/nope")
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == "The Resource (nope) could not be found."

    run_heat(scenario)


def test_templates_and_resource_types() -> None:
    async def scenario(heat: Heat) -> None:
        versions = await heat.call("GET", "/template_versions")
        assert_shape_like_sample(versions, heat_sample("template-versions-response.json"))
        assert "heat_template_version.2018-08-31" in [
            v["version"] for v in versions["template_versions"]]
        functions = await heat.call(
            "GET", "/template_versions/heat_template_version.2018-08-31/functions")
        assert_shape_like_sample(functions, heat_sample("template-functions-list-response.json"))
        assert "get_attr" in [f["functions"] for f in functions["template_functions"]]
        validated = await heat.call("POST", "/validate", {"template": SIMPLE})
        assert validated["Parameters"]["x"]["Default"] == "hello"
        assert validated["Description"] == "No description"
        # A parameter without a value passes: its check waits for the stack (heat-tempest-
        # plugin's templates_template_validate).
        unset = {"heat_template_version": "2016-04-08",
                 "parameters": {"test_val": {"type": "string"}},
                 "resources": {"test": {"type": "OS::Heat::TestResource",
                                        "properties": {"value": {"get_param": "test_val"}}}}}
        validated = await heat.call("POST", "/validate", {"template": unset})
        assert list(validated["Parameters"]) == ["test_val"]
        types = await heat.call("GET", "/resource_types")
        assert_shape_like_sample(types, heat_sample("resource-types-list-response.json"))
        assert {"OS::Heat::RandomString", "OS::Heat::TestResource", "OS::Heat::Value",
                "OS::Heat::None"} <= set(types["resource_types"])
        filtered = await heat.call("GET", "/resource_types", params={
            "name": "OS::Heat::Random.*", "with_description": "true"})
        assert [t["resource_type"] for t in filtered["resource_types"]] == [
            "OS::Heat::RandomString"]
        schema = await heat.call("GET", "/resource_types/OS::Heat::RandomString")
        assert_shape_like_sample(schema, heat_sample("resource-schema-response.json"),
                                 ignore={"$.attributes", "$.properties",
                                         "$.support_status.message",
                                         "$.support_status.version"})
        assert schema["properties"]["length"]["default"] == 32
        hot = await heat.call("GET", "/resource_types/OS::Heat::RandomString/template",
                              params={"template_type": "hot"})
        assert hot["resources"]["RandomString"]["type"] == "OS::Heat::RandomString"
        missing = await heat.request("GET", "/resource_types/OS::No::Such")
        assert missing.status_code == 404
        info = await heat.call("GET", "/build_info")
        assert_shape_like_sample(info, heat_sample("build-info-response.json"))

    run_heat(scenario)


def test_heat_api_cfn_refuses_an_unsigned_signal() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = await _stack(heat, "cfn")
        answer = await heat.client.post(f"/heat-api-cfn/v1/waitcondition/{stack_id}/v",
                                        json={"Status": "SUCCESS"})
        assert answer.status_code == 403
        assert answer.json()["error"]["type"] == "HeatAccessDeniedError"

    run_heat(scenario)


def test_malformed_bodies_are_the_clients_400() -> None:
    async def scenario(heat: Heat) -> None:
        for extra in ({"environment": [1]}, {"environment": {"resource_registry": 5}},
                      {"environment": {"parameters": 5}}, {"environment": "junk: ["},
                      {"tags": 5}, {"timeout_mins": "x"}, {"parameters": "x=1"},
                      {"environment_files": ["missing.yaml"]}, {"template": 5}):
            answer = await heat.request("POST", "/stacks", {"stack_name": "bad",
                                                            "template": SIMPLE, **extra})
            assert answer.status_code == 400, (extra, answer.text)
        assert (await heat.call("GET", "/stacks"))["stacks"] == []

    run_heat(scenario)
