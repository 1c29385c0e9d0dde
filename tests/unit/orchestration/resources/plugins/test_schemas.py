"""Each plugin's schema as ``openstack orchestration resource type show`` prints it: heat's
shape, and upstream's properties, flags, defaults and constraints where heat's api-ref
shows them (its samples are loaded, never copied)."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.properties import TYPES
from support import apiref

OURS = [
    "OS::Neutron::Net", "OS::Neutron::Subnet", "OS::Neutron::Port", "OS::Neutron::Router",
    "OS::Neutron::RouterInterface", "OS::Neutron::FloatingIP",
    "OS::Neutron::FloatingIPAssociation", "OS::Neutron::SecurityGroup",
    "OS::Neutron::SecurityGroupRule", "OS::Neutron::ProviderNet", "OS::Nova::Server",
    "OS::Nova::KeyPair", "OS::Nova::Flavor", "OS::Nova::ServerGroup", "OS::Cinder::Volume",
    "OS::Cinder::VolumeAttachment", "OS::Cinder::VolumeType", "OS::Keystone::Project",
    "OS::Keystone::User", "OS::Keystone::Role", "OS::Keystone::Group", "OS::Glance::WebImage",
]
SAMPLES = "api-ref/source/v1/samples"


def schema(name: str) -> dict[str, Any]:
    found = registry.get(name)
    assert found is not None, name
    return found.schema()


def _property_shape(name: str, shown: dict[str, Any]) -> None:
    assert shown["type"] in TYPES, name
    assert isinstance(shown["description"], str), name
    for flag in ("required", "update_allowed", "immutable"):
        assert isinstance(shown[flag], bool), (name, flag)
    for inner_name, inner in (shown.get("schema") or {}).items():
        _property_shape(f"{name}.{inner_name}", inner)


@pytest.mark.parametrize("name", OURS)
def test_every_type_is_registered_with_heats_schema_shape(name: str) -> None:
    shown = schema(name)
    assert shown["resource_type"] == name and shown["description"]
    assert shown["support_status"]["status"] == "SUPPORTED"
    for prop_name, prop in shown["properties"].items():
        _property_shape(prop_name, prop)
    assert shown["attributes"]["show"] == {"description": "Detailed information about "
                                           "resource.", "type": "map"}
    for attribute in shown["attributes"].values():
        assert attribute["description"] and attribute["type"] in TYPES


def test_keypair_matches_heats_own_template_of_the_type() -> None:
    """heat's api-ref shows OS::Nova::KeyPair's generated template: its parameters are the
    type's properties (types, defaults, constraints), its outputs the attributes."""
    sample = apiref.sample("heat", f"{SAMPLES}/resource-type-template-hot-response.json")
    assert sample["resources"]["KeyPair"]["type"] == "OS::Nova::KeyPair"
    shown = schema("OS::Nova::KeyPair")
    assert set(shown["properties"]) == set(sample["parameters"])
    for name, parameter in sample["parameters"].items():
        ours = shown["properties"][name]
        assert ours["type"] == parameter["type"], name
        assert ours.get("default") == parameter.get("default"), name
        # A custom constraint prints as {} in heat's template: compare the others.
        theirs = [c for c in parameter.get("constraints", []) if c]
        mine = [{k: v for k, v in c.items() if k != "description"}
                for c in ours.get("constraints", []) if "custom_constraint" not in c]
        assert mine == theirs, name
    outputs = {k for k in sample["outputs"] if k != "OS::stack_id"}
    assert set(shown["attributes"]) == outputs


def test_heats_type_list_names_types_we_serve() -> None:
    listed = apiref.sample("heat", f"{SAMPLES}/resource-types-list-advanced-response.json")
    theirs = {t["resource_type"] for t in listed["resource_types"]}
    assert "OS::Keystone::Group" in theirs
    assert theirs & set(OURS) <= set(registry.names())


@pytest.mark.parametrize(("name", "prop", "update_allowed", "default"), [
    # What each upstream property declares: whether a change is made in place, and its
    # default (None: none).
    ("OS::Nova::Server", "flavor", True, None),
    ("OS::Nova::Server", "image", True, None),
    ("OS::Nova::Server", "name", True, None),
    ("OS::Nova::Server", "key_name", False, None),
    ("OS::Nova::Server", "networks", True, None),
    ("OS::Nova::Server", "flavor_update_policy", True, "RESIZE"),
    ("OS::Nova::Server", "image_update_policy", True, "REBUILD"),
    ("OS::Nova::Server", "user_data_format", False, "HEAT_CFNTOOLS"),
    ("OS::Nova::Server", "user_data_update_policy", True, "REPLACE"),
    ("OS::Nova::Server", "metadata", True, {}),
    ("OS::Neutron::Net", "name", True, None),
    ("OS::Neutron::Net", "admin_state_up", True, True),
    ("OS::Neutron::Subnet", "name", True, None),
    ("OS::Neutron::Subnet", "cidr", False, None),
    ("OS::Neutron::Subnet", "ip_version", False, 4),
    ("OS::Neutron::Subnet", "enable_dhcp", True, True),
    ("OS::Neutron::Port", "network", False, None),
    ("OS::Neutron::Port", "fixed_ips", True, None),
    ("OS::Neutron::Router", "external_gateway_info", True, None),
    ("OS::Neutron::RouterInterface", "subnet", False, None),
    ("OS::Neutron::FloatingIP", "port_id", True, None),
    ("OS::Neutron::SecurityGroupRule", "protocol", False, "tcp"),
    ("OS::Neutron::ProviderNet", "network_type", True, None),
    ("OS::Neutron::ProviderNet", "router_external", True, False),
    ("OS::Neutron::ProviderNet", "shared", True, True),
    ("OS::Cinder::Volume", "size", True, None),
    ("OS::Cinder::Volume", "image", False, None),
    ("OS::Cinder::Volume", "volume_type", True, None),
    ("OS::Cinder::VolumeAttachment", "instance_uuid", True, None),
    ("OS::Keystone::Project", "domain", True, "default"),
    ("OS::Nova::ServerGroup", "policies", False, ["anti-affinity"]),
])
def test_upstreams_update_allowed_flags_and_defaults(name: str, prop: str,
                                                     update_allowed: bool,
                                                     default: Any) -> None:
    shown = schema(name)["properties"][prop]
    assert shown["update_allowed"] is update_allowed
    assert shown.get("default") == default


def test_required_properties_as_upstream() -> None:
    required = {name: {p for p, s in schema(name)["properties"].items() if s["required"]}
                for name in OURS}
    assert required["OS::Nova::Server"] == {"flavor"}
    assert required["OS::Neutron::Subnet"] == {"network"}
    assert required["OS::Neutron::Port"] == {"network"}
    assert required["OS::Neutron::FloatingIP"] == {"floating_network"}
    assert required["OS::Neutron::FloatingIPAssociation"] == {"floatingip_id", "port_id"}
    assert required["OS::Neutron::RouterInterface"] == {"router"}
    assert required["OS::Cinder::VolumeAttachment"] == {"instance_uuid", "volume_id"}
    assert required["OS::Nova::Flavor"] == {"ram", "vcpus"}
    assert required["OS::Glance::WebImage"] == {"disk_format", "container_format",
                                                "location"}
    assert required["OS::Neutron::Net"] == set()
    assert set(schema("OS::Nova::Server")["attributes"]) == {
        "name", "addresses", "networks", "first_address", "instance_name", "accessIPv4",
        "accessIPv6", "console_urls", "tags", "os_collect_config", "show"}
