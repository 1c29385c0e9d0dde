"""Fetching one identity row (keystone's 404) and listing the rows filters name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from stacklab.api.errors import NotFound
from stacklab.identity import models as m
from stacklab.identity.rows import filtered, row_or_404
from stacklab.store.database import Database


@pytest.fixture
def session() -> Iterator[Session]:
    db = Database("sqlite://")
    db.upgrade()
    with db.session() as opened:
        for ident, name, enabled in (("r1", "b", True), ("r2", "a", False), ("r3", "c", True)):
            opened.add(m.Region(id=ident, description=name, parent_region_id=None))
            opened.add(m.Domain(id=ident, name=name, description="", enabled=enabled, tags=[],
                                options={}, extra={}))
        opened.flush()
        yield opened
    db.dispose()


def test_a_missing_row_is_keystone_s_404(session: Session) -> None:
    assert row_or_404(session, m.Domain, "r2", "domain").name == "a"
    with pytest.raises(NotFound) as caught:
        row_or_404(session, m.Domain, "nope", "domain")
    assert caught.value.message == "Could not find domain: nope."


def test_only_the_filters_given_narrow_the_list(session: Session) -> None:
    def names(filters: dict[str, object]) -> list[str]:
        return [d.name for d in filtered(session, m.Domain, filters, ("name", "enabled"),
                                         m.Domain.name)]

    assert names({}) == ["a", "b", "c"]
    assert names({"enabled": True, "name": None}) == ["b", "c"]
    assert names({"name": "b"}) == ["b"]
    # A filter the caller may not use is not read.
    assert names({"description": "x"}) == names({})
    by_id = filtered(session, m.Region, {}, (), m.Region.id.desc())
    assert [r.id for r in by_id] == ["r3", "r2", "r1"]
