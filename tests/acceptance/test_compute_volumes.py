"""Servers and volumes on a live cloud: nova attaching cinder's volumes and booting from them,
with the real CLI and SDK, bodies checked against nova's schemas."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from acceptance.conftest import LiveCloud

# The servers tests' fixtures (their admin client, flavors and clean-up), shared.
from acceptance.test_compute_servers import (  # noqa: F401
    CIRROS,
    Lab,
    Nova,
    cirros_id,
    lab,
    nova,
    sdk,
    unique,
)
from support.apiref import assert_nova_response

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]


def until(what: str, probe: Callable[[], Any], done: Callable[[Any], bool],
          timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    seen = probe()
    while not done(seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still {seen}")
        time.sleep(0.05)
        seen = probe()
    return seen


class Volumes:
    """The CLI's volumes of one test, deleted at its end."""

    def __init__(self, live: LiveCloud) -> None:
        self.live = live
        self.made: list[str] = []

    def show(self, ident: str) -> dict[str, Any]:
        shown: dict[str, Any] = self.live.openstack_json("volume", "show", ident)
        return shown

    def status(self, ident: str, *wanted: str) -> dict[str, Any]:
        shown: dict[str, Any] = until(f"volume {ident} {wanted}", lambda: self.show(ident),
                                      lambda v: v["status"] in wanted)
        return shown

    def create(self, *args: str) -> dict[str, Any]:
        made = self.live.openstack_json("volume", "create", "--size", "1", *args,
                                        unique("vol"))
        self.made.append(made["id"])
        return self.status(made["id"], "available")

    def gone(self, ident: str) -> bool:
        return self.live.openstack("volume", "show", ident, check=False).returncode != 0

    def cleanup(self) -> None:
        for ident in self.made:
            self.live.openstack("volume", "delete", "--force", ident, check=False)


@pytest.fixture
def volumes(live: LiveCloud) -> Iterator[Volumes]:
    made = Volumes(live)
    yield made
    made.cleanup()


def test_cli_add_and_remove_a_volume(lab: Lab, volumes: Volumes) -> None:  # noqa: F811
    server = lab.boot()
    volume = volumes.create()
    lab.cli("server", "add", "volume", server["id"], volume["id"])
    shown = volumes.status(volume["id"], "in-use")
    assert [a["server_id"] for a in shown["attachments"]] == [server["id"]]
    assert shown["attachments"][0]["device"] == "/dev/vdb"
    listed = lab.live.openstack_json("server", "volume", "list", server["id"])
    assert [(row["Volume ID"], row["Device"]) for row in listed] == [
        (volume["id"], "/dev/vdb")]
    for version in ("2.1", "2.70", "2.79", "2.89"):
        body = lab.nova.call("GET", f"/servers/{server['id']}/os-volume_attachments",
                             version).json()
        assert_nova_response(body, "/servers/{server_id}/os-volume_attachments", "GET",
                             version)
    attached = lab.nova.show(server["id"])["os-extended-volumes:volumes_attached"]
    assert attached == [{"id": volume["id"], "delete_on_termination": False}]
    lab.cli("server", "remove", "volume", server["id"], volume["id"])
    volumes.status(volume["id"], "available")
    assert lab.nova.show(server["id"])["os-extended-volumes:volumes_attached"] == []


def test_server_delete_detaches_and_deletes_what_it_should(
        lab: Lab, volumes: Volumes) -> None:  # noqa: F811
    server = lab.boot()
    kept, dropped = volumes.create(), volumes.create()
    path = f"/servers/{server['id']}/os-volume_attachments"
    for volume, delete in ((kept, False), (dropped, True)):
        made = lab.nova.call("POST", path, "2.79", json={"volumeAttachment": {
            "volumeId": volume["id"], "delete_on_termination": delete}})
        assert made.status_code == 200, made.text
        assert_nova_response(made.json(), "/servers/{server_id}/os-volume_attachments",
                             "POST", "2.79")
        volumes.status(volume["id"], "in-use")
    lab.cli("server", "delete", "--wait", server["id"])
    volumes.status(kept["id"], "available")
    until("the volume deleted with its server", lambda: volumes.gone(dropped["id"]), bool)


def test_cli_create_from_a_bootable_volume(lab: Lab, volumes: Volumes) -> None:  # noqa: F811
    volume = volumes.create("--image", CIRROS, "--bootable")
    name = unique("bfv")
    created = lab.live.openstack_json("server", "create", "--flavor", lab.small["name"],
                                      "--volume", volume["id"], "--nic", "none", "--wait",
                                      name)
    lab.track(created["id"])
    assert created["status"] == "ACTIVE"
    server = lab.nova.show(created["id"])
    assert server["image"] == ""
    assert server["os-extended-volumes:volumes_attached"] == [
        {"id": volume["id"], "delete_on_termination": False}]
    assert volumes.show(volume["id"])["status"] == "in-use"
    refused = lab.nova.call("DELETE", f"/servers/{created['id']}/os-volume_attachments/"
                            f"{volume['id']}")
    assert refused.status_code == 400
    assert refused.json()["badRequest"]["message"] == "Cannot detach a root device volume"


def test_cli_boot_from_volume_and_block_device(lab: Lab, volumes: Volumes) -> None:  # noqa: F811
    name = unique("bfv")
    created = lab.live.openstack_json("server", "create", "--flavor", lab.small["name"],
                                      "--image", CIRROS, "--boot-from-volume", "1",
                                      "--nic", "none", "--wait", name)
    lab.track(created["id"])
    server = lab.nova.show(created["id"])
    assert server["image"] == ""
    (root,) = server["os-extended-volumes:volumes_attached"]
    volumes.made.append(root["id"])
    shown = volumes.show(root["id"])
    assert (shown["status"], str(shown["bootable"]).lower(), shown["size"]) == (
        "in-use", "true", 1)
    block = (f"source_type=image,uuid={lab.image_id},destination_type=volume,"
             "volume_size=1,boot_index=0,delete_on_termination=true")
    second = lab.live.openstack_json("server", "create", "--flavor", lab.small["name"],
                                     "--block-device", block, "--nic", "none", "--wait",
                                     unique("bdm"))
    lab.track(second["id"])
    (own,) = lab.nova.show(second["id"])["os-extended-volumes:volumes_attached"]
    assert own["delete_on_termination"] is True
    lab.cli("server", "delete", "--wait", created["id"], second["id"])
    volumes.status(root["id"], "available")
    until("the root volume deleted with its server", lambda: volumes.gone(own["id"]), bool)


def test_sdk_attachments(lab: Lab, volumes: Volumes, sdk: Any) -> None:  # noqa: F811
    server = lab.boot()
    volume = volumes.create()
    attachment = sdk.compute.create_volume_attachment(server["id"], volume_id=volume["id"])
    assert attachment.volume_id == volume["id"]
    volumes.status(volume["id"], "in-use")
    listed = list(sdk.compute.volume_attachments(server["id"]))
    assert [a.volume_id for a in listed] == [volume["id"]]
    sdk.compute.delete_volume_attachment(server["id"], volume["id"])
    volumes.status(volume["id"], "available")
    assert list(sdk.compute.volume_attachments(server["id"])) == []
