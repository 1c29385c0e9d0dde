"""A live migration in virtual time (the realistic profile copies for seconds): listed while
it runs, forced to complete, or aborted with the server left where it was."""

from __future__ import annotations

from typing import Any

from unit.compute.test_server_lifecycle import Lab, heartbeats, run_lab


async def _active(lab: Lab) -> tuple[str, str]:
    server = await lab.create("mover")
    await lab.clock.run_for(120)
    shown = await lab.show(server)
    assert shown["status"] == "ACTIVE", shown
    return server, str(shown["OS-EXT-SRV-ATTR:host"])


async def _running(lab: Lab, server: str) -> dict[str, Any]:
    await lab.request("POST", f"/servers/{server}/action",
                      {"os-migrateLive": {"host": None, "block_migration": "auto"}}, expect=202)
    for _ in range(100):
        await lab.clock.run_for(0.1)
        listed = (await lab.request("GET", f"/servers/{server}/migrations",
                                    version="2.80"))["migrations"]
        if listed and listed[0]["status"] == "running":
            return dict(listed[0])
    raise AssertionError("the live migration never ran")


def test_an_aborted_live_migration_leaves_the_server_on_its_source() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)  # the source's service must be up
        server, source = await _active(lab)
        migration = await _running(lab, server)
        await lab.request("DELETE", f"/servers/{server}/migrations/{migration['id']}",
                          expect=202, version="2.80")
        await lab.clock.run_for(60)
        shown = await lab.show(server)
        assert (shown["status"], shown["OS-EXT-STS:task_state"],
                shown["OS-EXT-SRV-ATTR:host"]) == ("ACTIVE", None, source)
        assert (await lab.request("GET", f"/servers/{server}/migrations",
                                  version="2.80"))["migrations"] == []
        rows = (await lab.request("GET", f"/os-migrations?instance_uuid={server}",
                                  version="2.80"))["migrations"]
        assert [r["status"] for r in rows] == ["cancelled"]
        reports.cancel()

    run_lab(scenario)


def test_a_forced_live_migration_completes_on_another_host() -> None:
    async def scenario(lab: Lab) -> None:
        reports = await heartbeats(lab)  # the source's service must be up
        server, source = await _active(lab)
        migration = await _running(lab, server)
        await lab.request("POST", f"/servers/{server}/migrations/{migration['id']}/action",
                          {"force_complete": None}, expect=202, version="2.80")
        await lab.clock.run_for(60)
        shown = await lab.show(server)
        assert shown["status"] == "ACTIVE" and shown["OS-EXT-SRV-ATTR:host"] != source
        # Over now: a second force is nova's 409 (no longer migrating).
        await lab.request("POST", f"/servers/{server}/migrations/{migration['id']}/action",
                          {"force_complete": None}, expect=409, version="2.80")
        reports.cancel()

    run_lab(scenario)
