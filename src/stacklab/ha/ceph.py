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
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(slots=True)
class Pool:
    name: str
    id: int
    size: int
    min_size: int
    pg_num: int
    objects: dict[str, bytes] = field(default_factory=dict)

    def pg(self, name: str) -> int:
        # The object's placement seed (Ceph hashes the name with rjenkins; any stable hash
        # serves the model).
        return zlib.crc32(name.encode()) % self.pg_num

    @property
    def stored(self) -> int:
        return sum(len(data) for data in self.objects.values())


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
        self.pools = {name: Pool(name, index + 1, self.options.osd_pool_default_size,
                                 self.options.min_size, self.options.osd_pool_default_pg_num)
                      for index, name in enumerate(pools)}
        self._down_timers: dict[int, Timer] = {}
        self._out_timers: dict[int, Timer] = {}
        self._recovery: Timer | None = None
        self.epoch = 1
        self._writes = 0  # objects written or removed: what the PGs' states depend on too
        self._pg_states: tuple[tuple[Any, ...], dict[str, int]] | None = None
        self._degraded: tuple[tuple[Any, ...], tuple[int, int]] | None = None
        for osd in self.osds:
            osd.up = self._alive(osd)
        self._schedule_recovery()

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

    def _keys(self, pool: Pool, pg: int) -> Iterator[tuple[str, str]]:
        return ((pool.name, name) for name in pool.objects if pool.pg(name) == pg)

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
                client: str | None = None) -> str | None:
        """Why an op on ``name`` (or a connection, for None) cannot go on now; None if it
        can. An op waits on it until its client's timeout (see RadosClient)."""
        quorum = self.quorum()
        if not quorum or (client is not None and not any(
                mon == client or self.reachable(client, mon) for mon in quorum)):
            return "error connecting to the cluster: no monitor quorum reachable"
        if name is None:
            return None
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

    def _check(self, pool: str, name: str, write: bool) -> None:
        reason = self.blocked(pool, name, write=write)
        if reason is not None:
            raise RadosError(reason)

    def read(self, pool: str, name: str) -> bytes | None:
        """The object's bytes (None: no such object). Raises RadosError when blocked."""
        self._check(pool, name, write=False)
        return self.pools[pool].objects.get(name)

    def exists(self, pool: str, name: str) -> bool:
        return self.read(pool, name) is not None

    def write(self, pool: str, name: str, data: bytes) -> None:
        self._check(pool, name, write=True)
        target = self.pools[pool]
        target.objects[name] = data
        self._written(target, name)

    def remove(self, pool: str, name: str) -> None:
        self._check(pool, name, write=True)
        target = self.pools[pool]
        if target.objects.pop(name, None) is not None:
            self._written(target, name)

    def _written(self, pool: Pool, name: str) -> None:
        self._writes += 1
        key = (pool.name, name)
        holders = {osd.id for osd in self.acting(pool, pool.pg(name)) if osd.up}
        for osd in self.osds:
            if osd.id in holders or name not in pool.objects:
                osd.missing.discard(key)
            else:
                osd.missing.add(key)

    # -- recovery ----------------------------------------------------------------------------

    def _recoverable(self) -> list[tuple[Osd, tuple[str, str]]]:
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
        work = self._recoverable()
        if not work:
            return
        size = sum(len(self.pools[key[0]].objects.get(key[1], b"")) for _, key in work)
        self._recovery = self.clock.call_later(
            self.options.peering_seconds + size / self.options.recovery_rate,
            self._recovered)
        if self.on_change is not None:
            self.on_change()

    def _recovered(self) -> None:
        self._recovery = None
        for osd, key in self._recoverable():
            osd.missing.discard(key)
        self._changed()

    @property
    def recovering(self) -> bool:
        return self._recovery is not None

    # -- what `ceph df` and `ceph -s` say -----------------------------------------------------

    def raw_used(self) -> int:
        return sum(pool.stored * pool.size for pool in self.pools.values())

    def max_avail(self, pool_name: str, elsewhere: int = 0) -> int:
        """`ceph df`'s MAX AVAIL: what the fullest in OSD lets the pool still take.
        ``elsewhere``: bytes of the pool this model did not see written, counted as
        stored (another OS process's client wrote them: each process has its own model
        of the one cluster, docs/processes.md)."""
        pool = self.pools[pool_name]
        members = [osd for osd in self.osds if osd.in_]
        if not members:
            return 0
        used = (self.raw_used() + elsewhere * pool.size) // max(len(self.osds), 1)
        spare = min(max(osd.capacity - used, 0) for osd in members)
        return spare * min(len({osd.host for osd in members}), pool.size) // pool.size

    def degraded_objects(self) -> tuple[int, int]:
        version = self._version()
        if self._degraded is None or self._degraded[0] != version:
            self._degraded = (version, self._count_degraded())
        return self._degraded[1]

    def _count_degraded(self) -> tuple[int, int]:
        """(degraded copies, all copies) over every object, as PG_DEGRADED counts them."""
        degraded = total = 0
        for pool in self.pools.values():
            for name in pool.objects:
                key = (pool.name, name)
                holders = [osd for osd in self.acting(pool, pool.pg(name))
                           if osd.up and key not in osd.missing]
                total += pool.size
                degraded += pool.size - len(holders)
        return degraded, total

    def _version(self) -> tuple[Any, ...]:
        """Everything the PGs' states and the degraded count depend on."""
        return (self.epoch, self._writes, self._recovery is not None,
                tuple((osd.up, osd.in_, len(osd.missing)) for osd in self.osds))

    def pg_states(self) -> dict[str, int]:
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
        states = self.pg_states()
        inactive = sum(n for s, n in states.items() if not s.startswith("active"))
        if inactive:
            kinds = sorted({s.split("+")[0] for s in states if not s.startswith("active")})
            checks["PG_AVAILABILITY"] = (f"Reduced data availability: {inactive} pgs "
                                         f"inactive ({', '.join(kinds)})")
        degraded, total = self.degraded_objects()
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
        health, checks = self.health()
        quorum = self.quorum()
        reachable = bool(quorum)
        degraded, total = self.degraded_objects()
        states = self.pg_states()
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
                       "pg_num": p.pg_num, "objects": len(p.objects), "stored": p.stored,
                       "max_avail": self.max_avail(p.name)} for p in self.pools.values()],
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
