"""The volume actions that move a volume: os-retype (cinder/api/contrib/volume_actions.py),
the admin's os-migrate_volume and os-migrate_volume_completion
(contrib/admin_actions.py), and os-unmanage (contrib/volume_unmanage.py)."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply, VersionedSchema
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import api, block_storage
from stacklab.block_storage.api.volumes import ACTION, _load, caller
from stacklab.block_storage.migration import migrate_body

RETYPE = s._wrapped("os-retype", {
    "type": "object",
    "properties": {"new_type": {"type": "string"},
                   "migration_policy": {"type": ["string", "null"],
                                        "enum": ["on-demand", "never", None]}},
    "required": ["new_type"], "additionalProperties": False})
_MIGRATE_FIELDS: dict[str, Any] = {"host": s.CINDER_HOST, "force_host_copy": s.BOOLEAN,
                                   "lock_volume": s.BOOLEAN}
MIGRATE = s._wrapped("os-migrate_volume", {
    "type": "object", "properties": _MIGRATE_FIELDS, "required": ["host"],
    "additionalProperties": False})
# 3.16: a cluster instead of a host, never both.
MIGRATE_316 = s._wrapped("os-migrate_volume", {
    "type": "object", "properties": {**_MIGRATE_FIELDS, "cluster": s.CINDER_HOST},
    "oneOf": [{"required": ["host"]}, {"required": ["cluster"]}],
    "additionalProperties": False})
COMPLETION = s._wrapped("os-migrate_volume_completion", {
    "type": "object", "properties": {"new_volume": s.UUID, "error": s.BOOLEAN},
    "required": ["new_volume"], "additionalProperties": False})
UNMANAGE = s._wrapped("os-unmanage", {"type": ["object", "null"]})


@api.action(ACTION, "os-retype", schema=RETYPE)
async def retype(call: Call) -> Reply:
    params = call.body["os-retype"]
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume:retype")
        cast = service.migrations.retype(
            session, volume, params["new_type"], params.get("migration_policy"),
            project_id=call.context.project_id, admin=call.context.is_admin)
    service.send(cast)
    return Reply(None, status=202)


@api.action(ACTION, "os-migrate_volume",
            schema=[VersionedSchema(MIGRATE, None, "3.15"),
                    VersionedSchema(MIGRATE_316, "3.16", None)])
async def migrate_volume(call: Call) -> Reply:
    host, lock = migrate_body(call.body["os-migrate_volume"])
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session,
                       "volume_extension:volume_admin_actions:migrate_volume")
        cast = service.migrations.migrate(session, volume, host, lock_volume=lock)
    service.send(cast)
    return Reply(None, status=202)


@api.action(ACTION, "os-migrate_volume_completion", schema=COMPLETION, status=200)
async def migrate_volume_completion(call: Call) -> dict[str, Any]:
    params = call.body["os-migrate_volume_completion"]
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session,
                       "volume_extension:volume_admin_actions:migrate_volume_completion")
        new_volume = service.volumes.get(session, params["new_volume"], caller(call))
        kept = service.migrations.complete(session, volume, new_volume,
                                           s.as_bool(params.get("error", False)))
    return {"save_volume_id": kept}


@api.action(ACTION, "os-unmanage", schema=UNMANAGE)
async def unmanage(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume_extension:volume_unmanage")
        cast = service.volumes.delete(session, volume, force=False, cascade=False)
    if cast is not None:
        # The same checks and status as a delete; cinder-volume forgets the volume but
        # leaves its data on the backend (a manageable volume again).
        cast = type(cast)(cast.topic, cast.server, "unmanage_volume",
                          {"volume_id": cast.kwargs["volume_id"]})
    service.send(cast)
    return Reply(None, status=202)
