"""OS::Heat::WaitCondition and its handle: signalled with the handle's pre-signed
heat-api-cfn URL (what ``curl_cli`` runs), or timed out with heat's reason."""

from __future__ import annotations

import shlex

from unit.orchestration.heat_calls import Heat, run_heat

WAIT = {"heat_template_version": "2018-08-31", "resources": {
    "handle": {"type": "OS::Heat::WaitConditionHandle"},
    "wait": {"type": "OS::Heat::WaitCondition",
             "properties": {"handle": {"get_resource": "handle"}, "timeout": 30}}},
    "outputs": {"curl": {"value": {"get_attr": ["handle", "curl_cli"]}},
                "data": {"value": {"get_attr": ["wait", "data"]}}}}


def test_a_signal_to_the_handles_url_completes_the_wait() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("w", WAIT))["stack"]["id"]
        await heat.settle(3)
        handle = (await heat.call("GET", f"/stacks/w/{stack_id}/resources/handle"))[
            "resource"]
        curl = shlex.split(handle["attributes"]["curl_cli"])
        assert curl[:3] == ["curl", "-i", "-X"] and "Content-Type: application/json" in curl
        url = curl[-1]
        assert url.startswith(
            f"http://testserver/heat-api-cfn/v1/waitcondition/{stack_id}/handle?Signature=")
        shown = await heat.stack("w", stack_id)
        assert shown["stack_status"] == "CREATE_IN_PROGRESS"
        answer = await heat.client.post(url.removeprefix("http://testserver"), json={
            "Status": "SUCCESS", "Reason": "booted", "UniqueId": "1", "Data": "ready"})
        assert answer.status_code == 200, answer.text
        shown = await heat.until("w", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
        assert outputs["data"] == '{"1": "ready"}'
        tampered = await heat.client.post(url.removeprefix("http://testserver") + "0",
                                          json={"Status": "SUCCESS"})
        assert tampered.status_code == 403

    run_heat(scenario)


def test_no_signal_times_the_wait_out_with_heats_reason() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("w", WAIT))["stack"]["id"]
        shown = await heat.until("w", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status_reason"] == (
            "Resource CREATE failed: WaitConditionTimeout: resources.wait: 0 of 1 received")

    run_heat(scenario)


def test_a_failure_signal_fails_the_wait() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("w", WAIT))["stack"]["id"]
        await heat.settle(3)
        handle = (await heat.call("GET", f"/stacks/w/{stack_id}/resources/handle"))[
            "resource"]
        url = handle["attributes"]["endpoint"].removeprefix("http://testserver")
        await heat.client.put(url, json={"Status": "FAILURE", "Reason": "no disk"})
        shown = await heat.until("w", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status_reason"] == (
            "Resource CREATE failed: WaitConditionFailure: resources.wait: no disk")

    run_heat(scenario)


def test_a_handle_signalled_through_heat_api_has_its_event_and_not_when_suspended() -> None:
    handle_only = {"heat_template_version": "2018-08-31", "resources": {
        "handle": {"type": "OS::Heat::WaitConditionHandle"}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("h", handle_only))["stack"]["id"]
        await heat.until("h", stack_id, "CREATE_COMPLETE")
        base = f"/stacks/h/{stack_id}"
        await heat.call("POST", f"{base}/resources/handle/signal", {"status": "SUCCESS"})
        events = (await heat.call("GET", f"{base}/resources/handle/events"))["events"]
        assert (events[-1]["resource_status"], events[-1]["resource_status_reason"]) == (
            "SIGNAL_COMPLETE", "Unknown")
        await heat.call("POST", f"{base}/actions", {"suspend": None})
        await heat.until("h", stack_id, "SUSPEND_COMPLETE")
        refused = await heat.request("POST", f"{base}/resources/handle/signal",
                                     {"status": "SUCCESS"})
        assert refused.status_code == 400
        assert refused.json()["error"]["type"] == "NotSupported"
        assert refused.json()["error"]["message"] == (
            "Signal resource during SUSPEND is not supported.")

    run_heat(scenario)


def test_a_handle_shown_before_its_create_kept_a_secret_has_no_url() -> None:
    """heat-api shows a handle between its create's start and the engine keeping its secret
    (another process, with --processes): it must not make a secret of its own, which would
    sign a URL the engine's secret refuses; it shows no URL until the secret is kept."""
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("w", WAIT))["stack"]["id"]
        await heat.settle(3)
        store = heat.cloud.orchestration.store
        handle = store.resources(stack_id)["handle"]
        secret = handle.data.pop("signal_secret")
        store.save_resource(stack_id, handle)  # as if the create had not kept it yet
        shown = (await heat.call("GET", f"/stacks/w/{stack_id}/resources/handle"))["resource"]
        assert not shown["attributes"].get("curl_cli")
        assert "signal_secret" not in store.resources(stack_id)["handle"].data
        handle.data["signal_secret"] = secret
        store.save_resource(stack_id, handle)
        shown = (await heat.call("GET", f"/stacks/w/{stack_id}/resources/handle"))["resource"]
        url = shlex.split(shown["attributes"]["curl_cli"])[-1]
        answer = await heat.client.post(url.removeprefix("http://testserver"), json={
            "Status": "SUCCESS", "UniqueId": "1", "Data": "ready"})
        assert answer.status_code == 200, answer.text

    run_heat(scenario)
