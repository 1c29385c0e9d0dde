"""neutron's per-project quotas: the limits, what a project uses, and the 409 when over."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.network import models as m
from stacklab.store.locks import serialize

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
    """neutron's OverQuota: 409 ``Quota exceeded for resources: ['network'].``

    The count and the caller's new row are one step: another process (or API worker) on
    the same database counts only once this transaction has committed."""
    serialize(session, f"network:quota:{project_id}:{resource}")
    limit = limits(session, project_id).get(resource, -1)
    if limit >= 0 and used(session, project_id, resource) + count > limit:
        raise ApiError(f"Quota exceeded for resources: ['{resource}'].", status=409,
                       kind="OverQuota")


def all_limits(session: Session) -> list[dict[str, Any]]:
    """The limits of every project that has any set (neutron lists only those)."""
    projects = sorted({r.project_id for r in session.scalars(select(m.QuotaLimit))})
    return [{**limits(session, p), "project_id": p, "tenant_id": p} for p in projects]


def details(session: Session, project_id: str) -> dict[str, dict[str, int]]:
    return {name: {"limit": limit, "used": used(session, project_id, name), "reserved": 0}
            for name, limit in limits(session, project_id).items()}


def set_limits(session: Session, project_id: str, changes: Mapping[str, int], *,
               check_limit: bool = False) -> dict[str, int]:
    """New limits for a project; with ``check_limit`` (neutron's quota-check-limit) none may
    be set below what the project already uses."""
    for name, value in changes.items() if check_limit else ():
        in_use = used(session, project_id, name)
        if 0 <= value < in_use:
            raise BadRequest(f"Quota limit {value} for {name} must be greater than or "
                             f"equal to already used {in_use}.")
    for name, value in changes.items():
        row = session.get(m.QuotaLimit, (project_id, name))
        if row is None:
            session.add(m.QuotaLimit(project_id=project_id, resource=name, hard_limit=value))
        else:
            row.hard_limit = value
    session.flush()
    return limits(session, project_id)


def reset(session: Session, project_id: str) -> None:
    """Back to the defaults."""
    session.execute(delete(m.QuotaLimit).where(m.QuotaLimit.project_id == project_id))
