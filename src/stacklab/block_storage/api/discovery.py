"""Version discovery, as cinder/api/versions.py answers it."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply
from stacklab.block_storage.api.base import MICROVERSIONS, UPDATED, api


def _versions(call: Call) -> dict[str, Any]:
    return {"versions": [{
        "id": "v3.0", "status": "CURRENT", "version": str(MICROVERSIONS.maximum),
        "min_version": str(MICROVERSIONS.minimum), "updated": UPDATED,
        "links": [{"rel": "describedby", "type": "text/html",
                   "href": "https://docs.openstack.org/"},
                  {"rel": "self", "href": call.url_for("/v3/")}],
        "media-types": [{"base": "application/json",
                         "type": "application/vnd.openstack.volume+json;version=3"}],
    }]}


@api.route("GET", "/", public=True, expected_errors=())
async def versions(call: Call) -> Reply:
    # Without /v3 in the URL: every known version, as 300 Multiple Choices.
    return Reply(_versions(call), status=300)


@api.route("GET", "/v3", public=True, expected_errors=())
async def version(call: Call) -> dict[str, Any]:
    return _versions(call)


@api.route("GET", "/v3/", public=True, expected_errors=())
async def version_slash(call: Call) -> dict[str, Any]:
    return _versions(call)
