"""The virtual driver's cheap look at what the sampler follows says what the full
``/stacklab/v1/ha`` answer says, before and after a failover."""

from __future__ import annotations

import asyncio
from typing import Any

from stacklab.scenarios.driver import VirtualDriver, sampled
from stacklab.scenarios.run import in_virtual_time, virtual_cloud


def test_sample_agrees_with_the_full_ha_answer() -> None:
    cloud, clock = virtual_cloud()

    async def body(driver: VirtualDriver) -> list[tuple[Any, Any]]:
        seen = []
        for _ in range(2):
            full = (await driver.ha("")).body
            brief = (await driver.sample("")).body
            seen.append((sampled(full), brief))
            cloud.node_down("proxy1.openstack.local")  # the VIP moves to proxy2
            await clock.run_for(10)
        return seen

    looks = asyncio.run(in_virtual_time(cloud, clock, body))
    for full, brief in looks:
        assert brief == full
    assert looks[0][1]["holder"] != looks[1][1]["holder"]
    assert looks[1][1]["rabbit_serving"]
