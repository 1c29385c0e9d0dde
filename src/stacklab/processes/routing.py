"""Where a request goes in one process of the multi-process shape.

Every process builds the whole cloud, so every API's handlers exist in each; but a
service's calls to another (nova to neutron, heat to nova ...) must reach the process
that serves that API, as keystoneauth reaches a real service's endpoint. ``Routed``
is the app a process's services call through (``Parts.app``): a path under a mount
another process serves goes there over HTTP, anything else to the local app. ``Served``
is what the process's own port answers: its own APIs, and a 404 for another's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

# Hop-by-hop and framing headers: the forwarded request and answer get their own. The
# Host header goes on as the client sent it, as HAProxy forwards it: what an API signs or
# links with is the address the client used (heat-api-cfn's EC2 signatures cover it).
_DROPPED = frozenset({b"content-length", b"connection", b"transfer-encoding", b"keep-alive"})
_DROPPED_ANSWER = frozenset({"content-length", "connection", "transfer-encoding",
                             "content-encoding", "keep-alive"})


def owner(remote: Mapping[str, str], path: str) -> str | None:
    """The base URL of the process serving ``path``, when another process does."""
    for mount in sorted(remote, key=len, reverse=True):
        if path == mount or path.startswith(mount + "/"):
            return remote[mount]
    return None


async def _body(receive: Any) -> bytes:
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


class Routed:
    """The local app, with the mounts in ``remote`` (mount -> base URL) forwarded."""

    def __init__(self, local: Any, remote: Mapping[str, str]) -> None:
        self.local = local
        self.remote = dict(remote)
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            # A call's own deadline is its caller's (ServiceClient's 30 s); a process being
            # restarted holds the connection in its port's backlog meanwhile.
            self._client = httpx.AsyncClient(timeout=60.0)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        base = owner(self.remote, scope["path"]) if scope["type"] == "http" else None
        if base is None:
            await self.local(scope, receive, send)
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]
                   if k.lower() not in _DROPPED]
        path = scope.get("raw_path") or scope["path"].encode()
        url = base + path.decode("latin-1")
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        # A connection refused surfaces to ServiceClient as httpx's own error, which it
        # reports as the service unreachable (keystoneauth's ConnectFailure).
        answer = await self.client().request(scope["method"], url, headers=headers,
                                             content=await _body(receive))
        body = answer.content
        out = [(k.encode("latin-1"), v.encode("latin-1"))
               for k, v in answer.headers.multi_items() if k.lower() not in _DROPPED_ANSWER]
        out.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": answer.status_code,
                    "headers": out})
        await send({"type": "http.response.body", "body": body})


class Served:
    """A process's port: its own APIs; another process's mount answers 404 (its
    endpoint in the catalog is that process's port)."""

    def __init__(self, local: Any, remote: Mapping[str, str]) -> None:
        self.local = local
        self.remote = dict(remote)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and owner(self.remote, scope["path"]) is not None:
            body = (b'{"error": {"code": 404, "title": "Not Found", "message": '
                    b'"This API is served on another port: see the catalog."}}')
            await send({"type": "http.response.start", "status": 404, "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.local(scope, receive, send)
