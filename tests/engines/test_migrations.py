"""Alembic's migrations on MariaDB and PostgreSQL: head is exactly the models' schema
(autogenerate finds nothing to do), and every migration goes down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select

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


def test_an_epoch_stamp_keeps_its_fraction(migrated_url: str) -> None:
    """The stores keep times as epoch floats (a service's last report): MySQL's 4-byte
    FLOAT would round them to minutes and show every service down, so a Float is a
    DOUBLE there (store/base.py)."""
    import stacklab.compute.models as compute

    db = Database(migrated_url)
    stamp = 1_796_360_012.345678
    try:
        with db.session() as session:
            session.add(compute.ServiceRecord(host="engines-test", binary="nova-compute",
                                              topic="compute", uuid="e" * 36,
                                              created_at=stamp, last_seen_up=stamp))
        with db.session() as session:
            row = session.scalar(select(compute.ServiceRecord).where(
                compute.ServiceRecord.host == "engines-test"))
            assert row is not None and row.last_seen_up == stamp
            session.delete(row)
    finally:
        db.dispose()
