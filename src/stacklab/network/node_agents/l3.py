"""neutron-l3-agent: runs the routers the server schedules to it, and their keepalived.

It consumes ``l3_agent.<host>``: ``router_added_to_agent``, ``routers_updated`` and
``router_removed_from_agent``, as neutron's L3 agent notifier casts them. For an HA
router it starts its node's keepalived instance (the server sets the router's
segment up); each state change of that instance is batched for
``ha_vrrp_advert_int`` (neutron's BatchNotifier) and then sent to the server with
``update_ha_routers_states`` on ``q-l3-plugin``: active or standby.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from stacklab.bus.interface import Bus, Target
from stacklab.ha.vrrp import Transition, VrrpState
from stacklab.network.keepalived import Keepalived
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


class L3Agent:
    binary = "neutron-l3-agent"
    agent_type = AGENT_TYPE_L3
    topic = L3_AGENT_TOPIC

    def __init__(self, host: str, bus: Bus, agent_mode: str, keepalived: Keepalived, *,
                 advert_int: float, powered: Callable[[str], bool]) -> None:
        self.host = host
        self.bus = bus
        self.agent_mode = agent_mode
        self.keepalived = keepalived
        self.advert_int = advert_int
        self.powered = powered
        # The routers this agent runs (a qrouter- namespace each).
        self.routers: set[str] = set()
        keepalived.listen(host, self._state_changed)

    def state(self) -> dict[str, Any]:
        return {"availability_zone": DEFAULT_AVAILABILITY_ZONE,
                "configurations": {L3_AGENT_MODE: self.agent_mode}}

    def consumes(self) -> list[Target]:
        return [Target(L3_AGENT_TOPIC, self.host)]

    # -- what the server casts -----------------------------------------------------------

    def router_added_to_agent(self, payload: Iterable[str]) -> None:
        self._process(payload)

    def routers_updated(self, routers: Iterable[str]) -> None:
        self._process(routers)

    def router_removed_from_agent(self, payload: dict[str, str]) -> None:
        router_id = payload["router_id"]
        self.routers.discard(router_id)
        LOG.info("Router %s removed from %s", router_id, self.host)

    # -- plumbing --------------------------------------------------------------------------

    def _process(self, router_ids: Iterable[str]) -> None:
        for router_id in router_ids:
            self.routers.add(router_id)
            self.keepalived.ensure(router_id, self.host)

    def _state_changed(self, router_id: str, transition: Transition) -> None:
        state = HA_STATES.get(transition.new)
        if state is None:
            return
        self.keepalived.clock.call_later(self.advert_int,
                                         lambda: self._notify_server(router_id, state))

    def _notify_server(self, router_id: str, state: str) -> None:
        # A node that lost power meanwhile took its agent with it: nothing is sent.
        if self.powered(self.host):
            self.bus.cast_nowait(Target(L3_PLUGIN_TOPIC), "update_ha_routers_states",
                                 host=self.host, states={router_id: state})
