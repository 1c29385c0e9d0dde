"""Placement as the scheduler uses it: inventories with nova's defaults, atomic claims, moves.

The course's hypervisors (1 vCPU, 1536 MB, 20 GB: the 'course' topology) are the example: with
nova's defaults they hold 4 vCPUs (cpu_allocation_ratio 4.0), 1024 MB
(reserved_host_memory_mb 512) and 20 GB, and no single server may ask for
more than the host has (max_unit = total).
"""

from __future__ import annotations

import pytest

import stacklab.models  # noqa: F401  (every table, for the store's schema)
from stacklab.compute.placement import (
    DISK_GB,
    MEMORY_MB,
    VCPU,
    Conflict,
    Inventory,
    Placement,
    flavor_resources,
)
from stacklab.store.database import Database
from stacklab.store.errors import DBDeadlock

HOST = "compute1.openstack.local"
OTHER = "compute2.openstack.local"
TINY = {VCPU: 1, MEMORY_MB: 512, DISK_GB: 1}


def store() -> Database:
    db = Database("sqlite://")
    db.upgrade()
    return db


@pytest.fixture
def placement() -> Placement:
    lab = Placement(store())
    for name in (HOST, OTHER):
        lab.add_provider(name, vcpus=1, memory_mb=1536, disk_gb=20)
    return lab


def resources(vcpus: int = 0, memory_mb: int = 0, disk_gb: int = 0) -> dict[str, int]:
    return {VCPU: vcpus, MEMORY_MB: memory_mb, DISK_GB: disk_gb}


# -- inventories ----------------------------------------------------------------------------


def test_a_lab_compute_has_novas_default_inventory(placement: Placement) -> None:
    inventories = placement.providers[HOST].inventories
    assert inventories[VCPU] == Inventory(total=1, reserved=0, allocation_ratio=4.0)
    assert inventories[MEMORY_MB] == Inventory(total=1536, reserved=512, allocation_ratio=1.0)
    assert inventories[DISK_GB] == Inventory(total=20, reserved=0, allocation_ratio=1.0)
    assert {rc: inv.capacity for rc, inv in inventories.items()} == {
        VCPU: 4, MEMORY_MB: 1024, DISK_GB: 20}
    assert placement.usage(HOST) == resources()


@pytest.mark.parametrize(("total", "reserved", "ratio", "capacity"), [
    (1, 0, 4.0, 4),
    (1536, 512, 1.0, 1024),
    (16, 2, 16.0, 224),
    (4608, 512, 1.5, 6144),
    (3, 0, 1.5, 4),  # 4.5: placement compares used + amount <= 4.5, so 4 fit
])
def test_capacity_is_total_minus_reserved_times_ratio(total: int, reserved: int, ratio: float,
                                                      capacity: int) -> None:
    assert Inventory(total, reserved, ratio).capacity == capacity


def test_adding_a_known_provider_again_keeps_its_usage(placement: Placement) -> None:
    placement.claim("a", HOST, TINY)
    placement.add_provider(HOST, vcpus=1, memory_mb=1536, disk_gb=20)
    assert placement.usage(HOST) == TINY
    assert placement.providers[HOST].consumers == {"a"}


# -- claims -----------------------------------------------------------------------------------


def test_claims_fill_a_host_up_to_its_capacity_and_no_further(placement: Placement) -> None:
    placement.claim("a", HOST, TINY)
    placement.claim("b", HOST, TINY)
    assert placement.usage(HOST) == resources(2, 1024, 2)
    with pytest.raises(Conflict):
        placement.claim("c", HOST, resources(1, 1, 1))
    assert placement.usage(HOST) == resources(2, 1024, 2)
    assert "c" not in placement.allocations
    # The other host is untouched and takes it.
    placement.claim("c", OTHER, resources(1, 1, 1))
    assert placement.allocations["c"].provider == OTHER


def test_the_cpu_ratio_gives_four_vcpus_but_max_unit_caps_one_server_at_the_total(
        placement: Placement) -> None:
    with pytest.raises(Conflict):
        placement.claim("two-vcpus", HOST, resources(2, 64, 1))
    for n in range(4):
        placement.claim(f"s{n}", HOST, resources(1, 64, 1))
    with pytest.raises(Conflict):
        placement.claim("s4", HOST, resources(1, 64, 1))
    assert placement.usage(HOST) == resources(4, 256, 4)


def test_max_unit_is_the_total_even_when_the_ratio_leaves_room() -> None:
    placement = Placement(store())
    placement.add_provider(HOST, vcpus=2, memory_mb=65536, disk_gb=100)
    assert placement.providers[HOST].inventories[VCPU].capacity == 8
    with pytest.raises(Conflict):
        placement.claim("big", HOST, resources(3, 512, 1))
    placement.claim("exact", HOST, resources(2, 512, 1))


def test_a_claim_exactly_at_capacity_fits(placement: Placement) -> None:
    placement.claim("all-memory", HOST, resources(1, 1024, 20))
    assert placement.usage(HOST) == resources(1, 1024, 20)


def test_a_failed_claim_is_atomic_across_resource_classes(placement: Placement) -> None:
    placement.claim("a", HOST, resources(1, 256, 19))
    before = placement.usage(HOST)
    # VCPU and MEMORY_MB fit, DISK_GB does not: nothing of it is taken.
    with pytest.raises(Conflict):
        placement.claim("b", HOST, resources(1, 256, 2))
    assert placement.usage(HOST) == before
    assert placement.providers[HOST].consumers == {"a"}
    assert set(placement.allocations) == {"a"}


def test_claiming_again_replaces_the_consumers_allocation(placement: Placement) -> None:
    placement.claim("a", HOST, TINY)
    # 1024 MB only fits because the 512 MB it held is given back first (resize on the host).
    placement.claim("a", HOST, resources(1, 1024, 5))
    assert placement.usage(HOST) == resources(1, 1024, 5)
    placement.claim("a", OTHER, TINY)
    assert placement.usage(HOST) == resources()
    assert placement.usage(OTHER) == TINY
    assert placement.providers[HOST].consumers == set()


def test_a_failed_reclaim_keeps_what_the_consumer_held(placement: Placement) -> None:
    placement.claim("a", HOST, TINY)
    placement.claim("b", HOST, TINY)
    with pytest.raises(Conflict):
        placement.claim("a", HOST, resources(1, 1024, 1))
    assert placement.allocations["a"].resources == TINY
    assert placement.usage(HOST) == resources(2, 1024, 2)
    assert placement.providers[HOST].consumers == {"a", "b"}


def test_a_forced_claim_records_what_already_runs_over_capacity(placement: Placement) -> None:
    for name in ("a", "b", "c"):
        placement.claim(name, HOST, TINY, force=True)
    assert placement.usage(HOST) == resources(3, 1536, 3)
    with pytest.raises(Conflict):
        placement.claim("d", HOST, resources(1, 1, 1))


# -- release and move ------------------------------------------------------------------------


def test_release_gives_everything_back(placement: Placement) -> None:
    placement.claim("a", HOST, TINY)
    released = placement.release("a")
    assert released is not None
    assert (released.provider, released.resources) == (HOST, TINY)
    assert placement.usage(HOST) == resources()
    assert placement.providers[HOST].consumers == set()
    assert placement.release("a") is None
    assert placement.release("never-claimed") is None


def test_a_migration_takes_over_the_source_share_during_a_resize(placement: Placement) -> None:
    placement.claim("server", HOST, TINY)
    placement.move("server", "migration")
    # The source still holds the share, now under the migration's name.
    assert placement.usage(HOST) == TINY
    assert placement.providers[HOST].consumers == {"migration"}
    assert "server" not in placement.allocations
    # The server claims the destination with its new flavor.
    placement.claim("server", OTHER, resources(1, 1024, 2))
    assert placement.usage(OTHER) == resources(1, 1024, 2)
    assert placement.usage(HOST) == TINY
    # Confirm: the migration's share goes.
    placement.release("migration")
    assert placement.usage(HOST) == resources()
    assert placement.usage(OTHER) == resources(1, 1024, 2)


def test_reverting_gives_the_source_share_back_to_the_server(placement: Placement) -> None:
    placement.claim("server", HOST, TINY)
    placement.move("server", "migration")
    placement.claim("server", OTHER, resources(1, 1024, 2))
    placement.release("server")
    placement.move("migration", "server")
    assert placement.allocations["server"].provider == HOST
    assert placement.allocations["server"].resources == TINY
    assert "migration" not in placement.allocations
    assert placement.usage(HOST) == TINY
    assert placement.usage(OTHER) == resources()
    assert placement.providers[HOST].consumers == {"server"}


def test_moving_what_does_not_exist_changes_nothing(placement: Placement) -> None:
    placement.claim("other", HOST, TINY)
    placement.move("nobody", "migration")
    assert "migration" not in placement.allocations
    assert placement.usage(HOST) == TINY


def test_moving_onto_a_consumer_that_holds_an_allocation_replaces_it(
        placement: Placement) -> None:
    placement.claim("migration", HOST, TINY)
    placement.claim("server", OTHER, resources(1, 1024, 2))
    placement.move("migration", "server")
    assert placement.allocations["server"].provider == HOST
    assert placement.usage(HOST) == TINY
    assert placement.usage(OTHER) == resources()
    assert placement.providers[OTHER].consumers == set()


# -- in the store: what another process sees ------------------------------------------------


def test_another_process_sees_the_claims_and_its_claims_count(placement: Placement) -> None:
    # A second Placement on the same store stands for another process.
    other = Placement(placement.db)
    for name in (HOST, OTHER):
        other.add_provider(name, vcpus=1, memory_mb=1536, disk_gb=20)
    placement.claim("a", HOST, TINY)
    assert other.usage(HOST) == TINY
    other.refresh()
    assert other.providers[HOST].consumers == {"a"}
    # The other claims; this one's copy is behind, and its next claim counts it anyway
    # (the generation it reads is not its copy's).
    other.claim("b", HOST, TINY)
    with pytest.raises(Conflict):
        placement.claim("c", HOST, TINY)
    placement.refresh()
    assert placement.providers[HOST].consumers == {"a", "b"}
    assert placement.providers[HOST].usage == resources(2, 1024, 2)
    other.release("a")
    placement.claim("c", HOST, TINY)
    assert set(placement.allocations) == {"b", "c"}


def test_a_lost_race_reads_again_and_refuses_what_no_longer_fits(
        placement: Placement, monkeypatch: pytest.MonkeyPatch) -> None:
    other = Placement(placement.db)
    other.add_provider(HOST, vcpus=1, memory_mb=1536, disk_gb=20)
    placement.claim("a", HOST, TINY)
    # Between this claim's read and its swap, another process takes the last room.
    swap = Placement._swap
    raced: list[bool] = []

    def racing(s: object, touched: dict[str, tuple[int, int]]) -> bool:
        if not raced:
            raced.append(True)
            with other.db.session() as session:
                other.claim("b", HOST, TINY, session=session)
        return swap(s, touched)  # type: ignore[arg-type]

    monkeypatch.setattr(Placement, "_swap", staticmethod(racing))
    # SQLite has one writer: the race is staged on the in-memory store's one connection,
    # so the other claim commits inside this one's transaction, before its swap.
    with pytest.raises(Conflict):
        placement.claim("c", HOST, TINY)
    assert raced == [True]
    assert set(placement.allocations) == {"a", "b"}


def test_a_write_in_a_rolled_back_session_leaves_the_copy_as_the_store(
        placement: Placement) -> None:
    placement.claim("a", HOST, TINY)
    with pytest.raises(RuntimeError), placement.db.session() as session:
        placement.claim("b", HOST, TINY, session=session)
        placement.release("a", session)
        raise RuntimeError("the caller's transaction fails")
    # The copy showed the transaction's writes; rolled back, it is read again.
    assert placement.providers[HOST].generation == -1
    assert placement.usage(HOST) == TINY
    placement.refresh()
    assert placement.providers[HOST].consumers == {"a"}
    assert placement.providers[HOST].usage == TINY
    placement.claim("b", HOST, TINY)
    assert placement.providers[HOST].usage == resources(2, 1024, 2)


def test_heal_keeps_the_servers_allocations_where_they_run(placement: Placement) -> None:
    placement.claim("server", HOST, TINY)
    placement.claim("gone", HOST, TINY)
    placement.claim("moved", HOST, TINY, force=True)
    with placement.db.session() as session:
        placement.heal(session, {"server": (HOST, TINY),
                                 "moved": (OTHER, resources(1, 1024, 2)),
                                 "new": (OTHER, TINY)})
    assert {c: (a.provider, a.resources) for c, a in placement.allocations.items()} == {
        "server": (HOST, TINY), "moved": (OTHER, resources(1, 1024, 2)),
        "new": (OTHER, TINY)}
    assert placement.providers[OTHER].usage == resources(2, 1536, 3)


# -- what a flavor asks for ------------------------------------------------------------------


def flavor(vcpus: int = 1, memory_mb: int = 512, root_gb: int = 1, ephemeral_gb: int = 0,
           swap: int = 0) -> dict[str, int]:
    return {"vcpus": vcpus, "memory_mb": memory_mb, "root_gb": root_gb,
            "ephemeral_gb": ephemeral_gb, "swap": swap}


def test_flavor_resources_of_m1_tiny() -> None:
    assert flavor_resources(flavor()) == {VCPU: 1, MEMORY_MB: 512, DISK_GB: 1}


@pytest.mark.parametrize(("swap_mb", "swap_gb"), [
    (0, 0), (1, 1), (512, 1), (1023, 1), (1024, 1), (1025, 2), (2048, 2), (3000, 3)])
def test_swap_is_rounded_up_to_whole_gigabytes(swap_mb: int, swap_gb: int) -> None:
    # nova's compute_utils.convert_mb_to_ceil_gb
    assert flavor_resources(flavor(root_gb=10, ephemeral_gb=5, swap=swap_mb))[DISK_GB] == \
        10 + 5 + swap_gb


def test_boot_from_volume_asks_for_no_root_disk() -> None:
    assert flavor_resources(flavor(root_gb=20), boot_from_volume=True).get(DISK_GB, 0) == 0
    assert flavor_resources(flavor(root_gb=20, ephemeral_gb=2, swap=1500),
                            boot_from_volume=True) == {VCPU: 1, MEMORY_MB: 512, DISK_GB: 4}


def test_flavor_fields_missing_from_a_snapshot_count_as_zero() -> None:
    assert flavor_resources({"vcpus": 2, "memory_mb": 256}) == {
        VCPU: 2, MEMORY_MB: 256, DISK_GB: 0}


def test_a_start_with_a_new_inventory_keeps_the_allocations(placement: Placement) -> None:
    placement.claim("a", HOST, TINY)
    again = Placement(placement.db)
    again.add_provider(HOST, vcpus=2, memory_mb=4096, disk_gb=40)
    assert again.providers[HOST].inventories[MEMORY_MB].capacity == 4096 - 512
    assert again.providers[HOST].consumers == {"a"}
    # The first copy sees the generation moved and reads the provider again.
    placement.refresh()
    assert placement.providers[HOST].consumers == {"a"}
    same = Placement(placement.db)
    same.add_provider(HOST, vcpus=2, memory_mb=4096, disk_gb=40)
    assert same.providers[HOST].generation == again.providers[HOST].generation


def test_a_deadlock_runs_an_own_write_again_and_reaches_a_callers_session(
        placement: Placement, monkeypatch: pytest.MonkeyPatch) -> None:
    swap = Placement._swap
    lost: list[bool] = []

    def deadlocking(s: object, touched: dict[str, tuple[int, int]]) -> bool:
        if not lost:
            lost.append(True)
            raise DBDeadlock("Deadlock found when trying to get lock")
        return swap(s, touched)  # type: ignore[arg-type]

    monkeypatch.setattr(Placement, "_swap", staticmethod(deadlocking))
    # In a session of its own: rolled back and run again, as oslo.db's wrap_db_retry.
    placement.claim("a", HOST, TINY)
    assert lost == [True]
    assert placement.allocations["a"].provider == HOST
    # In the caller's: the caller's transaction is lost, so the caller retries it.
    lost.clear()
    with pytest.raises(DBDeadlock), placement.db.session() as session:
        placement.claim("b", HOST, TINY, session=session)
    assert set(placement.allocations) == {"a"}
    placement.refresh()
    assert placement.providers[HOST].consumers == {"a"}
