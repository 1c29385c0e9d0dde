"""What every part of Identity shares: the store, time, ids, caches and revocations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.clock import Clock
from stacklab.config import Config
from stacklab.identity import models as m
from stacklab.identity.passwords import PasswordHasher
from stacklab.identity.tokens import TokenPayload
from stacklab.ids import IdSource
from stacklab.store.database import Database

T = TypeVar("T")


@dataclass(frozen=True)
class Revocation:
    issued_before: float
    user_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    role_id: str | None = None
    audit_id: str | None = None
    audit_chain_id: str | None = None
    application_credential_id: str | None = None

    def matches(self, token: TokenPayload, role_ids: frozenset[str], user_domain_id: str | None,
                project_domain_id: str | None) -> bool:
        if token.issued_at > self.issued_before:
            return False
        if self.user_id is not None and self.user_id != token.user_id:
            return False
        if self.project_id is not None and self.project_id != token.project_id:
            return False
        if self.domain_id is not None and self.domain_id not in (
            token.domain_id, user_domain_id, project_domain_id
        ):
            return False
        if self.role_id is not None and self.role_id not in role_ids:
            return False
        if self.audit_id is not None and self.audit_id != token.audit_ids[0]:
            return False
        if self.audit_chain_id is not None and self.audit_chain_id != token.audit_ids[-1]:
            return False
        return not (
            self.application_credential_id is not None
            and self.application_credential_id != token.application_credential_id
        )


class Revocations:
    """Revocation events, all in memory (they are few and short-lived), persisted in the store.

    Indexed by user and by audit id so a validation looks at the handful of
    events that can concern its token, not at every revoked token.
    """

    def __init__(self) -> None:
        self._by_user: dict[str, list[Revocation]] = defaultdict(list)
        self._by_audit: dict[str, list[Revocation]] = defaultdict(list)
        self._others: list[Revocation] = []

    def add(self, event: Revocation) -> None:
        if event.user_id is not None:
            self._by_user[event.user_id].append(event)
        elif event.audit_id is not None:
            self._by_audit[event.audit_id].append(event)
        elif event.audit_chain_id is not None:
            self._by_audit[event.audit_chain_id].append(event)
        else:
            self._others.append(event)

    def is_revoked(self, token: TokenPayload, role_ids: frozenset[str],
                   user_domain_id: str | None, project_domain_id: str | None) -> bool:
        candidates = [
            self._by_user.get(token.user_id, ()),
            self._by_audit.get(token.audit_ids[0], ()),
            self._by_audit.get(token.audit_ids[-1], ()) if len(token.audit_ids) > 1 else (),
            self._others,
        ]
        return any(
            event.matches(token, role_ids, user_domain_id, project_domain_id)
            for events in candidates for event in events
        )

    def __len__(self) -> int:
        return (sum(len(v) for v in self._by_user.values())
                + sum(len(v) for v in self._by_audit.values()) + len(self._others))


class IdentityState:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, config: Config) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids.stream("identity")
        self.config = config
        self.hasher = PasswordHasher(config.identity.password_hash_algorithm,
                                     config.identity.password_hash_rounds)
        self.revocations = Revocations()
        self._cache: dict[Any, Any] = {}
        # Seconds between reads of what another process may have written (revocations,
        # and anything cached), where keystone runs in another process; None: every
        # write is this process's own, and drops the cache at once.
        self.refresh_every: float | None = None
        self._refreshed_at = 0.0

    # -- caching: any write to identity data drops every cached answer -------------

    def changed(self) -> None:
        self._cache.clear()

    def cached(self, key: Any, compute: Callable[[], T]) -> T:
        try:
            return self._cache[key]  # type: ignore[no-any-return]
        except KeyError:
            value = compute()
            self._cache[key] = value
            return value

    # -- revocation ------------------------------------------------------------------

    def revoke(self, session: Session, **fields: str | None) -> None:
        now = self.clock.now()
        event = Revocation(issued_before=now, **fields)
        session.add(m.RevocationEvent(issued_before=now, revoked_at=now, **fields))
        self.revocations.add(event)

    def refresh(self) -> None:
        """Forget what is cached and read the revocations again, at most every
        ``refresh_every`` seconds (keystonemiddleware's token cache holds a validation
        for ``token_cache_time``, 300 s by default: this is stricter)."""
        if self.refresh_every is None:
            return
        now = self.clock.monotonic()
        if now - self._refreshed_at < self.refresh_every:
            return
        self._refreshed_at = now
        self._cache.clear()
        fresh = Revocations()
        self.load_revocations(into=fresh, prune=False)
        self.revocations = fresh

    def load_revocations(self, *, into: Revocations | None = None, prune: bool = True) -> None:
        """The stored revocation events, in memory; ``prune``: the expired ones deleted
        (keystone's start does it, not a reader in another process)."""
        target = self.revocations if into is None else into
        horizon = self.clock.now() - self.config.token.expiration - \
            self.config.token.allow_expired_window
        with self.db.session() as session:
            for row in session.scalars(select(m.RevocationEvent)):
                if row.issued_before < horizon:
                    if prune:
                        session.delete(row)
                    continue
                target.add(Revocation(
                    issued_before=row.issued_before, user_id=row.user_id,
                    project_id=row.project_id, domain_id=row.domain_id, role_id=row.role_id,
                    audit_id=row.audit_id, audit_chain_id=row.audit_chain_id,
                    application_credential_id=row.application_credential_id))

    def new_id(self) -> str:
        return self.ids.hex_id()
