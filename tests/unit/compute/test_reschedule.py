"""Reschedules, in virtual time through the API: a build that fails on its compute is tried
on another host, the hosts tried left out, up to ``[scheduler] max_attempts``; then the
server is in ERROR with nova's "Exceeded maximum number of retries" fault."""

from __future__ import annotations

from stacklab.config import Config
from support.inprocess import ephemeral_config
from unit.compute.test_server_lifecycle import COMPUTE1, COMPUTE2, Lab, heartbeats, run_lab

BROKEN = "internal error: qemu unexpectedly closed the monitor"


def config(max_attempts: int = 3) -> Config:
    built = ephemeral_config()
    built.scheduler.max_attempts = max_attempts
    return built


def break_host(lab: Lab, host: str) -> None:
    lab.cloud.compute.agents[host].hypervisor.spawn_failure = BROKEN


async def build(lab: Lab, name: str, **fields: object) -> dict[str, object]:
    server = await lab.create(name, **fields)
    await lab.clock.run_for(60)
    return await lab.show(server)


async def build_events(lab: Lab, server: str) -> list[str | None]:
    actions = (await lab.request("GET", f"/servers/{server}/os-instance-actions"))
    request_id = actions["instanceActions"][0]["request_id"]
    shown = await lab.request("GET", f"/servers/{server}/os-instance-actions/{request_id}")
    return [e["host"] for e in shown["instanceAction"]["events"]
            if e["event"] == "compute__do_build_and_run_instance"]


def test_a_build_that_fails_on_its_host_goes_to_another() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        break_host(lab, COMPUTE1)
        for index in range(3):
            shown = await build(lab, f"s{index}")
            assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", COMPUTE2)
        # compute1 was tried (it weighs more once compute2 holds servers), then left out.
        tried = await build_events(lab, str(shown["id"]))
        assert tried == [COMPUTE1, COMPUTE2] or tried == [COMPUTE2]
        assert lab.cloud.compute.placement.allocations[str(shown["id"])].provider == COMPUTE2
        reports.cancel()

    run_lab(scenario, config())


def test_a_build_failing_everywhere_exhausts_the_hosts() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        break_host(lab, COMPUTE1)
        break_host(lab, COMPUTE2)
        shown = await build(lab, "nowhere")
        server = str(shown["id"])
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ERROR", None)
        assert shown["fault"]["message"] == (
            "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
            f"build failures for instance {server}.")
        assert sorted(await build_events(lab, server)) == [COMPUTE1, COMPUTE2]
        assert server not in lab.cloud.compute.placement.allocations
        reports.cancel()

    run_lab(scenario, config())


def test_max_attempts_counts_the_first_build_and_its_reschedules() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        break_host(lab, COMPUTE1)
        break_host(lab, COMPUTE2)
        shown = await build(lab, "twice")
        assert shown["status"] == "ERROR"
        assert shown["fault"]["message"] == (
            "Exceeded maximum number of retries. Exceeded max scheduling attempts 2 for "
            f"instance {shown['id']}. Last exception: {BROKEN}")
        reports.cancel()

    run_lab(scenario, config(max_attempts=2))


def test_no_reschedule_with_one_attempt_or_a_forced_host() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        break_host(lab, COMPUTE1)
        shown = await build(lab, "forced", availability_zone=f"nova:{COMPUTE1}")
        assert shown["status"] == "ERROR"
        assert shown["fault"]["message"] == BROKEN
        assert await build_events(lab, str(shown["id"])) == [COMPUTE1]
        reports.cancel()

    run_lab(scenario, config())

    async def single(lab: Lab) -> None:
        reports = await heartbeats(lab)
        break_host(lab, COMPUTE1)
        break_host(lab, COMPUTE2)
        shown = await build(lab, "once")
        assert (shown["status"], shown["fault"]["message"]) == ("ERROR", BROKEN)
        assert len(await build_events(lab, str(shown["id"]))) == 1
        reports.cancel()

    run_lab(single, config(max_attempts=1))
