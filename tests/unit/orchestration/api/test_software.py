"""heat-api's software configs and deployments: heat's bodies (the api-ref samples), paging,
heat's 404s and 400s, policy and project isolation, and the server metadata they feed."""

from __future__ import annotations

import json
import re
from typing import Any

from support.apiref import API_REF, assert_shape_like_sample, sample
from unit.orchestration.heat_calls import Heat, run_heat

SAMPLES = "api-ref/source/v1/samples"
# heat's IOConfig.as_dict drops an input's or output's null fields (the 2015 samples still
# show them).
IO_NULLS = {"$.software_config.inputs[*].default", "$.software_config.inputs[*].description",
            "$.software_config.outputs[*].description"}


def without_nulls(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if v is not None} for e in entries]


def heat_sample(name: str) -> Any:
    return sample("heat", f"{SAMPLES}/{name}")


def configs_list_sample() -> Any:
    # heat's configs-list-response.json carries a trailing comma (not JSON): read leniently.
    text = (API_REF / "heat" / SAMPLES / "configs-list-response.json").read_text()
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


def test_software_configs_as_heat_serves_them() -> None:
    async def scenario(heat: Heat) -> None:
        request = heat_sample("config-create-request.json")
        made = await heat.call("POST", "/software_configs", request)
        assert_shape_like_sample(made, heat_sample("config-create-response.json"),
                                 ignore=IO_NULLS)
        config = made["software_config"]
        for key in ("name", "group", "config"):
            assert config[key] == request[key], key
        assert config["inputs"] == without_nulls(request["inputs"])
        assert config["outputs"] == without_nulls(request["outputs"])
        assert config["options"] == {}  # heat's RPC client sends {} for a null
        shown = await heat.call("GET", f"/software_configs/{config['id']}")
        assert_shape_like_sample(shown, heat_sample("config-show-response.json"),
                                 ignore=IO_NULLS)
        assert shown["software_config"] == config
        await heat.settle(1)
        second = (await heat.call("POST", "/software_configs", {
            "name": "b", "group": "script", "config": "echo b"}))["software_config"]
        assert second["inputs"] == [] and second["outputs"] == []
        listed = await heat.call("GET", "/software_configs")
        assert_shape_like_sample(listed, configs_list_sample())
        assert [c["id"] for c in listed["software_configs"]] == [second["id"], config["id"]]
        assert "config" not in listed["software_configs"][0]
        assert "project" in listed["software_configs"][0]  # admin: heat includes it
        page = await heat.call("GET", "/software_configs",
                               params={"limit": 1, "marker": second["id"]})
        assert [c["id"] for c in page["software_configs"]] == [config["id"]]
        for bad, message in (("x", "Only integer is acceptable by 'limit'."),
                             ("-1", "Value must be >= 0 for field 'limit'.")):
            refused = await heat.request("GET", "/software_configs", params={"limit": bad})
            assert (refused.status_code, refused.json()["error"]["message"]) == (400, message)
        await heat.call("DELETE", f"/software_configs/{second['id']}", expect=204)
        missing = await heat.request("GET", f"/software_configs/{second['id']}")
        assert missing.status_code == 404
        assert missing.json()["error"] == {
            "type": "NotFound", "traceback": None,
            "message": f"Software config with id {second['id']} not found"}
        gone = await heat.request("DELETE", f"/software_configs/{second['id']}")
        assert gone.status_code == 404

    run_heat(scenario)


def test_bad_software_config_input_is_heats_400_naming_the_field() -> None:
    async def scenario(heat: Heat) -> None:
        for body, words in (
                ({"inputs": "x"}, "inputs"),
                ({"inputs": [{"type": "String"}]}, "name"),
                ({"inputs": [{"name": "a", "type": "Float"}]}, "type"),
                ({"outputs": [{"name": "a", "error_output": "maybe"}]}, "error_output"),
                ({"options": [1]}, "options"),
                ({"name": {"a": 1}}, "name")):
            answer = await heat.request("POST", "/software_configs",
                                        {"group": "script", **body})
            assert answer.status_code == 400, (body, answer.text)
            assert words in answer.json()["error"]["message"], answer.text
        bare = await heat.request("POST", "/software_configs", [1])
        assert bare.status_code == 400

    run_heat(scenario)


def test_software_deployments_as_heat_serves_them() -> None:
    async def scenario(heat: Heat) -> None:
        config = (await heat.call("POST", "/software_configs", heat_sample(
            "config-create-request.json")))["software_config"]
        request = {**heat_sample("deployment-create-request.json"), "config_id": config["id"]}
        made = await heat.call("POST", "/software_deployments", request)
        sample_body = heat_sample("deployment-create-response.json")
        assert_shape_like_sample(made, sample_body,
                                 ignore={"$.software_deployment.updated_time"})
        deployment = made["software_deployment"]
        assert (deployment["status"], deployment["action"], deployment["server_id"],
                deployment["config_id"]) == ("IN_PROGRESS", "CREATE", request["server_id"],
                                             config["id"])
        assert "updated_time" not in deployment  # heat shows it once updated
        path = f"/software_deployments/{deployment['id']}"
        shown = await heat.call("GET", path)
        assert_shape_like_sample(shown, heat_sample("deployment-show-response.json"),
                                 ignore={"$.software_deployment.updated_time"})
        update = heat_sample("deployment-update-request.json")
        updated = await heat.call("PUT", path, update)
        assert_shape_like_sample(updated, heat_sample("deployment-update-response.json"))
        assert updated["software_deployment"]["output_values"] == update["output_values"]
        assert updated["software_deployment"]["status"] == "COMPLETE"
        assert updated["software_deployment"]["action"] == "CREATE"  # not given: kept
        await heat.settle(1)
        other = (await heat.call("POST", "/software_deployments", {
            "config_id": config["id"], "server_id": "another", "action": "CREATE",
            "status": "COMPLETE"}))["software_deployment"]
        assert other["status_reason"] == "None"  # heat keeps str() of a missing reason
        listed = await heat.call("GET", "/software_deployments")
        # The second was never updated: no outputs, no updated_time yet (as heat).
        assert_shape_like_sample(listed, heat_sample("deployments-list-response.json"),
                                 ignore={"$.software_deployments[*].output_values",
                                         "$.software_deployments[*].updated_time"})
        assert "updated_time" in listed["software_deployments"][0]
        assert [d["id"] for d in listed["software_deployments"]] == [
            deployment["id"], other["id"]]
        only = await heat.call("GET", "/software_deployments",
                               params={"server_id": "another"})
        assert [d["id"] for d in only["software_deployments"]] == [other["id"]]
        metadata = await heat.call("GET",
                                   f"/software_deployments/metadata/{request['server_id']}")
        assert_shape_like_sample(metadata, heat_sample("deployment-metadata-response.json"),
                                 ignore={"$.metadata[*].updated_time",
                                         "$.metadata[*].inputs[*].value",
                                         "$.metadata[*].inputs[*].default",
                                         "$.metadata[*].inputs[*].description",
                                         "$.metadata[*].outputs[*].description"})
        assert [c["id"] for c in metadata["metadata"]] == [config["id"]]
        referenced = await heat.request("DELETE", f"/software_configs/{config['id']}")
        assert referenced.status_code == 400
        assert referenced.json()["error"]["message"] == (
            f"Software config with id {config['id']} can not be deleted as it is referenced.")
        await heat.call("DELETE", path, expect=204)
        missing = await heat.request("GET", path)
        assert missing.status_code == 404
        assert missing.json()["error"]["message"] == (
            f"Deployment with id {deployment['id']} not found")
        assert (await heat.request("PUT", path, {"status": "COMPLETE"})).status_code == 404

    run_heat(scenario)


def test_bad_deployment_input_is_heats_400_naming_the_field() -> None:
    async def scenario(heat: Heat) -> None:
        config = (await heat.call("POST", "/software_configs", {
            "group": "script", "config": "true"}))["software_config"]
        good = {"config_id": config["id"], "server_id": "s1"}
        for body, words in (
                ({"server_id": "s1"}, "Config with id None not found"),
                ({**good, "config_id": "nope"}, "Config with id nope not found"),
                ({"config_id": config["id"]}, "server_id"),
                ({**good, "stack_user_project_id": "p" * 65}, "stack_user_project_id"),
                ({**good, "input_values": [1]}, "input_values"),
                ({**good, "action": 3}, "action")):
            answer = await heat.request("POST", "/software_deployments", body)
            assert answer.status_code == 400, (body, answer.text)
            error = answer.json()["error"]
            assert error["type"] == "Invalid" and words in error["message"], answer.text
        made = (await heat.call("POST", "/software_deployments", good))["software_deployment"]
        answer = await heat.request("PUT", f"/software_deployments/{made['id']}",
                                    {"output_values": "x"})
        assert answer.status_code == 400 and "output_values" in answer.text
        answer = await heat.request("PUT", f"/software_deployments/{made['id']}",
                                    {"config_id": "nope"})
        assert answer.status_code == 400 and "Config with id nope not found" in answer.text

    run_heat(scenario)


def test_another_project_sees_none_of_them_and_global_tenant_is_refused() -> None:
    async def scenario(heat: Heat) -> None:
        config = (await heat.call("POST", "/software_configs", {
            "group": "script", "config": "true"}))["software_config"]
        deployment = (await heat.call("POST", "/software_deployments", {
            "config_id": config["id"], "server_id": "s1"}))["software_deployment"]
        token, project = await heat.member("bob")

        async def as_bob(method: str, path: str, body: Any = None) -> Any:
            return await heat.request(method, path, body, token=token, project=project)

        assert (await as_bob("GET", f"/software_configs/{config['id']}")).status_code == 404
        assert (await as_bob("DELETE", f"/software_configs/{config['id']}")).status_code == 404
        assert (await as_bob("GET", "/software_configs")).json() == {"software_configs": []}
        answer = await as_bob("GET", f"/software_deployments/{deployment['id']}")
        assert answer.status_code == 404
        assert (await as_bob("GET", "/software_deployments")).json() == {
            "software_deployments": []}
        assert (await as_bob("GET", "/software_deployments/metadata/s1")).json() == {
            "metadata": []}
        # Bob may not bind the admin's config to a server of his.
        answer = await as_bob("POST", "/software_deployments",
                              {"config_id": config["id"], "server_id": "s2"})
        assert answer.status_code == 400
        mine = (await as_bob("POST", "/software_configs", {"config": "x"})).json()
        assert "project" not in (await as_bob("GET", "/software_configs")).json()[
            "software_configs"][0]
        assert mine["software_config"]["id"]
        refused = await as_bob("GET", "/software_configs?global_tenant=true")
        assert refused.status_code == 403
        foreign = await heat.request("GET", "/software_configs", project=heat.project,
                                     token=token)
        assert foreign.status_code == 403

    run_heat(scenario)


def test_a_reader_reads_but_may_not_write_as_heats_policy_defaults_say() -> None:
    async def scenario(heat: Heat) -> None:
        headers = {"X-Auth-Token": heat.token}
        user = (await heat.client.post("/identity/v3/users", headers=headers, json={
            "user": {"name": "reader-only", "password": "pw-r"}})).json()["user"]["id"]
        roles = (await heat.client.get("/identity/v3/roles?name=reader",
                                       headers=headers)).json()["roles"]
        answer = await heat.client.put(f"/identity/v3/projects/{heat.project}/users/{user}/"
                                       f"roles/{roles[0]['id']}", headers=headers)
        assert answer.status_code == 204, answer.text
        token, _ = await heat.login("reader-only", "pw-r", "admin")
        config = (await heat.call("POST", "/software_configs", {
            "config": "true"}))["software_config"]
        deployment = (await heat.call("POST", "/software_deployments", {
            "config_id": config["id"], "server_id": "s"}))["software_deployment"]
        for path in ("/software_configs", f"/software_configs/{config['id']}",
                     "/software_deployments", f"/software_deployments/{deployment['id']}",
                     "/software_deployments/metadata/s"):
            assert (await heat.request("GET", path, token=token)).status_code == 200, path
        for method, path, body in (
                ("POST", "/software_configs", {"config": "x"}),
                ("DELETE", f"/software_configs/{config['id']}", None),
                ("POST", "/software_deployments", {"config_id": config["id"],
                                                   "server_id": "s"}),
                ("PUT", f"/software_deployments/{deployment['id']}", {"status": "COMPLETE"}),
                ("DELETE", f"/software_deployments/{deployment['id']}", None)):
            refused = await heat.request(method, path, body, token=token)
            assert refused.status_code == 403, (method, path, refused.text)

    run_heat(scenario)
