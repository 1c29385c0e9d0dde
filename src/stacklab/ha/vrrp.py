"""VRRP as keepalived runs it: the state machine of one instance, and the segment it speaks on.

Shared by neutron's HA routers (``stacklab.network.keepalived``) and the API VIPs the
proxies hold (``stacklab.ha.vips``).

``VrrpInstance`` is pure: each input (start, an advert, a timer, a fault, a
stop) takes the current time and returns the actions to carry out (adverts to
send, gratuitous ARPs, state transitions); ``next_deadline`` says when it next
needs the time. ``VrrpGroup`` is the L2 segment (a project's HA network, or the
controllers' network for API VIPs): it carries adverts between instances on
its clock's timers (a ``VirtualClock`` in tests) and injects faults — a killed
keepalived, a clean stop, a cut link, an interface down, a failed track script.

Behaviour follows RFC 3768 (VRRPv2) and RFC 5798 (VRRPv3) where keepalived does,
and keepalived where it departs from them; defaults are keepalived's, and
``VrrpConfig.neutron_ha_router`` gives what neutron's L3 agent writes into
keepalived.conf for an HA router (ha-semantics.md §1, §13).
"""

from __future__ import annotations

import enum
import functools
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from stacklab.clock import Clock

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# keepalived include/vrrp.h: priority 0 says "master stopping", 255 is the address owner.
PRIORITY_STOP = 0
PRIORITY_OWNER = 255
KEEPALIVED_PRIORITY = 100  # VRRP_PRIO_DFL
KEEPALIVED_ADVERT_INT = 1.0  # VRRP_ADVER_DFL, seconds
DOWN_TIMER_ADVERTS = 3  # VRRP_DOWN_TIMER_ADVERTS: adverts missed before the master counts as down
GARP_MASTER_REPEAT = 5  # VRRP_GARP_REP: GARPs per burst after becoming MASTER
GARP_MASTER_DELAY = 5.0  # VRRP_GARP_DELAY: second burst this long after becoming MASTER
# neutron agent/linux/keepalived.py and conf/agent/l3/ha.py.
NEUTRON_HA_PRIORITY = 50  # HA_DEFAULT_PRIORITY, the same on every replica
NEUTRON_HA_ADVERT_INT = 2.0  # ha_vrrp_advert_int
NEUTRON_GARP_MASTER_DELAY = 60.0  # GARP_PRIMARY_DELAY


class VrrpState(enum.StrEnum):
    INIT = "INIT"
    BACKUP = "BACKUP"
    MASTER = "MASTER"
    FAULT = "FAULT"  # keepalived's own: a tracked interface or script is down
    STOPPED = "STOPPED"  # keepalived not running (stopped cleanly or killed)


def skew_time(priority: int, advert_int: float, version: int = 2) -> float:
    """Seconds a backup waits on top of the missed adverts; higher priorities wait less."""
    return _skew(256 - priority, advert_int, version)


def master_down_interval(priority: int, advert_int: float, version: int = 2) -> float:
    """Silence after which a backup takes over: 3 x advert interval + skew (RFC 3768/5798 §6.1)."""
    return DOWN_TIMER_ADVERTS * advert_int + skew_time(priority, advert_int, version)


def _skew(weight: int, advert_int: float, version: int) -> float:
    if version == 2:
        # RFC 3768 §6.1 defines the v2 skew in seconds as (256 - Priority) / 256, not scaled by
        # the advert interval; keepalived's VRRP_TIMER_SKEW_CALC does the same for v2. With
        # neutron's 2 s adverts and priority 50: 206/256 s, so failover takes 6.80 s, not 7.6 s.
        return weight / 256
    # RFC 5798 §6.1 scales it by Master_Adver_Interval, counted in centiseconds.
    return weight * _centiseconds(advert_int) / 256 / 100


def _centiseconds(seconds: float) -> int:
    return round(seconds * 100)


@dataclass(frozen=True)
class VrrpConfig:
    """One ``vrrp_instance`` block of keepalived.conf, as every replica shares it."""

    vrid: int
    priority: int = KEEPALIVED_PRIORITY
    advert_int: float = KEEPALIVED_ADVERT_INT
    nopreempt: bool = False
    initial_state: VrrpState = VrrpState.BACKUP
    version: int = 2  # keepalived's global vrrp_version defaults to 2; neutron does not set it
    garp_master_repeat: int = GARP_MASTER_REPEAT
    garp_master_delay: float = GARP_MASTER_DELAY

    def __post_init__(self) -> None:
        if not 1 <= self.vrid <= 255:
            raise ValueError(f"VRID {self.vrid} is outside 1-255")
        if not 1 <= self.priority <= PRIORITY_OWNER:
            raise ValueError(f"priority {self.priority} is outside 1-255 (0 is reserved)")
        if self.version not in (2, 3):
            raise ValueError(f"VRRP version {self.version} is neither 2 nor 3")
        if self.version == 2 and (self.advert_int != int(self.advert_int)
                                  or not 1 <= self.advert_int <= 255):
            # The v2 header carries whole seconds in one byte.
            raise ValueError(f"VRRPv2 advert_int {self.advert_int} is not 1-255 whole seconds")
        if self.version == 3 and not 1 <= _centiseconds(self.advert_int) <= 4095:
            raise ValueError(f"VRRPv3 advert_int {self.advert_int} is not 0.01-40.95 s")
        if self.initial_state not in (VrrpState.BACKUP, VrrpState.MASTER):
            raise ValueError("initial_state is BACKUP or MASTER")

    @classmethod
    def neutron_ha_router(cls, vrid: int, *,
                          advert_int: float = NEUTRON_HA_ADVERT_INT) -> VrrpConfig:
        """What neutron's ha_router.py writes: state BACKUP, priority 50, nopreempt, 2 s adverts."""
        return cls(vrid=vrid, priority=NEUTRON_HA_PRIORITY, advert_int=advert_int,
                   nopreempt=True, initial_state=VrrpState.BACKUP,
                   garp_master_delay=NEUTRON_GARP_MASTER_DELAY)


@dataclass(frozen=True)
class Advert:
    vrid: int
    priority: int
    advert_int: float
    version: int
    sender: str  # the node, for the segment's routing
    sender_ip: IPAddress  # the primary IP, which breaks priority ties


@dataclass(frozen=True)
class SendAdvert:
    advert: Advert


@dataclass(frozen=True)
class GratuitousArp:
    node: str
    vrid: int
    at: float
    count: int
    burst: int  # 1 on becoming MASTER, 2 after garp_master_delay


@dataclass(frozen=True)
class Transition:
    node: str
    vrid: int
    old: VrrpState
    new: VrrpState
    at: float
    reason: str


VrrpAction = SendAdvert | GratuitousArp | Transition


class VrrpInstance:
    """keepalived's ``vrrp_instance`` on one node (one HA router replica, or one VIP holder)."""

    def __init__(self, node: str, primary_ip: str | IPAddress, config: VrrpConfig) -> None:
        self.node = node
        self.primary_ip: IPAddress = ipaddress.ip_address(primary_ip)
        self.config = config
        self.master_ip: IPAddress | None = None  # the master this instance last accepted
        self._state = VrrpState.INIT
        self._faults: set[str] = set()
        self._master_adver_int = config.advert_int
        self._down_at: float | None = None  # Master_Down_Timer, in BACKUP
        self._advert_at: float | None = None  # Adver_Timer, in MASTER
        self._garp_at: float | None = None  # the second GARP burst, in MASTER

    def __repr__(self) -> str:
        return f"<VrrpInstance {self.node} vrid={self.vrid} {self._state} {self.primary_ip}>"

    @property
    def vrid(self) -> int:
        return self.config.vrid

    @property
    def priority(self) -> int:
        return self.config.priority

    @property
    def state(self) -> VrrpState:
        return self._state

    @property
    def faults(self) -> frozenset[str]:
        return frozenset(self._faults)

    @property
    def skew_time(self) -> float:
        return _skew(256 - self.priority, self._master_adver_int, self.config.version)

    @property
    def master_down_interval(self) -> float:
        return DOWN_TIMER_ADVERTS * self._master_adver_int + self.skew_time

    @property
    def next_deadline(self) -> float | None:
        due = [t for t in (self._down_at, self._advert_at, self._garp_at) if t is not None]
        return min(due) if due else None

    # -- inputs --------------------------------------------------------------------------

    def start(self, now: float) -> list[VrrpAction]:
        if self._state not in (VrrpState.INIT, VrrpState.STOPPED):
            raise RuntimeError(f"{self!r} is already running")
        self._master_adver_int = self.config.advert_int
        self.master_ip = None
        if self._faults:
            # keepalived "Entering FAULT STATE (init)": a down tracked interface keeps it out.
            return self._enter_fault(now, "fault at startup")
        if self.priority == PRIORITY_OWNER:
            # RFC 3768 §6.4.1: the address owner goes straight to MASTER.
            return self._become_master(now, "address owner")
        if self.config.initial_state is VrrpState.MASTER:
            # keepalived (vrrp_scheduler.c): `state MASTER` still waits one advert interval
            # (plus the minimum skew) in BACKUP, to hear any master already there.
            return self._become_backup(now, "startup",
                                       self._master_adver_int + _skew(1, self._master_adver_int,
                                                                      self.config.version))
        # RFC 3768 §6.4.1: Master_Down_Timer := Master_Down_Interval, enter BACKUP.
        return self._become_backup(now, "startup", self.master_down_interval)

    def on_advert(self, advert: Advert, now: float) -> list[VrrpAction]:
        if advert.vrid != self.vrid or self._state not in (VrrpState.BACKUP, VrrpState.MASTER):
            return []
        if advert.version != self.config.version:
            return []
        if self.config.version == 2 and advert.advert_int != self.config.advert_int:
            # RFC 3768 §7.1: a v2 advert with another interval MUST be discarded; keepalived
            # drops it too ("advertisement interval mismatch") — so a mismatch splits the brain.
            return []
        if self._state is VrrpState.BACKUP:
            return self._backup_receives(advert, now)
        return self._master_receives(advert, now)

    def on_timer(self, now: float) -> list[VrrpAction]:
        if self._state is VrrpState.BACKUP:
            if self._down_at is not None and self._down_at <= now:
                # RFC 3768 §6.4.2: Master_Down_Timer fired — advertise, GARP, become MASTER.
                return self._become_master(now, "master down timer expired")
            return []
        actions: list[VrrpAction] = []
        if self._state is VrrpState.MASTER:
            if self._advert_at is not None and self._advert_at <= now:
                actions.append(self._advert(self.priority))
                self._advert_at = now + self.config.advert_int
            if self._garp_at is not None and self._garp_at <= now:
                # keepalived garp_master_delay: a second burst, for switches that missed the first.
                actions.append(GratuitousArp(self.node, self.vrid, now,
                                             self.config.garp_master_repeat, burst=2))
                self._garp_at = None
        return actions

    def fault(self, now: float, reason: str = "interface down") -> list[VrrpAction]:
        """A tracked interface or script failed (keepalived's FAULT, not in the RFCs)."""
        self._faults.add(reason)
        if self._state not in (VrrpState.BACKUP, VrrpState.MASTER):
            return []
        return self._enter_fault(now, reason)

    def clear_fault(self, now: float, reason: str = "interface down") -> list[VrrpAction]:
        self._faults.discard(reason)
        if self._state is not VrrpState.FAULT or self._faults:
            return []
        # keepalived vrrp_state_leave_fault: back to BACKUP with a fresh Master_Down_Timer
        # (the interval learnt from a v3 master is forgotten); an address owner goes MASTER.
        self._master_adver_int = self.config.advert_int
        if self.priority == PRIORITY_OWNER:
            return self._become_master(now, "fault cleared")
        return self._become_backup(now, "fault cleared", self.master_down_interval)

    def stop(self, now: float) -> list[VrrpAction]:
        """keepalived stops cleanly: a MASTER says goodbye with priority 0."""
        old = self._state
        actions: list[VrrpAction] = []
        if old is VrrpState.MASTER:
            # RFC 3768 §6.4.3 Shutdown; keepalived restore_vrrp_interfaces "warn the other
            # routers to speed up the recovery".
            actions.append(self._advert(PRIORITY_STOP))
        self._halt()
        if old not in (VrrpState.INIT, VrrpState.STOPPED):
            actions.append(self._transition(old, now, "stopped"))
        return actions

    def crash(self, now: float) -> list[VrrpAction]:
        """keepalived dies (SIGKILL, node power-off): no goodbye, and no notify script runs."""
        self._halt()
        return []

    # -- the RFC's receive rules ---------------------------------------------------------

    def _backup_receives(self, advert: Advert, now: float) -> list[VrrpAction]:
        if advert.priority == PRIORITY_STOP:
            # RFC 3768 §6.4.2: the master is leaving; take over after Skew_Time only.
            self._down_at = now + self.skew_time
            return []
        if self.config.nopreempt or advert.priority >= self.priority:
            # RFC 3768 §6.4.2 (keepalived adds nopreempt to the first test): accept the master
            # and restart the Master_Down_Timer. Between backups the IP plays no part.
            if self.config.version == 3:
                self._master_adver_int = advert.advert_int  # RFC 5798 §6.4.2
            self._down_at = now + self.master_down_interval
            self.master_ip = advert.sender_ip
            return []
        # Preempting: a lower-priority master is ignored, so our timer runs out and we take over.
        return []

    def _master_receives(self, advert: Advert, now: float) -> list[VrrpAction]:
        if advert.priority == PRIORITY_STOP:
            # RFC 3768 §6.4.3: answer at once so backups do not take over from us.
            self._advert_at = now + self.config.advert_int
            return [self._advert(self.priority)]
        if self._outranked_by(advert):
            # RFC 3768 §6.4.3: higher priority, or equal priority and higher primary IP: yield.
            if self.config.version == 3:
                self._master_adver_int = advert.advert_int
            reason = ("higher priority advert" if advert.priority > self.priority
                      else "equal priority advert from a higher IP")
            actions = self._become_backup(now, reason, self.master_down_interval)
            self.master_ip = advert.sender_ip
            return actions
        if advert.priority == self.priority and _compare(advert.sender_ip, self.primary_ip) == 0:
            return []  # keepalived only warns about an equal advert from our own address
        # The RFC discards a lower advert; keepalived (lower_prio_no_advert off by default)
        # answers with its own at once, "forcing new election" — how a healed split brain
        # settles within one advert rather than at the next Adver_Timer.
        self._advert_at = now + self.config.advert_int
        return [self._advert(self.priority)]

    def _outranked_by(self, advert: Advert) -> bool:
        if advert.priority != self.priority:
            return advert.priority > self.priority
        return _compare(advert.sender_ip, self.primary_ip) > 0

    # -- transitions ---------------------------------------------------------------------

    def _become_master(self, now: float, reason: str) -> list[VrrpAction]:
        old = self._state
        self._state = VrrpState.MASTER
        self._master_adver_int = self.config.advert_int
        self._down_at = None
        self._advert_at = now + self.config.advert_int
        delay = self.config.garp_master_delay
        self._garp_at = now + delay if delay else None
        self.master_ip = self.primary_ip
        # keepalived vrrp_state_master_tx sends the advert before the GARPs, so the old master
        # drops the VIPs first; the notify (our Transition) comes last.
        return [self._advert(self.priority),
                GratuitousArp(self.node, self.vrid, now, self.config.garp_master_repeat, burst=1),
                self._transition(old, now, reason)]

    def _become_backup(self, now: float, reason: str, down_in: float) -> list[VrrpAction]:
        old = self._state
        self._state = VrrpState.BACKUP
        self._advert_at = self._garp_at = None
        self._down_at = now + down_in
        return [self._transition(old, now, reason)]

    def _enter_fault(self, now: float, reason: str) -> list[VrrpAction]:
        old = self._state
        actions: list[VrrpAction] = []
        if old is VrrpState.MASTER:
            # keepalived vrrp_state_leave_master(FAULT) sends priority 0; it reaches the others
            # only if the failed thing is not the VRRP interface itself (a track script, say).
            actions.append(self._advert(PRIORITY_STOP))
        self._halt()
        self._state = VrrpState.FAULT
        actions.append(self._transition(old, now, reason))
        return actions

    def _halt(self) -> None:
        self._state = VrrpState.STOPPED
        self._down_at = self._advert_at = self._garp_at = None

    def _transition(self, old: VrrpState, now: float, reason: str) -> Transition:
        return Transition(self.node, self.vrid, old, self._state, now, reason)

    def _advert(self, priority: int) -> SendAdvert:
        return SendAdvert(Advert(self.vrid, priority, self.config.advert_int,
                                 self.config.version, self.node, self.primary_ip))


def _compare(a: IPAddress, b: IPAddress) -> int:
    # keepalived vrrp_saddr_cmp: addresses of different families do not compare (0).
    if a.version != b.version or a == b:
        return 0
    return 1 if int(a) > int(b) else -1


Key = tuple[str, int]  # (node, vrid)


@dataclass
class _Member:
    instance: VrrpInstance
    link_up: bool = True
    armed: float | None = None  # the earliest wake-up already scheduled for it


class VrrpGroup:
    """The segment VRRP adverts travel on (multicast 224.0.0.18), with its faults.

    Several VRIDs may share it, as the routers of one project share their HA network;
    adverts reach the instances of the same VRID on other nodes after ``latency``
    seconds. Faults address a node, and optionally one VRID on it.
    """

    def __init__(self, clock: Clock, *, latency: float = 0.0,
                 reachable: Callable[[str, str], bool] | None = None,
                 path: Callable[[str, str], float | None] | None = None,
                 outbound: Callable[[Advert], None] | None = None) -> None:
        self.clock = clock
        self.latency = latency
        # Where this segment's adverts also go when some of its instances run in other OS
        # processes (``stacklab up --processes``: each network node's keepalived in its own);
        # their adverts come back in through ``receive``. None: every instance is here.
        self.outbound = outbound
        # Who reaches whom on the segment beyond the group's own cuts (the lab's runtime, for
        # the API VIPs' keepalived on the management network).
        self.reachable = reachable
        # One advert from one node to another: its extra delay, or None when the lab's link
        # loses it (a slow or lossy link between two nodes).
        self.path = path
        self.transitions: list[Transition] = []
        self.garps: list[GratuitousArp] = []
        self._members: dict[Key, _Member] = {}
        self._cut: set[frozenset[str]] = set()
        self._hooks: dict[str, list[Callable[[Transition], None]]] = {}

    def add(self, instance: VrrpInstance) -> VrrpInstance:
        key = (instance.node, instance.vrid)
        if key in self._members:
            raise ValueError(f"{instance.node} already has VRID {instance.vrid}")
        for other in self.instances(vrid=instance.vrid):
            if other.primary_ip == instance.primary_ip:
                raise ValueError(f"{instance.primary_ip} is already {other.node}'s")
        self._members[key] = _Member(instance)
        return instance

    def remove(self, node: str, vrid: int | None = None) -> None:
        """Take ``node``'s instances off the segment (keepalived reconfigured without them):
        stop them first, so that a master says goodbye. The node's transition hooks go
        with its last instance; adverts and timers still in flight for them are dropped."""
        for instance in self.instances(node, vrid):
            self._apply(instance, instance.stop(self.clock.now()))
            del self._members[(instance.node, instance.vrid)]
        if not self.instances(node):
            self._hooks.pop(node, None)

    def instances(self, node: str | None = None, vrid: int | None = None) -> list[VrrpInstance]:
        return [m.instance for (n, v), m in self._members.items()
                if (node is None or n == node) and (vrid is None or v == vrid)]

    def instance(self, node: str, vrid: int | None = None) -> VrrpInstance:
        found = self.instances(node, vrid)
        if len(found) != 1:
            raise KeyError(f"{len(found)} instances on {node} with VRID {vrid}")
        return found[0]

    def masters(self, vrid: int | None = None) -> list[str]:
        return [i.node for i in self.instances(vrid=vrid) if i.state is VrrpState.MASTER]

    def on_transition(self, node: str, callback: Callable[[Transition], None]) -> None:
        """Call ``callback`` on each state change of ``node``'s instances, as keepalived's notify
        (neutron-keepalived-state-change) would, stamped with the segment's time."""
        self._hooks.setdefault(node, []).append(callback)

    # -- lifecycle faults ----------------------------------------------------------------

    def start(self, node: str | None = None, vrid: int | None = None) -> None:
        for instance in self.instances(node, vrid):
            self._apply(instance, instance.start(self.clock.now()))

    def stop(self, node: str, vrid: int | None = None) -> None:
        for instance in self.instances(node, vrid):
            self._apply(instance, instance.stop(self.clock.now()))

    def kill(self, node: str, vrid: int | None = None) -> None:
        for instance in self.instances(node, vrid):
            self._apply(instance, instance.crash(self.clock.now()))

    def interface_down(self, node: str, vrid: int | None = None) -> None:
        """The VRRP interface (neutron's ha- port, tracked) goes down: FAULT, and deaf and mute."""
        for instance in self.instances(node, vrid):
            self._member(instance).link_up = False
            self._apply(instance, instance.fault(self.clock.now(), "interface down"))

    def interface_up(self, node: str, vrid: int | None = None) -> None:
        for instance in self.instances(node, vrid):
            self._member(instance).link_up = True
            self._apply(instance, instance.clear_fault(self.clock.now(), "interface down"))

    def track_failed(self, node: str, vrid: int | None = None, script: str = "check_alive") -> None:
        """A track script fails (kolla's check_alive on haproxy): FAULT, still on the wire."""
        for instance in self.instances(node, vrid):
            self._apply(instance, instance.fault(self.clock.now(), f"track {script}"))

    def track_recovered(self, node: str, vrid: int | None = None,
                        script: str = "check_alive") -> None:
        for instance in self.instances(node, vrid):
            self._apply(instance, instance.clear_fault(self.clock.now(), f"track {script}"))

    # -- network faults ------------------------------------------------------------------

    def cut(self, a: str, b: str) -> None:
        """Adverts stop flowing between nodes ``a`` and ``b`` (both ways)."""
        self._cut.add(frozenset((a, b)))

    def restore(self, a: str, b: str) -> None:
        self._cut.discard(frozenset((a, b)))

    def partition(self, *sides: Iterable[str]) -> None:
        """Cut every link between nodes on different sides."""
        groups = [list(side) for side in sides]
        for i, side in enumerate(groups):
            for other in groups[i + 1:]:
                for a in side:
                    for b in other:
                        self.cut(a, b)

    def heal(self) -> None:
        self._cut.clear()

    def connected(self, a: str, b: str) -> bool:
        if frozenset((a, b)) in self._cut:
            return False
        return self.reachable is None or self.reachable(a, b)

    # -- the machinery -------------------------------------------------------------------

    def _member(self, instance: VrrpInstance) -> _Member:
        return self._members[(instance.node, instance.vrid)]

    def _apply(self, instance: VrrpInstance, actions: list[VrrpAction]) -> None:
        for action in actions:
            if isinstance(action, SendAdvert):
                self._send(instance, action.advert)
            elif isinstance(action, GratuitousArp):
                self.garps.append(action)
            else:
                self.transitions.append(action)
                for hook in list(self._hooks.get(action.node, ())):
                    hook(action)
        self._arm(instance)

    def _send(self, sender: VrrpInstance, advert: Advert) -> None:
        if not self._member(sender).link_up:
            return
        self._carry(advert)
        if self.outbound is not None:
            self.outbound(advert)

    def receive(self, advert: Advert) -> None:
        """An advert another OS process's instance sent on this segment (``outbound``
        there): it reaches this process's instances as one of their own would."""
        self._carry(advert)

    def _carry(self, advert: Advert) -> None:
        now = self.clock.now()
        for receiver in self.instances(vrid=advert.vrid):
            if receiver.node == advert.sender:
                continue
            delay = 0.0 if self.path is None else self.path(advert.sender, receiver.node)
            if delay is None:
                continue  # lost on the way
            self.clock.call_at(now + self.latency + delay,
                               functools.partial(self._deliver, receiver, advert))

    def _deliver(self, receiver: VrrpInstance, advert: Advert) -> None:
        # A link cut while the advert is in flight loses it, as does a receiver removed.
        member = self._members.get((receiver.node, receiver.vrid))
        if member is None or member.instance is not receiver:
            return
        if member.link_up and self.connected(advert.sender, receiver.node):
            self._apply(receiver, receiver.on_advert(advert, self.clock.now()))

    def _arm(self, instance: VrrpInstance) -> None:
        # One pending wake-up per instance, at its earliest deadline: a deadline that moves
        # later (a backup hearing its master) is picked up when the earlier wake-up fires.
        member = self._member(instance)
        deadline = instance.next_deadline
        if deadline is not None and (member.armed is None or deadline < member.armed):
            member.armed = deadline
            self.clock.call_at(deadline, functools.partial(self._wake, instance, deadline))

    def _wake(self, instance: VrrpInstance, due: float) -> None:
        member = self._members.get((instance.node, instance.vrid))
        if member is None or member.instance is not instance:
            return  # removed from the segment since this wake-up was set
        if member.armed == due:
            member.armed = None
        deadline = instance.next_deadline
        if deadline is not None and deadline <= self.clock.now():
            self._apply(instance, instance.on_timer(self.clock.now()))
        else:
            self._arm(instance)
