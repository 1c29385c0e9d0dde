"""``/stacklab/v1``, declared as every service's API is: the same request path, token check,
policy and error format (keystone's, the lab's identity service being keystone).

Only ``health`` is public (it is what ``stacklab wait`` and load balancers poll), and
``auth/tokens``, keystone's login reached out of band; everything else shows or changes the
whole lab, so it takes an admin token (``stacklab:admin``). The lab's API is the lab's
console, not part of the cloud: it is never behind the simulated VIP, and neither is its
login, so faults that close the cloud's way in never lock the operator out.

Every fault goes through ``topology.actions``, whichever route asks for it: ``POST
/v1/faults`` with one action object, and the shorthands ``/v1/faults/heal``,
``/v1/nodes/{node}/down|up`` and ``/v1/nodes/{node}/services/{service}/stop|start|restart``.
With Pacemaker placing the VIPs, ``/v1/pacemaker/...`` does what ``pcs node standby`` and
``pcs resource cleanup`` do.
A bad action is a 400 naming the field, an unknown node a 404 (docs/faults.md).
"""

from __future__ import annotations

from typing import Any, cast

from starlette.responses import PlainTextResponse, Response

from stacklab.api.errors import BadRequest, Conflict, NotFound, keystone_error
from stacklab.api.policy import PolicyRule
from stacklab.api.service import Call, Reply, ServiceApi
from stacklab.ha.pacemaker import PacemakerCluster
from stacklab.lab.service import Lab, ip_output
from stacklab.topology.actions import ActionError, apply
from stacklab.topology.runtime import UP

ADMIN = "stacklab:admin"

RULES = (
    PolicyRule(ADMIN, "role:admin",
               description="See the lab's status, nodes, namespaces and logs; inject and "
                           "heal faults (power, processes, networks, links)."),
)

api = ServiceApi("stacklab", errors=keystone_error)

_DEFAULT_LIMIT = 200


def lab(call: Call) -> Lab:
    return cast(Lab, call.service)


@api.route("GET", "/v1/health", public=True)
async def health(call: Call) -> Reply:
    # A degraded lab serves (``stacklab wait`` returns); starting or down, it does not.
    body = lab(call).health()
    return Reply(body, status=200 if body["status"] in ("ready", "degraded") else 503)


@api.route("POST", "/v1/auth/tokens", public=True)
async def console_token(call: Call) -> Response:
    """A keystone token got out of band (keystone's request and answer, relayed): what the
    CLI's lab commands log in with, so they work while the cloud's own way in is down."""
    answer = await lab(call).console_login(call.body)
    headers = {"Content-Type": answer.headers.get("content-type", "application/json")}
    if "x-subject-token" in answer.headers:
        headers["X-Subject-Token"] = answer.headers["x-subject-token"]
    return Response(answer.content, status_code=answer.status_code, headers=headers)


@api.route("GET", "/v1/status", policy=ADMIN)
async def status(call: Call) -> dict[str, Any]:
    """Nodes, processes, faults, the services' liveness, and a verdict (lab.status)."""
    # The services' views are read through their APIs, as this caller (an admin).
    return await lab(call).status(call.headers.get("X-Auth-Token"))


@api.route("GET", "/v1/ha", policy=ADMIN)
async def ha(call: Call) -> dict[str, Any]:
    """VIP holders, HAProxy's servers, Galera's members and each HA router's keepalived
    instances: what scenarios sample while a failover runs (no call to any service)."""
    return lab(call).ha()


@api.route("GET", "/v1/logs", policy=ADMIN)
async def logs(call: Call) -> dict[str, Any]:
    query = call.query
    raw_limit = query.get("limit", str(_DEFAULT_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit()):
        raise BadRequest(f"Invalid limit: {raw_limit!r}. It must be a non-negative integer.")
    records = lab(call).logs.search(request_id=query.get("request_id"), node=query.get("node"),
                                    service=query.get("service"),
                                    global_request_id=query.get("global_request_id"),
                                    process=query.get("process"))
    limit = int(raw_limit)
    return {"logs": records[-limit:] if limit else []}


def _node(call: Call) -> str:
    name = call.params["node"]
    try:
        return lab(call).runtime.node(name).fqdn
    except KeyError:
        raise NotFound(f"Could not find node: {name}.") from None


def _apply(call: Call, action: Any) -> bool:
    """Apply one fault action (topology.actions): whether it changed anything."""
    try:
        return apply(lab(call).runtime, action)
    except ActionError as error:
        if error.missing:
            raise NotFound(str(error)) from None
        raise BadRequest(str(error)) from None


def _faults(call: Call) -> dict[str, Any]:
    return lab(call).runtime.faults()


@api.route("GET", "/v1/faults", policy=ADMIN)
async def list_faults(call: Call) -> dict[str, Any]:
    """Every fault in force."""
    return {"faults": _faults(call)}


@api.route("POST", "/v1/faults", policy=ADMIN)
async def inject_fault(call: Call) -> dict[str, Any]:
    """Apply one action (``{"action": "stop_service", "node": ..., "service": ...}``)."""
    changed = _apply(call, call.body)
    return {"changed": changed, "faults": _faults(call)}


@api.route("POST", "/v1/faults/heal", policy=ADMIN, body_optional=True)
async def heal_faults(call: Call) -> dict[str, Any]:
    """Undo every fault: networks and links, then processes, then power."""
    changed = _apply(call, {"action": "heal"})
    return {"changed": changed, "faults": _faults(call)}


@api.route("POST", "/v1/nodes/{node}/down", policy=ADMIN, body_optional=True)
async def node_down(call: Call) -> dict[str, Any]:
    """Power a node off, as pulling its plug would."""
    fqdn = _node(call)
    _apply(call, {"action": "power_off", "node": fqdn})
    return {"node": fqdn, "state": lab(call).runtime.power(fqdn)}


@api.route("POST", "/v1/nodes/{node}/up", policy=ADMIN, body_optional=True)
async def node_up(call: Call) -> dict[str, Any]:
    fqdn = _node(call)
    _apply(call, {"action": "power_on", "node": fqdn})
    return {"node": fqdn, "state": lab(call).runtime.power(fqdn)}


def _process(call: Call) -> tuple[str, str]:
    """The node and the process the path names (404 when the node runs no such process)."""
    fqdn, service = _node(call), call.params["service"]
    if not lab(call).runtime.node(fqdn).runs(service):
        raise NotFound(f"Could not find service {service} on node {call.params['node']}.")
    return fqdn, service


def _process_state(call: Call, fqdn: str, service: str, changed: bool) -> dict[str, Any]:
    return {"node": fqdn, "service": service, "changed": changed,
            "state": lab(call).runtime.services(fqdn)[service]}


@api.route("POST", "/v1/nodes/{node}/services/{service}/stop", policy=ADMIN,
           body_optional=True)
async def stop_process(call: Call) -> dict[str, Any]:
    """``systemctl stop`` one process of a node."""
    fqdn, service = _process(call)
    changed = _apply(call, {"action": "stop_service", "node": fqdn, "service": service})
    return _process_state(call, fqdn, service, changed)


@api.route("POST", "/v1/nodes/{node}/services/{service}/start", policy=ADMIN,
           body_optional=True)
async def start_process(call: Call) -> dict[str, Any]:
    fqdn, service = _process(call)
    changed = _apply(call, {"action": "start_service", "node": fqdn, "service": service})
    return _process_state(call, fqdn, service, changed)


@api.route("POST", "/v1/nodes/{node}/services/{service}/restart", policy=ADMIN,
           body_optional=True)
async def restart_process(call: Call) -> dict[str, Any]:
    """``systemctl restart``: stop (if it runs) then start; it always starts anew."""
    fqdn, service = _process(call)
    if lab(call).runtime.power(fqdn) != UP:
        raise Conflict(f"Node {call.params['node']} is powered off: nothing runs there to "
                       "restart.")
    _apply(call, {"action": "stop_service", "node": fqdn, "service": service})
    _apply(call, {"action": "start_service", "node": fqdn, "service": service})
    return _process_state(call, fqdn, service, True)


@api.route("POST", "/v1/commands", policy=ADMIN)
async def run_command(call: Call) -> dict[str, Any]:
    """An operator's command a service offers (``cinder-manage volume update_host`` with
    ``{"currenthost": ..., "newhost": ...}``), as run on a controller."""
    body = call.body if isinstance(call.body, dict) else {}
    name, options = body.get("command"), body.get("options", {})
    if not isinstance(name, str) or not name:
        raise BadRequest("Invalid input for field/attribute command: a command name is "
                         "required.")
    if not isinstance(options, dict):
        raise BadRequest("Invalid input for field/attribute options: must be an object.")
    result = lab(call).run_command(name, options)
    if result is None:
        raise BadRequest(f"Invalid input for field/attribute command: no service offers "
                         f"{name!r}.")
    return {"command": name, **result}


@api.route("GET", "/v1/nodes/{node}/netns", policy=ADMIN)
async def node_netns(call: Call) -> Response | dict[str, Any]:
    """What ``ip netns`` and ``ip -br addr`` show on the node (``?text`` for that output).

    A powered-off node has none: its namespaces went with its kernel, and its
    agents make them again when it is back.
    """
    fqdn = _node(call)
    found = lab(call).namespaces(fqdn)
    if "text" in call.query:
        return PlainTextResponse(ip_output(found))
    return {"node": fqdn, "state": lab(call).runtime.power(fqdn), "namespaces": found}


# -- Pacemaker (``[stacklab] vip_manager = pacemaker``): what an operator does with pcs ----------

def _cluster(call: Call) -> PacemakerCluster:
    cluster = lab(call).pacemaker()
    if cluster is None:
        raise Conflict("This lab has no Pacemaker cluster: its VIPs are managed by keepalived "
                       "([stacklab] vip_manager = keepalived).")
    return cluster


def _member(call: Call, cluster: PacemakerCluster) -> str:
    fqdn = _node(call)
    if fqdn not in cluster.nodes:
        raise NotFound(f"Node {call.params['node']} is not a member of the Pacemaker cluster "
                       f"({', '.join(sorted(cluster.nodes))}).")
    return fqdn


@api.route("POST", "/v1/pacemaker/nodes/{node}/standby", policy=ADMIN, body_optional=True)
async def pcs_standby(call: Call) -> dict[str, Any]:
    """``pcs node standby``: the node may run no resource; they move to the others."""
    cluster = _cluster(call)
    cluster.standby(_member(call, cluster), True)
    return {"pacemaker": cluster.status()}


@api.route("POST", "/v1/pacemaker/nodes/{node}/unstandby", policy=ADMIN, body_optional=True)
async def pcs_unstandby(call: Call) -> dict[str, Any]:
    """``pcs node unstandby``: the node may run resources again (stickiness keeps them
    where they are)."""
    cluster = _cluster(call)
    cluster.standby(_member(call, cluster), False)
    return {"pacemaker": cluster.status()}


@api.route("POST", "/v1/pacemaker/cleanup", policy=ADMIN, body_optional=True)
async def pcs_cleanup(call: Call) -> dict[str, Any]:
    """``pcs resource cleanup [resource] [node=...]``: forget fail counts and failed
    operations, so that a resource banned by ``migration-threshold`` may run again."""
    cluster = _cluster(call)
    if call.body is not None and not isinstance(call.body, dict):
        raise BadRequest("The request body must be an object with the optional fields "
                         "'resource' and 'node'.")
    body = call.body or {}
    resource, node = body.get("resource"), body.get("node")
    for field, value in (("resource", resource), ("node", node)):
        if value is not None and (not isinstance(value, str) or not value):
            raise BadRequest(f"'{field}' must be a non-empty string")
    if resource is not None and resource not in cluster.primitives:
        raise NotFound(f"Could not find resource: {resource} (the cluster has "
                       f"{', '.join(sorted(cluster.primitives))}).")
    fqdn = None
    if node is not None:
        try:
            fqdn = lab(call).runtime.node(node).fqdn
        except KeyError:
            raise NotFound(f"Could not find node: {node}.") from None
        if fqdn not in cluster.nodes:
            raise NotFound(f"Node {node} is not a member of the Pacemaker cluster.")
    for rid in [resource] if resource is not None else sorted(cluster.primitives):
        cluster.cleanup(rid, fqdn)
    return {"pacemaker": cluster.status()}
