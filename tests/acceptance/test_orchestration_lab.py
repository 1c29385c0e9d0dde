"""A whole lab environment as one stack, with the real client (``openstack stack ...``,
python-heatclient): a network, subnet, router with its gateway and interface, a server on
a port with a floating IP, a volume attached; built, updated in place (a resize, a
subnet's new name) and deleted without a trace; and a provider network replaced by one of
a new type."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from acceptance.conftest import LiveCloud

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(300)]

TEMPLATE = """\
heat_template_version: 2018-08-31
description: a web server with its own network, a floating IP and a data volume
parameters:
  image: {type: string}
  flavor: {type: string, default: m1.tiny}
  subnet_name: {type: string, default: web-subnet}
resources:
  net:
    type: OS::Neutron::Net
  subnet:
    type: OS::Neutron::Subnet
    properties:
      network: {get_resource: net}
      cidr: 10.77.0.0/24
      name: {get_param: subnet_name}
  router:
    type: OS::Neutron::Router
    properties:
      external_gateway_info: {network: public}
  interface:
    type: OS::Neutron::RouterInterface
    properties:
      router: {get_resource: router}
      subnet: {get_resource: subnet}
  port:
    type: OS::Neutron::Port
    properties:
      network: {get_resource: net}
      fixed_ips: [{subnet: {get_resource: subnet}, ip_address: 10.77.0.10}]
  server:
    type: OS::Nova::Server
    properties:
      image: {get_param: image}
      flavor: {get_param: flavor}
      networks: [{port: {get_resource: port}}]
  fip:
    type: OS::Neutron::FloatingIP
    depends_on: interface
    properties:
      floating_network: public
      port_id: {get_resource: port}
  volume:
    type: OS::Cinder::Volume
    properties: {size: 1}
  attachment:
    type: OS::Cinder::VolumeAttachment
    properties:
      instance_uuid: {get_resource: server}
      volume_id: {get_resource: volume}
outputs:
  server_ip: {value: {get_attr: [server, first_address]}}
  floating_ip: {value: {get_attr: [fip, floating_ip_address]}}
  subnet_cidr: {value: {get_attr: [subnet, cidr]}}
  volume_attachments: {value: {get_attr: [volume, attachments_list]}}
"""


def until(live: LiveCloud, name: str, *statuses: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        shown = live.openstack("stack", "show", name, "-f", "json", check=False)
        if shown.returncode != 0 and "DELETE_COMPLETE" in statuses:
            return {"stack_status": "DELETE_COMPLETE"}
        stack = json.loads(shown.stdout)
        if stack["stack_status"] in statuses:
            return dict(stack)
        assert time.monotonic() < deadline, stack
        time.sleep(1)


def flavor_of(server: dict[str, Any]) -> str:
    """The flavor's name as ``server show`` prints it (a map since nova 2.47)."""
    flavor = server["flavor"]
    if isinstance(flavor, dict):
        return str(flavor.get("name") or flavor.get("original_name"))
    return str(flavor).split(" ")[0]


def test_a_lab_environment_as_one_stack(live: LiveCloud, tmp_path: Path) -> None:
    name = f"lab-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "lab.yaml"
    path.write_text(TEMPLATE)
    image = live.openstack_json("image", "list")[0]["Name"]
    live.openstack("stack", "create", "-t", str(path), "--parameter", f"image={image}", name)
    stack = until(live, name, "CREATE_COMPLETE", "CREATE_FAILED")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]

    resources = {row["resource_name"]: row["physical_resource_id"] for row in
                 live.openstack_json("stack", "resource", "list", name)}
    outputs = {o["output_key"]: o["output_value"] for o in stack["outputs"]}
    assert outputs["server_ip"] == "10.77.0.10" and outputs["subnet_cidr"] == "10.77.0.0/24"
    fip = live.openstack_json("floating ip", "show", resources["fip"])
    assert fip["floating_ip_address"] == outputs["floating_ip"]
    assert fip["port_id"] == resources["port"] and fip["fixed_ip_address"] == "10.77.0.10"
    assert [a["server_id"] for a in outputs["volume_attachments"]] == [resources["server"]]
    server = live.openstack_json("server", "show", resources["server"])
    assert server["status"] == "ACTIVE" and flavor_of(server) == "m1.tiny"
    assert live.openstack_json("volume", "show", resources["volume"])["status"] == "in-use"
    router = live.openstack_json("router", "show", resources["router"])
    assert router["external_gateway_info"]["network_id"] == live.openstack_json(
        "network", "show", "public")["id"]
    ports = live.openstack_json("port", "list", "--router", resources["router"])
    assert any(resources["subnet"] in json.dumps(p["Fixed IP Addresses"]) for p in ports)

    # A new flavor resizes the server where it is; a new subnet name renames it in place.
    live.openstack("stack", "update", "--existing", "--parameter", "flavor=m1.small",
                   "--parameter", "subnet_name=renamed", name)
    stack = until(live, name, "UPDATE_COMPLETE", "UPDATE_FAILED")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = {row["resource_name"]: row["physical_resource_id"] for row in
             live.openstack_json("stack", "resource", "list", name)}
    assert after == resources
    server = live.openstack_json("server", "show", resources["server"])
    assert server["status"] == "ACTIVE" and flavor_of(server) == "m1.small"
    assert live.openstack_json("subnet", "show", resources["subnet"])["name"] == "renamed"

    live.openstack("stack", "delete", "--yes", "--wait", name)
    until(live, name, "DELETE_COMPLETE")
    for kind, ident in (("server", resources["server"]), ("volume", resources["volume"]),
                        ("floating ip", resources["fip"]), ("port", resources["port"]),
                        ("router", resources["router"]), ("subnet", resources["subnet"]),
                        ("network", resources["net"])):
        gone = live.openstack(*kind.split(), "show", ident, check=False)
        assert gone.returncode != 0, (kind, gone.stdout)


PROVIDER_TEMPLATE = """\
heat_template_version: 2018-08-31
parameters:
  network_type: {type: string, default: vlan}
  physical_network: {type: string, default: physnet1}
resources:
  net:
    type: OS::Neutron::ProviderNet
    properties:
      network_type: {get_param: network_type}
      physical_network: {get_param: physical_network}
      shared: false
outputs:
  segments: {value: {get_attr: [net, segments]}}
"""


def test_a_provider_network_s_new_type_replaces_it(live: LiveCloud, tmp_path: Path) -> None:
    name = f"provider-{uuid.uuid4().hex[:8]}"
    path = tmp_path / "provider.yaml"
    path.write_text(PROVIDER_TEMPLATE)
    live.openstack("stack", "create", "-t", str(path), name)
    stack = until(live, name, "CREATE_COMPLETE", "CREATE_FAILED")
    assert stack["stack_status"] == "CREATE_COMPLETE", stack["stack_status_reason"]
    before = live.openstack_json("stack", "resource", "show", name, "net")
    network = live.openstack_json("network", "show", before["physical_resource_id"])
    assert (network["provider:network_type"], network["provider:physical_network"]) == (
        "vlan", "physnet1")

    # neutron keeps a network's type for life: the stack gets a new network of the new type.
    live.openstack("stack", "update", "--existing", "--parameter", "network_type=vxlan",
                   "--parameter", "physical_network=", name)
    stack = until(live, name, "UPDATE_COMPLETE", "UPDATE_FAILED")
    assert stack["stack_status"] == "UPDATE_COMPLETE", stack["stack_status_reason"]
    after = live.openstack_json("stack", "resource", "show", name, "net")
    assert after["physical_resource_id"] != before["physical_resource_id"]
    network = live.openstack_json("network", "show", after["physical_resource_id"])
    assert network["provider:network_type"] == "vxlan"
    assert network["provider:physical_network"] is None
    gone = live.openstack("network", "show", before["physical_resource_id"], check=False)
    assert gone.returncode != 0, gone.stdout

    live.openstack("stack", "delete", "--yes", "--wait", name)
    until(live, name, "DELETE_COMPLETE")
    gone = live.openstack("network", "show", after["physical_resource_id"], check=False)
    assert gone.returncode != 0, gone.stdout
