"""The two runners: in-process in virtual time, and live against a running cloud.

``run_virtual`` builds the lab the scenario requires in this process (an ephemeral,
seeded cloud on a ``VirtualClock``, its nodes living their own life: heartbeats,
keepalived, HAProxy's checks, Galera), and lets lab time pass only as the scenario says:
an hour of lab time takes seconds. ``run_live`` drives a running cloud over its API in
real time. Both hand the same steps to ``Runner``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from stacklab.scenarios.driver import LiveDriver, VirtualDriver
from stacklab.scenarios.format import Scenario
from stacklab.scenarios.probe import Credentials
from stacklab.scenarios.runner import Report, Runner, ScenarioFailed


def virtual_cloud(scenario_requires: dict[str, Any] | Any = None, *, seed: int = 7) -> Any:
    """An ephemeral lab on a virtual clock with what the scenario requires (not started)."""
    from stacklab.clock import VirtualClock
    from stacklab.cloud import Cloud
    from stacklab.config import Config, lab_defaults
    from stacklab.topology.loader import default_lab_data, topology_from_data

    requires = dict(scenario_requires or {})
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    config.stacklab.seed = seed
    for name, value in requires.get("config", {}).items():
        if not config.has_option("DEFAULT", name):
            raise ScenarioFailed(f"requires.config: no [DEFAULT] option {name}")
        config.set("DEFAULT", name, value)
    data = default_lab_data()
    if requires.get("dvr"):
        data["dvr"] = True
    topology = topology_from_data(data, source="lab (scenario)")
    clock = VirtualClock()
    return Cloud(config, clock=clock, topology=topology), clock


async def in_virtual_time(cloud: Any, clock: Any,
                          body: Callable[[VirtualDriver], Awaitable[Any]]) -> Any:
    """Start the cloud, run ``body`` with a driver of it while its nodes live, stop it."""
    cloud.start("http://stacklab.test")
    background = asyncio.ensure_future(cloud.run_background())
    driver = VirtualDriver(cloud, clock)
    try:
        return await body(driver)
    finally:
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
        await driver.close()
        cloud.stop()


def run_virtual(scenario: Scenario, *, seed: int = 7, probe: bool = True) -> Report:
    """Run the scenario in-process, in virtual time."""
    try:
        cloud, clock = virtual_cloud(scenario.requires, seed=seed)
    except ScenarioFailed as error:
        report = Report(scenario.name, "virtual")
        report.error = str(error)
        return report
    password = cloud.config.stacklab.admin_password

    async def body(driver: VirtualDriver) -> Report:
        runner = Runner(scenario, driver, Credentials(password=password), "virtual",
                        probe=probe)
        report = await runner.run()
        if cloud.unexpected_errors:
            report.error = (f"the cloud answered {cloud.unexpected_errors} unexpected "
                            "errors (500s from exceptions no handler expected)")
        return report

    result: Report = asyncio.run(in_virtual_time(cloud, clock, body))
    return result


def run_live(scenario: Scenario, url: str, credentials: Credentials, *,
             probe: bool = True) -> Report:
    """Run the scenario against the cloud at ``url``, in real time (its lab seconds)."""

    async def main() -> Report:
        driver = LiveDriver(url)
        try:
            runner = Runner(scenario, driver, credentials, "live", probe=probe)
            try:
                ha = await runner.need("GET", "/stacklab/v1/ha")
                driver.scale = float(ha.get("time_scale", 1.0))
            except ScenarioFailed as error:
                runner.report.error = str(error)
                return runner.report
            driver.started = time.monotonic()  # lab time counts from here, at its scale
            return await runner.run()
        finally:
            await driver.close()

    return asyncio.run(main())
