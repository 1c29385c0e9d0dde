"""In-process Networking clients: the admin, and members of three projects of their own;
and the Networking domain alone, on an in-memory store (no HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stacklab.clock import VirtualClock
from stacklab.ids import IdSource
from stacklab.network.service import NetworkService
from stacklab.store.database import Database
from support.inprocess import admin_token
from unit.network.neutron_client import Neutron, Tenant, member


@pytest.fixture
def admin(client: TestClient) -> Neutron:
    return Neutron(client, admin_token(client))


@pytest.fixture
def tenants(client: TestClient, admin: Neutron) -> tuple[Tenant, Tenant, Tenant]:
    """Members of three projects: a, b and c."""
    a, b, c = (member(client, admin, name) for name in ("proj-a", "proj-b", "proj-c"))
    return a, b, c


@pytest.fixture
def service() -> Iterator[NetworkService]:
    """The Networking domain on a fresh in-memory store, its time and ids injected."""
    db = Database("sqlite://")
    db.upgrade()
    yield NetworkService(db, VirtualClock(), IdSource(7))
    db.dispose()
