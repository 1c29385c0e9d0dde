"""The bus of the embedded shape: oslo.messaging's RabbitMQ semantics in one event loop.

Each delivered message is handled in its own asyncio task (oslo's RPC server
runs handlers concurrently in an executor pool), so an endpoint may itself
call other services without deadlocking. Nothing here is random: queues are
FIFO, round-robin is a cursor, message ids are a counter, and asyncio runs
ready tasks in the order they were scheduled; the same sequence of calls on
the same clock yields the same deliveries.

Arguments and results are passed by reference, not serialized: an endpoint
must not mutate what it was given. The context dict is copied per delivery.
"""

from __future__ import annotations

import asyncio
import fnmatch
import inspect
import itertools
import logging
from collections import deque
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from stacklab.bus.interface import (
    DEFAULT_RPC_RESPONSE_TIMEOUT,
    DEFAULT_TRANSIENT_QUEUES_TTL,
    NOTIFICATIONS_TOPIC,
    Bus,
    Context,
    InvalidTarget,
    MessagingTimeout,
    Notification,
    NotificationCallback,
    RemoteOrigin,
    Target,
    Transport,
    current_host,
    loop_running,
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
from stacklab.clock import Clock

LOG = logging.getLogger(__name__)

_Kind = Literal["call", "cast", "fanout"]

# The two ways over a host's connection to the broker.
TO_BROKER = 0
FROM_BROKER = 1


@dataclass
class _Message:
    seq: int
    msg_id: str
    kind: _Kind
    target: Target
    method: str
    kwargs: dict[str, Any]
    ctxt: Context
    reply: asyncio.Future[Any] | None = None
    # Monotonic deadline after which a queued call request is discarded.
    expires_at: float | None = None
    # The node whose process sent it (None: not a lab node's), over whose connection it
    # leaves and, for a call, to whose connection the reply comes back.
    sender: str | None = None


class _Queue:
    """A broker queue: FIFO messages, consumers served round-robin."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.consumers: list[InProcessListener] = []
        self.pending: deque[_Message] = deque()
        self._cursor = 0

    def next_consumer(self) -> InProcessListener | None:
        count = len(self.consumers)
        for step in range(count):
            index = (self._cursor + step) % count
            consumer = self.consumers[index]
            if consumer.receiving:
                self._cursor = (index + 1) % count
                return consumer
        return None

    def has_consumer(self) -> bool:
        return any(consumer.receiving for consumer in self.consumers)


class InProcessListener(ServerState):
    """A listener of ``InProcessBus``; see ``stacklab.bus.interface.Listener``."""

    def __init__(self, bus: InProcessBus, target: Target, endpoint: object,
                 host: str | None = None) -> None:
        super().__init__(target, endpoint, host)
        self._bus = bus
        self._paused_since: float | None = None
        self.shared_queues: list[_Queue] = []
        self.fanout_queue: _Queue | None = None

    @property
    def receiving(self) -> bool:
        # A consumer gets messages while its process runs and its host's connection to
        # the broker works.
        return not (self._paused or self._stopped) and self._bus.host_connected(self.host)

    def pause(self) -> None:
        if self._paused or self._stopped:
            return
        self._paused = True
        self._paused_since = self._bus.lab_clock.monotonic()

    def resume(self) -> None:
        if not self._paused or self._stopped:
            return
        paused_for = self._bus.lab_clock.monotonic() - (self._paused_since or 0.0)
        self._paused = False
        self._paused_since = None
        if self.fanout_queue is not None and paused_for >= self._bus.transient_queues_ttl:
            # The broker deleted the idle fanout queue, and what it held, when
            # its x-expires ran out; resuming declares an empty one.
            self._bus.count(self._target.topic).expired += len(self.fanout_queue.pending)
            self.fanout_queue.pending.clear()
        self._bus.pump(self._queues())

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._bus.unregister(self)

    def _queues(self) -> list[_Queue]:
        queues = list(self.shared_queues)
        if self.fanout_queue is not None:
            queues.append(self.fanout_queue)
        return queues


class InProcessSubscription(SubscriberState):
    """A notification subscriber of ``InProcessBus``."""

    def __init__(self, bus: InProcessBus, pattern: str, callback: NotificationCallback) -> None:
        super().__init__(pattern)
        self._bus = bus
        self.callback = callback
        # A notification pool queue survives its consumer (it is durable in
        # oslo's setup), so a paused subscriber finds its backlog.
        self.pending: deque[Notification] = deque()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def matches(self, event_type: str) -> bool:
        return fnmatch.fnmatchcase(event_type, self._pattern)

    def pause(self) -> None:
        if not self._cancelled:
            self._paused = True

    def resume(self) -> None:
        if not self._paused or self._cancelled:
            return
        self._paused = False
        while self.pending:
            self._bus.deliver_notification(self, self.pending.popleft())

    def cancel(self) -> None:
        self._cancelled = True
        self.pending.clear()
        self._bus.unsubscribe(self)


class InProcessBus(ServerRegistry[InProcessListener]):
    """RPC and notifications between services living in one process."""

    def __init__(
        self,
        clock: Clock,
        *,
        rpc_response_timeout: float = DEFAULT_RPC_RESPONSE_TIMEOUT,
        transient_queues_ttl: float = DEFAULT_TRANSIENT_QUEUES_TTL,
        host_up: Callable[[str], bool] | None = None,
        lab_clock: Clock | None = None,
    ) -> None:
        # Stamps notifications (wall time).
        self.clock = clock
        # Times the broker's and the clients' waits (call timeouts, message and queue
        # expiry): the lab's time ([stacklab] ha_time_scale) when the cloud gives it.
        self.lab_clock = lab_clock or clock
        # The broker under the bus (None: always there, every host connected).
        self.transport: Transport | None = None
        # What senders published while their host had no connection: sent once it has one,
        # as oslo's publish blocks and retries after the reconnect.
        self._outbox: deque[tuple[int, str | None, Callable[[], None]]] = deque()
        # Whether a host is powered (the cloud's runtime says): a listener started on a
        # host that is down waits paused, as a process on a powered-off node would.
        self._host_up = host_up
        self.rpc_response_timeout = rpc_response_timeout
        self.transient_queues_ttl = transient_queues_ttl
        # Shared queues by name ("topic" or "topic.server"). Like oslo's
        # non-auto-delete queues, they outlive their consumers.
        self._queues: dict[str, _Queue] = {}
        # Per-topic fanout exchange bindings, in listen order.
        self._fanout: dict[str, list[_Queue]] = {}
        super().__init__()
        self._subscriptions: list[InProcessSubscription] = []
        self._seq = itertools.count(1)
        self._fanout_seq = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        # When the last frame sent over a host's connection, one way (TO_BROKER, FROM_BROKER),
        # arrives: TCP delivers a connection's frames in order, so a frame that got through
        # at once still waits behind one being retransmitted.
        self._in_transit: dict[tuple[str | None, int], float] = {}

    # -- RPC ------------------------------------------------------------------

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
            # oslo's RPCClient refuses this too: a reply needs one replier.
            raise InvalidTarget("A call cannot be used with fanout", target)
        wait = self.rpc_response_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Any] = loop.create_future()
        message = self._message("call", target, method, kwargs, ctxt)
        message.reply = reply
        # oslo publishes call requests with an AMQP expiration equal to the
        # timeout, so the broker drops a request nobody picked up in time.
        message.expires_at = self.lab_clock.monotonic() + wait
        self.count(target.topic).calls_sent += 1
        self._route(message)
        sleeper = loop.create_task(self.lab_clock.sleep(wait))
        try:
            await asyncio.wait({reply, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            if not reply.done():
                reply.cancel()
        if reply.cancelled():
            self.count(target.topic).calls_timed_out += 1
            raise MessagingTimeout(message.msg_id, target, method, wait)
        return reply.result()

    async def cast(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self.cast_nowait(target, method, ctxt=ctxt, **kwargs)

    def cast_nowait(
        self,
        target: Target,
        method: str,
        *,
        ctxt: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kind: _Kind = "fanout" if target.fanout else "cast"
        message = self._message(kind, target, method, kwargs, ctxt)
        counters = self.count(target.topic)
        if target.fanout:
            counters.fanout_casts_sent += 1
        else:
            counters.casts_sent += 1
        self._route(message)

    def listen(self, target: Target, endpoint: object, *,
               host: str | None = None) -> InProcessListener:
        if target.fanout:
            raise InvalidTarget("A listener consumes a topic, not a fanout", target)
        listener = InProcessListener(self, target, endpoint, host)
        names = [target.topic]
        if target.server is not None:
            names.append(f"{target.topic}.{target.server}")
        for name in names:
            queue = self._queues.get(name)
            if queue is None:
                queue = self._queues[name] = _Queue(name)
            queue.consumers.append(listener)
            listener.shared_queues.append(queue)
        # Each listener has its own fanout queue, as oslo declares one per
        # RPC server (named after the topic plus a unique suffix).
        fanout = _Queue(f"{target.topic}_fanout_{next(self._fanout_seq)}")
        fanout.consumers.append(listener)
        listener.fanout_queue = fanout
        self._fanout.setdefault(target.topic, []).append(fanout)
        self._listeners.append(listener)
        if (listener.host is not None and self._host_up is not None
                and not self._host_up(listener.host)):
            listener.pause()
            return listener
        # A new consumer picks up what waited in the shared queues.
        self.pump(listener.shared_queues)
        return listener

    # -- notifications ----------------------------------------------------------

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
        notification = Notification(
            message_id=self._next_id(),
            publisher_id=publisher_id,
            event_type=event_type,
            priority=level,
            payload=payload,
            timestamp=self.clock.now(),
            ctxt=dict(ctxt or {}),
        )
        self.count(NOTIFICATIONS_TOPIC).notifications_published += 1
        self._send_notification(current_host(), notification)

    def _send_notification(self, sender: str | None, notification: Notification) -> None:
        if not self.host_connected(sender):
            self._hold(sender, lambda: self._send_notification(sender, notification))
            return
        self._over_link(sender, TO_BROKER, lambda: self._publish(notification),
                        lambda: self._send_notification(sender, notification))

    def _publish(self, notification: Notification) -> None:
        event_type = notification.event_type
        for subscription in list(self._subscriptions):
            if not subscription.matches(event_type):
                continue
            if subscription.paused:
                subscription.pending.append(notification)
            else:
                self.deliver_notification(subscription, notification)

    def subscribe(
        self, event_type_pattern: str, callback: NotificationCallback
    ) -> InProcessSubscription:
        subscription = InProcessSubscription(self, event_type_pattern, callback)
        self._subscriptions.append(subscription)
        return subscription

    # -- observability and fault hooks -----------------------------------------

    def queue_depth(self, target: Target) -> int:
        """Messages waiting in the shared queue ``target`` names (0 if none exists)."""
        name = target.topic if target.server is None else f"{target.topic}.{target.server}"
        queue = self._queues.get(name)
        return len(queue.pending) if queue is not None else 0

    def host_connected(self, host: str | None) -> bool:
        """Whether ``host``'s processes reach the broker now (always, without a transport)."""
        return self.transport is None or self.transport.connected(host)

    def held(self) -> int:
        """Messages and notifications waiting in their senders for a connection."""
        return len(self._outbox)

    def transport_changed(self) -> None:
        """Connections came or went: send what waited for one, in the order it was sent,
        and hand queued messages to the consumers that can now get them."""
        waiting, self._outbox = self._outbox, deque()
        for seq, sender, send in waiting:
            if self.host_connected(sender):
                send()
            else:
                self._outbox.append((seq, sender, send))
        queues = list(self._queues.values())
        queues += [queue for bound in self._fanout.values() for queue in bound]
        self.pump(queues)

    async def deliver_waiting(self, topic: str) -> None:
        """Hand what waits in ``topic``'s shared queues to their consumers and wait until it
        is handled: messages routed while no event loop ran (a cloud started before it
        serves) otherwise wait for the next message to their queue."""
        self.pump([queue for name, queue in self._queues.items()
                   if name == topic or name.startswith(f"{topic}.")])
        await self.drain()

    async def drain(self) -> None:
        """Wait until every delivered message and notification has been handled.

        A handler waiting on a ``VirtualClock`` never finishes unless time is
        advanced, so with a virtual clock run ``clock.run_for`` instead.
        """
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- internals shared with listeners and subscriptions -----------------------

    def unregister(self, listener: InProcessListener) -> None:
        for queue in listener.shared_queues:
            queue.consumers.remove(listener)
        if listener.fanout_queue is not None:
            bound = self._fanout.get(listener.target.topic, [])
            if listener.fanout_queue in bound:
                bound.remove(listener.fanout_queue)
            listener.fanout_queue.pending.clear()
        self._listeners.remove(listener)

    def unsubscribe(self, subscription: InProcessSubscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def pump(self, queues: list[_Queue]) -> None:
        """Hand waiting messages to receiving consumers, oldest message first.

        Across several queues (a resumed listener's) messages go out in the
        order they were sent, so a backlog replays as it was produced. Handlers
        run as tasks, so without a running event loop (``listen`` or
        ``resume`` from synchronous set-up code) the backlog stays queued
        until the next message reaches the queue or the listener resumes.
        """
        if not loop_running():
            return
        now = self.lab_clock.monotonic()
        while True:
            best: _Queue | None = None
            for queue in queues:
                self._drop_expired(queue, now)
                if not queue.pending or not queue.has_consumer():
                    continue
                if best is None or queue.pending[0].seq < best.pending[0].seq:
                    best = queue
            if best is None:
                return
            consumer = best.next_consumer()
            assert consumer is not None
            self._dispatch(consumer, best, best.pending.popleft())

    def deliver_notification(
        self, subscription: InProcessSubscription, notification: Notification
    ) -> None:
        self.count(NOTIFICATIONS_TOPIC).notifications_delivered += 1
        self._spawn(self._notify_one(subscription, notification))

    # -- internals ------------------------------------------------------------

    def _next_id(self) -> str:
        # Deterministic stand-in for oslo's uuid4().hex message ids.
        return _message_id(next(self._seq))

    def _message(
        self,
        kind: _Kind,
        target: Target,
        method: str,
        kwargs: dict[str, Any],
        ctxt: Mapping[str, Any] | None,
    ) -> _Message:
        seq = next(self._seq)
        return _Message(
            seq=seq,
            msg_id=_message_id(seq),
            kind=kind,
            target=target,
            method=method,
            kwargs=dict(kwargs),
            ctxt=dict(ctxt or {}),
            sender=current_host(),
        )

    def _hold(self, sender: str | None, send: Callable[[], None]) -> None:
        self._outbox.append((next(self._seq), sender, send))

    def _route(self, message: _Message) -> None:
        if not self.host_connected(message.sender):
            LOG.debug("%s %s from %s waits for a connection to the broker", message.kind,
                      message.method, message.sender)
            self._hold(message.sender, lambda: self._route(message))
            return
        # Until the broker has it (oslo's publish returns once the frame is written and,
        # for a quorum queue, confirmed) a publish whose connection dies is sent again after
        # the reconnect; once queued it is the broker's (durable queues), never lost.
        self._over_link(message.sender, TO_BROKER, lambda: self._route_now(message),
                        lambda: self._route(message))

    def _over_link(self, host: str | None, way: int, arrive: Callable[[], None],
                   again: Callable[[], None]) -> None:
        """Carry one frame between ``host``'s processes and the broker (``way``): ``arrive``
        once it is there, after what the link costs (at once on a clean one); ``again`` when
        the connection dies first (a sender publishes again after the reconnect, the broker
        requeues an unacknowledged delivery, a reply is lost)."""
        took = 0.0 if self.transport is None else self.transport.transit(host)
        if took is None:
            again()
            return
        key = (host, way)
        if not self._in_transit and took <= 0.0:
            arrive()  # the common case: clean links, nothing on the way
            return
        now = self.lab_clock.monotonic()
        at = max(now + took, self._in_transit.get(key, now))
        if at <= now or not loop_running():
            arrive()
            return
        self._in_transit[key] = at

        def landed() -> None:
            if self._in_transit.get(key) == at:
                del self._in_transit[key]  # the last frame on the way
            if self.host_connected(host):
                arrive()
            else:
                again()

        self.lab_clock.call_later(at - now, landed)

    def _route_now(self, message: _Message) -> None:
        target = message.target
        if message.kind == "fanout":
            bound = list(self._fanout.get(target.topic, []))
            if not bound:
                self.count(target.topic).unroutable += 1
                LOG.debug("Fanout to %s reached no queue", target.topic)
            for fanout_queue in bound:
                fanout_queue.pending.append(message)
                self.pump([fanout_queue])
            return
        name = target.topic if target.server is None else f"{target.topic}.{target.server}"
        queue = self._queues.get(name)
        if queue is None:
            # A topic exchange drops what no queue is bound for; a call then
            # times out, as it does on RabbitMQ.
            self.count(target.topic).unroutable += 1
            LOG.debug("No queue %s: %s %s lost", name, message.kind, message.method)
            return
        queue.pending.append(message)
        self.pump([queue])

    def _drop_expired(self, queue: _Queue, now: float) -> None:
        while queue.pending:
            head = queue.pending[0]
            if head.expires_at is None or head.expires_at > now:
                return
            queue.pending.popleft()
            self.count(head.target.topic).expired += 1
            LOG.debug("Call %s to %s expired in queue %s", head.msg_id, head.method, queue.name)

    def _dispatch(self, listener: InProcessListener, queue: _Queue, message: _Message) -> None:
        def arrive() -> None:
            if not listener.receiving:
                requeue()
                return
            counters = self.count(message.target.topic)
            if message.kind == "call":
                counters.calls_delivered += 1
            elif message.kind == "cast":
                counters.casts_delivered += 1
            else:
                counters.fanout_deliveries += 1
            self._spawn(self._handle(listener, message))

        def requeue() -> None:
            # Delivered but not acknowledged when the consumer's connection went: the
            # broker puts it back at the head of its queue.
            queue.pending.appendleft(message)
            self.pump([queue])

        self._over_link(listener.host, FROM_BROKER, arrive, requeue)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, listener: InProcessListener, message: _Message) -> None:
        try:
            # The handler runs on the listener's host: what it sends leaves from there.
            with on_host(listener.host):
                result = await invoke(listener.endpoint, message.method, message.kwargs,
                                       message.ctxt)
        except Exception as exc:
            self.count(message.target.topic).endpoint_errors += 1
            if message.reply is None:
                # oslo's RPC server logs and drops a failed cast.
                LOG.exception(
                    "Exception during handling of %s %s on %s",
                    message.kind,
                    message.method,
                    listener.target,
                )
                return
            mark_remote(
                exc,
                RemoteOrigin(
                    module=type(exc).__module__,
                    class_name=type(exc).__qualname__,
                    topic=listener.target.topic,
                    server=listener.target.server,
                    method=message.method,
                ),
            )
            self._reply(listener, message, error=exc)
            return
        if message.reply is not None:
            self._reply(listener, message, result=result)

    def _reply(
        self,
        listener: InProcessListener,
        message: _Message,
        *,
        result: Any = None,
        error: BaseException | None = None,
    ) -> None:
        assert message.reply is not None
        if listener.paused:
            self.count(message.target.topic).replies_lost += 1
            LOG.debug("Reply to %s lost: %s is paused", message.msg_id, listener.target)
            return
        if not (self.host_connected(listener.host)
                and self.host_connected(message.sender)):
            # The replier's or the caller's connection broke meanwhile: its reply queue
            # (transient, on the broker it was connected to) went with it.
            self.count(message.target.topic).replies_lost += 1
            LOG.debug("Reply to %s lost: no connection to the broker", message.msg_id)
            return
        reply = message.reply

        def lost() -> None:
            self.count(message.target.topic).replies_lost += 1
            LOG.debug("Reply to %s lost: a connection died under it", message.msg_id)

        def answer() -> None:
            if reply.done():
                # The caller timed out; oslo logs and drops such late replies.
                LOG.debug("No caller waits for the reply to %s", message.msg_id)
                return
            if error is not None:
                reply.set_exception(error)
            else:
                reply.set_result(result)

        # Up the replier's connection, then down the caller's to its reply queue.
        self._over_link(listener.host, TO_BROKER,
                        lambda: self._over_link(message.sender, FROM_BROKER, answer, lost),
                        lost)

    async def _notify_one(
        self, subscription: InProcessSubscription, notification: Notification
    ) -> None:
        if subscription.cancelled:
            return
        try:
            outcome = subscription.callback(notification)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            LOG.exception(
                "Subscriber %r failed on %s", subscription.pattern, notification.event_type
            )


def _message_id(seq: int) -> str:
    return f"{seq:032x}"


if TYPE_CHECKING:

    def _conforms(bus: InProcessBus) -> Bus:
        return bus
