"""What neutron-server answers over the bus: its agents' reports and their device news.

neutron-server consumes, on each node that runs it, the topics its agents send to:
``q-reports-plugin`` (every agent's ``report_state``), ``q-plugin`` (the L2 agents'
``update_device_up``/``update_device_down`` and, when they start, their host's ports;
the DHCP agents' ``create_dhcp_port`` and, when they start, ``get_active_networks_info``) and
``q-l3-plugin`` (the L3 agents' ``update_ha_routers_states`` and, when they sync,
``get_router_ids`` then ``sync_routers``). A message to the bare
topic goes to one of the servers, so a controller that is down leaves the work to the
others. The agents table is written here and only here: an agent's first report makes
its row, every later one moves its ``heartbeat_timestamp`` to the server's now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Float, bindparam, func, insert, select, update

from stacklab.bus.interface import current_host
from stacklab.clock import Clock
from stacklab.ha.route import working_on
from stacklab.ids import IdSource
from stacklab.network import models as m
from stacklab.network import scheduling as sch
from stacklab.network.port_events import PortEvents
from stacklab.store.database import Database

LOG = logging.getLogger("neutron.db.agents_db")


# Built once: building a statement costs more than running it (every agent reports every
# report_interval). A report without start_flag keeps started_at.
_MINE = (m.Agent.agent_type == bindparam("b_agent_type"), m.Agent.host == bindparam("b_host"))
_LAST_HEARTBEAT = select(m.Agent.heartbeat_timestamp).where(*_MINE)
_HEARTBEAT = update(m.Agent).where(*_MINE).values(
    configurations=bindparam("b_configurations", type_=m.Agent.configurations.type),
    heartbeat_timestamp=bindparam("b_now"),
    started_at=func.coalesce(bindparam("b_started_at", type_=Float), m.Agent.started_at))


class AgentReports:
    """``q-reports-plugin``: neutron's AgentExtRpcCallback."""

    def __init__(self, db: Database, clock: Clock, ids: IdSource, *,
                 agent_down_time: float, lab_clock: Clock | None = None) -> None:
        self.db = db
        # Stamps the rows (wall time); a heartbeat's age is read on the lab's time.
        self.clock = clock
        self.lab_clock = lab_clock or clock
        self.ids = ids.stream("network-agents")
        self.down_time = agent_down_time

    def report_state(self, agent_state: Mapping[str, Any], time: str) -> str:
        """Create or refresh the reporting agent's row; neutron's agent status in return."""
        state = agent_state["agent_state"]
        now = self.clock.now()
        # Saved through this neutron-server's way to the database (the internal VIP, a
        # Galera member), which may refuse it: the agent then hears of an error.
        # Without the ORM: this runs for every agent every report_interval.
        with working_on(current_host()), self.db.connection() as connection:
            mine = {"b_agent_type": state["agent_type"], "b_host": state["host"]}
            last = connection.execute(_LAST_HEARTBEAT, mine).first()
            configurations = dict(state.get("configurations") or {})
            if last is None:
                connection.execute(insert(m.Agent).values(
                    id=self.ids.uuid(), agent_type=state["agent_type"],
                    binary=state["binary"], topic=state["topic"], host=state["host"],
                    configurations=configurations,
                    availability_zone=state.get("availability_zone"),
                    created_at=now, started_at=now, heartbeat_timestamp=now))
                LOG.info("Agent %s on %s registered", state["agent_type"], state["host"])
                return sch.AGENT_NEW
            lab = self.lab_clock
            revived = sch.is_agent_down(lab.from_wall(last.heartbeat_timestamp), lab.now(),
                                        self.down_time)
            connection.execute(_HEARTBEAT, {
                **mine, "b_configurations": configurations, "b_now": now,
                "b_started_at": now if state.get("start_flag") else None})
            if revived:
                LOG.info("Agent %s on %s revived", state["agent_type"], state["host"])
            return sch.AGENT_REVIVED if revived else sch.AGENT_ALIVE


class PluginRpc:
    """``q-plugin``: what the L2 and DHCP agents ask of the ML2 plugin."""

    def __init__(self, ports: PortEvents, create_dhcp_port: Callable[[str, str], str | None],
                 active_networks: Callable[[str], list[dict[str, Any]]],
                 dvr_port_up: Callable[[str, str], None]) -> None:
        self.ports = ports
        self._create_dhcp_port = create_dhcp_port
        self._active_networks = active_networks
        self._dvr_port_up = dvr_port_up

    def update_device_up(self, device: str, agent_id: str, host: str) -> None:
        # ML2's update_device_up: the port is ACTIVE, then DVR hears of it (neutron's
        # dvr_handle_new_service_port).
        if self.ports.device_up(device, host):
            self._dvr_port_up(device, host)

    def update_device_down(self, device: str, agent_id: str, host: str) -> dict[str, Any]:
        return {"device": device, "exists": self.ports.device_down(device, host)}

    def create_dhcp_port(self, network_id: str, host: str) -> str | None:
        """The port the host's dnsmasq answers on (its id; None when it serves no longer)."""
        return self._create_dhcp_port(network_id, host)

    def get_active_networks_info(self, host: str) -> list[dict[str, Any]]:
        """A starting DHCP agent's resync: the networks it serves, with their subnets."""
        return self._active_networks(host)

    def get_ports_by_vnic_type_and_host(self, vnic_type: str, host: str
                                        ) -> list[dict[str, Any]]:
        """A starting L2 agent's resync: the ports bound to its host."""
        return self.ports.bound_to(host, vnic_type)


class L3PluginRpc:
    """``q-l3-plugin``: the L3 agents' news of their keepalived, and their full sync."""

    def __init__(self, store_ha_states: Callable[[str, Mapping[str, str]], None],
                 router_ids_on_host: Callable[[str], list[str]],
                 hosted_routers: Callable[..., list[dict[str, Any]]]) -> None:
        self._store = store_ha_states
        self._router_ids = router_ids_on_host
        self._hosted = hosted_routers

    def update_ha_routers_states(self, host: str, states: Mapping[str, str]) -> None:
        self._store(host, states)

    def get_router_ids(self, host: str) -> list[str]:
        """A syncing L3 agent's routers, after it was given those short of agents."""
        return self._router_ids(host)

    def sync_routers(self, host: str, router_ids: list[str] | None = None,
                     vrrp: bool = False) -> list[dict[str, Any]]:
        """The routers a syncing L3 agent hosts (id, ha, the server's ha_state), or those of
        ``router_ids`` it hosts; with ``vrrp``, each HA router's keepalived instance on the
        host too (neutron's router dict carries its ``_ha_interface`` and ``ha_vr_id``),
        for an agent whose keepalived the server does not set up (stacklab up
        --processes)."""
        if router_ids is None and not vrrp:
            return self._hosted(host)
        return self._hosted(host, router_ids=router_ids, vrrp=vrrp)
