"""Cinder's HA story with the real ``openstack`` CLI (issue 13, the course's Cinder HA
slide): controller1 loses power; after ``service_down_time`` ``volume service list`` shows
its cinder-scheduler and its ``controller1@lvm`` cinder-volume ``down``. A volume on the
shared rbd backend, whose one service (``backend_host = rbd:volumes``) either controller
runs, is still served by controller2; a volume on controller1's LVM backend is stranded:
its delete is accepted and it stays ``deleting``, connecting another fails with cinder's
500 after ``rpc_response_timeout``. ``cinder-manage volume update_host``
moves controller1's volumes to controller2, which then serves them; once controller1 is
back its service is ``up`` again and consumes what waited in its queue.

The cloud is this module's own (its faults would disturb the shared one): the ceph
backend enabled beside lvm, the lab's timers 20 times faster (cinder's 10 s reports and
60 s ``service_down_time`` are 0.5 s and 3 s of real time), and RabbitMQ's partition
handling ``ignore``: with ``pause_minority`` the two-node cluster pauses controller2's
broker with controller1 gone, and nothing on the bus would move at all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud, wait_for

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"
RBD = "rbd:volumes@ceph"
SERVER = "6c8cf6e0-4c8f-442f-9196-9679737feec6"  # cinder does not ask nova
CONNECTOR = {"initiator": "iqn.1993-08.org.debian:01:acc", "ip": "192.0.2.10",
             "host": "compute1", "platform": "x86_64", "os_type": "linux2",
             "multipath": False}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("cinder-ha")
    config = tmp / "stacklab.ini"
    config.write_text("[stacklab]\nha_time_scale = 0.05\n"
                      "rabbitmq_cluster_partition_handling = ignore\n"
                      "[DEFAULT]\nenabled_backends = lvm,ceph\n")
    cloud = start_cloud(tmp, "--ephemeral", "--config", str(config))
    yield cloud
    stop_cloud(cloud)


def states(lab: LiveCloud) -> dict[tuple[str, str], str]:
    """(binary, host) -> State, as ``openstack volume service list`` shows them."""
    return {(row["Binary"], row["Host"]): row["State"]
            for row in lab.openstack_json("volume", "service", "list")}


def show(lab: LiveCloud, name: str) -> dict[str, Any]:
    shown: dict[str, Any] = lab.openstack_json("volume", "show", name)
    return shown


def settled(lab: LiveCloud, name: str) -> dict[str, Any]:
    return dict(wait_for(f"volume {name} settles", lambda: show(lab, name),
                         lambda v: v["status"] in ("available", "error"), timeout=30))


def create(lab: LiveCloud, kind: str, name: str) -> dict[str, Any]:
    lab.openstack("volume", "create", "--type", kind, "--size", "1", name)
    return settled(lab, name)


def test_a_dead_controller_strands_its_lvm_volumes_not_the_shared_ones(
        lab: LiveCloud) -> None:
    for backend in ("lvm", "ceph"):
        lab.openstack("volume", "type", "create", "--property",
                      f"volume_backend_name={backend}", backend)
    assert set(states(lab).values()) == {"up"}
    # Two LVM volumes on controller1: controller2's backend disabled while they are made.
    lab.openstack("volume", "service", "set", "--disable", f"{C2}@lvm", "cinder-volume")
    for name in ("stranded", "unreachable", "moved"):
        assert create(lab, "lvm", name)["os-vol-host-attr:host"] == f"{C1}@lvm#lvm"
    lab.openstack("volume", "service", "set", "--enable", f"{C2}@lvm", "cinder-volume")
    assert create(lab, "ceph", "shared")["os-vol-host-attr:host"] == f"{RBD}#ceph"

    lab.stacklab("fault", "power-off", "controller1")
    try:
        seen = wait_for("controller1's cinder services down", lambda: states(lab),
                        lambda s: s[("cinder-volume", f"{C1}@lvm")] == "down"
                        and s[("cinder-scheduler", C1)] == "down", timeout=60)
        # controller2's own, and the shared backend's one service, which it runs too.
        assert seen[("cinder-volume", f"{C2}@lvm")] == "up"
        assert seen[("cinder-scheduler", C2)] == "up"
        assert seen[("cinder-volume", RBD)] == "up"

        # The shared volume is managed as before: controller2 serves its queue.
        lab.openstack("volume", "set", "--size", "2", "shared")
        grown = wait_for("the shared volume extended", lambda: show(lab, "shared"),
                         lambda v: v["status"] != "extending", timeout=30)
        assert (grown["status"], grown["size"]) == ("available", 2)
        snap = lab.openstack_json("volume", "snapshot", "create", "--volume", "shared",
                                  "shared-snap")
        made = wait_for("the shared volume's snapshot", lambda: lab.openstack_json(
            "volume", "snapshot", "show", snap["id"]), lambda s: s["status"] != "creating",
            timeout=30)
        assert made["status"] == "available"

        # The LVM volume's requests wait in its dead service's queue: stranded.
        lab.openstack("volume", "delete", "stranded")
        time.sleep(2)  # forty of cinder's report intervals on the lab's clock
        assert show(lab, "stranded")["status"] == "deleting"
        # Connecting it is an RPC call to that service: cinder's 500 once
        # rpc_response_timeout (60 s on the lab's clock) has passed.
        conn = lab.connect()
        answer = conn.block_storage.post("/attachments", json={"attachment": {
            "volume_uuid": show(lab, "unreachable")["id"], "instance_uuid": SERVER,
            "connector": CONNECTOR}}, microversion="3.54")
        assert answer.status_code == 500, answer.text
        assert answer.json()["computeFault"]["message"].startswith(
            "Unable to create attachment for volume")
        # New LVM volumes go to the live backend only.
        assert create(lab, "lvm", "fresh")["os-vol-host-attr:host"] == f"{C2}@lvm#lvm"

        # cinder-manage volume update_host: controller2 takes controller1's volumes.
        moved = lab.stacklab("cinder-manage", "volume", "update_host", "--currenthost",
                             f"{C1}@lvm", "--newhost", f"{C2}@lvm", "--json")
        assert show(lab, "moved")["id"] in moved.stdout
        assert show(lab, "moved")["os-vol-host-attr:host"] == f"{C2}@lvm"
        lab.openstack("volume", "set", "--size", "2", "moved")
        grown = wait_for("the moved volume extended", lambda: show(lab, "moved"),
                         lambda v: v["status"] != "extending", timeout=30)
        assert (grown["status"], grown["size"]) == ("available", 2)
    finally:
        lab.stacklab("fault", "power-on", "controller1")

    wait_for("controller1's cinder services up", lambda: states(lab),
             lambda s: set(s.values()) == {"up"}, timeout=60)
    # Back, controller1's cinder-volume consumes the delete that waited for it.
    wait_for("the stranded volume deleted",
             lambda: lab.openstack("volume", "show", "stranded", check=False).returncode,
             lambda code: code != 0, timeout=30)
    assert create(lab, "lvm", "after")["status"] == "available"
