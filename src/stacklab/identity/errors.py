"""Identity's errors, with keystone's messages."""

from __future__ import annotations

from stacklab.api.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


def not_found(kind: str, ident: str) -> NotFound:
    return NotFound(f"Could not find {kind}: {ident}.")


def duplicate(kind: str, detail: str) -> Conflict:
    return Conflict(f"Conflict occurred attempting to store {kind} - {detail}.")


def auth_failed(reason: str = "The request you have made requires authentication.") -> Unauthorized:
    return Unauthorized(reason)


def validation(message: str) -> BadRequest:
    return BadRequest(message)


def forbidden(message: str) -> Forbidden:
    return Forbidden(message)
