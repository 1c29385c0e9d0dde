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
import time
from dataclasses import dataclass
from typing import Any, Protocol

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

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` of lab time pass (the scenario's own waits)."""

    async def sleep(self, seconds: float) -> None:
        """A background task's sleep of lab seconds (the probe's, the sampler's)."""

    async def close(self) -> None: ...


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
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=build_app(cloud)),
                                        base_url="http://stacklab.test", timeout=None)

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
            return _answer(await task)
        except ConnectionClosed:
            return Answer(None, None, error="connection closed")

    async def ha(self, token: str, *, pump: bool = True) -> Answer:
        # What the route answers, read from the lab itself: the sampler asks every quarter
        # of a lab second after a fault, and HTTP's and the token check's cost per look
        # would be most of an idle lab hour's wall time.
        from stacklab.lab.declaration import LAB

        return Answer(200, self.cloud.get(LAB).ha())

    async def advance(self, seconds: float) -> None:
        await self.clock.run_for(seconds)

    async def sleep(self, seconds: float) -> None:
        await self.clock.sleep(seconds)

    async def close(self) -> None:
        await self.client.aclose()


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

    async def advance(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.scale)

    async def sleep(self, seconds: float) -> None:
        # A lab running many times faster than real time would have the probe and the
        # sampler hammer it: a background look waits at least a few milliseconds.
        await asyncio.sleep(max(seconds * self.scale, BACKGROUND_FLOOR))

    async def close(self) -> None:
        await self.client.aclose()
