"""OS-ENDPOINT-POLICY: a policy blob's associations with endpoints, services and a service
in a region, and an endpoint's effective policy (``identity/endpoint_policy.py``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from stacklab.api.service import Call
from stacklab.identity.api.base import api, backend, collection_links
from stacklab.identity.api.catalog import render_endpoint
from stacklab.identity.api.policy_blobs import render_policy

POLICY = "/v3/policies/{policy_id}/OS-ENDPOINT-POLICY"
# The three kinds of association, by the path parameters that name their target.
KINDS = {
    "endpoint": (f"{POLICY}/endpoints/{{endpoint_id}}", ("endpoint_id",)),
    "service": (f"{POLICY}/services/{{service_id}}", ("service_id",)),
    "region_and_service": (f"{POLICY}/services/{{service_id}}/regions/{{region_id}}",
                           ("service_id", "region_id")),
}


def _declare(kind: str, path: str, names: tuple[str, ...]) -> None:
    def target_of(call: Call) -> dict[str, Any]:
        return {name: call.params[name] for name in names}

    def put(call: Call) -> Awaitable[None]:
        return _run(call, lambda service, session: service.endpoint_policy.associate(
            session, call.params["policy_id"], **target_of(call)))

    def get(call: Call) -> Awaitable[None]:
        return _run(call, lambda service, session: service.endpoint_policy.check(
            session, call.params["policy_id"], **target_of(call)))

    def remove(call: Call) -> Awaitable[None]:
        return _run(call, lambda service, session: service.endpoint_policy.dissociate(
            session, call.params["policy_id"], **target_of(call)))

    api.route("PUT", path, policy=f"identity:create_policy_association_for_{kind}",
              status=204, body_optional=True)(put)
    # HEAD is served by the GET handler.
    api.route("GET", path, policy=f"identity:check_policy_association_for_{kind}",
              status=204)(get)
    api.route("DELETE", path, policy=f"identity:delete_policy_association_for_{kind}",
              status=204)(remove)


async def _run(call: Call, step: Callable[[Any, Any], Any]) -> None:
    with backend(call) as (service, session):
        step(service, session)


for _kind, (_path, _names) in KINDS.items():
    _declare(_kind, _path, _names)


@api.route("GET", "/v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy",
           policy="identity:get_policy_for_endpoint")
async def policy_for_endpoint(call: Call) -> dict[str, Any]:
    endpoint_id = call.params["endpoint_id"]
    with backend(call) as (service, session):
        policy = service.endpoint_policy.policy_for_endpoint(session, endpoint_id)
        return {"policy": render_policy(call, policy)}


@api.route("GET", f"{POLICY}/endpoints", policy="identity:list_endpoints_for_policy")
async def endpoints_for_policy(call: Call) -> dict[str, Any]:
    policy_id = call.params["policy_id"]
    with backend(call) as (service, session):
        endpoints = service.endpoint_policy.endpoints_for_policy(session, policy_id)
        return {"endpoints": [render_endpoint(call, e) for e in endpoints],
                "links": collection_links(
                    call, f"/v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints")}
