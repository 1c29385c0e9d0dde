"""The bus on a RabbitMQ broker, in oslo.messaging's wire format (``[DEFAULT] transport_url``).

What goes over the broker is what oslo.messaging's rabbit driver sends and expects, so a
real OpenStack process (or the ``oslo.messaging`` library itself) on the same broker is a
peer: it can call stacklab's RPC servers, serve stacklab's calls, and listen to its
notifications.

* Each service has its control exchange (a ``topic`` exchange: ``nova``, ``neutron``,
  ``cinder``, ``heat``; ``[DEFAULT] control_exchange`` puts them all on one). A listener
  on ``Target(topic, server)`` consumes the queue ``topic`` (bound with that routing key),
  the queue ``topic.server``, and a queue of its own, ``<topic>_fanout_<uuid>``, bound to
  the ``fanout`` exchange ``<topic>_fanout``.
* A message is the envelope ``{"oslo.version": "2.0", "oslo.message": "<JSON>"}``; the
  inner JSON holds ``method``, ``args``, ``_unique_id``, the request context as
  ``_context_<key>`` keys and, for a call, ``_msg_id`` and ``_reply_q``. A call's request
  expires in the broker after its timeout; its reply goes through the default exchange to
  the caller's ``reply_<uuid>`` queue as ``result``/``failure``/``ending``.
* A notification goes to the control exchange with the routing key
  ``<topic>.<priority>`` (``notifications.info``), in the messagingv2 envelope
  (``message_id``, ``publisher_id``, ``event_type``, ``priority``, ``payload``,
  ``timestamp``), as ``[oslo_messaging_notifications] driver = messagingv2`` sends it
  (``messaging``: the same message without the envelope; anything else: not sent).

The AMQP client is aio-pika (the extra ``stacklab[rabbitmq]``), imported only when a
``RabbitBus`` connects. Arguments and results cross as JSON, so an endpoint receives
lists for tuples and ISO strings for datetimes, as nova's objects arrive primitive.

The lab's fault features that drive the in-process bus (a node's link to the broker, its
latency, a partitioned RabbitMQ cluster) do not reach a real broker: ``transport`` is not
consulted. A powered-off node's (or a stopped process's) RPC servers still stop consuming
(``pause``/``resume`` cancel and restart their consumers).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime as dt
import enum
import fnmatch
import importlib
import inspect
import json
import logging
import traceback
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from stacklab.bus.interface import (
    DEFAULT_RPC_RESPONSE_TIMEOUT,
    DEFAULT_TRANSIENT_QUEUES_TTL,
    NOTIFICATIONS_TOPIC,
    Bus,
    Context,
    InvalidTarget,
    MessagingError,
    MessagingTimeout,
    NoSuchMethod,
    Notification,
    NotificationCallback,
    RemoteOrigin,
    Target,
    mark_remote,
    on_host,
)
from stacklab.bus.servers import (
    ServerRegistry,
    ServerState,
    SubscriberState,
    invoke,
    notification_priority,
)
from stacklab.clock import Clock, RealClock

if TYPE_CHECKING:
    from aio_pika import Message
    from aio_pika.abc import (
        AbstractChannel,
        AbstractExchange,
        AbstractIncomingMessage,
        AbstractQueue,
        AbstractRobustConnection,
    )

LOG = logging.getLogger(__name__)

OPTION = "[DEFAULT] transport_url"
EXTRA_HINT = "pip install 'stacklab[rabbitmq]'"

# oslo_messaging/_drivers/common.py: the envelope's keys and its version.
VERSION_KEY = "oslo.version"
MESSAGE_KEY = "oslo.message"
ENVELOPE_VERSION = "2.0"
CONTEXT_PREFIX = "_context_"
# oslo's default [DEFAULT] control_exchange, for what no service claims.
DEFAULT_CONTROL_EXCHANGE = "openstack"
# Notification drivers of [oslo_messaging_notifications] driver that put notifications on
# the broker: messagingv2 in the 2.0 envelope, messaging (v1) without one.
NOTIFICATION_DRIVERS = ("messagingv2", "messaging")
# Extra data of a stacklab exception in a failure (oslo's deserializer ignores the key):
# its attributes, so the caller gets the exception back as it was raised.
ATTRIBUTES_KEY = "stacklab_attributes"
# Bytes in arguments and results (JSON has none), as {BYTES_KEY: "<base64>"}.
BYTES_KEY = "stacklab.bytes"
# The exceptions of Python itself, which oslo rebuilds from any peer.
BUILTIN_MODULES = ("builtins", "exceptions")


class TransportConfigError(ValueError):
    """``[DEFAULT] transport_url`` names a broker stacklab cannot use (said at start,
    naming the option, as every bad option the cloud is built with)."""


class RemoteError(MessagingError):
    """An exception raised by a remote endpoint that cannot be rebuilt here (a peer's own
    class): oslo_messaging.RemoteError's fields."""

    def __init__(self, exc_type: str, value: str, traceback_lines: Sequence[str]) -> None:
        super().__init__(f"Remote error: {exc_type} {value}")
        self.exc_type = exc_type
        self.value = value
        self.traceback = list(traceback_lines)


@dataclass(frozen=True)
class BrokerAddress:
    """One host of a ``rabbit://`` URL, as aio-pika takes it."""

    host: str
    port: int
    login: str
    password: str
    virtualhost: str

    def shown(self) -> str:
        vhost = "" if self.virtualhost == "/" else self.virtualhost
        return f"rabbit://{self.login}:***@{self.host}:{self.port}/{vhost}"


def parse_transport_url(url: str) -> list[BrokerAddress]:
    """The brokers of oslo's ``rabbit://user:pass@host:port[,user:pass@host2:port]/vhost``.

    Raises TransportConfigError for another scheme or a URL without a host.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("rabbit", "amqp"):
        raise TransportConfigError(
            f"{OPTION}: {parts.scheme or url!r} is not a transport stacklab speaks "
            "(rabbit://user:password@host:5672/vhost)")
    vhost = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    brokers = []
    for item in parts.netloc.split(","):
        credentials, _, hostport = item.rpartition("@")
        login, _, password = credentials.partition(":")
        host, _, port = hostport.partition(":")
        if host.startswith("[") and "]" in hostport:  # an IPv6 literal
            host, _, port = hostport[1:].partition("]")
            port = port.lstrip(":")
        if not host:
            raise TransportConfigError(f"{OPTION}: no broker host in {url!r}")
        try:
            number = int(port) if port else 5672
        except ValueError:
            raise TransportConfigError(f"{OPTION}: bad port {port!r}") from None
        brokers.append(BrokerAddress(host, number, unquote(login) or "guest",
                                     unquote(password) or "guest", vhost or "/"))
    return brokers


def _aio_pika() -> Any:
    try:
        import aio_pika
    except ImportError as exc:
        raise TransportConfigError(
            f"{OPTION} names a RabbitMQ broker, but its AMQP client is not installed: "
            f"{EXTRA_HINT}") from exc
    return aio_pika


async def _connect(brokers: Sequence[BrokerAddress], timeout: float, robust: bool,
                   retry_interval: float = 1.0) -> AbstractRobustConnection:
    """The first broker of the list that accepts us; TransportConfigError naming each
    failure when none does."""
    aio_pika = _aio_pika()
    failures = []
    for broker in brokers:
        connect = aio_pika.connect_robust if robust else aio_pika.connect
        # A robust connection comes back after a broker restart or a dropped link, every
        # ``retry_interval`` s (oslo's rabbit_retry_interval), with its channel, queues,
        # bindings and consumers declared again.
        extra = {"reconnect_interval": retry_interval} if robust else {}
        try:
            connection: AbstractRobustConnection = await connect(
                host=broker.host, port=broker.port, login=broker.login,
                password=broker.password, virtualhost=broker.virtualhost, timeout=timeout,
                client_properties={"connection_name": "stacklab"}, **extra)
            return connection
        except Exception as exc:  # aiormq's errors, OSError, timeouts: all said the same way
            reason = " ".join((str(exc) or type(exc).__name__).split())
            if "ACCESS_REFUSED" in reason or "AuthenticationError" in type(exc).__name__:
                reason = f"the broker refused the credentials ({reason})"
            elif "Connection.Close" in reason or "NOT_ALLOWED" in reason:
                reason = (f"the broker refused the vhost {broker.virtualhost!r} (no such vhost, "
                          f"or no permission on it for {broker.login!r})")
            failures.append(f"{broker.shown()}: {reason}")
    raise TransportConfigError(f"{OPTION}: cannot connect: {'; '.join(failures)}")


def check_broker(url: str, timeout: float = 5.0) -> None:
    """Connect once and leave: a broker that cannot be reached, refuses the credentials
    or has no such vhost is said at start, naming the option (TransportConfigError)."""
    brokers = parse_transport_url(url)
    _aio_pika()

    async def probe() -> None:
        connection = await _connect(brokers, timeout, robust=False)
        await connection.close()

    _run_apart(probe())


def _run_apart(work: Awaitable[None]) -> None:
    """Run ``work`` to its end on a loop of its own (in a thread when one runs here)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_as_coroutine(work))
        return
    import threading

    failure: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(_as_coroutine(work))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=target, name="stacklab-broker-check")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


async def _as_coroutine(work: Awaitable[None]) -> None:
    await work


# -- the JSON of the wire ----------------------------------------------------------------


def to_primitive(value: Any) -> Any:
    """What json cannot encode, as oslo's jsonutils.to_primitive turns it."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, set | frozenset | deque):
        return list(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray):
        # Data (a volume's blocks to back up) crosses as base64 under a key of its own, and
        # comes back as bytes (``_restore``); oslo's peers send none.
        return {BYTES_KEY: base64.b64encode(bytes(value)).decode("ascii")}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "__iter__"):
        return list(value)
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=to_primitive)


def _restore(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and BYTES_KEY in obj and isinstance(obj[BYTES_KEY], str):
        return base64.b64decode(obj[BYTES_KEY])
    return obj


def loads(text: str | bytes) -> Any:
    return json.loads(text, object_hook=_restore)


def envelope(message: Mapping[str, Any]) -> bytes:
    return dumps({VERSION_KEY: ENVELOPE_VERSION, MESSAGE_KEY: dumps(message)}).encode()


def open_envelope(body: bytes) -> dict[str, Any]:
    """The message inside (a message sent without the envelope is its own message)."""
    outer = json.loads(body)
    if isinstance(outer, dict) and VERSION_KEY in outer and MESSAGE_KEY in outer:
        inner = loads(outer[MESSAGE_KEY])
        return inner if isinstance(inner, dict) else {}
    outer = loads(body)  # without the envelope (oslo's v1 notifications)
    return outer if isinstance(outer, dict) else {}


def pack_context(message: dict[str, Any], ctxt: Mapping[str, Any] | None) -> None:
    for key, value in (ctxt or {}).items():
        message[f"{CONTEXT_PREFIX}{key}"] = value


def unpack_context(message: dict[str, Any]) -> Context:
    ctxt: Context = {}
    for key in [k for k in message if k.startswith(CONTEXT_PREFIX)]:
        ctxt[key[len(CONTEXT_PREFIX):]] = message.pop(key)
    return ctxt


def serialize_failure(exc: BaseException) -> str:
    """An endpoint's exception as oslo's serialize_remote_exception sends it."""
    kwargs = getattr(exc, "kwargs", None)
    data: dict[str, Any] = {
        "class": type(exc).__name__,
        "module": type(exc).__module__,
        "message": str(exc),
        "tb": traceback.format_exception(type(exc), exc, exc.__traceback__),
        "args": list(exc.args),
        "kwargs": kwargs if isinstance(kwargs, dict) else {},
    }
    attributes = {key: value for key, value in vars(exc).items()
                  if not key.startswith("_")}
    if attributes:
        data[ATTRIBUTES_KEY] = attributes
    return dumps(data)


def deserialize_failure(raw: str, origin: RemoteOrigin | None = None,
                        allowed_remote_exmods: Sequence[str] = ()) -> BaseException:
    """A failure back as an exception: stacklab's own, Python's and those of the modules
    allowed (oslo's allowed_remote_exmods) rebuilt as their class (marked remote), oslo's
    NoSuchMethod as stacklab's, anything else RemoteError."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return RemoteError("Unknown", str(raw), [])
    name = str(data.get("class") or "Exception")
    module = str(data.get("module") or "builtins")
    message = str(data.get("message") or "")
    trace = [str(line) for line in data.get("tb") or []]
    args = data.get("args") or []
    if name == "NoSuchMethod" and module.startswith("oslo_messaging"):
        method = message.rsplit(" ", 1)[-1]
        exc: BaseException = NoSuchMethod(method)
    elif (module.startswith("stacklab.") or module in BUILTIN_MODULES
          or module in allowed_remote_exmods):
        exc = _rebuild(module, name, args, data.get(ATTRIBUTES_KEY)) or RemoteError(
            name, message, trace)
    else:
        exc = RemoteError(name, message, trace)
    if origin is not None:
        mark_remote(exc, replace(origin, module=module, class_name=name))
    return exc


def _rebuild(module: str, name: str, args: Sequence[Any],
             attributes: Any) -> BaseException | None:
    try:
        cls = getattr(importlib.import_module("builtins" if module == "exceptions"
                                              else module), name)
    except (ImportError, AttributeError):
        return None
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        return None
    try:
        exc: BaseException = cls.__new__(cls)
        exc.args = tuple(args)
        if isinstance(attributes, dict):
            exc.__dict__.update(attributes)
    except Exception:
        return None
    return exc


def _timestamp(now: float) -> str:
    """oslo's ``str(timeutils.utcnow())``: naive UTC, a space between date and time."""
    return str(dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None))


def _parse_timestamp(value: Any) -> float:
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


# -- listeners and subscriptions --------------------------------------------------------


class RabbitListener(ServerState):
    """An RPC server's three queues on the broker; see ``stacklab.bus.interface.Listener``."""

    def __init__(self, bus: RabbitBus, target: Target, endpoint: object,
                 host: str | None) -> None:
        super().__init__(target, endpoint, host)
        self._bus = bus
        self.exchange = bus.exchange_for_topic(target.topic)
        # Its own fanout queue, named as oslo names one (the topic, "_fanout_", a uuid).
        self.fanout_queue = f"{target.topic}_fanout_{uuid.uuid4().hex}"
        # Consumed by another process (``RabbitBus(consumes=...)``): never declared here.
        self.elsewhere = False
        self.queues: list[AbstractQueue] = []
        self._tags: list[tuple[AbstractQueue, str]] = []

    def pause(self) -> None:
        if self._paused or self._stopped or self.elsewhere:
            return
        self._paused = True
        self._bus.schedule(self.cancel_consumers)

    def resume(self) -> None:
        if not self._paused or self._stopped or self.elsewhere:
            return
        self._paused = False
        self._bus.schedule(self.consume)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self.elsewhere:
            return
        self._bus.forget(self)
        self._bus.schedule(self.close)

    async def declare(self) -> None:
        """Declare its exchanges, queues and bindings as oslo's rabbit driver does, then
        consume unless paused."""
        bus = self._bus
        channel = await bus.channel()
        aio_pika = _aio_pika()
        topic, server = self._target.topic, self._target.server
        exchange = await bus.control_exchange(self.exchange)
        self.queues = []
        keys = [topic] if server is None else [topic, f"{topic}.{server}"]
        for key in keys:
            # amqp_durable_queues = False, amqp_auto_delete = False, no queue arguments.
            queue = await channel.declare_queue(key, durable=False, auto_delete=False)
            await queue.bind(exchange, routing_key=key)
            self.queues.append(queue)
        fanout = await channel.declare_exchange(
            f"{topic}_fanout", type=aio_pika.ExchangeType.FANOUT, durable=False,
            auto_delete=True)
        queue = await channel.declare_queue(
            self.fanout_queue, durable=False, auto_delete=False,
            arguments=bus.transient_arguments())
        await queue.bind(fanout, routing_key=topic)
        self.queues.append(queue)
        if not self._paused and not self._stopped:
            await self.consume()

    async def consume(self) -> None:
        if self._paused or self._stopped or self._tags:
            return
        for queue in self.queues:
            tag = await queue.consume(self._on_message)
            self._tags.append((queue, tag))

    async def cancel_consumers(self) -> None:
        tags, self._tags = self._tags, []
        for queue, tag in tags:
            try:
                await queue.cancel(tag)
            except Exception:  # the channel went with the connection: nothing to cancel
                LOG.debug("Cancelling consumer %s of %s failed", tag, queue.name)

    async def close(self) -> None:
        await self.cancel_consumers()
        if self.queues:
            try:
                await self.queues[-1].delete(if_unused=False, if_empty=False)
            except Exception:
                LOG.debug("Deleting fanout queue %s failed", self.fanout_queue)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        # oslo's RPC server acknowledges a request as it takes it, before running it.
        await message.ack()
        self._bus.spawn(self._bus.serve(self, message))


class RabbitSubscription(SubscriberState):
    """A notification subscriber: a queue of its own bound to every control exchange's
    notification topics (a listener pool of its own, so it takes nothing from the
    ``notifications.info`` queue other consumers share)."""

    def __init__(self, bus: RabbitBus, pattern: str, callback: NotificationCallback) -> None:
        super().__init__(pattern)
        self._bus = bus
        self.callback = callback
        self.queue_name = f"stacklab-notifications_{uuid.uuid4().hex}"
        self.queue: AbstractQueue | None = None
        self._tag: str | None = None

    def pause(self) -> None:
        if not self._cancelled and not self._paused:
            self._paused = True
            self._bus.schedule(self.cancel_consumer)

    def resume(self) -> None:
        if self._paused and not self._cancelled:
            self._paused = False
            self._bus.schedule(self.consume)

    def cancel(self) -> None:
        if self._cancelled:
            return
        self._cancelled = True
        self._bus.forget(self)
        self._bus.schedule(self.close)

    async def declare(self) -> None:
        channel = await self._bus.channel()
        self.queue = await channel.declare_queue(
            self.queue_name, durable=False, auto_delete=False,
            arguments=self._bus.transient_arguments())
        for name in self._bus.all_exchanges():
            exchange = await self._bus.control_exchange(name)
            for topic in self._bus.notification_topics:
                await self.queue.bind(exchange, routing_key=f"{topic}.*")
        await self.consume()

    async def consume(self) -> None:
        if self.queue is None or self._paused or self._cancelled or self._tag is not None:
            return
        self._tag = await self.queue.consume(self._on_message)

    async def cancel_consumer(self) -> None:
        tag, self._tag = self._tag, None
        if tag is not None and self.queue is not None:
            try:
                await self.queue.cancel(tag)
            except Exception:
                LOG.debug("Cancelling notification consumer %s failed", tag)

    async def close(self) -> None:
        await self.cancel_consumer()
        if self.queue is not None:
            try:
                await self.queue.delete(if_unused=False, if_empty=False)
            except Exception:
                LOG.debug("Deleting notification queue %s failed", self.queue_name)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            body = open_envelope(message.body)
            ctxt = unpack_context(body)
            notification = Notification(
                message_id=str(body.get("message_id", "")),
                publisher_id=str(body.get("publisher_id", "")),
                event_type=str(body.get("event_type", "")),
                priority=str(body.get("priority", "")),
                payload=body.get("payload"),
                timestamp=_parse_timestamp(body.get("timestamp")),
                ctxt=ctxt)
        except (TypeError, ValueError):
            LOG.warning("Dropped a notification that is not oslo's JSON")
            await message.ack()
            return
        if fnmatch.fnmatchcase(notification.event_type, self._pattern):
            self._bus.count(NOTIFICATIONS_TOPIC).notifications_delivered += 1
            try:
                outcome = self.callback(notification)
                if inspect.isawaitable(outcome):
                    await outcome
            except Exception:
                LOG.exception("Subscriber %r failed on %s", self._pattern,
                              notification.event_type)
        # A notification listener acknowledges once it has handled the message.
        await message.ack()


_Operation = Callable[[], Awaitable[Any]]

# What aio-pika/aiormq raise for work on a connection or channel the broker dropped.
_CONNECTION_ERRORS = frozenset({
    "ChannelInvalidStateError", "ConnectionClosed", "AMQPConnectionError", "ChannelClosed",
    "ConnectionResetError", "ConnectionError", "IncompatibleProtocolError"})


class RabbitBus(ServerRegistry[RabbitListener]):
    """RPC and notifications through a RabbitMQ broker, in oslo.messaging's format.

    ``exchanges`` maps a topic to its service's control exchange (``compute`` -> ``nova``)
    and ``publishers`` a notification's publisher (``nova-compute``) to one; what neither
    names goes to ``default_exchange``.

    Everything that touches the broker runs in order on the event loop that first uses the
    bus: ``listen`` and ``cast_nowait`` (synchronous) queue their work and return, so a
    cloud built and started before its loop runs connects once the loop runs
    (``run``, or the first ``call``/``cast``/``notify``).
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        rpc_response_timeout: float = DEFAULT_RPC_RESPONSE_TIMEOUT,
        transient_queues_ttl: float = DEFAULT_TRANSIENT_QUEUES_TTL,
        exchanges: Mapping[str, str] | None = None,
        publishers: Mapping[str, str] | None = None,
        default_exchange: str = DEFAULT_CONTROL_EXCHANGE,
        notification_driver: str = "messagingv2",
        notification_topics: Sequence[str] = (NOTIFICATIONS_TOPIC,),
        connect_timeout: float = 5.0,
        retry_interval: float = 1.0,
        allowed_remote_exmods: Sequence[str] = (),
        host_up: Callable[[str], bool] | None = None,
        consumes: Callable[[Target, str | None], bool] | None = None,
    ) -> None:
        self.url = url
        self.brokers = parse_transport_url(url)
        self.clock: Clock = clock or RealClock()
        self.rpc_response_timeout = rpc_response_timeout
        self.transient_queues_ttl = transient_queues_ttl
        self.exchanges = dict(exchanges or {})
        self.publishers = dict(publishers or {})
        self.default_exchange = default_exchange
        self.notification_driver = notification_driver
        self.notification_topics = tuple(notification_topics) or (NOTIFICATIONS_TOPIC,)
        self.connect_timeout = connect_timeout
        self.retry_interval = retry_interval
        # Modules besides stacklab's and Python's whose exceptions a call re-raises as
        # themselves (oslo's allowed_remote_exmods); others come back as RemoteError.
        self.allowed_remote_exmods = tuple(allowed_remote_exmods)
        # Whether a lab node is powered (the cloud's runtime): a listener started on a node
        # that is down declares its queues but consumes once the node is back.
        self._host_up = host_up
        # Which RPC servers this process consumes (target, host), when not all: one
        # process per service leaves another process's servers to it (declared nowhere
        # here, so the broker hands their messages to the process that consumes them).
        self._consumes = consumes
        super().__init__()
        self._subscriptions: list[RabbitSubscription] = []
        self._ops: deque[tuple[_Operation, asyncio.Future[Any] | None]] = deque()
        self._wake: asyncio.Event | None = None
        self._runner: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}
        self._notification_queues: set[tuple[str, str]] = set()
        self._reply_q: str | None = None
        self._waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        # Work that failed in a row because of a lost connection or channel.
        self._failures = 0

    # -- RPC ----------------------------------------------------------------------------

    async def call(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        if target.fanout:
            raise InvalidTarget("A call cannot be used with fanout", target)
        wait = self.rpc_response_timeout if timeout is None else timeout
        msg_id = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiters[msg_id] = reply
        self.count(target.topic).calls_sent += 1
        try:
            async with asyncio.timeout(wait):
                reply_q = await self._submit(self._reply_queue)
                message = self._message(method, kwargs, ctxt)
                message["_msg_id"] = msg_id
                message["_reply_q"] = reply_q
                await self._submit(lambda: self._send(target, message, expiration=wait))
                data = await reply
        except TimeoutError:
            self.count(target.topic).calls_timed_out += 1
            raise MessagingTimeout(msg_id, target, method, wait) from None
        finally:
            self._waiters.pop(msg_id, None)
        failure = data.get("failure")
        if failure:
            raise deserialize_failure(failure, RemoteOrigin(
                module="", class_name="", topic=target.topic, server=target.server,
                method=method), self.allowed_remote_exmods)
        return data.get("result")

    async def cast(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._count_cast(target)
        message = self._message(method, kwargs, ctxt)
        await self._submit(lambda: self._send(target, message))

    def cast_nowait(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._count_cast(target)
        message = self._message(method, kwargs, ctxt)
        self.schedule(lambda: self._send(target, message))

    def listen(self, target: Target, endpoint: object, *,
               host: str | None = None) -> RabbitListener:
        if target.fanout:
            raise InvalidTarget("A listener consumes a topic, not a fanout", target)
        listener = RabbitListener(self, target, endpoint, host)
        if self._consumes is not None and not self._consumes(target, listener.host):
            listener.elsewhere = True
            return listener
        if (listener.host is not None and self._host_up is not None
                and not self._host_up(listener.host)):
            listener.pause()
        self._listeners.append(listener)
        self.schedule(listener.declare)
        return listener

    # -- notifications --------------------------------------------------------------------

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
        level = notification_priority(priority)
        if self.notification_driver not in NOTIFICATION_DRIVERS:
            return  # oslo's noop driver: nothing leaves
        message: dict[str, Any] = {
            "message_id": str(uuid.uuid4()),
            "publisher_id": publisher_id,
            "event_type": event_type,
            "priority": level,
            "payload": payload,
            "timestamp": _timestamp(self.clock.now()),
        }
        message["_unique_id"] = uuid.uuid4().hex
        pack_context(message, ctxt)
        if self.notification_driver == "messagingv2":
            body = envelope(message)
        else:
            body = dumps(message).encode()
        exchange = self.exchange_for_publisher(publisher_id)
        self.count(NOTIFICATIONS_TOPIC).notifications_published += 1
        for topic in topics or self.notification_topics:
            await self._submit(partial(self._send_notification, exchange,
                                       f"{topic}.{level.lower()}", body))

    def subscribe(self, event_type_pattern: str,
                  callback: NotificationCallback) -> RabbitSubscription:
        subscription = RabbitSubscription(self, event_type_pattern, callback)
        self._subscriptions.append(subscription)
        self.schedule(subscription.declare)
        return subscription

    # -- what the cloud's runtime uses (a node's RPC servers stop with it) -----------------

    async def deliver_waiting(self, topic: str) -> None:
        """Nothing waits in the bus itself: the broker holds the queues (kept for the
        in-process bus's callers)."""

    async def run(self) -> None:
        """Connect and do what was queued before the loop ran; then wait for the end."""
        await self._submit(self._nothing)
        await asyncio.Event().wait()

    async def drain(self) -> None:
        """Wait until what was queued is on the broker and the handlers running finish."""
        await self._submit(self._nothing)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop consuming, delete this process's own queues, close the connection."""
        if self._closed:
            return
        if self._channel is not None:  # what was sent goes out first
            with contextlib.suppress(TimeoutError, MessagingError, TransportConfigError):
                await asyncio.wait_for(self._submit(self._nothing), 5)
        self._closed = True

        async def leave() -> None:
            for listener in list(self._listeners):
                await listener.close()
            for subscription in list(self._subscriptions):
                await subscription.close()
            # The reply queue stays (its x-expires ends it), as oslo's does: a server still
            # running one of our calls retries a reply to a missing queue for a minute.

        connected = getattr(self._connection, "connected", None)
        if isinstance(connected, asyncio.Event) and connected.is_set():
            # A broker gone meanwhile answers nothing: the process stops all the same.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(leave(), 5)
        if self._runner is not None:
            self._runner.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._connection.close(), 5)
        self._connection = None
        self._channel = None

    def close(self) -> None:
        """``aclose`` from synchronous code (the cloud's stop)."""
        if self._closed or self._loop is None:
            self._closed = True
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self.spawn(self.aclose())
        elif not self._loop.is_closed() and not self._loop.is_running():
            self._loop.run_until_complete(self.aclose())
        else:
            self._closed = True

    # -- internals shared with listeners --------------------------------------------------

    def exchange_for_topic(self, topic: str) -> str:
        return self.exchanges.get(topic, self.default_exchange)

    def exchange_for_publisher(self, publisher_id: str) -> str:
        """nova-compute -> nova; compute.<host> (nova's own publisher ids) by its topic."""
        if publisher_id in self.publishers:
            return self.publishers[publisher_id]
        # nova's versioned publishers are <binary>:<host> (nova-compute:compute1...).
        head = publisher_id.split(":", 1)[0].split(".", 1)[0]
        if head in self.publishers:
            return self.publishers[head]
        return self.exchanges.get(head, self.default_exchange)

    def all_exchanges(self) -> list[str]:
        names = {self.default_exchange, *self.exchanges.values(), *self.publishers.values()}
        return sorted(names)

    def transient_arguments(self) -> dict[str, Any]:
        """x-expires of reply and fanout queues (rabbit_transient_queues_ttl, in ms)."""
        ttl = int(self.transient_queues_ttl)
        return {"x-expires": ttl * 1000} if ttl > 0 else {}

    def forget(self, item: RabbitListener | RabbitSubscription) -> None:
        if isinstance(item, RabbitListener) and item in self._listeners:
            self._listeners.remove(item)
        if isinstance(item, RabbitSubscription) and item in self._subscriptions:
            self._subscriptions.remove(item)

    def schedule(self, operation: _Operation) -> None:
        """Run ``operation`` on the broker in turn, without waiting for it."""
        self._ops.append((operation, None))
        self._kick()

    def spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.get_running_loop().create_task(_as_coroutine(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def channel(self) -> AbstractChannel:
        if self._channel is None:
            raise MessagingError("not connected to the broker")
        return self._channel

    async def control_exchange(self, name: str) -> AbstractExchange:
        exchange = self._exchanges.get(name)
        if exchange is None:
            aio_pika = _aio_pika()
            channel = await self.channel()
            # oslo's control exchange: topic, amqp_durable_queues = False, not auto-deleted.
            exchange = await channel.declare_exchange(
                name, type=aio_pika.ExchangeType.TOPIC, durable=False, auto_delete=False)
            self._exchanges[name] = exchange
        return exchange

    async def serve(self, listener: RabbitListener, incoming: AbstractIncomingMessage) -> None:
        """Run one request on ``listener``'s endpoint and, for a call, reply."""
        target = listener.target
        try:
            message = open_envelope(incoming.body)
        except (TypeError, ValueError):
            LOG.warning("Dropped a message on %s that is not oslo's JSON", target)
            return
        ctxt = unpack_context(message)
        msg_id = message.pop("_msg_id", None)
        reply_q = message.pop("_reply_q", None)
        # oslo's call monitor (an RPC client's call_monitor_timeout): the caller wants a
        # heartbeat every half of it while the method runs, or gives up.
        client_timeout = message.pop("_timeout", None)
        method = str(message.get("method", ""))
        args = message.get("args") or {}
        counters = self.count(target.topic)
        if msg_id:
            counters.calls_delivered += 1
        elif (incoming.exchange or "").endswith("_fanout"):
            counters.fanout_deliveries += 1
        else:
            counters.casts_delivered += 1
        heartbeats = None
        if msg_id and reply_q and isinstance(client_timeout, int | float) and client_timeout > 0:
            heartbeats = asyncio.get_running_loop().create_task(
                self._heartbeats(str(reply_q), str(msg_id), client_timeout / 2))
        try:
            if not isinstance(args, dict):
                raise TypeError(f"args of {method} is not an object")
            with on_host(listener.host):
                result = await invoke(listener.endpoint, method, args, ctxt)
        except Exception as exc:
            counters.endpoint_errors += 1
            if not (msg_id and reply_q):
                LOG.exception("Exception during handling of cast %s on %s", method, target)
                return
            reply = {"result": None, "failure": serialize_failure(exc), "ending": True}
        else:
            if not (msg_id and reply_q):
                return
            reply = {"result": result, "failure": None, "ending": True}
        finally:
            if heartbeats is not None:
                heartbeats.cancel()
        reply["_msg_id"] = msg_id
        reply["_unique_id"] = uuid.uuid4().hex
        try:
            body = envelope(reply)
        except (TypeError, ValueError) as exc:  # a result JSON cannot carry
            body = envelope({"result": None, "failure": serialize_failure(exc), "ending": True,
                             "_msg_id": msg_id, "_unique_id": uuid.uuid4().hex})
        try:
            await self._submit(lambda: self._send_reply(str(reply_q), body))
        except Exception:
            counters.replies_lost += 1
            LOG.warning("Reply to %s lost: the broker did not take it", msg_id)

    async def _heartbeats(self, reply_q: str, msg_id: str, every: float) -> None:
        """oslo's call-monitor heartbeats: an empty reply that does not end the call."""
        while True:
            await asyncio.sleep(every)
            body = envelope({"result": None, "failure": None, "ending": False,
                             "_msg_id": msg_id, "_unique_id": uuid.uuid4().hex})
            await self._submit(partial(self._send_reply, reply_q, body))

    # -- internals ------------------------------------------------------------------------

    def _count_cast(self, target: Target) -> None:
        counters = self.count(target.topic)
        if target.fanout:
            counters.fanout_casts_sent += 1
        else:
            counters.casts_sent += 1

    def _message(self, method: str, kwargs: Mapping[str, Any],
                 ctxt: Mapping[str, Any] | None) -> dict[str, Any]:
        message: dict[str, Any] = {"method": method, "args": dict(kwargs),
                                   "_unique_id": uuid.uuid4().hex}
        pack_context(message, ctxt)
        return message

    async def _nothing(self) -> None:
        return None

    def _kick(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the work waits for the first one
        if self._closed:
            return
        if self._loop is not loop:
            if self._loop is not None and not self._loop.is_closed() and self._loop.is_running():
                raise MessagingError("the RabbitMQ bus serves the event loop it started on")
            self._rebind(loop)
        assert self._wake is not None
        self._wake.set()
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run_operations())

    def _rebind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start over on ``loop`` (the one before it is gone): a new connection, and every
        listener and subscription declared again on it."""
        self._loop = loop
        self._wake = asyncio.Event()
        self._runner = None
        self._connection = None
        self._channel = None
        self._exchanges.clear()
        self._notification_queues.clear()
        self._reply_q = None
        redo: list[tuple[_Operation, asyncio.Future[Any] | None]] = []
        for listener in self._listeners:
            if listener.queues:
                listener.queues = []
                listener._tags = []
                redo.append((listener.declare, None))
        for subscription in self._subscriptions:
            if subscription.queue is not None:
                subscription.queue = None
                subscription._tag = None
                redo.append((subscription.declare, None))
        self._ops.extendleft(reversed(redo))

    async def _submit(self, operation: _Operation) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._ops.append((operation, future))
        self._kick()
        return await future

    async def _run_operations(self) -> None:
        assert self._wake is not None
        while not self._closed:
            if not self._ops:
                self._wake.clear()
                await self._wake.wait()
                continue
            try:
                await self._ensure_connected()
            except Exception as exc:
                # The work waits for the broker, tried again every rabbit_retry_interval, as
                # oslo's driver does; a call gives up at its timeout (MessagingTimeout).
                LOG.warning("Cannot reach the broker (%s): retrying in %s s", exc,
                            self.retry_interval)
                self._connection = None
                self._channel = None
                await asyncio.sleep(self.retry_interval)
                continue
            operation, future = self._ops[0]
            if future is not None and future.done():
                self._ops.popleft()  # its caller gave up (a call's timeout)
                continue
            try:
                result = await operation()
            except Exception as exc:
                if await self._lost_connection(exc):
                    continue  # done again once the connection is back, as oslo's publish
                self._ops.popleft()
                if future is not None:
                    if not future.done():
                        future.set_exception(exc)
                else:
                    LOG.exception("Work on the broker failed")
            else:
                self._ops.popleft()
                if future is not None and not future.done():
                    future.set_result(result)
            self._failures = 0

    async def _lost_connection(self, exc: Exception) -> bool:
        """Whether ``exc`` came of a connection (or channel) the broker dropped: then wait
        for it to come back and say so, so that the work is done again. A channel that
        keeps failing while its connection is up (a refused declaration) is not retried
        for long."""
        connection = self._connection
        if connection is None or self._closed:
            return False
        connected = getattr(connection, "connected", None)
        down = isinstance(connected, asyncio.Event) and not connected.is_set()
        if not down and type(exc).__name__ not in _CONNECTION_ERRORS:
            return False
        self._failures += 1
        if not down and self._failures > 10:
            self._failures = 0
            return False
        if down:
            LOG.warning("Connection to the broker lost (%s): waiting for it", exc)
            assert isinstance(connected, asyncio.Event)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(connected.wait(), self.retry_interval * 5)
        else:
            await asyncio.sleep(min(0.05 * self._failures, self.retry_interval))
        return True

    async def _ensure_connected(self) -> None:
        if self._channel is not None:
            return
        self._connection = await _connect(self.brokers, self.connect_timeout, robust=True,
                                          retry_interval=self.retry_interval)
        self._channel = await self._connection.channel(publisher_confirms=True)

    async def _reply_queue(self) -> str:
        """This process's reply queue (``reply_<uuid>``), declared once and consumed."""
        if self._reply_q is None:
            channel = await self.channel()
            name = f"reply_{uuid.uuid4().hex}"
            queue = await channel.declare_queue(name, durable=False, auto_delete=False,
                                                arguments=self.transient_arguments())
            await queue.consume(self._on_reply, no_ack=True)
            self._reply_q = name
        return self._reply_q

    async def _on_reply(self, incoming: AbstractIncomingMessage) -> None:
        try:
            data = open_envelope(incoming.body)
        except (TypeError, ValueError):
            return
        waiter = self._waiters.get(str(data.get("_msg_id")))
        if waiter is None or waiter.done():
            LOG.debug("No caller waits for the reply to %s", data.get("_msg_id"))
            return
        if (data.get("ending") is False and data.get("result") is None
                and not data.get("failure")):
            return  # a call monitor's heartbeat (stacklab asks for none): not the answer
        waiter.set_result(data)

    def _amqp_message(self, body: bytes, expiration: float | None = None) -> Message:
        # As kombu sends oslo's messages: JSON, and a call's request expires with its timeout.
        message: Message = _aio_pika().Message(
            body, content_type="application/json", content_encoding="utf-8",
            expiration=expiration)
        return message

    async def _send(self, target: Target, message: dict[str, Any],
                    expiration: float | None = None) -> None:
        body = envelope(message)
        if target.fanout:
            aio_pika = _aio_pika()
            channel = await self.channel()
            exchange = await channel.declare_exchange(
                f"{target.topic}_fanout", type=aio_pika.ExchangeType.FANOUT, durable=False,
                auto_delete=True)
            await exchange.publish(self._amqp_message(body), routing_key="",
                                   mandatory=False)
            return
        exchange = await self.control_exchange(self.exchange_for_topic(target.topic))
        key = target.topic if target.server is None else f"{target.topic}.{target.server}"
        await exchange.publish(self._amqp_message(body, expiration), routing_key=key,
                               mandatory=False)

    async def _send_reply(self, reply_q: str, body: bytes) -> None:
        channel = await self.channel()
        await channel.default_exchange.publish(self._amqp_message(body), routing_key=reply_q,
                                               mandatory=False)

    async def _send_notification(self, exchange_name: str, routing_key: str,
                                 body: bytes) -> None:
        exchange = await self.control_exchange(exchange_name)
        if (exchange_name, routing_key) not in self._notification_queues:
            # As oslo's notifier: the queue named after the routing key, so notifications
            # sent before any consumer came wait for the first one.
            channel = await self.channel()
            queue = await channel.declare_queue(routing_key, durable=False, auto_delete=False)
            await queue.bind(exchange, routing_key=routing_key)
            self._notification_queues.add((exchange_name, routing_key))
        await exchange.publish(self._amqp_message(body), routing_key=routing_key,
                               mandatory=False)


if TYPE_CHECKING:

    def _conforms(bus: RabbitBus) -> Bus:
        return bus
