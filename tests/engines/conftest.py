"""The store on MariaDB and PostgreSQL: each engine's tests get a database of their own,
migrated to head once for the module that asks (support/engines.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import stacklab.models  # noqa: F401  (every table, for the migrations' metadata)
from stacklab.store.database import Database
from support.engines import ENGINES, scratch_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/engines/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.engines)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def empty_url(engine: str) -> Iterator[str]:
    """A new, empty database on ``engine``."""
    with scratch_database(engine) as url:
        yield url


@pytest.fixture(scope="module", params=ENGINES)
def migrated_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A database on each engine brought to head by stacklab's own start-up path."""
    with scratch_database(request.param) as url:
        db = Database(url)
        db.upgrade()
        db.dispose()
        yield url
