"""The topology: the default lab as lab.md describes it, roles to services, and YAML checks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from stacklab.topology import (
    ROLE_SERVICES,
    ROLES,
    Node,
    Topology,
    TopologyError,
    default_lab_data,
    load_topology,
    services_for,
    topology_from_data,
)

# lab.md's table: name -> (memory MB, vCPUs, management, overlay, external)
LAB_TABLE = {
    "controller1": (3072, 2, "10.10.10.51", None, "192.168.100.51"),
    "controller2": (3072, 2, "10.10.10.61", None, "192.168.100.61"),
    "network1": (1024, 1, "10.10.10.52", "10.20.20.52", "192.168.100.52"),
    "network2": (1024, 1, "10.10.10.62", "10.20.20.62", "192.168.100.62"),
    "compute1": (1536, 1, "10.10.10.53", "10.20.20.53", None),
    "compute2": (1536, 1, "10.10.10.54", "10.20.20.54", None),
    "storage1": (1024, 1, "10.10.10.55", None, None),
    "storage2": (1024, 1, "10.10.10.56", None, None),
    "arbiter": (1024, 1, "10.10.10.71", None, None),
    "monitor": (2048, 1, "10.10.10.110", None, None),
    "proxy1": (512, 1, "10.10.10.101", None, None),
    "proxy2": (512, 1, "10.10.10.102", None, None),
}

COMPUTE_GROUP: dict[str, Any] = {
    "name": "compute{n}", "count": 100, "start": 3, "roles": ["compute"],
    "memory_mb": 1536, "vcpus": 1, "disk_gb": 20,
    "addresses": {"management": "10.10.10.120", "overlay": "10.20.20.120"},
}


# What the default lab's compute nodes report instead of the course's 1 vCPU and 1,536 MB.
LAB_COMPUTE = (32768, 8, 400)


@pytest.fixture(scope="module")
def lab() -> Topology:
    return load_topology(None)


@pytest.fixture(scope="module")
def course() -> Topology:
    return load_topology("course")


def lab_data() -> dict[str, Any]:
    data: dict[str, Any] = default_lab_data()
    return data


def node_entry(data: dict[str, Any], name: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(n for n in data["nodes"] if n["name"] == name)
    return entry


def build(data: Any) -> Topology:
    return topology_from_data(data, source="test.yaml")


# -- the default lab ------------------------------------------------------------------------


def test_empty_path_and_none_both_mean_the_lab(lab: Topology) -> None:
    assert list(load_topology("").nodes) == list(lab.nodes)


def test_lab_has_the_twelve_nodes_in_table_order(lab: Topology) -> None:
    assert list(lab.nodes) == list(LAB_TABLE)


@pytest.mark.parametrize("name", list(LAB_TABLE))
def test_the_course_topology_matches_lab_md(course: Topology, name: str) -> None:
    memory_mb, vcpus, management, overlay, external = LAB_TABLE[name]
    node = course.nodes[name]
    assert node.memory_mb == memory_mb
    assert node.vcpus == vcpus
    expected = {"management": management, "overlay": overlay, "external": external}
    assert node.addresses == {net: addr for net, addr in expected.items() if addr}
    assert node.fqdn == f"{name}.openstack.local"
    assert node.disk_gb > 0


def test_the_default_lab_is_the_course_with_hypervisors_that_hold_tempest(
        lab: Topology, course: Topology) -> None:
    assert list(lab.nodes) == list(course.nodes)
    for name, node in lab.nodes.items():
        other = course.nodes[name]
        if "compute" in node.roles:
            assert (node.memory_mb, node.vcpus, node.disk_gb) == LAB_COMPUTE
            assert (other.memory_mb, other.vcpus, other.disk_gb) == (1536, 1, 20)
        else:
            assert (node.memory_mb, node.vcpus, node.disk_gb) == (
                other.memory_mb, other.vcpus, other.disk_gb)
        assert (node.roles, node.addresses) == (other.roles, other.addresses)
    assert (lab.networks, lab.vips, lab.config) == (course.networks, course.vips, course.config)


def test_a_packaged_topologys_name_gives_way_to_a_file_of_that_name(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = lab_data()
    data["nodes"] = [node_entry(data, "controller1")]
    del data["vips"]
    (tmp_path / "course").write_text(yaml.safe_dump(data), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert list(load_topology("course").nodes) == ["controller1"]


def test_lab_roles(lab: Topology) -> None:
    by_role = {role: [n.name for n in lab.nodes_with_role(role)] for role in sorted(ROLES)}
    assert by_role == {
        "arbiter": ["arbiter"],
        "compute": ["compute1", "compute2"],
        "controller": ["controller1", "controller2"],
        "monitor": ["monitor"],
        "network": ["network1", "network2"],
        "proxy": ["proxy1", "proxy2"],
        "storage": ["storage1", "storage2"],
    }
    assert all(len(node.roles) == 1 for node in lab.nodes.values())


def test_the_courses_storage_nodes_have_more_disk_than_its_compute_nodes(
        course: Topology) -> None:
    assert course.nodes["compute1"].disk_gb == 20
    assert course.nodes["storage1"].disk_gb > course.nodes["compute1"].disk_gb


def test_lab_networks(lab: Topology) -> None:
    networks = {n.name: (n.bridge, n.cidr, n.purpose) for n in lab.networks.values()}
    assert networks == {
        "management": ("br_management", "10.10.10.0/24", "management"),
        "overlay": ("br_internal", "10.20.20.0/24", "overlay"),
        "external": ("br_external", "192.168.100.0/24", "external"),
    }


def test_lab_domain_and_config(lab: Topology) -> None:
    assert lab.domain == "openstack.local"
    assert lab.dvr is False
    default = lab.config["DEFAULT"]
    assert default["dhcp_agents_per_network"] == "2"
    assert default["l3_ha"] == "True"
    assert default["max_l3_agents_per_router"] == "3"
    assert default["min_l3_agents_per_router"] == "2"
    assert all(isinstance(v, str) for opts in lab.config.values() for v in opts.values())


def test_lab_vips_are_held_by_the_proxies_and_free(lab: Topology) -> None:
    assert {(v.name, v.network, v.address, v.held_by) for v in lab.vips.values()} == {
        ("public", "external", "192.168.100.100", "proxy"),
        ("internal", "management", "10.10.10.100", "proxy"),
    }
    used = {addr for node in lab.nodes.values() for addr in node.addresses.values()}
    assert not used & {v.address for v in lab.vips.values()}


def test_lab_addresses_are_unique(lab: Topology) -> None:
    pairs = [(net, addr) for node in lab.nodes.values() for net, addr in node.addresses.items()]
    assert len(pairs) == len(set(pairs))


# -- roles and services ---------------------------------------------------------------------


def test_controller_services(lab: Topology) -> None:
    assert set(lab.nodes["controller1"].services) == {
        "keystone", "nova-api", "nova-scheduler", "nova-conductor", "nova-novncproxy",
        "glance-api", "neutron-server", "cinder-api", "cinder-scheduler", "cinder-volume",
        "cinder-backup", "heat-api", "heat-api-cfn", "heat-engine", "placement-api", "mariadb",
        "rabbitmq", "memcached",
    }


@pytest.mark.parametrize(("node", "services"), [
    ("network1", {"neutron-openvswitch-agent", "neutron-dhcp-agent", "neutron-l3-agent",
                  "neutron-metadata-agent", "keepalived"}),
    ("compute1", {"nova-compute", "neutron-openvswitch-agent"}),
    ("storage1", {"ceph-osd"}),
    ("arbiter", {"garbd"}),
    ("monitor", {"logstash", "elasticsearch", "kibana"}),
    ("proxy1", {"haproxy", "keepalived"}),
])
def test_services_per_role(lab: Topology, node: str, services: set[str]) -> None:
    assert set(lab.nodes[node].services) == services


def test_nodes_running(lab: Topology) -> None:
    assert [n.name for n in lab.nodes_running("cinder-volume")] == ["controller1", "controller2"]
    assert [n.name for n in lab.nodes_running("neutron-l3-agent")] == ["network1", "network2"]
    assert [n.name for n in lab.nodes_running("neutron-openvswitch-agent")] == [
        "network1", "network2", "compute1", "compute2"]
    assert [n.name for n in lab.nodes_running("garbd")] == ["arbiter"]
    assert lab.nodes_running("no-such-service") == []


def test_two_roles_run_each_shared_service_once() -> None:
    services = services_for(["network", "compute"])
    assert services.count("neutron-openvswitch-agent") == 1
    assert set(services) == set(ROLE_SERVICES["network"]) | set(ROLE_SERVICES["compute"])


def test_dvr_adds_l3_agent_to_compute_nodes() -> None:
    data = lab_data()
    data["dvr"] = True
    topology = build(data)
    assert topology.dvr is True
    assert [n.name for n in topology.nodes_running("neutron-l3-agent")] == [
        "network1", "network2", "compute1", "compute2"]
    assert topology.nodes["compute1"].l3_agent_mode == "dvr"
    assert topology.nodes["network1"].l3_agent_mode == "dvr_snat"
    assert topology.nodes["controller1"].l3_agent_mode is None


def test_without_dvr_network_nodes_run_legacy_l3_and_compute_none(lab: Topology) -> None:
    assert lab.nodes["network1"].l3_agent_mode == "legacy"
    assert lab.nodes["compute1"].l3_agent_mode is None
    assert "neutron-l3-agent" not in lab.nodes["compute1"].services


def test_node_built_by_hand() -> None:
    node = Node(name="c9", domain="example.test", roles=("compute",), memory_mb=1,
                vcpus=1, disk_gb=1, addresses={"management": "10.0.0.9"})
    assert node.fqdn == "c9.example.test"
    assert node.runs("nova-compute")
    assert not node.has_role("controller")


# -- many compute nodes ---------------------------------------------------------------------


def test_hundred_compute_expansion() -> None:
    data = lab_data()
    data["nodes"].append(copy.deepcopy(COMPUTE_GROUP))
    topology = build(data)
    assert len(topology.nodes) == 112
    computes = topology.nodes_with_role("compute")
    assert len(computes) == 102
    assert [n.name for n in computes[2:5]] == ["compute3", "compute4", "compute5"]
    last = topology.nodes["compute102"]
    assert last.fqdn == "compute102.openstack.local"
    assert last.addresses == {"management": "10.10.10.219", "overlay": "10.20.20.219"}
    assert topology.nodes["compute3"].addresses["management"] == "10.10.10.120"
    assert len(topology.nodes_running("nova-compute")) == 102


def test_expansion_from_a_yaml_file(tmp_path: Path) -> None:
    data = lab_data()
    group = dict(COMPUTE_GROUP, name="cmp{n:03d}", count=3)
    del group["start"]
    data["nodes"].append(group)
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data))
    topology = load_topology(path)
    assert [n.name for n in topology.nodes_with_role("compute")][2:] == [
        "cmp001", "cmp002", "cmp003"]
    assert topology.nodes["cmp003"].addresses["overlay"] == "10.20.20.122"


def test_expansion_running_out_of_the_network() -> None:
    data = lab_data()
    data["nodes"].append(dict(COMPUTE_GROUP, count=200))
    with pytest.raises(TopologyError, match=r"nodes\[compute138\]\.addresses\.management: "
                                            r"10\.10\.10\.255 is not a host address"):
        build(data)


def test_expansion_colliding_with_an_existing_node() -> None:
    data = lab_data()
    group = dict(COMPUTE_GROUP, addresses={"management": "10.10.10.50"})
    data["nodes"].append(group)
    with pytest.raises(TopologyError, match=r"nodes\[compute4\]\.addresses\.management: "
                                            r"10\.10\.10\.51 is already used by node controller1"):
        build(data)


@pytest.mark.parametrize(("name", "message"), [
    ("compute", "a pattern with count must use {n}"),
    ("compute{x}", "a pattern with count must use {n}"),
    ("compute{n", "bad name pattern"),
])
def test_bad_name_patterns(name: str, message: str) -> None:
    data = lab_data()
    data["nodes"].append(dict(COMPUTE_GROUP, name=name))
    with pytest.raises(TopologyError, match=r"nodes\[12\]\.name: ") as err:
        build(data)
    assert message in str(err.value)


def test_pattern_without_count_and_start_without_count() -> None:
    data = lab_data()
    group = dict(COMPUTE_GROUP)
    del group["count"]
    data["nodes"].append(group)
    with pytest.raises(TopologyError, match=r"nodes\[12\]\.start: only allowed with count"):
        build(data)
    del group["start"]
    with pytest.raises(TopologyError, match=r"nodes\[12\]\.name: a name pattern needs count"):
        build(data)


# -- validation -----------------------------------------------------------------------------


def test_unknown_role() -> None:
    data = lab_data()
    node_entry(data, "compute2")["roles"] = ["compute", "comptue"]
    with pytest.raises(TopologyError, match=r"^test\.yaml: nodes\[5\]\.roles: "
                                            r"unknown role 'comptue'"):
        build(data)


def test_address_outside_its_network() -> None:
    data = lab_data()
    node_entry(data, "compute1")["addresses"]["overlay"] = "10.30.30.5"
    with pytest.raises(TopologyError, match=r"nodes\[compute1\]\.addresses\.overlay: "
                                            r"10\.30\.30\.5 is outside network 'overlay' "
                                            r"\(10\.20\.20\.0/24\)"):
        build(data)


def test_address_that_is_not_an_address() -> None:
    data = lab_data()
    node_entry(data, "compute1")["addresses"]["overlay"] = "10.20.20.300"
    with pytest.raises(TopologyError, match=r"nodes\[compute1\]\.addresses\.overlay: "
                                            r"not an IPv4 address"):
        build(data)


def test_duplicate_node_name() -> None:
    data = lab_data()
    node_entry(data, "compute2")["name"] = "compute1"
    with pytest.raises(TopologyError, match=r"nodes\[5\]\.name: duplicate node name 'compute1'"):
        build(data)


def test_duplicate_address() -> None:
    data = lab_data()
    node_entry(data, "compute2")["addresses"]["management"] = "10.10.10.53"
    with pytest.raises(TopologyError, match=r"nodes\[compute2\]\.addresses\.management: "
                                            r"10\.10\.10\.53 is already used by node compute1"):
        build(data)


def test_node_on_an_undefined_network() -> None:
    data = lab_data()
    node_entry(data, "storage1")["addresses"]["storage"] = "10.40.40.55"
    with pytest.raises(TopologyError, match=r"nodes\[storage1\]\.addresses\.storage: "
                                            r"undefined network 'storage'"):
        build(data)


@pytest.mark.parametrize("field", ["name", "roles", "memory_mb", "vcpus", "disk_gb",
                                   "addresses"])
def test_node_missing_required_field(field: str) -> None:
    data = lab_data()
    del data["nodes"][0][field]
    with pytest.raises(TopologyError, match=rf"nodes\[0\]\.{field}: missing required field"):
        build(data)


@pytest.mark.parametrize("field", ["domain", "networks", "nodes"])
def test_topology_missing_required_field(field: str) -> None:
    data = lab_data()
    del data[field]
    with pytest.raises(TopologyError, match=rf"^test\.yaml: {field}: missing required field"):
        build(data)


@pytest.mark.parametrize("field", ["bridge", "cidr", "purpose"])
def test_network_missing_required_field(field: str) -> None:
    data = lab_data()
    del data["networks"]["overlay"][field]
    with pytest.raises(TopologyError,
                       match=rf"networks\.overlay\.{field}: missing required field"):
        build(data)


@pytest.mark.parametrize("field", ["network", "address", "held_by"])
def test_vip_missing_required_field(field: str) -> None:
    data = lab_data()
    del data["vips"]["public"][field]
    with pytest.raises(TopologyError, match=rf"vips\.public\.{field}: missing required field"):
        build(data)


def test_unknown_fields_are_errors() -> None:
    data = lab_data()
    data["nodes"][0]["memory"] = "3G"
    with pytest.raises(TopologyError, match=r"nodes\[0\]\.memory: unknown field"):
        build(data)
    data = lab_data()
    data["domian"] = "x"
    with pytest.raises(TopologyError, match=r"^test\.yaml: domian: unknown field"):
        build(data)


@pytest.mark.parametrize("value", [0, -1, "2", True, 1.5])
def test_resources_must_be_positive_whole_numbers(value: object) -> None:
    data = lab_data()
    data["nodes"][1]["vcpus"] = value
    with pytest.raises(TopologyError, match=r"nodes\[1\]\.vcpus: must be a whole number > 0"):
        build(data)


def test_bad_node_name() -> None:
    data = lab_data()
    data["nodes"][0]["name"] = "Controller_1"
    with pytest.raises(TopologyError, match=r"not a lowercase host name label"):
        build(data)


def test_bad_domain() -> None:
    data = lab_data()
    data["domain"] = "open stack.local"
    with pytest.raises(TopologyError, match=r"domain: 'open stack\.local' is not"):
        build(data)


def test_bad_and_overlapping_networks() -> None:
    data = lab_data()
    data["networks"]["overlay"]["cidr"] = "10.20.20.1/24"
    with pytest.raises(TopologyError, match=r"networks\.overlay\.cidr: not an IPv4 network"):
        build(data)
    data = lab_data()
    data["networks"]["overlay"]["cidr"] = "10.10.0.0/16"
    with pytest.raises(TopologyError, match=r"networks\.overlay\.cidr: 10\.10\.0\.0/16 "
                                            r"overlaps network 'management'"):
        build(data)


def test_bad_bridges_and_purpose() -> None:
    data = lab_data()
    data["networks"]["overlay"]["bridge"] = "br_management"
    with pytest.raises(TopologyError, match=r"networks\.overlay\.bridge: br_management is "
                                            r"already the bridge of network 'management'"):
        build(data)
    data = lab_data()
    data["networks"]["overlay"]["bridge"] = "br_much_too_long_name"
    with pytest.raises(TopologyError, match=r"networks\.overlay\.bridge: .*at most 15 characters"):
        build(data)
    data = lab_data()
    data["networks"]["overlay"]["purpose"] = "tunnels"
    with pytest.raises(TopologyError, match=r"networks\.overlay\.purpose: unknown purpose"):
        build(data)


def test_vip_checks() -> None:
    data = lab_data()
    data["vips"]["public"]["address"] = "192.168.100.51"
    with pytest.raises(TopologyError, match=r"vips\.public\.address: 192\.168\.100\.51 is "
                                            r"already used by node controller1"):
        build(data)
    data = lab_data()
    data["vips"]["public"]["address"] = "10.10.10.200"
    with pytest.raises(TopologyError, match=r"vips\.public\.address: .* outside network"):
        build(data)
    data = lab_data()
    data["vips"]["public"]["held_by"] = "balancer"
    with pytest.raises(TopologyError, match=r"vips\.public\.held_by: unknown role"):
        build(data)
    data = lab_data()
    data["nodes"] = [n for n in data["nodes"] if "proxy" not in n["roles"]]
    with pytest.raises(TopologyError, match=r"vips\.public\.held_by: no node has role 'proxy'"):
        build(data)
    data = lab_data()
    data["vips"]["public"]["network"] = "public"
    with pytest.raises(TopologyError, match=r"vips\.public\.network: undefined network"):
        build(data)


def test_config_values_become_text_and_must_be_scalars() -> None:
    data = lab_data()
    data["config"]["DEFAULT"]["l3_ha"] = True
    data["config"]["DEFAULT"]["max_l3_agents_per_router"] = 3
    topology = build(data)
    assert topology.config["DEFAULT"]["l3_ha"] == "True"
    assert topology.config["DEFAULT"]["max_l3_agents_per_router"] == "3"
    data["config"]["DEFAULT"]["l3_ha"] = [True]
    with pytest.raises(TopologyError, match=r"config\.DEFAULT\.l3_ha: must be a single value"):
        build(data)


def test_config_and_vips_are_optional() -> None:
    data = lab_data()
    del data["config"], data["vips"]
    topology = build(data)
    assert topology.config == {}
    assert topology.vips == {}


def test_wrong_shapes() -> None:
    with pytest.raises(TopologyError, match=r"^test\.yaml: topology: must be a mapping"):
        build([])
    data = lab_data()
    data["nodes"] = {"controller1": {}}
    with pytest.raises(TopologyError, match=r"nodes: must be a list"):
        build(data)
    data = lab_data()
    data["nodes"] = []
    with pytest.raises(TopologyError, match=r"nodes: at least one node"):
        build(data)
    data = lab_data()
    data["nodes"][0]["addresses"] = {}
    with pytest.raises(TopologyError, match=r"nodes\[0\]\.addresses: at least one"):
        build(data)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(TopologyError, match=r"missing\.yaml: cannot read topology"):
        load_topology(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("nodes: [\n")
    with pytest.raises(TopologyError, match=r"broken\.yaml: not valid YAML"):
        load_topology(str(broken))


def test_topology_error_is_a_value_error() -> None:
    assert issubclass(TopologyError, ValueError)


def test_default_lab_data_is_a_fresh_copy() -> None:
    first = lab_data()
    first["nodes"].clear()
    assert len(lab_data()["nodes"]) == 12
