"""Helpers for tests that run a cloud in-process (no socket)."""

from __future__ import annotations

from starlette.testclient import TestClient

from stacklab.config import Config, lab_defaults


def ephemeral_config(seed: int = 7) -> Config:
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    config.stacklab.seed = seed
    return config


def admin_token(client: TestClient, password: str = "secret") -> str:
    response = client.post("/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]
