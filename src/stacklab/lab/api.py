"""``/stacklab/v1``, declared as every service's API is: the same request path, token check,
policy and error format (keystone's, the lab's identity service being keystone).

Only ``health`` is public (it is what ``stacklab wait`` and load balancers poll); everything
else shows or changes the whole lab, so it takes an admin token (``stacklab:admin``).
"""

from __future__ import annotations

from typing import Any, cast

from starlette.responses import PlainTextResponse, Response

from stacklab.api.errors import BadRequest, NotFound, keystone_error
from stacklab.api.policy import PolicyRule
from stacklab.api.service import Call, Reply, ServiceApi
from stacklab.lab.service import Lab, ip_output

ADMIN = "stacklab:admin"

RULES = (
    PolicyRule(ADMIN, "role:admin",
               description="See the lab's status, nodes, namespaces and logs; power nodes."),
)

api = ServiceApi("stacklab", errors=keystone_error)

_DEFAULT_LIMIT = 200


def lab(call: Call) -> Lab:
    return cast(Lab, call.service)


@api.route("GET", "/v1/health", public=True)
async def health(call: Call) -> Reply:
    body = lab(call).health()
    return Reply(body, status=200 if body["status"] == "ready" else 503)


@api.route("GET", "/v1/status", policy=ADMIN)
async def status(call: Call) -> dict[str, Any]:
    return lab(call).status()


@api.route("GET", "/v1/logs", policy=ADMIN)
async def logs(call: Call) -> dict[str, Any]:
    query = call.query
    raw_limit = query.get("limit", str(_DEFAULT_LIMIT))
    if not (raw_limit.isascii() and raw_limit.isdigit()):
        raise BadRequest(f"Invalid limit: {raw_limit!r}. It must be a non-negative integer.")
    records = lab(call).logs.search(request_id=query.get("request_id"), node=query.get("node"),
                                    service=query.get("service"),
                                    global_request_id=query.get("global_request_id"))
    limit = int(raw_limit)
    return {"logs": records[-limit:] if limit else []}


def _node(call: Call) -> str:
    name = call.params["node"]
    try:
        return lab(call).runtime.node(name).fqdn
    except KeyError:
        raise NotFound(f"Could not find node: {name}.") from None


@api.route("POST", "/v1/nodes/{node}/down", policy=ADMIN, body_optional=True)
async def node_down(call: Call) -> dict[str, Any]:
    """Power a node off, as pulling its plug would."""
    fqdn = _node(call)
    runtime = lab(call).runtime
    runtime.power_off(fqdn)
    return {"node": fqdn, "state": runtime.power(fqdn)}


@api.route("POST", "/v1/nodes/{node}/up", policy=ADMIN, body_optional=True)
async def node_up(call: Call) -> dict[str, Any]:
    fqdn = _node(call)
    runtime = lab(call).runtime
    runtime.power_on(fqdn)
    return {"node": fqdn, "state": runtime.power(fqdn)}


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
