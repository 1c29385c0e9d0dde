"""Fixtures shared by every test: an in-process cloud, and a live one for the real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from support import apiref
from support.inprocess import ephemeral_config


def pytest_report_header() -> str:
    # Say up front whether the upstream api-ref comparisons will run or be skipped.
    return apiref.report_line()


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

