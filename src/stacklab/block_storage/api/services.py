"""os-services: the cinder services of the lab, up or down, enabled or disabled
(cinder/api/v3/services.py)."""

from __future__ import annotations

import logging
from typing import Any

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call, Reply
from stacklab.api.validation import Schema, describe_nova
from stacklab.block_storage import loglevels, schemas
from stacklab.block_storage.api.base import api, block_storage, project_target, timestamp
from stacklab.block_storage.servicegroup import TOPICS, VOLUME
from stacklab.bus.interface import Target
from stacklab.observability.logging import current_node, request_ids

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
           "disable-log-reason": Schema(schemas.DISABLE_LOG_REASON),
           "set-log": Schema(schemas.SET_LOG), "get-log": Schema(schemas.GET_LOG)}
# cinder's microversion LOG_LEVEL.
_LOG_LEVEL = "3.32"


@api.route("PUT", "/v3/os-services/{action}", policy=_UPDATE, target=project_target,
           expected_errors=(400, 404), body_optional=True)
async def update_service(call: Call) -> dict[str, Any] | Reply | None:
    action = call.params["action"]
    if action in ("freeze", "thaw"):
        host, _, _ = _host_and_binary(call)
        block_storage(call).set_frozen(host, action == "freeze")
        return None
    schema = _CHECKS.get(action)
    if schema is None or (action in ("set-log", "get-log")
                          and not call.version_at_least(_LOG_LEVEL)):
        # failover_host needs replication stacklab's backends do not have.
        raise NotFound("Unknown action")
    schema.validate(call.body if call.body is not None else {}, describe_nova)
    if action == "set-log":
        return _set_log(call)
    if action == "get-log":
        return await _get_log(call)
    if action == "enable":
        return await _set_disabled(call, False)
    if action == "disable":
        return await _set_disabled(call, True)
    return await _set_disabled(call, True, (call.body or {}).get("disabled_reason"))


def _log_services(call: Call) -> tuple[list[str], list[tuple[str, str]]]:
    """cinder's ``_log_params_binaries_services``: the binaries the request names, and the
    (binary, host) of each service up that it reaches (by host or cluster)."""
    body = call.body or {}
    binary = body.get("binary")
    if binary in ("*", None, ""):
        binaries = list(loglevels.BINARIES)
    elif binary == loglevels.API:
        return [binary], []
    else:
        binaries = [binary]
    service = block_storage(call)
    server = body.get("server")
    found = []
    for record in service.list_services(binary=None if len(binaries) > 1 else binary):
        if server and server not in (record.host, record.cluster_name):
            continue
        if service.services.is_up(record):
            found.append((record.binary, record.host))
    return binaries, found


def _api_host() -> str:
    # The cinder-api answering: the node the request is bound to (cinder's CONF.host).
    return current_node() or "localhost"


def _set_log(call: Call) -> Reply:
    body = call.body or {}
    try:
        level = loglevels.level_number(body.get("level"))
    except ValueError as error:
        raise BadRequest(f"Invalid input received: {error}") from None
    prefix = body.get("prefix")
    binaries, services = _log_services(call)
    service = block_storage(call)
    if loglevels.API in binaries:
        service.log_levels.set(loglevels.API, _api_host(), prefix, level)
    # Every other service sets its own, in its own process: cast to each (cinder's
    # rpcapi set_log_levels), wherever it runs.
    log_request = {"prefix": prefix, "level": logging.getLevelName(level)}
    for binary, host in services:
        service.bus.cast_nowait(Target(TOPICS[binary], host), "set_log_levels",
                                ctxt=request_ids(), log_request=log_request)
    return Reply(None, status=202)


async def _get_log(call: Call) -> dict[str, Any]:
    body = call.body or {}
    prefix = body.get("prefix")
    binaries, services = _log_services(call)
    service = block_storage(call)
    levels = service.log_levels
    result = []
    server = body.get("server")
    host = _api_host()
    if (not server or server == host) and loglevels.API in binaries:
        result.append({"host": host, "binary": loglevels.API,
                       "levels": levels.get(loglevels.API, host, prefix)})
    # Each service answers with its own levels (cinder's rpcapi get_log_levels, a call).
    for binary, service_host in services:
        answer = await service.bus.call(Target(TOPICS[binary], service_host),
                                        "get_log_levels", ctxt=request_ids(),
                                        log_request={"prefix": prefix})
        result.append({"host": service_host, "binary": binary, "levels": dict(answer)})
    return {"log_levels": result}
