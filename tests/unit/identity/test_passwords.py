"""Password hashing: bcrypt_sha256 without truncation, and every older format still verifying."""

from __future__ import annotations

from pathlib import Path

import bcrypt
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.config import Config, lab_defaults
from stacklab.identity import models as m
from stacklab.identity.passwords import PasswordHasher
from support.inprocess import admin_token

# Two passwords equal in their first 72 bytes (bcrypt's limit), different after.
SHARED = "x" * 72
FIRST, SECOND = SHARED + "-first", SHARED + "-second"


def test_lab_default_is_bcrypt_sha256_and_upstream_default_is_bcrypt() -> None:
    assert lab_defaults(Config()).identity.password_hash_algorithm == "bcrypt_sha256"
    assert Config().identity.password_hash_algorithm == "bcrypt"


def test_bcrypt_sha256_format() -> None:
    hashed = PasswordHasher("bcrypt_sha256", 5).hash("pässwörd")
    assert hashed.startswith("$bcrypt-sha256$v=2,t=2b,r=5$")
    _, _, _, salt, digest = hashed.split("$")
    assert len(salt) == 22 and len(digest) == 31


@pytest.mark.parametrize(("password", "hashed"), [
    # Written by passlib 1.7.4 (bcrypt_sha256.using(rounds=..., salt=...).hash(password)).
    ("correct horse " * 8,
     "$bcrypt-sha256$v=2,t=2b,r=4$n79VH.0Q2TMWmt3Oqt9uku$nOdtGEF2aD8XvV.O6t2C4cxm1r.dgUK"),
    ("pässwörd",
     "$bcrypt-sha256$v=2,t=2b,r=5$AbCdEfGhIjKlMnOpQrStUu$.v75R/faB./DZgxDbzaGxQE.TewOCkC"),
])
def test_verifies_hashes_written_by_passlib(password: str, hashed: str) -> None:
    hasher = PasswordHasher("bcrypt_sha256", 4)
    assert hasher.verify(password, hashed)
    assert not hasher.verify(password + "!", hashed)
    assert not hasher.verify(password[:-1], hashed)


def test_bcrypt_sha256_tells_apart_passwords_sharing_72_bytes() -> None:
    hasher = PasswordHasher("bcrypt_sha256", 4)
    hashed = hasher.hash(FIRST)
    assert hasher.verify(FIRST, hashed)
    assert not hasher.verify(SECOND, hashed)
    assert not hasher.verify(SHARED, hashed)


def test_plain_bcrypt_truncates_as_upstream_but_says_so(caplog: pytest.LogCaptureFixture) -> None:
    hasher = PasswordHasher("bcrypt", 4)
    with caplog.at_level("WARNING", logger="stacklab.identity.passwords"):
        hashed = hasher.hash(FIRST)
    assert hashed.startswith("$2b$04$")
    assert hasher.verify(SECOND, hashed), "bcrypt reads 72 bytes: this is why it is not the default"
    assert any("Truncating" in r.getMessage() for r in caplog.records)
    assert FIRST not in caplog.text


@pytest.mark.parametrize("algorithm", ["bcrypt", "bcrypt_sha256", "pbkdf2_sha512"])
def test_hashes_of_every_format_verify_whatever_the_configured_algorithm(algorithm: str) -> None:
    """A state dir made by an earlier version (or another setting) keeps logging in."""
    old_bcrypt = bcrypt.hashpw(b"old secret", bcrypt.gensalt(4)).decode()
    old_pbkdf2 = PasswordHasher("pbkdf2_sha512", 1000).hash("old secret")
    new_sha256 = PasswordHasher("bcrypt_sha256", 4).hash("old secret")
    hasher = PasswordHasher(algorithm, 4)
    for hashed in (old_bcrypt, old_pbkdf2, new_sha256):
        assert hasher.verify("old secret", hashed), hashed
        assert not hasher.verify("old secreT", hashed), hashed


def test_an_old_long_bcrypt_hash_keeps_verifying_with_its_own_72_bytes() -> None:
    """Hashes of the previous version were made of the first 72 bytes of a long password."""
    old = bcrypt.hashpw(FIRST.encode()[:72], bcrypt.gensalt(4)).decode()
    assert PasswordHasher("bcrypt_sha256", 4).verify(FIRST, old)


@pytest.mark.parametrize("hashed", [
    None, "", "plain", "$bcrypt-sha256$v=2,t=2b,r=4$short$short",
    "$bcrypt-sha256$v=2,t=2b,r=99$n79VH.0Q2TMWmt3Oqt9uku$nOdtGEF2aD8XvV.O6t2C4cxm1r.dgUK",
    "$bcrypt-sha256$v=1,t=2b,r=4$n79VH.0Q2TMWmt3Oqt9uku$nOdtGEF2aD8XvV.O6t2C4cxm1r.dgUK",
    "$pbkdf2-sha512$many$salt$digest", "$2b$04$broken",
])
def test_malformed_hashes_never_verify_nor_raise(hashed: str | None) -> None:
    assert not PasswordHasher("bcrypt_sha256", 4).verify("anything", hashed)


def test_unknown_algorithm_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="bcrypt_sha256"):
        PasswordHasher("md5")


def test_a_state_dir_written_by_the_previous_version_keeps_logging_in(tmp_path: Path) -> None:
    """Hashes stored as the previous version stored them (plain bcrypt of the first 72
    bytes) still log in through the API after an upgrade; new ones are bcrypt_sha256."""
    long_password = SHARED + "-and-more"

    def config() -> Config:
        settings = lab_defaults(Config())
        settings.stacklab.state_dir = str(tmp_path)
        return settings

    def login(client: TestClient, name: str, password: str) -> int:
        return client.post("/identity/v3/auth/tokens", json={"auth": {"identity": {
            "methods": ["password"], "password": {"user": {
                "name": name, "domain": {"id": "default"}, "password": password}}}}}).status_code

    before = Cloud(config())
    before.start("http://testserver")
    with TestClient(build_app(before)) as client:
        created = client.post("/identity/v3/users", headers={"X-Auth-Token": admin_token(client)},
                              json={"user": {"name": "veteran", "password": "unused"}})
        assert created.status_code == 201, created.text
    with before.db.session() as session:
        for user in session.scalars(select(m.User).where(m.User.name.in_(["admin", "veteran"]))):
            secret = "secret" if user.name == "admin" else long_password
            user.password_hash = bcrypt.hashpw(secret.encode()[:72], bcrypt.gensalt(4)).decode()
    before.stop()

    after = Cloud(config())
    after.start("http://testserver")
    try:
        with TestClient(build_app(after)) as client:
            assert login(client, "admin", "secret") == 201
            assert login(client, "veteran", long_password) == 201
            assert login(client, "veteran", "wrong") == 401
            changed = client.post("/identity/v3/users", headers={
                "X-Auth-Token": admin_token(client)},
                json={"user": {"name": "newcomer", "password": long_password}})
            assert changed.status_code == 201
            assert login(client, "newcomer", long_password) == 201
            assert login(client, "newcomer", SHARED + "-and-less") == 401
        with after.db.session() as session:
            hashes = {name: hashed for name, hashed in session.execute(
                select(m.User.name, m.User.password_hash))}
        assert hashes["veteran"] and hashes["veteran"].startswith("$2b$04$")
        assert hashes["newcomer"] and hashes["newcomer"].startswith("$bcrypt-sha256$v=2,t=2b,r=4$")
    finally:
        after.stop()
