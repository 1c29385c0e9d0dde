"""Identifiers and random values as an injected, seedable source.

With a seed, every generated value (resource ids, token audit ids, MAC
addresses, Fernet keys) repeats exactly across runs that make the same calls,
so a test suite can rely on them. Without one, values come from the OS's
entropy.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import uuid


class IdSource:
    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        # A seeded Mersenne Twister is fine for lab ids; unseeded we use the
        # OS CSPRNG so keys and secrets are unguessable.
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None

    def stream(self, name: str) -> IdSource:
        """An independent source for one purpose (request ids, tokens, ...).

        Separate streams keep resource ids stable when, say, a health probe
        adds requests (and request ids) between two runs of the same calls.
        """
        if self.seed is None:
            return IdSource(None)
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return IdSource(int.from_bytes(digest[:8], "big"))

    def randbytes(self, n: int) -> bytes:
        if self._rng is None:
            return secrets.token_bytes(n)
        return self._rng.randbytes(n)

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(bytes=self.randbytes(16), version=4)

    def hex_id(self) -> str:
        """32 hex characters: keystone's id format."""
        return self.uuid4().hex

    def uuid(self) -> str:
        """A dashed UUID: nova's, glance's and neutron's id format."""
        return str(self.uuid4())

    def urlsafe_token(self, nbytes: int = 32) -> str:
        return base64.urlsafe_b64encode(self.randbytes(nbytes)).rstrip(b"=").decode()

    def randint(self, low: int, high: int) -> int:
        if self._rng is None:
            return low + secrets.randbelow(high - low + 1)
        return self._rng.randint(low, high)
