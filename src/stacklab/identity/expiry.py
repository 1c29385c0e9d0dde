"""``expires_at`` as keystone reads it in trusts and application credentials."""

from __future__ import annotations

import datetime as dt

from stacklab.api.errors import BadRequest

_CLIENT_ERROR = (" The server could not comply with the request since it is either malformed "
                 "or otherwise incorrect. The client is assumed to be in error.")
BAD_TIMESTAMP = "Timestamp not in expected format." + _CLIENT_ERROR
IN_THE_PAST = "The 'expires_at' must not be before now." + _CLIENT_ERROR


def parse_expiration(value: str, now: float) -> float:
    """An ISO 8601 UTC time, its ``Z`` optional; 400 if malformed or already past.

    keystone appends the ``Z`` itself when missing, so an explicit offset
    (``+02:00``) is refused as it is upstream.
    """
    text = value if value.endswith("Z") else value + "Z"
    try:
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00")
    except ValueError:
        raise BadRequest(BAD_TIMESTAMP) from None
    seconds = moment.timestamp()
    if seconds < now:
        raise BadRequest(IN_THE_PAST)
    return seconds
