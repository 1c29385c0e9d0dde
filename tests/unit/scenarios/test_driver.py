"""The virtual driver's cheap look at what the sampler follows says what the full
``/stacklab/v1/ha`` answer says, before and after a failover."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from stacklab.scenarios.driver import AsgiClient, VirtualDriver, sampled
from stacklab.scenarios.run import in_virtual_time, virtual_cloud


def test_sample_agrees_with_the_full_ha_answer() -> None:
    cloud, clock = virtual_cloud()

    async def body(driver: VirtualDriver) -> list[tuple[Any, Any]]:
        seen = []
        for _ in range(2):
            full = (await driver.ha("")).body
            brief = (await driver.sample("")).body
            seen.append((sampled(full), brief))
            cloud.node_down("proxy1.openstack.local")  # the VIP moves to proxy2
            await clock.run_for(10)
        return seen

    looks = asyncio.run(in_virtual_time(cloud, clock, body))
    for full, brief in looks:
        assert brief == full
    assert looks[0][1]["holder"] != looks[1][1]["holder"]
    assert looks[1][1]["rabbit_serving"]


def test_the_asgi_client_hands_over_what_httpx_would() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: MutableMapping[str, Any],
                  receive: Callable[[], Awaitable[dict[str, Any]]],
                  send: Callable[[MutableMapping[str, Any]], Awaitable[None]]) -> None:
        seen["scope"] = scope
        seen["body"] = (await receive())["body"]
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"X-A", b"1"), (b"x-a", b"2"), (b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"not ", "more_body": True})
        await send({"type": "http.response.body", "body": b"json"})
        seen["after"] = await receive()  # the client has its answer: a disconnect

    answer = asyncio.run(AsgiClient(app).request(
        "POST", "/v3/a%20b?x=1&y=2", headers={"X-Auth-Token": "t"}, json={"k": "é"}))
    scope = seen["scope"]
    assert (scope["method"], scope["path"], scope["raw_path"], scope["query_string"]) == \
        ("POST", "/v3/a b", b"/v3/a%20b", b"x=1&y=2")
    headers = dict(scope["headers"])
    assert headers[b"x-auth-token"] == b"t" and headers[b"content-type"] == b"application/json"
    assert seen["body"] == '{"k":"é"}'.encode() and headers[b"content-length"] == b"10"
    assert seen["after"] == {"type": "http.disconnect"}
    assert (answer.status, answer.body, answer.text) == (404, None, "not json")
    assert answer.headers["x-a"] == "1, 2"
