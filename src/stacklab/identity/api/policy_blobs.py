"""``/v3/policies``: the policy blob API, served by the generic controller."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import link
from stacklab.identity.api.resource import Resource, serve


def render_policy(call: Call, p: m.Policy) -> dict[str, Any]:
    return {**p.extra, "id": p.id, "type": p.type, "blob": p.blob,
            "links": link(call, f"/v3/policies/{p.id}")}


POLICIES = serve(Resource(
    "policy", "policies", "policy_blobs", render_policy, schemas.POLICY_CREATE,
    schemas.POLICY_UPDATE, filters=("type",)))
