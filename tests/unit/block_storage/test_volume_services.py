"""cinder's services: one scheduler per controller, one cinder-volume per host@backend,
up while they report, down once a node or a process stops, enabled and disabled."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from stacklab.block_storage.servicegroup import INITIAL_REPORTING_DELAY
from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from support.inprocess import admin_token, run_in_virtual_time
from unit.block_storage.cinder_calls import member_token

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"
V3 = "/volume/v3"


def at(token: str, version: str = "3.71") -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"volume {version}"}


def states(cloud: Cloud) -> dict[tuple[str, str], str]:
    service = cloud.block_storage
    return {(r.host, r.binary): "up" if service.services.is_up(r) else "down"
            for r in service.list_services()}


def test_the_lab_has_a_scheduler_per_controller_and_an_lvm_volume_service_each(
        client: TestClient) -> None:
    token = admin_token(client)
    listed = client.get(f"{V3}/os-services", headers=at(token))
    assert listed.status_code == 200, listed.text
    assert listed.headers["OpenStack-API-Version"] == "volume 3.71"
    rows = listed.json()["services"]
    assert [(r["binary"], r["host"]) for r in rows] == [
        ("cinder-scheduler", C1), ("cinder-scheduler", C2),
        ("cinder-volume", f"{C1}@lvm"), ("cinder-volume", f"{C2}@lvm"),
        ("cinder-backup", C1), ("cinder-backup", C2)]
    volume = rows[2]
    assert volume["zone"] == "nova" and volume["status"] == "enabled"
    # Just registered: up until service_down_time after its creation, as cinder's is_up.
    assert volume["state"] == "up" and volume["updated_at"] is None
    assert volume["cluster"] is None and volume["backend_state"] == "up"
    assert volume["frozen"] is False and volume["replication_status"] == "disabled"
    assert "frozen" not in rows[0] and "backend_state" not in rows[0]
    # Before 3.7 no cluster; filters by host and binary.
    old = client.get(f"{V3}/os-services?binary=cinder-volume", headers=at(token, "3.0"))
    assert [("cluster" in r, r["binary"]) for r in old.json()["services"]] == [
        (False, "cinder-volume"), (False, "cinder-volume")]
    one = client.get(f"{V3}/os-services?host={C2}@lvm", headers=at(token)).json()
    assert [r["host"] for r in one["services"]] == [f"{C2}@lvm"]


def test_disable_and_enable_a_volume_service(client: TestClient) -> None:
    token = admin_token(client)
    body = {"host": f"{C1}@lvm", "binary": "cinder-volume"}
    disabled = client.put(f"{V3}/os-services/disable", headers=at(token), json=body)
    assert disabled.status_code == 200, disabled.text
    assert disabled.json() == {"host": f"{C1}@lvm", "service": "", "binary": "cinder-volume",
                               "status": "disabled", "disabled": True}
    reason = client.put(f"{V3}/os-services/disable-log-reason", headers=at(token),
                        json={**body, "disabled_reason": "maintenance"})
    assert reason.json()["disabled_reason"] == "maintenance"
    rows = {r["host"]: r for r in client.get(f"{V3}/os-services", headers=at(token)).json()[
        "services"] if r["binary"] == "cinder-volume"}
    assert rows[f"{C1}@lvm"]["status"] == "disabled"
    assert rows[f"{C1}@lvm"]["disabled_reason"] == "maintenance"
    assert rows[f"{C1}@lvm"]["updated_at"] is not None
    enabled = client.put(f"{V3}/os-services/enable", headers=at(token), json=body)
    assert enabled.json()["status"] == "enabled"
    listed = client.get(f"{V3}/os-services", headers=at(token)).json()["services"]
    row = next(r for r in listed if r["host"] == f"{C1}@lvm")
    assert (row["status"], row["disabled_reason"]) == ("enabled", None)


def test_bad_service_updates_are_refused(client: TestClient) -> None:
    token = admin_token(client)

    def put(action: str, body: Any) -> Any:
        return client.put(f"{V3}/os-services/{action}", headers=at(token), json=body)

    missing = put("disable", {"host": f"{C1}@lvm"})
    assert missing.status_code == 400, missing.text
    extra = put("disable", {"host": f"{C1}@lvm", "binary": "cinder-volume", "x": 1})
    assert extra.status_code == 400 and "x" in extra.json()["badRequest"]["message"]
    long_host = put("enable", {"host": "h" * 256, "binary": "cinder-volume"})
    assert long_host.status_code == 400
    assert "host" in long_host.json()["badRequest"]["message"]
    unknown = put("enable", {"host": "nowhere@lvm", "binary": "cinder-volume"})
    assert unknown.status_code == 404
    assert unknown.json()["itemNotFound"]["message"] == (
        "Could not find binary cinder-volume on host nowhere@lvm.")
    assert put("no-such-action", {}).status_code == 404


def test_a_member_may_not_list_services(cloud: Cloud, client: TestClient) -> None:
    token = admin_token(client)
    member, _ = member_token(client, token, "services")
    refused = client.get(f"{V3}/os-services", headers=at(member))
    assert refused.status_code == 403
    assert "volume_extension:services:index" in refused.json()["forbidden"]["message"]


def test_version_discovery_is_cinders(client: TestClient) -> None:
    root = client.get("/volume/")
    assert root.status_code == 300
    version = root.json()["versions"][0]
    assert (version["id"], version["min_version"], version["version"]) == (
        "v3.0", "3.0", "3.71")
    assert {"rel": "self", "href": "http://testserver/volume/v3/"} in version["links"]
    assert client.get("/volume/v3/").json() == root.json()
    token = admin_token(client)
    too_new = client.get(f"{V3}/os-services", headers=at(token, "3.72"))
    assert too_new.status_code == 406


def test_volume_services_go_down_with_their_node_or_process_and_come_back() -> None:
    async def scenario(cloud: Cloud, clock: VirtualClock) -> None:
        down_time = cloud.config.DEFAULT.service_down_time
        report = cloud.config.DEFAULT.report_interval
        await clock.run_for(INITIAL_REPORTING_DELAY + report)
        assert set(states(cloud).values()) == {"up"}
        volume = next(v for v in cloud.block_storage.volume_managers if v.node == C1)
        assert volume.listener is not None and not volume.listener.paused

        cloud.node_down(C1)
        # The RPC servers of its cinder-volume and cinder-scheduler stop consuming at once.
        assert volume.listener.paused
        scheduler = next(s for s in cloud.block_storage.scheduler_managers if s.node == C1)
        assert scheduler.listener is not None and scheduler.listener.paused
        await clock.run_for(down_time - report)
        assert states(cloud)[(f"{C1}@lvm", "cinder-volume")] == "up"
        await clock.run_for(2 * report)
        now = states(cloud)
        assert now[(f"{C1}@lvm", "cinder-volume")] == "down"
        assert now[(C1, "cinder-scheduler")] == "down"
        assert now[(f"{C2}@lvm", "cinder-volume")] == "up"

        cloud.node_up(C1)
        assert not volume.listener.paused
        await clock.run_for(report)
        assert set(states(cloud).values()) == {"up"}

        # Only the process stopped: its RPC server pauses, its service goes down alone.
        cloud.runtime.stop_service(C2, "cinder-volume")
        other = next(v for v in cloud.block_storage.volume_managers if v.node == C2)
        assert other.listener is not None and other.listener.paused
        await clock.run_for(down_time + report)
        now = states(cloud)
        assert now[(f"{C2}@lvm", "cinder-volume")] == "down"
        assert now[(C2, "cinder-scheduler")] == "up"
        cloud.runtime.start_service(C2, "cinder-volume")
        assert not other.listener.paused
        await clock.run_for(report)
        assert states(cloud)[(f"{C2}@lvm", "cinder-volume")] == "up"

    run_in_virtual_time(scenario)
