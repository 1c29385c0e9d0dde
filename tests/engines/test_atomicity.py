"""What must be atomic stays so across OS processes sharing one MariaDB or PostgreSQL
database: neutron's quota count and the new row, the next free address and its
allocation, a named lock's read-then-write, placement's claims on one provider; and the
servers' lock conflicts reach the services as oslo.db's DBDeadlock and DBDuplicateEntry,
which the API retries."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text, update
from sqlalchemy.orm import Session

from stacklab.api.db_retry import DEADLOCK, NEUTRON
from stacklab.api.errors import ApiError
from stacklab.block_storage import models as cinder
from stacklab.block_storage.quotas import Quotas as CinderQuotas
from stacklab.clock import VirtualClock
from stacklab.compute import models as compute
from stacklab.compute.builds import BuildRequest
from stacklab.compute.keypairs import KEY_PAIRS_QUOTA, KeyPairs
from stacklab.compute.placement import DISK_GB, MEMORY_MB, VCPU, Conflict, Placement
from stacklab.compute.service import ComputeService
from stacklab.config import DefaultOptions, QuotaOptions
from stacklab.ids import IdSource
from stacklab.network import models as m
from stacklab.network import quotas
from stacklab.network.service import NetworkService
from stacklab.store.database import Database
from stacklab.store.errors import DBConnectionError, DBDeadlock, DBDuplicateEntry
from stacklab.store.locks import serialize
from stacklab.topology.loader import load_topology
from support.compute_domain import IMAGE, ImageApi, RecordingBus, context

PROCESSES = 4
# fork: each child builds its own engine from the URL (none is inherited in use), and
# starts in a fraction of spawn's time.
FORK = multiprocessing.get_context("fork")

SCRATCH = MetaData()
COUNTER = Table("engines_test_counter", SCRATCH, Column("id", Integer, primary_key=True),
                Column("value", Integer, nullable=False))
NAMES = Table("engines_test_name", SCRATCH, Column("id", Integer, primary_key=True),
              Column("name", String(64), nullable=False, unique=True))


def _run_all(target: Any, args: list[tuple[Any, ...]]) -> list[Any]:
    """Run ``target(*a)`` in one process per ``a`` at once; their results, in order."""
    with FORK.Pool(len(args)) as pool:
        return pool.starmap(target, args, chunksize=1)


def _count_made(db: Database, tries: int, make: Callable[[Session, int], object],
                refusal: tuple[int, str]) -> int:
    """How many of ``tries`` calls of ``make`` (each in its own session) went through; each
    other one must be the quota's refusal (its status and words). The database is let go."""
    made = 0
    for i in range(tries):
        try:
            with db.session() as session:
                make(session, i)
            made += 1
        except ApiError as error:
            assert (error.status, refusal[1] in error.message) == (refusal[0], True), \
                error.message
    db.dispose()
    return made


def _stored(url: str, column: Any, *where: Any) -> int:
    """How many rows of ``column``'s table ``where`` selects, as the database holds them."""
    db = Database(url)
    with db.session() as session:
        count = len(session.scalars(select(column).where(*where)).all())
    db.dispose()
    return count


def _network_service(url: str, seed: int) -> tuple[Database, NetworkService]:
    db = Database(url)
    return db, NetworkService(db, VirtualClock(), IdSource(seed))


def _create_networks(url: str, seed: int, project: str, tries: int) -> int:
    db, service = _network_service(url, seed)
    return _count_made(db, tries, lambda session, i: service.add_network(
        session, project, {"name": f"n{seed}-{i}"}), (409, "Quota exceeded"))


def test_network_quota_holds_across_processes(migrated_url: str) -> None:
    project = f"quota-{id(migrated_url)}-{multiprocessing.current_process().pid}"
    db = Database(migrated_url)
    with db.session() as session:
        quotas.set_limits(session, project, {"network": 6})
    db.dispose()
    made = _run_all(_create_networks, [(migrated_url, 100 + i, project, 4)
                                       for i in range(PROCESSES)])
    assert sum(made) == _stored(migrated_url, m.Network.id,
                                m.Network.project_id == project) == 6


def _create_ports(url: str, seed: int, project: str, network_id: str, count: int) -> \
        list[str]:
    db, service = _network_service(url, seed)
    addresses = []
    for _ in range(count):
        with db.session() as session:
            port = service.add_port(session, project, {"network_id": network_id})
            session.flush()
            addresses += [a.ip_address for a in session.scalars(select(m.IPAllocation).where(
                m.IPAllocation.port_id == port.id))]
    db.dispose()
    return addresses


def test_addresses_are_allocated_once_across_processes(migrated_url: str) -> None:
    project = f"ipam-{multiprocessing.current_process().pid}-{id(migrated_url)}"
    db, service = _network_service(migrated_url, 99)
    with db.session() as session:
        network = service.add_network(session, project, {"name": "ipam"})
        session.flush()
        service.create_subnet(session, project, {
            "network_id": network.id, "ip_version": 4, "cidr": "10.9.0.0/27"})
        network_id = network.id
    per_process = 5
    found = _run_all(_create_ports, [(migrated_url, 200 + i, project, network_id, per_process)
                                     for i in range(PROCESSES)])
    with db.session() as session:
        stored = list(session.scalars(select(m.IPAllocation.ip_address).where(
            m.IPAllocation.network_id == network_id)))
    db.dispose()
    addresses = [a for process in found for a in process]
    assert len(addresses) == PROCESSES * per_process
    assert sorted(addresses) == sorted(stored)
    assert len(set(addresses)) == len(addresses)


def _compute(url: str, seed: int, *, first: bool) -> ComputeService:
    """Compute's domain on ``url`` as one nova-api process has it (support/compute_domain:
    the bus records, the image API is a stand-in); ``first`` registers the flavors and
    services, once for all processes."""
    db = Database(url)
    service = ComputeService(db, VirtualClock(), IdSource(seed), load_topology(),
                             RecordingBus(), boot_profile="realistic",
                             quota_options=QuotaOptions(instances=8, cores=1000, ram=10**6))
    if first:
        with db.session() as session:
            service.flavors.ensure_defaults(session)
            service.services.register(session, service.service_hosts())
    service.glance = ImageApi()  # type: ignore[assignment]
    return service


def _boot(url: str, seed: int, project: str, tries: int) -> int:
    service = _compute(url, seed, first=False)
    made = 0
    for i in range(tries):
        try:
            asyncio.run(service.builds.create(context(project), BuildRequest(
                name=f"s{seed}-{i}", flavor_ref="1", image_ref=IMAGE, networks="none"),
                zero_disk_allowed=False))
            made += 1
        except ApiError as error:
            assert error.status == 403 and "Quota exceeded" in error.message, error.message
    service.db.dispose()
    return made


def test_server_quota_holds_across_processes(migrated_url: str) -> None:
    project = f"servers-{multiprocessing.current_process().pid}"
    _compute(migrated_url, 300, first=True).db.dispose()
    made = _run_all(_boot, [(migrated_url, 310 + i, project, 6) for i in range(PROCESSES)])
    assert sum(made) == _stored(migrated_url, compute.Instance.id,
                                compute.Instance.project_id == project) == 8


PLACEMENT_TINY = {VCPU: 1, MEMORY_MB: 64, DISK_GB: 1}
# Room for 10 of them: (512 + 640 - 512 reserved) MB at ratio 1.0; 24 asked for.
PLACEMENT_MEMORY_MB = 512 + 10 * 64


def _claim_on_one_provider(url: str, provider: str, seed: int, tries: int) -> int:
    """One scheduler process: its own copy of placement, claiming on one provider."""
    db = Database(url)
    placement = Placement(db)
    placement.add_provider(provider, vcpus=64, memory_mb=PLACEMENT_MEMORY_MB, disk_gb=1000)
    made = 0
    for i in range(tries):
        try:
            placement.claim(f"{provider}-{seed}-{i}", provider, PLACEMENT_TINY)
            made += 1
        except Conflict:
            pass
    db.dispose()
    return made


def test_placement_claims_hold_across_processes(migrated_url: str) -> None:
    provider = f"compute-{multiprocessing.current_process().pid}-{id(migrated_url)}"
    db = Database(migrated_url)
    first = Placement(db)
    first.add_provider(provider, vcpus=64, memory_mb=PLACEMENT_MEMORY_MB, disk_gb=1000)
    made = _run_all(_claim_on_one_provider, [(migrated_url, provider, i, 6)
                                             for i in range(PROCESSES)])
    assert first.usage(provider)[MEMORY_MB] == sum(made) * 64
    first.refresh()
    assert len(first.providers[provider].consumers) == sum(made) == 10
    db.dispose()


def _add_key_pairs(url: str, seed: int, user: str, tries: int) -> int:
    key_pairs = KeyPairs(VirtualClock(), IdSource(seed))
    return _count_made(Database(url), tries, lambda session, i: key_pairs.create(
        session, user, f"k{seed}-{i}", None, "ssh"), (403, "too many key pairs"))


def test_key_pair_quota_holds_across_processes(migrated_url: str) -> None:
    user = f"keys-{multiprocessing.current_process().pid}"
    tries = KEY_PAIRS_QUOTA // PROCESSES + 5
    made = _run_all(_add_key_pairs, [(migrated_url, 400 + i, user, tries)
                                     for i in range(PROCESSES)])
    assert sum(made) == _stored(migrated_url, compute.KeyPair.id,
                                compute.KeyPair.user_id == user) == KEY_PAIRS_QUOTA


def _add_volumes(url: str, seed: int, project: str, tries: int) -> int:
    """cinder's check and the new row in one session, as its volume create does."""
    quotas = CinderQuotas(DefaultOptions())
    ids = IdSource(seed)

    def make(session: Session, _: int) -> None:
        quotas.check_volume(session, project, 1, None)
        session.add(cinder.Volume(id=ids.uuid(), project_id=project, size=1,
                                  status="creating", availability_zone="nova",
                                  volume_type_id="", created_at=1.0))

    return _count_made(Database(url), tries, make, (413, ""))


def test_volume_quota_holds_across_processes(migrated_url: str) -> None:
    project = f"volumes-{multiprocessing.current_process().pid}"
    limit = DefaultOptions().quota_volumes
    made = _run_all(_add_volumes, [(migrated_url, 500 + i, project, limit // 2)
                                   for i in range(PROCESSES)])
    assert sum(made) == _stored(migrated_url, cinder.Volume.id,
                                cinder.Volume.project_id == project) == limit


def _increment(url: str, times: int) -> None:
    db = Database(url)
    for _ in range(times):
        with db.session() as session:
            serialize(session, "engines-test:counter")
            value = session.execute(select(COUNTER.c.value).where(COUNTER.c.id == 1)).scalar_one()
            session.execute(update(COUNTER).where(COUNTER.c.id == 1).values(value=value + 1))
    db.dispose()


@pytest.fixture
def scratch(empty_url: str) -> str:
    db = Database(empty_url)
    SCRATCH.create_all(db.engine)
    with db.session() as session:
        session.execute(COUNTER.insert().values(id=1, value=0))
        session.execute(COUNTER.insert().values(id=2, value=0))
    db.dispose()
    return empty_url


def test_a_named_lock_makes_read_then_write_atomic(scratch: str) -> None:
    _run_all(_increment, [(scratch, 10)] * PROCESSES)
    db = Database(scratch)
    with db.session() as session:
        assert session.execute(select(COUNTER.c.value).where(
            COUNTER.c.id == 1)).scalar_one() == PROCESSES * 10
    db.dispose()


def _claim_name(url: str, row_id: int, name: str) -> str:
    db = Database(url)
    try:
        with db.session() as session:
            # Checked first, as the services do, then stored: both may pass the check.
            if session.execute(select(NAMES.c.id).where(NAMES.c.name == name)).first():
                return "seen"
            session.execute(NAMES.insert().values(id=row_id, name=name))
        return "stored"
    except DBDuplicateEntry:
        return "duplicate"
    finally:
        db.dispose()


def test_a_unique_name_is_stored_once_across_processes(scratch: str) -> None:
    outcomes = _run_all(_claim_name, [(scratch, 10 + i, "the-name") for i in range(PROCESSES)])
    assert outcomes.count("stored") == 1
    assert set(outcomes) <= {"stored", "seen", "duplicate"}


def test_a_duplicate_key_is_db_duplicate_entry(scratch: str) -> None:
    db = Database(scratch)
    with db.session() as session:
        session.execute(NAMES.insert().values(id=1, name="taken"))
    with pytest.raises(DBDuplicateEntry), db.session() as session:
        session.execute(NAMES.insert().values(id=2, name="taken"))
    db.dispose()
    assert NEUTRON.retries(DBDuplicateEntry("x")) and not DEADLOCK.retries(DBDuplicateEntry("x"))


def test_a_deadlock_is_db_deadlock_and_retried(scratch: str) -> None:
    """Two transactions each hold one row and ask for the other's: the server picks one to
    roll back (MySQL 1213, PostgreSQL 40P01), which oslo.db calls DBDeadlock."""
    db = Database(scratch)
    both_hold = threading.Barrier(2, timeout=20)
    outcomes: dict[int, BaseException | None] = {}

    def worker(first: int, second: int) -> None:
        try:
            with db.session() as session:
                session.execute(update(COUNTER).where(COUNTER.c.id == first).values(value=1))
                both_hold.wait()
                session.execute(update(COUNTER).where(COUNTER.c.id == second).values(value=1))
            outcomes[first] = None
        except BaseException as error:
            outcomes[first] = error

    threads = [threading.Thread(target=worker, args=(1, 2)),
               threading.Thread(target=worker, args=(2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.dispose()
    failed = [e for e in outcomes.values() if e is not None]
    assert len(outcomes) == 2 and len(failed) == 1, outcomes
    assert isinstance(failed[0], DBDeadlock), repr(failed[0])
    assert DEADLOCK.retries(failed[0]) and NEUTRON.retries(failed[0])


def _backend_id(connection: Any) -> int:
    dialect = connection.dialect.name
    value: int = connection.execute(text(
        "SELECT CONNECTION_ID()" if dialect == "mysql" else "SELECT pg_backend_pid()"
    )).scalar_one()
    return value


def _kill(url: str, backend: int, dialect: str) -> None:
    killer = Database(url)
    with killer.engine.connect() as other:
        other.execute(text(f"KILL {backend}" if dialect == "mysql"
                           else f"SELECT pg_terminate_backend({backend})"))
    killer.dispose()


def test_an_idle_connection_the_server_dropped_is_replaced(scratch: str) -> None:
    """A server restart or wait_timeout ends the pool's idle connections: the next
    session gets a new one (the pool's pre-ping), not an error."""
    db = Database(scratch)
    with db.engine.connect() as connection:
        backend, dialect = _backend_id(connection), connection.dialect.name
    _kill(scratch, backend, dialect)
    with db.session() as session:
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    db.dispose()


def test_a_lost_connection_is_db_connection_error(scratch: str) -> None:
    """The server ends the session under a transaction (a failover, a restart)."""
    db = Database(scratch)
    with db.engine.connect() as connection:
        _kill(scratch, _backend_id(connection), connection.dialect.name)
        with pytest.raises(DBConnectionError):
            connection.execute(text("SELECT 1"))
    db.dispose()
