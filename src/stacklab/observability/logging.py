"""Structured logs with the node, service and request ids, collected in one place.

Every log line of every simulated process carries the node it ran on, the
service, the request id and the global request id, so one request's path
can be read back across services (``GET /stacklab/v1/logs?request_id=...``).
"""

from __future__ import annotations

import json
import logging
import sys
from collections import deque
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from stacklab.observability import redaction

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_global_request_id: ContextVar[str | None] = ContextVar("global_request_id", default=None)
_node: ContextVar[str | None] = ContextVar("node", default=None)
_service: ContextVar[str | None] = ContextVar("service", default=None)


def bind_request(request_id: str, global_request_id: str | None, node: str | None) -> None:
    _request_id.set(request_id)
    _global_request_id.set(global_request_id)
    _node.set(node)
    _service.set(None)
    redaction.reset()


def note_request_body(raw: bytes) -> None:
    """The request's body, whose secret fields no line logged for it may show."""
    redaction.note_request(raw)


def set_service(service: str) -> None:
    _service.set(service)


def set_node(node: str | None) -> None:
    _node.set(node)


def current_node() -> str | None:
    """The node the running request or process is bound to (None: none)."""
    return _node.get()


def global_id() -> str | None:
    """What a call to another service carries as its global request id (oslo.context's
    ``global_id``): the request's own global id if it came with one, else its request id."""
    return _global_request_id.get() or _request_id.get() or None


def request_ids() -> dict[str, str | None]:
    """The request's ids, as oslo.context carries them in an RPC message's context."""
    return {"request_id": _request_id.get(), "global_request_id": _global_request_id.get()}


def clear_request() -> None:
    _request_id.set(None)
    _global_request_id.set(None)
    _service.set(None)
    redaction.reset()


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        record.global_request_id = _global_request_id.get()
        record.node = _node.get()
        record.service = _service.get()
        return True


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        "time": record.created,
        "level": record.levelname,
        "logger": record.name,
        "node": getattr(record, "node", None),
        "service": getattr(record, "service", None),
        "request_id": getattr(record, "request_id", None),
        "global_request_id": getattr(record, "global_request_id", None),
        "message": record.getMessage(),
    }


class CentralLogStore(logging.Handler):
    """The last ``capacity`` records of every node, searchable (the lab's Kibana).

    With one process per service (docs/processes.md) each process has its own: its
    records are tagged with the process (``process``, its label) and handed to
    ``forward`` (which ships them to the processes that serve the lab's API), and those
    processes ``add`` what the others shipped, so one search finds a request's records
    in every process. In one process neither is set and nothing of this happens.
    """

    def __init__(self, capacity: int = 20000) -> None:
        super().__init__()
        self.records: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.process: str | None = None
        self.forward: Callable[[dict[str, Any]], object] | None = None
        # Whether records came from other processes: they arrive later than they were
        # logged, so a search puts them back in time order.
        self._merged = False

    def emit(self, record: logging.LogRecord) -> None:
        fields = record_fields(record)
        if self.process is not None:
            fields["process"] = self.process
        self.records.append(fields)
        if self.forward is not None:
            self.forward(fields)

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        """Records another process logged (already tagged with it): kept, not forwarded."""
        self.records.extend(records)
        self._merged = True

    def search(self, **fields: str | None) -> list[dict[str, Any]]:
        wanted = {k: v for k, v in fields.items() if v}
        found = [r for r in self.records if all(r.get(k) == v for k, v in wanted.items())]
        if self._merged:
            found.sort(key=lambda r: r.get("time") or 0.0)
        return found


def exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    """The record's traceback as ``RedactingFilter`` left it (masked), else formatted here."""
    if record.exc_text:
        return record.exc_text
    if record.exc_info:
        return formatter.formatException(record.exc_info)
    return None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = record_fields(record)
        text = exception_text(self, record)
        if text:
            fields["exception"] = text
        return json.dumps(fields, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        where = "/".join(p for p in (getattr(record, "node", None),
                                     getattr(record, "service", None)) if p)
        rid = getattr(record, "request_id", None) or "-"
        line = f"{record.levelname:<7} [{where or 'stacklab'} {rid}] {record.getMessage()}"
        text = exception_text(self, record)
        if text:
            line += "\n" + text
        return line


# stacklab's own loggers, and the upstream names its simulated services log under
# (nova.compute.manager, neutron.db.agents_db...), which would otherwise reach only
# Python's last-resort handler: unmasked, and missing from the central store.
LOGGERS = ("stacklab", "nova", "neutron", "glance", "keystone", "cinder", "heat")


def configure(*, debug: bool = False, json_lines: bool = False,
              store: CentralLogStore | None = None) -> CentralLogStore:
    """Route the lab's logs to stderr and to the central store, secrets masked."""
    central = store or CentralLogStore()
    context = ContextFilter()
    # Every handler masks: a record is formatted by each, and none may see a secret.
    masking = redaction.RedactingFilter()
    central.addFilter(context)
    central.addFilter(masking)
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(context)
    console.addFilter(masking)
    console.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    console.setLevel(logging.DEBUG if debug else logging.WARNING)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(logging.DEBUG if debug else logging.INFO)
        logger.propagate = False
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.addHandler(central)
        logger.addHandler(console)
    return central
