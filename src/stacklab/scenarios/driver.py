"""How a scenario reaches its cloud and lets lab time pass: the one difference between
the two runners.

Both talk to the cloud over its HTTP API only (the services' APIs through the public
VIP, the lab's through ``/stacklab/v1``), so every step means the same in both:

- ``VirtualDriver``: an in-process cloud on a ``VirtualClock``, reached through its ASGI
  app; lab time passes only when the scenario lets it (``advance``), so an hour of the
  lab's life takes seconds;
- ``LiveDriver``: a running cloud at a URL, in real time; lab seconds are the cloud's
  (``[stacklab] ha_time_scale``, which ``/stacklab/v1/ha`` reports).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

import httpx

# How long (lab seconds) a request may take before the scenario gives up on it: a SYN
# retransmitted six times (127 s) fits.
REQUEST_BUDGET = 150.0
# The shortest real time a live background task (probe, sampler) sleeps between looks.
BACKGROUND_FLOOR = 0.02


@dataclass(frozen=True)
class Answer:
    """What a request got: a status and body, or no answer at all (``error``)."""

    status: int | None
    body: Any
    text: str = ""
    headers: dict[str, str] | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        return self.error if self.status is None else str(self.status)


class Driver(Protocol):
    def now(self) -> float:
        """Lab seconds since the scenario started."""

    async def request(self, method: str, path: str, *, token: str | None = None,
                      json: Any = None, headers: dict[str, str] | None = None,
                      pump: bool = True) -> Answer:
        """One HTTP request. ``pump``: the caller is the scenario itself, which lets lab time
        pass while it waits (a background task's request waits for the scenario's time)."""

    async def ha(self, token: str, *, pump: bool = True) -> Answer:
        """``GET /stacklab/v1/ha``: VIP holder, HAProxy, Galera, HA routers' keepalived."""

    async def sample(self, token: str) -> Answer:
        """What the scenario's sampler follows (``sampled``), read in the background."""

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of lab time pass (the scenario's own waits)."""

    async def sleep(self, seconds: float) -> None:
        """A background task's sleep of lab seconds (the probe's, the sampler's)."""

    async def close(self) -> None: ...


def sampled(ha: dict[str, Any]) -> dict[str, Any]:
    """From ``/stacklab/v1/ha``'s answer, what the sampler follows: the VIP holder, Galera's
    primary component, the RabbitMQ nodes that serve (None: the lab has no RabbitMQ) and
    each HA router's MASTER nodes."""
    rabbit = ha.get("rabbitmq")
    return {"holder": ha["keepalived"]["holder"],
            "primary_component": ha["galera"]["primary_component"],
            "rabbit_serving": rabbit["serving"] if rabbit else None,
            "routers": {router_id: [i["node"] for i in instances if i["state"] == "MASTER"]
                        for router_id, instances in ha["routers"].items()}}


def _answer(response: httpx.Response) -> Answer:
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = None
    return Answer(response.status_code, body, response.text, dict(response.headers))


class VirtualDriver:
    """An in-process cloud on a virtual clock (``Cloud(config, clock=VirtualClock())``)."""

    def __init__(self, cloud: Any, clock: Any) -> None:
        from stacklab.api.app import build_app

        self.cloud = cloud
        self.clock = clock
        self.started = clock.now()
        self.client = AsgiClient(build_app(cloud))

    def now(self) -> float:
        return float(self.clock.now() - self.started)

    async def request(self, method: str, path: str, *, token: str | None = None,
                      json: Any = None, headers: dict[str, str] | None = None,
                      pump: bool = True) -> Answer:
        from stacklab.api.app import ConnectionClosed

        sent = {**(headers or {}), **({"X-Auth-Token": token} if token else {})}
        task = asyncio.ensure_future(self.client.request(method, path, headers=sent, json=json))
        if pump:
            begun = self.clock.now()
            await self.clock.run_for(0)
            while not task.done():
                if self.clock.now() - begun > REQUEST_BUDGET:
                    task.cancel()
                    return Answer(None, None, error="no answer (timed out)")
                await self.clock.run_for(0.1)
        try:
            return await task
        except ConnectionClosed:
            return Answer(None, None, error="connection closed")

    async def ha(self, token: str, *, pump: bool = True) -> Answer:
        # What the route answers, read from the lab itself: the sampler asks every quarter
        # of a lab second after a fault, and HTTP's and the token check's cost per look
        # would be most of an idle lab hour's wall time.
        from stacklab.lab.declaration import LAB

        return Answer(200, self.cloud.get(LAB).ha())

    async def sample(self, token: str) -> Answer:
        # Only what the sampler follows, several times a lab second after a fault: the
        # whole status (every proxy's backends, Ceph's placement groups) was 5 % of an hour.
        from stacklab.lab.declaration import LAB

        return Answer(200, self.cloud.get(LAB).sample())

    async def advance(self, seconds: float) -> None:
        await self.clock.run_for(seconds)

    async def sleep(self, seconds: float) -> None:
        await self.clock.sleep(seconds)

    async def close(self) -> None:
        pass


Asgi = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                 Callable[[MutableMapping[str, Any]], Awaitable[None]]], Awaitable[None]]


class AsgiClient:
    """One request at a time to an ASGI app in this process, as httpx's ``ASGITransport``
    hands it over (the same scope, the body in one message, a disconnect once answered),
    without the client around it: building httpx's request and response objects, its
    cookie jar and its per-request import of ``sniffio`` were a tenth of a lab hour."""

    HOST = "stacklab.test"

    def __init__(self, app: Asgi) -> None:
        self.app = app

    async def request(self, method: str, path: str, *, headers: dict[str, str],
                      json: Any = None) -> Answer:
        body = b"" if json is None else jsonlib.dumps(
            json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        sent = [(b"host", self.HOST.encode()), (b"accept", b"*/*"),
                (b"connection", b"keep-alive"), (b"user-agent", b"stacklab-scenario")]
        if json is not None:
            sent += [(b"content-length", str(len(body)).encode()),
                     (b"content-type", b"application/json")]
        sent += [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        raw_path, _, query = path.partition("?")
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "headers": sent, "scheme": "http",
            "path": unquote(raw_path), "raw_path": raw_path.encode(),
            "query_string": query.encode(), "server": (self.HOST, None),
            "client": ("127.0.0.1", 123), "root_path": ""}
        answered = asyncio.Event()
        delivered = False
        status: int | None = None
        received: list[tuple[bytes, bytes]] = []
        parts: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                await answered.wait()
                return {"type": "http.disconnect"}
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                received.extend(message.get("headers", []))
            elif message["type"] == "http.response.body":
                if message.get("body") and method != "HEAD":
                    parts.append(message["body"])
                if not message.get("more_body", False):
                    answered.set()

        await self.app(scope, receive, send)
        assert status is not None and answered.is_set()
        content = b"".join(parts)
        found: dict[str, str] = {}
        for name, value in received:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            found[key] = f"{found[key]}, {text}" if key in found else text
        text = content.decode("utf-8", errors="replace")
        try:
            decoded = jsonlib.loads(content) if content else None
        except ValueError:
            decoded = None
        return Answer(status, decoded, text, found)


class LiveDriver:
    """A running cloud at ``url``, in real time; ``scale`` real seconds per lab second."""

    def __init__(self, url: str, scale: float = 1.0) -> None:
        self.url = url.rstrip("/")
        self.scale = scale
        self.started = time.monotonic()
        self.client = httpx.AsyncClient(base_url=self.url,
                                        timeout=httpx.Timeout(REQUEST_BUDGET * max(scale, 0.1)))

    def now(self) -> float:
        return (time.monotonic() - self.started) / self.scale

    async def request(self, method: str, path: str, *, token: str | None = None,
                      json: Any = None, headers: dict[str, str] | None = None,
                      pump: bool = True) -> Answer:
        sent = {**(headers or {}), **({"X-Auth-Token": token} if token else {})}
        try:
            return _answer(await self.client.request(method, path, headers=sent, json=json))
        except httpx.TimeoutException:
            return Answer(None, None, error="no answer (timed out)")
        except httpx.TransportError as error:
            # The proxy closing a connection it cannot serve, or nobody listening.
            return Answer(None, None, error=f"connection failed ({type(error).__name__})")

    async def ha(self, token: str, *, pump: bool = True) -> Answer:
        return await self.request("GET", "/stacklab/v1/ha", token=token, pump=pump)

    async def sample(self, token: str) -> Answer:
        answer = await self.ha(token, pump=False)
        if not answer.ok:
            return answer
        return Answer(answer.status, sampled(answer.body), answer.text, answer.headers)

    async def advance(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.scale)

    async def sleep(self, seconds: float) -> None:
        # A lab running many times faster than real time would have the probe and the
        # sampler hammer it: a background look waits at least a few milliseconds.
        await asyncio.sleep(max(seconds * self.scale, BACKGROUND_FLOOR))

    async def close(self) -> None:
        await self.client.aclose()
