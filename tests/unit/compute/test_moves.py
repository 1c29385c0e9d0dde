"""Starting a server's move without HTTP: nova-api's checks, the migration record, the cast."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stacklab.api.errors import ApiError
from stacklab.bus.interface import Target
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.casts import Cast
from stacklab.compute.service import ComputeService
from support.compute_domain import (
    add_group,
    add_server,
    compute_hosts,
    compute_service,
    context,
    migrations,
)


@pytest.fixture
def service() -> Iterator[ComputeService]:
    compute = compute_service()
    yield compute
    compute.db.dispose()


@pytest.fixture
def hosts(service: ComputeService) -> list[str]:
    return compute_hosts(service)


def move(service: ComputeService, uuid: str, start: str, *args: Any,
         **kwargs: Any) -> tuple[Cast, m.Instance]:
    """Run ``service.moves.<start>`` on the server, as the action route does, in one session."""
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        cast = getattr(service.moves, start)(session, instance, *args, **kwargs)
    return cast, instance


def refused(service: ComputeService, uuid: str, start: str, *args: Any,
            **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as caught:
        move(service, uuid, start, *args, **kwargs)
    return caught.value.status, caught.value.message


def host_down(service: ComputeService, host: str) -> None:
    with service.db.session() as session:
        for record in session.query(m.ServiceRecord).filter_by(host=host):
            record.forced_down = True


# -- resize and cold migration ----------------------------------------------------------------


def test_a_resize_records_its_migration_and_asks_the_conductor(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0], vm_state=states.STOPPED)
    cast, instance = move(service, uuid, "resize", "3", context())
    assert (cast.target, cast.method) == (Target("conductor"), "migrate_server")
    [migration] = migrations(service)
    assert cast.kwargs["migration_uuid"] == migration.uuid
    assert (migration.migration_type, migration.status, migration.source_compute) == (
        "resize", "pre-migrating", hosts[0])
    assert (migration.old_flavor["flavorid"], migration.new_flavor["flavorid"]) == ("2", "3")
    assert instance.task_state == states.RESIZE_PREP
    assert instance.system_metadata["old_vm_state"] == states.STOPPED
    spec = cast.kwargs["spec"]
    assert spec["flavor"]["flavorid"] == "3"
    assert (spec["ignore_hosts"], spec["force_hosts"], spec["group"]) == ([hosts[0]], [], None)


def test_a_resize_must_change_flavor_and_not_shrink_the_disk(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0])
    assert refused(service, uuid, "resize", "2", context()) == (
        400, "When resizing, instances must change flavor!")
    assert refused(service, uuid, "resize", "1", context()) == (
        400, "Resize error: Unable to resize disk down.")
    assert refused(service, uuid, "resize", "42", context()) == (
        400, "Flavor 42 could not be found.")
    assert migrations(service) == []


def test_a_resize_up_must_fit_the_cores_and_ram_left_in_the_quota(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0])
    with service.db.session() as session:
        old = service.builds.flavor(session, "2", context(admin=True))
        new = service.builds.flavor(session, "3", context(admin=True))
    grow = new["memory_mb"] - old["memory_mb"]
    assert grow > 0
    service.quotas.update("project-a", {"ram": old["memory_mb"] + grow - 1})
    assert refused(service, uuid, "resize", "3", context()) == (
        403, f"Quota exceeded for ram: Requested {grow}, but already used "
             f"{old['memory_mb']} of {old['memory_mb'] + grow - 1} ram")
    service.quotas.update("project-a", {"ram": -1, "cores": old["vcpus"]})
    if new["vcpus"] > old["vcpus"]:
        assert refused(service, uuid, "resize", "3", context())[0] == 403
    # Exactly what is left fits; a smaller flavor is never refused by quota.
    service.quotas.update("project-a", {"ram": old["memory_mb"] + grow,
                                        "cores": new["vcpus"]})
    cast, _ = move(service, uuid, "resize", "3", context())
    assert cast.method == "migrate_server"


def test_a_server_whose_compute_is_down_cannot_move(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0])
    host_down(service, hosts[0])
    assert refused(service, uuid, "migrate", None) == (
        409, "Service is unavailable at this time.")
    assert refused(service, uuid, "live_migrate", None) == (
        409, "Service is unavailable at this time.")


def test_a_migration_target_must_exist_and_be_another_host(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0])
    assert refused(service, uuid, "migrate", "nowhere") == (
        404, "Compute host nowhere could not be found.")
    assert refused(service, uuid, "migrate", hosts[0]) == (
        400, "The target host can't be the same one.")
    cast, _ = move(service, uuid, "migrate", hosts[1])
    assert cast.kwargs["spec"]["force_hosts"] == [hosts[1]]
    assert migrations(service)[0].migration_type == "migration"


def test_a_move_sends_the_group_policy_to_the_scheduler(
        service: ComputeService, hosts: list[str]) -> None:
    group = add_group(service)
    uuid = add_server(service, host=hosts[0], group=group)
    cast, _ = move(service, uuid, "migrate", None)
    assert cast.kwargs["spec"]["group"] == {"uuid": group, "policy": "anti-affinity",
                                            "rules": {"max_server_per_host": 1}}


def finished_resize(service: ComputeService, uuid: str, source: str, dest: str) -> None:
    """A resize from ``source`` to ``dest`` done, waiting to be confirmed or reverted."""
    with service.db.session() as session:
        session.add(m.Migration(uuid="mig-1", instance_uuid=uuid, migration_type="resize",
                                status="finished", source_compute=source, dest_compute=dest,
                                old_flavor={}, new_flavor={}, project_id="project-a",
                                user_id="user-a", created_at=0.0, updated_at=0.0))


def test_confirm_and_revert_need_a_finished_resize(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[1], vm_state=states.RESIZED)
    assert refused(service, uuid, "confirm_resize") == (400, "Instance has not been resized.")
    finished_resize(service, uuid, hosts[0], hosts[1])
    cast, _ = move(service, uuid, "confirm_resize")
    assert (cast.target, cast.method, cast.kwargs) == (
        Target("compute", hosts[0]), "confirm_resize",
        {"instance_uuid": uuid, "migration_uuid": "mig-1"})
    assert migrations(service)[0].status == "confirming"


def test_a_revert_goes_to_the_destination_compute(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[1], vm_state=states.RESIZED)
    finished_resize(service, uuid, hosts[0], hosts[1])
    cast, instance = move(service, uuid, "revert_resize")
    assert (cast.target, cast.method) == (Target("compute", hosts[1]), "revert_resize")
    assert instance.task_state == states.RESIZE_REVERTING
    assert migrations(service)[0].status == "reverting"


# -- live migration and evacuation ----------------------------------------------------------


def test_a_live_migration_is_queued_for_the_conductor(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0])
    assert refused(service, uuid, "live_migrate", hosts[0]) == (
        400, f"The source and destination hosts are the same: {hosts[0]}")
    assert refused(service, uuid, "live_migrate", "nowhere") == (
        400, "Compute host nowhere could not be found.")
    cast, instance = move(service, uuid, "live_migrate", hosts[1])
    assert (cast.method, cast.kwargs["source"]) == ("live_migrate_instance", hosts[0])
    [migration] = migrations(service)
    assert (migration.status, migration.dest_compute) == ("queued", hosts[1])
    assert instance.task_state == states.MIGRATING


def test_evacuation_needs_the_servers_compute_down(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0])
    assert refused(service, uuid, "evacuate", None, stop=False) == (
        400, f"Compute service of {hosts[0]} is still in use.")
    host_down(service, hosts[0])
    assert refused(service, uuid, "evacuate", "nowhere", stop=False) == (
        404, "Compute host nowhere not found.")
    cast, instance = move(service, uuid, "evacuate", None, stop=True)
    assert (cast.method, cast.kwargs["target_state"]) == ("rebuild_instance", states.STOPPED)
    assert instance.task_state == states.REBUILDING
    assert migrations(service)[0].migration_type == "evacuation"


# -- unshelve ---------------------------------------------------------------------------------


def unshelve(service: ComputeService, uuid: str, host: str | None,
             zone: str | None) -> tuple[Cast, m.Instance]:
    with service.db.session() as session:
        instance = service.instances.find(session, uuid)
        assert instance is not None
        return service.moves.unshelve(instance, host, zone), instance


def test_a_shelved_server_starts_again_on_its_host(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=hosts[0], vm_state=states.SHELVED)
    with pytest.raises(ApiError) as caught:
        unshelve(service, uuid, hosts[1], None)
    assert (caught.value.status, caught.value.message) == (
        409, f"The unshelve action on host {hosts[1]} is only possible for a shelved "
             "offloaded instance.")
    cast, instance = unshelve(service, uuid, None, None)
    assert (cast.method, cast.kwargs["spec"]["keep_host"]) == ("unshelve_instance", hosts[0])
    assert instance.task_state == states.UNSHELVING


def test_an_offloaded_server_is_scheduled_in_the_zone_asked_for(
        service: ComputeService, hosts: list[str]) -> None:
    uuid = add_server(service, host=None, vm_state=states.SHELVED_OFFLOADED)
    with pytest.raises(ApiError) as caught:
        unshelve(service, uuid, None, "elsewhere")
    assert caught.value.message == "The requested availability zone is not available"
    cast, instance = unshelve(service, uuid, hosts[1], "nova")
    spec = cast.kwargs["spec"]
    assert "keep_host" not in spec and spec["force_hosts"] == [hosts[1]]
    assert instance.requested_zone == "nova" and spec["availability_zone"] == "nova"
