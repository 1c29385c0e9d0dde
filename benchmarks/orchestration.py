#!/usr/bin/env python3
"""Orchestration (heat) benchmarks, in process on a virtual clock: a 50-resource stack
created, updated (every resource changed in place) and deleted, and 20 stacks created
at once by 10 clients.

Each figure gives the lab (virtual) seconds the action took, as heat-engine counted
them, and the wall seconds and the process CPU seconds the run cost. The resources are
heat's own (RandomString and TestResource in a chain of ten, so the graph has
parallelism and depth): nothing of the other services is timed.

    python benchmarks/orchestration.py
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from unit.orchestration.heat_calls import Heat, run_heat


def template(size: int, value: str) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for i in range(size):
        if i % 2 == 0:
            resources[f"r{i}"] = {"type": "OS::Heat::RandomString",
                                  "properties": {"length": 16}}
        else:
            # Each keeper takes its string, and the keeper ten before it: chains of five.
            parts: list[Any] = [value, {"get_attr": [f"r{i - 1}", "value"]}]
            if i >= 10:
                parts.append({"get_attr": [f"r{i - 10}", "output"]})
            properties: dict[str, Any] = {"value": {"list_join": ["-", parts]},
                                          "wait_secs": 1}
            resources[f"r{i}"] = {"type": "OS::Heat::TestResource",
                                  "properties": properties}
    return {"heat_template_version": "2018-08-31", "resources": resources}


async def timed(heat: Heat, what: str, send: Any, name: str, stack_id: str,
                *statuses: str) -> None:
    lab0, wall0, cpu0 = heat.clock.monotonic(), time.perf_counter(), time.process_time()
    await send()
    shown = await heat.until(name, stack_id, *statuses, seconds=3600)
    lab, wall, cpu = (heat.clock.monotonic() - lab0, time.perf_counter() - wall0,
                      time.process_time() - cpu0)
    print(f"{what:<36} {shown['stack_status']:<16} lab {lab:7.1f} s   wall {wall:6.2f} s"
          f"   cpu {cpu:6.2f} s")


async def scenario(heat: Heat) -> None:
    created: dict[str, str] = {}

    async def create() -> None:
        created["id"] = (await heat.create("big", template(50, "one")))["stack"]["id"]

    lab0, wall0, cpu0 = heat.clock.monotonic(), time.perf_counter(), time.process_time()
    await create()
    stack_id = created["id"]
    shown = await heat.until("big", stack_id, "CREATE_COMPLETE", "CREATE_FAILED", seconds=3600)
    print(f"{'create, 50 resources':<36} {shown['stack_status']:<16} lab "
          f"{heat.clock.monotonic() - lab0:7.1f} s   wall {time.perf_counter() - wall0:6.2f} s"
          f"   cpu {time.process_time() - cpu0:6.2f} s")

    async def update() -> None:
        await heat.call("PUT", f"/stacks/big/{stack_id}", {"template": template(50, "two")},
                        expect=202)

    await timed(heat, "update, 25 in place", update, "big", stack_id, "UPDATE_COMPLETE",
                "UPDATE_FAILED")

    async def delete() -> None:
        await heat.call("DELETE", f"/stacks/big/{stack_id}", expect=204)

    lab0, wall0, cpu0 = heat.clock.monotonic(), time.perf_counter(), time.process_time()
    await delete()
    while (await heat.request("GET", f"/stacks/big/{stack_id}")).status_code != 404:
        await heat.clock.run_for(0.5)
    print(f"{'delete, 50 resources':<36} {'gone':<16} lab "
          f"{heat.clock.monotonic() - lab0:7.1f} s   wall {time.perf_counter() - wall0:6.2f} s"
          f"   cpu {time.process_time() - cpu0:6.2f} s")

    wall0, cpu0, lab0 = time.perf_counter(), time.process_time(), heat.clock.monotonic()
    small = template(6, "x")

    async def client(n: int) -> list[tuple[str, str]]:
        made = []
        for k in range(2):
            name = f"p{n}-{k}"
            made.append((name, (await heat.create(name, small))["stack"]["id"]))
        return made

    stacks = [s for batch in await asyncio.gather(*(client(n) for n in range(10)))
              for s in batch]
    for name, ident in stacks:
        await heat.until(name, ident, "CREATE_COMPLETE", "CREATE_FAILED", seconds=3600)
    print(f"{'20 stacks by 10 clients (6 each)':<36} {'CREATE_COMPLETE':<16} lab "
          f"{heat.clock.monotonic() - lab0:7.1f} s   wall {time.perf_counter() - wall0:6.2f} s"
          f"   cpu {time.process_time() - cpu0:6.2f} s")


if __name__ == "__main__":
    run_heat(scenario)
