"""Fixtures shared by every test: an in-process cloud, and a live one for the real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from support.inprocess import ephemeral_config


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

