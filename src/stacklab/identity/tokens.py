"""Fernet tokens, as keystone issues them: encrypted, signed, validated without a store read.

The payload (msgpack) carries who, how, which scope, until when and the
audit ids; roles are resolved from the in-memory assignment cache at
validation. Encryption follows the Fernet spec with the IV taken from the
injected id source and the timestamp from the clock, so a seeded run
issues the very same tokens (cryptography's Fernet draws its own IV).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from dataclasses import dataclass, field

import msgpack
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from stacklab.ids import IdSource

PAYLOAD_VERSION = 1
# Decoded tokens kept in memory, at most (about 1 KB each).
DECODED_KEPT = 10_000
METHODS = ("password", "token", "application_credential", "totp", "mapped", "oauth1")


class TokenFormatError(ValueError):
    """The string is not a token we issued (bad encoding, signature or payload)."""


@dataclass(frozen=True)
class TokenPayload:
    user_id: str
    methods: tuple[str, ...]
    expires_at: float
    issued_at: float
    audit_ids: tuple[str, ...]
    project_id: str | None = None
    domain_id: str | None = None
    system: str | None = None
    application_credential_id: str | None = None
    trust_id: str | None = None
    # An OAuth1-scoped token: the access token that signed for it.
    access_token_id: str | None = None
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def scope_kind(self) -> str:
        if self.project_id:
            return "project"
        if self.domain_id:
            return "domain"
        if self.system:
            return "system"
        return "unscoped"


def _pack_id(value: str | None) -> bytes | str | None:
    # 32-hex keystone ids travel as 16 bytes, keeping tokens short.
    if value and len(value) == 32:
        try:
            return bytes.fromhex(value)
        except ValueError:
            return value
    return value


def _unpack_id(value: bytes | str | None) -> str | None:
    if isinstance(value, bytes):
        return value.hex()
    return value


class FernetTokens:
    def __init__(self, keys: list[bytes], ids: IdSource) -> None:
        if not keys:
            raise ValueError("the Fernet key repository is empty")
        self._keys = keys
        self._ids = ids
        # Keys are ordered newest first: the primary encrypts, all decrypt.
        self._decrypter = MultiFernet([Fernet(k) for k in keys])
        # What a token string decrypts to never changes while these keys do not (a new key
        # set is a new FernetTokens): every request checks its token, and a validation
        # decodes two, so the HMAC, AES and msgpack work is done once per token. Only
        # good tokens are kept; expiry and revocation are judged by the caller each time.
        self._decoded: dict[str, TokenPayload] = {}

    @staticmethod
    def new_key(ids: IdSource) -> bytes:
        return base64.urlsafe_b64encode(ids.randbytes(32))

    def encode(self, payload: TokenPayload) -> str:
        method_bits = sum(1 << METHODS.index(m) for m in payload.methods if m in METHODS)
        scope: list[object]
        if payload.project_id:
            scope = [1, _pack_id(payload.project_id)]
        elif payload.domain_id:
            scope = [2, _pack_id(payload.domain_id)]
        elif payload.system:
            scope = [3, payload.system]
        else:
            scope = [0, None]
        body = msgpack.packb(
            [
                PAYLOAD_VERSION,
                _pack_id(payload.user_id),
                method_bits,
                scope,
                payload.expires_at,
                payload.issued_at,
                [base64.urlsafe_b64decode(a + "==") for a in payload.audit_ids],
                _pack_id(payload.application_credential_id),
                # Only trust-scoped and OAuth1 tokens carry a ninth field, only OAuth1 a
                # tenth.
                *([_pack_id(payload.trust_id)]
                  if payload.trust_id or payload.access_token_id else []),
                *([_pack_id(payload.access_token_id)] if payload.access_token_id else []),
            ],
            use_bin_type=True,
        )
        token = self._encrypt(body, int(payload.issued_at))
        # keystone strips the base64 padding from the token it hands out.
        return token.rstrip("=")

    def decode(self, token: str) -> TokenPayload:
        payload = self._decoded.get(token)
        if payload is None:
            payload = self._decode(token)
            if len(self._decoded) >= DECODED_KEPT:
                # Dropped wholesale: cheaper than an LRU's bookkeeping on every hit, and
                # a busy lab's working set is far below the bound.
                self._decoded.clear()
            self._decoded[token] = payload
        return payload

    def _decode(self, token: str) -> TokenPayload:
        try:
            raw = token.encode("ascii")
            raw += b"=" * (-len(raw) % 4)
            body = self._decrypter.decrypt(raw)
            fields = msgpack.unpackb(body, raw=False)
            (version, user_id, method_bits, scope, expires_at, issued_at, audit_ids,
             app_cred_id, trust_id, access_token_id) = [*fields, None, None, None][:10]
        except (InvalidToken, UnicodeError, ValueError, TypeError,
                msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
            raise TokenFormatError("not a valid token") from exc
        if version != PAYLOAD_VERSION:
            raise TokenFormatError("unknown token payload version")
        kind, scope_id = scope
        return TokenPayload(
            user_id=_unpack_id(user_id) or "",
            methods=tuple(m for i, m in enumerate(METHODS) if method_bits & (1 << i)),
            expires_at=float(expires_at),
            issued_at=float(issued_at),
            audit_ids=tuple(base64.urlsafe_b64encode(a).rstrip(b"=").decode() for a in audit_ids),
            project_id=_unpack_id(scope_id) if kind == 1 else None,
            domain_id=_unpack_id(scope_id) if kind == 2 else None,
            system=scope_id if kind == 3 else None,
            application_credential_id=_unpack_id(app_cred_id),
            trust_id=_unpack_id(trust_id),
            access_token_id=_unpack_id(access_token_id),
        )

    def new_audit_id(self) -> str:
        return base64.urlsafe_b64encode(self._ids.randbytes(16)).rstrip(b"=").decode()

    def _encrypt(self, data: bytes, timestamp: int) -> str:
        key = base64.urlsafe_b64decode(self._keys[0])
        signing_key, encryption_key = key[:16], key[16:]
        iv = self._ids.randbytes(16)
        padder = padding.PKCS7(algorithms.AES.block_size).padder()
        padded = padder.update(data) + padder.finalize()
        encryptor = Cipher(algorithms.AES(encryption_key), modes.CBC(iv)).encryptor()
        ciphertext = encryptor.update(padded) + encryptor.finalize()
        basic = b"\x80" + struct.pack(">Q", timestamp) + iv + ciphertext
        mac = hmac.new(signing_key, basic, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(basic + mac).decode()
