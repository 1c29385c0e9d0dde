"""Swapping a server's volume for another (nova's ``swap_volume``): the step of cinder's
migration of an attached volume.

cinder asks (``PUT /servers/{id}/os-volume_attachments/{volume}`` naming the new volume,
which nova takes only for a volume whose ``migration_status`` is set). nova-api checks
both volumes as cinder shows them, marks the old one detaching (a no-op while it
migrates), reserves the new one for the server with a new attachment and casts to the
server's compute. There the new volume is connected to the host in the old one's place
(libvirt copies the disk over and pivots to it), its attachment completed, the old
attachment deleted; then cinder is told the swap is done (``os-migrate_volume_completion``)
and answers which id the mapping keeps: for its own migration, the old id (the volume
took the new one's backend). A failure rolls the old volume back and deletes the new
attachment, and still tells cinder, with ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.api.context import RequestContext
from stacklab.api.errors import BadRequest, NotFound
from stacklab.compute import models as m
from stacklab.compute.cinder import CinderError
from stacklab.compute.volume_extend import Grown
from stacklab.compute.volumes import (
    cinder_failure,
    connector,
    mapping_view,
    volume_context,
)

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.manager")
API_LOG = logging.getLogger("nova.compute.api")


class SwapFailed(Exception):
    """The swap did not happen (the old volume stays the server's)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _invalid(reason: str) -> BadRequest:
    return BadRequest(f"Invalid volume: {reason}")


def _servers(volume: Mapping[str, Any]) -> dict[str, str]:
    """The servers a volume is attached to, with their attachment ids (nova's translated
    ``attachments``: cinder shows only the attached ones)."""
    return {str(a.get("server_id")): str(a.get("attachment_id"))
            for a in volume.get("attachments") or []}


async def swap_volume(service: ComputeService, instance: m.Instance,
                      old_volume: Mapping[str, Any], new_volume: Mapping[str, Any],
                      context: RequestContext) -> None:
    """nova-api's ``swap_volume`` once the server's lock and state were checked."""
    volumes = service.volumes
    cinder = volumes.cinder()
    token = context.auth_token
    old_id, new_id = str(old_volume["id"]), str(new_volume["id"])
    holders = _servers(old_volume)
    if instance.uuid not in holders:
        raise _invalid("Old volume is attached to a different instance.")
    if _servers(new_volume):
        raise _invalid("New volume must be detached in order to swap.")
    if int(new_volume["size"]) < int(old_volume["size"]):
        raise _invalid("New volume must be the same size or larger.")
    try:
        await cinder.begin_detaching(old_id, token=token)
    except CinderError as exc:
        if exc.status == 400:
            raise _invalid(f"Invalid input received: {exc.message} (HTTP 400)") from None
        raise cinder_failure(exc, old_id) from None
    try:
        if await _read_write_attachments(service, holders, token) > 1:
            raise BadRequest("Swapping multi-attach volumes with more than one read/write "
                             "attachment is not supported.")
        with service.db.session() as session:
            bdm = volumes.find(session, instance.uuid, old_id)
            if bdm is None:
                raise NotFound(f"No volume Block Device Mapping with id {old_id}.")
            volumes.check_not_attached(session, instance.uuid, new_volume)
    except (BadRequest, NotFound):
        await _roll_back(service, old_id, token)
        raise
    try:
        new_attachment = await cinder.attachment_create(new_id, instance.uuid, token=token)
    except CinderError as exc:
        await _roll_back(service, old_id, token)
        raise cinder_failure(exc, new_id) from None
    ctxt = volume_context(context)
    with service.db.session() as session:
        row = service.instances.find(session, instance.uuid)
        if row is not None:
            service.instances.start_action(session, row, "swap_volume", ctxt)
    await volumes.to_host(instance.host or "", "swap_volume", instance_uuid=instance.uuid,
                          old_volume_id=old_id, new_volume_id=new_id,
                          new_attachment_id=new_attachment["id"], ctxt=ctxt)


async def _read_write_attachments(service: ComputeService, holders: Mapping[str, str],
                                  token: str | None) -> int:
    """nova's _count_attachments_for_swap: of several attachments, the read/write ones."""
    if len(holders) <= 1:
        return len(holders)
    count = 0
    for attachment_id in holders.values():
        try:
            record = await service.volumes.cinder().attachment_get(attachment_id, token=token)
        except CinderError:
            continue
        if record.get("attach_mode") == "rw":
            count += 1
    return count


async def _roll_back(service: ComputeService, volume_id: str, token: str | None) -> None:
    try:
        await service.volumes.cinder().roll_detaching(volume_id, token=token)
    except CinderError as exc:
        API_LOG.warning("Failed to roll back the detaching of volume %s: %s", volume_id,
                        exc.message)


async def swap_on_host(service: ComputeService, host: str, instance_uuid: str,
                       old_id: str, new_id: str, new_attachment_id: str,
                       ctxt: Mapping[str, Any]) -> Grown | None:
    """nova-compute's ``_do_swap_volume``: the mapping names the volume cinder keeps, with
    the new attachment. Returns the device's growth when the new volume is larger; raises
    ``SwapFailed`` (after the roll back) when the swap did not happen."""
    volumes = service.volumes
    cinder = volumes.cinder()
    token = ctxt.get("auth_token") or None
    with service.db.session() as session:
        bdm = volumes.find(session, instance_uuid, old_id)
        view = mapping_view(bdm) if bdm is not None else None
    if view is None:
        raise SwapFailed(f"No volume Block Device Mapping with id {old_id}.")
    try:
        old = await cinder.get(old_id, token=token)
        new = await cinder.get(new_id, token=token)
    except CinderError as exc:
        raise SwapFailed(exc.message) from None
    # A swap cinder asked for as its migration ends with its completion; any other
    # swap of new-style attachments keeps the new volume without asking.
    cinder_migration = old.get("migration_status") == "migrating"
    resize_to = int(new["size"]) if int(new["size"]) > int(old["size"]) else 0
    LOG.info("[instance: %s] Swapping volume %s for %s", instance_uuid, old_id, new_id)
    failure: CinderError | None = None
    try:
        await cinder.attachment_update(new_attachment_id,
                                       connector(host, view["device_name"]), token=token)
        # libvirt's blockcopy of the guest's disk onto the new volume, then the pivot.
        await service.profile_sleep("swap_volume")
        await cinder.attachment_complete(new_attachment_id, token=token)
    except CinderError as exc:
        failure = exc
        LOG.error("[instance: %s] Failed to swap volume %s for %s: %s", instance_uuid,
                  old_id, new_id, exc.message)
        await _roll_back(service, old_id, token)
        try:
            await cinder.attachment_delete(new_attachment_id, token=token)
        except CinderError as again:
            LOG.warning("Failed to delete attachment %s: %s", new_attachment_id,
                        again.message)
    try:
        if failure is None and view["attachment_id"]:
            await cinder.attachment_delete(view["attachment_id"], token=token)
        if cinder_migration:
            kept = await cinder.migrate_volume_completion(old_id, new_id,
                                                          error=failure is not None,
                                                          token=token)
        else:
            kept = new_id
    except CinderError as exc:
        raise SwapFailed(exc.message) from None
    if failure is not None:
        raise SwapFailed(failure.message)
    changes: dict[str, Any] = {"volume_id": kept, "attachment_id": new_attachment_id,
                               "source_type": "volume", "destination_type": "volume",
                               "snapshot_id": None}
    if resize_to:
        changes["volume_size"] = resize_to
    volumes.update(view["uuid"], **changes)
    if not resize_to:
        return None
    return Grown(view["device_name"], view["volume_size"], resize_to)
