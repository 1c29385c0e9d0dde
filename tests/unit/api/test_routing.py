"""IndexedRouter answers every path as starlette's Router does, only trying fewer routes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from stacklab.api.routing import IndexedRouter

ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _endpoint(name: str) -> Any:
    async def endpoint(request: Request) -> Response:
        params = ",".join(f"{k}={v}" for k, v in sorted(request.path_params.items()))
        return PlainTextResponse(f"{name} {request.scope.get('root_path', '')} {params}")

    return endpoint


def _service(name: str) -> list[BaseRoute]:
    return [
        Route("/v3/auth/tokens", _endpoint(f"{name}:tokens"), methods=ALL),
        Route("/v3/users/{user_id}", _endpoint(f"{name}:user"), methods=["GET"]),
        Route("/v3/users/detail", _endpoint(f"{name}:detail (never: user matches first)")),
        Route("/v3/users", _endpoint(f"{name}:users"), methods=ALL),
        Route("/v3/{project_id}/servers/{id:int}", _endpoint(f"{name}:int"), methods=ALL),
        Route("/v3/img{x}.json", _endpoint(f"{name}:mid-segment"), methods=ALL),
        Route("/v3/only-post", _endpoint(f"{name}:post"), methods=["POST"]),
        Route("/v3/only-post", _endpoint(f"{name}:post again"), methods=["PUT"]),
        Route("/slash/", _endpoint(f"{name}:slash")),
        Route("/{rest:path}", _endpoint(f"{name}:rest"), methods=ALL),
    ]


def _routers() -> tuple[Router, IndexedRouter]:
    # The same route objects in both: the answers name which one ran.
    plain: list[BaseRoute] = []
    for prefix in ("/identity", "/compute", "/id"):
        plain.append(Mount(prefix, app=Router(routes=_service(prefix))))
    plain.append(Mount("/nested/deep", app=Router(routes=_service("nested"))))
    plain.append(Route("/", _endpoint("root")))
    plain.append(Route("/exact", _endpoint("exact")))
    indexed: list[BaseRoute] = []
    for route in plain:
        if isinstance(route, Mount):
            inner = route.app
            assert isinstance(inner, Router)
            indexed.append(Mount(route.path, app=IndexedRouter(inner.routes)))
        else:
            indexed.append(route)
    return Router(routes=plain), IndexedRouter(indexed)


async def _call(app: Any, method: str, path: str) -> list[dict[str, Any]]:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": [(b"host", b"lab")],
             "server": ("lab", 80), "client": ("127.0.0.1", 1)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


PATHS = [
    "/identity/v3/auth/tokens", "/identity/v3/auth/tokens/", "/identity/v3/auth/tokens\n",
    "/identity/v3/users/abc", "/identity/v3/users/detail", "/identity/v3/users",
    "/identity/v3/users/", "/identity/v3/p1/servers/42", "/identity/v3/p1/servers/x",
    "/identity/v3/img7.json", "/identity/v3/only-post", "/identity/slash",
    "/identity/slash/", "/identity", "/identity/", "/identity/nothing/here",
    "/compute/v3/users/u", "/id/v3/users", "/idx/v3/users", "/nested/deep/v3/users/u",
    "/nested/v3/users", "/", "/exact", "/exact/", "/exact\n", "/nowhere", "",
]


SERVICE_PATHS = ["/v3/users", "/v3/users\n", "/v3/users/\n", "/v3/auth/tokens\n",
                 "/v3/only-post", "/v3/only-post\n", "/slash\n", "/v3/img1.json\n"]


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
@pytest.mark.parametrize("path", PATHS)
def test_the_same_answer_as_starlette(method: str, path: str) -> None:
    plain, indexed = _routers()
    expected = asyncio.run(_call(plain, method, path))
    assert asyncio.run(_call(indexed, method, path)) == expected


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
@pytest.mark.parametrize("path", SERVICE_PATHS)
def test_a_service_s_routes_the_same_as_starlette(method: str, path: str) -> None:
    # Unmounted: a final newline reaches the routes' own patterns ("$" matches before it).
    routes = _service("svc")
    expected = asyncio.run(_call(Router(routes=routes), method, path))
    assert asyncio.run(_call(IndexedRouter(routes), method, path)) == expected


def test_routes_added_later_are_found() -> None:
    router = IndexedRouter([Route("/a", _endpoint("a"))])
    assert asyncio.run(_call(router, "GET", "/a"))[1]["body"].startswith(b"a")
    router.routes.append(Route("/b", _endpoint("b")))
    assert asyncio.run(_call(router, "GET", "/b"))[1]["body"].startswith(b"b")


def test_many_distinct_paths_keep_routing_right() -> None:
    # More paths than the router remembers candidates for: it forgets and finds them again.
    routes = _service("svc")
    plain, indexed = Router(routes=routes), IndexedRouter(routes)
    for number in range(1500):
        for path in (f"/v3/users/u{number}", "/v3/auth/tokens", f"/v3/p{number}/servers/7"):
            assert asyncio.run(_call(indexed, "GET", path)) == \
                asyncio.run(_call(plain, "GET", path))


def test_long_paths_are_routed_but_not_remembered() -> None:
    routes = _service("svc")
    plain, indexed = Router(routes=routes), IndexedRouter(routes)
    for number in range(20):
        path = f"/v3/users/{number}{'x' * 5000}"
        slashes = "/v3/users" + "/" * 60000 + str(number)  # routed in linear time
        assert asyncio.run(_call(indexed, "GET", slashes)) == \
            asyncio.run(_call(plain, "GET", slashes))
        assert asyncio.run(_call(indexed, "GET", path)) == asyncio.run(_call(plain, "GET", path))
    assert all(len(path) <= 256 for path in indexed._seen)
