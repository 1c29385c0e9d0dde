"""One service calling another over HTTP, through the cloud's own ASGI app.

What keystoneauth's session and adapter are to nova's glance and neutron
clients and to neutron's nova notifier: every call takes the full request path
of the service it reaches (token, policy, quotas, request ids, logs), never a
shortcut into that service's objects or tables. A call carries either the
user's own token (look-ups of what the user named see only what the user may
see) or the calling service's own user's (``nova``, ``neutron``: logged in
once, and again once when the token is refused), and the caller's global
request id, so one request's lines can be read back across services.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from stacklab.observability.logging import global_id

# Where a call goes when the cloud has no listening address yet (in-process tests).
_INTERNAL_URL = "http://stacklab.internal"

# The ASGI scope extension of a request from the lab's console: the operator's own way to
# a service, out of band (as ssh to a controller and its local endpoint would be), so
# that it does not enter through the simulated VIP and load balancer. Only code in this
# process can set it; no header or client can.
CONSOLE = "stacklab.console"


def console(app: Any) -> Any:
    """``app`` as the lab's console reaches it: every request marked ``CONSOLE``."""

    async def marked(scope: Any, receive: Any, send: Any) -> None:
        scope = {**scope, "extensions": {**(scope.get("extensions") or {}), CONSOLE: True}}
        await app(scope, receive, send)

    return marked


def is_console(scope: Mapping[str, Any]) -> bool:
    return bool((scope.get("extensions") or {}).get(CONSOLE))


class ServiceCallError(Exception):
    """A call another service answered with an error (its status and parsed body)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        super().__init__(f"{status}: {body}")


class ServiceUnreachable(ServiceCallError):
    """No answer at all: the connection failed (no VIP holder, the load balancer gone), as
    keystoneauth's ConnectFailure; counted as a 503 by callers that read a status."""

    def __init__(self, reason: str) -> None:
        super().__init__(503, {"message": f"Unable to establish connection: {reason}"})


class ServiceClient:
    """Calls to the service mounted at ``mount``, as ``username`` or with a user's token."""

    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *, mount: str,
                 username: str, password: str, project: str = "service") -> None:
        self._app = app
        self._base_url = base_url
        self._mount = mount
        self._credentials = (username, password, project)
        self._token: str | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self._app()),
                                 base_url=self._base_url() or _INTERNAL_URL, timeout=30)

    async def _service_token(self, client: httpx.AsyncClient) -> str:
        if self._token is None:
            username, password, project = self._credentials
            answer = await client.post("/identity/v3/auth/tokens", json={"auth": {
                "identity": {"methods": ["password"], "password": {"user": {
                    "name": username, "domain": {"id": "default"}, "password": password}}},
                "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
            if answer.status_code != 201:
                raise ServiceCallError(answer.status_code, _parsed(answer))
            self._token = answer.headers["X-Subject-Token"]
        return self._token

    async def send(self, method: str, path: str, *, token: str | None = None,
                   json: Any = None, params: Any = None, content: bytes | None = None,
                   headers: Mapping[str, str] | None = None,
                   service_token: bool = False) -> httpx.Response:
        """The answer to one call (2xx and 3xx), else ``ServiceCallError``.

        ``service_token``: a call made with a user's token carries the calling
        service's own token too (``X-Service-Token``, keystonemiddleware's
        service token: nova's ``[service_user] send_service_user_token``), so
        the service called knows a service acts for the user.

        The call runs in a task of its own: the request path it goes through
        binds its own request ids to the log context, which must not leak into
        the caller's (a copy of the context is the task's, not the caller's).
        """
        extra = dict(headers or {})
        origin = global_id()
        if origin:
            extra["X-OpenStack-Request-ID"] = origin
        return await asyncio.create_task(
            self._send(method, path, token, json, params, content, extra, service_token))

    async def _send(self, method: str, path: str, token: str | None, json: Any, params: Any,
                    content: bytes | None, headers: dict[str, str],
                    service_token: bool = False) -> httpx.Response:
        async with self._client() as client:
            for attempt in range(2):
                try:
                    auth = token or await self._service_token(client)
                    sent = {**headers, "X-Auth-Token": auth}
                    if token and service_token:
                        sent["X-Service-Token"] = await self._service_token(client)
                    answer = await client.request(
                        method, f"{self._mount}{path}", json=json, params=params,
                        content=content, headers=sent)
                except (ConnectionError, httpx.TransportError) as error:
                    raise ServiceUnreachable(str(error) or type(error).__name__) from None
                if answer.status_code == 401 and attempt == 0 and (
                        token is None or service_token):
                    self._token = None  # expired or revoked: log in again once
                    continue
                if answer.status_code >= 400:
                    raise ServiceCallError(answer.status_code, _parsed(answer))
                return answer
        raise AssertionError("unreachable")

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The parsed body of one call's answer (None when it has none)."""
        answer = await self.send(method, path, **kwargs)
        return answer.json() if answer.content else None


def _parsed(answer: httpx.Response) -> Any:
    if not answer.content:
        return {}
    try:
        return answer.json()
    except ValueError:
        return {"message": answer.text}
