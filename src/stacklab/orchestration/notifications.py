"""heat's notifications of a stack's states (heat/engine/notification/stack.py, the body
of heat/engine/api.py ``format_notification_body``): each state a stack's action persists
with its event is ``orchestration.stack.<action>.start`` (IN_PROGRESS), ``.end``
(COMPLETE) or ``.error`` (FAILED, at ERROR), from ``orchestration.<host>`` (the engine's
node), in the request's context; on a broker they go to the ``heat`` exchange."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from stacklab.bus.interface import Bus
from stacklab.orchestration import models as m

# What of the request's context the notification carries (never its token).
CONTEXT_KEYS = ("request_id", "global_request_id", "user_id", "project_id", "tenant_id",
                "username", "user_name", "project_name")


def isotime(epoch: float | None) -> str | None:
    """heat's ``heat_timeutils.isotime``: ``2026-12-04T09:35:16Z``."""
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_type(action: str, status: str) -> tuple[str, str]:
    """The event type and priority of a stack's state."""
    if status == "IN_PROGRESS":
        suffix, priority = "start", "INFO"
    elif status == "COMPLETE":
        suffix, priority = "end", "INFO"
    else:
        suffix, priority = "error", "ERROR"
    return f"orchestration.stack.{action.lower()}.{suffix}", priority


def notification_body(stack: m.Stack) -> dict[str, Any]:
    """``format_notification_body``: heat's ``user_id`` is the user's name (``user_identity``
    its id), a quirk its consumers rely on."""
    body: dict[str, Any] = {
        "tenant_id": stack.project_id,
        "user_id": stack.username,
        "user_identity": stack.user_id,
        "username": stack.username,
        "stack_identity": stack.id,
        "stack_name": stack.name,
        "state": f"{stack.action}_{stack.status}" if stack.action and stack.status
        else "Unknown",
        "state_reason": stack.status_reason,
        "create_at": isotime(stack.created_at),
        "tags": stack.tags,
        "updated_at": isotime(stack.updated_at),
    }
    template = stack.template or {}
    body["description"] = template.get("description", template.get("Description", ""))
    return body


class StackNotifier:
    """What one heat-engine sends of the stacks it acts on."""

    def __init__(self, bus: Bus, host: str) -> None:
        self.bus = bus
        self.host = host

    async def state(self, stack: m.Stack | None, ctxt: Mapping[str, Any] | None) -> None:
        if stack is None:
            return
        kind, priority = event_type(stack.action, stack.status)
        context = {key: value for key, value in (ctxt or {}).items() if key in CONTEXT_KEYS}
        await self.bus.notify(f"orchestration.{self.host}", kind, notification_body(stack),
                              priority, ctxt=context)
