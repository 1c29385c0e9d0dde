"""nova and cinder together with the real CLI: migrating an attached volume (cinder asks
nova to swap it), rebuilding a volume-backed server at 2.93 (cinder re-images its root
volume), and booting from the image of a volume-backed server (its volume made from the
image's snapshot)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acceptance.conftest import LiveCloud

# The servers and volumes tests' fixtures (their admin client, flavors, clean-up).
from acceptance.test_compute_servers import (  # noqa: F401
    CIRROS,
    Lab,
    actions,
    cirros_id,
    cli_fails,
    lab,
    nova,
    sdk,
    unique,
)
from acceptance.test_compute_volumes import Volumes, until, volumes  # noqa: F401

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]


def test_cli_migrates_an_attached_volume_through_nova(live: LiveCloud, lab: Lab,  # noqa: F811
                                                      volumes: Volumes) -> None:  # noqa: F811
    server = lab.boot()
    volume = volumes.create()
    lab.cli("server", "add", "volume", server["id"], volume["id"])
    before = volumes.status(volume["id"], "in-use")
    backend = before["os-vol-host-attr:host"].partition("#")[0]
    services = live.openstack_json("volume", "service", "list", "--service", "cinder-volume")
    other = next(s["Host"] for s in services if s["Host"] != backend and s["State"] == "up")
    live.openstack("volume", "migrate", "--host", other, volume["id"])
    moved = until("the migration", lambda: volumes.show(volume["id"]),
                  lambda v: v["os-vol-mig-status-attr:migstat"] in ("success", "error"))
    assert moved["os-vol-mig-status-attr:migstat"] == "success", moved
    assert (moved["status"], moved["os-vol-host-attr:host"].partition("#")[0]) == (
        "in-use", other)
    assert [a["server_id"] for a in moved["attachments"]] == [server["id"]]
    # nova swapped the server onto the copy, which took the volume's id.
    assert "swap_volume" in actions(lab.nova, server["id"])
    listed = live.openstack_json("server", "volume", "list", server["id"])
    assert [row["Volume ID"] for row in listed] == [volume["id"]]


def test_cli_rebuilds_and_boots_from_the_image_of_a_volume_backed_server(
        live: LiveCloud, lab: Lab, volumes: Volumes, tmp_path: Path) -> None:  # noqa: F811
    # The CLI's --wait polls every 5 s: the test waits through nova's API instead.
    created = live.openstack_json("server", "create", "--flavor", lab.small["name"],
                                  "--image", lab.image_id, "--boot-from-volume", "1",
                                  "--nic", "none", unique("bfv"))
    lab.track(created["id"])
    (root,) = lab.nova.wait(created["id"], "ACTIVE")["os-extended-volumes:volumes_attached"]
    volumes.made.append(root["id"])  # the fixture's clean-up, should the test stop early
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 4096)
    other = live.openstack_json("image", "create", "--disk-format", "raw",
                                "--container-format", "bare", "--file", str(disk),
                                unique("other"))
    lab.images.append(other["id"])
    refused = cli_fails(live, "--os-compute-api-version", "2.92", "server", "rebuild",
                        "--image", other["id"], created["id"])
    assert "Unable to rebuild with a different image" in refused, refused
    live.openstack("--os-compute-api-version", "2.93", "server", "rebuild", "--image",
                   other["id"], "--reimage-boot-volume", created["id"])
    lab.nova.wait(created["id"], "ACTIVE")
    reimaged = volumes.status(root["id"], "in-use")
    assert reimaged["volume_image_metadata"]["image_id"] == other["id"]

    image = live.openstack_json("server", "image", "create", "--name", unique("bfv-snap"),
                                created["id"])
    lab.images.append(image["id"])
    (mapping,) = json.loads(lab.nova.wait_image(image["id"])["block_device_mapping"])
    booted = live.openstack_json("server", "create", "--flavor", lab.small["name"],
                                 "--image", image["id"], "--nic", "none", unique("from-snap"))
    lab.track(booted["id"])
    (made,) = lab.nova.wait(booted["id"], "ACTIVE")["os-extended-volumes:volumes_attached"]
    volumes.made.insert(0, made["id"])
    shown = volumes.status(made["id"], "in-use")
    assert shown["snapshot_id"] == mapping["snapshot_id"]
    assert shown["volume_image_metadata"]["image_id"] == other["id"]
    # Clean up in order: the servers, the volume made from the snapshot, the snapshot,
    # then the volume it was taken of (cinder keeps a volume that has snapshots).
    for server in (booted["id"], created["id"]):
        lab.nova.call("DELETE", f"/servers/{server}")
        lab.nova.wait_gone(server)
    for volume, snapshot in ((made["id"], None), (None, mapping["snapshot_id"]),
                             (root["id"], None)):
        kind, ident = ("volume", volume) if volume else ("volume snapshot", snapshot)
        live.openstack(*kind.split(), "delete", str(ident), check=False)
        until(f"{kind} {ident} gone", lambda k=kind, i=ident: live.openstack(
            *k.split(), "show", str(i), check=False).returncode != 0, bool)
