"""Fixtures shared by every test: an in-process cloud, and a live one for the real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.config import Config, lab_defaults


def ephemeral_config(seed: int = 7) -> Config:
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    config.stacklab.seed = seed
    return config


@pytest.fixture
def cloud() -> Iterator[Cloud]:
    """A fresh in-memory cloud, started, not listening on any socket."""
    instance = Cloud(ephemeral_config())
    instance.start("http://testserver")
    yield instance
    instance.stop()


@pytest.fixture
def client(cloud: Cloud) -> Iterator[TestClient]:
    with TestClient(build_app(cloud), raise_server_exceptions=False) as test_client:
        yield test_client


def admin_token(client: TestClient, password: str = "secret") -> str:
    response = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]
