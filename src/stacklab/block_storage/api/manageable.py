"""Managing existing backend storage: POST and GET /v3/manageable_volumes (3.8+), the
older os-volume-manage, the snapshots' equivalents (manageable_snapshots,
os-snapshot-manage) and os-unmanage on a snapshot (cinder/api/contrib/volume_manage.py,
snapshot_manage.py, snapshot_unmanage.py, v3/volume_manage.py, v3/snapshot_manage.py).
Each is the admin's."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply, VersionedSchema
from stacklab.block_storage import schemas as s
from stacklab.block_storage.api.base import api, block_storage, project_target
from stacklab.block_storage.api.snapshots import ACTION as SNAPSHOT_ACTION
from stacklab.block_storage.api.snapshots import _load as load_snapshot
from stacklab.block_storage.api.snapshots import render_snapshot
from stacklab.block_storage.api.volumes import _types, caller, render_volume
from stacklab.block_storage.manage import sort_and_page

# cinder/api/schemas/volume_manage.py and snapshot_manage.py, in stacklab's words.
_OPTIONAL_NAME: dict[str, Any] = {"type": ["string", "null"], "minLength": 0,
                                  "maxLength": 255}
_VOLUME_FIELDS: dict[str, Any] = {
    "description": s.DESCRIPTION, "availability_zone": _OPTIONAL_NAME,
    "bootable": s.BOOLEAN, "volume_type": _OPTIONAL_NAME, "name": _OPTIONAL_NAME,
    "host": s.CINDER_HOST, "ref": {"type": ["object", "string"]},
    "metadata": s.METADATA_OR_NULL}
MANAGE_VOLUME = s._wrapped("volume", {
    "type": "object", "properties": _VOLUME_FIELDS, "required": ["ref"],
    "additionalProperties": False})
# 3.16: a cluster may name where the storage is.
MANAGE_VOLUME_316 = s._wrapped("volume", {
    "type": "object", "properties": {**_VOLUME_FIELDS, "cluster": _OPTIONAL_NAME},
    "required": ["ref"], "additionalProperties": False})
MANAGE_SNAPSHOT = s._wrapped("snapshot", {
    "type": "object",
    "properties": {"description": s.DESCRIPTION, "metadata": s.METADATA_OR_NULL,
                   "name": _OPTIONAL_NAME, "volume_id": s.UUID,
                   "ref": {"type": ["object", "null", "string"]}},
    "required": ["ref", "volume_id"], "additionalProperties": False})
_VOLUME_SCHEMAS = [VersionedSchema(MANAGE_VOLUME, None, "3.15"),
                   VersionedSchema(MANAGE_VOLUME_316, "3.16", None)]
UNMANAGE = s._wrapped("os-unmanage", {"type": ["object", "null"]})


def _host_and_cluster(call: Call, params: dict[str, Any], cluster_from: str
                      ) -> tuple[str | None, str | None]:
    """cinder's ``get_cluster_host``: exactly one of host and cluster (cluster only from
    ``cluster_from``)."""
    if call.version_at_least(cluster_from):
        cluster = params.get("cluster")
        message = "One and only one of cluster and host must be set."
    else:
        cluster, message = None, "Host field is missing."
    host = params.get("host")
    if bool(cluster) == bool(host):
        raise BadRequest(f"Invalid input received: {message}")
    return host, cluster


# -- volumes ---------------------------------------------------------------------------------

async def _manage_volume(call: Call) -> dict[str, Any]:
    call.authorize("volume_extension:volume_manage", project_target(call))
    fields = dict(call.body["volume"])
    host, cluster = _host_and_cluster(call, fields, "3.16")
    fields["bootable"] = s.as_bool(fields.get("bootable", False))
    service = block_storage(call)
    with service.db.session() as session:
        volume, cast = service.manageable.manage_volume(session, caller(call), fields,
                                                        host, cluster)
        body = render_volume(call, volume, _types(session))
    service.send(cast)
    return {"volume": body}


@api.route("POST", "/v3/manageable_volumes", status=202, schema=_VOLUME_SCHEMAS,
           min_version="3.8", expected_errors=(400, 403, 404, 413, 503))
async def manage_volume(call: Call) -> dict[str, Any]:
    return await _manage_volume(call)


@api.route("POST", "/v3/os-volume-manage", status=202, schema=_VOLUME_SCHEMAS,
           expected_errors=(400, 403, 404, 413, 503))
async def manage_volume_legacy(call: Call) -> dict[str, Any]:
    return await _manage_volume(call)


_SUMMARY = ("reference", "size", "safe_to_manage")
_SNAPSHOT_SUMMARY = (*_SUMMARY, "source_reference")


async def _listing(call: Call, kind: str, detail: bool) -> dict[str, Any]:
    call.authorize(f"{kind}_extension:list_manageable", project_target(call))
    host, cluster = _host_and_cluster(call, dict(call.query), "3.17")
    service = block_storage(call)
    with service.db.session() as session:
        record = service.manageable.service_for(session, host, cluster)
        entries = service.manageable.listing(session, record.host, kind)
    page = sort_and_page(entries, call.query)
    if not detail:
        keys = _SNAPSHOT_SUMMARY if kind == "snapshot" else _SUMMARY
        page = [{key: entry[key] for key in keys} for entry in page]
    return {f"manageable-{kind}s": page}


def _list_route(path: str, kind: str, detail: bool, min_version: str | None) -> None:
    async def handler(call: Call) -> dict[str, Any]:
        return await _listing(call, kind, detail)

    handler.__name__ = f"list_manageable_{kind}s{'_detail' if detail else ''}"
    api.route("GET", path, min_version=min_version,
              expected_errors=(400, 403, 404, 503))(handler)


for _kind, _new, _old in (("volume", "/v3/manageable_volumes", "/v3/os-volume-manage"),
                          ("snapshot", "/v3/manageable_snapshots",
                           "/v3/os-snapshot-manage")):
    _list_route(_new, _kind, False, "3.8")
    _list_route(f"{_new}/detail", _kind, True, "3.8")
    _list_route(_old, _kind, False, None)
    _list_route(f"{_old}/detail", _kind, True, None)


# -- snapshots --------------------------------------------------------------------------------

async def _manage_snapshot(call: Call) -> dict[str, Any]:
    fields = dict(call.body["snapshot"])
    service = block_storage(call)
    with service.db.session() as session:
        volume = service.volumes.get(session, fields["volume_id"], caller(call))
        call.authorize("snapshot_extension:snapshot_manage",
                       {"project_id": volume.project_id, "user_id": volume.user_id})
        snapshot, cast = service.manageable.manage_snapshot(session, caller(call), volume,
                                                            fields)
        # cinder answers with the snapshot view alone: no extension adds to a manage.
        body = render_snapshot(call, snapshot, extensions=False)
    service.send(cast)
    return {"snapshot": body}


@api.route("POST", "/v3/manageable_snapshots", status=202, schema=MANAGE_SNAPSHOT,
           min_version="3.8", expected_errors=(400, 403, 404, 413, 503))
async def manage_snapshot(call: Call) -> dict[str, Any]:
    return await _manage_snapshot(call)


@api.route("POST", "/v3/os-snapshot-manage", status=202, schema=MANAGE_SNAPSHOT,
           expected_errors=(400, 403, 404, 413, 503))
async def manage_snapshot_legacy(call: Call) -> dict[str, Any]:
    return await _manage_snapshot(call)


@api.action(SNAPSHOT_ACTION, "os-unmanage", schema=UNMANAGE)
async def unmanage_snapshot(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        snapshot = load_snapshot(call, session, "snapshot_extension:snapshot_unmanage")
        cast = service.snapshots.delete(session, snapshot, force=False)
    if cast is not None:
        # A delete's checks and status; cinder-volume forgets it and keeps its LV.
        cast = type(cast)(cast.topic, cast.server, "unmanage_snapshot",
                          {"snapshot_id": cast.kwargs["snapshot_id"]})
    service.send(cast)
    return Reply(None, status=202)
