"""The way one request took through the lab, and what entering it can end in.

A request to an API enters through the public VIP's holder, whose HAProxy picks a
controller; its database work goes through the internal VIP's holder to a Galera
member. ``Route`` records each hop (for the request's log line) and is the
request's context: the store's sessions opened while it is bound go the route's
way to the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field


@dataclass(slots=True)
class Route:
    vip: str  # the address the client connected to
    proxy: str  # the VIP's holder (FQDN)
    backend: str  # the listen block
    server: str  # the server line's name
    controller: str  # the node whose API worker serves it (FQDN)
    retries: list[str] = field(default_factory=list)  # "controller1 timeout", ...
    galera: str | None = None  # the Galera member its last session reached
    # What its sessions' round trips to the database cost over slow or lossy links (s),
    # paid before the answer leaves the controller.
    database_delay: float = 0.0
    # Cleared once the answer is sent: work the request left running (a server's build)
    # then goes to the database as the lab's background work does.
    active: bool = True

    def describe(self) -> str:
        text = f"via {self.vip} {self.proxy}/{self.backend}/{self.server}"
        if self.retries:
            text += f" after {', '.join(self.retries)}"
        if self.galera:
            text += f" db {self.galera}"
        return text


@dataclass(frozen=True, slots=True)
class Routed:
    """The request reached a controller's API worker."""

    route: Route


@dataclass(frozen=True, slots=True)
class ProxyAnswer:
    """The proxy answered itself (503: no server available)."""

    vip: str
    proxy: str
    backend: str
    status: int
    body: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    retries: tuple[str, ...] = ()

    def describe(self) -> str:
        text = f"via {self.vip} {self.proxy}/{self.backend} answered by the proxy"
        if self.retries:
            text += f" after {', '.join(self.retries)}"
        return text


@dataclass(frozen=True, slots=True)
class Unreachable:
    """Nothing at the VIP took the connection: no holder, or no haproxy on it."""

    vip: str
    reason: str


@dataclass(frozen=True, slots=True)
class Direct:
    """Not through the VIP: the lab's own API, or a service the proxies do not balance."""

    node: str | None = None


Entry = Routed | ProxyAnswer | Unreachable | Direct

_current: ContextVar[Route | None] = ContextVar("stacklab_route", default=None)


def bind(route: Route | None) -> Token[Route | None]:
    return _current.set(route)


def unbind(token: Token[Route | None]) -> None:
    _current.reset(token)


def current() -> Route | None:
    return _current.get()


@contextmanager
def working_on(node: str | None) -> Iterator[None]:
    """Run the block as work of a process on ``node`` outside any request (a conductor
    saving a compute's report, neutron-server recording an agent's): its store sessions
    take that node's way to the database, through the internal VIP to a Galera member,
    and fail as a request's would. ``None``: not a lab node's work, straight through."""
    if node is None:
        yield
        return
    token = bind(Route(vip="", proxy="", backend="", server="", controller=node))
    try:
        yield
    finally:
        unbind(token)
