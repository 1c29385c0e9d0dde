"""A RabbitMQ vhost of their own for the tests of the bus on a broker: created with
``rabbitmqctl`` (with guest's permissions), deleted after, so runs never see each other's
exchanges and queues. A test skips, saying why, when the broker, ``rabbitmqctl`` or the
``rabbitmq`` extra is not there.

The broker is the one the machine runs (127.0.0.1:5672, guest/guest);
STACKLAB_TEST_RABBIT_URL names another (``rabbit://user:password@host:port/``, no vhost).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

SERVER = os.environ.get("STACKLAB_TEST_RABBIT_URL", "rabbit://guest:guest@127.0.0.1:5672/")


def broker_or_skip() -> None:
    """Skip unless aio-pika is installed and the broker answers on its port."""
    try:
        __import__("aio_pika")
    except ImportError:
        pytest.skip("rabbitmq: aio-pika not installed (pip install 'stacklab[rabbitmq]')")
    parts = urlsplit(SERVER)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    try:
        with socket.create_connection((host, port), timeout=2):
            pass
    except OSError as exc:
        pytest.skip(f"rabbitmq: no broker at {host}:{port}: {exc}")
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmq: rabbitmqctl not found (the tests make a vhost of their own)")


def _ctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@contextmanager
def scratch_vhost(prefix: str = "stacklab_test") -> Iterator[str]:
    """A new, empty vhost on the broker: the transport URL naming it, deleted after."""
    broker_or_skip()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    user = urlsplit(SERVER).username or "guest"
    try:
        _ctl("add_vhost", name)
        _ctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
    except (subprocess.CalledProcessError, OSError) as exc:
        pytest.skip(f"rabbitmq: cannot make a vhost with rabbitmqctl: {exc}")
    try:
        yield SERVER.rstrip("/") + "/" + name
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True,
                       timeout=60, check=False)


def oslo_conf() -> Any:
    """An oslo.config configuration for the oslo.messaging peers of the tests: one of their
    own, with the options oslo.messaging registers only on the global one (tracing,
    metrics); the global one where this oslo.messaging keeps them elsewhere."""
    from oslo_config import cfg

    conf = cfg.ConfigOpts()
    conf([], project="stacklab-tests")
    try:
        from oslo_messaging._metrics import client as metrics
        from oslo_messaging._tracing import client as tracing
    except ImportError:
        cfg.CONF([], project="stacklab-tests")
        return cfg.CONF
    conf.register_opts(tracing.oslo_messaging_tracing, group="oslo_messaging_tracing")
    conf.register_opts(metrics.oslo_messaging_metrics, group="oslo_messaging_metrics")
    return conf


async def until(done: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``done()`` holds (what crosses a real broker takes real time)."""
    for _ in range(int(timeout / 0.02)):
        if done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time given")
