"""Typed query-string parameters, read the same way by every service."""

from __future__ import annotations

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
