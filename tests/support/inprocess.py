"""Helpers for tests that run a cloud in-process (no socket)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.testclient import TestClient

from stacklab.clock import VirtualClock
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


def run_in_virtual_time(test: Callable[[Any, VirtualClock], Coroutine[Any, Any, None]]) -> None:
    """Run ``test(cloud, clock)`` on a started cloud whose nodes live their own life
    (heartbeats, keepalived, failover checks) on a virtual clock."""
    from stacklab.cloud import Cloud

    clock = VirtualClock()
    cloud = Cloud(ephemeral_config(), clock=clock)
    cloud.start("http://stacklab.test")

    async def main() -> None:
        background = asyncio.create_task(cloud.run_background())
        try:
            await test(cloud, clock)
        finally:
            background.cancel()

    try:
        asyncio.run(main())
    finally:
        cloud.stop()
