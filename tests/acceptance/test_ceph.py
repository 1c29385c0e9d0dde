"""The lab's Ceph with the real ``openstack`` CLI: a volume on the rbd backend stays usable
with storage1 off (the status says degraded), creating one fails with both storage nodes
off (and so does a server, whose rbd disk no compute can make: rescheduled, then ERROR),
the cluster heals once they are back; an image in glance's rbd store outlives
controller1; a server's root disk on the cluster (nova's ``[libvirt] images_type = rbd``)
outlives its compute: the evacuated server boots the same disk on the other compute.

The cloud is this module's own (its faults would disturb the shared one): the ceph
backend enabled beside lvm, glance's default store rbd, nova's disks on rbd, the lab's
timers 50 times faster
(the OSDs' 20 s heartbeat grace is 0.4 s, the RADOS clients' 5 s timeout 0.1 s).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud, wait_for
from acceptance.test_compute_servers import CIRROS, COMPUTE1, COMPUTE2, Nova, token

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("ceph")
    config = tmp / "stacklab.ini"
    config.write_text("[stacklab]\nha_time_scale = 0.02\n"
                      "[DEFAULT]\nenabled_backends = lvm,ceph\n"
                      "[glance_store]\nstores = file,http,rbd\ndefault_store = rbd\n"
                      "[libvirt]\nimages_type = rbd\n")
    cloud = start_cloud(tmp, "--ephemeral", "--config", str(config))
    yield cloud
    stop_cloud(cloud)


def ceph_section(lab: LiveCloud) -> dict[str, Any]:
    body = json.loads(lab.stacklab("status", "--json").stdout)
    section: dict[str, Any] = next(s for s in body["sections"] if s["name"] == "ceph")
    return section


def volume(lab: LiveCloud, name: str) -> dict[str, Any]:
    shown: dict[str, Any] = lab.openstack_json("volume", "show", name)
    return shown


def create_volume(lab: LiveCloud, name: str) -> dict[str, Any]:
    lab.openstack("volume", "create", "--type", "ceph", "--size", "1", name)
    return dict(wait_for(f"volume {name} settles", lambda: volume(lab, name),
                         lambda v: v["status"] in ("available", "error"), timeout=30))


def test_a_ceph_volume_survives_storage1_and_creates_fail_without_storage(
        lab: LiveCloud) -> None:
    services = lab.openstack_json("volume", "service", "list")
    assert "rbd:volumes@ceph" in {s["Host"] for s in services}
    lab.openstack("volume", "type", "create", "--property", "volume_backend_name=ceph", "ceph")
    first = create_volume(lab, "on-ceph")
    assert first["status"] == "available"
    assert first["os-vol-host-attr:host"] == "rbd:volumes@ceph#ceph"
    assert ceph_section(lab)["title"].startswith("Ceph (HEALTH_OK: osds 2 up, 2 in")

    lab.stacklab("fault", "power-off", "storage1")
    degraded = wait_for("storage1's OSD marked down", lambda: ceph_section(lab),
                        lambda s: "osds 1 up" in s["title"])
    assert degraded["title"].startswith("Ceph (HEALTH_WARN")
    messages = [p["message"] for p in degraded["problems"]]
    assert any(m.startswith("ceph PG_DEGRADED: Degraded data redundancy") for m in messages)
    status = json.loads(lab.stacklab("status", "--json").stdout)
    assert status["status"] == "degraded"
    assert volume(lab, "on-ceph")["status"] == "available"
    assert create_volume(lab, "while-degraded")["status"] == "available"

    lab.stacklab("fault", "power-off", "storage2")
    assert ceph_section(lab)["title"].startswith("Ceph (UNREACHABLE")
    assert create_volume(lab, "no-storage")["status"] == "error"
    # A server's rbd disk cannot be made on either compute: nova reschedules, then gives up.
    nova = Nova(lab, token(lab))
    server = lab.openstack_json("server", "create", "--flavor", "m1.tiny", "--image", CIRROS,
                                "--nic", "none", "no-disk")["id"]
    failed = nova.wait(server, "ERROR", timeout=30)
    assert failed["fault"]["message"] == (
        "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
        f"build failures for instance {server}.")
    nova.call("DELETE", f"/servers/{server}")

    lab.stacklab("fault", "power-on", "storage1")
    lab.stacklab("fault", "power-on", "storage2")
    wait_for("the cluster heals", lambda: ceph_section(lab),
             lambda s: s["title"].startswith("Ceph (HEALTH_OK: osds 2 up, 2 in"))
    assert create_volume(lab, "healed")["status"] == "available"


def test_an_rbd_image_outlives_controller1(lab: LiveCloud, tmp_path: Path) -> None:
    data = tmp_path / "image.raw"
    data.write_bytes(b"stacklab rbd image " * 100)
    lab.openstack("image", "create", "--file", str(data), "--disk-format", "raw",
                  "--container-format", "bare", "shared-image")
    lab.stacklab("fault", "power-off", "controller1")
    try:
        out = tmp_path / "back.raw"
        wait_for("the image downloads through controller2",
                 lambda: lab.openstack("image", "save", "--file", str(out), "shared-image",
                                       check=False).returncode,
                 lambda code: code == 0, timeout=30)
        assert out.read_bytes() == data.read_bytes()
    finally:
        lab.stacklab("fault", "power-on", "controller1")


def test_a_servers_rbd_disk_outlives_its_compute(lab: LiveCloud) -> None:
    nova = Nova(lab, token(lab))
    server = lab.openstack_json("server", "create", "--flavor", "m1.tiny", "--image", CIRROS,
                                "--nic", "none", "--availability-zone", f"nova:{COMPUTE1}",
                                "on-rbd")["id"]
    nova.wait(server, "ACTIVE")
    # The guest grows its fresh disk on its first boot.
    first = nova.action(server, {"os-getConsoleOutput": {}}).json()["output"]
    assert "growroot: CHANGED" in first
    lab.stacklab("fault", "power-off", "compute1")
    try:
        wait_for("nova-compute on compute1 down", lambda: nova.call(
            "GET", f"/os-services?binary=nova-compute&host={COMPUTE1}").json()["services"],
            lambda services: services[0]["state"] == "down", timeout=30)
        # Before 2.14 the caller says the disk is on shared storage.
        lab.openstack("--os-compute-api-version", "2.13", "server", "evacuate",
                      "--shared-storage", server)
        shown = wait_for("the server rebuilt", lambda: nova.show(server),
                         lambda s: s["OS-EXT-STS:task_state"] is None
                         and s["OS-EXT-SRV-ATTR:host"] == COMPUTE2, timeout=30)
        assert shown["status"] == "ACTIVE"
        # On compute2 it boots the same disk, grown already.
        log = lab.openstack("console", "log", "show", server).stdout
        assert "growroot: NOCHANGE" in log
    finally:
        lab.stacklab("fault", "power-on", "compute1")
    nova.call("DELETE", f"/servers/{server}")
