"""Masking runs on every log line, and log lines echo client input: it must take time
linear in the line, whatever the line holds (a 90-character project name once held the
whole cloud for 37 s through an error message that quoted it)."""

from __future__ import annotations

import time

import pytest

from stacklab.observability import redaction


@pytest.mark.parametrize("line", [
    'password: "' + "\\" * 20000,                      # escapes, and no closing quote
    "Invalid input for field 'name': 'password: \"" + "\\\\" * 5000 + "x' is too long",
    "| password |" + " " * 20000,                      # a table cell never closed
    "| secret |" + " \t" * 10000 + "x",
    "a_password_" * 2000,
    "password=" * 3000,
])
def test_masking_a_hostile_line_takes_linear_time(line: str) -> None:
    began = time.perf_counter()
    redaction.redact(line)
    assert time.perf_counter() - began < 0.5


@pytest.mark.parametrize(("text", "secret"), [
    ('{"password": "a\\\\b\\"c-long"}', 'a\\\\b\\"c-long'),
    ("{'secret': 'it\\'s-a-secret'}", "it\\'s-a-secret"),
    ("| password | some long value  |", "some long value"),
])
def test_escaped_quotes_and_table_cells_are_still_masked(text: str, secret: str) -> None:
    masked = redaction.redact(text)
    assert secret not in masked
    assert redaction.MASK in masked
