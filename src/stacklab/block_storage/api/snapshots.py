"""Snapshots: create, list, show, update, metadata, delete, and the admin's force-delete and
reset-status (cinder/api/v3/snapshots.py, v3/snapshot_metadata.py,
contrib/snapshot_actions.py, admin_actions.py)."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas
from stacklab.block_storage.api.base import (
    api,
    block_storage,
    holding,
    project_query,
    project_target,
    sorted_page,
    timestamp,
    with_count,
)
from stacklab.block_storage.api.metadata import MetadataOwner, declare_metadata_routes
from stacklab.block_storage.api.volumes import caller
from stacklab.block_storage.schemas import as_bool
from stacklab.block_storage.volumes import snapshot_not_found

S = "/v3/snapshots/{snapshot_id}"
ACTION = f"{S}/action"
SNAPSHOT_FILTERS = frozenset({"name", "status", "volume_id", "metadata",
                              "availability_zone"})
SORTABLE = ("id", "name", "display_name", "display_description", "status", "created_at",
            "updated_at", "volume_id", "volume_size", "project_id", "user_id")


def snapshot_target(snapshot: m.Snapshot) -> dict[str, Any]:
    return {"project_id": snapshot.project_id, "user_id": snapshot.user_id,
            "id": snapshot.id}


def render_snapshot(call: Call, snapshot: m.Snapshot, *,
                    extensions: bool = True) -> dict[str, Any]:
    """cinder's snapshot view; ``extensions`` adds extended_snapshot_attributes' two, which
    extend a show and a detailed list only (not a create or an update)."""
    body: dict[str, Any] = {
        "id": snapshot.id, "created_at": timestamp(snapshot.created_at),
        "updated_at": timestamp(snapshot.updated_at), "name": snapshot.name,
        "description": snapshot.description, "volume_id": snapshot.volume_id,
        "status": snapshot.status, "size": snapshot.volume_size,
        "metadata": dict(snapshot.metadata_),
    }
    if call.version_at_least("3.14"):
        body["group_snapshot_id"] = snapshot.group_snapshot_id
    if call.version_at_least("3.41"):
        body["user_id"] = snapshot.user_id
    if call.version_at_least("3.65"):
        body["consumes_quota"] = True
    if extensions and call.allows("volume_extension:extended_snapshot_attributes",
                                  snapshot_target(snapshot)):
        body["os-extended-snapshot-attributes:project_id"] = snapshot.project_id
        body["os-extended-snapshot-attributes:progress"] = snapshot.progress
    return body


def _load(call: Call, session: Any, rule: str) -> m.Snapshot:
    snapshot = block_storage(call).volumes.get_snapshot(session, call.params["snapshot_id"],
                                                         caller(call))
    call.authorize(rule, snapshot_target(snapshot))
    return snapshot


@api.route("POST", "/v3/snapshots", status=202, schema=schemas.SNAPSHOT_CREATE,
           expected_errors=(400, 404, 413))
async def create_snapshot(call: Call) -> dict[str, Any]:
    fields = dict(call.body["snapshot"])
    fields.setdefault("name", fields.pop("display_name", None))
    fields.setdefault("description", fields.pop("display_description", None))
    force = as_bool(fields.get("force", False))
    service = block_storage(call)
    with service.db.session() as session:
        # Another project's volume is not found: it cannot be a snapshot's source.
        volume = service.volumes.get(session, fields["volume_id"], caller(call))
        call.authorize("volume:create_snapshot", {"project_id": volume.project_id,
                                                  "user_id": volume.user_id})
        snapshot, cast = service.snapshots.create(session, caller(call), volume, fields,
                                                  force=force)
        body = render_snapshot(call, snapshot, extensions=False)
    service.send(cast)
    return {"snapshot": body}


def _filtered(call: Call, session: Any) -> list[m.Snapshot]:
    query = call.query
    statement = project_query(call, m.Snapshot, SNAPSHOT_FILTERS,
                              ("name", "status", "volume_id"))
    found = list(session.scalars(statement))
    if "metadata" in query and call.version_at_least("3.22"):
        found = holding(found, query["metadata"], "metadata", lambda s: s.metadata_)
    return found


async def _list(call: Call, detail: bool) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        found = _filtered(call, session)
        page, page_links = sorted_page(
            call, found, "snapshots/detail" if detail else "snapshots", "snapshots",
            sortable=SORTABLE, marker_error=snapshot_not_found)
        items = [render_snapshot(call, s) for s in page]
    if not detail:
        # The summary view has the same keys but the extended attributes.
        items = [{k: v for k, v in item.items()
                  if not k.startswith("os-extended-snapshot-attributes:")} for item in items]
    return with_count(call, {"snapshots": items, **page_links}, lambda: len(found))


@api.route("GET", "/v3/snapshots", policy="volume:get_all_snapshots", target=project_target,
           expected_errors=(400, 404))
async def list_snapshots(call: Call) -> dict[str, Any]:
    return await _list(call, False)


@api.route("GET", "/v3/snapshots/detail", policy="volume:get_all_snapshots",
           target=project_target, expected_errors=(400, 404))
async def list_snapshots_detail(call: Call) -> dict[str, Any]:
    return await _list(call, True)


@api.route("GET", S, expected_errors=(404,))
async def show_snapshot(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        return {"snapshot": render_snapshot(call, _load(call, session, "volume:get_snapshot"))}


@api.route("PUT", S, schema=schemas.SNAPSHOT_UPDATE, expected_errors=(400, 404))
async def update_snapshot(call: Call) -> dict[str, Any]:
    fields = dict(call.body["snapshot"])
    if "display_name" in fields:
        fields.setdefault("name", fields.pop("display_name"))
    if "display_description" in fields:
        fields.setdefault("description", fields.pop("display_description"))
    service = block_storage(call)
    with service.db.session() as session:
        snapshot = _load(call, session, "volume:update_snapshot")
        service.snapshots.update(snapshot, fields)
        return {"snapshot": render_snapshot(call, snapshot, extensions=False)}


@api.route("DELETE", S, status=202, expected_errors=(400, 404))
async def delete_snapshot(call: Call) -> None:
    service = block_storage(call)
    with service.db.session() as session:
        snapshot = _load(call, session, "volume:delete_snapshot")
        cast = service.snapshots.delete(session, snapshot, force=False)
    service.send(cast)


# -- metadata -----------------------------------------------------------------------------

declare_metadata_routes(MetadataOwner(
    S, "Snapshot", _load, lambda service: service.snapshots,
    get_rule="volume:get_snapshot_metadata", create_rule="volume:update_snapshot_metadata",
    update_rule="volume:update_snapshot_metadata", delete_rule="volume:delete_snapshot_metadata"))


# -- actions --------------------------------------------------------------------------------

api.action_route(ACTION, status=202, expected_errors=(400, 404))


@api.action(ACTION, "os-force_delete", schema=schemas.FORCE_DELETE)
async def force_delete(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        snapshot = _load(call, session, "volume_extension:snapshot_admin_actions:force_delete")
        cast = service.snapshots.delete(session, snapshot, force=True)
    service.send(cast)
    return Reply(None, status=202)


# contrib/snapshot_actions.py: the statuses a snapshot's driver may report while it is made
# or deleted (a status outside these keys cannot be updated this way).
UPDATABLE_STATUS = {"creating": ("creating", "available", "error"),
                    "deleting": ("deleting", "error_deleting")}


@api.action(ACTION, "os-update_snapshot_status", schema=schemas.SNAPSHOT_UPDATE_STATUS)
async def update_snapshot_status(call: Call) -> Reply:
    wanted = call.body["os-update_snapshot_status"]
    service = block_storage(call)
    with service.db.session() as session:
        snapshot = _load(call, session,
                         "snapshot_extension:snapshot_actions:update_snapshot_status")
        allowed = UPDATABLE_STATUS.get(snapshot.status)
        if allowed is None:
            raise BadRequest(f"Snapshot status {snapshot.status} not allowed for "
                             "update_snapshot_status")
        if wanted["status"] not in allowed:
            raise BadRequest(f"Provided snapshot status {wanted['status']} not allowed for "
                             f"snapshot with status {snapshot.status}.")
        snapshot.status = wanted["status"]
        if wanted.get("progress"):
            snapshot.progress = wanted["progress"]
        snapshot.updated_at = service.clock.now()
    return Reply(None, status=202)


@api.action(ACTION, "os-reset_status", schema=schemas.SNAPSHOT_RESET_STATUS)
async def reset_status(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        snapshot = _load(call, session,
                         "volume_extension:snapshot_admin_actions:reset_status")
        service.snapshots.reset_status(snapshot, call.body["os-reset_status"]["status"])
    return Reply(None, status=202)
