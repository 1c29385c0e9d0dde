"""``/v3/OS-OAUTH1/consumers``, served by the generic controller."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.identity import models as m
from stacklab.identity import schemas
from stacklab.identity.api.base import link
from stacklab.identity.api.resource import Resource, serve


def render_consumer(call: Call, c: m.OAuthConsumer) -> dict[str, Any]:
    body: dict[str, Any] = {**c.extra, "id": c.id, "description": c.description,
                            "links": link(call, f"/v3/OS-OAUTH1/consumers/{c.id}")}
    # keystone shows the secret once, in the answer to the create.
    if call.request.method == "POST":
        body["secret"] = c.secret
    return body


CONSUMERS = serve(Resource(
    "consumer", "consumers", "consumers", render_consumer, schemas.CONSUMER_CREATE,
    schemas.CONSUMER_UPDATE, prefix="OS-OAUTH1/"))
