"""Alembic's migrations on MariaDB and PostgreSQL: head is exactly the models' schema
(autogenerate finds nothing to do), and every migration goes down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from stacklab.store.base import Base
from stacklab.store.database import Database
from stacklab.store.migrate import alembic_config


def test_head_matches_the_models(migrated_url: str) -> None:
    db = Database(migrated_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = compare_metadata(context, Base.metadata)
            current = context.get_current_revision()
        head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
        assert current == head
        assert differences == []
    finally:
        db.dispose()


def test_upgrade_at_head_changes_nothing(migrated_url: str) -> None:
    db = Database(migrated_url)
    try:
        tables = sorted(db.table_names())
        db.upgrade()
        assert sorted(db.table_names()) == tables
    finally:
        db.dispose()


def test_downgrade_to_base_and_up_again(empty_url: str) -> None:
    db = Database(empty_url)
    config = alembic_config(db.engine)
    try:
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        assert db.table_names() == ["alembic_version"]
        command.upgrade(config, "head")
        with db.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection),
                                    Base.metadata) == []
    finally:
        db.dispose()
