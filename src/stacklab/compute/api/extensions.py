"""``GET /extensions[/{alias}]``: nova's frozen list of what were once v2 API extensions."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import NotFound
from stacklab.api.service import Call
from stacklab.compute.api.base import api, project_target
from stacklab.compute.extensions import LEGACY_EXTENSIONS, extension


@api.route("GET", "/v2.1/extensions", policy="os_compute_api:extensions",
           target=project_target, expected_errors=())
async def list_extensions(call: Call) -> dict[str, Any]:
    return {"extensions": [extension(*entry) for entry in LEGACY_EXTENSIONS]}


@api.route("GET", "/v2.1/extensions/{alias}", policy="os_compute_api:extensions",
           target=project_target, expected_errors=404)
async def show_extension(call: Call) -> dict[str, Any]:
    for entry in LEGACY_EXTENSIONS:
        if entry[0] == call.params["alias"]:
            return {"extension": extension(*entry)}
    raise NotFound("The resource could not be found.")
