"""An identity service of its own, bootstrapped on an in-memory store, for domain tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacklab.clock import VirtualClock
from stacklab.identity.service import IdentityService
from stacklab.ids import IdSource
from stacklab.store.database import Database
from support.inprocess import ephemeral_config


@pytest.fixture
def started() -> Iterator[IdentityService]:
    db = Database("sqlite://")
    db.upgrade()
    service = IdentityService(db, VirtualClock(), IdSource(5), ephemeral_config())
    service.start([])
    yield service
    db.dispose()
