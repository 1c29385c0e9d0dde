"""nova's compute quotas without HTTP: the arithmetic of a create, and a project's limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stacklab.api.errors import Forbidden
from stacklab.compute import models as m
from stacklab.compute import quotas
from stacklab.compute.quotas import Quotas
from stacklab.config import QuotaOptions
from stacklab.store.database import Database

LIMITS = {"instances": 10, "cores": 8, "ram": 4096}
NOTHING_USED = {"instances": 0, "cores": 0, "ram": 0}
SMALL = {"vcpus": 2, "memory_mb": 1024}


def test_every_server_asked_for_fits_when_the_quota_leaves_room() -> None:
    assert quotas.servers_allowed(LIMITS, NOTHING_USED, SMALL, 1, 3) == 3


def test_max_count_is_trimmed_by_the_tightest_quota() -> None:
    # cores leave 4 servers, ram 4, instances 10: the create gets 4 of the 9 asked for.
    assert quotas.servers_allowed(LIMITS, NOTHING_USED, SMALL, 1, 9) == 4
    used = {"instances": 1, "cores": 2, "ram": 3072}
    assert quotas.servers_allowed(LIMITS, used, SMALL, 1, 9) == 1


def test_min_count_that_does_not_fit_names_the_first_quota_exceeded() -> None:
    used = {"instances": 9, "cores": 8, "ram": 0}
    with pytest.raises(Forbidden) as caught:
        quotas.servers_allowed(LIMITS, used, SMALL, 2, 2)
    assert caught.value.message == ("Quota exceeded for instances: Requested 2, but already "
                                    "used 9 of 10 instances")
    with pytest.raises(Forbidden) as caught:
        quotas.servers_allowed(LIMITS, {**used, "instances": 0}, SMALL, 1, 1)
    assert caught.value.message == ("Quota exceeded for cores: Requested 2, but already used "
                                    "8 of 8 cores")


def test_ram_is_counted_in_megabytes_per_server() -> None:
    with pytest.raises(Forbidden) as caught:
        quotas.servers_allowed(LIMITS, NOTHING_USED, SMALL, 5, 5)
    assert caught.value.message == ("Quota exceeded for cores: Requested 10, but already used "
                                    "0 of 8 cores")
    with pytest.raises(Forbidden) as caught:
        quotas.servers_allowed({**LIMITS, "cores": -1}, NOTHING_USED, SMALL, 5, 5)
    assert caught.value.message == ("Quota exceeded for ram: Requested 5120, but already used "
                                    "0 of 4096 ram")


def test_unlimited_quotas_never_trim() -> None:
    unlimited = {"instances": -1, "cores": -1, "ram": -1}
    assert quotas.servers_allowed(unlimited, {"instances": 99, "cores": 99, "ram": 99},
                                  SMALL, 1, 50) == 50


def test_metadata_and_group_members_limits() -> None:
    quotas.check_metadata(2, 2)
    quotas.check_metadata(-1, 500)
    with pytest.raises(Forbidden) as caught:
        quotas.check_metadata(2, 3)
    assert caught.value.message == ("Quota exceeded for metadata_items: Requested 3, but "
                                    "already used 0 of 2 metadata_items")
    quotas.check_group_members(3, 1, 2)
    quotas.check_group_members(-1, 100, 100)
    with pytest.raises(Forbidden) as caught:
        quotas.check_group_members(3, 2, 2)
    assert caught.value.message == "Quota exceeded, too many servers in group"


@pytest.fixture
def kept() -> Iterator[Quotas]:
    db = Database("sqlite://")
    db.upgrade()
    yield Quotas(db, QuotaOptions(instances=4, cores=6))
    db.dispose()


def test_a_project_without_its_own_limits_has_the_defaults(kept: Quotas) -> None:
    limits = kept.limits("project-a")
    assert limits == kept.defaults()
    assert (limits["instances"], limits["cores"], limits["ram"]) == (4, 6, 51200)
    assert limits["injected_file_path_bytes"] == 255 and limits["floating_ips"] == 10


def test_limits_set_for_a_project_hold_until_reset(kept: Quotas) -> None:
    assert kept.update("project-a", {"instances": 1, "ram": -1})["instances"] == 1
    assert kept.update("project-a", {"instances": 2})["ram"] == -1
    assert kept.limits("project-a")["instances"] == 2
    assert kept.limits("project-b")["instances"] == 4
    kept.reset("project-a")
    assert kept.limits("project-a") == kept.defaults()


def test_usage_counts_live_servers_and_groups_of_the_project(kept: Quotas) -> None:
    with kept.db.session() as session:
        for uuid, project, deleted in (("a", "project-a", False), ("b", "project-a", True),
                                       ("c", "project-b", False)):
            session.add(m.Instance(uuid=uuid, name=uuid, project_id=project, user_id="u",
                                   vcpus=2, memory_mb=512, deleted=deleted, flavor={},
                                   vm_state="active", networks="none", created_at=0.0,
                                   updated_at=0.0))
        session.add(m.ServerGroup(uuid="g", name="g", policy="affinity", rules={},
                                  members=[], project_id="project-a", user_id="u",
                                  created_at=0.0))
    assert kept.usage("project-a") == {"instances": 1, "cores": 2, "ram": 512,
                                       "server_groups": 1}
    detail = kept.detail("project-a")
    assert detail["cores"] == {"limit": 6, "in_use": 2, "reserved": 0}
    assert detail["key_pairs"] == {"limit": 100, "in_use": 0, "reserved": 0}
