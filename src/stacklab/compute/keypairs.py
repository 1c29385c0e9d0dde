"""Key pairs: public keys users inject into their servers."""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Conflict, Forbidden, NotFound
from stacklab.clock import Clock
from stacklab.compute import models as m
from stacklab.ids import IdSource
from stacklab.store.locks import serialize

# nova's key_pairs quota default.
KEY_PAIRS_QUOTA = 100
_SAFE_NAME = re.compile(r"^[a-zA-Z0-9 _.@-]+$")


def fingerprint(public_key: str) -> str:
    """The MD5 fingerprint nova shows, from an OpenSSH public key line."""
    parts = public_key.strip().split()
    try:
        blob = base64.b64decode(parts[1], validate=True)
        serialization.load_ssh_public_key(public_key.strip().encode())
    except (IndexError, ValueError, TypeError):
        raise BadRequest("Keypair data is invalid: failed to generate fingerprint") from None
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


class KeyPairs:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    def generate(self) -> tuple[str, str]:
        """A new key pair (public line, private PEM); from the seeded source, so repeatable."""
        key = Ed25519PrivateKey.from_private_bytes(self.ids.randbytes(32))
        private = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.OpenSSH,
                                    serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                               serialization.PublicFormat.OpenSSH).decode()
        return f"{public} Generated-by-Nova", private

    def create(self, session: Session, user_id: str, name: str, public_key: str | None,
               key_type: str) -> tuple[m.KeyPair, str | None]:
        if not _SAFE_NAME.match(name):
            raise BadRequest("Keypair data is invalid: Keypair name contains unsafe characters")
        # The name check, the count and the new row as one step across processes sharing
        # the database (nova rechecks after creating instead).
        serialize(session, f"compute:key_pairs:{user_id}")
        if session.scalar(select(m.KeyPair.id).where(m.KeyPair.user_id == user_id,
                                                     m.KeyPair.name == name)):
            raise Conflict(f"Key pair '{name}' already exists.")
        count = len(list(session.scalars(select(m.KeyPair.id).where(
            m.KeyPair.user_id == user_id))))
        if count >= KEY_PAIRS_QUOTA:
            raise Forbidden("Quota exceeded, too many key pairs.")
        private = None
        if public_key is None:
            public_key, private = self.generate()
        keypair = m.KeyPair(name=name, user_id=user_id, fingerprint=fingerprint(public_key),
                            public_key=public_key.strip(), type=key_type,
                            created_at=self.clock.now())
        session.add(keypair)
        session.flush()
        return keypair, private

    def get(self, session: Session, user_id: str, name: str) -> m.KeyPair:
        keypair = session.scalar(select(m.KeyPair).where(m.KeyPair.user_id == user_id,
                                                         m.KeyPair.name == name))
        if keypair is None:
            raise NotFound(f"Keypair {name} not found for user {user_id}")
        return keypair

    def list_keypairs(self, session: Session, user_id: str) -> list[m.KeyPair]:
        return list(session.scalars(select(m.KeyPair).where(
            m.KeyPair.user_id == user_id).order_by(m.KeyPair.id)))
