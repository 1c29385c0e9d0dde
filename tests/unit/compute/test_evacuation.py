"""Evacuation in virtual time, through the API: a compute node loses power, its servers are
rebuilt elsewhere, and the node's return settles the bookkeeping as nova's does.

The course topology's computes hold two m1.tiny servers each (1,536 MB, 512 MB
reserved), so a host that is full says so: its hypervisor's usage and the
scheduler's answers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stacklab.clock import VirtualClock
from stacklab.compute.placement import MEMORY_MB
from unit.compute.test_server_lifecycle import (
    COMPUTE1,
    COMPUTE2,
    NO_VALID_HOST,
    Lab,
    course_config,
    heartbeats,
    hosts_of_new_servers,
    persistent_config,
    run_lab,
)

# The last microversion whose hypervisors show their usage.
USAGE_VERSION = "2.87"


async def usage(lab: Lab) -> dict[str, tuple[int, int, int, int]]:
    """Each hypervisor's (vcpus_used, memory_mb_used, local_gb_used, running_vms)."""
    listed = await lab.request("GET", "/os-hypervisors/detail", version=USAGE_VERSION)
    return {h["hypervisor_hostname"]: (h["vcpus_used"], h["memory_mb_used"],
                                       h["local_gb_used"], h["running_vms"])
            for h in listed["hypervisors"]}


async def capacity(lab: Lab) -> dict[str, tuple[int, int, int]]:
    listed = await lab.request("GET", "/os-hypervisors/detail", version=USAGE_VERSION)
    return {h["hypervisor_hostname"]: (h["vcpus"], h["memory_mb"], h["local_gb"])
            for h in listed["hypervisors"]}


async def evacuations(lab: Lab, server: str) -> list[tuple[str, str, str]]:
    """The server's migrations as ``os-migrations`` lists them: (source, dest, status)."""
    rows = (await lab.request("GET", f"/os-migrations?instance_uuid={server}",
                              version="2.59"))["migrations"]
    assert {r["migration_type"] for r in rows} <= {"evacuation"}
    return [(r["source_compute"], r["dest_compute"], r["status"]) for r in rows]


async def boot_on(lab: Lab, name: str, host: str) -> str:
    server = await lab.create(name, availability_zone=f"nova:{host}")
    await lab.clock.run_for(10)
    shown = await lab.show(server)
    assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", host), shown
    return server


async def power_off_until_down(lab: Lab, host: str) -> None:
    """Pull the node's plug and wait until nova says its compute is down."""
    lab.cloud.node_down(host)
    await lab.clock.run_for(lab.cloud.config.DEFAULT.service_down_time + 1)
    services = (await lab.request("GET", f"/os-services?host={host}"))["services"]
    assert [s["state"] for s in services if s["binary"] == "nova-compute"] == ["down"]


async def evacuate(lab: Lab, server: str, body: dict[str, Any] | None = None) -> None:
    # 2.94: the evacuated server comes back as it was (from 2.95 it arrives stopped).
    await lab.request("POST", f"/servers/{server}/action", {"evacuate": body or {}},
                      version="2.94")
    await lab.clock.run_for(20)


def test_the_returning_source_completes_the_evacuation_and_gives_back_its_share() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        moved = await boot_on(lab, "moved", COMPUTE1)
        await boot_on(lab, "stays", COMPUTE2)
        one = (1, 512 + 512, 1, 1)  # one m1.tiny, with the host's reserved 512 MB
        assert await usage(lab) == {COMPUTE1: one, COMPUTE2: one}

        await power_off_until_down(lab, COMPUTE1)
        await evacuate(lab, moved)
        shown = await lab.show(moved)
        assert (shown["status"], shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", COMPUTE2)
        # Rebuilt, not yet cleaned up after: "done" until the source is back.
        assert await evacuations(lab, moved) == [(COMPUTE1, COMPUTE2, "done")]
        # The destination counts the server; the silent source still shows its share, as
        # nova's record of a compute that stopped reporting does.
        full = (2, 512 + 1024, 2, 2)
        assert await usage(lab) == {COMPUTE1: one, COMPUTE2: full}
        assert all(used[1] <= total[1] for used, total in
                   zip((await usage(lab)).values(), (await capacity(lab)).values(),
                       strict=True))
        # compute2 is full and compute1 is down: nothing more boots.
        assert await hosts_of_new_servers(lab, "refused", 1) == [None]

        # The node is back: its nova-compute destroys the stale guest, gives back its
        # share and completes the evacuation; its next report makes it a candidate again.
        lab.cloud.node_up(COMPUTE1)
        assert await evacuations(lab, moved) == [(COMPUTE1, COMPUTE2, "completed")]
        assert moved not in lab.cloud.compute.agents[COMPUTE1].hypervisor.domains
        assert moved in lab.cloud.compute.agents[COMPUTE2].hypervisor.domains
        assert await usage(lab) == {COMPUTE1: (0, 512, 0, 0), COMPUTE2: full}
        await lab.clock.run_for(lab.cloud.config.DEFAULT.report_interval)
        assert await hosts_of_new_servers(lab, "after", 2) == [COMPUTE1, COMPUTE1]
        assert await hosts_of_new_servers(lab, "over", 1) == [None]
        reports.cancel()

    run_lab(scenario, course_config())


def test_an_evacuation_to_a_full_host_fails_and_claims_nothing() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        stranded = await boot_on(lab, "stranded", COMPUTE1)
        await boot_on(lab, "a", COMPUTE2)
        await boot_on(lab, "b", COMPUTE2)
        before = await usage(lab)
        await power_off_until_down(lab, COMPUTE1)
        await evacuate(lab, stranded)
        shown = await lab.show(stranded)
        # nova's conductor: no host for an evacuation leaves the server in ERROR where it was.
        assert (shown["status"], shown["OS-EXT-STS:task_state"], shown["OS-EXT-SRV-ATTR:host"],
                shown["fault"]["message"]) == ("ERROR", None, COMPUTE1, NO_VALID_HOST)
        assert await evacuations(lab, stranded) == [(COMPUTE1, None, "error")]
        assert await usage(lab) == before
        # A failed evacuation is nothing for the returning source to clean up.
        lab.cloud.node_up(COMPUTE1)
        assert await evacuations(lab, stranded) == [(COMPUTE1, None, "error")]
        assert await usage(lab) == before
        reports.cancel()

    run_lab(scenario, course_config())


def test_deleting_an_evacuated_server_before_its_source_returns_frees_both_hosts() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        moved = await boot_on(lab, "moved", COMPUTE1)
        await power_off_until_down(lab, COMPUTE1)
        await evacuate(lab, moved)
        placement = lab.cloud.compute.placement
        assert placement.usage(COMPUTE1)[MEMORY_MB] == placement.usage(COMPUTE2)[MEMORY_MB] \
            == 512
        await lab.request("DELETE", f"/servers/{moved}", expect=204)
        await lab.clock.run_for(10)
        await lab.request("GET", f"/servers/{moved}", expect=404)
        assert placement.usage(COMPUTE1)[MEMORY_MB] == placement.usage(COMPUTE2)[MEMORY_MB] \
            == 0
        # The source, back, destroys the guest it still had; nova leaves the migration of
        # a deleted server as it was.
        lab.cloud.node_up(COMPUTE1)
        assert moved not in lab.cloud.compute.agents[COMPUTE1].hypervisor.domains
        assert placement.usage(COMPUTE1)[MEMORY_MB] == 0
        reports.cancel()

    run_lab(scenario, course_config())


def test_a_dead_computes_record_keeps_its_last_figures_until_it_runs_again() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        moved = await boot_on(lab, "moved", COMPUTE1)
        one = (1, 512 + 512, 1, 1)
        # The periodic update_available_resource ran while the node was up: its record
        # is what the node leaves behind.
        await lab.clock.run_for(61)
        await power_off_until_down(lab, COMPUTE1)
        await evacuate(lab, moved)
        await lab.request("DELETE", f"/servers/{moved}", expect=204)
        await lab.clock.run_for(10)
        # Placement gave the share back at once; nova-api still reads the dead node's row.
        assert lab.cloud.compute.placement.usage(COMPUTE1)[MEMORY_MB] == 0
        assert (await usage(lab))[COMPUTE1] == one
        lab.cloud.node_up(COMPUTE1)
        assert (await usage(lab))[COMPUTE1] == (0, 512, 0, 0)
        reports.cancel()

    run_lab(scenario, course_config())


def test_running_vms_counts_servers_not_the_allocations_of_a_migration() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        server = await boot_on(lab, "resized", COMPUTE1)
        await lab.request("POST", "/flavors", {"flavor": {
            "name": "tiny-too", "id": "tiny-too", "ram": 512, "vcpus": 1, "disk": 1}})
        await lab.request("POST", f"/servers/{server}/action",
                          {"resize": {"flavorRef": "tiny-too"}}, expect=202)
        await lab.clock.run_for(20)
        shown = await lab.show(server)
        assert shown["status"] == "VERIFY_RESIZE", shown
        # Both hosts hold a share (the migration's on the source, the server's on the
        # destination) but only the destination runs it.
        figures = await usage(lab)
        assert sum(vms for *_, vms in figures.values()) == 1, figures
        assert sum(vcpus for vcpus, *_ in figures.values()) == 2, figures
        reports.cancel()

    run_lab(scenario, course_config())


def test_a_restart_completes_the_finished_evacuations_and_fails_the_interrupted_ones(
        tmp_path: Path) -> None:
    ids: dict[str, str] = {}

    async def interrupted(lab: Lab) -> None:
        reports = await heartbeats(lab)
        ids["done"] = await boot_on(lab, "done", COMPUTE1)
        ids["cut"] = await boot_on(lab, "cut", COMPUTE1)
        await power_off_until_down(lab, COMPUTE1)
        await evacuate(lab, ids["done"])
        await lab.request("POST", f"/servers/{ids['cut']}/action", {"evacuate": {}},
                          version="2.94")
        await lab.clock.run_for(1)  # the destination is rebuilding it
        assert (await lab.show(ids["cut"]))["OS-EXT-STS:task_state"] is not None
        assert [s for *_, s in await evacuations(lab, ids["cut"])] == ["pre-migrating"]
        reports.cancel()

    async def after(lab: Lab) -> None:
        # Every compute started with the cloud and cleaned up after its evacuations.
        assert await evacuations(lab, ids["done"]) == [(COMPUTE1, COMPUTE2, "completed")]
        assert [s for *_, s in await evacuations(lab, ids["cut"])] == ["error"]
        shown = await lab.show(ids["cut"])
        assert shown["OS-EXT-STS:task_state"] is None
        # Placement holds each server once, where its row says it is.
        placement = lab.cloud.compute.placement
        assert sorted(placement.allocations) == sorted(ids.values())
        assert placement.allocations[ids["cut"]].provider == shown["OS-EXT-SRV-ATTR:host"]

    run_lab(interrupted, persistent_config(tmp_path))
    run_lab(after, persistent_config(tmp_path), VirtualClock(1_700_100_000.0))
