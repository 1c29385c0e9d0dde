"""Version discovery (``/`` and ``/v3``), as keystoneauth reads it."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply
from stacklab.identity.api.base import api

_MEDIA = [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]
# keystone 2024.x+ still reports 3.14 as its latest version document.
_VERSION = {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
            "media-types": _MEDIA}


def _v3(call: Call) -> dict[str, Any]:
    return {**_VERSION, "links": [{"rel": "self", "href": call.url_for("/v3/")}]}


@api.route("GET", "/", public=True)
async def versions(call: Call) -> Reply:
    # keystone answers 300 Multiple Choices at its root.
    return Reply({"versions": {"values": [_v3(call)]}}, status=300)


@api.route("GET", "/v3", public=True)
async def version_v3(call: Call) -> dict[str, Any]:
    return {"version": _v3(call)}


@api.route("GET", "/v3/", public=True)
async def version_v3_slash(call: Call) -> dict[str, Any]:
    return {"version": _v3(call)}
