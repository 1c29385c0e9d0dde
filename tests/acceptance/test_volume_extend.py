"""A server's volumes with the real CLI: extending one attached to a server (cinder 3.42:
it grows and stays in-use, nova records the extend as an action of the server), and the
image of a volume-backed server."""

from __future__ import annotations

import json

import pytest

from acceptance.conftest import LiveCloud

# The servers and volumes tests' fixtures (their admin client, flavors, clean-up).
from acceptance.test_compute_servers import (  # noqa: F401
    Lab,
    cirros_id,
    cli_fails,
    lab,
    nova,
    sdk,
    unique,
)
from acceptance.test_compute_volumes import Volumes, until, volumes  # noqa: F401

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]


def test_cli_extends_an_attached_volume_from_3_42(live: LiveCloud, lab: Lab,  # noqa: F811
                                                   volumes: Volumes) -> None:  # noqa: F811
    server = lab.boot()
    volume = volumes.create()
    lab.cli("server", "add", "volume", server["id"], volume["id"])
    volumes.status(volume["id"], "in-use")
    # Before 3.42 the client itself refuses an in-use volume.
    refused = cli_fails(live, "--os-volume-api-version", "3.41", "volume", "set", "--size",
                        "2", volume["id"])
    assert "in-use" in refused or "available" in refused, refused
    live.openstack("--os-volume-api-version", "3.42", "volume", "set", "--size", "2",
                   volume["id"])
    shown = until("the volume extended", lambda: volumes.show(volume["id"]),
                  lambda v: v["size"] == 2 and v["status"] == "in-use")
    assert [a["server_id"] for a in shown["attachments"]] == [server["id"]]
    events = until("nova's extend_volume action",
                   lambda: live.openstack_json("server", "event", "list", server["id"]),
                   lambda rows: any(r["Action"] == "extend_volume" for r in rows))
    (extend,) = [r for r in events if r["Action"] == "extend_volume"]
    detail = live.openstack_json("--os-compute-api-version", "2.84", "server", "event",
                                 "show", server["id"], extend["Request ID"])
    assert [(e["event"], e["result"]) for e in detail["events"]] == [
        ("compute_extend_volume", "Success")]


def test_cli_image_of_a_volume_backed_server(live: LiveCloud, lab: Lab,  # noqa: F811
                                             volumes: Volumes) -> None:  # noqa: F811
    """``server image create`` of a server booted from a volume: nova snapshots the volume
    in cinder and answers an empty image whose block device mapping names the snapshot."""
    created = live.openstack_json("server", "create", "--flavor", lab.small["name"],
                                  "--image", lab.image_id, "--boot-from-volume", "1",
                                  "--nic", "none", "--wait", unique("bfv"))
    lab.track(created["id"])
    (root,) = lab.nova.show(created["id"])["os-extended-volumes:volumes_attached"]
    volumes.made.append(root["id"])
    name = unique("bfv-snap")
    made = live.openstack_json("server", "image", "create", "--name", name, created["id"])
    lab.images.append(made["id"])
    image = lab.nova.wait_image(made["id"])
    assert (image["size"], image["disk_format"]) == (0, "qcow2")
    (mapping,) = json.loads(image["block_device_mapping"])
    assert (mapping["source_type"], mapping["destination_type"], mapping["boot_index"]) == (
        "snapshot", "volume", 0)
    snapshot = until("the volume's snapshot",
                     lambda: live.openstack_json("volume", "snapshot", "show",
                                                 mapping["snapshot_id"]),
                     lambda s: s["status"] == "available")
    assert snapshot["volume_id"] == root["id"]
    assert snapshot["name"] == f"snapshot for {name}"
    live.openstack("volume", "snapshot", "delete", mapping["snapshot_id"])
