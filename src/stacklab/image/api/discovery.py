"""Version discovery, schema documents and store information."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import NotFound
from stacklab.api.service import Call, Reply
from stacklab.image import schemas
from stacklab.image.api.base import api, importer

# The versions glance lists; the newest is CURRENT, older ones SUPPORTED.
_VERSIONS = ("2.17", "2.16", "2.15", "2.14", "2.13", "2.12", "2.11", "2.10", "2.9", "2.8",
             "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0")


def _versions(call: Call) -> list[dict[str, Any]]:
    href = call.url_for("/v2/")
    return [{"id": f"v{v}", "status": "CURRENT" if i == 0 else "SUPPORTED",
             "links": [{"rel": "self", "href": href}]} for i, v in enumerate(_VERSIONS)]


@api.route("GET", "/", public=True)
async def versions_root(call: Call) -> Reply:
    return Reply({"versions": _versions(call)}, status=300)


@api.route("GET", "/versions", public=True)
async def versions(call: Call) -> dict[str, Any]:
    return {"versions": _versions(call)}


@api.route("GET", "/v2/schemas/image")
async def image_schema(call: Call) -> dict[str, Any]:
    return schemas.image_document()


@api.route("GET", "/v2/schemas/images")
async def images_schema(call: Call) -> dict[str, Any]:
    return schemas.images_document()


@api.route("GET", "/v2/schemas/member")
async def member_schema(call: Call) -> dict[str, Any]:
    return schemas.member_document()


@api.route("GET", "/v2/schemas/members")
async def members_schema(call: Call) -> dict[str, Any]:
    return schemas.members_document()


@api.route("GET", "/v2/info/stores")
async def stores(call: Call) -> dict[str, Any]:
    # glance lists stores only when multi-store (enabled_backends) is configured; the lab
    # has the single file store. Clients read the 404 as "no store support" (Tempest's
    # import waiter then waits for status alone).
    raise NotFound("Multi backend is not supported at this site.")


@api.route("GET", "/v2/info/stores/detail")
async def stores_detail(call: Call) -> dict[str, Any]:
    # glance lists the stores (the 404 above) before it asks stores_info_detail.
    raise NotFound("Multi backend is not supported at this site.")


@api.route("GET", "/v2/info/import")
async def import_info(call: Call) -> dict[str, Any]:
    return {"import-methods": {"description": "Import methods available.", "type": "array",
                               "value": list(importer(call).methods)}}
