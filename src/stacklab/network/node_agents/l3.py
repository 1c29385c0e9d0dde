"""neutron-l3-agent: runs the routers the server schedules to it, and their keepalived.

It consumes ``l3_agent.<host>``: ``router_added_to_agent``, ``routers_updated`` and
``router_removed_from_agent``, as neutron's L3 agent notifier casts them. For an HA
router it starts its node's keepalived instance (the server sets the router's
segment up); each state change of that instance is batched for
``ha_vrrp_advert_int`` (neutron's BatchNotifier) and then sent to the server with
``update_ha_routers_states`` on ``q-l3-plugin``: active or standby.

Its state is lost with its node's power. When it starts again (its node powered back
on, the process restarted, or the server says it revived) it does neutron's full sync:
``get_router_ids`` on ``q-l3-plugin``, for which the server first gives it the routers
short of agents (``auto_schedule_routers``); it runs each router again, which starts its
node's keepalived instances that do not run (a restart of the agent alone leaves a
running keepalived alone: no failover); then ``sync_routers`` gives the HA state the
server holds for each, and it reports those its keepalived says otherwise of (neutron's
``check_ha_state_for_router``). While the process is stopped its keepalived keeps
running, but the transitions it sees are not reported: the agent that would relay them
is not there.

With ``stacklab up --processes`` the agent runs in its node's agents process, apart
from the server, whose keepalived set-up it cannot share (``Keepalived.distributed``):
told of routers, it asks the server for them (``sync_routers`` with their ids) and
configures its own node's instance of each HA router from what it hears (neutron's
agent writes keepalived.conf from the router's HA port and VRID the same way); a router
taken off it stops its instance there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from stacklab.bus.interface import Bus, MessagingTimeout, Target
from stacklab.ha.vrrp import Transition, VrrpState
from stacklab.network.keepalived import Keepalived, spec_from_wire
from stacklab.network.node_agents.fip_link_local import FipLinkLocalAllocator
from stacklab.network.scheduling.constants import (
    AGENT_TYPE_L3,
    DEFAULT_AVAILABILITY_ZONE,
    L3_AGENT_MODE,
)
from stacklab.network.topics import L3_AGENT_TOPIC, L3_PLUGIN_TOPIC

LOG = logging.getLogger("neutron.agent.l3.agent")

# What neutron shows of keepalived's states (a stopped instance says nothing).
HA_STATES = {VrrpState.MASTER: "active", VrrpState.BACKUP: "standby",
             VrrpState.FAULT: "standby", VrrpState.INIT: "standby"}
# A starting agent finds a router's keepalived not running: neutron's
# _check_and_set_real_state resets the state file to backup.
NOT_RUNNING_STATE = "standby"


class L3Agent:
    binary = "neutron-l3-agent"
    agent_type = AGENT_TYPE_L3
    topic = L3_AGENT_TOPIC

    def __init__(self, host: str, bus: Bus, agent_mode: str, keepalived: Keepalived, *,
                 advert_int: float, running: Callable[[str], bool]) -> None:
        self.host = host
        self.bus = bus
        self.agent_mode = agent_mode
        self.keepalived = keepalived
        self.advert_int = advert_int
        # Whether this agent's process runs now (its node powered, the agent not stopped).
        self.running = running
        # The routers this agent runs (a qrouter- namespace each).
        self.routers: set[str] = set()
        # DVR's qrouter- to fip- link-local pairs, kept on the node's disk (not forgotten).
        self.fip_link_local = FipLinkLocalAllocator()
        keepalived.listen(host, self._state_changed)

    def state(self) -> dict[str, Any]:
        return {"availability_zone": DEFAULT_AVAILABILITY_ZONE,
                "configurations": {L3_AGENT_MODE: self.agent_mode}}

    def consumes(self) -> list[Target]:
        return [Target(L3_AGENT_TOPIC, self.host)]

    # -- what the server casts -----------------------------------------------------------

    def router_added_to_agent(self, payload: Iterable[str]) -> Awaitable[None] | None:
        return self._process(payload)

    def routers_updated(self, routers: Iterable[str]) -> Awaitable[None] | None:
        return self._process(routers)

    def router_removed_from_agent(self, payload: dict[str, str]) -> None:
        router_id = payload["router_id"]
        self.routers.discard(router_id)
        if self.keepalived.distributed:
            # Its own keepalived for the router goes (a master says goodbye).
            self.keepalived.configure(router_id, [])
        LOG.info("Router %s removed from %s", router_id, self.host)

    # -- after a start ---------------------------------------------------------------------

    def forget(self) -> None:
        self.routers.clear()

    async def resync(self) -> None:
        """neutron's full sync: the router ids (after auto-scheduling), each router run
        again, then the HA states the server has wrong reported."""
        try:
            router_ids = await self.bus.call(Target(L3_PLUGIN_TOPIC), "get_router_ids",
                                             host=self.host)
        except MessagingTimeout:
            LOG.error("Full sync of %s failed: the server did not answer", self.host)
            return
        for router_id in [r for r in self.routers if r not in router_ids]:
            self.router_removed_from_agent({"router_id": router_id})
        if self.keepalived.distributed:
            await self._configure(router_ids)
        else:
            self._process(router_ids)
        try:
            routers = await self.bus.call(Target(L3_PLUGIN_TOPIC), "sync_routers",
                                          host=self.host)
        except MessagingTimeout:
            LOG.error("Full sync of %s failed: the server did not answer", self.host)
            return
        LOG.info("Full sync of %s: %d routers", self.host, len(self.routers))
        for router in routers:
            found = self.keepalived.state(router["id"], self.host) if router["ha"] else None
            if found is None:
                continue
            local = HA_STATES.get(found, NOT_RUNNING_STATE)
            if local != router["ha_state"]:
                # As a transition would: through the batched notifier (enqueue_state_change).
                self._enqueue(router["id"], local)

    # -- plumbing --------------------------------------------------------------------------

    def _process(self, router_ids: Iterable[str]) -> Awaitable[None] | None:
        if self.keepalived.distributed:
            # The bus awaits it: the routers' keepalived comes from the server's answer.
            return self._configure(list(router_ids))
        for router_id in router_ids:
            self.routers.add(router_id)
            self.keepalived.ensure(router_id, self.host)
        return None

    async def _configure(self, router_ids: list[str]) -> None:
        """Ask the server for the routers, set up this node's keepalived instance of each
        HA one (a router no longer HA loses its instance) and run them. A router the
        server no longer gives this host is left to its removal's cast."""
        try:
            routers = await self.bus.call(Target(L3_PLUGIN_TOPIC), "sync_routers",
                                          host=self.host, router_ids=router_ids, vrrp=True)
        except MessagingTimeout:
            LOG.error("Sync of routers %s on %s failed: the server did not answer",
                      router_ids, self.host)
            return
        found = {router["id"]: router for router in routers}
        for router_id in router_ids:
            router = found.get(router_id)
            if router is None:
                # No longer this host's (removed meanwhile): its removal says so.
                continue
            vrrp = router.get("vrrp")
            self.keepalived.configure(router_id, [spec_from_wire(vrrp)] if vrrp else [])
            self.routers.add(router_id)
            self.keepalived.ensure(router_id, self.host)

    def _state_changed(self, router_id: str, transition: Transition) -> None:
        state = HA_STATES.get(transition.new)
        if state is not None:
            self._enqueue(router_id, state)

    def _enqueue(self, router_id: str, state: str) -> None:
        self.keepalived.clock.call_later(self.advert_int,
                                         lambda: self._notify_server(router_id, state))

    def _notify_server(self, router_id: str, state: str) -> None:
        # A node that lost power meanwhile took its agent with it, and a stopped agent is not
        # there to relay what its keepalived saw: nothing is sent.
        if self.running(self.host):
            self.bus.cast_nowait(Target(L3_PLUGIN_TOPIC), "update_ha_routers_states",
                                 host=self.host, states={router_id: state})
