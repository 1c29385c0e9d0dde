"""Volumes: create (empty, from an image, a snapshot or a volume), list, show, update,
metadata, image metadata, actions, delete (cinder/api/v3/volumes.py, v3/volume_metadata.py,
contrib/volume_actions.py, volume_admin_actions.py, volume_image_metadata.py and the
extensions that add the host, tenant and migration attributes)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select

from stacklab.api.errors import BadRequest
from stacklab.api.pagination import Cinder, Window, page_query
from stacklab.api.service import Call, Reply, VersionedSchema, not_served
from stacklab.block_storage import models as m
from stacklab.block_storage import schemas
from stacklab.block_storage.api.attachments import volume_attachments
from stacklab.block_storage.api.base import (
    COLUMNS,
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
from stacklab.block_storage.schemas import as_bool
from stacklab.block_storage.volumes import Caller, ImageInfo, volume_not_found

V = "/v3/volumes/{volume_id}"
ACTION = f"{V}/action"
# cinder/api/v3/resource_filters.json: what a volume list may filter on (from 3.31 any
# other key is refused).
VOLUME_FILTERS = frozenset({"name", "status", "metadata", "bootable", "migration_status",
                            "availability_zone", "group_id", "size", "created_at",
                            "updated_at"})
SORTABLE = ("id", "name", "display_name", "display_description", "status", "size",
            "availability_zone", "created_at", "updated_at", "bootable", "project_id",
            "user_id", "volume_type_id", "host", "attach_status")


def caller(call: Call) -> Caller:
    return Caller(call.context.project_id or "", call.context.user_id, call.context.is_admin)


def volume_target(volume: m.Volume) -> dict[str, Any]:
    return {"project_id": volume.project_id, "user_id": volume.user_id, "id": volume.id}


def links(call: Call, collection: str, ident: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": call.url_for(f"/v3/{collection}/{ident}")},
            {"rel": "bookmark", "href": call.url_for(f"/{collection}/{ident}")}]


# cinder/api/api_utils.py: the admin metadata a volume's view shows among its metadata.
VISIBLE_ADMIN_METADATA = ("readonly", "attached_mode")


def visible_metadata(volume: m.Volume) -> dict[str, Any]:
    """The volume's metadata with its visible admin metadata over it (cinder's
    add_visible_admin_metadata, on a show, a list and an update)."""
    return {**volume.metadata_, **{key: value for key, value in volume.admin_metadata.items()
                                   if key in VISIBLE_ADMIN_METADATA}}


def render_volume(call: Call, volume: m.Volume, types: dict[str, m.VolumeType],
                  attachments: Sequence[m.VolumeAttachment] | None = None, *,
                  extensions: bool = True) -> dict[str, Any]:
    """cinder's volume view; ``extensions`` adds the attributes of the contrib extensions
    (host, tenant, migration status, image metadata), which extend only a show and a detailed
    list: a create or an update answers without them."""
    volume_type = types.get(volume.volume_type_id)
    type_name = volume_type.name if volume_type is not None else None
    body: dict[str, Any] = {
        "id": volume.id, "status": volume.status, "size": volume.size,
        "availability_zone": volume.availability_zone,
        "created_at": timestamp(volume.created_at), "updated_at": timestamp(volume.updated_at),
        "name": volume.name, "description": volume.description,
        "volume_type": type_name if (type_name is not None or call.version_at_least("3.63"))
        else volume.volume_type_id,
        "snapshot_id": volume.snapshot_id, "source_volid": volume.source_volid,
        "metadata": visible_metadata(volume), "links": links(call, "volumes", volume.id),
        "user_id": volume.user_id, "bootable": str(volume.bootable).lower(),
        "encrypted": volume.encryption_key_id is not None,
        "replication_status": volume.replication_status, "consistencygroup_id": None,
        "multiattach": volume.multiattach,
        "attachments": volume_attachments(call, volume, attachments),
    }
    admin = call.context.is_admin
    if admin:
        body["migration_status"] = volume.migration_status
    if call.version_at_least("3.13"):
        body["group_id"] = volume.group_id
    if admin and call.version_at_least("3.21"):
        body["provider_id"] = volume.provider_id
    if call.version_at_least("3.48"):
        body["shared_targets"] = True
        body["service_uuid"] = volume.service_uuid
    if admin and call.version_at_least("3.61"):
        body["cluster_name"] = None
    if call.version_at_least("3.63"):
        body["volume_type_id"] = volume.volume_type_id
    if call.version_at_least("3.65"):
        # A migration's temporary volume counts against no quota (use_quota=False).
        body["consumes_quota"] = not (volume.migration_status or "").startswith("target:")
    if not extensions:
        return body
    # The extensions' attributes, each behind its own rule. cinder's context.authorize
    # makes the target of a volume its project and user only, so a page of one project's
    # volumes asks each rule once (the call remembers its verdicts), not once a volume.
    target = {"project_id": volume.project_id, "user_id": volume.user_id}
    if call.allows("volume_extension:volume_host_attribute", target):
        body["os-vol-host-attr:host"] = volume.host
    if call.allows("volume_extension:volume_tenant_attribute", target):
        body["os-vol-tenant-attr:tenant_id"] = volume.project_id
    if call.allows("volume_extension:volume_mig_status_attribute", target):
        body["os-vol-mig-status-attr:migstat"] = volume.migration_status
        body["os-vol-mig-status-attr:name_id"] = None
    if volume.image_metadata and call.allows("volume_extension:volume_image_metadata:show",
                                             target):
        body["volume_image_metadata"] = dict(volume.image_metadata)
    return body


def _types(session: Any) -> dict[str, m.VolumeType]:
    return {t.id: t for t in session.scalars(select(m.VolumeType))}


def _load(call: Call, session: Any, rule: str) -> m.Volume:
    volume = block_storage(call).volumes.get(session, call.params["volume_id"], caller(call))
    call.authorize(rule, volume_target(volume))
    return volume


# -- create ------------------------------------------------------------------------------

@api.route("POST", "/v3/volumes", status=202, expected_errors=(400, 404, 409, 413),
           schema=[VersionedSchema(schemas.volume_create(False), None, "3.52"),
                   VersionedSchema(schemas.volume_create(True), "3.53", None)])
async def create_volume(call: Call) -> dict[str, Any]:
    call.authorize("volume:create", project_target(call))
    fields = dict(call.body["volume"])
    fields.setdefault("name", fields.pop("display_name", None))
    fields.setdefault("description", fields.pop("display_description", None))
    if fields.get("multiattach") is not None and as_bool(fields["multiattach"]):
        raise BadRequest("multiattach parameter has been removed. The default behavior is to "
                         "use multiattach enabled volume types. Contact your administrator "
                         "to create a multiattach enabled volume type and use it to create "
                         "multiattach volumes.")
    # From 3.47 a volume may be made from a backup; before, cinder ignores the key.
    backup_id = fields.get("backup_id") if call.version_at_least("3.47") else None
    # From 3.13 a volume may be made into a generic group; a consistency group (a group
    # of the reserved default_cgsnapshot_type) at any version, as cinder reads it.
    group_id = fields.get("group_id") if call.version_at_least("3.13") else None
    group_id = fields.get("consistencygroup_id") or group_id
    service = block_storage(call)
    image: ImageInfo | None = None
    image_ref = fields.get("imageRef") or fields.get("image_id")
    if image_ref:
        call.authorize("volume:create_from_image", project_target(call))
        assert service.glance is not None
        image = await service.glance.find(image_ref, call.request.headers["x-auth-token"])
    with service.db.session() as session:
        backup = (service.backups.get(session, backup_id, caller(call)) if backup_id
                  else None)
        volume, cast = service.volumes.create(session, caller(call), fields,
                                              zones=service.zones(), image=image,
                                              backup=backup)
        if group_id:
            group = service.groups.get(session, group_id, caller(call))
            cast = service.groups.join_new_volume(session, group, volume, cast)
        body = render_volume(call, volume, _types(session), extensions=False)
    service.send(cast)
    return {"volume": body}


# -- list and show ---------------------------------------------------------------------------

def _where(call: Call) -> Select[Any]:
    """The volumes the request's filters select in SQL (the dict filters are not here)."""
    query = call.query
    statement = project_query(
        call, m.Volume, VOLUME_FILTERS,
        ("name", "status", "availability_zone", "migration_status", "group_id"),
        extra=("glance_metadata", "image_metadata"), inexact=True)
    if "size" in query:
        try:
            statement = statement.where(m.Volume.size == int(query["size"]))
        except ValueError:
            raise BadRequest(f"Invalid input received: Invalid filter size={query['size']}") \
                from None
    if "bootable" in query and call.version_at_least("3.2"):
        statement = statement.where(m.Volume.bootable == as_bool(query["bootable"]))
    return statement


def _dict_filters(call: Call) -> bool:
    """Whether the request filters on metadata or image metadata (matched in Python)."""
    query = call.query
    return "metadata" in query or bool(
        (query.get("glance_metadata") or query.get("image_metadata"))
        and call.version_at_least("3.4"))


def _filtered(call: Call, session: Any) -> list[m.Volume]:
    query = call.query
    found = list(session.scalars(_where(call)))
    if "metadata" in query:
        found = holding(found, query["metadata"], "metadata", lambda v: v.metadata_)
    images = query.get("glance_metadata") or query.get("image_metadata")
    if images and call.version_at_least("3.4"):
        found = holding(found, images, "glance_metadata", lambda v: v.image_metadata)
    return found


def _page_in_sql(call: Call, session: Any, path: str
                 ) -> tuple[list[str], dict[str, Any], Callable[[], int]]:
    """The page's ids, its links and its count, cut in SQL: only the page's rows are
    loaded (a list of 10,000 volumes read and sorted them all, 740 ms for 1,000 shown)."""
    statement = _where(call)
    dialect = Cinder(marker_error=volume_not_found)
    request = dialect.request(call.query, SORTABLE)
    columns = [(getattr(m.Volume, COLUMNS.get(key, key)), direction)
               for key, direction in request.sort]
    order = [column.desc() if direction == "desc" else column.asc()
             for column, direction in columns]
    cut = page_query(session, statement.with_only_columns(m.Volume.id), id_column=m.Volume.id,
                     order=order, request=request, dialect=dialect)
    window = Window([str(row.id) for row in cut.items], request, cut.more)
    page_links = dialect.links(window, query=call.query, url=call.url_for(f"/v3/{path}"),
                               collection="volumes", id_of=str)
    return window.items, page_links, lambda: int(session.scalar(
        select(func.count()).select_from(statement.subquery())) or 0)


def _attachments_of(session: Any, ids: Sequence[str]) -> dict[str, list[m.VolumeAttachment]]:
    found: dict[str, list[m.VolumeAttachment]] = {ident: [] for ident in ids}
    for attachment in session.scalars(select(m.VolumeAttachment).where(
            m.VolumeAttachment.volume_id.in_(ids)).order_by(
            m.VolumeAttachment.created_at, m.VolumeAttachment.id)):
        found[attachment.volume_id].append(attachment)
    return found


async def _list(call: Call, detail: bool) -> dict[str, Any]:
    service = block_storage(call)
    path = "volumes/detail" if detail else "volumes"
    with service.db.session() as session:
        if _dict_filters(call) or call.query.get("offset"):
            found = _filtered(call, session)
            page, page_links = sorted_page(call, found, path, "volumes", sortable=SORTABLE,
                                           marker_error=volume_not_found)
            ids = [v.id for v in page]
            count: Callable[[], int] = lambda: len(found)  # noqa: E731
        else:
            ids, page_links, count = _page_in_sql(call, session, path)
        if detail:
            rows = {v.id: v for v in session.scalars(
                select(m.Volume).where(m.Volume.id.in_(ids)))} if ids else {}
            types = _types(session)
            attachments = _attachments_of(session, ids) if ids else {}
            items = [render_volume(call, rows[i], types, attachments[i]) for i in ids]
        else:
            # The summary shows id, name and links: no whole rows.
            names = dict(session.execute(select(m.Volume.id, m.Volume.name).where(
                m.Volume.id.in_(ids))).all()) if ids else {}
            items = [{"id": i, "name": names[i], "links": links(call, "volumes", i)}
                     for i in ids]
        return with_count(call, {"volumes": items, **page_links}, count)


@api.route("GET", "/v3/volumes", policy="volume:get_all", target=project_target,
           expected_errors=(400, 404))
async def list_volumes(call: Call) -> dict[str, Any]:
    return await _list(call, False)


@api.route("GET", "/v3/volumes/detail", policy="volume:get_all", target=project_target,
           expected_errors=(400, 404))
async def list_volumes_detail(call: Call) -> dict[str, Any]:
    return await _list(call, True)


@api.route("GET", "/v3/volumes/summary", policy="volume:get_all", target=project_target,
           min_version="3.12", expected_errors=(400,))
async def volumes_summary(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        found = _filtered(call, session)
    summary: dict[str, Any] = {"total_count": len(found),
                               "total_size": sum(v.size for v in found)}
    if call.version_at_least("3.36"):
        metadata: dict[str, list[str]] = {}
        for volume in found:
            for key, value in volume.metadata_.items():
                if value not in metadata.setdefault(key, []):
                    metadata[key].append(value)
        summary["metadata"] = metadata
    return {"volume-summary": summary}


async def _no_volume_id(call: Call) -> None:
    # cinder's router has no route for a volume path with an empty id: 404.
    raise not_served()


for _method in ("GET", "PUT", "DELETE"):
    api.route(_method, "/v3/volumes/", body_optional=True, expected_errors=(404,))(
        _no_volume_id)


@api.route("GET", V, expected_errors=(404,))
async def show_volume(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume:get")
        return {"volume": render_volume(call, volume, _types(session))}


@api.route("PUT", V, expected_errors=(400, 404),
           schema=[VersionedSchema(schemas.volume_update(False), None, "3.52"),
                   VersionedSchema(schemas.volume_update(True), "3.53", None)])
async def update_volume(call: Call) -> dict[str, Any]:
    fields = dict(call.body["volume"])
    if "display_name" in fields:
        fields.setdefault("name", fields.pop("display_name"))
    if "display_description" in fields:
        fields.setdefault("description", fields.pop("display_description"))
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume:update")
        service.volumes.update(volume, fields)
        return {"volume": render_volume(call, volume, _types(session), extensions=False)}


@api.route("DELETE", V, status=202, expected_errors=(400, 404))
async def delete_volume(call: Call) -> None:
    service = block_storage(call)
    cascade = as_bool(call.query.get("cascade", "false"))
    force = call.version_at_least("3.23") and as_bool(call.query.get("force", "false"))
    with service.db.session() as session:
        volume = _load(call, session, "volume:delete")
        if force:
            call.authorize("volume:force_delete", volume_target(volume))
        cast = service.volumes.delete(session, volume, force=force, cascade=cascade)
    service.send(cast)


# -- metadata -----------------------------------------------------------------------------

declare_metadata_routes(MetadataOwner(
    V, "Volume", _load, lambda service: service.volumes,
    get_rule="volume:get_volume_metadata", create_rule="volume:create_volume_metadata",
    update_rule="volume:update_volume_metadata", delete_rule="volume:delete_volume_metadata"))


# -- actions --------------------------------------------------------------------------------

api.action_route(ACTION, status=202, expected_errors=(400, 404, 413))


@api.action(ACTION, "os-extend", schema=schemas.EXTEND)
async def extend(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        volume = service.volumes.get(session, call.params["volume_id"], caller(call))
        # From 3.42 an in-use volume is extended too, under its own rule (cinder's
        # extend_attached_volume); before, in-use is refused as any status but available.
        attached = call.version_at_least("3.42") and volume.status == "in-use"
        call.authorize("volume:extend_attached_volume" if attached else "volume:extend",
                       volume_target(volume))
        cast = service.volumes.extend(session, volume, int(call.body["os-extend"]["new_size"]),
                                      attached=attached)
    service.send(cast)
    return Reply(None, status=202)


@api.action(ACTION, "os-set_bootable", schema=schemas.SET_BOOTABLE, status=200)
async def set_bootable(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume:update")
        service.volumes.set_bootable(volume,
                                     as_bool(call.body["os-set_bootable"]["bootable"]))
    return Reply(None, status=200)


@api.action(ACTION, "os-update_readonly_flag", schema=schemas.READONLY)
async def update_readonly(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume:update_readonly_flag")
        service.volumes.set_readonly(volume,
                                     as_bool(call.body["os-update_readonly_flag"]["readonly"]))
    return Reply(None, status=202)


@api.action(ACTION, "os-set_image_metadata", schema=schemas.SET_IMAGE_METADATA, status=200)
async def set_image_metadata(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume_extension:volume_image_metadata:set")
        service.volumes.set_image_metadata(volume,
                                           call.body["os-set_image_metadata"]["metadata"])
        return {"metadata": dict(volume.image_metadata)}


@api.action(ACTION, "os-unset_image_metadata", schema=schemas.UNSET_IMAGE_METADATA,
            status=200)
async def unset_image_metadata(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume_extension:volume_image_metadata:remove")
        service.volumes.unset_image_metadata(volume,
                                             call.body["os-unset_image_metadata"]["key"])
    return Reply(None, status=200)


@api.action(ACTION, "os-show_image_metadata", schema=schemas.SHOW_IMAGE_METADATA, status=200)
async def show_image_metadata(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume_extension:volume_image_metadata:show")
        return {"metadata": dict(volume.image_metadata)}


@api.action(ACTION, "os-force_delete", schema=schemas.FORCE_DELETE)
async def force_delete(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume_extension:volume_admin_actions:force_delete")
        cast = service.volumes.delete(session, volume, force=True, cascade=False)
    service.send(cast)
    return Reply(None, status=202)


@api.action(ACTION, "os-reset_status", schema=schemas.RESET_STATUS)
async def reset_status(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, "volume_extension:volume_admin_actions:reset_status")
        service.attachments.check_reset(session, volume, call.body["os-reset_status"])
        service.volumes.reset_status(volume, call.body["os-reset_status"])
        service.attachments.after_reset(session, volume, call.body["os-reset_status"])
    return Reply(None, status=202)
