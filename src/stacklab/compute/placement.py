"""Placement, reduced to what the lab needs: each hypervisor's inventory and who holds what.

Every compute node is a resource provider with VCPU, MEMORY_MB and DISK_GB
inventories (total, reserved, allocation ratio, max_unit = total, as the
libvirt driver reports). A consumer (a server, or during a resize the
migration holding the source host's share) has an allocation on one
provider. A claim succeeds only if every class stays within
``(total - reserved) * allocation_ratio`` and under ``max_unit``.

The providers, inventories and allocations live in the store (placement's
``resource_providers``, ``inventories`` and ``allocations``), so processes sharing a
MariaDB or PostgreSQL database see one another's claims. A claim is atomic as
placement's: it reads the provider's generation with its usage, checks the fit, and
moves the generation on only if it is still the one read (compare-and-swap, an
``UPDATE ... WHERE generation = :read``); a writer that lost the race writes nothing
and reads again (placement's ``RP_CONFLICT_RETRY_COUNT`` tries). Every write to a
provider's allocations moves its generation first, so the row lock the swap takes
orders the writers of one provider and a count never misses a concurrent claim. A
compare-and-swap rather than a named lock: no lock to hold between the count and the
insert, and it holds on Galera with several writers (a certification failure is a
deadlock error, retried), where ``GET_LOCK`` is not replicated.

The scheduler reads every provider's usage for each request: each process keeps a
copy per provider with the generation it reflects, refreshed from one query of the
providers' generations, re-reading only the allocations of providers another process
changed. A write is applied to the copy at once, and a rollback has the copy read again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Table, delete, event, func, insert, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from stacklab.compute import models as m
from stacklab.compute.scheduler.hosts import (
    INITIAL_CPU_ALLOCATION_RATIO,
    INITIAL_DISK_ALLOCATION_RATIO,
    INITIAL_RAM_ALLOCATION_RATIO,
    RESERVED_HOST_CPUS,
    RESERVED_HOST_DISK_MB,
    RESERVED_HOST_MEMORY_MB,
)
from stacklab.store.database import Database
from stacklab.store.errors import DBDeadlock

VCPU = "VCPU"
MEMORY_MB = "MEMORY_MB"
DISK_GB = "DISK_GB"
CLASSES = (VCPU, MEMORY_MB, DISK_GB)
# placement's RP_CONFLICT_RETRY_COUNT: how often a write whose generation moved reads again.
RETRIES = 10
# oslo.db's wrap_db_retry max_retries, for a write in a session of placement's own.
DEADLOCK_RETRIES = 5
_T = TypeVar("_T")

_P = cast(Table, m.ResourceProvider.__table__)
_I = cast(Table, m.ProviderInventory.__table__)
_A = cast(Table, m.ProviderAllocation.__table__)
# Built once: the hot paths run them per claim and per scheduling request.
_GENERATIONS = select(_P.c.name, _P.c.generation)
_OF_CONSUMER = (select(_A.c.consumer_id, _P.c.name, _P.c.id, _P.c.generation,
                       _A.c.resource_class, _A.c.used)
                .join(_P, _A.c.provider_id == _P.c.id))
_PROVIDER = select(_P.c.id, _P.c.generation)


@dataclass(frozen=True, slots=True)
class Inventory:
    total: int
    reserved: int = 0
    allocation_ratio: float = 1.0

    @property
    def capacity(self) -> int:
        return int((self.total - self.reserved) * self.allocation_ratio)


@dataclass(slots=True)
class Provider:
    """This process's copy of a provider: good while ``generation`` is the store's."""

    name: str
    inventories: dict[str, Inventory]
    id: int = 0
    # -1: not read yet (or a write of ours found it behind); the next refresh reads it.
    generation: int = -1
    usage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASSES, 0))
    held: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def consumers(self) -> set[str]:
        return set(self.held)

    def fits(self, resources: dict[str, int], usage: dict[str, int] | None = None) -> bool:
        usage = self.usage if usage is None else usage
        for rc, amount in resources.items():
            inv = self.inventories[rc]
            if amount > inv.total or usage.get(rc, 0) + amount > inv.capacity:
                return False
        return True

    def load(self, generation: int, held: dict[str, dict[str, int]]) -> None:
        self.generation = generation
        self.held = held
        usage = dict.fromkeys(CLASSES, 0)
        for resources in held.values():
            for rc, amount in resources.items():
                usage[rc] = usage.get(rc, 0) + amount
        self.usage = usage

    def set(self, consumer: str, resources: dict[str, int] | None) -> None:
        old = self.held.pop(consumer, None)
        if old:
            for rc, amount in old.items():
                self.usage[rc] -= amount
        if resources is not None:
            self.held[consumer] = dict(resources)
            for rc, amount in resources.items():
                self.usage[rc] = self.usage.get(rc, 0) + amount


class Conflict(Exception):
    """The claim does not fit any more (placement answers 409 upstream)."""


@dataclass(slots=True)
class Allocation:
    provider: str
    resources: dict[str, int]


def flavor_resources(flavor: dict[str, int], *, boot_from_volume: bool = False) -> dict[str, int]:
    """What a flavor asks of placement (nova's ``resources_from_flavor``)."""
    root = 0 if boot_from_volume else int(flavor.get("root_gb", 0))
    disk = root + int(flavor.get("ephemeral_gb", 0)) + (int(flavor.get("swap", 0)) + 1023) // 1024
    return {VCPU: int(flavor["vcpus"]), MEMORY_MB: int(flavor["memory_mb"]), DISK_GB: disk}


# A write's effect on a provider's copy: (name, the generation read, what each consumer
# holds there now: None for nothing).
_Change = tuple[str, int, list[tuple[str, dict[str, int] | None]]]


class Placement:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.providers: dict[str, Provider] = {}

    # -- sessions ------------------------------------------------------------------------

    @contextmanager
    def _session(self, session: Session | None) -> Iterator[Session]:
        """The caller's open session (SQLite has one writer: a second session writing
        under an open one would wait on it), else one of our own."""
        if session is not None:
            yield session
            return
        with self.db.session() as own:
            yield own

    def _write(self, session: Session | None, work: Callable[[Session], _T]) -> _T:
        """``work`` in the caller's session, else in one of ours, run again when the
        server rolled it back for a lock conflict (oslo.db's ``wrap_db_retry``: a
        deadlock between two writes touching the same providers, Galera's certification
        failure)."""
        if session is not None:
            return work(session)
        for attempt in range(DEADLOCK_RETRIES):
            try:
                with self.db.session() as own:
                    return work(own)
            except DBDeadlock:
                if attempt + 1 == DEADLOCK_RETRIES:
                    raise
        raise AssertionError("unreachable")

    def _touched(self, session: Session) -> set[str]:
        """The providers whose copies the session's transaction changed (or loaded, which
        may show what it wrote): on a rollback they are read again."""
        touched: set[str] | None = session.info.get("placement")
        if touched is None:
            touched = session.info["placement"] = set()

            def ended(_: Session, *_args: object) -> None:
                session.info.pop("placement", None)

            def rolled_back(_: Session, _previous: object) -> None:
                for name in session.info.pop("placement", ()):
                    if name in self.providers:
                        self.providers[name].generation = -1

            event.listen(session, "after_commit", ended, once=True)
            event.listen(session, "after_soft_rollback", rolled_back, once=True)
        return touched

    def _record(self, session: Session, changes: list[_Change]) -> None:
        """Apply a write to the copies at once (nothing else of this process runs until the
        transaction ends: the callers do not await inside one), undone by a rollback.
        Each change moved its provider from the generation read to the next: a copy at
        that generation takes it; one that was not is read again by the next refresh."""
        touched = self._touched(session)
        for name, read, held in changes:
            provider = self.providers.get(name)
            if provider is None:
                continue
            touched.add(name)
            if provider.generation == read:
                for consumer, resources in held:
                    provider.set(consumer, resources)
                provider.generation = read + 1
            else:
                provider.generation = -1

    # -- providers -----------------------------------------------------------------------

    def add_provider(self, name: str, *, vcpus: int, memory_mb: int, disk_gb: int,
                     session: Session | None = None) -> None:
        """A compute node's inventory with nova's default ratios and reserved amounts."""
        inventories = {
            VCPU: Inventory(vcpus, RESERVED_HOST_CPUS, INITIAL_CPU_ALLOCATION_RATIO),
            MEMORY_MB: Inventory(memory_mb, RESERVED_HOST_MEMORY_MB, INITIAL_RAM_ALLOCATION_RATIO),
            DISK_GB: Inventory(disk_gb, (RESERVED_HOST_DISK_MB + 1023) // 1024,
                               INITIAL_DISK_ALLOCATION_RATIO),
        }
        if name in self.providers:
            return
        with self._session(session) as s:
            row = s.execute(_PROVIDER.where(_P.c.name == name)).first()
            rows = [{"resource_class": rc, "total": inv.total, "reserved": inv.reserved,
                     "allocation_ratio": inv.allocation_ratio, "max_unit": inv.total}
                    for rc, inv in inventories.items()]
            if row is None:
                key = cast(CursorResult[Any], s.execute(
                    insert(_P).values(name=name, generation=0))).inserted_primary_key
                assert key is not None
                s.execute(insert(_I), [{"provider_id": key[0], **r} for r in rows])
                self.providers[name] = Provider(name, inventories, id=key[0], generation=0)
                return
            stored = [dict(r._mapping) for r in s.execute(
                select(_I.c.resource_class, _I.c.total, _I.c.reserved,
                       _I.c.allocation_ratio, _I.c.max_unit)
                .where(_I.c.provider_id == row.id).order_by(_I.c.resource_class))]
            generation = row.generation
            if stored != sorted(rows, key=lambda r: str(r["resource_class"])):
                # The node's inventory changed (a new topology): placement's PUT
                # inventories, which moves the generation on too.
                s.execute(delete(_I).where(_I.c.provider_id == row.id))
                s.execute(insert(_I), [{"provider_id": row.id, **r} for r in rows])
                s.execute(update(_P).where(_P.c.id == row.id)
                          .values(generation=_P.c.generation + 1))
                generation = s.execute(_PROVIDER.where(_P.c.id == row.id)).one().generation
            self.providers[name] = provider = Provider(name, inventories, id=row.id)
            self._load(s, provider, generation)

    def refresh(self, session: Session | None = None) -> None:
        """Bring the copies to the store's generations: one query, and the allocations of
        the providers another process (or a rolled-back write) changed."""
        with self._session(session) as s:
            stale = {name: generation for name, generation in s.execute(_GENERATIONS)
                     if name in self.providers
                     and self.providers[name].generation != generation}
            if not stale:
                return
            self._touched(s).update(stale)
            held: dict[str, dict[str, dict[str, int]]] = {name: {} for name in stale}
            for row in s.execute(select(_P.c.name, _A.c.consumer_id, _A.c.resource_class,
                                        _A.c.used)
                                 .join(_P, _A.c.provider_id == _P.c.id)
                                 .where(_P.c.name.in_(list(stale)))):
                held[row.name].setdefault(row.consumer_id, {})[row.resource_class] = row.used
        for name, generation in stale.items():
            self.providers[name].load(generation, held[name])

    def _load(self, s: Session, provider: Provider, generation: int) -> None:
        self._touched(s).add(provider.name)
        held: dict[str, dict[str, int]] = {}
        for row in s.execute(select(_A.c.consumer_id, _A.c.resource_class, _A.c.used)
                             .where(_A.c.provider_id == provider.id)):
            held.setdefault(row.consumer_id, {})[row.resource_class] = row.used
        provider.load(generation, held)

    def usage(self, provider: str, session: Session | None = None) -> dict[str, int]:
        with self._session(session) as s:
            used = dict.fromkeys(CLASSES, 0)
            for rc, amount in s.execute(
                    select(_A.c.resource_class, func.sum(_A.c.used))
                    .join(_P, _A.c.provider_id == _P.c.id).where(_P.c.name == provider)
                    .group_by(_A.c.resource_class)):
                used[rc] = int(amount)
        return used

    # -- allocations ---------------------------------------------------------------------

    def allocation(self, consumer: str, session: Session | None = None) -> Allocation | None:
        with self._session(session) as s:
            rows = s.execute(_OF_CONSUMER.where(_A.c.consumer_id == consumer)).all()
        if not rows:
            return None
        return Allocation(rows[0].name, {row.resource_class: row.used for row in rows})

    @property
    def allocations(self) -> dict[str, Allocation]:
        """Every consumer's allocation, read from the store (for tests and reports)."""
        found: dict[str, Allocation] = {}
        with self.db.session() as s:
            for row in s.execute(_OF_CONSUMER):
                found.setdefault(row.consumer_id, Allocation(row.name, {})).resources[
                    row.resource_class] = row.used
        return found

    def claim(self, consumer: str, provider: str, resources: dict[str, int], *,
              force: bool = False, session: Session | None = None) -> None:
        """Allocate ``resources`` on ``provider`` to ``consumer`` (replacing what it held).

        ``force`` records the allocation even over capacity, as healing a
        restart does for what was already running.
        """
        target = self.providers[provider]

        def work(s: Session) -> None:
            for _ in range(RETRIES):
                row = s.execute(_PROVIDER.where(_P.c.id == target.id)).one()
                previous = s.execute(_OF_CONSUMER.where(_A.c.consumer_id == consumer)).all()
                if row.generation != target.generation:
                    # Behind (another process wrote): this provider's allocations again.
                    self._load(s, target, row.generation)
                if not force:
                    usage = dict(target.usage)
                    for old in previous:
                        if old.id == target.id:
                            usage[old.resource_class] -= old.used
                    if not target.fits(resources, usage):
                        raise Conflict(f"{provider} cannot hold {resources}")
                touched = {target.name: (target.id, row.generation)}
                for old in previous:
                    touched.setdefault(old.name, (old.id, old.generation))
                if not self._swap(s, touched):
                    continue
                s.execute(delete(_A).where(_A.c.consumer_id == consumer))
                s.execute(insert(_A), [
                    {"provider_id": target.id, "consumer_id": consumer,
                     "resource_class": rc, "used": amount}
                    for rc, amount in resources.items()])
                self._record(s, [
                    (name, generation, [(consumer, resources if name == provider else None)])
                    for name, (_, generation) in touched.items()])
                return
            raise Conflict(f"{provider} changed {RETRIES} times while claiming for {consumer}")

        self._write(session, work)

    @staticmethod
    def _swap(s: Session, touched: dict[str, tuple[int, int]]) -> bool:
        """Move on the generation of every provider the write touches (by name, so two
        writers lock in one order), each only from the generation read. False when one
        had moved: the swaps made so far are undone and the caller reads again."""
        swapped: list[tuple[int, int]] = []
        for name in sorted(touched):
            provider_id, generation = touched[name]
            moved = cast(CursorResult[Any], s.execute(
                update(_P).where(_P.c.id == provider_id, _P.c.generation == generation)
                .values(generation=generation + 1))).rowcount
            if moved != 1:
                for done_id, done_generation in swapped:
                    s.execute(update(_P).where(_P.c.id == done_id)
                              .values(generation=done_generation))
                return False
            swapped.append((provider_id, generation))
        return True

    def release(self, consumer: str, session: Session | None = None) -> Allocation | None:
        def work(s: Session) -> Allocation | None:
            for _ in range(RETRIES):
                rows = s.execute(_OF_CONSUMER.where(_A.c.consumer_id == consumer)).all()
                if not rows:
                    return None
                touched = {row.name: (row.id, row.generation) for row in rows}
                if not self._swap(s, touched):
                    continue
                s.execute(delete(_A).where(_A.c.consumer_id == consumer))
                self._record(s, [(name, generation, [(consumer, None)])
                                    for name, (_, generation) in touched.items()])
                return Allocation(rows[0].name, {row.resource_class: row.used
                                                 for row in rows})
            raise Conflict(f"the providers of {consumer} kept changing")

        return self._write(session, work)

    def move(self, old_consumer: str, new_consumer: str,
             session: Session | None = None) -> None:
        """Hand an allocation to another consumer (a migration takes over the source share),
        as placement's move_allocations: what the new consumer held is replaced."""
        def work(s: Session) -> None:
            for _ in range(RETRIES):
                rows = s.execute(_OF_CONSUMER.where(
                    _A.c.consumer_id.in_((old_consumer, new_consumer)))).all()
                moving: dict[str, dict[str, int]] = {}
                for row in rows:
                    if row.consumer_id == old_consumer:
                        moving.setdefault(row.name, {})[row.resource_class] = row.used
                if not moving:
                    return
                touched = {row.name: (row.id, row.generation) for row in rows}
                if not self._swap(s, touched):
                    continue
                s.execute(delete(_A).where(_A.c.consumer_id == new_consumer))
                s.execute(update(_A).where(_A.c.consumer_id == old_consumer)
                          .values(consumer_id=new_consumer))
                self._record(s, [
                    (name, generation, [(old_consumer, None),
                                        (new_consumer, moving.get(name))])
                    for name, (_, generation) in touched.items()])
                return
            raise Conflict(f"the provider of {old_consumer} kept changing")

        self._write(session, work)

    def heal_provider(self, session: Session, provider: str, wanted: dict[str, dict[str, int]],
                      gone: Callable[[str], bool]) -> None:
        """What one compute's start does for its own provider (nova's resource tracker's
        update_available_resource): the allocations on it of consumers that are ``gone``
        (a deleted server) go, and each of ``wanted`` (its servers) holds its flavor
        there, forced. Anything else on it (a build the scheduler placed here that has no
        host yet, a move's share under way) is left as it is."""
        held = {row.consumer_id for row in session.execute(
            _OF_CONSUMER.where(_P.c.name == provider))}
        for consumer in sorted(held - set(wanted)):
            if gone(consumer):
                self.release(consumer, session)
        for consumer, resources in wanted.items():
            now = self.allocation(consumer, session)
            if now is None or now.provider != provider or now.resources != resources:
                self.claim(consumer, provider, resources, force=True, session=session)

    def heal(self, session: Session, wanted: dict[str, tuple[str, dict[str, int]]]) -> None:
        """What a start does (nova's heal, with the lab's rule): every server with a host
        holds its flavor there, forced; every other allocation (a deleted server, a move's
        share the stop cut short) goes."""
        held: dict[str, Allocation] = {}
        for row in session.execute(_OF_CONSUMER):
            held.setdefault(row.consumer_id, Allocation(row.name, {})).resources[
                row.resource_class] = row.used
        for consumer in sorted(set(held) - set(wanted)):
            self.release(consumer, session)
        for consumer, (provider, resources) in wanted.items():
            now = held.get(consumer)
            if now is None or now.provider != provider or now.resources != resources:
                self.claim(consumer, provider, resources, force=True, session=session)
