"""cinder's quotas: defaults, per-type resources, usage counted from rows, 413s, updates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest
from stacklab.block_storage import models as m
from stacklab.block_storage.quotas import OverQuota, Quotas
from stacklab.config import DefaultOptions
from stacklab.store.database import Database


@pytest.fixture
def session() -> Iterator[Session]:
    db = Database("sqlite://")
    db.upgrade()
    with db.session() as open_session:
        open_session.add(m.VolumeType(id="t1", name="gold", is_public=True, extra_specs={},
                                      projects=[], created_at=1.0))
        open_session.flush()
        yield open_session
    db.dispose()


def add_volume(session: Session, ident: str, size: int, project: str = "p") -> None:
    session.add(m.Volume(id=ident, project_id=project, size=size, status="available",
                         availability_zone="nova", volume_type_id="t1", created_at=1.0))
    session.flush()


def test_defaults_and_per_type_resources(session: Session) -> None:
    quotas = Quotas(DefaultOptions())
    limits = quotas.limits(session, "p")
    assert (limits["volumes"], limits["gigabytes"], limits["snapshots"]) == (10, 1000, 10)
    assert limits["per_volume_gigabytes"] == -1
    assert (limits["volumes_gold"], limits["gigabytes_gold"], limits["snapshots_gold"]) == (
        -1, -1, -1)


def test_usage_counts_volumes_and_snapshot_gigabytes(session: Session) -> None:
    quotas = Quotas(DefaultOptions())
    add_volume(session, "v1", 3)
    add_volume(session, "v2", 2, project="other")
    session.add(m.Snapshot(id="s1", project_id="p", volume_id="v1", volume_size=3,
                           volume_type_id="t1", status="available", created_at=1.0))
    session.flush()
    usage = quotas.usage(session, "p")
    assert (usage["volumes"].in_use, usage["gigabytes"].in_use,
            usage["snapshots"].in_use) == (1, 6, 1)
    assert (usage["gigabytes_gold"].in_use, usage["snapshots_gold"].in_use) == (6, 1)


def test_over_quota_is_413_with_cinders_words(session: Session) -> None:
    quotas = Quotas(DefaultOptions())
    quotas.update(session, "p", {"volumes": 1, "gigabytes_gold": 4})
    add_volume(session, "v1", 3)
    with pytest.raises(OverQuota) as over:
        quotas.check_volume(session, "p", 1, "gold")
    assert over.value.status == 413 and over.value.headers == {"Retry-After": "0"}
    with pytest.raises(OverQuota, match="exceeds allowed gigabytes_gold quota"):
        quotas.check_volume(session, "p", 2, "gold", count=0)
    quotas.update(session, "p", {"per_volume_gigabytes": 5})
    with pytest.raises(OverQuota, match="larger than maximum allowed limit 5G"):
        quotas.check_size(session, "p", 6)
    with pytest.raises(OverQuota, match=r"Maximum number of snapshots allowed \(0\)"):
        quotas.update(session, "p", {"snapshots": 0})
        quotas.check_snapshot(session, "p", 1, None)


def test_updates_are_checked(session: Session) -> None:
    quotas = Quotas(DefaultOptions())
    with pytest.raises(BadRequest, match="Bad key"):
        quotas.update(session, "p", {"nothing": 1})
    with pytest.raises(BadRequest, match="must be -1 or greater"):
        quotas.update(session, "p", {"volumes": -2})
    with pytest.raises(BadRequest, match="must be an integer"):
        quotas.update(session, "p", {"volumes": "many"})
    add_volume(session, "v1", 3)
    with pytest.raises(BadRequest, match="Current usage is 1"):
        quotas.update(session, "p", {"volumes": 0}, skip_validation=False)
    quotas.update(session, "p", {"volumes": 0})  # skipped by default, as cinder
    assert quotas.limits(session, "p")["volumes"] == 0
    quotas.reset(session, "p")
    session.flush()
    assert quotas.limits(session, "p")["volumes"] == 10
