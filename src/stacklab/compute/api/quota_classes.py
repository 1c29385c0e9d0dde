"""``/os-quota-class-sets``: quota classes; the ``default`` class is every project's defaults.

What a class shows by microversion: before 2.50 nova-network's quotas and no server
group ones; 2.50 swaps them; 2.57 drops the personality files' quotas.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, schemas_from
from stacklab.compute.api.base import api, compute, no_target
from stacklab.compute.api.quota_sets import FILES as FILE_QUOTAS
from stacklab.compute.api.quota_sets import INTEGER, NETWORK, SERVER_GROUPS, WRITABLE


def _update(*names: str) -> dict[str, Any]:
    return {"type": "object", "required": ["quota_class_set"], "additionalProperties": False,
            "properties": {"quota_class_set": {
                "type": "object", "additionalProperties": False,
                "properties": {name: INTEGER for name in names}}}}


# nova's update takes the server group quotas at every version (only its view hides them).
UPDATE: dict[str, dict[str, Any]] = {
    "2.1": _update(*WRITABLE, *FILE_QUOTAS, *NETWORK),
    "2.50": _update(*WRITABLE, *FILE_QUOTAS),
    "2.57": _update(*WRITABLE),
}


def _shown(call: Call, values: dict[str, int]) -> dict[str, int]:
    hidden: set[str] = set()
    if call.version_at_least("2.50"):
        hidden.update(NETWORK)
    else:
        hidden.update(SERVER_GROUPS)
    if call.version_at_least("2.57"):
        hidden.update(FILE_QUOTAS)
    return {k: v for k, v in values.items() if k not in hidden}


@api.route("GET", "/v2.1/os-quota-class-sets/{class_name}",
           policy="os_compute_api:os-quota-class-sets:show", target=no_target,
           expected_errors=())
async def show_quota_class(call: Call) -> dict[str, Any]:
    name = call.params["class_name"]
    values = compute(call).quotas.class_limits(name)
    return {"quota_class_set": {"id": name, **_shown(call, values)}}


@api.route("PUT", "/v2.1/os-quota-class-sets/{class_name}",
           policy="os_compute_api:os-quota-class-sets:update", target=no_target,
           schema=schemas_from(UPDATE), expected_errors=400)
async def update_quota_class(call: Call) -> dict[str, Any]:
    name = call.params["class_name"]
    if not 1 <= len(name) <= 255:
        raise BadRequest("Invalid input received: quota_class_name has a length outside "
                         "1 to 255 characters")
    changes = {k: int(v) for k, v in call.body["quota_class_set"].items()}
    values = compute(call).quotas.update_class(name, changes)
    return {"quota_class_set": _shown(call, values)}
