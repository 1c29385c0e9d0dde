"""A server's volumes, as nova keeps them in its block device mappings and asks cinder for them.

nova-api checks an attach (the device path, the volume as cinder shows it to
the user, whether nova already has it on a server, the multiattach and
shelved rules), reserves the volume with a cinder attachment and records
the mapping; the server's compute host then gives cinder its connector and
completes the attachment. A detach marks the volume detaching and the host
deletes the attachment. A boot from volume creates its volumes (from an
image, a snapshot, or blank) in the user's project while the server is in
``block_device_mapping``, waits for cinder to make them available and
attaches them the same way; a server's delete detaches its volumes and
deletes those marked ``delete_on_termination``.

Every cinder call carries the user's token (kept in the bus context of the
volume operations), so cinder's policy and quotas are the user's.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, BadRequest, Forbidden, NotFound, nova_internal_error
from stacklab.bus.interface import MessagingTimeout, Target
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.cinder import CinderClient, CinderError
from stacklab.compute.instances import bus_context

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.api")

# nova's check_instance_state of attach_volume and detach_volume.
ATTACHABLE = (states.ACTIVE, states.PAUSED, states.STOPPED, states.RESIZED,
              states.SOFT_DELETED, states.SHELVED, states.SHELVED_OFFLOADED)
# nova's block_device.match_device: what a requested device path may look like.
_DEVICE = re.compile(r"^/dev/x{0,1}[a-z]{0,1}d{0,1}[a-z]+[0-9]*$")
# nova's [DEFAULT] block_device_allocate_retries and _retries_interval: how long a boot
# from volume waits for cinder to make each new volume available (the lab's seconds).
ALLOCATE_RETRIES = 60
ALLOCATE_INTERVAL = 3.0
# How long nova-compute waits for a volume it detached to be deletable (cinder frees it).
_DELETE_RETRIES = 10


def volume_context(context: RequestContext) -> dict[str, Any]:
    """The bus context of a volume operation: nova's serialized context keeps the token."""
    return {**bus_context(context), "auth_token": context.auth_token}


def _token(ctxt: Mapping[str, Any]) -> str | None:
    token = ctxt.get("auth_token")
    return str(token) if token else None


def cinder_failure(exc: CinderError, volume_id: str) -> ApiError:
    """What nova-api answers for cinder's error (nova's translate_volume_exception)."""
    if exc.status == 404:
        return NotFound(f"Volume {volume_id} could not be found.")
    if exc.status == 400:
        return BadRequest(f"Invalid input received: {exc.message} (HTTP 400)")
    if exc.status == 403:
        return Forbidden(exc.message)
    if exc.status == 413:
        return ApiError(f"Quota exceeded for resources: {exc.message}", status=413)
    # cinderclient's other errors reach nova-api untranslated: its unexpected-error 500.
    return nova_internal_error("cinderclient.exceptions.ClientException")


def connector(host: str, mountpoint: str | None) -> dict[str, Any]:
    """What os-brick tells cinder of a compute host (libvirt over iSCSI)."""
    body: dict[str, Any] = {"platform": "x86_64", "os_type": "linux", "ip": host,
                            "host": host, "multipath": False,
                            "initiator": f"iqn.2004-10.org.stacklab:{host}"}
    if mountpoint:
        body["mountpoint"] = mountpoint
    return body


def mapping_view(bdm: m.BlockDeviceMapping) -> dict[str, Any]:
    """A mapping as plain values (what the API and the agents pass around)."""
    return {"uuid": bdm.uuid, "instance_uuid": bdm.instance_uuid, "volume_id": bdm.volume_id,
            "device_name": bdm.device_name, "tag": bdm.tag, "boot_index": bdm.boot_index,
            "delete_on_termination": bdm.delete_on_termination,
            "attachment_id": bdm.attachment_id, "source_type": bdm.source_type,
            "destination_type": bdm.destination_type, "snapshot_id": bdm.snapshot_id,
            "image_id": bdm.image_id, "volume_size": bdm.volume_size,
            "volume_type": bdm.volume_type}


def next_device(used: set[str], prefix: str = "/dev/vd") -> str:
    """The first free disk name after the ones in ``used`` (libvirt picks it, as nova)."""
    for letter in "abcdefghijklmnopqrstuvwxyz":
        if f"{prefix}{letter}" not in used:
            return f"{prefix}{letter}"
    raise Forbidden("The maximum allowed number of disk devices (26) to attach to a single "
                    "instance has been exceeded.")


class Volumes:
    def __init__(self, service: ComputeService) -> None:
        self.service = service

    def cinder(self) -> CinderClient:
        if self.service.cinder is None:
            raise ApiError("Block Storage is not available.", status=503)
        return self.service.cinder

    # -- the mappings table --------------------------------------------------------------

    @staticmethod
    def mappings(session: Session, instance_uuid: str) -> list[m.BlockDeviceMapping]:
        return list(session.scalars(select(m.BlockDeviceMapping).where(
            m.BlockDeviceMapping.instance_uuid == instance_uuid)
            .order_by(m.BlockDeviceMapping.id)))

    @staticmethod
    def find(session: Session, instance_uuid: str,
             volume_id: str) -> m.BlockDeviceMapping | None:
        return session.scalar(select(m.BlockDeviceMapping).where(
            m.BlockDeviceMapping.instance_uuid == instance_uuid,
            m.BlockDeviceMapping.volume_id == volume_id))

    @staticmethod
    def attached(session: Session, instance_uuid: str) -> list[tuple[str, bool]]:
        """(volume id, delete_on_termination) of each of the server's volumes, in order."""
        rows = session.execute(select(m.BlockDeviceMapping.volume_id,
                                      m.BlockDeviceMapping.delete_on_termination)
                               .where(m.BlockDeviceMapping.instance_uuid == instance_uuid,
                                      m.BlockDeviceMapping.volume_id.is_not(None))
                               .order_by(m.BlockDeviceMapping.id))
        return [(str(volume_id), bool(delete)) for volume_id, delete in rows]

    def all_attached(self) -> dict[str, list[tuple[str, bool]]]:
        """Every server's (volume id, delete_on_termination), by server."""
        found: dict[str, list[tuple[str, bool]]] = {}
        with self.service.db.engine.connect() as conn:
            rows = conn.execute(select(m.BlockDeviceMapping.instance_uuid,
                                       m.BlockDeviceMapping.volume_id,
                                       m.BlockDeviceMapping.delete_on_termination)
                                .where(m.BlockDeviceMapping.volume_id.is_not(None))
                                .order_by(m.BlockDeviceMapping.id))
            for instance_uuid, volume_id, delete in rows:
                found.setdefault(instance_uuid, []).append((str(volume_id), bool(delete)))
        return found

    @staticmethod
    def volume_backed(session: Session) -> set[str]:
        """The servers whose root disk is a volume (placement holds no disk for them)."""
        return set(session.scalars(select(m.BlockDeviceMapping.instance_uuid).where(
            m.BlockDeviceMapping.boot_index == 0,
            m.BlockDeviceMapping.destination_type == "volume")))

    def boots_from_volume(self, instance_uuid: str) -> bool:
        """Whether the server's root disk is a volume (no image disk on its host)."""
        return any(b["boot_index"] == 0 and b["destination_type"] == "volume"
                   for b in self.views(instance_uuid))

    def add(self, session: Session, instance_uuid: str,
            fields: Mapping[str, Any]) -> m.BlockDeviceMapping:
        bdm = m.BlockDeviceMapping(uuid=self.service.ids.uuid(), instance_uuid=instance_uuid,
                                   created_at=self.service.clock.now(), **fields)
        session.add(bdm)
        session.flush()
        return bdm

    def update(self, bdm_uuid: str, **changes: Any) -> None:
        with self.service.db.session() as session:
            bdm = session.scalar(select(m.BlockDeviceMapping).where(
                m.BlockDeviceMapping.uuid == bdm_uuid))
            if bdm is None:
                return
            for column, value in changes.items():
                setattr(bdm, column, value)
            bdm.updated_at = self.service.clock.now()

    def remove(self, bdm_uuid: str) -> None:
        with self.service.db.session() as session:
            session.execute(delete(m.BlockDeviceMapping).where(
                m.BlockDeviceMapping.uuid == bdm_uuid))

    def views(self, instance_uuid: str) -> list[dict[str, Any]]:
        with self.service.db.session() as session:
            return [mapping_view(b) for b in self.mappings(session, instance_uuid)]

    # -- attach ------------------------------------------------------------------------------

    async def volume(self, volume_id: str, token: str | None) -> dict[str, Any]:
        """The volume as cinder shows it to the caller (nova-api's 404 when it cannot)."""
        try:
            return await self.cinder().get(volume_id, token=token)
        except CinderError as exc:
            raise cinder_failure(exc, volume_id) from None

    def check_not_attached(self, session: Session, instance_uuid: str,
                            volume: Mapping[str, Any]) -> None:
        """nova's _check_volume_already_attached: its own mappings say where the volume is."""
        holders = list(session.scalars(
            select(m.BlockDeviceMapping.instance_uuid)
            .join(m.Instance, m.Instance.uuid == m.BlockDeviceMapping.instance_uuid)
            .where(m.BlockDeviceMapping.volume_id == volume["id"],
                   m.Instance.deleted.is_(False))))
        if not holders:
            return
        if not volume.get("multiattach"):
            raise BadRequest(f"Invalid volume: volume {volume['id']} is already attached to "
                             f"instances: {' '.join(holders)}")
        if instance_uuid in holders:
            raise BadRequest(f"Invalid volume: volume {volume['id']} already attached")

    async def attach(self, instance: m.Instance, volume_id: str, context: RequestContext, *,
                     device: str | None = None, tag: str | None = None,
                     delete_on_termination: bool = False,
                     multiattach_ok: bool = False) -> dict[str, Any]:
        """``POST /servers/{id}/os-volume_attachments`` past the API's own checks: the new
        mapping (its ``device_name`` is the device the host will use)."""
        service = self.service
        token = context.auth_token
        if device and not _DEVICE.match(device):
            raise BadRequest(f"The supplied device path ({device}) is invalid.")
        volume = await self.volume(volume_id, token)
        offloaded = instance.vm_state == states.SHELVED_OFFLOADED
        with service.db.session() as session:
            self.check_not_attached(session, instance.uuid, volume)
        if offloaded and tag:
            raise BadRequest("Tagged volume attachment is not supported for "
                             "shelved-offloaded instances.")
        if offloaded and volume.get("multiattach"):
            raise BadRequest("Attaching multiattach volumes is not supported for "
                             "shelved-offloaded instances.")
        if volume.get("multiattach") and not multiattach_ok:
            raise BadRequest("Multiattach volumes are only supported starting with compute "
                             "API version 2.60.")
        ctxt = volume_context(context)
        with service.db.session() as session:
            used = {b.device_name for b in self.mappings(session, instance.uuid)
                    if b.device_name}
            # The root disk is vda even when nothing maps it (a server booted from an image).
            # A shelved-offloaded server gets its device when it is unshelved.
            name = None if offloaded else next_device(used | {"/dev/vda"})
            bdm = self.add(session, instance.uuid, {
                "source_type": "volume", "destination_type": "volume", "boot_index": None,
                "device_name": name, "volume_id": volume_id, "tag": tag,
                "delete_on_termination": delete_on_termination})
            bdm_uuid = bdm.uuid
        try:
            attachment = await self.cinder().attachment_create(volume_id, instance.uuid,
                                                               token=token)
        except CinderError as exc:
            self.remove(bdm_uuid)
            raise cinder_failure(exc, volume_id) from None
        self.update(bdm_uuid, attachment_id=attachment["id"])
        with service.db.session() as session:
            row = service.instances.find(session, instance.uuid)
            if row is not None:
                service.instances.start_action(session, row, "attach_volume", ctxt)
        if offloaded:
            # No host to connect: completed as is, so the volume is in-use (nova's
            # _attach_volume_shelved_offloaded); the unshelve connects it.
            try:
                await self.cinder().attachment_complete(attachment["id"], token=token)
            except CinderError as exc:
                self.remove(bdm_uuid)
                raise cinder_failure(exc, volume_id) from None
        else:
            await self.to_host(instance.host or "", "attach_volume", instance_uuid=instance.uuid,
                                bdm_uuid=bdm_uuid, ctxt=ctxt)
        return {"device_name": name, "volume_id": volume_id, "bdm_uuid": bdm_uuid,
                "attachment_id": attachment["id"]}

    async def to_host(self, host: str, method: str, **kwargs: Any) -> None:
        """Cast to the server's compute; in the fast profile wait (briefly) for it to be done,
        so that a client reading the volume right after sees it attached or detached."""
        target = Target("compute", host)
        if self.service.profile.name != "fast":
            await self.service.bus.cast(target, method, **kwargs)
            return
        try:
            await self.service.bus.call(target, method, timeout=2.0, **kwargs)
        except MessagingTimeout:
            LOG.info("nova-compute on %s has not finished %s yet", host, method)

    async def connect(self, host: str, bdm_uuid: str, ctxt: Mapping[str, Any]) -> None:
        """On the compute host: the connector to cinder, then the attachment completed.

        A failure deletes the attachment and the mapping, as nova's attach does.
        """
        with self.service.db.session() as session:
            bdm = session.scalar(select(m.BlockDeviceMapping).where(
                m.BlockDeviceMapping.uuid == bdm_uuid))
            view = mapping_view(bdm) if bdm is not None else None
        if view is None or not view["attachment_id"]:
            return
        cinder, token = self.cinder(), _token(ctxt)
        try:
            await cinder.attachment_update(view["attachment_id"],
                                           connector(host, view["device_name"]), token=token)
            await cinder.attachment_complete(view["attachment_id"], token=token)
        except CinderError:
            LOG.exception("[instance: %s] Failed to attach volume %s at %s",
                          view["instance_uuid"], view["volume_id"], view["device_name"])
            await self._forget_attachment(view["attachment_id"], token)
            self.remove(bdm_uuid)
            raise

    async def _forget_attachment(self, attachment_id: str | None, token: str | None) -> None:
        if not attachment_id:
            return
        try:
            await self.cinder().attachment_delete(attachment_id, token=token)
        except CinderError:
            LOG.exception("Failed to delete attachment %s", attachment_id)

    # -- detach --------------------------------------------------------------------------

    async def detach(self, instance: m.Instance, bdm: Mapping[str, Any],
                     context: RequestContext) -> None:
        """``DELETE /servers/{id}/os-volume_attachments/{volume}`` past the API's checks."""
        service = self.service
        token = context.auth_token
        ctxt = volume_context(context)
        if instance.vm_state == states.SHELVED_OFFLOADED:
            with service.db.session() as session:
                row = service.instances.find(session, instance.uuid)
                if row is not None:
                    service.instances.start_action(session, row, "detach_volume", ctxt)
            await self.release(dict(bdm), token)
            return
        if not bdm["attachment_id"]:
            raise BadRequest(f"Invalid volume: volume {bdm['volume_id']} has no attachment")
        try:
            await self.cinder().begin_detaching(bdm["volume_id"], token=token)
        except CinderError as exc:
            if exc.status == 400:
                raise BadRequest(f"Invalid volume: Invalid input received: {exc.message} "
                                 "(HTTP 400)") from None
            raise cinder_failure(exc, bdm["volume_id"]) from None
        with service.db.session() as session:
            row = service.instances.find(session, instance.uuid)
            if row is not None:
                service.instances.start_action(session, row, "detach_volume", ctxt)
        await self.to_host(instance.host or "", "detach_volume", instance_uuid=instance.uuid,
                            volume_id=bdm["volume_id"], attachment_id=bdm["attachment_id"],
                            ctxt=ctxt)

    async def disconnect(self, instance_uuid: str, volume_id: str,
                         ctxt: Mapping[str, Any]) -> None:
        """On the compute host: the attachment deleted (the volume available), the mapping
        gone."""
        with self.service.db.session() as session:
            bdm = self.find(session, instance_uuid, volume_id)
            view = mapping_view(bdm) if bdm is not None else None
        if view is None:
            return
        if view["attachment_id"]:
            await self.cinder().attachment_delete(view["attachment_id"], token=_token(ctxt))
        self.remove(view["uuid"])

    async def release(self, bdm: Mapping[str, Any], token: str | None) -> None:
        """A volume let go of for good: its attachment deleted, the volume too when it is
        to be deleted with the server, the mapping gone (nova's _local_cleanup_bdm_volumes)."""
        await self._forget_attachment(bdm.get("attachment_id"), token)
        if bdm.get("delete_on_termination") and bdm.get("volume_id"):
            await self._delete_volume(str(bdm["volume_id"]), token)
        self.remove(str(bdm["uuid"]))

    async def _delete_volume(self, volume_id: str, token: str | None) -> None:
        """Delete a volume nova is done with; cinder may still be freeing it (detaching)."""
        cinder = self.cinder()
        for attempt in range(_DELETE_RETRIES):
            try:
                await cinder.delete(volume_id, token=token)
                return
            except CinderError as exc:
                if exc.status != 400 or attempt == _DELETE_RETRIES - 1:
                    LOG.warning("Failed to delete volume %s: %s", volume_id, exc.message)
                    return
            await self.service.lab_clock.sleep(1.0)

    async def release_all(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        """A server going away: each of its volumes let go of (never failing the delete)."""
        if self.service.cinder is None:
            return
        token = _token(ctxt)
        for bdm in self.views(instance_uuid):
            if bdm["destination_type"] != "volume":
                self.remove(bdm["uuid"])
                continue
            try:
                await self.release(bdm, token)
            except Exception:  # nova logs a volume it cannot clean up and deletes the server
                LOG.exception("[instance: %s] Failed to clean up volume %s", instance_uuid,
                              bdm["volume_id"])
                self.remove(bdm["uuid"])

    # -- boot from volume (on the compute host, in task state block_device_mapping) --------

    async def prepare_for_boot(self, instance_uuid: str, host: str,
                               ctxt: Mapping[str, Any]) -> str | None:
        """Create, wait for and attach the server's volumes; returns why the build must abort
        (None when every volume is attached)."""
        mappings = [b for b in self.views(instance_uuid) if b["destination_type"] == "volume"]
        if not mappings:
            return None
        cinder, token = self.cinder(), _token(ctxt)
        used: set[str] = set()
        # The root first (vda), then the others in the order they were given.
        ordered = sorted(mappings, key=lambda b: (b["boot_index"] != 0, 0))
        for bdm in ordered:
            device = bdm["device_name"] if bdm["device_name"] and bdm["boot_index"] != 0 \
                and bdm["device_name"] not in used else next_device(used)
            used.add(device)
            self.update(bdm["uuid"], device_name=device)
            volume_id = bdm["volume_id"]
            try:
                if volume_id is None:
                    volume_id = await self._create_volume(instance_uuid, bdm, token)
                    failure = await self._await_available(volume_id, token)
                    if failure:
                        return failure
                attachment_id = bdm["attachment_id"]
                if attachment_id is None:
                    attachment_id = (await cinder.attachment_create(
                        volume_id, instance_uuid, token=token))["id"]
                    self.update(bdm["uuid"], attachment_id=attachment_id)
                await cinder.attachment_update(attachment_id, connector(host, device),
                                               token=token)
                await cinder.attachment_complete(attachment_id, token=token)
            except CinderError as exc:
                LOG.error("[instance: %s] Failure preparing block device %s: %s",
                          instance_uuid, bdm["uuid"], exc.message)
                return exc.message
        return None

    async def _create_volume(self, instance_uuid: str, bdm: Mapping[str, Any],
                             token: str | None) -> str:
        """The volume a mapping asks nova to create (recorded at once: a delete finds it)."""
        fields: dict[str, Any] = {"size": bdm["volume_size"], "volume_type": bdm["volume_type"]}
        if bdm["source_type"] == "image":
            fields.update(name="", imageRef=bdm["image_id"])
        elif bdm["source_type"] == "snapshot":
            fields.update(name="", snapshot_id=bdm["snapshot_id"])
        else:
            fields["name"] = f"{instance_uuid}-blank-vol"
        volume = await self.cinder().create(fields, token=token)
        self.update(bdm["uuid"], volume_id=volume["id"])
        return str(volume["id"])

    async def _await_available(self, volume_id: str, token: str | None) -> str | None:
        """nova's _await_block_device_map_created: poll until available, error stops."""
        status = "creating"
        for attempt in range(1, ALLOCATE_RETRIES + 1):
            status = (await self.cinder().get(volume_id, token=token))["status"]
            if status == "available":
                return None
            if status == "error":
                break
            await self.service.lab_clock.sleep(ALLOCATE_INTERVAL if attempt > 1 else 0.5)
        else:
            attempt = ALLOCATE_RETRIES
        waited = int(ALLOCATE_INTERVAL * attempt)
        return (f"Volume {volume_id} did not finish being created even after we waited "
                f"{waited} seconds or {attempt} attempts. And its status is {status}.")

    # -- moves (nova-compute's side of evacuate, rebuild, resize, live migration, shelve) --

    def moving(self, instance_uuid: str) -> list[dict[str, Any]]:
        """The server's volumes that a move hands from host to host (no cinder call when it
        has none, so a lab without Block Storage moves image-backed servers as before)."""
        return [b for b in self.views(instance_uuid)
                if b["destination_type"] == "volume" and b["volume_id"]]

    async def reserve_anew(self, instance_uuid: str, ctxt: Mapping[str, Any]) -> None:
        """Each volume's attachment swapped for a fresh one that names no host, the old one
        deleted (nova's ``_terminate_volume_connections``, and the ``detach_block_devices``
        of a rebuild or an evacuation). cinder's attachments are never reconnected: the new
        reservation, made first, keeps the volume the server's (``reserved``) while no host
        holds it, and the old host's connection is gone with its attachment."""
        mappings = [b for b in self.moving(instance_uuid) if b["attachment_id"]]
        if not mappings:
            return
        cinder, token = self.cinder(), _token(ctxt)
        for bdm in mappings:
            fresh = await cinder.attachment_create(bdm["volume_id"], instance_uuid,
                                                   token=token)
            await cinder.attachment_delete(bdm["attachment_id"], token=token)
            self.update(bdm["uuid"], attachment_id=fresh["id"])

    async def connect_all(self, instance_uuid: str, host: str,
                          ctxt: Mapping[str, Any]) -> None:
        """The server's volumes connected to ``host`` and their attachments completed (nova's
        ``_update_volume_attachments`` and ``_complete_volume_attachments``, or the
        ``_prep_block_device`` of a rebuild and an unshelve). A volume attached while the
        server was shelved-offloaded gets its device here."""
        mappings = self.moving(instance_uuid)
        if not mappings:
            return
        cinder, token = self.cinder(), _token(ctxt)
        used = {b["device_name"] for b in self.views(instance_uuid) if b["device_name"]}
        used.add("/dev/vda")  # the root disk, a volume's or the image's
        for bdm in mappings:
            attachment_id, device = bdm["attachment_id"], bdm["device_name"]
            if not attachment_id:
                attachment_id = (await cinder.attachment_create(
                    bdm["volume_id"], instance_uuid, token=token))["id"]
                self.update(bdm["uuid"], attachment_id=attachment_id)
            if not device:
                device = next_device(used)
                used.add(device)
                self.update(bdm["uuid"], device_name=device)
            await cinder.attachment_update(attachment_id, connector(host, device), token=token)
            await cinder.attachment_complete(attachment_id, token=token)

    async def attach_for_live_migration(self, instance_uuid: str, dest: str,
                                        ctxt: Mapping[str, Any]) -> dict[str, str]:
        """nova's ``pre_live_migration`` on the destination: a second attachment of each
        volume, connected to ``dest`` and completed while the source's still serves the
        running guest. Returns the source's attachments by mapping, to be deleted once the
        guest has moved, or put back if it does not (everything made here is undone
        before a failure is raised)."""
        mappings = [b for b in self.moving(instance_uuid) if b["attachment_id"]]
        old: dict[str, str] = {}
        if not mappings:
            return old
        cinder, token = self.cinder(), _token(ctxt)
        try:
            for bdm in mappings:
                made = await cinder.attachment_create(
                    bdm["volume_id"], instance_uuid, token=token,
                    connector=connector(dest, bdm["device_name"]))
                old[bdm["uuid"]] = bdm["attachment_id"]
                self.update(bdm["uuid"], attachment_id=made["id"])
            for bdm in self.moving(instance_uuid):
                if bdm["uuid"] in old:
                    await cinder.attachment_complete(bdm["attachment_id"], token=token)
        except CinderError:
            await self.undo_live_migration(instance_uuid, old, ctxt)
            raise
        return old

    async def undo_live_migration(self, instance_uuid: str, old: Mapping[str, str],
                                  ctxt: Mapping[str, Any]) -> None:
        """A live migration that did not happen: the destination's attachments deleted, the
        source's the mappings' again (nova's ``_rollback_volume_bdms``)."""
        token = _token(ctxt)
        for bdm in self.moving(instance_uuid):
            if bdm["uuid"] in old:
                await self._forget_attachment(bdm["attachment_id"], token)
                self.update(bdm["uuid"], attachment_id=old[bdm["uuid"]])

    async def drop_attachments(self, old: Mapping[str, str], ctxt: Mapping[str, Any]) -> None:
        """The source's attachments after the guest left it (nova's
        ``_post_live_migration_remove_source_vol_connections``)."""
        token = _token(ctxt)
        for attachment_id in old.values():
            await self._forget_attachment(attachment_id, token)
