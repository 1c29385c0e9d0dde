"""User messages (3.3): what cinder records when an asynchronous step fails after the
request's 2xx (no backend for a volume, a failed upload), listed, shown and deleted by the
project they are about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from support.apiref import assert_shape_like_sample, assert_valid, openapi_response_schema, sample
from unit.block_storage.cinder_calls import Lab, run_lab
from unit.block_storage.test_volume_upload import _volume_with

SAMPLES = "api-ref/source/v3/samples"
MISSING = "f0000000-0000-4000-8000-000000000000"
THIRTY_DAYS = 2592000


def schema(path: str, method: str) -> Any:
    return openapi_response_schema("block-storage", path, method)


async def unschedulable_volume(lab: Lab, token: str) -> tuple[str, str]:
    """A volume no backend can take (its type asks a protocol none has): its id and the
    request id of its create."""
    await lab.call("POST", "/types", {"volume_type": {
        "name": "bogus", "extra_specs": {"storage_protocol": "carrier-pigeon"}}})
    answer = await lab.client.post("/volume/v3/volumes", json={"volume": {
        "size": 1, "volume_type": "bogus"}}, headers={
        "X-Auth-Token": token, "OpenStack-API-Version": "volume 3.71"})
    assert answer.status_code == 202, answer.text
    await lab.settle()
    ident = answer.json()["volume"]["id"]
    assert (await lab.volume(ident, token))["status"] == "error"
    return ident, answer.headers["x-openstack-request-id"]


def test_no_valid_backend_leaves_the_user_a_message() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("msg")
        volume, request_id = await unschedulable_volume(lab, token)

        listed = await lab.call("GET", "/messages", token=token)
        assert_valid(listed, schema("/v3/messages", "get"))
        assert_shape_like_sample(listed, sample("cinder",
                                                f"{SAMPLES}/messages-list-response.json"))
        [message] = listed["messages"]
        assert (message["resource_type"], message["resource_uuid"], message["event_id"],
                message["message_level"], message["request_id"]) == (
            "VOLUME", volume, "VOLUME_VOLUME_001_003", "ERROR", request_id)
        assert message["user_message"] == \
            "schedule allocate volume:Could not find any available weighted backend."
        assert message["links"][0]["href"].endswith(f"/v3/messages/{message['id']}")

        shown = await lab.call("GET", f"/messages/{message['id']}", token=token)
        assert_valid(shown, schema("/v3/messages/{id}", "get"))
        assert_shape_like_sample(shown, sample("cinder",
                                               f"{SAMPLES}/messages-show-response.json"))
        assert shown["message"] == message
        rows = await lab.call("GET", f"/messages?resource_uuid={volume}", token=token)
        assert rows["messages"] == [message]
        assert (await lab.call("GET", f"/messages?resource_uuid={MISSING}",
                               token=token))["messages"] == []

        # The project's own: another's sees none of it; an admin sees every project's.
        stranger, _ = await lab.member("msg-stranger")
        assert (await lab.call("GET", "/messages", token=stranger))["messages"] == []
        await lab.call("GET", f"/messages/{message['id']}", token=stranger, expect=404)
        await lab.call("DELETE", f"/messages/{message['id']}", token=stranger, expect=404)
        admin = await lab.call("GET", "/messages")
        assert [m["id"] for m in admin["messages"]] == [message["id"]]

        await lab.call("DELETE", f"/messages/{message['id']}", token=token, expect=204)
        gone = await lab.call("GET", f"/messages/{message['id']}", token=token, expect=404)
        assert gone["itemNotFound"]["message"] == \
            f"Message {message['id']} could not be found."

    run_lab(scenario)


def test_guaranteed_until_is_message_ttl_after_its_creation() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("msg-ttl")
        await unschedulable_volume(lab, token)
        [message] = (await lab.call("GET", "/messages", token=token))["messages"]
        span = (datetime.fromisoformat(message["guaranteed_until"])
                - datetime.fromisoformat(message["created_at"]))
        assert span.total_seconds() == THIRTY_DAYS

    run_lab(scenario)


def test_a_failed_upload_leaves_a_message_too() -> None:
    async def scenario(lab: Lab) -> None:
        volume = await _volume_with(lab, b"\x00" * 4096)
        await lab.call("POST", f"/volumes/{volume}/action", {
            "os-volume_upload_image": {"image_name": "q", "disk_format": "vmdk"}},
            expect=202)
        await lab.settle()
        [message] = (await lab.call("GET", "/messages"))["messages"]
        assert (message["resource_uuid"], message["event_id"], message["user_message"]) == (
            volume, "VOLUME_VOLUME_003_004",
            "copy volume to image:Failed to upload volume to image at backend.")

    run_lab(scenario)


def test_bad_requests_are_cinders_400_and_404() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("msg-bad")
        await lab.call("GET", "/messages", token=token, version="3.2", expect=404)
        refused = await lab.call("GET", "/messages?colour=red", token=token, expect=400)
        assert refused["badRequest"]["message"] == "Invalid filter keys: colour"
        await lab.call("GET", f"/messages/{MISSING}", token=token, expect=404)
        await lab.call("DELETE", f"/messages/{MISSING}", token=token, expect=404)
        await lab.call("GET", "/messages?limit=x", token=token, expect=400)
        await lab.call("GET", f"/messages?marker={MISSING}", token=token, expect=404)
        # Pages of one, newest first, with the link to the next.
        await unschedulable_volume(lab, token)
        await lab.call("POST", "/volumes", {"volume": {"size": 1, "volume_type": "bogus"}},
                       token=token, expect=202)
        await lab.settle()
        page = await lab.call("GET", "/messages?limit=1", token=token)
        assert len(page["messages"]) == 1 and page["messages_links"][0]["rel"] == "next"
        whole = (await lab.call("GET", "/messages", token=token))["messages"]
        assert page["messages"] == whole[:1] and len(whole) == 2
        assert whole[0]["created_at"] >= whole[1]["created_at"]

    run_lab(scenario)
