"""heat-api v1's software configs and deployments (heat/api/openstack/v1/
software_configs.py, software_deployments.py): the bodies and errors of heat, kept by the
service's ``SoftwareStore``."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply
from stacklab.orchestration.api.stacks import (
    V1,
    _body,
    _check_tenant,
    _extract_bool,
    _extract_int,
    _service,
    _tenant,
    api,
)
from stacklab.orchestration.software import SoftwareStore

CONFIGS = V1 + "/software_configs"
DEPLOYMENTS = V1 + "/software_deployments"


def _store(call: Call) -> SoftwareStore:
    _check_tenant(call)
    return _service(call).software


def _who(call: Call) -> tuple[str, bool]:
    return str(call.params["tenant_id"]), bool(call.context.is_admin)


# -- configs -----------------------------------------------------------------------------


@api.route("GET", CONFIGS, policy="software_configs:index", target=_tenant)
async def list_software_configs(call: Call) -> dict[str, Any]:
    store = _store(call)
    project, admin = _who(call)
    if _extract_bool(call, "global_tenant"):
        call.authorize("software_configs:global_index", _tenant(call))
        admin = True
    limit = _extract_int("limit", call.query.get("limit"))
    return {"software_configs": store.list_configs(project, admin, limit=limit,
                                                   marker=call.query.get("marker"))}


@api.route("POST", CONFIGS, policy="software_configs:create", target=_tenant)
async def create_software_config(call: Call) -> dict[str, Any]:
    store = _store(call)
    body = _body(call)
    project, _ = _who(call)
    return {"software_config": store.create_config(
        project, name=body.get("name"), group=body.get("group"), config=body.get("config"),
        inputs=body.get("inputs"), outputs=body.get("outputs"), options=body.get("options"))}


@api.route("GET", CONFIGS + "/{config_id}", policy="software_configs:show", target=_tenant)
async def show_software_config(call: Call) -> dict[str, Any]:
    store = _store(call)
    return {"software_config": store.show_config(*_who(call), call.params["config_id"])}


@api.route("DELETE", CONFIGS + "/{config_id}", policy="software_configs:delete",
           target=_tenant, status=204)
async def delete_software_config(call: Call) -> None:
    _store(call).delete_config(*_who(call), call.params["config_id"])


# -- deployments -------------------------------------------------------------------------


@api.route("GET", DEPLOYMENTS, policy="software_deployments:index", target=_tenant)
async def list_software_deployments(call: Call) -> dict[str, Any]:
    store = _store(call)
    return {"software_deployments": store.list_deployments(
        *_who(call), server_id=call.query.get("server_id"))}


@api.route("GET", DEPLOYMENTS + "/metadata/{server_id}",
           policy="software_deployments:metadata", target=_tenant)
async def deployments_metadata(call: Call) -> dict[str, Any]:
    store = _store(call)
    return {"metadata": store.metadata(*_who(call), call.params["server_id"])}


@api.route("POST", DEPLOYMENTS, policy="software_deployments:create", target=_tenant)
async def create_software_deployment(call: Call) -> dict[str, Any]:
    store = _store(call)
    body = _body(call)
    return {"software_deployment": store.create_deployment(
        *_who(call), config_id=body.get("config_id"), server_id=body.get("server_id"),
        input_values=body.get("input_values"), action=body.get("action"),
        status=body.get("status"), status_reason=body.get("status_reason"),
        stack_user_project_id=body.get("stack_user_project_id"))}


@api.route("GET", DEPLOYMENTS + "/{deployment_id}", policy="software_deployments:show",
           target=_tenant)
async def show_software_deployment(call: Call) -> dict[str, Any]:
    store = _store(call)
    return {"software_deployment": store.show_deployment(*_who(call),
                                                         call.params["deployment_id"])}


@api.route("PUT", DEPLOYMENTS + "/{deployment_id}", policy="software_deployments:update",
           target=_tenant)
async def update_software_deployment(call: Call) -> dict[str, Any]:
    store = _store(call)
    body = _body(call)
    values = {k: body[k] for k in ("config_id", "input_values", "output_values", "action",
                                   "status", "status_reason") if body.get(k) is not None}
    return {"software_deployment": store.update_deployment(
        *_who(call), call.params["deployment_id"], values)}


@api.route("DELETE", DEPLOYMENTS + "/{deployment_id}", policy="software_deployments:delete",
           target=_tenant, status=204)
async def delete_software_deployment(call: Call) -> Reply | None:
    _store(call).delete_deployment(*_who(call), call.params["deployment_id"])
    return None
