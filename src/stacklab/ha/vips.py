"""keepalived on the proxies: which one holds the API VIPs.

As kolla-ansible writes keepalived.conf (KOLLA ansible/roles/loadbalancer/templates/
keepalived/keepalived.conf.j2): one ``vrrp_instance`` holds every VIP (the internal
one and the external one) with ``virtual_router_id 51`` (group_vars
``keepalived_virtual_router_id``), ``state BACKUP``, ``nopreempt``, ``priority`` the
host's index in the loadbalancer group plus one, ``advert_int 1``, and a
``track_script`` ``check_alive`` that asks haproxy over its socket every 2 s
(``fall 2``, ``rise 10``): haproxy gone, the instance goes FAULT and, if it was
MASTER, says goodbye with priority 0 so a backup takes over after its skew time
(ha-semantics §1.5).

Adverts travel on the management network between proxies that reach each other
(the lab's runtime says who); a proxy cut off from its peer becomes a second
master, as keepalived does in a partition. Clients follow the last gratuitous ARP:
with two masters, the VIP is on the one that became MASTER last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from stacklab.clock import Clock
from stacklab.ha.checks import L7OK, L7STS, PeriodicCheck, Probe
from stacklab.ha.daemonlog import daemon_log
from stacklab.ha.vrrp import Transition, VrrpConfig, VrrpGroup, VrrpInstance, VrrpState

LOG = logging.getLogger("stacklab.ha.keepalived")

KOLLA_VRID = 51  # KOLLA group_vars/all/keepalived.yml keepalived_virtual_router_id
KOLLA_ADVERT_INT = 1.0  # keepalived.conf.j2 `advert_int 1`
# keepalived.conf.j2 `vrrp_script check_alive { interval 2 fall 2 rise 10 }`.
CHECK_ALIVE = "check_alive"
CHECK_ALIVE_INTERVAL = 2.0
CHECK_ALIVE_FALL = 2
CHECK_ALIVE_RISE = 10


@dataclass(frozen=True, slots=True)
class Vip:
    name: str
    network: str
    address: str


class ApiVips:
    """The proxies' keepalived: one VRRP instance each, one segment, one set of VIPs."""

    def __init__(self, clock: Clock, proxies: Sequence[tuple[str, str]], vips: Sequence[Vip],
                 *, reachable: Callable[[str, str], bool],
                 haproxy_running: Callable[[str], bool],
                 path: Callable[[str, str], float | None] | None = None) -> None:
        self.clock = clock
        self.vips = tuple(vips)
        self.haproxy_running = haproxy_running
        self.group = VrrpGroup(clock, reachable=reachable, path=path)
        self.scripts: dict[str, PeriodicCheck] = {}
        self._master_since: dict[str, float] = {}
        self._holder: str | None = None  # worked out again on each change of state
        self.name = f"kolla_internal_vip_{KOLLA_VRID}"
        for index, (node, address) in enumerate(proxies):
            config = VrrpConfig(vrid=KOLLA_VRID, priority=index + 1,
                                advert_int=KOLLA_ADVERT_INT, nopreempt=True,
                                initial_state=VrrpState.BACKUP)
            self.group.add(VrrpInstance(node, address, config))
            self.group.on_transition(node, self._transitioned)

    @property
    def nodes(self) -> list[str]:
        return [instance.node for instance in self.group.instances()]

    def running(self, node: str) -> bool:
        return self.group.instance(node).state not in (VrrpState.INIT, VrrpState.STOPPED)

    def holder(self) -> str | None:
        """The proxy the VIPs' traffic reaches: the master, or the latest of two."""
        return self._holder

    def takeover_pending(self) -> bool:
        """Whether some instance waits in BACKUP: without a master, it takes over shortly."""
        return any(i.state is VrrpState.BACKUP for i in self.group.instances())

    # -- the processes -----------------------------------------------------------------------

    def start(self, node: str) -> None:
        """keepalived starts: its script is "one success away" (KA vrrp_scheduler.c
        vrrp_init_script: result = rise - 1), so the instance starts in FAULT until the
        first check_alive passes, then waits in BACKUP."""
        if self.running(node):
            return
        old = self.scripts.pop(node, None)
        if old is not None:
            old.stop()
        self.scripts[node] = PeriodicCheck(
            self.clock, lambda: self._check_alive(node), interval=CHECK_ALIVE_INTERVAL,
            rise=CHECK_ALIVE_RISE, fall=CHECK_ALIVE_FALL, health=CHECK_ALIVE_RISE - 1,
            on_change=lambda up: self._script_changed(node, up))
        self.group.track_failed(node, script=CHECK_ALIVE)
        self.group.start(node)

    def stop(self, node: str) -> None:
        """``systemctl stop keepalived``: a master says goodbye (priority 0)."""
        self._stop_script(node)
        self.group.stop(node)
        self._find_holder()

    def kill(self, node: str) -> None:
        """The node lost power: no goodbye, the others wait out Master_Down_Interval."""
        self._stop_script(node)
        self.group.kill(node)  # a crash notifies nobody: no transition to hear
        self._find_holder()

    def poke(self) -> None:
        for script in self.scripts.values():
            script.poke()

    def status(self) -> dict[str, Any]:
        holder = self.holder()
        instances = []
        for instance in self.group.instances():
            script = self.scripts.get(instance.node)
            instances.append({
                "node": instance.node, "state": str(instance.state),
                "priority": instance.priority, "address": str(instance.primary_ip),
                "track_script": (f"{CHECK_ALIVE} {script.describe()}" if script is not None
                                 and self.running(instance.node) else ""),
            })
        return {"vrrp_instance": self.name, "virtual_router_id": KOLLA_VRID,
                "holder": holder,
                "vips": [{"name": vip.name, "network": vip.network, "address": vip.address,
                          "holder": holder} for vip in self.vips],
                "instances": instances}

    # -- inside ------------------------------------------------------------------------------

    def _find_holder(self) -> None:
        masters = set(self.group.masters())
        for node in list(self._master_since):
            if node not in masters:
                del self._master_since[node]
        self._holder = max(self._master_since, default=None,
                           key=lambda node: (self._master_since[node], node))

    def _stop_script(self, node: str) -> None:
        script = self.scripts.pop(node, None)
        if script is not None:
            script.stop()

    def _check_alive(self, node: str) -> Probe:
        # kolla's check_alive_haproxy.sh: `echo "show info" | socat unix-connect:...` — the
        # haproxy socket answers at once or not at all.
        return Probe(True, 0.0, L7OK) if self.haproxy_running(node) else \
            Probe(False, 0.0, L7STS)

    def _script_changed(self, node: str, up: bool) -> None:
        if up:
            self.group.track_recovered(node, script=CHECK_ALIVE)
        else:
            self.group.track_failed(node, script=CHECK_ALIVE)

    def _transitioned(self, transition: Transition) -> None:
        if transition.new is VrrpState.MASTER:
            self._master_since[transition.node] = transition.at
        self._find_holder()
        # keepalived's own words (vrrp.c): "(<instance>) Entering MASTER STATE".
        daemon_log(LOG, transition.node, "keepalived", "(%s) Entering %s STATE (%s)",
                   self.name, transition.new, transition.reason)
