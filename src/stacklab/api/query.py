"""Typed query-string parameters, read the same way by every service."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from stacklab.api.errors import BadRequest

_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


def int_param(query: Mapping[str, str], name: str, *, minimum: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameter {name}: {raw!r} is not an "
                         "integer") from None
    if minimum is not None and value < minimum:
        raise BadRequest(f"Invalid input for query parameter {name}: {value} is less than "
                         f"{minimum}")
    return value


def bool_param(query: Mapping[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None:
        return None
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadRequest(f"Invalid input for query parameter {name}: {raw!r} is not a boolean")


def timestamp_param(query: Mapping[str, str], name: str) -> float | None:
    """An ISO 8601 time (``2024-01-01T00:00:00Z``, offsets allowed) as epoch seconds."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameter {name}: {raw!r} is not an "
                         "ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()
