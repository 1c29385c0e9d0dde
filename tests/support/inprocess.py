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


def run_in_virtual_time(test: Callable[[Any, VirtualClock], Coroutine[Any, Any, None]],
                        config: Config | None = None, **defaults: Any) -> None:
    """Run ``test(cloud, clock)`` on a started cloud whose nodes live their own life
    (heartbeats, keepalived, failover checks) on a virtual clock; ``defaults`` change
    [DEFAULT] options of ``config`` (the ephemeral lab's by default)."""
    from stacklab.cloud import Cloud

    clock = VirtualClock()
    config = config or ephemeral_config()
    for name, value in defaults.items():
        setattr(config.DEFAULT, name, value)
    cloud = Cloud(config, clock=clock)
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


def project_network(cloud: Any, *, scheduled: bool = True,
                    cidr: str = "10.0.0.0/24") -> tuple[str, str]:
    """Project p1's network with one DHCP subnet: (network, subnet). ``scheduled``: asked for
    as ``POST /v2.0/networks`` and ``/subnets`` are, so the DHCP agents are given it;
    otherwise made directly, no agent told."""
    from stacklab.api.context import RequestContext

    network_service = cloud.network
    with cloud.db.session() as session:
        fields = {"name": "n"}
        network = (network_service.add_network(session, "p1", fields) if scheduled else
                   network_service.create_network(session, "p1", fields))
        session.flush()
        subnet_fields = {"network_id": network.id, "cidr": cidr, "ip_version": 4}
        subnet = (network_service.add_subnet(session, "p1", subnet_fields,
                                             RequestContext("req-1", project_id="p1"))
                  if scheduled else network_service.create_subnet(session, "p1", subnet_fields))
        return network.id, subnet.id
