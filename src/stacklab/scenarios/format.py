"""The scenario file: a small YAML document, checked against a JSON Schema before anything runs.

::

    name: vip-failover
    description: proxy1 loses power; proxy2 takes the VIPs after keepalived's timers.
    requires: {nodes: [proxy1, proxy2]}
    setup:                         # made through the API before the first step
      - network: {name: n1, cidr: 10.30.30.0/24}
      - router: {name: r1, ha: true, networks: [n1], gateway: true}
      - server: {name: vm1, network: n1}
    probe: {interval: 1, calls: [token_issue, server_list]}
    steps:
      - expect: {vip_holder: proxy1}
      - act: {action: power_off, node: proxy1}     # topology/actions.py, as the lab API takes it
      - wait: {until: {vip_holder: proxy2}, timeout: 30}
      - wait: 10                                    # lab seconds
      - expect: [{vip_holder: proxy2}, {probe: {errors: {max: 10}}}]
      - act: heal

Errors name the file, the step (by index, from 0) and the field: ``vip.yaml: steps[3].wait:
'until' ...``. The conditions an ``expect`` or a ``wait: {until: ...}`` takes are listed
in ``CONDITIONS`` (``stacklab.scenarios.conditions`` evaluates them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# The probe's calls (stacklab.scenarios.probe); a write is acknowledged by its 201.
PROBE_CALLS = ("token_issue", "server_list", "network_list", "image_list", "flavor_list",
               "agent_list", "network_create")

_NAME = {"type": "string", "minLength": 1}
_NODE = {"type": "string", "minLength": 1}
_COUNT = {"type": "object", "additionalProperties": False, "minProperties": 1,
          "properties": {"min": {"type": "integer", "minimum": 0},
                         "max": {"type": "integer", "minimum": 0}}}

# Each condition: its name and the JSON Schema of its argument.
CONDITIONS: dict[str, dict[str, Any]] = {
    # The proxy holding the API VIPs (``none``: nobody holds them).
    "vip_holder": {"anyOf": [_NODE, {"type": "null"}]},
    # The nodes in Galera's Primary Component (empty: no Primary Component anywhere).
    "galera_primary": {"type": "array", "items": _NODE, "uniqueItems": True},
    # One Galera member's wsrep status.
    "galera_member": {"type": "object", "additionalProperties": False, "required": ["node"],
                      "properties": {"node": _NODE,
                                     "cluster_status": {"enum": ["Primary", "non-Primary",
                                                                 "Disconnected"]},
                                     "state": {"type": "string"},
                                     "size": {"type": "integer", "minimum": 0}}},
    # The RabbitMQ nodes that serve (running, not paused) and one node's state.
    "rabbitmq_serving": {"type": "array", "items": _NODE, "uniqueItems": True},
    "rabbitmq_node": {"type": "object", "additionalProperties": False,
                      "required": ["node", "state"],
                      "properties": {"node": _NODE,
                                     "state": {"enum": ["running", "paused", "stopped"]}}},
    # A server line of the VIP holder's HAProxy (or of ``proxy``'s).
    "haproxy_server": {"type": "object", "additionalProperties": False,
                       "required": ["backend", "server", "status"],
                       "properties": {"proxy": _NODE, "backend": _NAME, "server": _NAME,
                                      "status": {"enum": ["UP", "DOWN"]}}},
    # A neutron agent as ``network agent list`` shows it.
    "agent": {"type": "object", "additionalProperties": False,
              "required": ["host", "binary", "alive"],
              "properties": {"host": _NODE, "binary": _NAME, "alive": {"type": "boolean"}}},
    # A nova service as ``compute service list`` shows it.
    "service": {"type": "object", "additionalProperties": False,
                "required": ["host", "binary", "state"],
                "properties": {"host": _NODE, "binary": _NAME,
                               "state": {"enum": ["up", "down"]}}},
    # The nodes whose keepalived is MASTER for an HA router (the data plane).
    "router_master": {"type": "object", "additionalProperties": False,
                      "required": ["router"],
                      "properties": {"router": _NAME, "node": _NODE,
                                     "nodes": {"type": "array", "items": _NODE}}},
    # An L3 agent's ha_state for a router, as the API shows it (``network agent list --router``).
    "ha_state": {"type": "object", "additionalProperties": False,
                 "required": ["router", "host", "state"],
                 "properties": {"router": _NAME, "host": _NODE,
                                "state": {"enum": ["active", "standby", "unknown"]}}},
    # How many live agents host a network's DHCP / a router.
    "dhcp_agents": {"type": "object", "additionalProperties": False,
                    "required": ["network"],
                    "properties": {"network": _NAME, "alive": _COUNT, "hosts": {
                        "type": "array", "items": _NODE}}},
    "l3_agents": {"type": "object", "additionalProperties": False, "required": ["router"],
                  "properties": {"router": _NAME, "alive": _COUNT, "hosts": {
                      "type": "array", "items": _NODE}}},
    # A server made in setup: its status, host and the like.
    "server": {"type": "object", "additionalProperties": False, "required": ["name"],
               "properties": {"name": _NAME, "status": {"type": "string"},
                              "host": _NODE, "task_state": {"type": ["string", "null"]}}},
    # The lab's verdict (``stacklab status``) and the health route's.
    "lab_status": {"enum": ["ready", "degraded", "down"]},
    # What the probe saw: errors (or successes) counted since the last ``act`` (or ``since``
    # the scenario's start, or the last N seconds), for one call or all.
    "probe": {"type": "object", "additionalProperties": False,
              "properties": {"call": {"enum": list(PROBE_CALLS)},
                             "since": {"anyOf": [{"enum": ["start", "last_act"]},
                                                 {"type": "number", "exclusiveMinimum": 0}]},
                             "status": {"type": "integer"},
                             "errors": _COUNT, "ok": _COUNT}},
    # One request made now, and the status it must answer.
    "request": {"type": "object", "additionalProperties": False,
                "required": ["path", "status"],
                "properties": {"method": {"enum": ["GET", "HEAD", "POST", "PUT", "DELETE"]},
                               "path": {"type": "string", "pattern": "^/"},
                               "body": {"type": "object"},
                               "status": {"type": "integer"}}},
}

_CONDITION = {"type": "object", "minProperties": 1, "additionalProperties": False,
              "properties": CONDITIONS}
_CONDITIONS = {"anyOf": [_CONDITION, {"type": "array", "minItems": 1, "items": _CONDITION}]}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "steps"],
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "description": {"type": "string"},
        "requires": {"type": "object", "additionalProperties": False, "properties": {
            "nodes": {"type": "array", "items": _NODE},
            "roles": {"type": "object", "additionalProperties": {"type": "integer"}},
            # Distributed routers: L3 agents on the compute nodes (a topology's ``dvr: true``).
            "dvr": {"type": "boolean"},
            # Options the lab must run with ([DEFAULT] names: router_distributed...):
            # the in-process runner builds the cloud with them, the live one checks nothing
            # it cannot see and says so.
            "config": {"type": "object", "additionalProperties": {
                "type": ["string", "number", "boolean"]}},
        }},
        "setup": {"type": "array", "items": {
            "type": "object", "minProperties": 1, "maxProperties": 1,
            "additionalProperties": False, "properties": {
                "network": {"type": "object", "additionalProperties": False,
                            "required": ["name"],
                            "properties": {"name": _NAME, "cidr": {"type": "string"}}},
                "router": {"type": "object", "additionalProperties": False,
                           "required": ["name"],
                           "properties": {"name": _NAME, "ha": {"type": "boolean"},
                                          "distributed": {"type": "boolean"},
                                          "gateway": {"type": "boolean"},
                                          "networks": {"type": "array", "items": _NAME}}},
                "server": {"type": "object", "additionalProperties": False,
                           "required": ["name", "network"],
                           "properties": {"name": _NAME, "network": _NAME,
                                          "host": _NODE, "flavor": _NAME, "image": _NAME}},
            }}},
        "probe": {"type": "object", "additionalProperties": False, "properties": {
            "interval": {"type": "number", "exclusiveMinimum": 0},
            "calls": {"type": "array", "minItems": 1, "items": {"enum": list(PROBE_CALLS)}},
        }},
        "steps": {"type": "array", "minItems": 1, "items": {
            "type": "object", "minProperties": 1, "maxProperties": 1,
            "additionalProperties": False, "properties": {
                # A fault action exactly as topology/actions.py takes it, or ``heal``.
                "act": {"anyOf": [{"const": "heal"},
                                  {"type": "object", "required": ["action"],
                                   "properties": {"action": {"type": "string"}}}]},
                "wait": {"anyOf": [
                    {"type": "number", "minimum": 0},
                    {"type": "object", "additionalProperties": False, "required": ["until"],
                     "properties": {"until": _CONDITIONS,
                                    "timeout": {"type": "number", "exclusiveMinimum": 0}}}]},
                "expect": _CONDITIONS,
                # One API call the scenario makes (an evacuation, a force-down...): path
                # with {servers.vm1} / {networks.n1} / {routers.r1} / {hosts.compute1}.
                "call": {"type": "object", "additionalProperties": False,
                         "required": ["path"],
                         "properties": {"method": {"enum": ["GET", "POST", "PUT", "DELETE"]},
                                        "path": {"type": "string", "pattern": "^/"},
                                        "body": {},
                                        "headers": {"type": "object", "additionalProperties":
                                                    {"type": "string"}},
                                        "status": {"type": "integer"}}},
            }}},
    },
}

DEFAULT_WAIT_TIMEOUT = 120.0
DEFAULT_PROBE = {"interval": 1.0, "calls": ["token_issue", "server_list"]}


class ScenarioError(ValueError):
    """A scenario file that cannot run: the message names the file, step and field."""


@dataclass(frozen=True)
class Step:
    index: int
    kind: str  # act, wait, expect, call
    value: Any

    def describe(self) -> str:
        if self.kind == "act":
            return "act " + ("heal" if self.value == "heal" else
                             " ".join(f"{k}={v}" for k, v in self.value.items()))
        if self.kind == "wait":
            return (f"wait {self.value:g} s" if isinstance(self.value, int | float)
                    else f"wait until {conditions_text(self.value['until'])}")
        if self.kind == "expect":
            return f"expect {conditions_text(self.value)}"
        return f"call {self.value.get('method', 'GET')} {self.value['path']}"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    source: str
    steps: tuple[Step, ...]
    requires: Mapping[str, Any] = field(default_factory=dict)
    setup: tuple[Mapping[str, Any], ...] = ()
    probe_interval: float = 1.0
    probe_calls: tuple[str, ...] = ("token_issue", "server_list")


def conditions_list(value: Any) -> list[dict[str, Any]]:
    """An ``expect``'s or ``until``'s conditions, one mapping each (one key each)."""
    items = value if isinstance(value, list) else [value]
    return [{key: arg} for item in items for key, arg in item.items()]


def conditions_text(value: Any) -> str:
    return ", ".join(f"{key}={_short(arg)}" for item in conditions_list(value)
                     for key, arg in item.items())


def _short(arg: Any) -> str:
    if isinstance(arg, dict):
        return "{" + " ".join(f"{k}:{_short(v)}" for k, v in arg.items()) + "}"
    if isinstance(arg, list):
        return "[" + ",".join(_short(v) for v in arg) + "]"
    return "none" if arg is None else str(arg)


def _where(path: Any) -> str:
    """``steps[3].wait.until`` from a jsonschema error's absolute path."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top)"


def _best(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    # Of an anyOf's alternatives, the one that got deepest says what was meant (a
    # condition's missing field, rather than "not a list either").
    while error.context:
        error = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return error


def parse(document: Any, source: str = "<scenario>") -> Scenario:
    """A scenario from its parsed YAML; ``ScenarioError`` naming file, step and field."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        lines = []
        for error in errors[:5]:
            best = _best(error)
            lines.append(f"{source}: {_where(best.absolute_path)}: {best.message}")
        raise ScenarioError("\n".join(lines))
    steps = []
    for index, item in enumerate(document["steps"]):
        ((kind, value),) = item.items()
        if kind == "act" and value != "heal":
            for name, arg in value.items():
                if name != "action" and arg is None:
                    raise ScenarioError(f"{source}: steps[{index}].act.{name}: must not be null")
        steps.append(Step(index, kind, value))
    probe = {**DEFAULT_PROBE, **document.get("probe", {})}
    return Scenario(name=document["name"], description=document.get("description", ""),
                    source=source, steps=tuple(steps), requires=document.get("requires", {}),
                    setup=tuple(document.get("setup", ())),
                    probe_interval=float(probe["interval"]),
                    probe_calls=tuple(probe["calls"]))


def load(path: str | Path) -> Scenario:
    """Read and check a scenario file."""
    path = Path(path)
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not YAML: {error}") from None
    return parse(document, path.name)


LIBRARY = Path(__file__).parent / "library"


def library() -> list[Path]:
    """The shipped scenarios, by name."""
    return sorted(LIBRARY.glob("*.yaml"))


def find(name_or_path: str) -> Path:
    """A scenario file: a path, or the name of a shipped one."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        return path
    return LIBRARY / f"{name_or_path}.yaml"
