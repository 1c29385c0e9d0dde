"""Backups: create (of a volume or its snapshot, full or incremental), list, show, update,
delete, restore (into a new volume or an existing one), export and import of a record,
and the admin's reset-status and force-delete (cinder/api/contrib/backups.py,
v3/backups.py, contrib/admin_actions.py BackupAdminController)."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, ServiceUnavailable
from stacklab.api.service import Call, Reply, VersionedSchema
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import (
    api,
    block_storage,
    project_query,
    project_target,
    sorted_page,
    timestamp,
    with_count,
)
from stacklab.block_storage.api.volumes import caller, links
from stacklab.block_storage.backups import NoBackupService, backup_not_found
from stacklab.block_storage.schemas import as_bool

B = "/v3/backups/{backup_id}"
ACTION = f"{B}/action"
# cinder/api/v3/resource_filters.json "backup", and what a list also takes.
BACKUP_FILTERS = frozenset({"name", "status", "volume_id"})
SORTABLE = ("id", "name", "status", "size", "created_at", "updated_at", "volume_id",
            "project_id", "user_id", "data_timestamp")

# -- schemas (cinder/api/schemas/backups.py, admin_actions.py) -----------------------------

_CREATE_FIELDS: dict[str, Any] = {
    "volume_id": s.UUID,
    "container": {"type": ["string", "null"], "minLength": 0, "maxLength": 255},
    "description": s.DESCRIPTION, "incremental": s.BOOLEAN, "force": s.BOOLEAN,
    "name": s.NULLABLE_NAME, "snapshot_id": s.OPTIONAL_UUID,
}


def _create(extra: dict[str, Any]) -> dict[str, Any]:
    return s._wrapped("backup", {"type": "object", "properties": {**_CREATE_FIELDS, **extra},
                                 "required": ["volume_id"], "additionalProperties": False})


CREATE = _create({})
CREATE_343 = _create({"metadata": s.METADATA_OR_NULL})
CREATE_351 = _create({"metadata": s.METADATA_OR_NULL, "availability_zone": s.NULLABLE_STRING})
_UPDATE_FIELDS: dict[str, Any] = {"name": s.NULLABLE_NAME, "description": s.DESCRIPTION}
UPDATE = s._wrapped("backup", {"type": ["object", "null"], "properties": _UPDATE_FIELDS,
                               "additionalProperties": False})
UPDATE_343 = s._wrapped("backup", {"type": ["object", "null"],
                                   "properties": {**_UPDATE_FIELDS, "metadata": s.SPECS},
                                   "additionalProperties": False})
RESTORE = s._wrapped("restore", {
    "type": ["object", "null"],
    "properties": {"name": s.NULLABLE_NAME, "volume_id": s.OPTIONAL_UUID},
    "additionalProperties": False})
IMPORT = s._wrapped("backup-record", {
    "type": "object",
    "properties": {"backup_service": {"type": "string", "minLength": 0, "maxLength": 255},
                   "backup_url": {"type": "string", "minLength": 0}},
    "required": ["backup_service", "backup_url"], "additionalProperties": False})
RESET_STATUS = s._wrapped("os-reset_status", {
    "type": "object",
    "properties": {"status": {"type": "string"}},
    "required": ["status"], "additionalProperties": False})
FORCE_DELETE = s._wrapped("os-force_delete", {"type": ["object", "null"]})


# -- views (cinder/api/views/backups.py, v3/views/backups.py) -------------------------------

def backup_target(backup: m.Backup) -> dict[str, Any]:
    return {"project_id": backup.project_id, "user_id": backup.user_id, "id": backup.id}


def summary(call: Call, backup: m.Backup) -> dict[str, Any]:
    return {"id": backup.id, "name": backup.name, "links": links(call, "backups", backup.id)}


def render_backup(call: Call, backup: m.Backup) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": backup.id, "status": backup.status, "size": backup.size,
        "object_count": backup.object_count, "availability_zone": backup.availability_zone,
        "container": backup.container, "created_at": timestamp(backup.created_at),
        "updated_at": timestamp(backup.updated_at), "name": backup.name,
        "description": backup.description, "fail_reason": backup.fail_reason,
        "volume_id": backup.volume_id, "links": links(call, "backups", backup.id),
        "is_incremental": backup.parent_id is not None,
        "has_dependent_backups": backup.num_dependent_backups > 0,
        "snapshot_id": backup.snapshot_id,
        "data_timestamp": timestamp(backup.data_timestamp),
    }
    if call.version_at_least("3.43"):
        body["metadata"] = dict(backup.metadata_)
    attributes = call.allows("backup:backup_project_attribute", backup_target(backup))
    if call.version_at_least("3.18") and attributes:
        body["os-backup-project-attr:project_id"] = backup.project_id
    if call.version_at_least("3.56") and attributes:
        body["user_id"] = backup.user_id
    return body


def _load(call: Call, session: Any, rule: str) -> m.Backup:
    backup = block_storage(call).backups.get(session, call.params["backup_id"], caller(call))
    call.authorize(rule, backup_target(backup))
    return backup


# -- create ------------------------------------------------------------------------------

@api.route("POST", "/v3/backups", status=202, expected_errors=(400, 404, 413, 503),
           schema=[VersionedSchema(CREATE, None, "3.42"),
                   VersionedSchema(CREATE_343, "3.43", "3.50"),
                   VersionedSchema(CREATE_351, "3.51", None)])
async def create_backup(call: Call) -> dict[str, Any]:
    fields = dict(call.body["backup"])
    service = block_storage(call)
    with service.db.session() as session:
        # Another project's volume is not found: it cannot be backed up.
        volume = service.volumes.get(session, fields["volume_id"], caller(call))
        call.authorize("backup:create", {"project_id": volume.project_id,
                                         "user_id": volume.user_id, "id": volume.id})
        try:
            backup, cast = service.backups.create(
                session, caller(call), fields,
                incremental=as_bool(fields.get("incremental", False)),
                force=as_bool(fields.get("force", False)))
        except NoBackupService as error:
            # Here (only) cinder-api answers 503 when no cinder-backup is up.
            raise ServiceUnavailable(error.message) from None
        body = summary(call, backup)
    service.send(cast)
    return {"backup": body}


# -- list and show -----------------------------------------------------------------------

def _filtered(call: Call, session: Any) -> list[m.Backup]:
    all_tenants = call.query.get("all_tenants", "0")
    # Here cinder reads all_tenants strictly (utils.get_bool_param).
    if all_tenants.strip().lower() not in ("0", "1", "true", "false", "yes", "no", "on",
                                           "off", "y", "n", "t", "f"):
        raise BadRequest(f"Invalid input received: all_tenants must be a boolean, got "
                         f"'{all_tenants}'.")
    return list(session.scalars(project_query(call, m.Backup, BACKUP_FILTERS,
                                              ("name", "status", "volume_id"))))


async def _list(call: Call, detail: bool) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        found = _filtered(call, session)
        page, page_links = sorted_page(
            call, found, "backups/detail" if detail else "backups", "backups",
            sortable=SORTABLE, marker_error=backup_not_found)
        items = [render_backup(call, b) if detail else summary(call, b) for b in page]
    return with_count(call, {"backups": items, **page_links}, lambda: len(found))


@api.route("GET", "/v3/backups", policy="backup:get_all", target=project_target,
           expected_errors=(400, 404))
async def list_backups(call: Call) -> dict[str, Any]:
    return await _list(call, False)


@api.route("GET", "/v3/backups/detail", policy="backup:get_all", target=project_target,
           expected_errors=(400, 404))
async def list_backups_detail(call: Call) -> dict[str, Any]:
    return await _list(call, True)


@api.route("POST", "/v3/backups/import_record", status=201, schema=IMPORT,
           policy="backup:backup-import", target=project_target,
           expected_errors=(400, 404, 413, 503))
async def import_record(call: Call) -> dict[str, Any]:
    record = call.body["backup-record"]
    service = block_storage(call)
    with service.db.session() as session:
        backup, cast = service.backups.import_record(
            session, caller(call), record["backup_service"], record["backup_url"])
        body = summary(call, backup)
    service.send(cast)
    return {"backup": body}


@api.route("GET", B, expected_errors=(404,))
async def show_backup(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        return {"backup": render_backup(call, _load(call, session, "backup:get"))}


@api.route("PUT", B, min_version="3.9", expected_errors=(400, 404),
           schema=[VersionedSchema(UPDATE, None, "3.42"),
                   VersionedSchema(UPDATE_343, "3.43", None)])
async def update_backup(call: Call) -> dict[str, Any]:
    fields = dict(call.body["backup"] or {})
    service = block_storage(call)
    with service.db.session() as session:
        backup = _load(call, session, "backup:update")
        service.backups.update(backup, fields)
        return {"backup": summary(call, backup)}


@api.route("DELETE", B, status=202, expected_errors=(400, 404))
async def delete_backup(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        backup = _load(call, session, "backup:delete")
        cast = service.backups.delete(session, backup, force=False)
    service.send(cast)


# -- restore, export, import ---------------------------------------------------------------

@api.route("POST", f"{B}/restore", status=202, schema=RESTORE,
           expected_errors=(400, 404, 413))
async def restore_backup(call: Call) -> dict[str, Any]:
    params = dict(call.body["restore"] or {})
    service = block_storage(call)
    with service.db.session() as session:
        backup = _load(call, session, "backup:restore")
        restored, casts = service.backups.restore(
            session, caller(call), backup, params.get("volume_id"), params.get("name"),
            zones=service.zones())
    for cast in casts:
        service.send(cast)
    return {"restore": restored}


@api.route("GET", f"{B}/export_record", expected_errors=(400, 404))
async def export_record(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        backup = _load(call, session, "backup:export-import")
        return {"backup-record": service.backups.export_record(backup)}


# -- admin actions --------------------------------------------------------------------------

api.action_route(ACTION, status=202, expected_errors=(400, 404))


@api.action(ACTION, "os-reset_status", schema=RESET_STATUS)
async def reset_status(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        backup = _load(call, session, "volume_extension:backup_admin_actions:reset_status")
        cast = service.backups.reset_status(backup,
                                            call.body["os-reset_status"]["status"])
    service.send(cast)
    return Reply(None, status=202)


@api.action(ACTION, "os-force_delete", schema=FORCE_DELETE)
async def force_delete(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        backup = _load(call, session, "volume_extension:backup_admin_actions:force_delete")
        cast = service.backups.delete(session, backup, force=True)
    service.send(cast)
    return Reply(None, status=202)
