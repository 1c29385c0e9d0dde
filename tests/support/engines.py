"""Server databases for the tests of the MariaDB and PostgreSQL stores: each test gets a
database of its own (a unique name, dropped after), and a test skips, saying why, when the
server or its driver is not there.

The servers are those the machine runs (MariaDB on 127.0.0.1:3306 as root, PostgreSQL on
127.0.0.1:5432 as postgres); STACKLAB_TEST_MYSQL_URL and STACKLAB_TEST_POSTGRESQL_URL name
others (a URL without a database name).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

SERVERS = {
    "mysql": os.environ.get("STACKLAB_TEST_MYSQL_URL",
                            "mysql+pymysql://root@127.0.0.1:3306/"),
    "postgresql": os.environ.get("STACKLAB_TEST_POSTGRESQL_URL",
                                 "postgresql+psycopg://postgres@127.0.0.1:5432/"),
}
DRIVERS = {"mysql": "pymysql", "postgresql": "psycopg"}
ENGINES = tuple(SERVERS)


def _admin_url(engine: str) -> str:
    url = make_url(SERVERS[engine])
    return url.set(database="postgres" if engine == "postgresql" else None).render_as_string(
        hide_password=False)


def server_or_skip(engine: str) -> None:
    """Skip the test, with the reason, unless ``engine``'s driver and server are there."""
    try:
        __import__(DRIVERS[engine])
    except ImportError:
        pytest.skip(f"{engine}: driver {DRIVERS[engine]} not installed "
                    f"(pip install 'stacklab[{engine}]')")
    admin = create_engine(_admin_url(engine), connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        pytest.skip(f"{engine}: no server at {make_url(SERVERS[engine]).render_as_string()}: "
                    f"{str(getattr(exc, 'orig', exc)).strip().splitlines()[0]}")
    finally:
        admin.dispose()


@contextmanager
def scratch_database(engine: str, prefix: str = "stacklab_test") -> Iterator[str]:
    """A new, empty database on ``engine``'s server (skips if there is none): its URL,
    dropped when the block ends."""
    server_or_skip(engine)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_admin_url(engine), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if engine == "mysql":
                connection.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
            else:
                connection.execute(text(f"CREATE DATABASE {name}"))
        url = make_url(SERVERS[engine]).set(database=name)
        if engine == "mysql":
            url = url.update_query_dict({"charset": "utf8mb4"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if engine == "mysql":
                connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            else:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
