"""One neutron agent process on a node: it consumes its topics and reports its state.

Every ``report_interval`` seconds the agent casts ``report_state`` to neutron-server
(``q-reports-plugin``) with what it is (type, binary, host, topic, zone,
configurations) and ``start_flag`` on the first report after the process started.
A node that is down runs no process: its agents neither send nor, through the bus
(which pauses the node's listeners), receive; when the node comes back they start
again and report at once. Whether the node is up is the lab runtime's answer.

What an agent holds in memory goes with its node; a restarted agent that has
something to resync (``Resyncing``) asks the server for it after its first report,
as neutron's DHCP and L2 agents do after a start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from stacklab.bus.interface import Bus, Listener, Target
from stacklab.clock import Clock, isotime
from stacklab.network.keepalived import Keepalived
from stacklab.network.topics import REPORTS_TOPIC

LOG = logging.getLogger("neutron.agent.rpc")


@dataclass(frozen=True)
class AgentEnv:
    """What every agent process of the lab shares."""

    bus: Bus
    clock: Clock
    host_up: Callable[[str], bool]
    report_interval: float
    # The HA routers' keepalived, which the L3 agents run ([DEFAULT] ha_vrrp_advert_int).
    keepalived: Keepalived
    ha_vrrp_advert_int: float

    @property
    def lab_clock(self) -> Clock:
        """The lab's time ([stacklab] ha_time_scale), keepalived's: the agents' timers run
        on it; ``clock`` stamps what they send."""
        return self.keepalived.clock


class AgentEndpoint(Protocol):
    """The part of an agent that the bus calls: its RPC methods, plus what it reports."""

    binary: str
    agent_type: str
    topic: str
    host: str

    def state(self) -> dict[str, Any]:
        """``availability_zone`` and ``configurations`` as the agent reports them."""

    def consumes(self) -> list[Target]:
        """The targets the agent listens on (none for an agent that only reports)."""


@runtime_checkable
class Resyncing(Protocol):
    """An agent whose state is rebuilt from the server when its process starts again."""

    def forget(self) -> None:
        """Drop what the process held in memory (its node lost power)."""

    async def resync(self) -> None:
        """Ask the server for what this agent should hold, and hold it."""


class AgentProcess:
    def __init__(self, endpoint: AgentEndpoint, env: AgentEnv) -> None:
        self.endpoint = endpoint
        self.env = env
        self.starting = True
        self.listeners: list[Listener] = []
        self.stopped = False
        self._resyncing: set[asyncio.Task[None]] = set()

    @property
    def host(self) -> str:
        return self.endpoint.host

    def start(self) -> None:
        """Consume the agent's topics (paused by the bus while the node is down)."""
        self.listeners = [self.env.bus.listen(target, self.endpoint)
                          for target in self.endpoint.consumes()]

    def stop(self) -> None:
        self.stopped = True
        for listener in self.listeners:
            listener.stop()
        self.listeners = []

    def report(self) -> bool:
        """Send one report, unless the node is down; whether one left."""
        if self.stopped or not self.env.host_up(self.host):
            return False
        agent = self.endpoint
        state = {"binary": agent.binary, "host": agent.host, "topic": agent.topic,
                 "agent_type": agent.agent_type, "start_flag": self.starting,
                 "availability_zone": None, "configurations": {}, **agent.state()}
        self.env.bus.cast_nowait(Target(REPORTS_TOPIC), "report_state",
                                 agent_state={"agent_state": state},
                                 time=isotime(self.env.clock.now()))
        self.starting = False
        return True

    def died(self) -> None:
        """The node lost power: the process and its memory are gone."""
        if isinstance(self.endpoint, Resyncing):
            self.endpoint.forget()

    def restarted(self) -> None:
        """The node is back: a new process, whose first report says it started, and which
        then resyncs with the server."""
        self.starting = True
        self.report()
        if not isinstance(self.endpoint, Resyncing):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            LOG.debug("No event loop: %s on %s does not resync", self.endpoint.binary,
                      self.host)
            return
        task = loop.create_task(self.endpoint.resync())
        self._resyncing.add(task)
        task.add_done_callback(self._resyncing.discard)

    async def run(self) -> None:
        """Report every report_interval (neutron's FixedIntervalLoopingCall)."""
        while not self.stopped:
            await self.env.lab_clock.sleep(self.env.report_interval)
            self.report()
