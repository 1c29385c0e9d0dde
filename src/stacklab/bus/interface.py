"""The message bus seam: what services see of RPC and notifications.

The vocabulary is oslo.messaging's, so code reads like the services it
imitates: a ``Target`` names a topic and optionally a server (host); ``call``
waits for a reply, ``cast`` does not, a fanout cast reaches every listener of
a topic, and notifications go to whoever subscribed to their event type.

Queue semantics follow oslo.messaging on RabbitMQ (the driver every lab
deployment uses), because HA behaviour depends on them:

* A listener on ``Target(topic, server)`` consumes three queues: the shared
  ``topic`` queue (casts and calls to the bare topic go to one consumer of
  it, round-robin), the ``topic.server`` queue (shared too, when two
  listeners use the same host name, as cinder-volume with ``backend_host``
  does), and its own fanout queue.
* Nobody listening is not an error: a call to an unserved topic waits for
  ``rpc_response_timeout`` and raises ``MessagingTimeout``; a cast is lost
  when no queue exists for it, or waits in the queue when its consumers are
  gone (queues are not auto-deleted, ``amqp_auto_delete = False``).
* Call requests carry a time-to-live equal to the call's timeout, so a
  request whose caller has given up is never executed.

Context travels with every message as a plain dict (``Context``). The keys in
use are oslo.context's: ``request_id``, ``global_request_id``, ``user_id``,
``project_id`` (any other key passes through untouched). An endpoint method
receives it as the keyword argument ``ctxt`` if, and only if, its signature
names a ``ctxt`` parameter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any, Protocol

# oslo_messaging/rpc/client.py: rpc_response_timeout, "Seconds to wait for a
# response from a call."
DEFAULT_RPC_RESPONSE_TIMEOUT = 60.0

# oslo_messaging/_drivers/impl_rabbit.py: rabbit_transient_queues_ttl, the
# x-expires of fanout (and reply) queues; a fanout queue left without a
# consumer for this long is deleted by the broker with what it held.
DEFAULT_TRANSIENT_QUEUES_TTL = 1800.0

# oslo.messaging's default notification topic ([oslo_messaging_notifications]
# topics); notification counters are kept under this name.
NOTIFICATIONS_TOPIC = "notifications"

# The priorities of oslo_messaging.Notifier (audit() ... sample()); the wire
# carries them upper-case. ``warning`` is oslo's alias of ``warn``.
NOTIFICATION_PRIORITIES = ("AUDIT", "DEBUG", "INFO", "WARN", "ERROR", "CRITICAL", "SAMPLE")

Context = dict[str, Any]


class MessagingError(Exception):
    """Base of the bus's own errors."""


class MessagingTimeout(MessagingError):
    """No reply to a call within its timeout (oslo_messaging.MessagingTimeout)."""

    def __init__(self, msg_id: str, target: Target, method: str, timeout: float) -> None:
        # Same wording as oslo's amqpdriver, which operators grep logs for.
        super().__init__(f"Timed out waiting for a reply to message ID {msg_id}")
        self.msg_id = msg_id
        self.target = target
        self.method = method
        self.timeout = timeout


class InvalidTarget(MessagingError, ValueError):
    """A target that cannot be used for this operation."""

    def __init__(self, message: str, target: Target) -> None:
        super().__init__(f"{message}: {target}")
        self.target = target


class NoSuchMethod(MessagingError, AttributeError):
    """The endpoint has no public method of that name.

    Raised on the serving side and, for a call, carried back to the caller,
    as oslo's RPC dispatcher does.
    """

    def __init__(self, method: str) -> None:
        super().__init__(f"Endpoint does not support RPC method {method}")
        self.method = method


@dataclass(frozen=True)
class Target:
    """Where a message goes, or what a listener consumes.

    ``server`` is the host name (nova's ``host``, e.g.
    ``compute1.openstack.local``). With ``fanout`` a cast reaches every
    listener of ``topic`` and ``server`` is ignored, as in oslo.messaging.
    """

    topic: str
    server: str | None = None
    fanout: bool = False

    def __post_init__(self) -> None:
        if not self.topic:
            raise InvalidTarget("A target needs a topic", self)
        if self.server == "":
            raise InvalidTarget("An empty server name is not a server", self)


@dataclass(frozen=True)
class RemoteOrigin:
    """Where an exception re-raised by ``call`` was raised."""

    module: str
    class_name: str
    topic: str
    server: str | None
    method: str


_REMOTE_ORIGIN_ATTR = "_stacklab_remote_origin"


def mark_remote(exc: BaseException, origin: RemoteOrigin) -> None:
    """Record on ``exc`` that it was raised by a remote endpoint."""
    setattr(exc, _REMOTE_ORIGIN_ATTR, origin)


def remote_origin(exc: BaseException) -> RemoteOrigin | None:
    """The remote origin of an exception raised by ``call``, if it came from an endpoint.

    oslo.messaging rebuilds such exceptions on the caller's side (as
    ``<Name>_Remote`` or ``RemoteError``); this tells the same story without
    changing the exception's class.
    """
    origin = getattr(exc, _REMOTE_ORIGIN_ATTR, None)
    return origin if isinstance(origin, RemoteOrigin) else None


@dataclass(frozen=True)
class Notification:
    """One notification as a subscriber receives it (oslo's message fields)."""

    message_id: str
    publisher_id: str
    event_type: str
    priority: str
    payload: Any
    timestamp: float
    ctxt: Context = field(default_factory=dict)


NotificationCallback = Callable[[Notification], Awaitable[None] | None]


@dataclass
class TopicCounters:
    """Message counters of one topic, for dashboards and tests."""

    calls_sent: int = 0
    calls_delivered: int = 0
    calls_timed_out: int = 0
    casts_sent: int = 0
    casts_delivered: int = 0
    fanout_casts_sent: int = 0
    # One per listener reached, so a fanout to three listeners counts three.
    fanout_deliveries: int = 0
    # Sent where no queue exists (nobody has ever listened there): lost.
    unroutable: int = 0
    # Call requests dropped from a queue after their caller's timeout.
    expired: int = 0
    # Replies not sent because the serving listener was paused (host down).
    replies_lost: int = 0
    endpoint_errors: int = 0
    notifications_published: int = 0
    notifications_delivered: int = 0


class Listener(Protocol):
    """An RPC server's consumption of a target, with fault hooks."""

    @property
    def target(self) -> Target: ...

    @property
    def paused(self) -> bool: ...

    @property
    def stopped(self) -> bool: ...

    def pause(self) -> None:
        """Stop receiving, as a host that is down or cut off would.

        Messages for this listener stay queued (shared queues hand new ones to
        the other consumers, if any); replies of calls still running when the
        listener is paused are lost, since a down host cannot send them.
        """

    def resume(self) -> None:
        """Receive again, starting with what was queued meanwhile."""

    def stop(self) -> None:
        """Stop consuming for good (a graceful service stop).

        Calls already being handled still get their reply. Messages waiting
        in shared queues stay there for the next listener of the topic.
        """


class Subscription(Protocol):
    """A notification subscriber, with the same fault hooks as a listener."""

    @property
    def pattern(self) -> str: ...

    @property
    def paused(self) -> bool: ...

    def pause(self) -> None:
        """Keep matching notifications queued instead of delivering them."""

    def resume(self) -> None:
        """Deliver what was queued, then new notifications."""

    def cancel(self) -> None:
        """Stop receiving for good; queued notifications are dropped."""


class Bus(Protocol):
    """RPC and notifications between services, on one transport."""

    async def call(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """Invoke ``method`` on one listener of ``target`` and return its result.

        Raises what the endpoint raised, ``MessagingTimeout`` after ``timeout``
        seconds (``DEFAULT_RPC_RESPONSE_TIMEOUT`` when None) without a reply,
        and ``InvalidTarget`` for a fanout target. Keyword arguments other
        than ``ctxt`` and ``timeout`` are the method's arguments.
        """

    async def cast(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Invoke ``method`` without waiting: on one listener, or on all with fanout."""

    def cast_nowait(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``cast`` from synchronous code (a timer's callback, the end of a transaction).

        The message is routed at once; its handler runs once the event loop gets
        its turn (outside any loop, it waits in its queue as for a paused consumer).
        """

    def listen(self, target: Target, endpoint: object, *,
               host: str | None = None) -> Listener:
        """Serve ``target``: messages call ``endpoint``'s public methods by name.

        ``host`` is the node the serving process runs on, when the target's server is not
        a node's name (cinder-volume's ``host@backend``): the listener pauses with that
        node and uses its connection to the broker.

        Methods may be plain or ``async``; names starting with ``_`` are never
        called (oslo's default RPC access policy).
        """

    async def notify(
        self,
        publisher_id: str,
        event_type: str,
        payload: Any,
        priority: str = "INFO",
        *,
        ctxt: Mapping[str, Any] | None = None,
        topics: Sequence[str] | None = None,
    ) -> None:
        """Publish a notification (``compute.instance.create.end`` and the like).

        ``topics``: the notifier's own topics, as an oslo ``Notifier(topics=...)`` has
        (nova's versioned ones go to ``versioned_notifications``); None: the transport's
        ``[oslo_messaging_notifications] topics``. Subscribers of the in-process bus match
        event types only.
        """

    def subscribe(self, event_type_pattern: str, callback: NotificationCallback) -> Subscription:
        """Receive every notification whose event type matches the fnmatch pattern."""

    def metrics(self) -> dict[str, TopicCounters]:
        """A snapshot of the counters, per topic."""


class Transport(Protocol):
    """The broker under the bus: whether a host's processes are connected to it now.

    ``None`` is work no lab node is named for (it goes through while any broker serves).
    Whoever owns the transport tells the bus (``transport_changed``) when the answers
    may have changed, so that what waited for a connection moves on.
    """

    def connected(self, host: str | None) -> bool: ...

    def transit(self, host: str | None) -> float | None:
        """Seconds one frame takes between ``host``'s processes and their broker, either
        way, over the link between them (0 on a clean link). None: the connection died
        under it (TCP gave up); ``connected`` says so from then on."""
        ...


# The node whose process is sending: an RPC server's handler sends from its own host (the
# bus binds it), an API worker from its controller, an agent from its node.
_host: ContextVar[str | None] = ContextVar("stacklab_bus_host", default=None)


def current_host() -> str | None:
    """The node the running code's process lives on, when the bus knows it."""
    return _host.get()


def set_host(host: str | None) -> Token[str | None]:
    """``on_host`` for code that cannot wrap a block: undo with ``reset_host``."""
    return _host.set(host)


def reset_host(token: Token[str | None]) -> None:
    _host.reset(token)


@contextmanager
def on_host(host: str | None) -> Iterator[None]:
    """Run the block as a process of ``host``: what it sends leaves over that node's
    connection to the broker."""
    token = _host.set(host)
    try:
        yield
    finally:
        _host.reset(token)


def loop_running() -> bool:
    """Whether this thread runs an event loop: outside one, a cast waits in its queue."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
