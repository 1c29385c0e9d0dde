"""Keeping passwords, secrets and tokens out of every log line, in one place.

Two complementary nets, both applied by ``RedactingFilter`` to every record the lab's
handlers emit (the central store, stderr, JSON lines):

* what a request carries: the request path registers the values of its body's secret
  fields (``password``, ``secret``, ``blob``...) for as long as the request runs, and any
  of them found in a line logged meanwhile is masked, wherever the text came from (an
  error message echoing the value, an exception, a database error's parameters);
* what looks like a secret anywhere: Fernet tokens (keystone's, ``gAAAAA...``), the
  value after a secret-named key (``"password": "..."``, ``?token=...``, a CLI table's
  ``| secret | ... |`` row) and the parameters SQLAlchemy appends to its errors.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

MASK = "***"

# Body fields whose values are secrets (compared lower-cased): keystone's passwords,
# application-credential and EC2 secrets, credential blobs, TOTP passcodes, token ids
# given as strings; nova's adminPass and generated private keys.
SECRET_FIELDS = frozenset({
    "password", "original_password", "secret", "blob", "passcode", "token", "auth_token",
    "access_token", "adminpass", "admin_pass", "private_key",
})
# A value registered for masking must be this long: a two-letter password would
# otherwise mask every occurrence of its letters in the request's lines. Shorter ones
# are still caught by the key patterns below.
_MIN_SECRET = 4
# Bodies are only parsed again when one of these words is in them (most are not).
_HINTS = (b"password", b"secret", b"blob", b"passcode", b"token", b"adminpass", b"private_key")

_request_secrets: ContextVar[tuple[str, ...]] = ContextVar("request_secrets", default=())

_KEY_NAMES = (r"(?:original_|admin_?)?pass(?:word|code)|secret|blob|private_key|"
              r"(?:auth_|access_|subject_)?token|x-(?:auth|subject)-token")
# A key name on its own, or at the end of a longer one (OS_PASSWORD, db_password).
_KEY = rf"(?:\b|(?<=_))(?:{_KEY_NAMES})\b"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # keystone's Fernet tokens: base64url of a version byte 0x80 and a timestamp.
    (re.compile(r"gAAAAA[A-Za-z0-9_\-]{20,}=*"), MASK),
    # "password": "...", 'secret': '...', password=...: JSON, reprs, headers, env, query.
    # A backslash is only ever read as an escape ([^\\] in the other branch): with both
    # branches taking it, a line of backslashes and no closing quote backtracked 2**n.
    (re.compile(rf"""(?i)(["']?{_KEY}["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2)[^\\])*\2"""),
     rf"\1\2{MASK}\2"),
    (re.compile(rf"(?i)((?:^|[?&;\s])[\w.-]*?{_KEY}=)[^&;\s\"']+"), rf"\1{MASK}"),
    # Header dumps: X-Auth-Token: value
    (re.compile(r"(?i)(\bx-(?:auth|subject)-token\s*:\s*)[^\s,;'\"]+"), rf"\1{MASK}"),
    # The openstack CLI's tables (init hooks' output): | secret | value |
    # (One run to the next pipe: spaces shared by three quantifiers backtracked n**3.)
    (re.compile(rf"(?i)(\|\s*{_KEY}\s*\|)[^|\n]*(\|)"), rf"\1 {MASK} \2"),
    # SQLAlchemy's errors end with the statement's parameters (hashes, secrets, blobs).
    (re.compile(r"\[parameters: [^\n]*"), f"[parameters: {MASK}]"),
)


def reset() -> None:
    """A new request: no secrets of an earlier one are remembered."""
    _request_secrets.set(())


def note_request(raw_body: bytes) -> None:
    """Remember the secret fields of this request's body, to mask them in its log lines."""
    if not raw_body:
        return
    lowered = raw_body.lower()
    if not any(hint in lowered for hint in _HINTS):
        return
    try:
        document = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    note_secrets(_secret_values(document))


def note_secrets(values: Iterable[str]) -> None:
    """Remember ``values`` as secrets of the current request (in the forms logs show them)."""
    found = set(_request_secrets.get())
    for value in values:
        for shown in _shown_forms(value):
            if len(shown) >= _MIN_SECRET:
                found.add(shown)
    # Longest first: a secret that contains another is masked whole.
    _request_secrets.set(tuple(sorted(found, key=len, reverse=True)))


def _shown_forms(value: str) -> set[str]:
    """The value as messages may print it: raw, in a repr, JSON-escaped, with escapes."""
    return {value, repr(value)[1:-1], json.dumps(value)[1:-1],
            value.encode("utf-8", "backslashreplace").decode("ascii", "replace")}


def _secret_values(document: Any, key: str = "") -> Iterator[str]:
    if isinstance(document, dict):
        for name, item in document.items():
            yield from _secret_values(item, str(name).lower())
    elif isinstance(document, list):
        for item in document:
            yield from _secret_values(item, key)
    elif isinstance(document, str) and key in SECRET_FIELDS:
        yield document
        if key == "blob":
            # A credential's blob is JSON text itself (an EC2 blob holds a secret).
            inner: Any = None
            with contextlib.suppress(ValueError, RecursionError):
                inner = json.loads(document)
            yield from _secret_values(inner)


def redact(text: str) -> str:
    for secret in _request_secrets.get():
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and traceback before any handler formats it."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "redacted", False):
            return True  # one record, several handlers: masked once
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record.redacted = True
        return True
