"""neutron-server's side of its agents: DHCP and L3 scheduling, HA routers, failover checks.

The agents themselves are processes on the lab's nodes (``node_agents``), on the
bus: their rows and heartbeats come from their ``report_state`` (``plugin_rpc``),
and an agent is alive while its last report is at most ``agent_down_time`` old.

The decisions are neutron's, taken by ``scheduling`` (pure functions); this
module applies them to the store and tells the agents concerned, as neutron's
DHCP and L3 agent notifiers do: DHCP bindings (each agent then asks for the DHCP
port its dnsmasq holds), router bindings, the per-project HA network with an
``ha-`` port per hosting agent and the router's VRID. Each HA router runs a real
VRRP election (``keepalived``) among its hosting agents' nodes; the L3 agents
report their keepalived's state back over RPC, which this module stores.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError
from stacklab.bus.interface import Bus, Target
from stacklab.clock import Clock
from stacklab.ha.vrrp import VrrpGroup
from stacklab.network import models as m
from stacklab.network import scheduling as sch
from stacklab.network.keepalived import Keepalived, spec_to_wire
from stacklab.network.port_events import cast_to_dhcp_agents
from stacklab.network.service import NetworkService
from stacklab.network.topics import DHCP_AGENT_TOPIC, L3_AGENT_TOPIC
from stacklab.store.database import Database
from stacklab.store.locks import serialize

LOG = logging.getLogger("neutron.db.agents_db")

class Agents:
    def __init__(self, db: Database, clock: Clock, network: NetworkService, bus: Bus,
                 options: sch.SchedulingOptions, keepalived: Keepalived, *,
                 ha_vrrp_advert_int: float = 2.0) -> None:
        self.db = db
        self.clock = clock
        self.network = network
        self.bus = bus
        self.options = options
        self.advert_int = ha_vrrp_advert_int
        self.keepalived = keepalived
        # The lab's time ([stacklab] ha_time_scale; 0.05 is twenty times faster), the
        # scaled clock keepalived and the L3 agents' state batching run on: the failover
        # checks are paced by it and read the agents' heartbeats on it (agent_down_time is
        # the lab's seconds), while the rows keep the wall clock's stamps.
        self.ha_clock = keepalived.clock
        for warning in options.deprecation_warnings():
            LOG.warning(warning)

    # -- records ----------------------------------------------------------------------------

    async def run(self) -> None:
        """neutron-server's periodic checks: DHCP and L3 failover every agent_down_time/2.

        The agents' rows and heartbeats are the server's report_state endpoint's
        (``plugin_rpc``): here they are only read.
        """
        while True:
            await self.ha_clock.sleep(self.options.status_check_interval)
            self.dhcp_failover()
            self.l3_failover()

    def records(self, session: Session) -> list[sch.AgentRecord]:
        """The agents as the scheduling decisions read them: their times on the lab's time
        line, to be judged against ``now()``."""
        lab = self.ha_clock
        return [sch.AgentRecord(id=a.id, agent_type=a.agent_type, host=a.host,
                                heartbeat_timestamp=lab.from_wall(a.heartbeat_timestamp),
                                admin_state_up=a.admin_state_up,
                                availability_zone=a.availability_zone,
                                configurations=dict(a.configurations),
                                started_at=None if a.started_at is None
                                else lab.from_wall(a.started_at), binary=a.binary)
                for a in session.scalars(select(m.Agent).order_by(m.Agent.host,
                                                                  m.Agent.agent_type))]

    def now(self) -> float:
        """The lab's now, which ``records`` are judged against."""
        return self.ha_clock.now()

    def alive_since(self) -> float:
        """The wall-clock stamp of the oldest heartbeat of an agent alive now."""
        lab = self.ha_clock
        return lab.to_wall(lab.now() - self.options.agent_down_time)

    def alive(self, agent: m.Agent) -> bool:
        lab = self.ha_clock
        return not sch.is_agent_down(lab.from_wall(agent.heartbeat_timestamp), lab.now(),
                                     self.options.agent_down_time)

    def _emit(self, log: tuple[sch.LogRecord, ...]) -> None:
        for record in log:
            LOG.log(record.level, record.message)

    # -- DHCP -------------------------------------------------------------------------------

    def _dhcp_bindings(self, session: Session) -> list[sch.NetworkBinding]:
        return [sch.NetworkBinding(b.network_id, b.agent_id, b.binding_index)
                for b in session.scalars(select(m.DhcpBinding))]

    def schedule_dhcp(self, session: Session, network_id: str) -> None:
        """Give a network with a DHCP subnet its DHCP agents (on subnet or port creation)."""
        network = session.get(m.Network, network_id)
        if network is None or not any(s.enable_dhcp for s in
                                      self.network.subnets_of(session, network_id)):
            return
        agents = self.records(session)
        changes = sch.schedule_network(
            sch.NetworkSpec(network.id, tuple(network.availability_zone_hints)), agents,
            self._dhcp_bindings(session), self.now(), self.options,
            hosts_with_network_access=sch.hosts_with_l2_agent(agents))
        self._apply_dhcp(session, changes)

    def add_network_to_agent(self, session: Session, agent_id: str, network_id: str) -> None:
        """An admin schedules a network to a DHCP agent by hand (neutron's
        add_network_to_dhcp_agent): an enabled DHCP agent not already serving it."""
        self.network.get_network(session, network_id)
        agent = self._agent(session, agent_id)
        if agent.agent_type != sch.AGENT_TYPE_DHCP or not agent.admin_state_up:
            raise ApiError(f"Agent {agent_id} is not a valid DHCP Agent or has been "
                           "disabled.", status=404, kind="InvalidDHCPAgent")
        bindings = self._dhcp_bindings(session)
        if any(b.network_id == network_id and b.agent_id == agent_id for b in bindings):
            raise ApiError(f"The network {network_id} has been already hosted by the DHCP "
                           f"Agent {agent_id}.", status=409, kind="NetworkHostedByDHCPAgent")
        index = 1 + max((b.binding_index for b in bindings if b.network_id == network_id),
                        default=0)
        self._apply_dhcp(session, sch.DhcpChanges(
            added=(sch.NetworkBinding(network_id, agent_id, index),)))

    def remove_network_from_agent(self, session: Session, agent_id: str,
                                  network_id: str) -> None:
        """An admin takes a network off a DHCP agent (neutron's
        remove_network_from_dhcp_agent); its DHCP port there goes with it."""
        self._agent(session, agent_id)
        binding = session.get(m.DhcpBinding, (network_id, agent_id))
        if binding is None:
            raise ApiError(f"The network {network_id} is not hosted by the DHCP Agent "
                           f"{agent_id}.", status=409, kind="NetworkNotHostedByDhcpAgent")
        self._apply_dhcp(session, sch.DhcpChanges(removed=(sch.NetworkBinding(
            network_id, agent_id, binding.binding_index),)))

    @staticmethod
    def _agent(session: Session, agent_id: str) -> m.Agent:
        agent = session.get(m.Agent, agent_id)
        if agent is None:
            raise ApiError(f"Agent {agent_id} could not be found.", status=404,
                           kind="AgentNotFound")
        return agent

    def notify_dhcp(self, session: Session, network_id: str, method: str,
                    payload: dict[str, Any]) -> None:
        cast_to_dhcp_agents(self.bus, session, network_id, method, payload)

    def active_networks(self, host: str) -> list[dict[str, Any]]:
        """The networks the host's DHCP agent serves, each with its subnets' ids (the
        server's side of ``get_active_networks_info``, which an agent asks when it starts
        or revives). As neutron's dhcp_rpc, the networks short of DHCP agents are first
        given to this one (``auto_schedule_networks``); it asks for their ports itself."""
        with self.db.session() as session:
            if self.options.network_auto_schedule:
                self._auto_schedule_networks(session, host)
                session.flush()
            network_ids = session.scalars(
                select(m.DhcpBinding.network_id)
                .join(m.Agent, m.Agent.id == m.DhcpBinding.agent_id)
                .where(m.Agent.host == host, m.Agent.agent_type == sch.AGENT_TYPE_DHCP)
                .order_by(m.DhcpBinding.network_id))
            return [{"id": network_id,
                     "subnets": [s.id for s in self.network.subnets_of(session, network_id)]}
                    for network_id in network_ids]

    def _auto_schedule_networks(self, session: Session, host: str) -> None:
        # Only networks with a DHCP subnet are scheduled (AutoScheduler reads the subnets).
        with_dhcp = set(session.scalars(select(m.Subnet.network_id).where(
            m.Subnet.enable_dhcp.is_(True))))
        networks = [sch.NetworkSpec(n.id, tuple(n.availability_zone_hints))
                    for n in session.scalars(select(m.Network).order_by(m.Network.id))
                    if n.id in with_dhcp]
        changes = sch.auto_schedule_networks(host, networks, self.records(session),
                                             self._dhcp_bindings(session), self.clock.now(),
                                             self.options)
        self._apply_dhcp(session, changes, notify_added=False)

    def _apply_dhcp(self, session: Session, changes: sch.DhcpChanges, *,
                    notify_added: bool = True) -> None:
        """Store a DHCP scheduling step and tell the agents (neutron's DhcpAgentNotifyAPI):
        a removed agent's port goes at once, an added agent asks for its own (unless it
        is the one asking: ``notify_added`` False)."""
        self._emit(changes.log)
        agents = {a.id: a for a in session.scalars(select(m.Agent))}
        for binding in changes.removed:
            row = session.get(m.DhcpBinding, (binding.network_id, binding.agent_id))
            if row is not None:
                session.delete(row)
            host = agents[binding.agent_id].host
            for port in session.scalars(select(m.Port).where(
                    m.Port.network_id == binding.network_id,
                    m.Port.device_id == dhcp_device_id(host, binding.network_id))):
                session.delete(port)
            self.bus.cast_nowait(Target(DHCP_AGENT_TOPIC, host), "network_delete_end",
                                 payload={"network_id": binding.network_id})
        session.flush()
        for binding in changes.added:
            session.add(m.DhcpBinding(network_id=binding.network_id, agent_id=binding.agent_id,
                                      binding_index=binding.binding_index))
            if notify_added:
                self.bus.cast_nowait(Target(DHCP_AGENT_TOPIC, agents[binding.agent_id].host),
                                     "network_create_end",
                                     payload={"network": {"id": binding.network_id}})

    def dhcp_port(self, network_id: str, host: str) -> str | None:
        """The port the host's dnsmasq answers on, one address on each DHCP subnet, made on
        the agent's request (``create_dhcp_port``); None unless the host's agent serves the
        network."""
        with self.db.session() as session:
            agent = session.scalar(select(m.Agent).where(
                m.Agent.host == host, m.Agent.agent_type == sch.AGENT_TYPE_DHCP))
            if agent is None or session.get(m.DhcpBinding, (network_id, agent.id)) is None:
                return None
            device = dhcp_device_id(host, network_id)
            found = session.scalar(select(m.Port.id).where(m.Port.device_id == device))
            if found is not None:
                return found
            network = session.get(m.Network, network_id)
            subnets = [s for s in self.network.subnets_of(session, network_id)
                       if s.enable_dhcp]
            if network is None or not subnets:
                return None
            port = self.network.create_port(session, network.project_id, {
                "network_id": network_id, "device_id": device, "device_owner": "network:dhcp",
                "binding:host_id": host, "security_groups": [],
                "fixed_ips": [{"subnet_id": s.id} for s in subnets]})
            return port.id

    def dhcp_failover(self) -> None:
        with self.db.session() as session:
            networks = [sch.NetworkSpec(n.id, tuple(n.availability_zone_hints))
                        for n in session.scalars(select(m.Network))]
            agents = self.records(session)
            changes = sch.remove_networks_from_down_agents(
                networks, agents, self._dhcp_bindings(session), self.now(),
                self.options, hosts_with_network_access=sch.hosts_with_l2_agent(agents))
            self._apply_dhcp(session, changes)

    # -- L3 ---------------------------------------------------------------------------------

    def l3_state(self, session: Session, agents: list[sch.AgentRecord]) -> sch.L3State:
        # Every L3 scheduling step plans from this state and writes in the same transaction
        # (VRIDs, binding indexes, a project's HA network): across processes sharing the
        # database the steps take turns, as the unique (project, VRID) key would otherwise
        # refuse the second and have it retried.
        serialize(session, "network:l3-scheduling")
        by_host = {a.host: a.id for a in agents if a.agent_type == sch.AGENT_TYPE_L3}
        bindings = tuple(sch.RouterBinding(b.router_id, b.agent_id, b.binding_index)
                         for b in session.scalars(select(m.RouterBinding)))
        # HA ports belong to no project (as neutron makes them); their router's counts.
        projects = dict(session.execute(select(m.Router.id, m.Router.project_id)).all())
        ha_ports = []
        rows = session.execute(
            select(m.Port.id, m.Port.device_id, m.Port.binding_host_id,
                   m.IPAllocation.ip_address)
            .join(m.IPAllocation, m.IPAllocation.port_id == m.Port.id, isouter=True)
            .where(m.Port.device_owner == sch.DEVICE_OWNER_ROUTER_HA_INTF))
        for port in rows:
            address = port.ip_address or ""
            agent_id = by_host.get(port.binding_host_id)
            if agent_id is not None:
                ha_ports.append(sch.HaPort(port.device_id, agent_id,
                                           projects.get(port.device_id, ""), address, port.id))
        vr_ids = tuple(sch.VrIdAllocation(v.project_id, v.router_id, v.vr_id)
                       for v in session.scalars(select(m.VrIdAllocation)))
        return sch.L3State(bindings, tuple(ha_ports), vr_ids)

    def _ha_network(self, session: Session, project_id: str) -> m.Network:
        spec = sch.ha_network_spec(project_id, self.options)
        found = session.scalar(select(m.Network).where(m.Network.name == spec.network_name))
        if found is not None:
            return found
        network = self.network.create_network(session, "", {"name": spec.network_name})
        session.flush()
        self.network.create_subnet(session, "", {
            "name": spec.subnet_name, "network_id": network.id, "ip_version": 4,
            "cidr": spec.cidr, "gateway_ip": None, "enable_dhcp": False})
        session.flush()
        return network

    def drop_ha_network_if_unused(self, session: Session, project_id: str) -> None:
        """neutron deletes a project's HA network with its last HA router."""
        if session.scalar(select(m.Router.id).where(m.Router.project_id == project_id,
                                                    m.Router.ha.is_(True))):
            return
        name = sch.ha_network_spec(project_id, self.options).network_name
        network = session.scalar(select(m.Network).where(m.Network.name == name))
        if network is not None:
            session.delete(network)

    def _spec(self, session: Session, router: m.Router) -> sch.RouterSpec:
        return sch.RouterSpec(router.id, router.project_id, ha=router.ha,
                              distributed=router.distributed,
                              availability_zone_hints=tuple(router.availability_zone_hints),
                              external_network_id=router.gw_network_id)

    def schedule_router(self, session: Session, router: m.Router) -> None:
        agents = self.records(session)
        if router.ha:
            self._ha_network(session, router.project_id)
        changes = sch.schedule_router(self._spec(session, router), agents,
                                      self.l3_state(session, agents), self.now(),
                                      self.options)
        self._apply_l3(session, changes, agents)

    def _apply_l3(self, session: Session, changes: sch.L3Changes,
                  agents: list[sch.AgentRecord]) -> None:
        """Store an L3 scheduling step (bindings, VRIDs, ha- ports), tell the agents added
        and removed (neutron's L3AgentNotifyAPI) and set the changed HA routers' keepalived
        up anew."""
        self._emit(changes.log)
        hosts = {a.id: a.host for a in agents}
        touched = {b.router_id for b in (*changes.added, *changes.removed)}
        for binding in changes.removed:
            row = session.get(m.RouterBinding, (binding.router_id, binding.agent_id))
            if row is not None:
                session.delete(row)
            self._tell_l3(hosts[binding.agent_id], "router_removed_from_agent",
                          payload={"router_id": binding.router_id})
        for ha_port in changes.removed_ha_ports:
            for port in session.scalars(select(m.Port).where(
                    m.Port.device_id == ha_port.router_id,
                    m.Port.device_owner == sch.DEVICE_OWNER_ROUTER_HA_INTF,
                    m.Port.binding_host_id == hosts.get(ha_port.agent_id, ""))):
                session.delete(port)
        session.flush()
        for binding in changes.added:
            session.add(m.RouterBinding(router_id=binding.router_id, agent_id=binding.agent_id,
                                        binding_index=binding.binding_index))
            self._tell_l3(hosts[binding.agent_id], "router_added_to_agent",
                          payload=[binding.router_id])
        for allocation in changes.added_vr_ids:
            session.add(m.VrIdAllocation(router_id=allocation.router_id,
                                         project_id=allocation.project_id,
                                         vr_id=allocation.vr_id))
        for ha_port in changes.added_ha_ports:
            ha_network = self._ha_network(session, ha_port.project_id)
            self.network.create_port(session, "", {
                "network_id": ha_network.id, "name": ha_port.name,
                "device_id": ha_port.router_id, "device_owner": ha_port.device_owner,
                "binding:host_id": hosts[ha_port.agent_id], "security_groups": [],
                "fixed_ips": [{"ip_address": ha_port.ip_address}]})
        for router_id, status in changes.router_status.items():
            router = session.get(m.Router, router_id)
            if router is not None:
                router.status = status
        session.flush()
        for router_id in sorted(touched):
            router = session.get(m.Router, router_id)
            if router is not None and router.ha:
                self.start_vrrp(session, router)
        # A distributed router's new agents run it: they ask for their fip- gateway ports.
        if any(router.distributed for router in (session.get(m.Router, i) for i in touched)
               if router is not None):
            self.ensure_fip_agent_gateway_ports(session)

    def l3_failover(self) -> None:
        """neutron's L3 rescheduling worker (allow_automatic_l3agent_failover)."""
        if not self.options.allow_automatic_l3agent_failover:
            return
        with self.db.session() as session:
            agents = self.records(session)
            routers = [self._spec(session, r) for r in session.scalars(select(m.Router))]
            changes = sch.reschedule_routers_from_down_agents(
                routers, agents, self.l3_state(session, agents), self.now(),
                self.options)
            self._apply_l3(session, changes, agents)

    def router_ids_on_host(self, host: str) -> list[str]:
        """The server's side of ``get_router_ids``, an L3 agent's full sync: the routers
        short of agents are first given to it if it can host them (neutron's
        ``auto_schedule_routers``: a router on no agent, an HA router on fewer than
        max_l3_agents_per_router of the live ones), then its routers are listed."""
        with self.db.session() as session:
            agents = self.records(session)
            if self.options.router_auto_schedule:
                routers = [self._spec(session, r) for r in session.scalars(
                    select(m.Router).order_by(m.Router.created_at, m.Router.id))]
                changes = sch.auto_schedule_routers(host, routers, agents,
                                                    self.l3_state(session, agents),
                                                    self.clock.now(), self.options)
                self._apply_l3(session, changes, agents)
                session.flush()
            self.ensure_fip_agent_gateway_ports(session)
            return sorted(session.scalars(
                select(m.RouterBinding.router_id)
                .join(m.Agent, m.Agent.id == m.RouterBinding.agent_id)
                .where(m.Agent.host == host, m.Agent.agent_type == sch.AGENT_TYPE_L3)))

    def unschedule_router(self, session: Session, router_id: str) -> None:
        self.stop_vrrp(router_id)
        hosts = {a.id: a.host for a in session.scalars(select(m.Agent))}
        for binding in session.scalars(select(m.RouterBinding).where(
                m.RouterBinding.router_id == router_id)):
            session.delete(binding)
            self._tell_l3(hosts[binding.agent_id], "router_removed_from_agent",
                          payload={"router_id": router_id})
        for port in session.scalars(select(m.Port).where(
                m.Port.device_id == router_id,
                m.Port.device_owner == sch.DEVICE_OWNER_ROUTER_HA_INTF)):
            session.delete(port)
        allocation = session.get(m.VrIdAllocation, router_id)
        if allocation is not None:
            session.delete(allocation)

    # -- DVR ----------------------------------------------------------------------------------

    def dvr_namespaces(self, session: Session, host: str | None = None) -> dict[str, list[str]]:
        """Where the distributed routers' namespaces are (``qrouter-``, ``snat-``,
        ``fip-``), by host: every host, or only ``host``'s bound ports counted."""
        routers = list(session.scalars(select(m.Router).where(m.Router.distributed.is_(True))
                                       .order_by(m.Router.id)))
        if not routers:
            return {}
        specs = []
        for router in routers:
            subnets = tuple(sorted(set(session.scalars(
                select(m.IPAllocation.subnet_id)
                .join(m.Port, m.Port.id == m.IPAllocation.port_id)
                .where(m.Port.device_id == router.id,
                       m.Port.device_owner == sch.DEVICE_OWNER_DVR_INTERFACE)))))
            specs.append(sch.RouterSpec(router.id, router.project_id, ha=router.ha,
                                        distributed=True,
                                        external_network_id=router.gw_network_id,
                                        interface_subnet_ids=subnets))
        bound = select(m.Port).where(m.Port.binding_host_id != "")
        if host is not None:
            bound = bound.where(m.Port.binding_host_id == host)
        placements = [sch.PortPlacement(port.id, port.binding_host_id, port.device_owner,
                                        tuple(a.subnet_id for a in session.scalars(
                                            select(m.IPAllocation).where(
                                                m.IPAllocation.port_id == port.id))))
                      for port in session.scalars(bound.order_by(m.Port.id))]
        records = self.records(session)
        found = sch.namespaces_by_host(specs, records, self.l3_state(session, records),
                                       placements, self.options)
        return found if host is None else {host: found.get(host, [])}

    def ensure_fip_agent_gateway_ports(self, session: Session) -> None:
        """Each DVR host wired to an external network's fip- namespace has its floating IP
        agent gateway port there (its ``fg-`` device), made once and kept.

        neutron's L3 agent asks for it (``get_agent_gateway_port``) when it runs a
        distributed router with a gateway; the server makes it
        (``create_fip_agent_gw_port_if_not_exists``: no project, no name, device_id the
        agent, bound to its host). Here the server does it on the agents' behalf when
        they would be told of such a router: its gateway or an interface added, a DVR
        host's port wired, an agent given the router or syncing.
        """
        session.flush()
        l3_agents = {a.host: a for a in session.scalars(select(m.Agent).where(
            m.Agent.agent_type == sch.AGENT_TYPE_L3))}
        for host, names in self.dvr_namespaces(session).items():
            agent = l3_agents.get(host)
            for name in names:
                kind, _, network_id = name.partition("-")
                if kind != "fip" or agent is None:
                    continue
                if session.scalar(select(m.Port.id).where(
                        m.Port.network_id == network_id, m.Port.device_id == agent.id,
                        m.Port.device_owner == sch.DEVICE_OWNER_AGENT_GW)) is None:
                    LOG.info("Floating IP Agent Gateway port for network %s does not exist "
                             "on host %s. Creating one.", network_id, host)
                    self.network.create_port(session, "", {
                        "network_id": network_id, "device_id": agent.id,
                        "device_owner": sch.DEVICE_OWNER_AGENT_GW, "name": "",
                        "binding:host_id": host, "security_groups": []})
                    session.flush()

    def dvr_port_up(self, port_id: str, host: str) -> None:
        """A port wired on a DVR host (``update_device_up``): neutron's
        dvr_handle_new_service_port tells that host's L3 agent of the routers on its
        subnets, which then asks for its fip- gateway port."""
        with self.db.session() as session:
            port = session.get(m.Port, port_id)
            if port is not None and port.binding_host_id == host and \
                    sch.is_dvr_serviced(port.device_owner, self.options) and \
                    session.scalar(select(m.Router.id).where(m.Router.distributed.is_(True))):
                self.ensure_fip_agent_gateway_ports(session)

    # -- VRRP ---------------------------------------------------------------------------------

    def start_vrrp(self, session: Session, router: m.Router) -> None:
        """Set up the router's keepalived as neutron configures it, then tell its hosting
        L3 agents (``routers_updated``): each starts its own node's instance."""
        agents = self.records(session)
        specs = sch.vrrp_instances(self._spec(session, router), agents,
                                   self.l3_state(session, agents), self.options,
                                   ha_vrrp_advert_int=self.advert_int)
        self.keepalived.configure(router.id, specs)
        for host in sorted({spec.host for spec in specs}):
            self._tell_l3(host, "routers_updated", routers=[router.id])

    def store_ha_states(self, host: str, states: Mapping[str, str]) -> None:
        """The server's side of update_ha_routers_states: the host's agent's bindings."""
        with self.db.session() as session:
            agent_id = session.scalar(select(m.Agent.id).where(
                m.Agent.host == host, m.Agent.agent_type == sch.AGENT_TYPE_L3))
            for router_id, state in states.items():
                binding = session.get(m.RouterBinding, (router_id, agent_id or ""))
                if binding is not None:
                    binding.ha_state = state

    def hosted_routers(self, host: str, router_ids: list[str] | None = None,
                       vrrp: bool = False) -> list[dict[str, Any]]:
        """The routers bound to the host's L3 agent (of ``router_ids`` only, when given),
        each with the HA state the server holds for that binding (the server's side of
        ``sync_routers``, a starting agent's full sync; neutron's router dicts carry it as
        ``_ha_state``). With ``vrrp``, an HA router's keepalived instance on the host
        (``vrrp``: ``spec_to_wire``), as neutron's router dicts carry its HA port and
        VRID for the agent to write keepalived.conf."""
        with self.db.session() as session:
            query = (select(m.Router.id, m.Router.ha, m.RouterBinding.ha_state)
                     .join(m.RouterBinding, m.RouterBinding.router_id == m.Router.id)
                     .join(m.Agent, m.Agent.id == m.RouterBinding.agent_id)
                     .where(m.Agent.host == host, m.Agent.agent_type == sch.AGENT_TYPE_L3)
                     .order_by(m.Router.id))
            if router_ids is not None:
                query = query.where(m.Router.id.in_(router_ids))
            found = [{"id": router_id, "ha": bool(ha), "ha_state": state}
                     for router_id, ha, state in session.execute(query)]
            if vrrp and any(router["ha"] for router in found):
                agents = self.records(session)
                state = self.l3_state(session, agents)
                for router in found:
                    row = session.get(m.Router, router["id"])
                    if not router["ha"] or row is None:
                        continue
                    specs = sch.vrrp_instances(self._spec(session, row), agents, state,
                                               self.options,
                                               ha_vrrp_advert_int=self.advert_int)
                    mine = [spec_to_wire(s) for s in specs if s.host == host]
                    router["vrrp"] = mine[0] if mine else None
            return found

    def stop_vrrp(self, router_id: str) -> None:
        self.keepalived.remove(router_id)

    @property
    def segments(self) -> dict[str, VrrpGroup]:
        return self.keepalived.segments

    def start_all(self) -> None:
        """At start: keepalived for every HA router, as the L3 agents resync."""
        with self.db.session() as session:
            for router in session.scalars(select(m.Router).where(m.Router.ha.is_(True))):
                self.start_vrrp(session, router)

    def _tell_l3(self, host: str, method: str, **kwargs: Any) -> None:
        self.bus.cast_nowait(Target(L3_AGENT_TOPIC, host), method, **kwargs)

    def ha_states(self, session: Session, router_id: str) -> dict[str, str]:
        """agent id -> the ha_state neutron shows (dead agents' actives become standby, or
        unknown when every hosting agent is dead)."""
        bindings = list(session.scalars(select(m.RouterBinding).where(
            m.RouterBinding.router_id == router_id)))
        agents = {a.id: a for a in session.scalars(select(m.Agent))}
        dead = [b for b in bindings if not self.alive(agents[b.agent_id])]
        states = {b.agent_id: b.ha_state for b in bindings}
        if dead:
            fallback = "unknown" if len(dead) == len(bindings) else "standby"
            for binding in dead:
                if binding.ha_state == "active":
                    states[binding.agent_id] = fallback
        return states


def dhcp_device_id(host: str, network_id: str) -> str:
    """neutron's DHCP port device id: ``dhcp<uuid5 of the short host name>-<network id>``."""
    return f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host.split('.')[0])}-{network_id}"
