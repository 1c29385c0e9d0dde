"""Attachments (microversion 3.27+): reserve, connect, complete, list, show, delete
(cinder/api/v3/attachments.py and its view builder).

Connecting asks the volume's own cinder-volume over the bus and waits for its answer, as
cinder-api's RPC call: while that service is down the request fails after
rpc_response_timeout with cinder's 500 ("Unable to update the attachment."), and the
attachment stays reserved.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call, Reply, VersionedSchema
from stacklab.block_storage import attach_schemas
from stacklab.block_storage import models as m
from stacklab.block_storage.api.base import api, block_storage, sorted_page, timestamp
from stacklab.block_storage.attachments import attachment_not_found, is_multiattach_type
from stacklab.block_storage.servicegroup import TOPICS, VOLUME
from stacklab.block_storage.volumes import Caller, backend_of, volume_not_found
from stacklab.bus.interface import Target

LOG = logging.getLogger("cinder.api.v3.attachments")

A = "/v3/attachments/{attachment_id}"
# cinder/api/v3/attachments.py allowed_filters (resource_filters.json "attachment").
FILTERS = frozenset({"volume_id", "status", "instance_id", "attach_status"})
PAGING = frozenset({"limit", "marker", "offset", "sort", "sort_key", "sort_dir",
                    "all_tenants"})
SORTABLE = ("id", "volume_id", "instance_uuid", "attach_status", "attached_host",
            "mountpoint", "attach_time", "detach_time", "attach_mode", "created_at",
            "updated_at")
# The failures cinder-api lets through as they are; any other becomes its 500.
PASSED_THROUGH = (400, 401, 403, 404, 409)


def caller(call: Call) -> Caller:
    return Caller(call.context.project_id or "", call.context.user_id, call.context.is_admin)


def target_of(volume: m.Volume) -> dict[str, Any]:
    return {"project_id": volume.project_id, "user_id": volume.user_id, "id": volume.id}


async def call_volume_service(call: Call, volume_host: str | None, method: str,
                              **kwargs: Any) -> Any:
    """cinder-api's RPC call to the cinder-volume that owns the volume."""
    if volume_host is None:
        raise ApiError("The server has either erred or is incapable of performing the "
                       "requested operation.")
    service = block_storage(call)
    target = Target(TOPICS[VOLUME], backend_of(volume_host))
    return await service.bus.call(target, method, **kwargs)


# -- views (cinder/api/v3/views/attachments.py) -----------------------------------------

def summary(attachment: m.VolumeAttachment) -> dict[str, Any]:
    return {"id": attachment.id, "status": attachment.attach_status,
            "instance": attachment.instance_uuid, "volume_id": attachment.volume_id}


def detail(attachment: m.VolumeAttachment,
           connection_info: dict[str, Any] | None = None) -> dict[str, Any]:
    # An unset time shows as "" (the view's _normalize), not null.
    return {**summary(attachment),
            "attached_at": timestamp(attachment.attach_time) or "",
            "detached_at": timestamp(attachment.detach_time) or "",
            "attach_mode": attachment.attach_mode,
            "connection_info": (connection_info if connection_info is not None
                                else attachment.connection_info)}


def volume_attachments(call: Call, volume: m.Volume,
                       loaded: Sequence[m.VolumeAttachment] | None = None
                       ) -> list[dict[str, Any]]:
    """The volume view's ``attachments``: its attached ones (cinder's _get_attachments).
    ``loaded``: the volume's attachments read already (a list reads its page's at once)."""
    if loaded is None:
        session = object_session(volume)
        if session is None:
            return []
        loaded = block_storage(call).attachments.of_volume(session, volume.id)
    # Glance, when it keeps images in cinder, needs the host; users are not shown it.
    host_shown = call.context.is_admin or "service" in call.context.roles
    return [{"id": a.volume_id, "attachment_id": a.id, "volume_id": a.volume_id,
             "server_id": a.instance_uuid,
             "host_name": a.attached_host if host_shown else None,
             "device": a.mountpoint, "attached_at": timestamp(a.attach_time)}
            for a in loaded if a.attach_status == "attached"]


# -- create ------------------------------------------------------------------------------

@api.route("POST", "/v3/attachments", min_version="3.27",
           expected_errors=(400, 404, 409, 500),
           schema=[VersionedSchema(attach_schemas.attachment_create(False), "3.27", "3.53"),
                   VersionedSchema(attach_schemas.attachment_create(True), "3.54", None)])
async def create_attachment(call: Call) -> dict[str, Any]:
    body = call.body["attachment"]
    connector = body.get("connector")
    mode = body.get("mode", "null") if call.version_at_least("3.54") else "null"
    service = block_storage(call)
    with service.db.session() as session:
        volume = service.volumes.get(session, body["volume_uuid"], caller(call))
        call.authorize("volume:attachment_create", target_of(volume))
        if volume.multiattach and volume.status == "in-use" and volume.bootable:
            call.authorize("volume:multiattach_bootable_volume", target_of(volume))
        attachment = service.attachments.reserve(session, volume, body.get("instance_uuid"))
        ident, volume_id, host = attachment.id, volume.id, volume.host
    info: dict[str, Any] = {}
    if connector:
        try:
            info = await call_volume_service(call, host, "attachment_update",
                                             volume_id=volume_id, connector=connector,
                                             attachment_id=ident)
        except ApiError as error:
            if error.status in (401, 403) or error.message.startswith("Invalid volume:"):
                raise
            raise ApiError(f"Unable to create attachment for volume ({error.message}).") \
                from error
        except Exception as error:
            LOG.exception("Unable to create attachment for volume.")
            raise ApiError("Unable to create attachment for volume.") from error
    with service.db.session() as session:
        reserved = session.get(m.VolumeAttachment, ident)
        owner = session.get(m.Volume, volume_id)
        if reserved is None or owner is None:  # deleted meanwhile by another request
            raise attachment_not_found(ident)
        reserved.connection_info = info
        service.attachments.set_mode(owner, reserved, mode)
        return {"attachment": detail(reserved)}


# -- list and show -----------------------------------------------------------------------

def _filtered(call: Call, session: Any) -> list[m.VolumeAttachment]:
    query = call.query
    admin = call.context.is_admin
    if call.version_at_least("3.33") and not admin:
        like = call.version_at_least("3.34")
        unknown = sorted(k for k in query if k not in FILTERS | PAGING
                         and not (like and k.endswith("~") and k[:-1] in FILTERS))
        if unknown:
            raise BadRequest(f"Invalid filter keys: {', '.join(unknown)}")
    statement = select(m.VolumeAttachment).join(
        m.Volume, m.Volume.id == m.VolumeAttachment.volume_id)
    if not (admin and "all_tenants" in query):
        statement = statement.where(m.Volume.project_id == call.context.project_id)
    for key, column in (("volume_id", m.VolumeAttachment.volume_id),
                        ("instance_id", m.VolumeAttachment.instance_uuid),
                        ("attach_status", m.VolumeAttachment.attach_status)):
        if key in query:
            statement = statement.where(column == query[key])
        if f"{key}~" in query and call.version_at_least("3.34"):
            statement = statement.where(column.contains(query[f"{key}~"]))
    if "status" in query or "status~" in query:
        # An allowed filter that names no column of the table: cinder's database layer
        # answers an empty list for it.
        return []
    return list(session.scalars(statement))


async def _list(call: Call, detailed: bool) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        found = _filtered(call, session)
        page, _links = sorted_page(call, found,
                                   "attachments/detail" if detailed else "attachments",
                                   "attachments", sortable=SORTABLE,
                                   marker_error=attachment_not_found)
        # cinder's attachment lists carry no links.
        return {"attachments": [detail(a) if detailed else summary(a) for a in page]}


@api.route("GET", "/v3/attachments", min_version="3.27", expected_errors=(400, 404))
async def list_attachments(call: Call) -> dict[str, Any]:
    return await _list(call, False)


@api.route("GET", "/v3/attachments/detail", min_version="3.27", expected_errors=(400, 404))
async def list_attachments_detail(call: Call) -> dict[str, Any]:
    return await _list(call, True)


@api.route("GET", A, min_version="3.27", expected_errors=(404,))
async def show_attachment(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        attachment = service.attachments.get(session, call.params["attachment_id"],
                                             caller(call))
        volume = session.get(m.Volume, attachment.volume_id)
        info = attachment.connection_info
        if volume is not None and info is not None and "format" in volume.admin_metadata:
            info = {**info, "format": volume.admin_metadata["format"]}
        return {"attachment": detail(attachment, info)}


# -- update (connect) ----------------------------------------------------------------------

@api.route("PUT", A, min_version="3.27", expected_errors=(400, 404, 409, 500),
           schema=attach_schemas.ATTACHMENT_UPDATE)
async def update_attachment(call: Call) -> dict[str, Any]:
    connector = call.body["attachment"]["connector"]
    service = block_storage(call)
    with service.db.session() as session:
        attachment = service.attachments.get(session, call.params["attachment_id"],
                                             caller(call))
        volume = session.get(m.Volume, attachment.volume_id)
        if volume is None:
            raise volume_not_found(attachment.volume_id)
        call.authorize("volume:attachment_update", target_of(volume))
        volume_type = session.get(m.VolumeType, volume.volume_type_id)
        service.attachments.check_update(
            session, volume,
            volume_type is not None and is_multiattach_type(volume_type.extra_specs))
        ident, volume_id, host = attachment.id, volume.id, volume.host
    try:
        info = await call_volume_service(call, host, "attachment_update",
                                         volume_id=volume_id, connector=connector,
                                         attachment_id=ident)
    except ApiError as error:
        if error.status in PASSED_THROUGH and error.status != 404:
            raise
        raise ApiError(f"Unable to update attachment ({error.message}).") from error
    except Exception as error:
        LOG.exception("Unable to update the attachment.")
        raise ApiError("Unable to update the attachment.") from error
    with service.db.session() as session:
        connected = session.get(m.VolumeAttachment, ident)
        if connected is None:
            raise attachment_not_found(ident)
        connected.connection_info = info
        return {"attachment": detail(connected)}


# -- complete and delete -----------------------------------------------------------------

api.action_route(f"{A}/action", expected_errors=(400, 404))


@api.action(f"{A}/action", "os-complete", schema=attach_schemas.COMPLETE, min_version="3.44",
            status=204)
async def complete_attachment(call: Call) -> Reply:
    service = block_storage(call)
    with service.db.session() as session:
        attachment = service.attachments.get(session, call.params["attachment_id"],
                                             caller(call))
        volume = service.volumes.get(session, attachment.volume_id, caller(call))
        call.authorize("volume:attachment_complete", target_of(volume))
        service.attachments.complete(attachment, volume)
    return Reply(None, status=204)


@api.route("DELETE", A, min_version="3.27", expected_errors=(400, 404, 409))
async def delete_attachment(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    with service.db.session() as session:
        attachment = service.attachments.get(session, call.params["attachment_id"],
                                             caller(call))
        volume = session.get(m.Volume, attachment.volume_id)
        if volume is None:
            raise volume_not_found(attachment.volume_id)
        call.authorize("volume:attachment_delete", target_of(volume))
        ident, volume_id, host = attachment.id, volume.id, volume.host
        reserved = attachment.attach_status == "reserved"
    # cinder asks nova whether a user's delete would leave a device behind (bug 2004555)
    # unless the request carries a service token; stacklab has no service tokens, so every
    # caller (nova among them) may delete, as cinder lets a service.
    if not reserved:
        # The connection ends on the volume's own service (a call: it must be up).
        await call_volume_service(call, host, "attachment_delete", attachment_id=ident,
                                  volume_id=volume_id)
    with service.db.session() as session:
        volume = session.get(m.Volume, volume_id)
        if volume is None:
            raise volume_not_found(volume_id)
        remaining = service.attachments.finish_detach(session, volume, ident)
        return {"attachments": [summary(a) for a in remaining]}

