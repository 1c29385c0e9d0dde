"""No password, secret or token reaches a log line: the patterns, the request's secrets, and
the whole path from a request through the lab's handlers to the central store and stderr."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.observability import logging as obs
from stacklab.observability import redaction
from stacklab.observability.logging import LOGGERS, CentralLogStore, JsonFormatter, configure
from support.inprocess import admin_token, ephemeral_config

TOKEN = "gAAAAABrEOs9BTAD8_7Rxq1bT0kZ2Lr2G4mDq3hY-Ok7Jd9SxWz_3fNhXQ"


@pytest.fixture(autouse=True)
def fresh_request() -> Iterator[None]:
    redaction.reset()
    yield
    redaction.reset()


@pytest.mark.parametrize(("text", "secret"), [
    (f"could not find token: {TOKEN}", TOKEN),
    (f"GET /v3/auth/tokens/{TOKEN}?nocatalog", TOKEN),
    ('{"user": {"name": "bob", "password": "hunter2-long"}}', "hunter2-long"),
    ("{'secret': 'app-cred-secret', 'name': 'x'}", "app-cred-secret"),
    ("Invalid input for field 'user/password': 'sesame-open' is too long", "sesame-open"),
    ("GET /v2.0/things?limit=3&token=abcdef123&marker=x", "abcdef123"),
    ("export OS_PASSWORD='my pass word'", "my pass word"),
    ("OS_PASSWORD=plain-text-pw hook", "plain-text-pw"),
    ("| secret      | Zm9vYmFyYmF6cXV4 |", "Zm9vYmFyYmF6cXV4"),
    ("IntegrityError: UNIQUE failed\n[SQL: INSERT INTO x]\n[parameters: ('u1', '$2b$04$abc')]",
     "$2b$04$abc"),
    ("X-Subject-Token: opaque-token-text", "opaque-token-text"),
])
def test_patterns_mask_secrets_wherever_they_appear(text: str, secret: str) -> None:
    masked = redaction.redact(text)
    assert secret not in masked
    assert redaction.MASK in masked


@pytest.mark.parametrize("text", [
    '"POST /identity/v3/auth/tokens" status: 201 time: 0.0100',
    "identity error 404: Could not find user: 3f2a.",
    "| password_expires_at | None |",
    "Selected hosts ['compute1'] for instances ['abc']",
])
def test_ordinary_lines_are_left_alone(text: str) -> None:
    assert redaction.redact(text) == text


def test_a_requests_body_secrets_are_masked_in_any_form_until_the_next_request() -> None:
    body = json.dumps({"user": {"name": "alice", "password": "pa'ss\\word-1",
                                "options": {}},
                       "credential": {"blob": json.dumps({"access": "AK", "secret": "ec2-s3cr"})},
                       "server": {"adminPass": "Admin-Pass-9"}, "pin": {"password": "abc"}})
    redaction.note_request(body.encode())
    for shown in ("pa'ss\\word-1", repr("pa'ss\\word-1"), "ec2-s3cr", "Admin-Pass-9"):
        assert "pa'ss" not in redaction.redact(f"value was {shown}.")
        assert "ec2-s3cr" not in redaction.redact(f"value was {shown}.")
        assert "Admin-Pass-9" not in redaction.redact(f"value was {shown}.")
    # Not secrets: names, and values too short to mask without garbling the line.
    assert redaction.redact("user alice, pin abc") == "user alice, pin abc"
    redaction.reset()
    assert redaction.redact("ec2-s3cr") == "ec2-s3cr"


def test_bodies_without_secret_fields_are_not_parsed_again() -> None:
    redaction.note_request(b'{"network": {"name": "ec2-s3cr-net"}}')
    redaction.note_request(b"not json at all, but a password word")
    assert redaction.redact("ec2-s3cr-net") == "ec2-s3cr-net"


@pytest.fixture
def lab_logging() -> Iterator[tuple[CentralLogStore, io.StringIO]]:
    """configure() as ``stacklab up --debug --json-logs`` runs it, undone afterwards."""
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).propagate,
                    list(logging.getLogger(name).handlers)) for name in LOGGERS}
    store = configure(debug=True, json_lines=True)
    stream = io.StringIO()
    console = next(h for h in logging.getLogger("stacklab").handlers
                   if isinstance(h, logging.StreamHandler) and h is not store)
    assert isinstance(console, logging.StreamHandler)
    console.setStream(stream)
    yield store, stream
    for name, (level, propagate, handlers) in saved.items():
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


def test_records_are_masked_in_the_store_and_on_stderr_tracebacks_too(
        lab_logging: tuple[CentralLogStore, io.StringIO]) -> None:
    store, stream = lab_logging
    obs.bind_request("req-1", None, "controller1")
    obs.note_request_body(
        b'{"auth": {"identity": {"password": {"user": {"password": "pw-123456"}}}}}')
    log = logging.getLogger("stacklab.api")
    log.info("login by %s failed", "pw-123456")
    try:
        raise ValueError(f"token {TOKEN} and pw-123456 in an exception")
    except ValueError:
        log.exception("unexpected error")
    # An upstream-named logger reaches the same handlers, masked and stored.
    logging.getLogger("nova.compute.manager").warning("rebuild with adminPass='pw-123456'")
    obs.clear_request()
    output = stream.getvalue()
    stored = json.dumps(list(store.records))
    for text in (output, stored):
        assert "pw-123456" not in text
        assert TOKEN not in text
    lines = [json.loads(line) for line in output.splitlines()]
    assert any("Traceback" in line.get("exception", "") for line in lines)
    assert any(r["logger"] == "nova.compute.manager" for r in store.records)


def test_json_formatter_keeps_a_traceback_it_formats_itself() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        import sys
        record = logging.LogRecord("stacklab", logging.ERROR, __file__, 1, "failed", None,
                                   sys.exc_info())
    assert "RuntimeError: boom" in json.loads(JsonFormatter().format(record))["exception"]


def test_a_request_echoing_a_secret_leaves_none_in_the_log(
        lab_logging: tuple[CentralLogStore, io.StringIO]) -> None:
    """A 400 that quotes the secret back to its sender (as keystone's validator does) is
    logged; the log keeps the error, not the secret."""
    store, stream = lab_logging
    cloud = Cloud(ephemeral_config(), logs=store)
    cloud.start("http://testserver")
    try:
        with TestClient(build_app(cloud), raise_server_exceptions=False) as client:
            token = admin_token(client)
            long_secret = "S" * 5000
            answer = client.post(
                "/identity/v3/users/x/application_credentials",
                headers={"X-Auth-Token": token},
                json={"application_credential": {"name": "a", "secret": long_secret}})
            assert answer.status_code in (400, 403, 404), answer.text
            # Refused (its status is the input validation's business), quoting the value.
            client.post("/identity/v3/users", headers={"X-Auth-Token": token,
                                                       "Content-Type": "application/json"},
                        content=b'{"user": {"name": "u", "password": "Sesame-\\ud800-Open"}}')
    finally:
        cloud.stop()
    text = stream.getvalue() + json.dumps(list(store.records))
    assert "SSSSSSSSSS" not in text
    assert "Sesame-" not in text
    assert "secret" in text.lower() or "password" in text.lower(), "the errors are logged"
    assert token not in text
