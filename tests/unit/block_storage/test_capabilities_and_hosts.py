"""A backend's capabilities (asked of its cinder-volume over RPC) and os-hosts."""

from __future__ import annotations

import asyncio

from unit.block_storage.cinder_calls import Lab, run_lab

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"


def test_capabilities_are_the_drivers_and_agree_with_the_pools() -> None:
    async def scenario(lab: Lab) -> None:
        shown = await lab.call("GET", f"/capabilities/{C1}@lvm")
        assert shown["namespace"] == f"OS::Storage::Capabilities::{C1}@lvm"
        assert (shown["volume_backend_name"], shown["vendor_name"], shown["storage_protocol"],
                shown["driver_version"], shown["pool_name"], shown["replication_targets"]) == (
            "lvm", "Open Source", "iSCSI", "3.0.0", None, [])
        assert shown["properties"]["thin_provisioning"] == {
            "title": "Thin Provisioning", "description": "Sets thin provisioning.",
            "type": "boolean"}
        assert sorted(shown["properties"]) == [
            "compression", "qos", "replication_enabled", "thin_provisioning"]
        pools = (await lab.call("GET", "/scheduler-stats/get_pools?detail=true"))["pools"]
        for pool in pools:
            caps = pool["capabilities"]
            backend = pool["name"].partition("#")[0]
            mine = await lab.call("GET", f"/capabilities/{backend}")
            assert [mine[k] for k in ("vendor_name", "volume_backend_name",
                                      "storage_protocol")] == [
                caps[k] for k in ("vendor_name", "volume_backend_name", "storage_protocol")]
        # A bare host names its backends; an unknown one is 404; members may not ask.
        assert (await lab.call("GET", f"/capabilities/{C2}"))["namespace"].endswith(
            f"{C2}@lvm")
        missing = await lab.call("GET", "/capabilities/nowhere@lvm", expect=404)
        assert missing["itemNotFound"]["message"] == "Can't find service: nowhere@lvm"
        token, _ = await lab.member("caps")
        await lab.call("GET", f"/capabilities/{C1}@lvm", token=token, expect=403)

        # Its cinder-volume stopped: the call times out, cinder's RPCTimeout (502).
        lab.cloud.runtime.stop_service(C1, "cinder-volume")
        answer, _ = await asyncio.gather(
            lab.call("GET", f"/capabilities/{C1}@lvm", expect=502),
            lab.settle(lab.cloud.config.DEFAULT.rpc_response_timeout + 5))
        assert "Timeout while requesting capabilities from backend" in str(answer)

    run_lab(scenario)


def test_os_hosts_lists_enabled_services_and_shows_a_volume_hosts_usage() -> None:
    async def scenario(lab: Lab) -> None:
        volume = (await lab.create(size=2))["volume"]["id"]
        await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": volume}}, expect=202)
        await lab.settle()
        host = (await lab.volume(volume))["os-vol-host-attr:host"].partition("#")[0]
        await lab.call("PUT", "/os-services/disable",
                       {"host": C2, "binary": "cinder-scheduler"})
        hosts = (await lab.call("GET", "/os-hosts"))["hosts"]
        assert sorted((h["host_name"], h["service"]) for h in hosts) == sorted([
            (C1, "cinder-backup"), (C1, "cinder-scheduler"), (C2, "cinder-backup"),
            (f"{C1}@lvm", "cinder-volume"), (f"{C2}@lvm", "cinder-volume")])
        assert {(h["zone"], h["service-status"], h["service-state"]) for h in hosts} == {
            ("nova", "available", "enabled")}
        assert (await lab.call("GET", "/os-hosts?zone=elsewhere"))["hosts"] == []

        rows = (await lab.call("GET", f"/os-hosts/{host}"))["host"]
        project = (await lab.volume(volume))["os-vol-tenant-attr:tenant_id"]
        assert [r["resource"] for r in rows] == [
            {"host": host, "project": project_name, "volume_count": "1",
             "total_volume_gb": "2", "snapshot_count": "1", "total_snapshot_gb": "2"}
            for project_name in ("(total)", project)]
        other = f"{C2}@lvm" if host == f"{C1}@lvm" else f"{C1}@lvm"
        assert (await lab.call("GET", f"/os-hosts/{other}"))["host"] == [{"resource": {
            "host": other, "project": "(total)", "volume_count": "0",
            "total_volume_gb": "0", "snapshot_count": "0", "total_snapshot_gb": "0"}}]
        # A host with no cinder-volume is 404.
        missing = await lab.call("GET", f"/os-hosts/{C1}x", expect=404)
        assert missing["itemNotFound"]["message"] == (
            f"Service cinder-volume could not be found on host {C1}x.")

    run_lab(scenario)


def test_extensions_lists_cinders_contrib_extensions() -> None:
    async def scenario(lab: Lab) -> None:
        token, _ = await lab.member("ext")
        listed = (await lab.call("GET", "/extensions", token=token))["extensions"]
        aliases = [e["alias"] for e in listed]
        assert len(aliases) == len(set(aliases)) == 32
        assert {"os-hosts", "capabilities", "backups", "os-volume-transfer",
                "os-quota-class-sets"} <= set(aliases)
        hosts = await lab.call("GET", "/extensions/os-hosts", token=token)
        assert hosts == {"extension": {
            "name": "Hosts", "alias": "os-hosts",
            "description": "Admin-only host administration.",
            "updated": "2011-06-29T00:00:00+00:00", "links": []}}
        assert hosts["extension"] in listed
        await lab.call("GET", "/extensions/nothing", token=token, expect=404)

    run_lab(scenario)
