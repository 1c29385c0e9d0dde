"""Faults as data: one action (a JSON object) applied to the runtime, checked first.

The lab API's ``POST /stacklab/v1/faults``, the CLI's ``stacklab fault`` and the
scenario runner all hand an action here, so a fault means the same thing however
it is asked for. An action names what to do and its arguments::

    {"action": "power_off", "node": "controller1"}
    {"action": "power_on", "node": "controller1"}
    {"action": "stop_service", "node": "network1", "service": "neutron-l3-agent"}
    {"action": "start_service", "node": "network1", "service": "neutron-l3-agent"}
    {"action": "detach", "node": "compute1", "network": "overlay"}
    {"action": "attach", "node": "compute1", "network": "overlay"}
    {"action": "partition", "sides": [["controller1"], ["controller2", "arbiter"]]}
    {"action": "set_link", "source": "controller1", "target": "arbiter",
     "latency": 0.2, "loss": 0.1}
    {"action": "heal"}

Every problem raises ``ActionError`` with a message naming the field, which the
API answers as a 400 (or 404 for a node the lab does not have).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from stacklab.topology.runtime import Runtime


class ActionError(ValueError):
    """An action that cannot be applied; ``missing`` when it names a node the lab lacks."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def _text(action: Mapping[str, Any], field: str) -> str:
    value = action.get(field)
    if not isinstance(value, str) or not value:
        raise ActionError(f"'{field}' must be a non-empty string")
    return value


def _number(action: Mapping[str, Any], field: str) -> float:
    value = action.get(field, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ActionError(f"'{field}' must be a number")
    return float(value)


def _fqdn(runtime: Runtime, action: Mapping[str, Any], field: str = "node") -> str:
    name = _text(action, field)
    try:
        return runtime.node(name).fqdn
    except KeyError:
        raise ActionError(f"Could not find node: {name}.", missing=True) from None


def _power_off(runtime: Runtime, action: Mapping[str, Any]) -> bool:
    return runtime.power_off(_fqdn(runtime, action))


def _power_on(runtime: Runtime, action: Mapping[str, Any]) -> bool:
    return runtime.power_on(_fqdn(runtime, action))


def _service(runtime: Runtime, action: Mapping[str, Any], start: bool) -> bool:
    fqdn, service = _fqdn(runtime, action), _text(action, "service")
    try:
        return (runtime.start_service if start else runtime.stop_service)(fqdn, service)
    except KeyError as error:
        raise ActionError(f"'service': {error.args[0]}") from None


def _network(runtime: Runtime, action: Mapping[str, Any], attach: bool) -> bool:
    fqdn, network = _fqdn(runtime, action), _text(action, "network")
    try:
        return (runtime.attach if attach else runtime.detach)(fqdn, network)
    except KeyError as error:
        raise ActionError(f"'network': {error.args[0]}") from None


def _partition(runtime: Runtime, action: Mapping[str, Any]) -> bool:
    sides = action.get("sides")
    if (not isinstance(sides, list) or len(sides) < 2
            or not all(isinstance(side, list) and side for side in sides)
            or not all(isinstance(name, str) for side in sides for name in side)):
        raise ActionError("'sides' must be a list of at least two non-empty lists of nodes")
    for side in sides:
        for name in side:
            _fqdn(runtime, {"node": name})
    try:
        return runtime.partition(sides) > 0
    except ValueError as error:
        raise ActionError(f"'sides': {error}") from None


def _set_link(runtime: Runtime, action: Mapping[str, Any]) -> bool:
    source, target = _fqdn(runtime, action, "source"), _fqdn(runtime, action, "target")
    try:
        runtime.set_link(source, target, latency=_number(action, "latency"),
                         loss=_number(action, "loss"))
    except ValueError as error:
        raise ActionError(str(error)) from None
    return True


def _heal(runtime: Runtime, action: Mapping[str, Any]) -> bool:
    return any(runtime.heal().values())


ACTIONS: Mapping[str, Callable[[Runtime, Mapping[str, Any]], bool]] = {
    "power_off": _power_off,
    "power_on": _power_on,
    "stop_service": lambda runtime, action: _service(runtime, action, start=False),
    "start_service": lambda runtime, action: _service(runtime, action, start=True),
    "detach": lambda runtime, action: _network(runtime, action, attach=False),
    "attach": lambda runtime, action: _network(runtime, action, attach=True),
    "partition": _partition,
    "set_link": _set_link,
    "heal": _heal,
}


def apply(runtime: Runtime, action: Any) -> bool:
    """Apply one action; whether it changed anything (False: it was already so)."""
    if not isinstance(action, Mapping):
        raise ActionError("a fault must be a JSON object with an 'action'")
    name = action.get("action")
    handler = ACTIONS.get(name) if isinstance(name, str) else None
    if handler is None:
        raise ActionError(f"'action' must be one of: {', '.join(ACTIONS)}")
    return handler(runtime, action)
