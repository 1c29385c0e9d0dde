"""os-services: the cinder services of the lab, up or down, enabled or disabled
(cinder/api/v3/services.py)."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call
from stacklab.api.validation import Schema, describe_nova
from stacklab.block_storage import schemas
from stacklab.block_storage.api.base import api, block_storage, project_target, timestamp
from stacklab.block_storage.servicegroup import VOLUME

_INDEX = "volume_extension:services:index"
_UPDATE = "volume_extension:services:update"


@api.route("GET", "/v3/os-services", policy=_INDEX, target=project_target,
           expected_errors=(400,))
async def list_services(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    records = service.list_services(host=call.query.get("host"),
                                    binary=call.query.get("binary"))
    rows = []
    for record in records:
        # The newer of the last report and the operator's last change (cinder shows
        # modified_at when it is closer to now).
        updated = record.updated_at
        if record.modified_at is not None and (updated is None
                                               or record.modified_at > updated):
            updated = record.modified_at
        row: dict[str, Any] = {
            "binary": record.binary, "host": record.host, "zone": record.availability_zone,
            "status": "disabled" if record.disabled else "enabled",
            "state": "up" if service.services.is_up(record) else "down",
            "updated_at": timestamp(updated),
        }
        if call.version_at_least("3.49") and record.binary == VOLUME:
            row["backend_state"] = "up"
        if call.version_at_least("3.7"):
            row["cluster"] = record.cluster_name
        # os-extended-services is always loaded: the reason, and a volume service's
        # replication state.
        row["disabled_reason"] = record.disabled_reason
        if record.binary == VOLUME:
            row["replication_status"] = record.replication_status
            row["active_backend_id"] = record.active_backend_id
            row["frozen"] = record.frozen
        rows.append(row)
    return {"services": rows}


def _host_and_binary(call: Call) -> tuple[str, str, str]:
    # The freeze and thaw bodies have no schema: one that is not an object names no host.
    body = call.body if isinstance(call.body, dict) else {}
    host = body.get("host")
    if not host or not isinstance(host, str):
        # cinder/api/common.py get_cluster_host without clusters.
        raise BadRequest("Missing required element 'host' in request body.")
    return host, body.get("service", ""), body.get("binary", "")


async def _set_disabled(call: Call, disabled: bool, reason: str | None = None
                        ) -> dict[str, Any]:
    host, service_name, binary = _host_and_binary(call)
    found = block_storage(call).set_disabled(host, binary or service_name, disabled, reason)
    if not found:
        raise NotFound(f"Could not find binary {binary or service_name} on host {host}.")
    body: dict[str, Any] = {"host": host, "service": service_name, "binary": binary,
                            "status": "disabled" if disabled else "enabled",
                            "disabled": disabled}
    if reason is not None or call.params["action"] == "disable-log-reason":
        body["disabled_reason"] = reason
    return body


# Each action's body has its own schema (the action is in the path, not the body).
_CHECKS = {"enable": Schema(schemas.ENABLE_DISABLE), "disable": Schema(schemas.ENABLE_DISABLE),
           "disable-log-reason": Schema(schemas.DISABLE_LOG_REASON)}


@api.route("PUT", "/v3/os-services/{action}", policy=_UPDATE, target=project_target,
           expected_errors=(400, 404), body_optional=True)
async def update_service(call: Call) -> dict[str, Any] | None:
    action = call.params["action"]
    if action in ("freeze", "thaw"):
        host, _, _ = _host_and_binary(call)
        block_storage(call).set_frozen(host, action == "freeze")
        return None
    schema = _CHECKS.get(action)
    if schema is None:
        # failover_host and the log levels need replication and log control stacklab's
        # backends do not have.
        raise NotFound("Unknown action")
    schema.validate(call.body if call.body is not None else {}, describe_nova)
    if action == "enable":
        return await _set_disabled(call, False)
    if action == "disable":
        return await _set_disabled(call, True)
    return await _set_disabled(call, True, (call.body or {}).get("disabled_reason"))
