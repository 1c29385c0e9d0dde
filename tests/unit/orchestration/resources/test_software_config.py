"""heat's software config types: configs made through heat-api's /software_configs, a
deployment that waits for its server's signal (none comes in the lab unless sent), completes
at once with NO_SIGNAL, takes its outputs from a signal or an update of the deployment."""

from __future__ import annotations

import base64
from email import message_from_string
from typing import Any

import yaml

from unit.orchestration.heat_calls import Heat, run_heat

CONFIG = {"type": "OS::Heat::SoftwareConfig", "properties": {
    "group": "script", "config": "#!/bin/sh\necho $foo > $heat_outputs_path.result",
    "inputs": [{"name": "foo"}, {"name": "bar", "default": "b"}],
    "outputs": [{"name": "result"}, {"name": "oops", "error_output": True}]}}


def deployed(transport: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"config": {"get_resource": "config"}, "server": "dummy-server",
                             "input_values": {"foo": "fooooo", "extra": 1}}
    if transport:
        props["signal_transport"] = transport
    return {"heat_template_version": "2018-08-31", "resources": {
        "config": CONFIG, "deploy": {"type": "OS::Heat::SoftwareDeployment",
                                     "properties": props}},
        "outputs": {"result": {"value": {"get_attr": ["deploy", "result"]}},
                    "stdout": {"value": {"get_attr": ["deploy", "deploy_stdout"]}},
                    "code": {"value": {"get_attr": ["deploy", "deploy_status_code"]}},
                    "config": {"value": {"get_attr": ["config", "config"]}}}}


def outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o["output_value"] for o in shown["outputs"]}


async def deployment_of(heat: Heat, name: str, stack_id: str) -> dict[str, Any]:
    res = (await heat.call("GET", f"/stacks/{name}/{stack_id}/resources/deploy"))["resource"]
    found: dict[str, Any] = (await heat.call(
        "GET", f"/software_deployments/{res['physical_resource_id']}"))["software_deployment"]
    return found


def test_no_signal_completes_at_once_with_heats_derived_config() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("s", deployed("NO_SIGNAL")))["stack"]["id"]
        shown = await heat.until("s", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert outputs(shown)["config"] == CONFIG["properties"]["config"]
        assert outputs(shown)["result"] is None
        deployment = await deployment_of(heat, "s", stack_id)
        assert (deployment["status"], deployment["status_reason"], deployment["action"],
                deployment["server_id"]) == ("COMPLETE", "Not waiting for outputs signal",
                                            "CREATE", "dummy-server")
        derived = (await heat.call(
            "GET", f"/software_configs/{deployment['config_id']}"))["software_config"]
        values = {i["name"]: i.get("value") for i in derived["inputs"]}
        assert values["foo"] == "fooooo" and values["bar"] == "b" and values["extra"] == 1
        assert values["deploy_server_id"] == "dummy-server"
        assert values["deploy_action"] == "CREATE"
        assert values["deploy_stack_id"] == f"s/{stack_id}"
        assert values["deploy_resource_name"] == "deploy"
        assert values["deploy_signal_transport"] == "NO_SIGNAL"
        assert "deploy_signal_id" not in values
        assert derived["group"] == "script"
        metadata = await heat.call("GET", "/software_deployments/metadata/dummy-server")
        assert [c["id"] for c in metadata["metadata"]] == [deployment["config_id"]]
        await heat.call("DELETE", f"/stacks/s/{stack_id}", expect=204)
        await heat.settle(10)
        assert (await heat.call("GET", "/software_deployments"))["software_deployments"] == []
        assert (await heat.call("GET", "/software_configs"))["software_configs"] == []

    run_heat(scenario)


def test_a_deployment_waits_for_its_signal_and_takes_its_outputs() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("s", deployed(None)))["stack"]["id"]
        await heat.settle(5)
        assert (await heat.stack("s", stack_id))["stack_status"] == "CREATE_IN_PROGRESS"
        deployment = await deployment_of(heat, "s", stack_id)
        assert (deployment["status"], deployment["status_reason"]) == (
            "IN_PROGRESS", "Deploy data available")
        derived = (await heat.call(
            "GET", f"/software_configs/{deployment['config_id']}"))["software_config"]
        values = {i["name"]: i.get("value") for i in derived["inputs"]}
        assert values["deploy_signal_transport"] == "CFN_SIGNAL"
        assert values["deploy_signal_verb"] == "POST"
        url = values["deploy_signal_id"]
        assert url.startswith(
            f"http://testserver/heat-api-cfn/v1/waitcondition/{stack_id}/deploy?Signature=")
        # What os-collect-config would POST to deploy_signal_id.
        answer = await heat.client.post(url.removeprefix("http://testserver"), json={
            "deploy_stdout": "done", "deploy_stderr": "", "deploy_status_code": 0,
            "result": "42"})
        assert answer.status_code == 200, answer.text
        shown = await heat.until("s", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert {k: outputs(shown)[k] for k in ("result", "stdout", "code")} == {
            "result": "42", "stdout": "done", "code": 0}
        deployment = await deployment_of(heat, "s", stack_id)
        assert (deployment["status"], deployment["status_reason"]) == (
            "COMPLETE", "Outputs received")
        events = (await heat.call("GET", f"/stacks/s/{stack_id}/resources/deploy/events"))[
            "events"]
        assert any(e["resource_status"] == "SIGNAL_IN_PROGRESS"
                   and e["resource_status_reason"] ==
                   f"Signal: deployment {deployment['id']} succeeded" for e in events)

    run_heat(scenario)


def test_a_signal_through_heat_api_with_a_failure_fails_the_deployment() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("s", deployed("HEAT_SIGNAL")))["stack"]["id"]
        await heat.settle(3)
        await heat.call("POST", f"/stacks/s/{stack_id}/resources/deploy/signal",
                        {"deploy_status_code": 3, "deploy_stderr": "boom"})
        shown = await heat.until("s", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status_reason"] == (
            "Resource CREATE failed: Error: resources.deploy: Deployment to server failed: "
            "deploy_status_code : Deployment exited with non-zero status code: 3")

    run_heat(scenario)


def test_an_update_of_the_deployment_to_complete_completes_the_resource() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("s", deployed("TEMP_URL_SIGNAL")))["stack"]["id"]
        await heat.settle(3)
        deployment = await deployment_of(heat, "s", stack_id)
        await heat.call("PUT", f"/software_deployments/{deployment['id']}", {
            "status": "COMPLETE", "status_reason": "by hand",
            "output_values": {"result": "manual"}})
        shown = await heat.until("s", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert outputs(shown)["result"] == "manual"

    run_heat(scenario)


def test_cloud_config_multipart_and_structured_deployment() -> None:
    template = {"heat_template_version": "2018-08-31", "resources": {
        "cloud": {"type": "OS::Heat::CloudConfig",
                  "properties": {"cloud_config": {"runcmd": ["echo hi"]}}},
        "mime": {"type": "OS::Heat::MultipartMime", "properties": {"parts": [
            {"config": {"get_resource": "cloud"}},
            {"config": "#!/bin/sh\necho x", "filename": "x.sh", "subtype": "x-shellscript"}]}},
        "structured": {"type": "OS::Heat::StructuredConfig", "properties": {
            "group": "os-apply-config",
            "config": {"port": {"get_input": "port"}, "fixed": 1}}},
        "deploy": {"type": "OS::Heat::StructuredDeployment", "properties": {
            "config": {"get_resource": "structured"}, "server": "srv",
            "input_values": {"port": 8080}, "signal_transport": "NO_SIGNAL"}}},
        "outputs": {"cloud": {"value": {"get_attr": ["cloud", "config"]}},
                    "mime": {"value": {"get_attr": ["mime", "config"]}}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("c", template))["stack"]["id"]
        shown = await heat.until("c", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        cloud = outputs(shown)["cloud"]
        assert cloud.startswith("#cloud-config\n")
        assert yaml.safe_load(cloud) == {"runcmd": ["echo hi"]}
        mime = message_from_string(outputs(shown)["mime"])
        parts = mime.get_payload()
        assert mime.is_multipart() and len(parts) == 2
        assert parts[0].get_payload() == cloud
        assert parts[1].get_content_type() == "text/x-shellscript"
        assert parts[1].get_filename() == "x.sh"
        deployment = (await heat.call(
            "GET", "/software_deployments", params={"server_id": "srv"}))[
            "software_deployments"][0]
        derived = (await heat.call(
            "GET", f"/software_configs/{deployment['config_id']}"))["software_config"]
        assert derived["config"] == {"port": 8080, "fixed": 1}
        assert derived["group"] == "os-apply-config"

    run_heat(scenario)


def test_the_types_are_registered_with_heats_schema_shape() -> None:
    from stacklab.orchestration.resources import registry
    from unit.orchestration.resources.plugins.test_schemas import _property_shape

    for name in ("OS::Heat::SoftwareConfig", "OS::Heat::StructuredConfig",
                 "OS::Heat::CloudConfig", "OS::Heat::MultipartMime",
                 "OS::Heat::SoftwareDeployment", "OS::Heat::StructuredDeployment"):
        plugin = registry.get(name)
        assert plugin is not None, name
        shown = plugin.schema()
        assert shown["resource_type"] == name and shown["description"]
        for prop_name, prop in shown["properties"].items():
            _property_shape(prop_name, prop)
    deployment = registry.get("OS::Heat::SoftwareDeployment")
    assert deployment is not None and deployment.SIGNALS
    props = deployment.schema()["properties"]
    assert props["signal_transport"]["default"] == "CFN_SIGNAL"
    assert props["actions"]["default"] == ["CREATE", "UPDATE"]
    assert props["server"]["required"] and not props["server"]["update_allowed"]


def test_new_input_values_redeploy_in_place_and_drop_the_old_derived_config() -> None:
    async def scenario(heat: Heat) -> None:
        template = deployed("NO_SIGNAL")
        stack_id = (await heat.create("u", template))["stack"]["id"]
        await heat.until("u", stack_id, "CREATE_COMPLETE")
        before = await deployment_of(heat, "u", stack_id)
        template["resources"]["deploy"]["properties"]["input_values"] = {"foo": "new"}
        await heat.call("PUT", f"/stacks/u/{stack_id}", {"template": template}, expect=202)
        shown = await heat.until("u", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        after = await deployment_of(heat, "u", stack_id)
        assert after["id"] == before["id"] and after["action"] == "UPDATE"
        assert after["config_id"] != before["config_id"]
        old = await heat.request("GET", f"/software_configs/{before['config_id']}")
        assert old.status_code == 404
        derived = (await heat.call(
            "GET", f"/software_configs/{after['config_id']}"))["software_config"]
        assert {i["name"]: i.get("value") for i in derived["inputs"]}["foo"] == "new"

    run_heat(scenario)


def test_the_servers_resource_metadata_lists_its_deployed_configs() -> None:
    # Any resource stands in for the server: heat pushes to the one with that physical id.
    template = {"heat_template_version": "2018-08-31", "resources": {
        "server": {"type": "OS::Heat::TestResource"},
        "config": {"type": "OS::Heat::SoftwareConfig", "properties": {"config": "true"}},
        "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
            "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
            "signal_transport": "NO_SIGNAL"}}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("m", template))["stack"]["id"]
        await heat.until("m", stack_id, "CREATE_COMPLETE")
        deployment = await deployment_of(heat, "m", stack_id)
        metadata = (await heat.call(
            "GET", f"/stacks/m/{stack_id}/resources/server/metadata"))["metadata"]
        assert [c["id"] for c in metadata["deployments"]] == [deployment["config_id"]]
        assert {i["name"]: i.get("value") for i in metadata["deployments"][0]["inputs"]}[
            "deploy_resource_name"] == "deploy"

    run_heat(scenario)


def test_a_raw_servers_user_data_may_name_a_config() -> None:
    async def scenario(heat: Heat) -> None:
        images = await heat.client.get("/image/v2/images",
                                       headers={"X-Auth-Token": heat.token})
        template = {"heat_template_version": "2018-08-31", "resources": {
            "boot": {"type": "OS::Heat::CloudConfig",
                     "properties": {"cloud_config": {"runcmd": ["echo booted"]}}},
            "server": {"type": "OS::Nova::Server", "properties": {
                "flavor": "m1.tiny", "image": images.json()["images"][0]["id"],
                "networks": [], "user_data_format": "RAW",
                "user_data": {"get_resource": "boot"}}}}}
        stack_id = (await heat.create("r", template))["stack"]["id"]
        shown = await heat.until("r", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        res = (await heat.call("GET", f"/stacks/r/{stack_id}/resources/server"))["resource"]
        server = await heat.client.get(
            f"/compute/v2.1/servers/{res['physical_resource_id']}",
            headers={"X-Auth-Token": heat.token, "OpenStack-API-Version": "compute 2.3"})
        user_data = base64.b64decode(server.json()["server"]["OS-EXT-SRV-ATTR:user_data"])
        assert user_data.decode().startswith("#cloud-config\nruncmd:\n- echo booted")

    run_heat(scenario)


def test_a_delete_action_waits_for_the_servers_signal_during_the_stack_delete() -> None:
    async def scenario(heat: Heat) -> None:
        images = await heat.client.get("/image/v2/images",
                                       headers={"X-Auth-Token": heat.token})
        template = {"heat_template_version": "2018-08-31", "resources": {
            "server": {"type": "OS::Nova::Server", "properties": {
                "flavor": "m1.tiny", "image": images.json()["images"][0]["id"],
                "networks": [], "user_data_format": "SOFTWARE_CONFIG"}},
            "config": CONFIG,
            "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
                "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
                "actions": ["CREATE", "DELETE"], "signal_transport": "HEAT_SIGNAL"}}}}
        stack_id = (await heat.create("d", template))["stack"]["id"]
        base = f"/stacks/d/{stack_id}/resources/deploy"
        for _ in range(30):
            await heat.settle(1)
            answer = await heat.request("GET", base)
            if answer.status_code == 200 and answer.json()["resource"][
                    "resource_status"] == "CREATE_IN_PROGRESS":
                break
        await heat.call("POST", f"{base}/signal", {"deploy_status_code": 0})
        await heat.until("d", stack_id, "CREATE_COMPLETE")
        await heat.call("DELETE", f"/stacks/d/{stack_id}", expect=204)
        await heat.settle(5)
        resource = (await heat.call("GET", base))["resource"]
        assert resource["resource_status"] == "DELETE_IN_PROGRESS"
        deployment = await deployment_of(heat, "d", stack_id)
        assert (deployment["action"], deployment["status"]) == ("DELETE", "IN_PROGRESS")
        # The resource takes the signal while it deletes (heat's no_signal_actions is empty).
        await heat.call("POST", f"{base}/signal", {"deploy_status_code": 0})
        for _ in range(30):
            await heat.settle(1)
            if (await heat.request("GET", f"/stacks/d/{stack_id}")).status_code == 404:
                break
        else:
            raise AssertionError("the stack was not deleted")
        assert (await heat.call("GET", "/software_deployments"))["software_deployments"] == []

    run_heat(scenario)


def test_a_component_deploys_at_the_actions_its_configs_name() -> None:
    component = {"type": "OS::Heat::SoftwareComponent", "properties": {
        "configs": [{"actions": ["CREATE"], "config": "#!/bin/sh\necho create",
                     "tool": "script"},
                    {"actions": ["DELETE"], "config": "#!/bin/sh\necho delete",
                     "tool": "script"}],
        "inputs": [{"name": "foo"}], "outputs": [{"name": "result"}]}}
    template = {"heat_template_version": "2018-08-31", "resources": {
        "component": component,
        "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
            "config": {"get_resource": "component"}, "server": "srv",
            "actions": ["UPDATE"], "input_values": {"foo": "x"},
            "signal_transport": "NO_SIGNAL"}}},
        "outputs": {"configs": {"value": {"get_attr": ["component", "configs"]}}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("c", template))["stack"]["id"]
        shown = await heat.until("c", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        configs = outputs(shown)["configs"]
        assert [c["actions"] for c in configs] == [["CREATE"], ["DELETE"]]
        assert configs[0]["tool"] == "script"
        # CREATE is the component's, not the deployment's (UPDATE only): deployed.
        [deployment] = (await heat.call("GET", "/software_deployments"))[
            "software_deployments"]
        assert (deployment["action"], deployment["status"]) == ("CREATE", "COMPLETE")
        derived = (await heat.call(
            "GET", f"/software_configs/{deployment['config_id']}"))["software_config"]
        assert derived["group"] == "component"
        assert derived["config"]["configs"][1]["config"] == "#!/bin/sh\necho delete"

        twice = {**component, "properties": {**component["properties"], "configs": [
            {"actions": ["CREATE", "UPDATE"], "config": "a", "tool": "script"},
            {"actions": ["UPDATE"], "config": "b", "tool": "script"}]}}
        bad = (await heat.create("twice", {"heat_template_version": "2018-08-31",
                                           "resources": {"comp": twice}}))["stack"]["id"]
        shown = await heat.until("twice", bad, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status_reason"].endswith(
            'Defining more than one configuration for the same action in '
            'SoftwareComponent "comp" is not allowed.'), shown["stack_status_reason"]

    run_heat(scenario)
