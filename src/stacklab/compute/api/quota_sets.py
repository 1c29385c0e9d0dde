"""``/os-quota-sets``: a project's compute quotas, their defaults and their usage."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, schemas_from
from stacklab.api.validation import MAX_INT
from stacklab.compute import quotas
from stacklab.compute.api.base import api, compute

INTEGER = {"type": ["integer", "string"], "pattern": "^-?[0-9]+$", "minimum": -1,
            "maximum": MAX_INT}
WRITABLE = ("cores", "instances", "key_pairs", "metadata_items", "ram", "server_groups",
             "server_group_members")
FILES = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
SERVER_GROUPS = ("server_groups", "server_group_members")


def _quota_update(*names: str) -> dict[str, Any]:
    return {
        "type": "object", "required": ["quota_set"], "additionalProperties": False,
        "properties": {"quota_set": {
            "type": "object", "additionalProperties": False,
            "properties": {**{name: INTEGER for name in names},
                           "force": {"type": ["boolean", "string"]}}}},
    }


# 2.36 drops nova-network's quotas, 2.57 the injected files' (personality is gone).
QUOTA_UPDATE: dict[str, dict[str, Any]] = {
    "2.1": _quota_update(*WRITABLE, *FILES, *NETWORK),
    "2.36": _quota_update(*WRITABLE, *FILES),
    "2.57": _quota_update(*WRITABLE),
}


def _target(call: Call) -> dict[str, Any]:
    return {"project_id": call.params["project_id"], "user_id": call.context.user_id}


def _shown(call: Call, values: dict[str, Any]) -> dict[str, Any]:
    return quotas.shown(values, network=not call.version_at_least("2.36"),
                        files=not call.version_at_least("2.57"))


def _quota_set(call: Call, detail: bool) -> dict[str, Any]:
    kept = compute(call).quotas
    project = call.params["project_id"]
    values: dict[str, Any] = kept.detail(project) if detail else kept.limits(project)
    return {"quota_set": {"id": project, **_shown(call, values)}}


@api.route("GET", "/v2.1/os-quota-sets/{project_id}", policy="os_compute_api:os-quota-sets:show",
           target=_target, expected_errors=400)
async def show_quota_set(call: Call) -> dict[str, Any]:
    return _quota_set(call, detail=False)


@api.route("GET", "/v2.1/os-quota-sets/{project_id}/detail",
           policy="os_compute_api:os-quota-sets:detail", target=_target, expected_errors=400)
async def show_quota_set_detail(call: Call) -> dict[str, Any]:
    return _quota_set(call, detail=True)


@api.route("GET", "/v2.1/os-quota-sets/{project_id}/defaults",
           policy="os_compute_api:os-quota-sets:defaults", target=_target, expected_errors=400)
async def show_quota_defaults(call: Call) -> dict[str, Any]:
    values = compute(call).quotas.defaults()
    return {"quota_set": {"id": call.params["project_id"], **_shown(call, values)}}


@api.route("PUT", "/v2.1/os-quota-sets/{project_id}",
           policy="os_compute_api:os-quota-sets:update", target=_target,
           schema=schemas_from(QUOTA_UPDATE), expected_errors=400)
async def update_quota_set(call: Call) -> dict[str, Any]:
    changes = {k: int(v) for k, v in call.body["quota_set"].items() if k != "force"}
    values = compute(call).quotas.update(call.params["project_id"], changes)
    return {"quota_set": _shown(call, values)}


@api.route("DELETE", "/v2.1/os-quota-sets/{project_id}",
           policy="os_compute_api:os-quota-sets:delete", target=_target, status=202,
           expected_errors=400)
async def delete_quota_set(call: Call) -> None:
    compute(call).quotas.reset(call.params["project_id"])
