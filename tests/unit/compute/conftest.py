"""In-process compute clients: the admin's token, and a server booted without networks."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from support.inprocess import admin_token
from unit.compute.nova_calls import BASE, at


@pytest.fixture
def token(client: TestClient) -> str:
    return admin_token(client)


@pytest.fixture
def server(client: TestClient, token: str) -> str:
    headers = at(token, "2.96")
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    response = client.post(f"{BASE}/servers", headers=headers, json={"server": {
        "name": "s", "imageRef": image, "flavorRef": "1", "networks": "none"}})
    assert response.status_code == 202, response.text
    ident: str = response.json()["server"]["id"]
    return ident
