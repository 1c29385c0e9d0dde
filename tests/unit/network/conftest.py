"""In-process Networking clients: the admin, and members of three projects of their own."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

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
