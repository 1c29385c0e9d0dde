"""The Galera cluster of the lab: MariaDB on the controllers and garbd on the arbiter.

Membership follows who reaches whom, as Galera's group communication (EVS) learns
it: a member that goes silent (its node lost power, a cable was cut) is suspected
and dropped after ``evs.suspect_timeout`` (GAL gcomm/src/defaults.cpp
``EvsSuspectTimeout = "PT5S"``); one that shows up again is merged once the join
handshake has gone round (``evs.join_retrans_period``, PT1S); one stopped cleanly
says goodbye and leaves at once. Each connected group of members is a component;
it is the Primary Component when its weight passes the quorum of the last one
(GDOC weighted-quorum.rst: "the sum weight of the nodes in a new component
strictly exceeds half that of the preceding Primary Component, minus the nodes
which left gracefully"; GAL pc_proto.cpp ``have_quorum``), each member weighing
``pc.weight`` (1). garbd votes and holds no data.

A member outside the Primary Component refuses queries (GDOC crash-recovery.rst:
``ERROR 1047 (08S01): WSREP has not yet prepared node for application use``). One
entering it behind the cluster's last committed write asks a synced member for a
state transfer: IST when the donor's write-set cache still holds what it missed
(gcache.size 128M), otherwise SST, for which the donor turns ``Donor/Desynced``
and drops out of clustercheck (HAG c410678 controller-ha-galera-manage.rst).
After a crash of the whole cluster the members re-form it by themselves once
they all see each other again (``pc.recovery = TRUE``).

How long a transfer takes is stacklab's model (upstream has no such number): an
IST of one second plus one per ``ist_rate`` missed write-sets, an SST of
``sst_seconds``; one write-set per transaction, of ``writeset_bytes``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from stacklab.clock import Clock, Timer

# wsrep_local_state (GAL galera/src/replicator_smm_stats.cpp; the wsrep API's enum).
INITIALIZED = 0
JOINER = 1
DONOR = 2
JOINED = 3
SYNCED = 4
# wsrep_cluster_status (mysql-wsrep sql/wsrep_mysqld.cc cluster_status_str).
PRIMARY = "Primary"
NON_PRIMARY = "non-Primary"
DISCONNECTED = "Disconnected"

STATE_COMMENTS = {INITIALIZED: "Initialized", JOINER: "Joining", DONOR: "Donor/Desynced",
                  JOINED: "Joined", SYNCED: "Synced"}
RECEIVING = "Joining: receiving State Transfer"
REQUESTED = "Joining: requested State Transfer"

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GaleraOptions:
    suspect_timeout: float = 5.0  # evs.suspect_timeout PT5S (GAL defaults.cpp)
    join_delay: float = 1.0  # evs.join_retrans_period PT1S: one round of join messages
    weight: int = 1  # pc.weight (GAL `PcWeight = "1"`)
    gcache_size: int = 128 * MIB  # gcache.size (GAL gcache_params.cpp "128M")
    writeset_bytes: int = 1024  # stacklab's model: one small OpenStack transaction
    ist_rate: float = 10_000.0  # stacklab's model: write-sets applied per second in an IST
    sst_seconds: float = 60.0  # stacklab's model: an rsync SST of the lab's databases

    @property
    def gcache_writesets(self) -> int:
        return self.gcache_size // self.writeset_bytes

    def ist_seconds(self, missing: int) -> float:
        return 1.0 + missing / self.ist_rate


@dataclass(frozen=True, slots=True)
class DatabaseRefusal:
    """A MySQL error as the client library reports it (what oslo.db wraps)."""

    code: int
    sqlstate: str
    message: str

    def __str__(self) -> str:
        return f"({self.code}, '{self.message}')"


# GDOC crash-recovery.rst, galera-status-variables.rst (wsrep_ready OFF).
NOT_READY = DatabaseRefusal(1047, "08S01", "WSREP has not yet prepared node for application use")
# The client's error when its established connection breaks or the proxy closes it:
# MySQL client CR_SERVER_LOST (2013), which oslo.db maps to DBConnectionError.
LOST = DatabaseRefusal(2013, "HY000", "Lost connection to MySQL server during query")


def cant_connect(address: str, reason: str) -> DatabaseRefusal:
    """CR_CONN_HOST_ERROR (2003), as PyMySQL words it."""
    return DatabaseRefusal(2003, "HY000", f"Can't connect to MySQL server on '{address}' "
                                          f"({reason})")


class Member:
    def __init__(self, node: str, arbitrator: bool, weight: int) -> None:
        self.node = node
        self.arbitrator = arbitrator
        self.weight = weight
        self.running = True
        self.primary = True
        self.state = SYNCED
        self.comment = STATE_COMMENTS[SYNCED]
        self.seqno = 0  # wsrep_last_committed
        self.gcache_from = 0  # the oldest write-set its cache still holds
        self.component: frozenset[str] = frozenset()
        self.last_pc: frozenset[str] = frozenset()
        self.pc_version = 0
        self.transfer: Timer | None = None
        self.donor: str | None = None

    @property
    def serves(self) -> bool:
        """wsrep_ready: it answers SQL (Synced, a donor, or Joined and catching up)."""
        return self.running and self.primary and self.state in (SYNCED, DONOR, JOINED)

    def status(self) -> dict[str, Any]:
        cluster = (DISCONNECTED if not self.running
                   else PRIMARY if self.primary else NON_PRIMARY)
        return {
            "node": self.node, "role": "garbd" if self.arbitrator else "mariadb",
            "running": self.running, "wsrep_cluster_status": cluster,
            "wsrep_local_state": self.state if self.running else None,
            "wsrep_local_state_comment": self.comment if self.running else "",
            "wsrep_cluster_size": len(self.component) if self.running else 0,
            "wsrep_ready": "ON" if self.serves else "OFF",
            "wsrep_last_committed": self.seqno,
            "donor": self.donor,
        }


Pair = frozenset[str]


class GaleraCluster:
    """The cluster's members and components, driven by the lab's changes on ``clock``.

    ``running(node)`` and ``reachable(a, b)`` read the lab as it is; the cluster starts
    as a running lab's would, everyone Synced in one Primary Component. ``refresh``
    after every change of the lab; ``on_change`` hears every change of a member's state.
    """

    def __init__(self, clock: Clock, members: Sequence[tuple[str, bool]], *,
                 running: Callable[[str], bool], reachable: Callable[[str, str], bool],
                 options: GaleraOptions | None = None,
                 on_change: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.options = options or GaleraOptions()
        self.running = running
        self.reachable = reachable
        self.on_change: Callable[[], None] | None = None  # told from the first change on
        self.members = {node: Member(node, arbitrator, self.options.weight)
                        for node, arbitrator in members}
        self.committed = 0  # the cluster's last committed seqno
        self._version = 1
        self._left: dict[int, set[str]] = {1: set()}  # per Primary Component: graceful leaves
        self._pending: dict[Pair, tuple[bool, Timer]] = {}
        self._view_due: Timer | None = None
        everyone = frozenset(self.members)
        for member in self.members.values():
            member.running = running(member.node)
            member.last_pc, member.pc_version = everyone, 1
        self._seen: set[Pair] = {pair for pair in self._pairs() if self._actual(pair)}
        self._recompute()
        self.on_change = on_change

    # -- what the request path asks ------------------------------------------------------

    def member(self, node: str) -> Member:
        return self.members[node]

    def serves(self, node: str) -> bool:
        member = self.members.get(node)
        return member is not None and not member.arbitrator and member.serves

    def synced(self, node: str) -> bool:
        """clustercheck's 200: wsrep_local_state 4 (AVAILABLE_WHEN_DONOR=0)."""
        member = self.members.get(node)
        return member is not None and member.serves and member.state == SYNCED

    def commit(self, node: str) -> None:
        """A transaction committed through ``node``: one more write-set for the cluster."""
        member = self.members[node]
        if not member.serves:
            raise ValueError(f"{node} does not serve queries")
        self.committed += 1
        for other in self.members.values():
            if other.component == member.component and other.primary and other.running \
                    and other.state in (SYNCED, DONOR, JOINED):
                other.seqno = self.committed

    def status(self) -> list[dict[str, Any]]:
        return [member.status() for member in self.members.values()]

    def primary_component(self) -> frozenset[str]:
        return next((m.component for m in self.members.values() if m.running and m.primary),
                    frozenset())

    # -- the lab changed --------------------------------------------------------------------

    def refresh(self, stopped_cleanly: Collection[str] = ()) -> None:
        """Take in the lab as it is now. ``stopped_cleanly``: members whose process was
        stopped (not killed with its node): they leave gracefully, at once."""
        changed = False
        for member in self.members.values():
            running = self.running(member.node)
            if running == member.running:
                continue
            member.running = running
            changed = True
            if running:
                # A restarted member's write-set cache starts empty.
                member.gcache_from = member.seqno
                member.primary = False
                member.component = frozenset({member.node})
                self._set_state(member, INITIALIZED)
            else:
                self._cancel_transfer(member)
                if member.node in stopped_cleanly:
                    self._leave(member)
        for pair in self._pairs():
            actual = self._actual(pair)
            pending = self._pending.get(pair)
            if actual == (pair in self._seen):
                if pending is not None:
                    pending[1].cancel()  # it came back before anyone noticed it had gone
                    del self._pending[pair]
                continue
            if pending is not None and pending[0] == actual:
                continue
            if pending is not None:
                pending[1].cancel()
            delay = self.options.join_delay if actual else self.options.suspect_timeout
            self._pending[pair] = (actual, self.clock.call_later(
                delay, functools.partial(self._observe, pair, actual)))
        if changed:
            self._recompute()

    def _leave(self, member: Member) -> None:
        # GDOC: a graceful leave reduces the denominator of the next quorum.
        self._left.setdefault(member.pc_version, set()).add(member.node)
        for pair in [p for p in self._seen if member.node in p]:
            self._seen.discard(pair)
            pending = self._pending.pop(pair, None)
            if pending is not None:
                pending[1].cancel()

    def _observe(self, pair: Pair, actual: bool) -> None:
        self._pending.pop(pair, None)
        if actual:
            self._seen.add(pair)
        else:
            self._seen.discard(pair)
        # Peers that time out together install one view: what else is due at this moment
        # is taken in before the components are worked out again.
        if self._view_due is None:
            self._view_due = self.clock.call_later(0.0, self._install_view)

    def _install_view(self) -> None:
        self._view_due = None
        self._recompute()

    def _pairs(self) -> list[Pair]:
        nodes = list(self.members)
        return [frozenset((a, b)) for i, a in enumerate(nodes) for b in nodes[i + 1:]]

    def _actual(self, pair: Pair) -> bool:
        a, b = sorted(pair)
        return (self.members[a].running and self.members[b].running
                and self.reachable(a, b))

    # -- components and quorum --------------------------------------------------------------

    def _components(self) -> list[frozenset[str]]:
        # A silent member stays in its peers' view (a ghost) until they drop it.
        linked = {node for pair in self._seen for node in pair}
        vertices = [n for n, m in self.members.items() if m.running or n in linked]
        seen: set[str] = set()
        components = []
        for start in vertices:
            if start in seen:
                continue
            group, stack = {start}, [start]
            while stack:
                node = stack.pop()
                for pair in self._seen:
                    if node in pair:
                        (other,) = pair - {node}
                        if other not in group:
                            group.add(other)
                            stack.append(other)
            seen |= group
            components.append(frozenset(group))
        return components

    def _has_quorum(self, component: frozenset[str]) -> tuple[bool, frozenset[str], int]:
        reference = max((self.members[n] for n in component), key=lambda m: m.pc_version)
        last_pc, version = reference.last_pc, reference.pc_version
        # Who left gracefully and is not back: a member that left and has restarted into
        # this very component is counted in it, not subtracted from the reference as well
        # (else a restarted garbd alone would "keep" the quorum its own leave lowered).
        left = (self._left.get(version, set()) & last_pc) - component
        weight = self._weight
        quorate = 2 * weight(component) + weight(left) > weight(last_pc)
        return quorate, last_pc, version

    def _weight(self, nodes: Collection[str]) -> int:
        return sum(self.members[n].weight for n in nodes)

    def _recompute(self) -> None:
        before = {n: (m.primary, m.state, m.comment, m.component)
                  for n, m in self.members.items()}
        for component in self._components():
            quorate, last_pc, version = self._has_quorum(component)
            if quorate:
                self._install_primary(component, last_pc, version)
            else:
                for node in component:
                    member = self.members[node]
                    member.component = component
                    if member.running:
                        self._cancel_transfer(member)
                        member.primary = False
                        self._set_state(member, INITIALIZED)
        for member in self.members.values():
            if not member.running:
                member.primary = False
                member.component = frozenset()
        self._start_transfers()
        after = {n: (m.primary, m.state, m.comment, m.component)
                 for n, m in self.members.items()}
        if after != before and self.on_change is not None:
            self.on_change()

    def _install_primary(self, component: frozenset[str], last_pc: frozenset[str],
                         version: int) -> None:
        members = [self.members[n] for n in component]
        if component != last_pc or any(m.pc_version != version for m in members):
            self._version += 1
            version = self._version
            self._left[version] = set()
        for member in members:
            was_primary = member.primary
            member.component = component
            member.last_pc, member.pc_version = component, version
            if not member.running:
                continue
            member.primary = True
            if member.arbitrator:
                member.seqno = self.committed
                self._set_state(member, SYNCED)
            elif was_primary and member.state != INITIALIZED:
                continue  # it stays what it was: Synced, a donor, a joiner mid-transfer
            elif member.seqno == self.committed:
                # GDOC node-states.rst: no state transfer needed, PRIMARY -> JOINED -> SYNCED.
                self._set_state(member, SYNCED)
            else:
                self._set_state(member, JOINER, REQUESTED)

    # -- state transfers ---------------------------------------------------------------------

    def _start_transfers(self) -> None:
        for joiner in self.members.values():
            if not (joiner.running and joiner.primary and joiner.state == JOINER):
                continue
            if joiner.transfer is not None:
                donor = self.members.get(joiner.donor or "")
                if donor is not None and donor.running and donor.component == joiner.component:
                    continue
                self._cancel_transfer(joiner)  # its donor went away: ask again
            donor = next((m for m in self.members.values()
                          if not m.arbitrator and m.running and m.primary
                          and m.component == joiner.component and m.state == SYNCED
                          and m.seqno == self.committed), None)
            if donor is None:
                self._set_state(joiner, JOINER, REQUESTED)
                continue
            missing = self.committed - joiner.seqno
            incremental = (joiner.seqno >= donor.gcache_from
                           and missing <= self.options.gcache_writesets)
            if incremental:
                duration = self.options.ist_seconds(missing)
            else:
                duration = self.options.sst_seconds
                self._set_state(donor, DONOR)
            joiner.donor = donor.node
            self._set_state(joiner, JOINER, RECEIVING)
            joiner.transfer = self.clock.call_later(
                duration, functools.partial(self._transfer_done, joiner.node))

    def _transfer_done(self, node: str) -> None:
        joiner = self.members[node]
        donor = self.members.get(joiner.donor or "")
        joiner.transfer, joiner.donor = None, None
        joiner.seqno = self.committed
        joiner.gcache_from = self.committed
        # JOINED then SYNCED: the write-sets queued meanwhile are applied at once here.
        self._set_state(joiner, SYNCED)
        if donor is not None and donor.state == DONOR:
            self._set_state(donor, SYNCED)
        if self.on_change is not None:
            self.on_change()

    def _cancel_transfer(self, member: Member) -> None:
        if member.transfer is not None:
            member.transfer.cancel()
            member.transfer = None
        donor = self.members.get(member.donor or "")
        member.donor = None
        if donor is not None and donor.state == DONOR and donor.running and donor.primary:
            self._set_state(donor, SYNCED)
        # A donor losing its joiner is handled above; a donor itself stopping just stops.

    @staticmethod
    def _set_state(member: Member, state: int, comment: str | None = None) -> None:
        member.state = state
        member.comment = comment or STATE_COMMENTS[state]
