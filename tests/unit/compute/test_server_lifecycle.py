"""Servers end to end in one event loop and in virtual time: API → conductor → scheduler → compute.

Each test builds a Cloud on a ``VirtualClock`` with the ``realistic`` boot
profile and talks to its API through httpx's ``ASGITransport`` on the test's
own event loop (starlette's TestClient would run the app on a thread of its
own, where virtual time cannot be driven step by step). The task states are
read from the ``compute.instance.update`` notifications, stamped with the
virtual time at which each change was saved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from stacklab.api.app import build_app
from stacklab.bus.interface import Notification
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.compute.agents.profiles import PROFILES
from stacklab.compute.placement import DISK_GB, MEMORY_MB, VCPU
from stacklab.config import Config
from support.inprocess import ephemeral_config

VERSION = "2.96"
COMPUTE1 = "compute1.openstack.local"
COMPUTE2 = "compute2.openstack.local"
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."
REALISTIC = PROFILES["realistic"].steps
EMPTY = {VCPU: 0, MEMORY_MB: 0, DISK_GB: 0}


class Lab:
    """A started cloud, an admin session on its API, and the instance updates seen so far."""

    def __init__(self, cloud: Cloud, clock: VirtualClock, client: httpx.AsyncClient) -> None:
        self.cloud = cloud
        self.clock = clock
        self.client = client
        self.headers: dict[str, str] = {}
        self.updates: list[Notification] = []
        cloud.bus.subscribe("compute.instance.update", self.updates.append)

    async def login(self) -> None:
        answer = await self.client.post("/identity/v3/auth/tokens", json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        assert answer.status_code == 201, answer.text
        self.headers = {"X-Auth-Token": answer.headers["X-Subject-Token"],
                        "OpenStack-API-Version": f"compute {VERSION}"}

    async def request(self, method: str, path: str, body: Any = None,
                      expect: int = 200, version: str = VERSION) -> Any:
        headers = {**self.headers, "OpenStack-API-Version": f"compute {version}"}
        answer = await self.client.request(method, "/compute/v2.1" + path, headers=headers,
                                           json=body)
        assert answer.status_code == expect, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None

    async def create(self, name: str, flavor: str = "1", hints: dict[str, Any] | None = None,
                     **fields: Any) -> str:
        images = await self.client.get("/image/v2/images", headers=self.headers)
        body: dict[str, Any] = {"server": {
            "name": name, "imageRef": images.json()["images"][0]["id"], "flavorRef": flavor,
            "networks": "none", **fields}}
        if hints:
            body["os:scheduler_hints"] = hints
        created = await self.request("POST", "/servers", body, expect=202)
        return str(created["server"]["id"])

    async def show(self, server_id: str) -> dict[str, Any]:
        return dict((await self.request("GET", f"/servers/{server_id}"))["server"])

    async def listed(self, query: str) -> list[str]:
        return [s["id"] for s in (await self.request("GET", f"/servers?{query}"))["servers"]]

    async def service_id(self, host: str) -> str:
        services = await self.request("GET", f"/os-services?binary=nova-compute&host={host}")
        return str(services["services"][0]["id"])

    def updates_of(self, server_id: str) -> list[dict[str, Any]]:
        return [{**n.payload, "at": n.timestamp, "publisher": n.publisher_id}
                for n in self.updates if n.payload["uuid"] == server_id]


Scenario = Callable[[Lab], Awaitable[None]]


def run_lab(scenario: Scenario, config: Config | None = None,
            clock: VirtualClock | None = None) -> None:
    """Start a cloud on a virtual clock, run ``scenario`` against it, stop it."""
    config = config or ephemeral_config()
    config.stacklab.boot_profile = "realistic"
    clock = clock or VirtualClock()
    cloud = Cloud(config, clock=clock)

    async def main() -> None:
        cloud.start("http://testserver")
        try:
            transport = httpx.ASGITransport(app=build_app(cloud))
            async with httpx.AsyncClient(transport=transport,
                                         base_url="http://testserver") as client:
                lab = Lab(cloud, clock, client)
                await lab.login()
                await scenario(lab)
        finally:
            cloud.stop()

    asyncio.run(main())


async def heartbeats(lab: Lab) -> asyncio.Task[None]:
    """The lab's nodes reporting in the background, as ``stacklab up`` runs them."""
    task = asyncio.create_task(lab.cloud.run_background())
    await lab.clock.run_for(0)
    return task


# -- a build in nova's order, at the profile's pace --------------------------------------------


def test_a_server_passes_novas_build_task_states_at_the_realistic_pace() -> None:
    async def scenario(lab: Lab) -> None:
        server_id = await lab.create("web")
        start = lab.clock.now()
        shown = await lab.show(server_id)
        assert (shown["status"], shown["OS-EXT-STS:vm_state"], shown["OS-EXT-STS:task_state"],
                shown["OS-EXT-STS:power_state"]) == ("BUILD", "building", "scheduling", 0)
        assert shown["OS-EXT-SRV-ATTR:host"] is None

        # Mid-way, the API shows what the compute is doing.
        await lab.clock.run_for(1.0)
        shown = await lab.show(server_id)
        assert (shown["status"], shown["OS-EXT-STS:task_state"]) == ("BUILD", "networking")
        assert shown["OS-EXT-SRV-ATTR:host"] in (COMPUTE1, COMPUTE2)
        await lab.clock.run_for(1.0)
        assert (await lab.show(server_id))["OS-EXT-STS:task_state"] == "spawning"
        await lab.clock.run_for(10)

        # nova's order: scheduling (API) → None (compute took it) → networking →
        # block_device_mapping → spawning → None, active and running.
        schedule = REALISTIC["schedule"]
        networked = schedule + REALISTIC["networking"]
        mapped = networked + REALISTIC["block_device_mapping"]
        spawned = mapped + REALISTIC["spawning"]
        updates = lab.updates_of(server_id)
        assert [(u["old_task_state"], u["task_state"], u["vm_state"], u["power_state"])
                for u in updates] == [
            ("scheduling", None, "building", 0),
            (None, "networking", "building", 0),
            ("networking", "block_device_mapping", "building", 0),
            ("block_device_mapping", "spawning", "building", 0),
            ("spawning", None, "active", 1),
        ]
        assert [u["at"] - start for u in updates] == pytest.approx(
            [schedule, schedule, networked, mapped, spawned], abs=1e-6)
        assert (schedule, networked, mapped, spawned) == pytest.approx((0.3, 1.3, 1.8, 5.8))

        shown = await lab.show(server_id)
        host = shown["OS-EXT-SRV-ATTR:host"]
        assert (shown["status"], shown["OS-EXT-STS:vm_state"], shown["OS-EXT-STS:task_state"],
                shown["OS-EXT-STS:power_state"]) == ("ACTIVE", "active", None, 1)
        assert shown["OS-SRV-USG:launched_at"] is not None
        assert lab.cloud.compute.placement.usage(host) == {VCPU: 1, MEMORY_MB: 512, DISK_GB: 1}

        actions = await lab.request("GET", f"/servers/{server_id}/os-instance-actions")
        request_id = actions["instanceActions"][0]["request_id"]
        action = await lab.request("GET",
                                   f"/servers/{server_id}/os-instance-actions/{request_id}")
        assert [(e["event"], e["result"]) for e in action["instanceAction"]["events"]] == [
            ("conductor_schedule_and_build_instances", "Success"),
            ("compute__do_build_and_run_instance", "Success")]

        # Delete: the compute destroys the guest (1 s) and frees the allocation.
        await lab.request("DELETE", f"/servers/{server_id}", expect=204)
        assert (await lab.show(server_id))["OS-EXT-STS:task_state"] == "deleting"
        await lab.clock.run_for(REALISTIC["destroy"] + 0.1)
        await lab.request("GET", f"/servers/{server_id}", expect=404)
        assert lab.cloud.compute.placement.usage(host) == EMPTY

    run_lab(scenario)


def test_a_build_sends_novas_legacy_create_start_and_end_from_its_compute() -> None:
    async def scenario(lab: Lab) -> None:
        seen: list[Notification] = []
        lab.cloud.bus.subscribe("compute.instance.create.*", seen.append)
        server_id = await lab.create("legacy", metadata={"role": "web"})
        await lab.clock.run_for(10)
        shown = await lab.show(server_id)
        host = shown["OS-EXT-SRV-ATTR:host"]
        assert [(n.event_type, n.publisher_id, n.priority) for n in seen] == [
            ("compute.instance.create.start", f"compute.{host}", "INFO"),
            ("compute.instance.create.end", f"compute.{host}", "INFO")]
        start, end = (n.payload for n in seen)
        assert (start["state"], start["state_description"], start["launched_at"]) == (
            "building", "", "")
        assert "message" not in start
        assert {key: end[key] for key in (
            "instance_id", "display_name", "tenant_id", "host", "node", "state",
            "state_description", "instance_type", "instance_flavor_id", "memory_mb", "vcpus",
            "root_gb", "disk_gb", "metadata", "message", "fixed_ips")} == {
            "instance_id": server_id, "display_name": "legacy",
            "tenant_id": shown["tenant_id"], "host": host, "node": host, "state": "active",
            "state_description": "", "instance_type": "m1.tiny", "instance_flavor_id": "1",
            "memory_mb": 512, "vcpus": 1, "root_gb": 1, "disk_gb": 1,
            "metadata": {"role": "web"}, "message": "Success", "fixed_ips": []}
        # nova's formats: str(created_at), strtime(launched_at).
        assert end["created_at"].endswith("+00:00") and end["launched_at"][10] == "T"

    run_lab(scenario)


def test_the_lab_time_scale_runs_the_boot_profile_on_the_same_scaled_clock_as_keepalived(
) -> None:
    config = ephemeral_config()
    config.stacklab.ha_time_scale = 0.5  # twice as fast, exact in binary

    async def scenario(lab: Lab) -> None:
        # One scaled clock for the lab: the HA machinery's and the hypervisors' are the same.
        assert lab.cloud.compute.lab_clock is lab.cloud.agents.ha_clock
        assert lab.cloud.compute.lab_clock is not lab.cloud.clock
        server_id = await lab.create("web")
        start = lab.clock.now()
        spawned = (REALISTIC["schedule"] + REALISTIC["networking"]
                   + REALISTIC["block_device_mapping"] + REALISTIC["spawning"])
        # Just before half the profile's BUILD has passed on the cloud's clock: still building.
        await lab.clock.run_for(spawned / 2 - 0.01)
        assert (await lab.show(server_id))["status"] == "BUILD"
        await lab.clock.run_for(0.02)
        assert (await lab.show(server_id))["status"] == "ACTIVE"
        updates = lab.updates_of(server_id)
        assert [u["task_state"] for u in updates] == [
            None, "networking", "block_device_mapping", "spawning", None]
        # Each step took half its seconds of the cloud's (virtual) time.
        assert [u["at"] - start for u in updates] == pytest.approx([
            REALISTIC["schedule"] / 2, REALISTIC["schedule"] / 2,
            (REALISTIC["schedule"] + REALISTIC["networking"]) / 2,
            (spawned - REALISTIC["spawning"]) / 2, spawned / 2], abs=1e-6)
        # ... and deleting too: the destroy step is halved as well.
        await lab.request("DELETE", f"/servers/{server_id}", expect=204)
        await lab.clock.run_for(REALISTIC["destroy"] / 2 - 0.01)
        assert (await lab.show(server_id))["OS-EXT-STS:task_state"] == "deleting"
        await lab.clock.run_for(0.02)
        await lab.request("GET", f"/servers/{server_id}", expect=404)

    run_lab(scenario, config)


def test_the_status_filter_finds_a_server_while_it_builds() -> None:
    async def scenario(lab: Lab) -> None:
        server_id = await lab.create("web")
        await lab.clock.run_for(2.0)
        assert (await lab.show(server_id))["status"] == "BUILD"
        assert await lab.listed("status=BUILD") == [server_id]

    run_lab(scenario)


def test_the_status_filter_finds_idle_servers() -> None:
    async def scenario(lab: Lab) -> None:
        server_id = await lab.create("web")
        await lab.clock.run_for(10)
        assert await lab.listed("status=ACTIVE") == [server_id]
        assert await lab.listed("status=active") == [server_id]
        assert await lab.listed("status=SHUTOFF") == []

    run_lab(scenario)


def test_an_unknown_status_filter_is_a_bad_request_from_2_38() -> None:
    async def scenario(lab: Lab) -> None:
        answer = await lab.client.get("/compute/v2.1/servers?status=BOGUS", headers={
            **lab.headers, "OpenStack-API-Version": "compute 2.37"})
        assert (answer.status_code, answer.json()) == (200, {"servers": []})
        await lab.request("GET", "/servers?status=BOGUS", expect=400)

    run_lab(scenario)


# -- no valid host -------------------------------------------------------------------------------


def test_a_flavor_bigger_than_any_host_ends_in_error_with_novas_fault() -> None:
    async def scenario(lab: Lab) -> None:
        # 40 GB: more than the lab's compute nodes have (32 GB), within the project's quota.
        await lab.request("POST", "/flavors", {"flavor": {
            "name": "huge", "id": "huge", "ram": 40960, "vcpus": 1, "disk": 1}})
        server_id = await lab.create("big", flavor="huge")
        start = lab.clock.now()
        await lab.clock.run_for(10)

        shown = await lab.show(server_id)
        assert (shown["status"], shown["OS-EXT-STS:vm_state"], shown["OS-EXT-STS:task_state"],
                shown["OS-EXT-STS:power_state"]) == ("ERROR", "error", None, 0)
        assert shown["fault"]["message"] == NO_VALID_HOST
        assert shown["fault"]["code"] == 500
        assert shown["OS-EXT-SRV-ATTR:host"] is None

        updates = lab.updates_of(server_id)
        assert [(u["old_task_state"], u["task_state"], u["vm_state"], u["publisher"])
                for u in updates] == [("scheduling", None, "error", "nova-conductor")]
        assert updates[0]["at"] - start == pytest.approx(REALISTIC["schedule"], abs=1e-6)

        actions = (await lab.request(
            "GET", f"/servers/{server_id}/os-instance-actions"))["instanceActions"]
        assert [a["action"] for a in actions] == ["create"]
        action = await lab.request(
            "GET", f"/servers/{server_id}/os-instance-actions/{actions[0]['request_id']}")
        assert [(e["event"], e["result"]) for e in action["instanceAction"]["events"]] == [
            ("conductor_schedule_and_build_instances", "Error")]
        # Nothing was claimed anywhere.
        for host in (COMPUTE1, COMPUTE2):
            assert lab.cloud.compute.placement.usage(host) == EMPTY

    run_lab(scenario)


# -- server groups -------------------------------------------------------------------------------


async def anti_affinity_group(lab: Lab) -> str:
    group = await lab.request("POST", "/os-server-groups", {
        "server_group": {"name": "spread", "policy": "anti-affinity"}})
    return str(group["server_group"]["id"])


def test_anti_affinity_uses_both_computes_and_refuses_a_third_member() -> None:
    async def scenario(lab: Lab) -> None:
        group = await anti_affinity_group(lab)
        hosts = []
        for name in ("a", "b"):
            server_id = await lab.create(name, hints={"group": group})
            await lab.clock.run_for(10)
            shown = await lab.show(server_id)
            assert shown["status"] == "ACTIVE"
            hosts.append(shown["OS-EXT-SRV-ATTR:host"])
        assert sorted(hosts) == [COMPUTE1, COMPUTE2]

        # Both computes still have room for a 512 MB server: only the policy refuses it.
        for host in (COMPUTE1, COMPUTE2):
            assert lab.cloud.compute.placement.usage(host)[MEMORY_MB] == 512
        third = await lab.create("c", hints={"group": group})
        await lab.clock.run_for(10)
        shown = await lab.show(third)
        assert (shown["status"], shown["fault"]["message"]) == ("ERROR", NO_VALID_HOST)
        # Without the group, the same server fits.
        fourth = await lab.create("d")
        await lab.clock.run_for(10)
        assert (await lab.show(fourth))["status"] == "ACTIVE"

    run_lab(scenario)


def test_anti_affinity_spreads_one_multi_create_request_and_fails_it_whole() -> None:
    async def scenario(lab: Lab) -> None:
        pair = await anti_affinity_group(lab)
        await lab.create("pair", hints={"group": pair}, min_count=2, max_count=2)
        await lab.clock.run_for(10)
        servers = (await lab.request("GET", "/servers/detail?name=pair"))["servers"]
        assert sorted(s["OS-EXT-SRV-ATTR:host"] for s in servers) == [COMPUTE1, COMPUTE2]
        assert {s["status"] for s in servers} == {"ACTIVE"}

        trio = await anti_affinity_group(lab)
        await lab.create("trio", hints={"group": trio}, min_count=3, max_count=3)
        await lab.clock.run_for(10)
        servers = (await lab.request("GET", "/servers/detail?name=trio"))["servers"]
        assert len(servers) == 3
        assert {(s["status"], s["fault"]["message"]) for s in servers} == {
            ("ERROR", NO_VALID_HOST)}
        usage = lab.cloud.compute.placement
        assert usage.usage(COMPUTE1)[MEMORY_MB] == usage.usage(COMPUTE2)[MEMORY_MB] == 512

    run_lab(scenario)


# -- the ComputeFilter: down services get nothing --------------------------------------------------


async def hosts_of_new_servers(lab: Lab, prefix: str, count: int) -> list[str | None]:
    """Create ``count`` m1.tiny servers one after the other; the host each got (None: error)."""
    hosts: list[str | None] = []
    for n in range(count):
        server_id = await lab.create(f"{prefix}{n}")
        await lab.clock.run_for(10)
        shown = await lab.show(server_id)
        if shown["status"] == "ERROR":
            assert shown["fault"]["message"] == NO_VALID_HOST
            hosts.append(None)
        else:
            assert shown["status"] == "ACTIVE"
            hosts.append(shown["OS-EXT-SRV-ATTR:host"])
    return hosts


def course_config() -> Config:
    """The course's own VM sizes: each compute node holds two m1.tiny servers, no more."""
    config = ephemeral_config()
    config.stacklab.topology = "course"
    return config


def test_a_forced_down_compute_gets_no_new_servers() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)
        compute2 = await lab.service_id(COMPUTE2)
        await lab.request("PUT", f"/os-services/{compute2}", {"forced_down": True})
        # compute1 holds two m1.tiny (1024 MB usable); compute2 would take more, but is down.
        assert await hosts_of_new_servers(lab, "s", 3) == [COMPUTE1, COMPUTE1, None]
        await lab.request("PUT", f"/os-services/{compute2}", {"forced_down": False})
        assert await hosts_of_new_servers(lab, "t", 1) == [COMPUTE2]
        reports.cancel()

    run_lab(scenario, course_config())


def test_a_compute_silent_for_longer_than_service_down_time_gets_no_new_servers() -> None:
    real_start = time.monotonic()

    async def scenario(lab: Lab) -> None:
        down_time = lab.cloud.config.DEFAULT.service_down_time
        reports = await heartbeats(lab)
        lab.cloud.node_down(COMPUTE2)
        # Until service_down_time has passed since its last sign of life it still counts.
        await lab.clock.run_for(down_time - 1)
        services = (await lab.request("GET", "/os-services?binary=nova-compute"))["services"]
        assert {s["host"]: s["state"] for s in services} == {COMPUTE1: "up", COMPUTE2: "up"}
        await lab.clock.run_for(2)
        services = (await lab.request("GET", "/os-services?binary=nova-compute"))["services"]
        assert {s["host"]: s["state"] for s in services} == {COMPUTE1: "up", COMPUTE2: "down"}

        assert await hosts_of_new_servers(lab, "s", 3) == [COMPUTE1, COMPUTE1, None]

        # Back on the network: its next report (every report_interval) makes it a candidate.
        lab.cloud.node_up(COMPUTE2)
        await lab.clock.run_for(lab.cloud.config.DEFAULT.report_interval)
        assert await hosts_of_new_servers(lab, "t", 1) == [COMPUTE2]
        reports.cancel()

    run_lab(scenario, course_config())
    # Almost two minutes of virtual time (59 + 2 + 5 * 10 s), no real wait.
    assert time.monotonic() - real_start < 10


# -- recovery at start ---------------------------------------------------------------------------


def persistent_config(state_dir: Path) -> Config:
    config: Config = ephemeral_config()
    config.stacklab.ephemeral = False
    config.stacklab.state_dir = str(state_dir)
    return config


def test_a_restart_puts_interrupted_builds_in_error_and_rebuilds_placement(
        tmp_path: Path) -> None:
    ids: dict[str, str] = {}
    before: dict[str, dict[str, int]] = {}

    async def interrupted(lab: Lab) -> None:
        ids["active"] = await lab.create("active")
        await lab.clock.run_for(10)
        ids["deleting"] = await lab.create("deleting")
        await lab.clock.run_for(10)
        ids["spawning"] = await lab.create("spawning")
        await lab.clock.run_for(REALISTIC["schedule"] + REALISTIC["networking"]
                                + REALISTIC["block_device_mapping"] + 1)
        await lab.request("DELETE", f"/servers/{ids['deleting']}", expect=204)
        await lab.clock.run_for(REALISTIC["destroy"] / 2)
        ids["scheduling"] = await lab.create("scheduling")
        for name, task in (("active", None), ("deleting", "deleting"),
                           ("spawning", "spawning"), ("scheduling", "scheduling")):
            assert (await lab.show(ids[name]))["OS-EXT-STS:task_state"] == task, name
        placement = lab.cloud.compute.placement
        before.update({host: placement.usage(host) for host in (COMPUTE1, COMPUTE2)})
        # The server being deleted still holds its share until its compute is done.
        assert sum(u[MEMORY_MB] for u in before.values()) == 3 * 512

    run_lab(interrupted, persistent_config(tmp_path))
    # The stop interrupted everything under way: a new process on the same state dir.
    restarted = Cloud(persistent_config(tmp_path), clock=VirtualClock(1_700_100_000.0))
    restarted.start("http://testserver")
    try:
        compute = restarted.compute
        with restarted.db.session() as session:
            rows = {name: compute.instances.find(session, uuid) for name, uuid in ids.items()}
            found = {name: (row.vm_state, row.task_state, row.deleted, row.host,
                            bool(row.fault)) for name, row in rows.items() if row is not None}
        active_host, spawning_host = str(found["active"][3]), str(found["spawning"][3])
        assert {active_host, spawning_host} <= {COMPUTE1, COMPUTE2}
        assert found["active"] == ("active", None, False, active_host, False)
        assert found["deleting"][:3] == ("deleted", None, True)
        assert found["spawning"] == ("error", None, False, spawning_host, True)
        assert found["scheduling"] == ("error", None, False, None, True)

        # Placement again holds the servers that have a host and are not deleted: the
        # one that was running and the one interrupted while spawning (nova keeps an
        # errored server's allocation until it is deleted).
        placement = compute.placement
        assert set(placement.allocations) == {ids["active"], ids["spawning"]}
        expected = {COMPUTE1: dict(EMPTY), COMPUTE2: dict(EMPTY)}
        for host in (active_host, spawning_host):
            expected[host] = {rc: expected[host][rc] + amount for rc, amount in
                              {VCPU: 1, MEMORY_MB: 512, DISK_GB: 1}.items()}
        assert {host: placement.usage(host) for host in (COMPUTE1, COMPUTE2)} == expected
        # What the first process held, less the server whose delete finished at start.
        assert sum(u[MEMORY_MB] for u in expected.values()) == \
            sum(u[MEMORY_MB] for u in before.values()) - 512
    finally:
        restarted.stop()


def test_after_a_restart_the_api_shows_the_recovered_servers(tmp_path: Path) -> None:
    ids: dict[str, str] = {}

    async def interrupted(lab: Lab) -> None:
        ids["active"] = await lab.create("active")
        await lab.clock.run_for(10)
        ids["spawning"] = await lab.create("spawning")
        await lab.clock.run_for(3)

    async def after(lab: Lab) -> None:
        active = await lab.show(ids["active"])
        assert (active["status"], active["OS-EXT-STS:power_state"]) == ("ACTIVE", 1)
        failed = await lab.show(ids["spawning"])
        assert (failed["status"], failed["OS-EXT-STS:task_state"]) == ("ERROR", None)
        assert failed["fault"]["code"] == 500 and failed["fault"]["message"]
        # 2.87 is the last microversion showing the hypervisors' usage.
        hypervisors = (await lab.request("GET", "/os-hypervisors/detail",
                                         version="2.87"))["hypervisors"]
        hosts = [active["OS-EXT-SRV-ATTR:host"], failed["OS-EXT-SRV-ATTR:host"]]
        assert {h["hypervisor_hostname"]: (h["running_vms"], h["memory_mb_used"])
                for h in hypervisors} == {
            host: (hosts.count(host), 512 + 512 * hosts.count(host))
            for host in (COMPUTE1, COMPUTE2)}

    run_lab(interrupted, persistent_config(tmp_path))
    run_lab(after, persistent_config(tmp_path), VirtualClock(1_700_100_000.0))


def test_a_restarted_seeded_cloud_builds_new_servers(tmp_path: Path) -> None:
    first: list[str] = []

    async def before(lab: Lab) -> None:
        first.append(await lab.create("before"))
        await lab.clock.run_for(10)

    async def after(lab: Lab) -> None:
        server_id = await lab.create("after")
        await lab.clock.run_for(10)
        assert server_id != first[0]
        assert (await lab.show(server_id))["status"] == "ACTIVE"
        assert sorted(await lab.listed("")) == sorted([first[0], server_id])

    run_lab(before, persistent_config(tmp_path))
    run_lab(after, persistent_config(tmp_path), VirtualClock(1_700_100_000.0))


# -- driving virtual time ------------------------------------------------------------------------


def test_run_for_lets_a_woken_chain_arm_its_next_timer_however_long() -> None:
    clock = VirtualClock()
    done: list[float] = []

    async def chain(hops: int) -> None:
        for _ in range(hops):
            await asyncio.sleep(0)
        await clock.sleep(1)
        done.append(clock.monotonic())

    async def scenario() -> None:
        task = asyncio.create_task(chain(8))
        await clock.run_for(2)
        task.cancel()

    asyncio.run(scenario())
    assert done == [1.0]


# -- deferred deletes ------------------------------------------------------------------------------


def test_a_deferred_delete_is_restorable_until_its_compute_reclaims_it() -> None:
    config = ephemeral_config()
    config.DEFAULT.reclaim_instance_interval = 600

    async def scenario(lab: Lab) -> None:
        background = await heartbeats(lab)
        kept, reclaimed = await lab.create("kept"), await lab.create("reclaimed")
        await lab.clock.run_for(10)
        for server_id in (kept, reclaimed):
            await lab.request("DELETE", f"/servers/{server_id}", expect=204)
        await lab.clock.run_for(REALISTIC["power_off"])
        for server_id in (kept, reclaimed):
            shown = await lab.show(server_id)
            assert (shown["status"], shown["OS-EXT-STS:vm_state"], shown["OS-EXT-STS:task_state"],
                    shown["OS-EXT-STS:power_state"]) == ("SOFT_DELETED", "soft-delete", None, 4)
        # Still holding its host's resources, not its project's quota.
        host = (await lab.show(kept))["OS-EXT-SRV-ATTR:host"]
        assert lab.cloud.compute.placement.usage(host)[MEMORY_MB] > 0
        await lab.request("POST", f"/servers/{kept}/action", {"restore": None}, expect=202)
        await lab.clock.run_for(REALISTIC["power_on"])
        shown = await lab.show(kept)
        assert (shown["status"], shown["OS-EXT-STS:power_state"]) == ("ACTIVE", 1)
        actions = (await lab.request(
            "GET", f"/servers/{kept}/os-instance-actions"))["instanceActions"]
        assert [a["action"] for a in actions] == ["restore", "delete", "create"]

        # Reclaimed within two intervals (the compute looks every interval), then 404.
        await lab.clock.run_for(2 * 600)
        await lab.request("GET", f"/servers/{reclaimed}", expect=404)
        assert (await lab.show(kept))["status"] == "ACTIVE"
        background.cancel()

    run_lab(scenario, config)
