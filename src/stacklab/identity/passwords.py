"""Password and secret hashing: keystone's algorithms and hash formats.

``bcrypt`` reads at most 72 bytes of a password, so two passwords (or
application-credential secrets) that share their first 72 bytes hash alike.
``bcrypt_sha256`` (passlib's format, which keystone writes and reads) first
turns the whole password into a 44-byte HMAC-SHA256 digest keyed by the salt,
so every byte counts; it is the lab's default for new hashes. Hashes already
stored in another format keep verifying whatever the configured algorithm is:
the format is read from the hash itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re

import bcrypt

LOG = logging.getLogger(__name__)

ALGORITHMS = ("bcrypt", "bcrypt_sha256", "pbkdf2_sha512")

# bcrypt reads at most 72 bytes; keystone truncates the same way (and says so).
_BCRYPT_MAX = 72
# passlib's bcrypt_sha256 version 2: "$bcrypt-sha256$v=2,t=2b,r=<rounds>$<salt>$<digest>",
# the salt and digest in bcrypt's own base64 alphabet (22 and 31 characters).
_BCRYPT_SHA256 = re.compile(
    r"^\$bcrypt-sha256\$v=2,t=2b,r=(?P<rounds>\d{1,2})"
    r"\$(?P<salt>[./A-Za-z0-9]{22})\$(?P<digest>[./A-Za-z0-9]{31})$")


class PasswordHasher:
    def __init__(self, algorithm: str = "bcrypt", rounds: int = 12) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"[identity] password_hash_algorithm {algorithm!r} is not supported "
                             f"(choose one of {', '.join(ALGORITHMS)})")
        self.algorithm = algorithm
        self.rounds = max(4, min(rounds, 31)) if algorithm != "pbkdf2_sha512" \
            else max(rounds, 1000)

    def hash(self, password: str) -> str:
        raw = password.encode()
        if self.algorithm == "bcrypt_sha256":
            salt = bcrypt.gensalt(self.rounds).decode()[-22:]
            return (f"$bcrypt-sha256$v=2,t=2b,r={self.rounds}${salt}$"
                    f"{_bcrypt_sha256_digest(raw, self.rounds, salt)}")
        if self.algorithm == "bcrypt":
            if len(raw) > _BCRYPT_MAX:
                # Upstream's behaviour with this algorithm, but never silently.
                LOG.warning("Truncating a password or secret to bcrypt's %d bytes; "
                            "[identity] password_hash_algorithm = bcrypt_sha256 uses all of it",
                            _BCRYPT_MAX)
            return bcrypt.hashpw(raw[:_BCRYPT_MAX], bcrypt.gensalt(self.rounds)).decode()
        salt = bcrypt.gensalt().hex()[:32]
        digest = hashlib.pbkdf2_hmac("sha512", raw, salt.encode(), self.rounds).hex()
        return f"$pbkdf2-sha512${self.rounds}${salt}${digest}"

    def verify(self, password: str, hashed: str | None) -> bool:
        if not hashed:
            return False
        raw = password.encode()
        if hashed.startswith("$bcrypt-sha256$"):
            found = _BCRYPT_SHA256.match(hashed)
            if found is None:
                return False
            rounds = int(found["rounds"])
            if not 4 <= rounds <= 31:
                return False
            computed = _bcrypt_sha256_digest(raw, rounds, found["salt"])
            return hmac.compare_digest(computed, found["digest"])
        if hashed.startswith("$pbkdf2-sha512$"):
            try:
                _, _, rounds_text, salt, digest = hashed.split("$")
                computed = hashlib.pbkdf2_hmac("sha512", raw, salt.encode(),
                                               int(rounds_text)).hex()
            except ValueError:
                return False
            return hmac.compare_digest(computed, digest)
        # Hashes written by plain bcrypt ($2b$, $2a$...) were made of the first 72 bytes.
        try:
            return bcrypt.checkpw(raw[:_BCRYPT_MAX], hashed.encode())
        except ValueError:
            return False


def _bcrypt_sha256_digest(raw: bytes, rounds: int, salt: str) -> str:
    """bcrypt's 31-character digest of the password's salted HMAC-SHA256.

    The HMAC is keyed by the salt as written (its 22 characters), and base64
    (44 bytes, no NUL that would end bcrypt's input) is what bcrypt hashes.
    """
    key = base64.b64encode(hmac.new(salt.encode("ascii"), raw, hashlib.sha256).digest())
    hashed = bcrypt.hashpw(key, f"$2b${rounds:02d}${salt}".encode("ascii"))
    return hashed.decode("ascii")[-31:]
