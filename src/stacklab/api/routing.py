"""starlette's router, without trying every route of a service on every request.

starlette tries a router's routes in turn until one matches: the services' mounts at the
top, then a service's routes (hundreds for nova and neutron), each a regular expression
match and a scope built. ``IndexedRouter`` first narrows the routes to those that can match
the path at all, from the text before each route's first parameter, and tries those in
their declared order: the route chosen, the scope it gets and every answer stay starlette's.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

try:  # the path as starlette's own routes match it (mount prefixes taken off)
    from starlette._utils import get_route_path
except ImportError:  # a starlette that moved its private helper: the same rule, ours
    def get_route_path(scope: Scope) -> str:
        path: str = scope["path"]
        root = scope.get("root_path", "")
        if not root or not path.startswith(root):
            return path
        if path == root:
            return ""
        return path[len(root):] if path[len(root)] == "/" else path


# How many paths' candidates a router remembers, and the longest path it remembers: a
# client's long paths (up to the listener's 64 KiB head) must not grow it to megabytes.
_SEEN = 1024
_SEEN_PATH = 256


def _literal_head(route: BaseRoute) -> tuple[str, bool]:
    """What every path the route matches starts with, and whether that is the whole path
    (a route without parameters, whose pattern is anchored at both ends). A head with
    parameters after it is cut after its last ``/``: a key among the request path's own
    prefixes that end in ``/``. ``""`` for a route of another kind, tried on every request."""
    if isinstance(route, Mount):
        # A mount matches its path, a "/", then anything (starlette's "{path:path}").
        pattern = route.path + "/{path:path}"
    elif isinstance(route, Route):
        pattern = route.path
    else:
        return "", False
    if "{" not in pattern:
        return pattern, True
    literal = pattern.split("{", 1)[0]
    return literal[: literal.rfind("/") + 1], False


class IndexedRouter(Router):
    """A ``Router`` whose routes are looked up by the path's leading segments.

    The candidates are a superset of the routes that can match, in the routes' order, so
    the first full match (or else the first partial one, a method the route does not take)
    is the one starlette would have found. When none matches, starlette's own lookup runs
    (its redirect of a missing or extra trailing slash, then its 404).
    """

    def __init__(self, routes: list[BaseRoute], **options: Any) -> None:
        super().__init__(routes=routes, **options)
        self._indexed: list[BaseRoute] = []
        self._exact: dict[str, list[int]] = {}
        self._by_head: dict[str, list[int]] = {}
        self._always: list[int] = []
        self._longest_head = 0
        # The candidates of the paths seen last (the same few, a token's, a list's, come
        # again and again); emptied when full, as paths with ids in them never repeat.
        self._seen: dict[str, list[int]] = {}

    def _index(self) -> None:
        # Built on first use, and again if routes were added since (Router.mount...).
        self._exact, self._by_head, self._always = {}, {}, []
        for position, route in enumerate(self.routes):
            head, whole = _literal_head(route)
            if whole:
                self._exact.setdefault(head, []).append(position)
            elif head:
                self._by_head.setdefault(head, []).append(position)
            else:
                self._always.append(position)
        self._indexed = list(self.routes)
        self._seen = {}
        self._longest_head = max(map(len, self._by_head), default=0)

    def _candidates(self, route_path: str) -> list[int]:
        """The positions of the routes that can match, in order (a few dozen at most)."""
        found = self._always
        merged = False
        exact = self._exact.get(route_path)
        if exact is None and route_path.endswith("\n"):
            # starlette's patterns end in "$", which also matches before a final newline.
            exact = self._exact.get(route_path[:-1])
        if exact is not None:
            found, merged = found + exact, bool(found)
        by_head = self._by_head
        slash = route_path.find("/")
        # No head is longer than the longest: a path of thousands of "/" stops there (each
        # prefix is a copy; all of them would be quadratic in the path's length).
        while slash != -1 and slash < self._longest_head:
            positions = by_head.get(route_path[: slash + 1])
            if positions is not None:
                found, merged = (found + positions, True) if found else (positions, False)
            slash = route_path.find("/", slash + 1)
        if merged:
            found.sort()
        return found

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        if len(self._indexed) != len(self.routes):
            self._index()
        routes = self._indexed
        partial: BaseRoute | None = None
        partial_scope: Scope = {}
        route_path = get_route_path(scope)
        candidates = self._seen.get(route_path)
        if candidates is None:
            candidates = self._candidates(route_path)
            if len(route_path) <= _SEEN_PATH:
                if len(self._seen) >= _SEEN:
                    self._seen.clear()
                self._seen[route_path] = candidates
        for position in candidates:
            route = routes[position]
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self)
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:
            scope.setdefault("router", self)
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        await super().app(scope, receive, send)
