"""Read a topology YAML file, check it, and build a ``Topology``.

The format, with an example of every field and of ``count`` for many alike nodes, is in
docs/topology.md. Every problem raises ``TopologyError`` naming the file and the field;
unknown keys are errors too, so a typo never passes silently.
"""

from __future__ import annotations

import ipaddress
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stacklab.topology.model import (
    NETWORK_PURPOSES,
    ROLES,
    Network,
    Node,
    Topology,
    VirtualIp,
)

DEFAULT_LAB = "lab.yaml"
# Topologies packaged with stacklab, by the name ``--topology`` accepts instead of a path.
NAMED_TOPOLOGIES = {"lab": DEFAULT_LAB, "course": "course.yaml"}

# Host name label (RFC 1123), lowercase so that FQDNs compare as text.
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Names of networks, VIPs and config sections/options.
_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# IFNAMSIZ is 16 with the trailing NUL: the real-lab shape creates these bridges.
_MAX_BRIDGE_NAME = 15

_TOP_REQUIRED = ("domain", "networks", "nodes")
_TOP_OPTIONAL = ("dvr", "vips", "config")
_NETWORK_REQUIRED = ("bridge", "cidr", "purpose")
_VIP_REQUIRED = ("network", "address", "held_by")
_NODE_REQUIRED = ("name", "roles", "memory_mb", "vcpus", "disk_gb", "addresses")
_NODE_OPTIONAL = ("count", "start")


class TopologyError(ValueError):
    """A topology that cannot describe a cloud; the message names the field at fault."""


def load_topology(path: str | Path | None = None) -> Topology:
    """The topology in ``path``; the packaged 12-node lab when ``path`` is None or empty.

    A packaged topology's name (``NAMED_TOPOLOGIES``: "lab", "course") stands for its
    file, unless a file of that name exists where ``path`` points.
    """
    if path is None or str(path) == "":
        return topology_from_data(default_lab_data(), source=DEFAULT_LAB)
    file = Path(path).expanduser()
    if str(path) in NAMED_TOPOLOGIES and not file.exists():
        name = NAMED_TOPOLOGIES[str(path)]
        return topology_from_data(packaged_data(name), source=name)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TopologyError(f"{file}: cannot read topology: {exc.strerror or exc}") from exc
    return topology_from_data(_parse_yaml(text, str(file)), source=str(file))


def default_lab_data() -> Any:
    """The packaged lab as plain data (a fresh copy), e.g. to extend it in a benchmark."""
    return packaged_data(DEFAULT_LAB)


def packaged_data(file_name: str) -> Any:
    """A topology packaged with stacklab (``NAMED_TOPOLOGIES``' files) as plain data."""
    # Imported here: importlib.resources pulls in tempfile and shutil, off the import path.
    from importlib import resources

    text = resources.files("stacklab.topology").joinpath(file_name).read_text(encoding="utf-8")
    return _parse_yaml(text, file_name)


def topology_from_data(data: Any, *, source: str = "<topology>") -> Topology:
    """Check parsed YAML (``data``) and build the topology; ``source`` prefixes errors."""
    return _Builder(source).build(data)


def _parse_yaml(text: str, source: str) -> Any:
    # Imported here so importing the package stays cheap; the C loader when built.
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        raise TopologyError(f"{source}: not valid YAML: {exc}") from exc


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.networks: dict[str, Network] = {}
        self.cidrs: dict[str, ipaddress.IPv4Network] = {}
        # (network, address) -> who uses it, for duplicate reports
        self.used: dict[tuple[str, ipaddress.IPv4Address], str] = {}

    def error(self, where: str, problem: str) -> TopologyError:
        return TopologyError(f"{self.source}: {where}: {problem}")

    # -- top level --------------------------------------------------------------------

    def build(self, data: Any) -> Topology:
        top = self.mapping(data, "topology")
        self.check_keys(top, "topology", _TOP_REQUIRED, _TOP_OPTIONAL, top_level=True)
        domain = self.domain(top["domain"])
        dvr = top.get("dvr", False)
        if not isinstance(dvr, bool):
            raise self.error("dvr", f"must be true or false, not {dvr!r}")
        self.build_networks(top["networks"])
        nodes = self.build_nodes(top["nodes"], domain, dvr)
        vips = self.build_vips(top.get("vips") or {}, nodes)
        config = self.build_config(top.get("config") or {})
        return Topology(domain=domain, networks=self.networks, nodes=nodes, config=config,
                        vips=vips, dvr=dvr)

    def domain(self, value: Any) -> str:
        text = self.text(value, "domain")
        if not all(_LABEL.match(label) for label in text.split(".")):
            raise self.error("domain", f"{text!r} is not a lowercase DNS domain name")
        return text

    # -- networks ---------------------------------------------------------------------

    def build_networks(self, value: Any) -> None:
        networks = self.mapping(value, "networks")
        if not networks:
            raise self.error("networks", "at least one network is required")
        bridges: dict[str, str] = {}
        for name, raw in networks.items():
            where = f"networks.{name}"
            self.key(name, where)
            entry = self.mapping(raw, where)
            self.check_keys(entry, where, _NETWORK_REQUIRED, ())
            bridge = self.text(entry["bridge"], f"{where}.bridge")
            if len(bridge) > _MAX_BRIDGE_NAME or not _KEY.match(bridge):
                raise self.error(f"{where}.bridge", f"{bridge!r} is not a valid interface "
                                 f"name (at most {_MAX_BRIDGE_NAME} characters)")
            if bridge in bridges:
                raise self.error(f"{where}.bridge",
                                 f"{bridge} is already the bridge of network {bridges[bridge]!r}")
            bridges[bridge] = name
            cidr_text = self.text(entry["cidr"], f"{where}.cidr")
            try:
                cidr = ipaddress.IPv4Network(cidr_text, strict=True)
            except ValueError as exc:
                raise self.error(f"{where}.cidr", f"not an IPv4 network: {exc}") from None
            for other, other_cidr in self.cidrs.items():
                if cidr.overlaps(other_cidr):
                    raise self.error(f"{where}.cidr",
                                     f"{cidr} overlaps network {other!r} ({other_cidr})")
            purpose = self.text(entry["purpose"], f"{where}.purpose")
            if purpose not in NETWORK_PURPOSES:
                raise self.error(f"{where}.purpose", f"unknown purpose {purpose!r} "
                                 f"(known: {', '.join(sorted(NETWORK_PURPOSES))})")
            self.cidrs[name] = cidr
            self.networks[name] = Network(name=name, bridge=bridge, cidr=str(cidr),
                                          purpose=purpose)

    # -- nodes ------------------------------------------------------------------------

    def build_nodes(self, value: Any, domain: str, dvr: bool) -> dict[str, Node]:
        if not isinstance(value, list):
            raise self.error("nodes", f"must be a list of nodes, not {_kind(value)}")
        if not value:
            raise self.error("nodes", "at least one node is required")
        nodes: dict[str, Node] = {}
        for index, raw in enumerate(value):
            for node in self.expand_entry(raw, f"nodes[{index}]", domain, dvr):
                if node.name in nodes:
                    raise self.error(f"nodes[{index}].name",
                                     f"duplicate node name {node.name!r}")
                nodes[node.name] = node
        return nodes

    def expand_entry(self, raw: Any, where: str, domain: str, dvr: bool) -> list[Node]:
        entry = self.mapping(raw, where)
        self.check_keys(entry, where, _NODE_REQUIRED, _NODE_OPTIONAL)
        name = self.text(entry["name"], f"{where}.name")
        roles = self.roles(entry["roles"], f"{where}.roles")
        memory_mb = self.positive(entry["memory_mb"], f"{where}.memory_mb")
        vcpus = self.positive(entry["vcpus"], f"{where}.vcpus")
        disk_gb = self.positive(entry["disk_gb"], f"{where}.disk_gb")
        first_addresses = self.mapping(entry["addresses"], f"{where}.addresses")
        if not first_addresses:
            raise self.error(f"{where}.addresses", "at least one network address is required")

        if "count" in entry:
            count = self.positive(entry["count"], f"{where}.count")
            start = entry.get("start", 1)
            if isinstance(start, bool) or not isinstance(start, int) or start < 0:
                raise self.error(f"{where}.start", f"must be a whole number >= 0, not {start!r}")
            names = self.pattern_names(name, start, count, f"{where}.name")
        else:
            if "start" in entry:
                raise self.error(f"{where}.start", "only allowed with count")
            if "{" in name or "}" in name:
                raise self.error(f"{where}.name", "a name pattern needs count")
            names = [name]

        nodes = []
        for offset, node_name in enumerate(names):
            node_where = f"nodes[{node_name}]"
            if not _LABEL.match(node_name):
                raise self.error(f"{node_where}.name",
                                 f"{node_name!r} is not a lowercase host name label")
            addresses = {}
            for network, first in first_addresses.items():
                field = f"{node_where}.addresses.{network}"
                if network not in self.cidrs:
                    raise self.error(field, f"undefined network {network!r} "
                                     f"(defined: {', '.join(self.cidrs)})")
                addresses[network] = self.address(network, first, offset, field,
                                                  owner=f"node {node_name}")
            nodes.append(Node(name=node_name, domain=domain, roles=roles, memory_mb=memory_mb,
                              vcpus=vcpus, disk_gb=disk_gb, addresses=addresses, dvr=dvr))
        return nodes

    def pattern_names(self, pattern: str, start: int, count: int, where: str) -> list[str]:
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(pattern) if f is not None]
        except ValueError as exc:
            raise self.error(where, f"bad name pattern {pattern!r}: {exc}") from None
        if not fields or any(f != "n" for f in fields):
            raise self.error(where, f"a pattern with count must use {{n}} and only {{n}}, "
                             f"not {pattern!r}")
        try:
            return [pattern.format(n=n) for n in range(start, start + count)]
        except ValueError as exc:
            raise self.error(where, f"bad name pattern {pattern!r}: {exc}") from None

    def roles(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.error(where, "must be a non-empty list of roles")
        roles: list[str] = []
        for role in value:
            if role not in ROLES:
                raise self.error(where, f"unknown role {role!r} "
                                 f"(known: {', '.join(sorted(ROLES))})")
            if role in roles:
                raise self.error(where, f"role {role!r} listed twice")
            roles.append(role)
        return tuple(roles)

    def address(self, network: str, value: Any, offset: int, where: str, *, owner: str) -> str:
        """The address ``offset`` places after ``value`` on ``network``, claimed for ``owner``."""
        cidr = self.cidrs[network]
        try:
            address = ipaddress.IPv4Address(self.text(value, where)) + offset
        except ValueError as exc:
            raise self.error(where, f"not an IPv4 address: {exc}") from None
        if address not in cidr:
            raise self.error(where, f"{address} is outside network {network!r} ({cidr})")
        if cidr.prefixlen <= 30 and address in (cidr.network_address, cidr.broadcast_address):
            raise self.error(where, f"{address} is not a host address of {cidr}")
        holder = self.used.get((network, address))
        if holder is not None:
            raise self.error(where, f"{address} is already used by {holder}")
        self.used[(network, address)] = owner
        return str(address)

    # -- VIPs and config ----------------------------------------------------------------

    def build_vips(self, value: Any, nodes: Mapping[str, Node]) -> dict[str, VirtualIp]:
        vips: dict[str, VirtualIp] = {}
        for name, raw in self.mapping(value, "vips").items():
            where = f"vips.{name}"
            self.key(name, where)
            entry = self.mapping(raw, where)
            self.check_keys(entry, where, _VIP_REQUIRED, ())
            network = self.text(entry["network"], f"{where}.network")
            if network not in self.cidrs:
                raise self.error(f"{where}.network", f"undefined network {network!r}")
            held_by = self.text(entry["held_by"], f"{where}.held_by")
            if held_by not in ROLES:
                raise self.error(f"{where}.held_by", f"unknown role {held_by!r}")
            if not any(held_by in node.roles for node in nodes.values()):
                raise self.error(f"{where}.held_by", f"no node has role {held_by!r}")
            address = self.address(network, entry["address"], 0, f"{where}.address",
                                   owner=f"VIP {name}")
            vips[name] = VirtualIp(name=name, network=network, address=address,
                                   held_by=held_by)
        return vips

    def build_config(self, value: Any) -> dict[str, dict[str, str]]:
        config: dict[str, dict[str, str]] = {}
        for section, raw in self.mapping(value, "config").items():
            where = f"config.{section}"
            self.key(section, where)
            options: dict[str, str] = {}
            for option, option_value in self.mapping(raw, where).items():
                self.key(option, f"{where}.{option}")
                # bool before int: YAML true is a bool, and oslo.config reads "True".
                if isinstance(option_value, bool | int | float | str):
                    options[option] = str(option_value)
                else:
                    raise self.error(f"{where}.{option}",
                                     f"must be a single value, not {_kind(option_value)}")
            config[section] = options
        return config

    # -- small checks -------------------------------------------------------------------

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error(where, f"must be a mapping, not {_kind(value)}")
        return value

    def check_keys(self, entry: Mapping[str, Any], where: str, required: tuple[str, ...],
                   optional: tuple[str, ...], *, top_level: bool = False) -> None:
        for key in required:
            if key not in entry:
                field = key if top_level else f"{where}.{key}"
                raise self.error(field, "missing required field")
        unknown = [str(key) for key in entry if key not in required and key not in optional]
        if unknown:
            field = unknown[0] if top_level else f"{where}.{unknown[0]}"
            raise self.error(field, f"unknown field (allowed: {', '.join(required + optional)})")

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.error(where, f"must be a non-empty string, not {value!r}")
        return value

    def key(self, value: Any, where: str) -> None:
        if not isinstance(value, str) or not _KEY.match(value):
            raise self.error(where, f"{value!r} is not a valid name")

    def positive(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(where, f"must be a whole number > 0, not {value!r}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
