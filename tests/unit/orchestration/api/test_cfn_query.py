"""heat-api-cfn's DescribeStackResource as os-collect-config's cfn collector asks it: a
server with user_data_format SOFTWARE_CONFIG gets heat's ``os-collect-config`` section
(POLL_SERVER_CFN), the agent reads its deployments through heat-api-cfn with the key pair,
signals the deployment, and the stack completes with the deployment's outputs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse
from xml.etree import ElementTree

import httpx
import pytest

from stacklab.orchestration.api.cfn_query import ec2_signature_v2
from unit.orchestration.heat_calls import Heat, run_heat

ec2_utils = pytest.importorskip("keystoneclient.contrib.ec2.utils")

CONFIG = {"type": "OS::Heat::SoftwareConfig", "properties": {
    "group": "script", "config": "#!/bin/sh\necho hi > $heat_outputs_path.result",
    "inputs": [{"name": "who"}], "outputs": [{"name": "result"}]}}


def template(image: str, transport: str | None = None) -> dict[str, Any]:
    server: dict[str, Any] = {"flavor": "m1.tiny", "image": image, "networks": [],
                              "user_data_format": "SOFTWARE_CONFIG"}
    if transport:
        server["software_config_transport"] = transport
    return {"heat_template_version": "2018-08-31", "resources": {
        "server": {"type": "OS::Nova::Server", "properties": server},
        "config": CONFIG,
        "deploy": {"type": "OS::Heat::SoftwareDeployment", "properties": {
            "config": {"get_resource": "config"}, "server": {"get_resource": "server"},
            "input_values": {"who": "world"}}}},
        "outputs": {"result": {"value": {"get_attr": ["deploy", "result"]}},
                    "occ": {"value": {"get_attr": ["server", "os_collect_config"]}}}}


def signed_params(cfn: dict[str, Any], resource: str, *, secret: str | None = None,
                  **extra: str) -> dict[str, str]:
    """The query os-collect-config's cfn collector sends, signed by keystoneclient's
    Ec2Signer as the collector signs it."""
    url = urlparse(cfn["metadata_url"])
    params = {"Action": "DescribeStackResource", "StackName": cfn["stack_name"],
              "LogicalResourceId": resource, "AWSAccessKeyId": cfn["access_key_id"],
              "SignatureVersion": "2", **extra}
    signer = ec2_utils.Ec2Signer(secret_key=secret or cfn["secret_access_key"])
    params["Signature"] = signer.generate({"params": params, "verb": "GET",
                                           "host": url.netloc, "path": url.path})
    return params


async def describe(heat: Heat, cfn: dict[str, Any], params: dict[str, str]) -> httpx.Response:
    return await heat.client.get(urlparse(cfn["metadata_url"]).path, params=params)


async def image_id(heat: Heat) -> str:
    images = await heat.client.get("/image/v2/images", headers={"X-Auth-Token": heat.token})
    return str(images.json()["images"][0]["id"])


def error_of(answer: httpx.Response) -> tuple[int, str, str]:
    root = ElementTree.fromstring(answer.text)
    assert root.tag == "ErrorResponse", answer.text
    error = root.find("Error")
    assert error is not None
    return (answer.status_code, error.findtext("Code") or "", error.findtext("Message") or "")


def test_os_collect_config_reads_its_deployments_through_heat_api_cfn_and_signals() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("s", template(await image_id(heat))))["stack"]["id"]
        base = f"/stacks/s/{stack_id}/resources"
        for _ in range(60):
            await heat.settle(1)
            deploy = (await heat.call("GET", f"{base}/deploy"))["resource"]
            if deploy["resource_status"] == "CREATE_IN_PROGRESS" and \
                    deploy["physical_resource_id"]:
                break
        metadata = (await heat.call("GET", f"{base}/server/metadata"))["metadata"]
        occ = metadata["os-collect-config"]
        assert occ["collectors"] == ["ec2", "cfn", "local"]
        cfn = occ["cfn"]
        assert cfn["metadata_url"] == "http://testserver/heat-api-cfn/v1/"
        assert (cfn["stack_name"], cfn["path"]) == ("s", "server.Metadata")
        assert len(cfn["access_key_id"]) == 32 and len(cfn["secret_access_key"]) == 32

        # As the collector: XML, the Metadata element JSON text holding the deployments.
        answer = await describe(heat, cfn, signed_params(cfn, "server"))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        root = ElementTree.fromstring(answer.text)
        assert root.tag == "DescribeStackResourceResponse"
        result = root.find("DescribeStackResourceResult")
        assert result is not None
        detail = result.find("StackResourceDetail")
        assert detail is not None
        assert detail.findtext("LogicalResourceId") == "server"
        assert detail.findtext("ResourceType") == "OS::Nova::Server"
        assert detail.findtext("ResourceStatus") == "CREATE_COMPLETE"
        assert detail.findtext("StackName") == "s"
        assert detail.findtext("StackId") == (
            f"arn:openstack:heat::{heat.project}:stacks/s/{stack_id}")
        served = json.loads(detail.findtext("Metadata") or "")
        assert served["os-collect-config"] == occ
        [deployment] = served["deployments"]
        inputs = {i["name"]: i.get("value") for i in deployment["inputs"]}
        assert inputs["who"] == "world" and inputs["deploy_action"] == "CREATE"
        assert deployment["group"] == "script" and deployment["config"] == (
            CONFIG["properties"]["config"])

        # ContentType=JSON, the stack named by its ARN: the same answer in JSON.
        arn = detail.findtext("StackId") or ""
        answer = await describe(heat, cfn, signed_params(
            {**cfn, "stack_name": arn}, "server", ContentType="JSON"))
        assert answer.status_code == 200, answer.text
        shown = answer.json()["DescribeStackResourceResponse"][
            "DescribeStackResourceResult"]["StackResourceDetail"]
        assert shown["Metadata"] == served

        # The agent's signal to deploy_signal_id completes the deployment and the stack.
        reply = await heat.client.post(
            inputs["deploy_signal_id"].removeprefix("http://testserver"),
            json={"deploy_stdout": "hi", "deploy_stderr": "", "deploy_status_code": 0,
                  "result": "hello world"})
        assert reply.status_code == 200, reply.text
        shown_stack = await heat.until("s", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown_stack["stack_status"] == "CREATE_COMPLETE", (
            shown_stack["stack_status_reason"])
        outputs = {o["output_key"]: o["output_value"] for o in shown_stack["outputs"]}
        assert outputs["result"] == "hello world"
        assert outputs["occ"] == occ
        deployment_row = (await heat.call(
            "GET", f"/software_deployments/{deploy['physical_resource_id']}"))[
            "software_deployment"]
        assert deployment_row["status"] == "COMPLETE"

        # Bad input, in heat-api-cfn's own words.
        wrong = await describe(heat, cfn, signed_params(cfn, "server", secret="0" * 32))
        assert error_of(wrong) == (403, "SignatureDoesNotMatch", (
            "The request signature we calculated does not match the signature you "
            "provided"))
        unknown_key = await describe(heat, {**cfn, "access_key_id": "f" * 32},
                                     signed_params({**cfn, "access_key_id": "f" * 32},
                                                   "server"))
        assert error_of(unknown_key)[:2] == (403, "InvalidClientTokenId")
        unsigned = signed_params(cfn, "server")
        del unsigned["Signature"]
        assert error_of(await describe(heat, cfn, unsigned))[:2] == (
            400, "IncompleteSignature")
        other = await describe(heat, cfn, signed_params(cfn, "deploy"))
        assert error_of(other) == (403, "AccessDenied", (
            "User is not authorized to perform action:You are not authorized to use this "
            "action."))
        no_stack = await describe(heat, cfn, signed_params({**cfn, "stack_name": "nope"},
                                                           "server"))
        assert error_of(no_stack) == (400, "InvalidParameterValue", (
            "A bad or out-of-range value was supplied:The Stack (nope) could not be "
            "found."))
        as_json = await describe(heat, cfn, signed_params(
            {**cfn, "stack_name": "nope"}, "server", ContentType="JSON"))
        assert as_json.status_code == 400
        assert as_json.json()["ErrorResponse"]["Error"]["Code"] == "InvalidParameterValue"
        listing = await describe(heat, cfn, signed_params(
            cfn, "server", Action="ListStacks"))
        assert error_of(listing) == (501, "APINotImplemented", (
            "The requested action is not yet implemented:stacklab does not implement "
            "ListStacks"))
        unknown = await describe(heat, cfn, signed_params(cfn, "server", Action="Nope"))
        assert error_of(unknown) == (400, "InvalidAction",
                                     "The action or operation requested is invalid")

        # Once the stack is gone, so is the key pair.
        await heat.call("DELETE", f"/stacks/s/{stack_id}", expect=204)
        await heat.settle(30)
        gone = await describe(heat, cfn, signed_params(cfn, "server"))
        assert error_of(gone)[:2] == (403, "InvalidClientTokenId")

    run_heat(scenario)


def test_transports_the_lab_cannot_serve_are_refused_when_the_stack_is_checked() -> None:
    async def scenario(heat: Heat) -> None:
        image = await image_id(heat)
        for transport, needs in (("POLL_TEMP_URL", "an object store (swift)"),
                                 ("ZAQAR_MESSAGE", "a messaging service (zaqar)")):
            refused = await heat.create("t", template(image, transport), expect=400)
            message = refused["error"]["message"]
            assert f"software_config_transport {transport} is not supported" in message
            assert needs in message
        # Without SOFTWARE_CONFIG heat ignores the transport, as it does.
        plain = template(image, "POLL_TEMP_URL")
        plain["resources"]["server"]["properties"]["user_data_format"] = "RAW"
        del plain["resources"]["deploy"], plain["outputs"]
        await heat.create("raw", plain)

    run_heat(scenario)


def test_signature_v2_matches_keystones_signer() -> None:
    params = {"Action": "DescribeStackResource", "StackName": "s a/b",
              "LogicalResourceId": "server", "AWSAccessKeyId": "k", "SignatureVersion": "2"}
    for method in ("HmacSHA256", "HmacSHA1"):
        given = {**params, "SignatureMethod": method}
        signer = ec2_utils.Ec2Signer(secret_key="secret")
        if method == "HmacSHA1":
            signer.hmac_256 = None  # keystone's signer falls back to SHA-1 so
        expected = signer.generate({"params": dict(given), "verb": "GET",
                                    "host": "h:8080", "path": "/heat-api-cfn/v1/"})
        assert ec2_signature_v2("secret", "GET", "h:8080", "/heat-api-cfn/v1/",
                                given) == expected


def test_the_agent_sees_a_redeployment_after_a_stack_update() -> None:
    async def scenario(heat: Heat) -> None:
        image = await image_id(heat)
        first = template(image)
        first["resources"]["deploy"]["properties"]["signal_transport"] = "NO_SIGNAL"
        stack_id = (await heat.create("u", first))["stack"]["id"]
        shown = await heat.until("u", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        metadata = (await heat.call(
            "GET", f"/stacks/u/{stack_id}/resources/server/metadata"))["metadata"]
        cfn = metadata["os-collect-config"]["cfn"]

        async def deployed_inputs() -> dict[str, Any]:
            answer = await describe(heat, cfn, signed_params(cfn, "server",
                                                             ContentType="JSON"))
            assert answer.status_code == 200, answer.text
            [deployment] = answer.json()["DescribeStackResourceResponse"][
                "DescribeStackResourceResult"]["StackResourceDetail"]["Metadata"][
                "deployments"]
            return {i["name"]: i.get("value") for i in deployment["inputs"]}

        assert (await deployed_inputs())["who"] == "world"
        second = template(image)
        second["resources"]["deploy"]["properties"].update(
            signal_transport="NO_SIGNAL", input_values={"who": "again"})
        await heat.call("PATCH", f"/stacks/u/{stack_id}", {"template": second},
                        expect=202)
        shown = await heat.until("u", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        inputs = await deployed_inputs()
        assert (inputs["who"], inputs["deploy_action"]) == ("again", "UPDATE")
        # The server kept its key pair: the agent's configuration still holds.
        metadata = (await heat.call(
            "GET", f"/stacks/u/{stack_id}/resources/server/metadata"))["metadata"]
        assert metadata["os-collect-config"]["cfn"] == cfn

    run_heat(scenario)


def test_poll_server_heat_gives_the_agent_a_stack_user_for_heat_api() -> None:
    async def scenario(heat: Heat) -> None:
        spec = template(await image_id(heat), "POLL_SERVER_HEAT")
        spec["resources"]["deploy"]["properties"]["signal_transport"] = "HEAT_SIGNAL"
        stack_id = (await heat.create("h", spec))["stack"]["id"]
        base = f"/stacks/h/{stack_id}/resources"
        for _ in range(60):
            await heat.settle(1)
            metadata = (await heat.call("GET", f"{base}/server/metadata"))["metadata"]
            if metadata.get("deployments"):
                break
        occ = metadata["os-collect-config"]
        assert occ["collectors"] == ["ec2", "heat", "local"]
        conf = occ["heat"]
        assert conf["auth_url"] == "http://testserver/identity/v3"
        assert (conf["project_id"], conf["stack_id"], conf["resource_name"]) == (
            heat.project, f"h/{stack_id}", "server")
        # As os-collect-config's heat collector: keystone with the user's id and password,
        # then the resource's metadata from heat-api.
        login = await heat.client.post("/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "id": conf["user_id"], "password": conf["password"]}}},
            "scope": {"project": {"id": conf["project_id"]}}}})
        assert login.status_code == 201, login.text
        token = login.headers["X-Subject-Token"]
        assert [r["name"] for r in login.json()["token"]["roles"]] == ["heat_stack_user"]
        seen = (await heat.call("GET", f"/stacks/{conf['stack_id']}/resources/server/"
                                "metadata", token=token))["metadata"]
        [deployment] = seen["deployments"]
        inputs = {i["name"]: i.get("value") for i in deployment["inputs"]}
        assert inputs["deploy_signal_transport"] == "HEAT_SIGNAL"
        # The stack user reads and signals, nothing more.
        await heat.call("GET", "/stacks", token=token, expect=403)
        await heat.call("POST", f"{base}/deploy/signal", {
            "deploy_status_code": 0, "result": "via heat"}, token=token)
        shown = await heat.until("h", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert {o["output_key"]: o["output_value"] for o in shown["outputs"]}[
            "result"] == "via heat"
        # The user goes with the server.
        await heat.call("DELETE", f"/stacks/h/{stack_id}", expect=204)
        await heat.settle(30)
        users = await heat.client.get(f"/identity/v3/users/{conf['user_id']}",
                                      headers={"X-Auth-Token": heat.token})
        assert users.status_code == 404, users.text

    run_heat(scenario)


def test_a_changed_transport_rewrites_the_agents_configuration() -> None:
    async def scenario(heat: Heat) -> None:
        image = await image_id(heat)
        first = template(image)
        first["resources"]["deploy"]["properties"]["signal_transport"] = "NO_SIGNAL"
        stack_id = (await heat.create("x", first))["stack"]["id"]
        shown = await heat.until("x", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        path = f"/stacks/x/{stack_id}/resources/server/metadata"
        cfn = (await heat.call("GET", path))["metadata"]["os-collect-config"]["cfn"]
        server_id = (await heat.call("GET", f"/stacks/x/{stack_id}/resources/server"))[
            "resource"]["physical_resource_id"]

        async def update(transport: str) -> dict[str, Any]:
            spec = template(image, transport)
            spec["resources"]["deploy"]["properties"]["signal_transport"] = "NO_SIGNAL"
            await heat.call("PATCH", f"/stacks/x/{stack_id}", {"template": spec},
                            expect=202)
            shown = await heat.until("x", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
            assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
            metadata: dict[str, Any] = (await heat.call("GET", path))["metadata"]
            return metadata

        # heat's way: the transport given up stays, its values None; the server is kept.
        metadata = await update("POLL_SERVER_HEAT")
        occ = metadata["os-collect-config"]
        assert occ["collectors"] == ["ec2", "heat", "local"]
        assert occ["cfn"] == dict.fromkeys(cfn)
        assert occ["heat"]["user_id"] and metadata["deployments"]
        assert (await heat.call("GET", f"/stacks/x/{stack_id}/resources/server"))[
            "resource"]["physical_resource_id"] == server_id
        user_id = occ["heat"]["user_id"]
        metadata = await update("POLL_SERVER_CFN")
        occ = metadata["os-collect-config"]
        assert occ["collectors"] == ["ec2", "cfn", "local"]
        assert occ["cfn"] == cfn and set(occ["heat"].values()) == {None}
        gone = await heat.client.get(f"/identity/v3/users/{user_id}",
                                     headers={"X-Auth-Token": heat.token})
        assert gone.status_code == 404, gone.text
        answer = await describe(heat, cfn, signed_params(cfn, "server"))
        assert answer.status_code == 200, answer.text

    run_heat(scenario)


def test_template_metadata_with_deployments_fails_a_software_config_server() -> None:
    async def scenario(heat: Heat) -> None:
        spec = template(await image_id(heat))
        spec["resources"]["server"]["metadata"] = {"deployments": []}
        del spec["resources"]["deploy"], spec["outputs"]
        stack_id = (await heat.create("m", spec))["stack"]["id"]
        shown = await heat.until("m", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status_reason"].endswith(
            "deployments key not allowed in resource metadata with user_data_format of "
            "SOFTWARE_CONFIG"), shown["stack_status_reason"]

    run_heat(scenario)
