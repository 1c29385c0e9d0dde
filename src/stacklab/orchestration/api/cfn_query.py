"""heat-api-cfn's AWS query API (heat/api/cfn/v1/stacks.py): ``GET /v1/?Action=...``,
authenticated by an EC2 signature (version 2) of the request, as heat's ``ec2token``
middleware has keystone check it. Only ``DescribeStackResource`` is served: what
os-collect-config's cfn collector asks (``StackName``, ``LogicalResourceId``,
``AWSAccessKeyId``, ``SignatureVersion=2``, ``SignatureMethod``, ``Signature``) to read
its server's metadata and, in it, the deployments.

The key pair is the one heat made for the server (``software_transport.py``): found by
its access key among the stacks' resources, the signature checked with its secret, and
it opens only its own resource (heat's ``access_allowed`` for a stack user). Answers are
heat's: XML by default, JSON with ``ContentType=JSON``; errors heat's ``ErrorResponse``
(authentication errors always XML: upstream raises them before the API looks at
``ContentType``). heat-api-cfn answers an unknown stack or resource with its mapped
``InvalidParameterValue`` (400), its only answer to a missing thing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from starlette.responses import Response

from stacklab.api.service import Call
from stacklab.clock import isotime
from stacklab.orchestration.api.cfn import cfn_api
from stacklab.orchestration.service import OrchestrationService

# heat-api-cfn's other actions (heat/api/cfn/v1/__init__.py), which the lab does not serve.
_NOT_IMPLEMENTED = frozenset({
    "ListStacks", "CreateStack", "DescribeStacks", "DeleteStack", "UpdateStack",
    "CancelUpdateStack", "DescribeStackEvents", "ValidateTemplate", "GetTemplate",
    "EstimateTemplateCost", "DescribeStackResources", "ListStackResources"})

# heat's XMLResponseSerializer writes these as JSON text inside the XML.
_JSON_ONLY_KEYS = ("TemplateBody", "Metadata")


class CfnError(Exception):
    """One of heat/api/aws/exception.py's errors: status, AWS code, explanation."""

    def __init__(self, status: int, code: str, explanation: str,
                 detail: str | None = None, *, kind: str = "Sender",
                 middleware: bool = False) -> None:
        super().__init__(explanation)
        self.status, self.code, self.kind = status, code, kind
        # Raised by heat's ec2token middleware, before ContentType is read: always XML.
        self.middleware = middleware
        self.message = f"{explanation}:{detail}" if detail else explanation


def _signature_error() -> CfnError:
    return CfnError(403, "SignatureDoesNotMatch", "The request signature we calculated "
                    "does not match the signature you provided", middleware=True)


def _invalid_value(detail: str) -> CfnError:
    return CfnError(400, "InvalidParameterValue", "A bad or out-of-range value was supplied",
                    detail)


def _element(parent: ElementTree.Element, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _element(ElementTree.SubElement(parent, "member"), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            child = ElementTree.SubElement(parent, key)
            if key in _JSON_ONLY_KEYS:
                if item:
                    child.text = json.dumps(item)
            else:
                _element(child, item)
    else:
        parent.text = str(value)


def _render(body: Mapping[str, Any], status: int, as_json: bool) -> Response:
    if as_json:
        return Response(json.dumps(body), status_code=status, media_type="application/json")
    (root_name, content), = body.items()
    root = ElementTree.Element(root_name)
    _element(root, content)
    return Response(ElementTree.tostring(root), status_code=status,
                    media_type="application/xml")


def _error_response(error: CfnError, as_json: bool) -> Response:
    return _render({"ErrorResponse": {"Error": {"Type": error.kind, "Code": error.code,
                                                "Message": error.message}}},
                   error.status, as_json)


def ec2_signature_v2(secret: str, verb: str, host: str, path: str,
                     params: Mapping[str, str]) -> str:
    """AWS signature version 2 as keystone's ``Ec2Signer`` computes it: HMAC (SHA-256
    unless ``SignatureMethod`` says HmacSHA1) of the verb, host, path and the sorted,
    quoted parameters, base64."""
    query = "&".join(f"{quote(key, safe='')}={quote(params[key], safe='-_~')}"
                     for key in sorted(params))
    digest = hashlib.sha1 if params.get("SignatureMethod") == "HmacSHA1" else hashlib.sha256
    mac = hmac.new(secret.encode(), f"{verb}\n{host}\n{path}\n{query}".encode(), digest)
    return base64.b64encode(mac.digest()).decode()


def _authenticate(call: Call, params: Mapping[str, str]) -> tuple[str, str]:
    """heat's ec2token checks, keystone's ``ec2tokens`` answers: the key pair's stack and
    resource."""
    signature = params.get("Signature")
    if not signature:
        raise CfnError(400, "IncompleteSignature",
                       "The request signature does not conform to AWS standards",
                       middleware=True)
    access = params.get("AWSAccessKeyId")
    if not access:
        raise CfnError(403, "MissingAuthenticationToken",
                       "Does not contain a valid AWS Access Key or certificate",
                       middleware=True)
    service: OrchestrationService = call.service
    owner = service.access_key_owner(access)
    if owner is None:
        raise CfnError(403, "InvalidClientTokenId",
                       "The certificate or AWS Key ID provided does not exist",
                       middleware=True)
    stack_id, resource, secret = owner
    signed = {k: v for k, v in params.items() if k != "Signature"}
    expected = ec2_signature_v2(secret, call.request.method, call.headers.get("host", ""),
                                call.request.url.path, signed)
    if not hmac.compare_digest(expected, signature):
        raise _signature_error()
    return stack_id, resource


def _stack_id_of(name: str) -> str:
    """A stack's id from what ``StackName`` holds: an ARN
    (``arn:openstack:heat::<tenant>:stacks/<name>/<id>``), ``<name>/<id>``, or a bare name
    or id (checked against the key pair's stack by the caller)."""
    if name.startswith("arn:openstack:heat:"):
        return name.rsplit("/", 1)[-1]
    return name.rsplit("/", 1)[-1] if "/" in name else name


async def _describe_stack_resource(call: Call, params: Mapping[str, str], stack_id: str,
                                   owner: str) -> dict[str, Any]:
    service: OrchestrationService = call.service
    row = service.store.stack(stack_id)
    given = params.get("StackName", "")
    if row is None or row.deleted_at is not None or _stack_id_of(given) not in (row.id,
                                                                                row.name):
        raise _invalid_value(f"The Stack ({given}) could not be found.")
    name = params.get("LogicalResourceId", "")
    if name != owner:
        # heat's describe_stack_resource for a stack user: only its own resource.
        raise CfnError(403, "AccessDenied", "User is not authorized to perform action",
                       "You are not authorized to use this action.")
    res = service.resources(row.id).get(name)
    if res is None:
        raise _invalid_value(f"The Resource ({name}) could not be found in Stack "
                             f"{row.name}.")
    detail = {
        "Description": res.description or "",
        "LastUpdatedTimestamp": isotime(res.updated_at or res.created_at),
        "LogicalResourceId": res.name,
        "Metadata": res.metadata,
        "PhysicalResourceId": res.physical_id or "",
        "ResourceStatusReason": res.status_reason,
        "ResourceType": res.type,
        "StackId": f"arn:openstack:heat::{row.project_id}:stacks/{row.name}/{row.id}",
        "StackName": row.name,
        "ResourceStatus": f"{res.action}_{res.status}",
    }
    return {"DescribeStackResourceResponse": {"DescribeStackResourceResult": {
        "StackResourceDetail": detail}}}


@cfn_api.route("GET", "/v1/", public=True)
async def query_api(call: Call) -> Response:
    params = {key: value for key, value in call.query.items()}
    as_json = params.get("ContentType") == "JSON"
    action = params.get("Action")
    try:
        stack_id, owner = _authenticate(call, params)
        if action in _NOT_IMPLEMENTED:
            # The lab's rule for what it does not implement: 501, naming it (in heat's
            # words for a missing action, its APINotImplemented).
            raise CfnError(501, "APINotImplemented", "The requested action is not yet "
                           "implemented", f"stacklab does not implement {action}",
                           kind="Server")
        if action != "DescribeStackResource":
            # heat routes any other Action (or none) to its controller's default.
            raise CfnError(400, "InvalidAction", "The action or operation requested is "
                           "invalid")
        return _render(await _describe_stack_resource(call, params, stack_id, owner), 200,
                       as_json)
    except CfnError as error:
        return _error_response(error, as_json and not error.middleware)
