"""``/v2.0/quotas``: neutron's per-project limits and their usage (the domain is
``network.quotas``)."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call
from stacklab.network import attributes, quotas
from stacklab.network.api.base import api, authorize, network, target_of


def _target(call: Call) -> dict[str, Any]:
    return target_of({"project_id": call.params["project_id"]})


def _show(call: Call) -> None:
    # Your own project's quotas need no rule; another's need get_quota.
    if call.params["project_id"] != call.context.project_id:
        authorize(call, "get_quota", _target(call))


@api.route("GET", "/v2.0/quotas")
async def list_quotas(call: Call) -> dict[str, Any]:
    authorize(call, "get_quota", target_of({"project_id": call.context.project_id}))
    with network(call).db.session() as session:
        return {"quotas": quotas.all_limits(session)}


@api.route("GET", "/v2.0/quotas/{project_id}")
async def show_quota(call: Call) -> dict[str, Any]:
    _show(call)
    with network(call).db.session() as session:
        return {"quota": quotas.limits(session, call.params["project_id"])}


@api.route("GET", "/v2.0/quotas/{project_id}/default")
async def show_default_quota(call: Call) -> dict[str, Any]:
    _show(call)
    return {"quota": dict(quotas.DEFAULTS)}


@api.route("GET", "/v2.0/quotas/{project_id}/details")
async def show_quota_details(call: Call) -> dict[str, Any]:
    _show(call)
    with network(call).db.session() as session:
        return {"quota": quotas.details(session, call.params["project_id"])}


@api.route("PUT", "/v2.0/quotas/{project_id}")
async def update_quota(call: Call) -> dict[str, Any]:
    authorize(call, "update_quota", _target(call))
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
        raise BadRequest("Resource body required: quota expected in the body")
    changes: dict[str, int] = {}
    fields = dict(body["quota"])
    check_limit = attributes.to_boolean(fields.pop("check_limit", False))
    unknown = sorted(set(fields) - set(quotas.DEFAULTS))
    if unknown:
        raise BadRequest("Unrecognized attribute(s) '" + ", ".join(unknown) + "'")
    for name, value in fields.items():
        # neutron's quota attributes: convert_to_int, then type:range [-1, DB_INTEGER_MAX].
        changes[name] = attributes.to_int(value)
        attributes.check_value(name, changes[name],
                               attributes.integer_range(-1, attributes.DB_INTEGER_MAX))
    with network(call).db.session() as session:
        return {"quota": quotas.set_limits(session, call.params["project_id"], changes,
                                           check_limit=check_limit)}


@api.route("DELETE", "/v2.0/quotas/{project_id}", status=204)
async def delete_quota(call: Call) -> None:
    authorize(call, "delete_quota", _target(call))
    with network(call).db.session() as session:
        quotas.reset(session, call.params["project_id"])
