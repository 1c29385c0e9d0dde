"""Fernet tokens: round trip, tampering, key rotation, seeded repeatability."""

from __future__ import annotations

import pytest

from stacklab.identity.tokens import FernetTokens, TokenFormatError, TokenPayload
from stacklab.ids import IdSource

USER = "0123456789abcdef0123456789abcdef"
PROJECT = "fedcba9876543210fedcba9876543210"


def payload(**changes: object) -> TokenPayload:
    fields: dict[str, object] = {
        "user_id": USER, "methods": ("password",), "expires_at": 1_700_003_600.5,
        "issued_at": 1_700_000_000.25, "audit_ids": ("QUJDREVGR0hJSktMTU5PUA",),
        "project_id": PROJECT,
    }
    fields.update(changes)
    return TokenPayload(**fields)  # type: ignore[arg-type]


def tokens(seed: int = 1) -> FernetTokens:
    ids = IdSource(seed)
    return FernetTokens([FernetTokens.new_key(ids)], ids.stream("tokens"))


@pytest.mark.parametrize("scope", [
    {"project_id": PROJECT},
    {"project_id": None, "domain_id": "default"},
    {"project_id": None, "system": "all"},
    {"project_id": None},
])
def test_round_trip_keeps_every_field(scope: dict[str, object]) -> None:
    original = payload(**scope, methods=("password", "token"),
                       audit_ids=("QUJDREVGR0hJSktMTU5PUA", "UVJTVFVWV1hZWmFiY2RlZg"))
    fernet = tokens()
    decoded = fernet.decode(fernet.encode(original))
    assert decoded == original


def test_application_credential_id_travels() -> None:
    fernet = tokens()
    decoded = fernet.decode(fernet.encode(payload(application_credential_id=PROJECT)))
    assert decoded.application_credential_id == PROJECT


def test_oauth1_access_token_id_travels_apart_from_a_trust() -> None:
    fernet = tokens()
    original = payload(methods=("oauth1",), access_token_id=USER)
    decoded = fernet.decode(fernet.encode(original))
    assert decoded == original and decoded.trust_id is None
    trusted = payload(trust_id=PROJECT)
    assert fernet.decode(fernet.encode(trusted)).access_token_id is None


def test_token_has_no_padding_and_is_ascii() -> None:
    token = tokens().encode(payload())
    assert "=" not in token
    assert token.isascii()


def test_tampered_token_is_rejected() -> None:
    fernet = tokens()
    token = fernet.encode(payload())
    flipped = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    with pytest.raises(TokenFormatError):
        fernet.decode(flipped)


def test_token_of_another_key_is_rejected() -> None:
    with pytest.raises(TokenFormatError):
        tokens(seed=2).decode(tokens(seed=1).encode(payload()))


@pytest.mark.parametrize("garbage", ["", "x", "gAAAA", "not a token at all", "é" * 10])
def test_garbage_is_rejected(garbage: str) -> None:
    with pytest.raises(TokenFormatError):
        tokens().decode(garbage)


def test_older_keys_still_decrypt_after_rotation() -> None:
    ids = IdSource(3)
    old_key, new_key = FernetTokens.new_key(ids), FernetTokens.new_key(ids)
    before = FernetTokens([old_key], ids.stream("a")).encode(payload())
    after_rotation = FernetTokens([new_key, old_key], ids.stream("b"))
    assert after_rotation.decode(before).user_id == USER


def test_same_seed_issues_the_same_token() -> None:
    assert tokens(seed=9).encode(payload()) == tokens(seed=9).encode(payload())
    assert tokens(seed=9).encode(payload()) != tokens(seed=10).encode(payload())


def test_a_decoded_token_is_kept_but_a_tampered_copy_is_still_refused() -> None:
    fernet = tokens()
    token = fernet.encode(payload())
    first = fernet.decode(token)
    assert fernet.decode(token) == first == payload()
    flipped = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    with pytest.raises(TokenFormatError):
        fernet.decode(flipped)
    # A refused token is not kept as good, however often it is tried.
    with pytest.raises(TokenFormatError):
        fernet.decode(flipped)
    # Another key set (keys rotated away) does not see this set's decoded tokens.
    with pytest.raises(TokenFormatError):
        tokens(seed=2).decode(token)


def test_decoded_tokens_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import stacklab.identity.tokens as module

    monkeypatch.setattr(module, "DECODED_KEPT", 3)
    fernet = tokens()
    issued = [fernet.encode(payload(issued_at=1_700_000_000.0 + i)) for i in range(7)]
    for token in issued:
        fernet.decode(token)
    assert len(fernet._decoded) <= 3
    assert [fernet.decode(t).issued_at for t in issued] == \
        [1_700_000_000.0 + i for i in range(7)]
