"""``[stacklab] vip_manager = pacemaker``: the proxies as a two-node Pacemaker cluster hold
the API VIPs, and the request path (who holds the VIP?) works unchanged (ha-semantics §8).
A whole in-process cloud in virtual time."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.clock import VirtualClock
from stacklab.cloud import Cloud
from stacklab.ha.controlplane import ControlPlane
from stacklab.ha.pacemaker import LAB_PRIORITY_FENCING_DELAY, CorosyncOptions
from stacklab.ha.pcmk_vips import FENCE_OFF_TIME, FENCE_ON_TIME
from stacklab.lab.status import SECTIONS, lab_status
from support.inprocess import ephemeral_config, run_in_virtual_time

from .test_request_path import P1, P2, Lab

# Token + consensus (two nodes), the priority fencing delay (the lost node ran the VIPs),
# the device's reboot, then the VIPs start at once and haproxy a second later.
VIPS_MOVE = (CorosyncOptions(two_node=True).loss_detection(2) + LAB_PRIORITY_FENCING_DELAY
             + FENCE_OFF_TIME + FENCE_ON_TIME)
HAPROXY_START = 1.0


def in_pacemaker_lab(test: Any) -> None:
    config = ephemeral_config()
    config.stacklab.vip_manager = "pacemaker"

    async def body(cloud: Cloud, clock: VirtualClock) -> None:
        lab = Lab(cloud, clock)
        try:
            await test(lab)
        finally:
            await lab.client.aclose()
        assert cloud.unexpected_errors == 0

    run_in_virtual_time(body, config)


def cluster_of(lab: Lab) -> dict[str, Any]:
    found: dict[str, Any] = lab.status()["pacemaker"]
    return found


def test_an_unknown_vip_manager_is_refused() -> None:
    config = ephemeral_config()
    config.stacklab.vip_manager = "heartbeat"
    with pytest.raises(ValueError, match="vip_manager"):
        Cloud(config, clock=VirtualClock())


def test_the_first_proxy_holds_the_vips_with_haproxy_and_requests_go_through() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        status = lab.status()
        assert status["vip_manager"] == "pacemaker" and "keepalived" not in status
        cluster = cluster_of(lab)
        assert cluster["dc"] == P1 and cluster["quorum"]["quorate"]
        assert {v["holder"] for v in cluster["vips"]} == {P1}
        rows = {(r["resource"], r["node"]): r["state"] for r in cluster["resources"]}
        assert rows[("lb-haproxy", P1)] == "Started"
        assert ("lb-haproxy", P2) not in rows  # the clone runs only with the VIPs
        running = {h["node"]: h["running"] for h in status["haproxy"]}
        assert running == {P1: True, P2: False}
        assert lab.cloud.health()["status"] == "ready"
        shown = await lab_status(lab.cloud.parts, lab.token, SECTIONS)
        section = next(s for s in shown["sections"] if s["name"] == "pacemaker")
        assert "DC proxy1" in section["title"] and "quorate" in section["title"]
        assert ["lb-haproxy", "systemd:haproxy", "Started", "proxy1"] in section["rows"]

    in_pacemaker_lab(test)


def test_a_powered_off_holder_is_fenced_then_a_waiting_client_is_served_by_the_other() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        plane: ControlPlane = lab.cloud.controlplane
        lab.cloud.runtime.power_off(P1)
        # The client's SYN is retransmitted after 1, 2, 4, 8 s: at 15 s the VIPs and
        # haproxy are up on proxy2 (VIPS_MOVE + HAPROXY_START = 12.6 s).
        response, waited = await lab.send("GET", "/compute/v2.1/flavors")
        assert response.status_code == 200, response.text
        assert VIPS_MOVE + HAPROXY_START <= waited <= 15.0 + 1.0
        assert plane.vip_holder() == P2
        # The fence device rebooted proxy1 (the lab saw it come back); with stickiness the
        # VIPs stay where they are.
        assert lab.cloud.runtime.is_up(P1)
        await lab.wait(10.0)
        cluster = cluster_of(lab)
        assert [n["state"] for n in cluster["nodes"]] == ["online", "online"]
        assert plane.vip_holder() == P2
        events = plane.pacemaker.cluster.events if plane.pacemaker else []
        fenced = [e for e in events if e.kind == "fenced"]
        assert len(fenced) == 1 and fenced[0].detail == P1

    in_pacemaker_lab(test)


def test_cut_proxies_keep_one_vip_holder_unlike_keepalived() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        plane: ControlPlane = lab.cloud.controlplane
        assert plane.pacemaker is not None
        lab.cloud.runtime.partition([[P1], [P2]])
        for _ in range(60):
            await lab.wait(0.5)
            assert plane.pacemaker.cluster.active_nodes("vips") == [P1]
        response, _ = await lab.send("GET", "/compute/v2.1/flavors")
        assert response.status_code == 200
        reasons = lab.cloud.health()["control_plane"]["reasons"]
        assert not any("split brain" in reason for reason in reasons)
        assert any("partitioned" in reason for reason in reasons), reasons
        lab.cloud.runtime.heal()
        await lab.wait(5.0)
        assert plane.vip_holder() == P1
        assert [n["state"] for n in cluster_of(lab)["nodes"]] == ["online", "online"]

    in_pacemaker_lab(test)


def test_haproxy_stopped_on_the_holder_is_restarted_by_the_cluster() -> None:
    async def test(lab: Lab) -> None:
        await lab.login()
        runtime = lab.cloud.runtime
        runtime.stop_service(P1, "haproxy")
        await lab.wait(1.0 + 2 * HAPROXY_START + 0.5)  # monitor, stop, start
        assert runtime.running(P1, "haproxy")  # systemctl start by the cluster
        assert lab.cloud.controlplane.vip_holder() == P1
        assert cluster_of(lab)["failcounts"] == [
            {"resource": "lb-haproxy", "node": P1, "count": 1}]
        assert lab.cloud.health()["status"] == "ready"
        response, _ = await lab.send("GET", "/compute/v2.1/flavors")
        assert response.status_code == 200

    in_pacemaker_lab(test)
