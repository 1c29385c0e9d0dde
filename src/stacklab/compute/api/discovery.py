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


@api.route("GET", "/", public=True, expected_errors=())
async def versions(call: Call) -> dict[str, Any]:
    legacy = {"id": "v2.0", "status": "SUPPORTED", "version": "", "min_version": "",
              "updated": "2011-01-21T11:33:21Z",
              "links": [{"rel": "self", "href": call.url_for("/v2/")}]}
    return {"versions": [legacy, _v21(call)]}


def _version_document(call: Call) -> dict[str, Any]:
    body = _v21(call)
    body["media-types"] = [{"base": "application/json",
                            "type": "application/vnd.openstack.compute+json;version=2.1"}]
    body["links"].append({"rel": "describedby", "type": "text/html",
                          "href": "http://docs.openstack.org/"})
    return {"version": body}


@api.route("GET", "/v2.1", public=True, expected_errors=())
async def version(call: Call) -> dict[str, Any]:
    return _version_document(call)


@api.route("GET", "/v2.1/", public=True, expected_errors=())
async def version_slash(call: Call) -> dict[str, Any]:
    return _version_document(call)
