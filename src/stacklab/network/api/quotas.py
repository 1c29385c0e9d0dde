"""``/v2.0/quotas``: neutron's per-project limits, their usage, and the 409 when over."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call
from stacklab.network import attributes
from stacklab.network import models as m
from stacklab.network.api.base import api, authorize, network, target_of

# neutron.conf [quotas] defaults.
DEFAULTS = {"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
            "security_group": 10, "security_group_rule": 100, "rbac_policy": 10,
            "subnetpool": -1}
_COUNTED: dict[str, Any] = {"network": m.Network, "subnet": m.Subnet, "port": m.Port,
                            "router": m.Router, "floatingip": m.FloatingIP,
                            "security_group": m.SecurityGroup,
                            "security_group_rule": m.SecurityGroupRule,
                            "subnetpool": m.SubnetPool}


def limits(session: Session, project_id: str) -> dict[str, int]:
    values = dict(DEFAULTS)
    for row in session.scalars(select(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id)):
        values[row.resource] = row.hard_limit
    return values


def used(session: Session, project_id: str, resource: str) -> int:
    model = _COUNTED.get(resource)
    if model is None:
        return 0
    return session.scalar(select(func.count()).select_from(model).where(
        model.project_id == project_id)) or 0


def enforce(session: Session, project_id: str, resource: str, count: int = 1) -> None:
    """neutron's OverQuota: 409 ``Quota exceeded for resources: ['network'].``"""
    limit = limits(session, project_id).get(resource, -1)
    if limit >= 0 and used(session, project_id, resource) + count > limit:
        raise ApiError(f"Quota exceeded for resources: ['{resource}'].", status=409,
                       kind="OverQuota")


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
        projects = sorted({r.project_id for r in session.scalars(select(m.QuotaLimit))})
        return {"quotas": [{**limits(session, p), "project_id": p, "tenant_id": p}
                           for p in projects]}


@api.route("GET", "/v2.0/quotas/{project_id}")
async def show_quota(call: Call) -> dict[str, Any]:
    _show(call)
    with network(call).db.session() as session:
        return {"quota": limits(session, call.params["project_id"])}


@api.route("GET", "/v2.0/quotas/{project_id}/default")
async def show_default_quota(call: Call) -> dict[str, Any]:
    _show(call)
    return {"quota": dict(DEFAULTS)}


@api.route("GET", "/v2.0/quotas/{project_id}/details")
async def show_quota_details(call: Call) -> dict[str, Any]:
    _show(call)
    project = call.params["project_id"]
    with network(call).db.session() as session:
        return {"quota": {name: {"limit": limit, "used": used(session, project, name),
                                 "reserved": 0}
                          for name, limit in limits(session, project).items()}}


@api.route("PUT", "/v2.0/quotas/{project_id}")
async def update_quota(call: Call) -> dict[str, Any]:
    authorize(call, "update_quota", _target(call))
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get("quota"), dict):
        raise BadRequest("Resource body required: quota expected in the body")
    changes: dict[str, int] = {}
    fields = dict(body["quota"])
    # quota-check-limit: refuse a limit below what the project already uses.
    check_limit = attributes.to_boolean(fields.pop("check_limit", False))
    unknown = sorted(set(fields) - set(DEFAULTS))
    if unknown:
        raise BadRequest("Unrecognized attribute(s) '" + ", ".join(unknown) + "'")
    for name, value in fields.items():
        # neutron's quota attributes: convert_to_int, then type:range [-1, DB_INTEGER_MAX].
        changes[name] = attributes.to_int(value)
        attributes.check_value(name, changes[name],
                               attributes.integer_range(-1, attributes.DB_INTEGER_MAX))
    project = call.params["project_id"]
    with network(call).db.session() as session:
        for name, value in changes.items():
            in_use = used(session, project, name)
            if check_limit and 0 <= value < in_use:
                raise BadRequest(f"Quota limit {value} for {name} must be greater than or "
                                 f"equal to already used {in_use}.")
        for name, value in changes.items():
            row = session.get(m.QuotaLimit, (project, name))
            if row is None:
                session.add(m.QuotaLimit(project_id=project, resource=name, hard_limit=value))
            else:
                row.hard_limit = value
        session.flush()
        return {"quota": limits(session, project)}


@api.route("DELETE", "/v2.0/quotas/{project_id}", status=204)
async def delete_quota(call: Call) -> None:
    authorize(call, "delete_quota", _target(call))
    with network(call).db.session() as session:
        session.execute(delete(m.QuotaLimit).where(
            m.QuotaLimit.project_id == call.params["project_id"]))
