"""What both buses keep alike: an RPC server's and a subscriber's state, the servers of each
host (a node's go down and come back with it), the per-topic counters, a notification's
priority, and how a request calls its endpoint (oslo's RPC dispatcher)."""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any, Generic, TypeVar

from stacklab.bus.interface import (
    NOTIFICATION_PRIORITIES,
    Context,
    NoSuchMethod,
    Target,
    TopicCounters,
)


class ServerState:
    """An RPC server's target, endpoint and node, and whether it is paused or stopped."""

    def __init__(self, target: Target, endpoint: object, host: str | None) -> None:
        self._target = target
        self.endpoint = endpoint
        # The node its process runs on: the target's server, unless that names something
        # else (cinder-volume's host@backend, which two nodes may share).
        self.host = host if host is not None else target.server
        self._paused = False
        self._stopped = False

    @property
    def target(self) -> Target:
        return self._target

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def pause(self) -> None:
        raise NotImplementedError

    def resume(self) -> None:
        raise NotImplementedError


class SubscriberState:
    """A notification subscriber's pattern and whether it is paused or cancelled."""

    def __init__(self, pattern: str) -> None:
        self._pattern = pattern
        self._paused = False
        self._cancelled = False

    @property
    def pattern(self) -> str:
        return self._pattern

    @property
    def paused(self) -> bool:
        return self._paused


S = TypeVar("S", bound=ServerState)


class ServerRegistry(Generic[S]):
    """A bus's live RPC servers, in listen order, and its counters per topic."""

    def __init__(self) -> None:
        self._listeners: list[S] = []
        self._counters: dict[str, TopicCounters] = {}

    def listeners(self, server: str | None = None) -> list[S]:
        """Live listeners, in listen order; only those of host ``server`` when given."""
        return [listener for listener in self._listeners
                if server is None or listener.host == server]

    def pause_server(self, server: str) -> int:
        """Pause every listener of host ``server`` (it went down); returns how many."""
        found = self.listeners(server)
        for listener in found:
            listener.pause()
        return len(found)

    def resume_server(self, server: str) -> int:
        """Resume every listener of host ``server``; returns how many."""
        found = self.listeners(server)
        for listener in found:
            listener.resume()
        return len(found)

    def count(self, topic: str) -> TopicCounters:
        counters = self._counters.get(topic)
        if counters is None:
            counters = self._counters[topic] = TopicCounters()
        return counters

    def metrics(self) -> dict[str, TopicCounters]:
        return {topic: replace(counters) for topic, counters in self._counters.items()}


def notification_priority(priority: str) -> str:
    """oslo's name of a notifier's priority (``warning`` is WARN); ValueError if unknown."""
    level = priority.upper()
    if level == "WARNING":
        level = "WARN"
    if level not in NOTIFICATION_PRIORITIES:
        raise ValueError(f"Unknown notification priority {priority!r}")
    return level


async def invoke(endpoint: object, method: str, kwargs: dict[str, Any], ctxt: Context) -> Any:
    """Call ``method`` of ``endpoint`` with the request's arguments, and its context where
    the method takes ``ctxt``."""
    # oslo's default access policy exposes public methods only.
    func = None if method.startswith("_") else getattr(endpoint, method, None)
    if func is None or not callable(func):
        raise NoSuchMethod(method)
    arguments = dict(kwargs)
    if _accepts_ctxt(func):
        arguments["ctxt"] = dict(ctxt)
    outcome = func(**arguments)
    if inspect.isawaitable(outcome):
        outcome = await outcome
    return outcome


# Whether an endpoint's function takes ``ctxt``, by function: working it out with
# ``inspect.signature`` on every delivery was a tenth of the bus's cost.
_TAKES_CTXT: dict[Any, bool] = {}


def _accepts_ctxt(func: Any) -> bool:
    function = getattr(func, "__func__", None)  # a bound method's, shared by its instances
    if function is None:
        return _takes_ctxt(func)
    found = _TAKES_CTXT.get(function)
    if found is None:
        found = _TAKES_CTXT[function] = _takes_ctxt(func)
    return found


def _takes_ctxt(func: Any) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    parameter = parameters.get("ctxt")
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
