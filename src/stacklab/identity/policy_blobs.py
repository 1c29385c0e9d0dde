"""The v3 policy API: opaque blobs keystone stores for other services and never enforces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from stacklab.identity import models as m
from stacklab.identity.endpoint_policy import forget_associations
from stacklab.identity.rows import filtered, row_or_404
from stacklab.identity.state import IdentityState

_FIELDS = ("type", "blob")


class PolicyBlobs:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    def get_policy(self, session: Session, policy_id: str) -> m.Policy:
        return row_or_404(session, m.Policy, policy_id, "policy")

    def list_policies(self, session: Session, filters: Mapping[str, Any]) -> list[m.Policy]:
        return filtered(session, m.Policy, filters, ("type",), m.Policy.id)

    def create_policy(self, session: Session, fields: Mapping[str, Any]) -> m.Policy:
        policy = m.Policy(id=self.state.new_id(), type=fields["type"], blob=fields["blob"],
                          extra={k: v for k, v in fields.items() if k not in (*_FIELDS, "id")})
        session.add(policy)
        return policy

    def update_policy(self, session: Session, policy_id: str,
                      fields: Mapping[str, Any]) -> m.Policy:
        policy = self.get_policy(session, policy_id)
        for name in _FIELDS:
            if name in fields:
                setattr(policy, name, fields[name])
        extra = {k: v for k, v in fields.items() if k not in (*_FIELDS, "id")}
        if extra:
            policy.extra = {**policy.extra, **extra}
        return policy

    def delete_policy(self, session: Session, policy_id: str) -> None:
        forget_associations(session, policy_id=policy_id)
        session.delete(self.get_policy(session, policy_id))
