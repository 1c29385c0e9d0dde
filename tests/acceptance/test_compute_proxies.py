"""nova's legacy views through the real clients: the CLI's ``extension list --compute`` and
openstacksdk's compute images (nova's /images proxy) and server IPs (/servers/{id}/ips)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from acceptance.conftest import LiveCloud

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(180)]
CIRROS = "cirros-0.6.2-x86_64-disk"  # the lab's own image (others' snapshots come and go)


def test_the_cli_lists_nova_s_extensions(live: LiveCloud) -> None:
    listed = live.openstack_json("extension", "list", "--compute")
    aliases = {e["Alias"] for e in listed}
    assert {"os-consoles", "os-hosts", "os-keypairs", "OS-EXT-AZ"} <= aliases
    assert "Hosts" in {e["Name"] for e in listed}


def test_the_sdk_reads_images_through_nova(live: LiveCloud) -> None:
    sdk = live.connect()
    glance = {image.id: image for image in sdk.image.images()}
    through_nova = list(sdk.compute.images())
    # Other modules' tests share this cloud: their snapshots may still be saving.
    assert {image.id for image in through_nova} >= {
        i for i, image in glance.items() if image.status == "active"}
    cirros = next(i for i, image in glance.items() if image.name == CIRROS)
    image = sdk.compute.get_image(cirros)
    assert image.name == glance[image.id].name
    assert image.status == "ACTIVE" and image.progress == 100


def test_the_sdk_reads_a_server_s_ips_through_nova(live: LiveCloud) -> None:
    sdk = live.connect()
    name = f"ips-{uuid.uuid4().hex[:8]}"
    network = sdk.network.create_network(name=name)
    created: list[Any] = [network]
    try:
        sdk.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.77.0.0/24")
        image = sdk.image.find_image(CIRROS, ignore_missing=False)
        flavor = min(sdk.compute.flavors(), key=lambda f: f.ram)
        server = sdk.compute.create_server(name=name, image_id=image.id, flavor_id=flavor.id,
                                           networks=[{"uuid": network.id}])
        created.append(server)
        server = sdk.compute.wait_for_server(server, status="ACTIVE", interval=0.05, wait=30)
        ips = list(sdk.compute.server_ips(server))
        fixed = server.addresses[name][0]["addr"]
        assert [(ip.network_label, ip.address, ip.version) for ip in ips] == [(name, fixed, 4)]
        one = list(sdk.compute.server_ips(server, network_label=name))
        assert [ip.address for ip in one] == [fixed]
    finally:
        for resource in reversed(created):
            if resource is network:
                sdk.network.delete_network(network)
            else:
                sdk.compute.delete_server(resource)
                sdk.compute.wait_for_delete(resource, interval=0.05, wait=30)
