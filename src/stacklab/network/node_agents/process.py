"""One neutron agent process on a node: it consumes its topics and reports its state.

Every ``report_interval`` seconds the agent sends ``report_state`` to neutron-server
(``q-reports-plugin``) with what it is (type, binary, host, topic, zone,
configurations) and ``start_flag`` until a report after the process started got
through. A node that is down runs no process: its agents neither send nor, through
the bus (which pauses the node's listeners), receive; when the node comes back they
start again and report at once. Whether the node is up is the lab runtime's answer.

What an agent holds in memory goes with its node. An agent that has something to
resync (``Resyncing``: the DHCP, L2 and L3 agents) reports with a call, as neutron's
do, and reads the answer: once its first report after a start got through, or when
the server says it ``revived`` (its heartbeat had gone stale), it asks the server
for what it should hold (neutron's DHCP agent's sync_state, the L2 and L3 agents'
full sync). That is also when the server gives it the networks and routers left
short of agents (``auto_schedule_networks``, ``auto_schedule_routers``).

A process can also be stopped alone (``systemctl stop neutron-l3-agent``): it stops
reporting, and the bus pauses its RPC servers, but what it set up on the node stays
(the DHCP agent's dnsmasq keeps serving, the L3 agent's routers and their keepalived
keep running, the L2 agent's flows keep forwarding). Started again, it reports at once
with ``start_flag`` and resyncs, as after a power cycle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from stacklab.bus.interface import Bus, Listener, Target, loop_running, on_host
from stacklab.clock import Clock, isotime
from stacklab.network.keepalived import Keepalived
from stacklab.network.scheduling.constants import AGENT_REVIVED
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
    # Whether a process (a binary) runs on a host now: powered and not stopped. Without
    # it, an agent runs whenever its host is up.
    running: Callable[[str, str], bool] | None = None

    def runs(self, host: str, binary: str) -> bool:
        return self.running(host, binary) if self.running is not None else self.host_up(host)

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
        # The process's own work in flight (a report waiting for its answer, a resync);
        # it dies with the process.
        self._tasks: set[asyncio.Task[None]] = set()
        self._reporting: asyncio.Task[None] | None = None

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

    @property
    def running(self) -> bool:
        """Whether the process runs now (its node powered, the process not stopped)."""
        return self.env.runs(self.host, self.endpoint.binary)

    def report(self) -> bool:
        """Send one report, unless the process does not run or the last one still waits
        for its answer (neutron's looping call runs one report at a time); whether one
        left."""
        if self.stopped or not self.running:
            return False
        if self._reporting is not None and not self._reporting.done():
            return False
        agent = self.endpoint
        state = {"binary": agent.binary, "host": agent.host, "topic": agent.topic,
                 "agent_type": agent.agent_type, "start_flag": self.starting,
                 "availability_zone": None, "configurations": {}, **agent.state()}
        message: dict[str, Any] = {"agent_state": {"agent_state": state},
                   "time": isotime(self.env.clock.now())}
        # Sent from the agent's node, over its connection to the broker.
        with on_host(self.host):
            if isinstance(agent, Resyncing) and loop_running():
                self._reporting = self._spawn(self._report_and_resync(message, self.starting))
            else:
                # Outside any event loop (the cloud's first reports) nobody reads an answer.
                self.env.bus.cast_nowait(Target(REPORTS_TOPIC), "report_state", **message)
                self.starting = False
        return True

    async def _report_and_resync(self, message: dict[str, Any], starting: bool) -> None:
        try:
            status = await self.env.bus.call(Target(REPORTS_TOPIC), "report_state", **message)
        except Exception as exc:
            # A MessagingTimeout (no server connected, the broker paused) or the server's
            # error (its database out of reach): neutron keeps start_flag for the next
            # report, which retries.
            LOG.error("Failed reporting state! (%s on %s: %s)", self.endpoint.binary,
                      self.host, type(exc).__name__)
            return
        self.starting = False
        if status == AGENT_REVIVED and not starting:
            LOG.info("Agent has just been revived. Doing a full sync. (%s on %s)",
                     self.endpoint.binary, self.host)
        if (starting or status == AGENT_REVIVED) and isinstance(self.endpoint, Resyncing):
            self._spawn(self.endpoint.resync())

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def died(self) -> None:
        """The node lost power: the process, its memory and its work in flight are gone."""
        for task in list(self._tasks):
            task.cancel()
        self._reporting = None
        if isinstance(self.endpoint, Resyncing):
            self.endpoint.forget()

    def halted(self) -> None:
        """The process alone was stopped: it falls silent (no reports; the bus pauses its
        RPC servers) and its work in flight ends, but what it set up on the node keeps
        working."""
        LOG.info("%s on %s stopped", self.endpoint.binary, self.host)
        for task in list(self._tasks):
            task.cancel()
        self._reporting = None

    def restarted(self) -> None:
        """The node is back, or the process started again: a new process, whose first
        report says it started (and, once the server has it, makes the agent resync)."""
        self.starting = True
        if not loop_running() and isinstance(self.endpoint, Resyncing):
            LOG.debug("No event loop: %s on %s does not resync", self.endpoint.binary,
                      self.host)
        self.report()

    async def run(self) -> None:
        """Report every report_interval (neutron's FixedIntervalLoopingCall)."""
        while not self.stopped:
            await self.env.lab_clock.sleep(self.env.report_interval)
            self.report()
