"""neutron-l3-agent: runs the routers the server schedules to it.

It consumes ``l3_agent.<host>``: ``router_added_to_agent``, ``routers_updated`` and
``router_removed_from_agent``, as neutron's L3 agent notifier casts them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from stacklab.bus.interface import Bus, Target
from stacklab.network.scheduling.constants import (
    AGENT_TYPE_L3,
    DEFAULT_AVAILABILITY_ZONE,
    L3_AGENT_MODE,
)
from stacklab.network.topics import L3_AGENT_TOPIC

LOG = logging.getLogger("neutron.agent.l3.agent")


class L3Agent:
    binary = "neutron-l3-agent"
    agent_type = AGENT_TYPE_L3
    topic = L3_AGENT_TOPIC

    def __init__(self, host: str, bus: Bus, agent_mode: str) -> None:
        self.host = host
        self.bus = bus
        self.agent_mode = agent_mode
        # The routers this agent runs (a qrouter- namespace each).
        self.routers: set[str] = set()

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

    def _process(self, router_ids: Iterable[str]) -> None:
        for router_id in router_ids:
            self.routers.add(router_id)
