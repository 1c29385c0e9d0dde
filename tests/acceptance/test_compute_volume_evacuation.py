"""The lab's HA story with volumes, on a live cloud of its own and the real CLI: a compute
node loses power, nova sees its nova-compute down, and ``openstack server evacuate`` rebuilds
its volume-backed server on the other compute with its volumes attached there."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud, wait_for
from acceptance.test_compute_servers import CIRROS, COMPUTE1, COMPUTE2, Nova, token, unique
from support.apiref import assert_nova_response

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("volume-evacuation")
    config = tmp / "stacklab.ini"
    # nova's 10 s reports and 60 s service_down_time are 0.5 s and 3 s of real time.
    config.write_text("[stacklab]\nha_time_scale = 0.05\n")
    cloud = start_cloud(tmp, "--ephemeral", "--config", str(config))
    yield cloud
    stop_cloud(cloud)


def compute_state(lab: LiveCloud, host: str) -> str:
    listed = lab.openstack_json("compute", "service", "list", "--service", "nova-compute",
                                "--host", host)
    return str(listed[0]["State"])


def attachment_hosts(lab: LiveCloud, volume: str) -> list[tuple[str, str]]:
    shown: dict[str, Any] = lab.openstack_json("volume", "show", volume)
    assert shown["status"] == "in-use", shown
    return [(a["server_id"], a["host_name"]) for a in shown["attachments"]]


def test_evacuate_a_volume_backed_server_from_a_powered_off_compute(lab: LiveCloud) -> None:
    flavor = lab.openstack_json("flavor", "create", "--ram", "64", "--disk", "1",
                                "--vcpus", "1", unique("tiny"))["name"]
    created = lab.openstack_json("server", "create", "--flavor", flavor, "--image", CIRROS,
                                 "--boot-from-volume", "1", "--nic", "none",
                                 "--availability-zone", f"nova:{COMPUTE1}", "--wait",
                                 unique("bfv"))
    server = created["id"]
    data = lab.openstack_json("volume", "create", "--size", "1", unique("data"))["id"]
    wait_for("the data volume available",
             lambda: lab.openstack_json("volume", "show", data)["status"],
             lambda status: status == "available")
    lab.openstack("server", "add", "volume", server, data)
    nova = Nova(lab, token(lab))
    shown = nova.wait(server, "ACTIVE")
    assert shown["OS-EXT-SRV-ATTR:host"] == COMPUTE1
    root = shown["os-extended-volumes:volumes_attached"][0]["id"]
    wait_for("the data volume attached", lambda: lab.openstack_json(
        "volume", "show", data)["status"], lambda status: status == "in-use")
    for volume in (root, data):
        assert attachment_hosts(lab, volume) == [(server, COMPUTE1)]

    lab.stacklab("fault", "power-off", "compute1")
    try:
        wait_for("nova-compute on compute1 down", lambda: compute_state(lab, COMPUTE1),
                 lambda state: state == "down", timeout=60)
        lab.openstack("--os-compute-api-version", "2.29", "server", "evacuate", server)
        moved = nova.wait(server, "ACTIVE", timeout=60)
        assert moved["OS-EXT-SRV-ATTR:host"] == COMPUTE2
        for volume in (root, data):
            assert attachment_hosts(lab, volume) == [(server, COMPUTE2)]
        listed = nova.call("GET", f"/servers/{server}/os-volume_attachments", "2.89")
        assert listed.status_code == 200, listed.text
        assert_nova_response(listed.json(), "/servers/{server_id}/os-volume_attachments",
                             "GET", "2.89")
        by_volume = {a["volumeId"]: a for a in listed.json()["volumeAttachments"]}
        assert sorted(by_volume) == sorted([root, data])
        for volume in (root, data):
            [attachment] = lab.openstack_json("volume", "show", volume)["attachments"]
            assert by_volume[volume]["attachment_id"] == attachment["attachment_id"]
        # The CLI's own view of the server's volumes.
        cli = lab.openstack_json("server", "volume", "list", server)
        assert sorted(v["Volume ID"] for v in cli) == sorted([root, data])
    finally:
        lab.stacklab("fault", "heal")
    lab.openstack("server", "remove", "volume", server, data)
    wait_for("the data volume detached",
             lambda: lab.openstack_json("volume", "show", data)["status"],
             lambda status: status == "available")
    lab.openstack("server", "delete", "--wait", server)
    lab.openstack("volume", "delete", data)
