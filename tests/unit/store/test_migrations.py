"""The migrations build exactly the schema the models describe, and upgrades are idempotent."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import stacklab.models  # noqa: F401
from stacklab.store.base import Base
from stacklab.store.database import Database


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []


def test_upgrade_twice_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    first = Database(url)
    first.upgrade()
    tables = sorted(first.table_names())
    first.dispose()
    second = Database(url)
    second.upgrade()
    assert sorted(second.table_names()) == tables
    assert "alembic_version" in tables and "identity_project" in tables
    second.dispose()
