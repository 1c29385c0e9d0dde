"""heat-api-cfn: the endpoint a server's wait condition signals (heat's
``/v1/waitcondition/{arn}``), reachable without a token: the URL itself is the credential;
and the AWS query API's ``DescribeStackResource`` that os-collect-config's cfn collector
polls for its server's metadata (``cfn_query.py``).

Upstream pre-signs the URL with an EC2 signature of a stack user's keys; stacklab signs
it with an HMAC-SHA256 of the resource's own secret (kept in its resource data), which
``curl -X PUT``/``POST`` of the JSON body ``{"Status", "UniqueId", "Data", "Reason"}``
presents as the ``Signature`` query parameter, as heat-cfntools' ``cfn-signal`` does.
"""

from __future__ import annotations

import hmac
from typing import Any

from stacklab.api.errors import heat_error
from stacklab.api.service import Call, Reply, ServiceApi
from stacklab.orchestration.engine.clients import signal_signature
from stacklab.orchestration.errors import HeatError
from stacklab.orchestration.service import OrchestrationService

cfn_api = ServiceApi("cloudformation", errors=heat_error)


async def _signal(call: Call) -> Reply:
    service: OrchestrationService = call.service
    stack_id, name = call.params["stack_id"], call.params["resource_name"]
    row = service.store.stack(stack_id)
    res = None if row is None or row.deleted_at else service.resources(stack_id).get(name)
    secret = None if res is None else res.data.get("signal_secret")
    given = call.query.get("Signature", "")
    if secret is None or not hmac.compare_digest(signal_signature(secret, stack_id, name), given):
        # heat-api-cfn's EC2 token check: a wrong or stale URL is not authenticated.
        raise HeatError("Signature not provided or incorrect", status=403,
                        kind="HeatAccessDeniedError")
    body = call.body if isinstance(call.body, dict) else {}
    await service.rpc("resource_signal", {}, stack_id=stack_id, resource_name=name,
                      details=body)
    return Reply(None, status=200)


for _method in ("POST", "PUT"):
    cfn_api.route(_method, "/v1/waitcondition/{stack_id}/{resource_name}", public=True,
                  body_optional=True)(_signal)
    cfn_api.route(_method, "/v1/signal/{stack_id}/{resource_name}", public=True,
                  body_optional=True)(_signal)


@cfn_api.route("GET", "/", public=True)
async def versions(call: Call) -> Any:
    return {"versions": [{"id": "v1.0", "status": "CURRENT", "links": [
        {"href": call.url_for("/v1/"), "rel": "self"}]}]}
