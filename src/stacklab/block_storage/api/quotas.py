"""Quotas, their defaults and usage, and the absolute limits (cinder/api/contrib/quotas.py,
v3/limits.py); and the scheduler's pools (contrib/scheduler_stats.py)."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import schemas
from stacklab.block_storage.api.base import api, block_storage, project_target
from stacklab.block_storage.schemas import as_bool

Q = "/v3/os-quota-sets/{project_id}"


def _target(call: Call) -> dict[str, Any]:
    return {"project_id": call.params["project_id"], "user_id": call.context.user_id}


@api.route("GET", Q, policy="volume_extension:quotas:show", target=_target,
           expected_errors=(400,))
async def show_quotas(call: Call) -> dict[str, Any]:
    project = call.params["project_id"]
    service = block_storage(call)
    with service.db.session() as session:
        if as_bool(call.query.get("usage", "false")):
            body: dict[str, Any] = {key: {"limit": u.limit, "in_use": u.in_use,
                                          "reserved": u.reserved}
                                    for key, u in service.quotas.usage(session,
                                                                       project).items()}
        else:
            body = dict(service.quotas.limits(session, project))
    return {"quota_set": {"id": project, **body}}


@api.route("GET", f"{Q}/defaults", policy="volume_extension:quotas:show", target=_target,
           expected_errors=())
async def show_defaults(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        defaults = service.quotas.defaults(session)
    return {"quota_set": {"id": call.params["project_id"], **defaults}}


@api.route("PUT", Q, policy="volume_extension:quotas:update", target=_target,
           schema=schemas.QUOTA_UPDATE, expected_errors=(400,))
async def update_quotas(call: Call) -> dict[str, Any]:
    project = call.params["project_id"]
    values = dict(call.body["quota_set"])
    skip = as_bool(values.pop("skip_validation", True))
    service = block_storage(call)
    with service.db.session() as session:
        service.quotas.update(session, project, values, skip_validation=skip)
        session.flush()
        limits = service.quotas.limits(session, project)
    return {"quota_set": limits}


@api.route("DELETE", Q, policy="volume_extension:quotas:delete", target=_target,
           expected_errors=())
async def delete_quotas(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        service.quotas.reset(session, call.params["project_id"])
    return Reply(None, status=200)


# -- quota classes (cinder/api/contrib/quota_classes.py) -------------------------------------

QC = "/v3/os-quota-class-sets/{class_name}"
QUOTA_CLASS_UPDATE = schemas._wrapped("quota_class_set", {
    "type": "object",
    "patternProperties": {"^[a-zA-Z0-9-_:. ]{1,300}$": {
        "type": ["integer", "string"], "pattern": "^[0-9]*$", "minimum": -1,
        "minLength": 1, "maximum": schemas.DB_MAX_INT}},
    "additionalProperties": False})


@api.route("GET", QC, policy="volume_extension:quota_classes:get", target=project_target,
           expected_errors=(403,))
async def show_quota_class(call: Call) -> dict[str, Any]:
    name = call.params["class_name"]
    service = block_storage(call)
    with service.db.session() as session:
        limits = service.quotas.class_limits(session, name)
    return {"quota_class_set": {"id": name, **limits}}


@api.route("PUT", QC, policy="volume_extension:quota_classes:update", target=project_target,
           schema=QUOTA_CLASS_UPDATE, expected_errors=(400, 403))
async def update_quota_class(call: Call) -> dict[str, Any]:
    name = call.params["class_name"]
    if len(name) > 255:
        raise BadRequest(f"Invalid input received: quota_class_name has {len(name)} "
                         "characters, more than 255.")
    service = block_storage(call)
    with service.db.session() as session:
        service.quotas.update_class(session, name, call.body["quota_class_set"])
        # The update answers without the class's id, as cinder's.
        return {"quota_class_set": service.quotas.class_limits(session, name)}


@api.route("GET", "/v3/limits", policy="limits_extension:used_limits", target=project_target,
           expected_errors=(400,))
async def limits(call: Call) -> dict[str, Any]:
    project = call.context.project_id or ""
    if call.version_at_least("3.39") and call.context.is_admin and call.query.get("project_id"):
        project = call.query["project_id"]
    service = block_storage(call)
    with service.db.session() as session:
        usage = service.quotas.usage(session, project)
    names = {"volumes": ("maxTotalVolumes", "totalVolumesUsed"),
             "snapshots": ("maxTotalSnapshots", "totalSnapshotsUsed"),
             "gigabytes": ("maxTotalVolumeGigabytes", "totalGigabytesUsed"),
             "backups": ("maxTotalBackups", "totalBackupsUsed"),
             "backup_gigabytes": ("maxTotalBackupGigabytes", "totalBackupGigabytesUsed")}
    absolute: dict[str, int] = {}
    for resource, (limit_name, used_name) in names.items():
        absolute[limit_name] = usage[resource].limit
        absolute[used_name] = usage[resource].in_use
    return {"limits": {"rate": [], "absolute": absolute}}


@api.route("GET", "/v3/scheduler-stats/get_pools",
           policy="scheduler_extension:scheduler_stats:get_pools", target=project_target,
           expected_errors=(400,))
async def get_pools(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    detail = as_bool(call.query.get("detail", "false"))
    wanted = call.query.get("name") if call.version_at_least("3.28") else None
    pools = []
    for pool in service.pools():
        if wanted is not None and pool.pool_host != wanted:
            continue
        entry: dict[str, Any] = {"name": pool.pool_host}
        if detail:
            entry["capabilities"] = {**pool.capabilities, "timestamp": None}
        pools.append(entry)
    return {"pools": pools}
