"""The message bus: oslo.messaging-style RPC (call, cast, fanout) and notifications.

Services depend on the ``Bus`` protocol; the embedded shape wires in
``InProcessBus``.
"""

from stacklab.bus.inprocess import InProcessBus, InProcessListener, InProcessSubscription
from stacklab.bus.interface import (
    DEFAULT_RPC_RESPONSE_TIMEOUT,
    DEFAULT_TRANSIENT_QUEUES_TTL,
    NOTIFICATION_PRIORITIES,
    NOTIFICATIONS_TOPIC,
    Bus,
    Context,
    InvalidTarget,
    Listener,
    MessagingError,
    MessagingTimeout,
    NoSuchMethod,
    Notification,
    NotificationCallback,
    RemoteOrigin,
    Subscription,
    Target,
    TopicCounters,
    Transport,
    current_host,
    on_host,
    remote_origin,
)

__all__ = [
    "DEFAULT_RPC_RESPONSE_TIMEOUT",
    "DEFAULT_TRANSIENT_QUEUES_TTL",
    "NOTIFICATIONS_TOPIC",
    "NOTIFICATION_PRIORITIES",
    "Bus",
    "Context",
    "InProcessBus",
    "InProcessListener",
    "InProcessSubscription",
    "InvalidTarget",
    "Listener",
    "MessagingError",
    "MessagingTimeout",
    "NoSuchMethod",
    "Notification",
    "NotificationCallback",
    "RemoteOrigin",
    "Subscription",
    "Target",
    "TopicCounters",
    "Transport",
    "current_host",
    "on_host",
    "remote_origin",
]
