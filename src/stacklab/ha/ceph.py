"""The lab's Ceph cluster: OSDs on storage1 and storage2, replicated pools, RADOS clients.

lab.md: "Storage: shared (Ceph) so that images, volumes and VM disks survive a node."
One OSD per node running ``ceph-osd``; monitors on the storage nodes and the arbiter
(stacklab's choice, the course names none: three votes, so one lost node keeps a
quorum, as garbd does for Galera). Each pool (``volumes``, ``images``, ``vms``,
``backups``) keeps ``size`` copies of each object on distinct hosts (CRUSH's default
rule, failure domain host) and serves I/O while at least ``min_size`` of them are up.
The lab's pools have size 2; ``min_size`` left at 0 is Ceph's own rule, ``size -
size/2`` (src/mon/OSDMonitor.cc ``get_osd_pool_default_min_size``), 1 for size 2:
I/O goes on with one copy, at the risk min_size 1 is known for (a write taken by the
lone survivor leaves the PG ``down`` if that OSD dies before the other returns).

The OSD map follows the lab as the monitors learn it:
- an OSD whose process stops on a live host tells the monitors and is marked down at once;
- one that goes silent (its node lost power) is reported by its peers after
  ``osd_heartbeat_grace`` (20 s) and marked down once ``mon_osd_min_down_reporters``
  (2) hosts reported it; with fewer possible reporters (a two-host cluster has one),
  only the monitors' own ``mon_osd_report_timeout`` (900 s) marks it down. The lab's
  ceph.conf sets 1 reporter, as small clusters do;
- a down OSD is marked out after ``mon_osd_down_out_interval`` (600 s) and back in when
  it boots again (``mon_osd_auto_mark_auto_out_in``);
- without a monitor quorum nothing changes in the map and no client gets in.

Until a dead OSD is marked down, the PGs it serves block I/O (slow ops). An OSD that
comes back up recovers what it missed from a peer holding every object of the PG:
``recovery`` takes ``peering_seconds`` plus the missed bytes at ``recovery_rate``
(stacklab's model; Ceph throttles recovery by osd_recovery_max_active, not by a rate).

Monitor elections are taken as instant (Ceph's are a few seconds); partitions between
the OSDs themselves (not between them and the monitors) are not modelled.

The objects and what each OSD misses of them (``CephObjects``) are the storage nodes'
disks: in memory by default (``MemoryObjects``), in the store once the cloud attaches it
(``ha.cephstore``), so that every process of the one-process-per-service shape keeps its
own model of the map (up/in, timers, from the same lab faults) over the one cluster's
objects: what a client of one process writes, another reads, and the degraded counts,
recovery and ``ceph df`` are the same in every process.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

from stacklab.clock import Clock, Timer

GIB = 1024 ** 3
MIB = 1024 ** 2

HEALTH_OK = "HEALTH_OK"
HEALTH_WARN = "HEALTH_WARN"
HEALTH_ERR = "HEALTH_ERR"
# What `ceph -s` gives without a monitor quorum: nothing (it hangs until its timeout).
UNREACHABLE = "UNREACHABLE"

# The pools of a Ceph-backed OpenStack (the install guides' names).
LAB_POOLS = ("volumes", "images", "vms", "backups")


@dataclass(frozen=True, slots=True)
class CephOptions:
    # ceph.conf [global]; the lab's pools are size 2 (Ceph's own default is 3).
    osd_pool_default_size: int = 2
    osd_pool_default_min_size: int = 0  # 0: size - size/2 (Ceph's rule)
    osd_pool_default_pg_num: int = 32
    osd_heartbeat_grace: float = 20.0
    mon_osd_min_down_reporters: int = 2
    mon_osd_report_timeout: float = 900.0
    mon_osd_down_out_interval: float = 600.0
    # stacklab's model of recovery (see the module's docstring).
    peering_seconds: float = 1.0
    recovery_rate: float = 100.0 * MIB  # bytes a second

    def __post_init__(self) -> None:
        if self.osd_pool_default_size < 1:
            raise ValueError("osd_pool_default_size must be at least 1")
        if not 0 <= self.osd_pool_default_min_size <= self.osd_pool_default_size:
            raise ValueError("osd_pool_default_min_size must be 0 (Ceph's rule) or "
                             "between 1 and the pool's size")

    @property
    def min_size(self) -> int:
        size = self.osd_pool_default_size
        return self.osd_pool_default_min_size or size - size // 2


class RadosError(Exception):
    """What librados answers a client when the cluster cannot serve it in time (the
    client's rados_*_timeout): no monitor quorum, an inactive PG, an op that blocks."""


@dataclass(slots=True)
class Osd:
    id: int
    host: str
    capacity: int  # bytes
    up: bool = True
    in_: bool = True
    # Objects (pool, name) this OSD holds an outdated copy of, or none at all.
    missing: set[tuple[str, str]] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"osd.{self.id}"


# An object of a pool: (pool, name).
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Catalog:
    """What the OSDs hold, without the bytes: each pool's objects and their sizes, and
    the objects each OSD (by id) has an outdated copy of, or none at all."""

    sizes: Mapping[str, Mapping[str, int]]
    missing: Mapping[int, frozenset[Key]]


EMPTY = Catalog({}, {})


class CephObjects(Protocol):
    """The cluster's objects: the bytes and what each OSD misses. ``session``: the
    caller's open transaction, which a write takes part in (None: one of its own)."""

    def catalog(self, session: Session | None = None) -> Catalog: ...

    def read(self, pool: str, name: str, session: Session | None = None) -> bytes | None: ...

    def write(self, pool: str, name: str, data: bytes, missing: Collection[int],
              session: Session | None = None) -> None:
        """Keep ``data`` as the object, which the OSDs ``missing`` (ids) did not take."""

    def remove(self, pool: str, name: str, session: Session | None = None) -> bool:
        """Remove the object (and what any OSD misses of it); False if there was none."""

    def recovered(self, done: Collection[tuple[int, str, str]],
                  session: Session | None = None) -> None:
        """Each (osd, pool, name): the OSD holds the object's latest copy now. Done twice
        (two processes' timers) it changes nothing more."""


class MemoryObjects:
    """The objects in this process's memory (the cluster's own until a store is
    attached, and the unit tests')."""

    def __init__(self) -> None:
        self._data: dict[Key, bytes] = {}
        self._missing: dict[int, set[Key]] = {}
        self._catalog: Catalog | None = None

    def catalog(self, session: Session | None = None) -> Catalog:
        # The same object until something changes: the cluster compares it by identity.
        if self._catalog is None:
            sizes: dict[str, dict[str, int]] = {}
            for (pool, name), data in self._data.items():
                sizes.setdefault(pool, {})[name] = len(data)
            self._catalog = Catalog(sizes, {osd: frozenset(keys)
                                            for osd, keys in self._missing.items() if keys})
        return self._catalog

    def read(self, pool: str, name: str, session: Session | None = None) -> bytes | None:
        return self._data.get((pool, name))

    def write(self, pool: str, name: str, data: bytes, missing: Collection[int],
              session: Session | None = None) -> None:
        key = (pool, name)
        self._data[key] = bytes(data)
        for keys in self._missing.values():
            keys.discard(key)
        for osd in missing:
            self._missing.setdefault(osd, set()).add(key)
        self._catalog = None

    def remove(self, pool: str, name: str, session: Session | None = None) -> bool:
        key = (pool, name)
        if self._data.pop(key, None) is None:
            return False
        for keys in self._missing.values():
            keys.discard(key)
        self._catalog = None
        return True

    def recovered(self, done: Collection[tuple[int, str, str]],
                  session: Session | None = None) -> None:
        for osd, pool, name in done:
            self._missing.get(osd, set()).discard((pool, name))
        self._catalog = None


class PoolObjects(MutableMapping[str, bytes]):
    """A pool's objects as the OSDs hold them now, beyond what serves a client (no op is
    refused here): what the lab's views and the tests read; removing one is losing it."""

    def __init__(self, cluster: CephCluster, pool: str) -> None:
        self._cluster = cluster
        self._pool = pool

    def _sizes(self) -> Mapping[str, int]:
        return self._cluster._look().sizes.get(self._pool, {})

    def __getitem__(self, name: str) -> bytes:
        data = self._cluster.objects.read(self._pool, name)
        if data is None:
            raise KeyError(name)
        return data

    def __setitem__(self, name: str, data: bytes) -> None:
        self._cluster.objects.write(self._pool, name, data, ())

    def __delitem__(self, name: str) -> None:
        if not self._cluster.objects.remove(self._pool, name):
            raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._sizes()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._sizes()))

    def __len__(self) -> int:
        return len(self._sizes())

    def stored(self) -> int:
        return sum(self._sizes().values())


@dataclass(slots=True)
class Pool:
    name: str
    id: int
    size: int
    min_size: int
    pg_num: int
    objects: PoolObjects

    def pg(self, name: str) -> int:
        # The object's placement seed (Ceph hashes the name with rjenkins; any stable hash
        # serves the model).
        return zlib.crc32(name.encode()) % self.pg_num

    @property
    def stored(self) -> int:
        return self.objects.stored()


class CephCluster:
    """The OSD map, the pools and their PGs, on ``clock``.

    ``osd_running(host)`` (its ceph-osd process runs on a powered node), ``host_up(host)``
    and ``reachable(a, b)`` read the lab as it is; ``refresh`` after every change of it;
    ``on_change`` hears of every change of the map or of recovery.
    """

    def __init__(self, clock: Clock, osds: Sequence[tuple[str, int]], mons: Sequence[str], *,
                 osd_running: Callable[[str], bool], host_up: Callable[[str], bool],
                 reachable: Callable[[str, str], bool], options: CephOptions | None = None,
                 pools: Sequence[str] = LAB_POOLS,
                 on_change: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.options = options or CephOptions()
        self.osd_running = osd_running
        self.host_up = host_up
        self.reachable = reachable
        self.on_change = on_change
        self.fsid = "5c1ab000-0000-4000-8000-000000000001"  # the lab's one cluster
        self.osds = [Osd(index, host, capacity) for index, (host, capacity) in enumerate(osds)]
        self.mons = list(mons)
        self.objects: CephObjects = MemoryObjects()
        self._catalog = EMPTY
        self._generation = 0  # how many times the catalog was seen to change
        self.pools = {name: Pool(name, index + 1, self.options.osd_pool_default_size,
                                 self.options.min_size, self.options.osd_pool_default_pg_num,
                                 PoolObjects(self, name))
                      for index, name in enumerate(pools)}
        self._down_timers: dict[int, Timer] = {}
        self._out_timers: dict[int, Timer] = {}
        self._recovery: Timer | None = None
        self.epoch = 1
        self._pg_states: tuple[tuple[Any, ...], dict[str, int]] | None = None
        self._degraded: tuple[tuple[Any, ...], tuple[int, int]] | None = None
        for osd in self.osds:
            osd.up = self._alive(osd)
        self._schedule_recovery()

    def attach(self, objects: CephObjects) -> None:
        """Keep the objects in ``objects`` from now on (the store every process of the
        cloud shares, once it is migrated); recovery of what an OSD misses there starts."""
        self.objects = objects
        self._look()
        self._schedule_recovery()

    def _look(self, session: Session | None = None) -> Catalog:
        """The objects as they are now (another process's clients may have written some):
        each public look starts here, what it works out reads ``self._catalog``."""
        catalog = self.objects.catalog(session)
        if catalog is not self._catalog and catalog != self._catalog:
            self._generation += 1
            self._catalog = catalog
            for osd in self.osds:
                osd.missing = set(catalog.missing.get(osd.id, ()))
        return catalog

    # -- the lab as the cluster sees it --------------------------------------------------

    def quorum(self) -> list[str]:
        """The monitors in quorum: a majority of them, up and reaching one another."""
        alive = [mon for mon in self.mons if self.host_up(mon)]
        for mon in alive:
            group = [other for other in alive
                     if other == mon or self.reachable(mon, other)]
            if 2 * len(group) > len(self.mons):
                return group
        return []

    def _alive(self, osd: Osd) -> bool:
        """Its process runs and it reaches the monitors (so it is, or will be, up)."""
        if not (self.host_up(osd.host) and self.osd_running(osd.host)):
            return False
        quorum = self.quorum()
        return any(mon == osd.host or self.reachable(osd.host, mon) for mon in quorum)

    def refresh(self) -> None:
        """Take in the lab as it is now."""
        quorate = bool(self.quorum())
        changed = False
        for osd in self.osds:
            alive = self._alive(osd)
            if alive and not osd.up and quorate:
                self._cancel(self._down_timers, osd.id)
                self._cancel(self._out_timers, osd.id)
                osd.up = True
                osd.in_ = True  # mon_osd_auto_mark_auto_out_in
                changed = True
            elif alive:
                self._cancel(self._down_timers, osd.id)
            elif osd.up and quorate and osd.id not in self._down_timers:
                if self.host_up(osd.host):
                    # A process stopped on a live host says goodbye: down at once.
                    self._mark_down(osd)
                    changed = True
                else:
                    self._down_timers[osd.id] = self.clock.call_later(
                        self._detection_delay(osd), functools.partial(self._reported, osd))
            elif not osd.up and not osd.in_:
                pass
            elif not osd.up and quorate and osd.id not in self._out_timers:
                self._arm_out(osd)
        if changed:
            self._changed()
        else:
            # A peer holding what another missed may just have come back (it was up in
            # the map all along): recovery starts now.
            self._schedule_recovery()

    def _detection_delay(self, osd: Osd) -> float:
        reporters = {other.host for other in self.osds
                     if other.host != osd.host and other.up and self._alive(other)}
        if len(reporters) >= self.options.mon_osd_min_down_reporters:
            return self.options.osd_heartbeat_grace
        return self.options.mon_osd_report_timeout

    def _reported(self, osd: Osd) -> None:
        self._down_timers.pop(osd.id, None)
        if osd.up and self.quorum() and not self._alive(osd):
            self._mark_down(osd)
            self._changed()

    def _mark_down(self, osd: Osd) -> None:
        osd.up = False
        self._arm_out(osd)

    def _arm_out(self, osd: Osd) -> None:
        self._cancel(self._out_timers, osd.id)
        self._out_timers[osd.id] = self.clock.call_later(
            self.options.mon_osd_down_out_interval, functools.partial(self._mark_out, osd))

    def _mark_out(self, osd: Osd) -> None:
        self._out_timers.pop(osd.id, None)
        if not osd.up and osd.in_ and self.quorum():
            osd.in_ = False
            self._changed()

    @staticmethod
    def _cancel(timers: dict[int, Timer], key: int) -> None:
        timer = timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def _changed(self) -> None:
        self.epoch += 1
        self._schedule_recovery()
        if self.on_change is not None:
            self.on_change()

    # -- placement -------------------------------------------------------------------------

    def acting(self, pool: Pool, pg: int) -> list[Osd]:
        """The PG's OSDs: ``size`` of the in OSDs on distinct hosts, the primary first,
        in an order drawn from the PG (what CRUSH gives a two-host cluster)."""
        candidates = [osd for osd in self.osds if osd.in_]
        if not candidates:
            return []
        start = (pool.id * 7919 + pg) % len(candidates)
        ordered = candidates[start:] + candidates[:start]
        chosen: list[Osd] = []
        for osd in ordered:
            if osd.host not in {c.host for c in chosen}:
                chosen.append(osd)
            if len(chosen) == pool.size:
                break
        return chosen

    def _keys(self, pool: Pool, pg: int) -> Iterator[Key]:
        return ((pool.name, name) for name in self._catalog.sizes.get(pool.name, {})
                if pool.pg(name) == pg)

    def pg_state(self, pool: Pool, pg: int) -> str:
        """The PG's state as `ceph pg stat` words it."""
        acting = self.acting(pool, pg)
        up = [osd for osd in acting if osd.up]
        if not up:
            return "stale+undersized+degraded+peered"
        keys = set(self._keys(pool, pg))
        if not any(not (osd.missing & keys) for osd in up):
            return "down"  # no up OSD has the PG's latest writes: waiting for the one that has
        words = []
        if len(up) < pool.min_size:
            words.append("undersized+degraded+peered")
        else:
            words.append("active")
            if len(up) < pool.size:
                words.append("undersized+degraded")
            elif any(osd.missing & keys for osd in up):
                words.append("recovering+degraded" if self._recovery is not None
                             else "recovery_wait+degraded")
            else:
                words.append("clean")
        return "+".join(words)

    # -- what clients ask --------------------------------------------------------------------

    def pool(self, name: str) -> Pool:
        return self.pools[name]

    def blocked(self, pool_name: str, name: str | None = None, *, write: bool = False,
                client: str | None = None, session: Session | None = None) -> str | None:
        """Why an op on ``name`` (or a connection, for None) cannot go on now; None if it
        can. An op waits on it until its client's timeout (see RadosClient)."""
        quorum = self.quorum()
        if not quorum or (client is not None and not any(
                mon == client or self.reachable(client, mon) for mon in quorum)):
            return "error connecting to the cluster: no monitor quorum reachable"
        if name is None:
            return None
        self._look(session)
        pool = self.pools[pool_name]
        pg = pool.pg(name)
        state = self.pg_state(pool, pg)
        if not state.startswith("active"):
            return f"pg {pool.id}.{pg:x} is {state}: op blocked"
        acting = [osd for osd in self.acting(pool, pg) if osd.up]
        involved = acting if write else acting[:1]
        for osd in involved:
            if not self._alive(osd) or (client is not None and client != osd.host
                                        and not self.reachable(client, osd.host)):
                return f"slow ops: waiting for {osd.name} (not yet marked down)"
        return None

    def _check(self, pool: str, name: str, write: bool, session: Session | None) -> None:
        reason = self.blocked(pool, name, write=write, session=session)
        if reason is not None:
            raise RadosError(reason)

    def read(self, pool: str, name: str, *, session: Session | None = None) -> bytes | None:
        """The object's bytes (None: no such object). Raises RadosError when blocked."""
        self._check(pool, name, False, session)
        return self.objects.read(pool, name, session)

    def exists(self, pool: str, name: str, *, session: Session | None = None) -> bool:
        self._check(pool, name, False, session)
        return name in self._catalog.sizes.get(pool, {})

    def write(self, pool: str, name: str, data: bytes, *,
              session: Session | None = None) -> None:
        """Write the object: the PG's up OSDs take it, every other misses it."""
        self._check(pool, name, True, session)
        target = self.pools[pool]
        holders = {osd.id for osd in self.acting(target, target.pg(name)) if osd.up}
        self.objects.write(pool, name, data,
                           [osd.id for osd in self.osds if osd.id not in holders], session)
        self._look(session)

    def remove(self, pool: str, name: str, *, session: Session | None = None) -> None:
        self._check(pool, name, True, session)
        if self.objects.remove(pool, name, session):
            self._look(session)

    # -- recovery ----------------------------------------------------------------------------

    def _recoverable(self) -> list[tuple[Osd, Key]]:
        found = []
        for pool in self.pools.values():
            for osd in self.osds:
                if not osd.up:
                    continue
                for key in sorted(osd.missing):
                    if key[0] != pool.name:
                        continue
                    acting = self.acting(pool, pool.pg(key[1]))
                    # A peer that is alive and holds the object's latest copy sends it.
                    if osd in acting and any(
                            peer.up and key not in peer.missing and self._alive(peer)
                            for peer in acting if peer is not osd):
                        found.append((osd, key))
        return found

    def _schedule_recovery(self) -> None:
        if self._recovery is not None:
            return
        self._look()
        work = self._recoverable()
        if not work:
            return
        size = sum(self._catalog.sizes.get(pool, {}).get(name, 0) for _, (pool, name) in work)
        self._recovery = self.clock.call_later(
            self.options.peering_seconds + size / self.options.recovery_rate,
            self._recovered)
        if self.on_change is not None:
            self.on_change()

    def _recovered(self) -> None:
        self._recovery = None
        # What is recoverable now (another process's timer may have recovered some of
        # it, or a client written more since): recovering it again changes nothing.
        self._look()
        done = [(osd.id, pool, name) for osd, (pool, name) in self._recoverable()]
        if done:
            self.objects.recovered(done)
        self._changed()

    @property
    def recovering(self) -> bool:
        return self._recovery is not None

    # -- what `ceph df` and `ceph -s` say -----------------------------------------------------

    def raw_used(self) -> int:
        self._look()
        return self._raw_used()

    def _stored(self, pool: Pool) -> int:
        return sum(self._catalog.sizes.get(pool.name, {}).values())

    def _raw_used(self) -> int:
        return sum(self._stored(pool) * pool.size for pool in self.pools.values())

    def max_avail(self, pool_name: str, elsewhere: int = 0) -> int:
        """`ceph df`'s MAX AVAIL: what the fullest in OSD lets the pool still take.
        ``elsewhere``: bytes of the pool this model did not see written, counted as
        stored (another OS process's client wrote them: each process has its own model
        of the one cluster, docs/processes.md)."""
        self._look()
        return self._max_avail(pool_name, elsewhere)

    def _max_avail(self, pool_name: str, elsewhere: int = 0) -> int:
        pool = self.pools[pool_name]
        members = [osd for osd in self.osds if osd.in_]
        if not members:
            return 0
        used = (self._raw_used() + elsewhere * pool.size) // max(len(self.osds), 1)
        spare = min(max(osd.capacity - used, 0) for osd in members)
        return spare * min(len({osd.host for osd in members}), pool.size) // pool.size

    def degraded_objects(self) -> tuple[int, int]:
        self._look()
        return self._degraded_objects()

    def _degraded_objects(self) -> tuple[int, int]:
        version = self._version()
        if self._degraded is None or self._degraded[0] != version:
            self._degraded = (version, self._count_degraded())
        return self._degraded[1]

    def _count_degraded(self) -> tuple[int, int]:
        """(degraded copies, all copies) over every object, as PG_DEGRADED counts them."""
        degraded = total = 0
        for pool in self.pools.values():
            for name in self._catalog.sizes.get(pool.name, {}):
                key = (pool.name, name)
                holders = [osd for osd in self.acting(pool, pool.pg(name))
                           if osd.up and key not in osd.missing]
                total += pool.size
                degraded += pool.size - len(holders)
        return degraded, total

    def _version(self) -> tuple[Any, ...]:
        """Everything the PGs' states and the degraded count depend on."""
        return (self.epoch, self._generation, self._recovery is not None,
                tuple((osd.up, osd.in_) for osd in self.osds))

    def pg_states(self) -> dict[str, int]:
        self._look()
        return self._pg_states_now()

    def _pg_states_now(self) -> dict[str, int]:
        # Asked on every status look (a scenario's sampler looks several times a lab
        # second) and costly to work out (every PG of every pool): kept per version.
        version = self._version()
        if self._pg_states is not None and self._pg_states[0] == version:
            return dict(self._pg_states[1])
        states = self._count_pg_states()
        self._pg_states = (version, states)
        return dict(states)

    def _count_pg_states(self) -> dict[str, int]:
        states: dict[str, int] = {}
        for pool in self.pools.values():
            for pg in range(pool.pg_num):
                state = self.pg_state(pool, pg)
                states[state] = states.get(state, 0) + 1
        return dict(sorted(states.items()))

    def health(self) -> tuple[str, dict[str, str]]:
        """The health and its checks, in Ceph's names and words."""
        self._look()
        return self._health()

    def _health(self) -> tuple[str, dict[str, str]]:
        quorum = self.quorum()
        if not quorum:
            return UNREACHABLE, {"MON_QUORUM": "no monitor quorum: the cluster cannot be "
                                               "reached (`ceph -s` times out)"}
        checks: dict[str, str] = {}
        error = False
        if len(quorum) < len(self.mons):
            out = [mon for mon in self.mons if mon not in quorum]
            checks["MON_DOWN"] = (f"{len(out)}/{len(self.mons)} mons down, quorum "
                                  f"{','.join(_short(m) for m in quorum)}")
        down = [osd for osd in self.osds if not osd.up and osd.in_]
        if down:
            checks["OSD_DOWN"] = f"{len(down)} osds down"
            hosts = sorted({osd.host for osd in down})
            checks["OSD_HOST_DOWN"] = f"{len(hosts)} host ({len(down)} osds) down"
        states = self._pg_states_now()
        inactive = sum(n for s, n in states.items() if not s.startswith("active"))
        if inactive:
            kinds = sorted({s.split("+")[0] for s in states if not s.startswith("active")})
            checks["PG_AVAILABILITY"] = (f"Reduced data availability: {inactive} pgs "
                                         f"inactive ({', '.join(kinds)})")
        degraded, total = self._degraded_objects()
        degraded_pgs = sum(n for s, n in states.items() if "degraded" in s)
        if degraded or degraded_pgs:
            undersized = sum(n for s, n in states.items() if "undersized" in s)
            share = 100.0 * degraded / total if total else 0.0
            checks["PG_DEGRADED"] = (f"Degraded data redundancy: {degraded}/{total} objects "
                                     f"degraded ({share:.3f}%), {degraded_pgs} pgs degraded"
                                     + (f", {undersized} pgs undersized" if undersized else ""))
        slow = [osd for osd in self.osds if osd.up and not self._alive(osd)]
        if slow:
            checks["SLOW_OPS"] = (f"ops are blocked on {', '.join(o.name for o in slow)} "
                                  f"(not yet marked down)")
        if "down" in states:
            error = True
        return (HEALTH_ERR if error else HEALTH_WARN if checks else HEALTH_OK), checks

    def status(self) -> dict[str, Any]:
        catalog = self._look()
        health, checks = self._health()
        quorum = self.quorum()
        reachable = bool(quorum)
        degraded, total = self._degraded_objects()
        states = self._pg_states_now()
        return {
            "fsid": self.fsid, "health": health, "checks": checks,
            "mons": [{"host": mon, "in_quorum": mon in quorum} for mon in self.mons],
            "osds": [{"id": osd.id, "name": osd.name, "host": osd.host, "up": osd.up,
                      "in": osd.in_, "running": self._alive(osd) if reachable else None}
                     for osd in self.osds],
            "num_osds": len(self.osds),
            "num_up_osds": sum(1 for osd in self.osds if osd.up),
            "num_in_osds": sum(1 for osd in self.osds if osd.in_),
            "pgs": states, "num_pgs": sum(states.values()),
            "pgs_degraded": sum(n for s, n in states.items() if "degraded" in s),
            "pgs_inactive": sum(n for s, n in states.items() if not s.startswith("active")),
            "degraded_objects": degraded, "object_copies": total,
            "recovering": self.recovering,
            "pools": [{"name": p.name, "id": p.id, "size": p.size, "min_size": p.min_size,
                       "pg_num": p.pg_num, "objects": len(catalog.sizes.get(p.name, {})),
                       "stored": self._stored(p), "max_avail": self._max_avail(p.name)}
                      for p in self.pools.values()],
        }


def _short(fqdn: str) -> str:
    return fqdn.split(".", 1)[0]


class RadosClient:
    """A service's librados handle on one pool (cinder's RBD driver, glance's rbd store).

    An op the cluster cannot serve now waits, re-checking once a lab second, for up to
    ``timeout`` lab seconds (the driver's ``rados_connect_timeout``, which both set as
    librados' mount, mon-op and OSD-op timeouts; -1 leaves librados' default
    client_mount_timeout, 300 s), then fails with RadosError. ``sync`` catches the
    cluster's timers up to the present before each look; ``clock`` is what waits.
    """

    def __init__(self, cluster: Callable[[], CephCluster], pool: str, *, clock: Clock,
                 sync: Callable[[], None], timeout: float, client: str | None = None) -> None:
        self._cluster = cluster
        self.pool = pool
        self.clock = clock
        self.sync = sync
        self.timeout = timeout if timeout >= 0 else 300.0
        self.client = client

    @property
    def cluster(self) -> CephCluster:
        return self._cluster()

    async def ready(self, name: str | None = None, *, write: bool = False) -> None:
        """Wait until the op (a connection, for None) can go on; RadosError after timeout."""
        waited = 0.0
        while True:
            self.sync()
            reason = self.cluster.blocked(self.pool, name, write=write, client=self.client)
            if reason is None:
                return
            if waited >= self.timeout:
                raise RadosError(reason)
            step = min(1.0, self.timeout - waited)
            await self.clock.sleep(step)
            waited += step

    def now(self) -> CephCluster:
        """The cluster, caught up to the present (for an op that must not wait)."""
        self.sync()
        return self.cluster


def lab_mons(storage: Collection[str], arbiters: Collection[str]) -> list[str]:
    """The monitors: every storage node, plus the arbiter(s) for an odd count."""
    mons = list(storage)
    if len(mons) % 2 == 0:
        mons += list(arbiters)[:1]
    return mons
