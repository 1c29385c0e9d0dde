"""``[stacklab] vip_manager = pacemaker`` on a live ``stacklab up --ephemeral``: the proxies
are a two-node Pacemaker cluster holding the API VIPs, and the real ``openstack`` CLI gets
through again once the cluster has fenced a powered-off holder and moved the VIPs.

The lab's timers run 20 times faster (``ha_time_scale = 0.05``): token + consensus
(6.6 s), the priority fencing delay (3 s), the fence device's reboot (2 s) and haproxy's
start (1 s) are about 0.6 s of real time. Tests poll the lab's status for what they wait
for rather than sleep.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud
from acceptance.conftest import wait_for as poll

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]

# Pacemaker's failovers take about 12 s of lab time, fencing included.
wait_for = functools.partial(poll, timeout=60.0)

P1, P2 = "proxy1.openstack.local", "proxy2.openstack.local"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("pacemaker")
    config = tmp / "stacklab.ini"
    config.write_text("[stacklab]\nha_time_scale = 0.05\nvip_manager = pacemaker\n")
    cloud = start_cloud(tmp, "--ephemeral", "--config", str(config))
    yield cloud
    stop_cloud(cloud)


def status(lab: LiveCloud) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(lab.stacklab("status", "--json").stdout)
    return body


def section(body: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in body["sections"] if s["name"] == name)
    return found


def vip_holders(body: dict[str, Any]) -> set[str]:
    return {row[3] for row in section(body, "vips")["rows"]}




def test_power_off_the_holder_fences_it_and_the_cli_works_again(lab: LiveCloud) -> None:
    body = status(lab)
    assert body["status"] == "ready", body["problems"]
    assert section(body, "vips")["title"] == "VIPs (Pacemaker)"
    assert vip_holders(body) == {"proxy1"}
    cluster = section(body, "pacemaker")
    assert "DC proxy1" in cluster["title"] and "quorate" in cluster["title"]
    assert ["lb-haproxy", "systemd:haproxy", "Started", "proxy1"] in cluster["rows"]
    assert lab.openstack_json("flavor", "list")

    shown = lab.stacklab("fault", "power-off", "proxy1")
    assert shown.stdout.strip() == "proxy1 powered off"
    # The survivor waits out token + consensus, fences proxy1 (a power cycle through the
    # lab: it comes back on) and starts the VIPs, then haproxy.
    wait_for("the VIPs on proxy2", lambda: status(lab),
             lambda b: vip_holders(b) == {"proxy2"} and ["lb-haproxy", "systemd:haproxy",
                                                         "Started", "proxy2"]
             in section(b, "pacemaker")["rows"])
    assert lab.openstack_json("flavor", "list")
    issued = lab.openstack_json("token", "issue")
    assert issued["project_id"]
    body = wait_for("proxy1 back online", lambda: status(lab),
                    lambda b: ["node proxy1", "", "online", ""]
                    in section(b, "pacemaker")["rows"])
    powered = {node["name"]: node["state"] for node in body["nodes"]}
    assert powered["proxy1"] == "up"  # the fence device's reboot powered it on again
    fencing = [row for row in section(body, "pacemaker")["rows"]
               if row[0] == "fencing proxy1"]
    assert fencing == [["fencing proxy1", "fence-lab", "done", "proxy2"]]
    # Stickiness: the VIPs stay on proxy2 now that proxy1 is back.
    assert vip_holders(body) == {"proxy2"}
    text = lab.stacklab("status").stdout
    assert "Pacemaker (proxies: DC proxy2, quorate, partitions proxy1, proxy2 (quorate))" \
        in text, text
    assert lab.openstack_json("server", "list") == []


def test_cut_proxies_keep_one_holder_and_the_other_is_fenced(lab: LiveCloud) -> None:
    body = wait_for("ready", lambda: status(lab), lambda b: b["status"] == "ready")
    holder = vip_holders(body).pop()
    other = "proxy1" if holder == "proxy2" else "proxy2"
    lab.stacklab("fault", "partition", holder, other)
    # The holder wins the fencing race (the other's request waits priority-fencing-delay):
    # the other is power-cycled into the cut and stays without quorum (wait_for_all).
    wait_for("the cluster partitioned", lambda: status(lab),
             lambda b: any("partitioned" in r for r in b["control_plane"]["reasons"]))
    body = wait_for("the other proxy fenced", lambda: status(lab),
                    lambda b: [f"fencing {other}", "fence-lab", "done", holder]
                    in section(b, "pacemaker")["rows"])
    reasons = body["control_plane"]["reasons"]
    assert not any("split brain" in reason for reason in reasons), reasons
    assert f"pacemaker node {other}.openstack.local is offline" in reasons, reasons
    assert vip_holders(body) == {holder}
    assert lab.openstack_json("flavor", "list")
    lab.stacklab("fault", "heal")
    body = wait_for("ready", lambda: status(lab), lambda b: b["status"] == "ready")
    assert vip_holders(body) == {holder}
    assert lab.openstack_json("flavor", "list")


def test_pcs_standby_moves_the_vips_and_cleanup_clears_failures(lab: LiveCloud) -> None:
    body = wait_for("ready", lambda: status(lab), lambda b: b["status"] == "ready")
    holder = vip_holders(body).pop()
    other = "proxy1" if holder == "proxy2" else "proxy2"

    shown = lab.stacklab("pcs", "standby", holder)
    assert shown.stdout.splitlines()[0] == f"{holder}: standby"
    assert f"  {holder}.openstack.local: standby" in shown.stdout.splitlines()
    body = wait_for("the VIPs moved off the standby node", lambda: status(lab),
                    lambda b: vip_holders(b) == {other})
    assert [f"node {holder}", "", "standby", ""] in section(body, "pacemaker")["rows"]
    assert lab.openstack_json("flavor", "list")
    lab.stacklab("pcs", "unstandby", holder)
    body = wait_for("the node online again", lambda: status(lab),
                    lambda b: [f"node {holder}", "", "online", ""]
                    in section(b, "pacemaker")["rows"])
    assert vip_holders(body) == {other}  # stickiness: nothing moves back

    # haproxy killed under Pacemaker: its monitor sees it, restarts it, counts a failure;
    # cleanup forgets the count.
    lab.stacklab("fault", "stop", other, "haproxy")
    wait_for("a failure counted", lambda: status(lab),
             lambda b: any(row[0] == "failures lb-haproxy" and row[3] == other
                           for row in section(b, "pacemaker")["rows"]))
    cleaned = lab.stacklab("pcs", "cleanup", "lb-haproxy", "--node", other)
    assert cleaned.stdout.splitlines()[0] == f"cleaned up lb-haproxy on {other}"
    body = status(lab)
    assert not any(row[0].startswith("failures") for row in section(body, "pacemaker")["rows"])

    unknown = lab.stacklab("pcs", "cleanup", "no-such-resource", check=False)
    assert unknown.returncode == 1
    assert "Could not find resource: no-such-resource" in unknown.stderr
    stranger = lab.stacklab("pcs", "standby", "compute1", check=False)
    assert stranger.returncode == 1
    assert "not a member of the Pacemaker cluster" in stranger.stderr
    lab.stacklab("fault", "heal")
