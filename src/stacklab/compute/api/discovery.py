"""Version discovery for Compute."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.compute.api.base import MICROVERSIONS, api


def _v21(call: Call) -> dict[str, Any]:
    return {
        "id": "v2.1", "status": "CURRENT", "version": str(MICROVERSIONS.maximum),
        "min_version": str(MICROVERSIONS.minimum), "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": call.url_for("/v2.1/")}],
    }


def _v20(call: Call) -> dict[str, Any]:
    # nova keeps the legacy v2 API (the v2.1 code with no microversions) as deprecated.
    return {"id": "v2.0", "status": "DEPRECATED", "version": "", "min_version": "",
            "updated": "2025-07-04T12:00:00Z",
            "links": [{"rel": "self", "href": call.url_for("/v2/")}]}


@api.route("GET", "/", public=True, expected_errors=())
async def versions(call: Call) -> dict[str, Any]:
    return {"versions": [_v20(call), _v21(call)]}


def _version_document(call: Call, *, legacy: bool = False) -> dict[str, Any]:
    body = _v20(call) if legacy else _v21(call)
    media = "2" if legacy else "2.1"
    body["media-types"] = [{"base": "application/json",
                            "type": f"application/vnd.openstack.compute+json;version={media}"}]
    body["links"].append({"rel": "describedby", "type": "text/html",
                          "href": "http://docs.openstack.org/"})
    return {"version": body}


@api.route("GET", "/v2.1", public=True, expected_errors=())
async def version(call: Call) -> dict[str, Any]:
    return _version_document(call)


@api.route("GET", "/v2.1/", public=True, expected_errors=())
async def version_slash(call: Call) -> dict[str, Any]:
    return _version_document(call)


# The legacy endpoint's own document: nova answers it with v2.0's, whatever the path says.
@api.route("GET", "/v2", public=True, expected_errors=())
async def legacy_version(call: Call) -> dict[str, Any]:
    return _version_document(call, legacy=True)


@api.route("GET", "/v2/", public=True, expected_errors=())
async def legacy_version_slash(call: Call) -> dict[str, Any]:
    return _version_document(call, legacy=True)
