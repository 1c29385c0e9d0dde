"""What the compute API tests share: nova's base path, its 404 body, and requests at a
microversion."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

BASE = "/compute/v2.1"
NOT_FOUND = {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}


def at(token: str, version: str) -> dict[str, str]:
    """The headers of a request at a compute microversion."""
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"compute {version}"}


def action(client: TestClient, token: str, server: str, version: str,
           body: dict[str, Any]) -> Any:
    return client.post(f"{BASE}/servers/{server}/action", headers=at(token, version), json=body)
