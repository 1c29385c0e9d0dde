"""An HA router's keepalived in two processes' worth of buses on a real RabbitMQ: each
side holds its own node's instance and their adverts cross the broker (``BusAdverts``),
as the network nodes' agents processes of ``stacklab up --processes`` do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from stacklab.bus.rabbit import RabbitBus
from stacklab.clock import RealClock
from stacklab.ha.vrrp import VrrpConfig, VrrpState
from stacklab.network.keepalived import BusAdverts, Keepalived
from stacklab.network.scheduling.records import VrrpInstanceSpec
from support.broker import scratch_vhost

pytestmark = pytest.mark.timeout(60)

NETWORK1 = "network1.openstack.local"
NETWORK2 = "network2.openstack.local"
ROUTER = "r-rabbit"
# VRRPv3 allows centisecond adverts: an election takes under half a second.
CONFIG = VrrpConfig(vrid=1, priority=50, advert_int=0.1, version=3, nopreempt=True)


async def until(done: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the time given")


def test_two_processes_elect_one_master_over_the_broker_and_fail_over() -> None:
    async def main(url: str) -> None:
        powered = {NETWORK1: True, NETWORK2: True}
        buses: list[RabbitBus] = []
        sides: dict[str, Keepalived] = {}
        try:
            for host, address in ((NETWORK1, "169.254.192.1"), (NETWORK2, "169.254.192.2")):
                bus = RabbitBus(url, rpc_response_timeout=5)
                buses.append(bus)
                transport = BusAdverts(bus, [host])
                keepalived = Keepalived(RealClock(), powered.__getitem__,
                                        reachable=lambda a, b: True, transport=transport)
                transport.start(keepalived)
                await bus.drain()
                keepalived.configure(ROUTER, [VrrpInstanceSpec(
                    ROUTER, f"agent-{host}", host, address, "ha-1", "169.254.0.1/24",
                    CONFIG)])
                sides[host] = keepalived

            def masters() -> list[str]:
                return [h for h, k in sides.items() if k.state(ROUTER, h) is VrrpState.MASTER]

            for host, keepalived in sides.items():
                assert keepalived.ensure(ROUTER, host)
            await until(lambda: len(masters()) == 1)
            # Held: the backup keeps hearing its master through the broker.
            await asyncio.sleep(1.0)
            (master,) = masters()
            backup = NETWORK2 if master == NETWORK1 else NETWORK1
            assert sides[backup].state(ROUTER, backup) is VrrpState.BACKUP
            # The master's process dies with its keepalived: the other takes over.
            powered[master] = False
            sides[master].host_down(master)
            await until(lambda: masters() == [backup])
        finally:
            for bus in buses:
                await bus.aclose()

    with scratch_vhost() as url:
        asyncio.run(main(url))
