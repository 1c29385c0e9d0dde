"""What follows a port's change: the agents are told, its status follows its L2 agent, nova hears.

As neutron's ML2 plugin: a port bound to a host stays DOWN until the Open vSwitch
agent of that host has wired it and says so over RPC (``update_device_up``); then
it is ACTIVE, and nova, whose compute waits for it, gets ``network-vif-plugged``.
A port that loses its binding, or that its agent reports down, is DOWN again
(``network-vif-unplugged`` when it was ACTIVE); a server's port deleted is
``network-vif-deleted``. Each change is also cast to the agents that act on it:
every L2 agent hears ``port_update``/``port_delete`` (fanout; each keeps what is
its host's), the DHCP agents hosting the port's network hear ``port_*_end``.

The casts leave when the caller's transaction is done (the bus hands them on at
the event loop's next turn), and nova's events go out over HTTP after that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.bus.interface import Bus, Target
from stacklab.network import models as m
from stacklab.network.nova import vif_event
from stacklab.network.scheduling.constants import DEVICE_OWNER_COMPUTE_PREFIX
from stacklab.network.topics import DHCP_AGENT_TOPIC, PORT_DELETE_TOPIC, PORT_UPDATE_TOPIC
from stacklab.store.database import Database

LOG = logging.getLogger("neutron.plugins.ml2.rpc")

ACTIVE = "ACTIVE"
DOWN = "DOWN"


def port_message(port: m.Port) -> dict[str, Any]:
    """What an agent is told of a port (plain data: the bus passes it by reference)."""
    return {"id": port.id, "network_id": port.network_id, "mac_address": port.mac_address,
            "admin_state_up": port.admin_state_up, "device_id": port.device_id,
            "device_owner": port.device_owner, "binding:host_id": port.binding_host_id}


def dhcp_hosts(session: Session, network_id: str) -> list[str]:
    """The hosts of the DHCP agents serving a network."""
    return list(session.scalars(
        select(m.Agent.host).join(m.DhcpBinding, m.DhcpBinding.agent_id == m.Agent.id)
        .where(m.DhcpBinding.network_id == network_id).order_by(m.Agent.host)))


def cast_to_dhcp_agents(bus: Bus, session: Session, network_id: str, method: str,
                        payload: dict[str, Any]) -> None:
    """Cast to each DHCP agent serving the network (neutron's DhcpAgentNotifyAPI)."""
    for host in dhcp_hosts(session, network_id):
        bus.cast_nowait(Target(DHCP_AGENT_TOPIC, host), method, payload=payload)


class NovaEvents(Protocol):
    """nova's external events API, as neutron's nova notifier reaches it (``network.nova``)."""

    async def send_events(self, events: Iterable[dict[str, str]]) -> list[dict[str, Any]]: ...


class PortEvents:
    def __init__(self, db: Database, bus: Bus, nova: NovaEvents | None) -> None:
        self.db = db
        self.bus = bus
        self.nova = nova
        self._sending: set[asyncio.Task[Any]] = set()

    # -- the server's own changes ---------------------------------------------------------

    def created(self, session: Session, port: m.Port) -> None:
        """A new port is DOWN; its host's L2 agent, if bound, will say when it is up."""
        self._tell_dhcp(session, port, "port_create_end")
        if port.binding_host_id:
            self._tell_l2(port)

    def updated(self, session: Session, port: m.Port, *, binding_changed: bool) -> None:
        if binding_changed:
            if not (port.binding_host_id and port.admin_state_up):
                self._set_status(port, DOWN)
            self._tell_l2(port)
        self._tell_dhcp(session, port, "port_update_end")

    def deleted(self, session: Session, port: m.Port) -> None:
        self.bus.cast_nowait(Target(PORT_DELETE_TOPIC, fanout=True), "port_delete",
                             port_id=port.id)
        self._tell_dhcp(session, port, "port_delete_end",
                        {"port_id": port.id, "network_id": port.network_id})
        if port.device_owner.startswith(DEVICE_OWNER_COMPUTE_PREFIX) and port.device_id:
            self._send(vif_event("network-vif-deleted", port.device_id, port.id))

    # -- what the L2 agents report (q-plugin) -----------------------------------------------

    def device_up(self, port_id: str, host: str) -> bool:
        """The host's L2 agent wired the port: ACTIVE, if the port is still bound there."""
        with self.db.session() as session:
            port = session.get(m.Port, port_id)
            if port is None or port.binding_host_id != host:
                LOG.debug("Device %s up on %s: not bound there, ignored", port_id, host)
                return False
            if port.admin_state_up:
                self._set_status(port, ACTIVE)
            return True

    def device_down(self, port_id: str, host: str) -> bool:
        """The host's L2 agent unplugged the port; whether neutron still knows it."""
        with self.db.session() as session:
            port = session.get(m.Port, port_id)
            if port is None:
                return False
            if port.binding_host_id in (host, ""):
                self._set_status(port, DOWN)
            return True

    def bound_to(self, host: str, vnic_type: str = "normal") -> list[dict[str, Any]]:
        """The ports bound to a host, as its L2 agent is told of them."""
        with self.db.session() as session:
            return [port_message(p) for p in session.scalars(select(m.Port).where(
                m.Port.binding_host_id == host, m.Port.binding_vnic_type == vnic_type)
                .order_by(m.Port.id))]

    # -- plumbing --------------------------------------------------------------------------

    def _set_status(self, port: m.Port, status: str) -> None:
        """Change the status; a server's port moving to or from ACTIVE is news for nova."""
        previous, port.status = port.status, status
        if previous == status or not port.device_id or \
                not port.device_owner.startswith(DEVICE_OWNER_COMPUTE_PREFIX):
            return
        if status == ACTIVE:
            name = "network-vif-plugged"
        elif previous == ACTIVE:
            name = "network-vif-unplugged"
        else:
            return
        self._send(vif_event(name, port.device_id, port.id))

    def _tell_l2(self, port: m.Port) -> None:
        self.bus.cast_nowait(Target(PORT_UPDATE_TOPIC, fanout=True), "port_update",
                             port=port_message(port))

    def _tell_dhcp(self, session: Session, port: m.Port, method: str,
                   payload: dict[str, Any] | None = None) -> None:
        cast_to_dhcp_agents(self.bus, session, port.network_id, method,
                            payload or {"port": port_message(port)})

    def _send(self, event: dict[str, str]) -> None:
        """nova's events go out over HTTP once the caller's transaction is done."""
        nova = self.nova
        if nova is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            LOG.debug("No event loop: event %s not sent to nova", event)
            return
        task = loop.create_task(nova.send_events([event]))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
