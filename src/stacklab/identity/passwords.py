"""Password and secret hashing (keystone's default algorithm, bcrypt)."""

from __future__ import annotations

import hashlib
import hmac

import bcrypt

# bcrypt reads at most 72 bytes; keystone truncates the same way.
_BCRYPT_MAX = 72


class PasswordHasher:
    def __init__(self, algorithm: str = "bcrypt", rounds: int = 12) -> None:
        if algorithm not in ("bcrypt", "pbkdf2_sha512"):
            raise ValueError(f"[identity] password_hash_algorithm {algorithm!r} is not supported")
        self.algorithm = algorithm
        self.rounds = max(4, min(rounds, 31)) if algorithm == "bcrypt" else max(rounds, 1000)

    def hash(self, password: str) -> str:
        raw = password.encode()
        if self.algorithm == "bcrypt":
            return bcrypt.hashpw(raw[:_BCRYPT_MAX], bcrypt.gensalt(self.rounds)).decode()
        salt = bcrypt.gensalt().hex()[:32]
        digest = hashlib.pbkdf2_hmac("sha512", raw, salt.encode(), self.rounds).hex()
        return f"$pbkdf2-sha512${self.rounds}${salt}${digest}"

    def verify(self, password: str, hashed: str | None) -> bool:
        if not hashed:
            return False
        raw = password.encode()
        if hashed.startswith("$pbkdf2-sha512$"):
            _, _, rounds, salt, digest = hashed.split("$")
            computed = hashlib.pbkdf2_hmac("sha512", raw, salt.encode(), int(rounds)).hex()
            return hmac.compare_digest(computed, digest)
        try:
            return bcrypt.checkpw(raw[:_BCRYPT_MAX], hashed.encode())
        except ValueError:
            return False
