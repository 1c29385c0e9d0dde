"""Volume attachments as cinder keeps them (cinder/volume/api.py, the volume_attach,
volume_attached and volume_detached steps of its database API).

The API reserves (``reserved``), a volume's own cinder-volume connects (``attaching``,
with the connector's host and device), the caller completes (``attached``, the volume
``in-use``); deleting the last attachment makes the volume ``available`` again. The older
path (os-reserve, os-attach, os-detach) moves the same rows. Each step takes the session
of its caller; nothing here talks to the bus.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest, NotFound
from stacklab.block_storage import models as m
from stacklab.block_storage.volumes import Caller, invalid_input, invalid_volume
from stacklab.clock import Clock
from stacklab.ids import IdSource

# What a volume's status becomes from the status of its attachments (cinder's
# ATTACH_STATUS_MAP; the others carry over as they are). Of several attachments the first
# status in alphabetical order wins: attached, attaching, detaching, reserved.
VOLUME_STATUS_OF = {"attached": "in-use", "detached": "available"}
# The migration statuses under which a volume counts as not migrating (cinder's
# AVAILABLE_MIGRATION_STATUS; stacklab may hold "" for none).
NOT_MIGRATING = (None, "", "deleting", "error", "success")


class ResourceConflict(ApiError):
    status = 409


def attachment_not_found(ident: str) -> NotFound:
    return NotFound(f"Volume attachment could not be found with filter: attachment_id = "
                    f"{ident}.")


def is_multiattach_type(extra_specs: Mapping[str, Any]) -> bool:
    return bool(extra_specs.get("multiattach", "False") == "<is> True")


def or_list(values: Sequence[str] | str) -> str:
    """cinder's utils.build_or_str."""
    return values if isinstance(values, str) else " or ".join(values)


class Attachments:
    def __init__(self, clock: Clock, ids: IdSource) -> None:
        self.clock = clock
        self.ids = ids

    # -- lookups -------------------------------------------------------------------------

    @staticmethod
    def of_volume(session: Session, volume_id: str) -> list[m.VolumeAttachment]:
        return list(session.scalars(select(m.VolumeAttachment).where(
            m.VolumeAttachment.volume_id == volume_id).order_by(
            m.VolumeAttachment.created_at, m.VolumeAttachment.id)))

    @staticmethod
    def get(session: Session, ident: str, caller: Caller) -> m.VolumeAttachment:
        """An attachment of one of the caller's volumes (any, for an admin)."""
        found = session.get(m.VolumeAttachment, ident)
        if found is None:
            raise attachment_not_found(ident)
        if not caller.admin:
            volume = session.get(m.Volume, found.volume_id)
            if volume is None or volume.project_id != caller.project_id:
                raise attachment_not_found(ident)
        return found

    # -- the attachments API (3.27+) --------------------------------------------------------

    def reserve(self, session: Session, volume: m.Volume,
                instance_uuid: str | None) -> m.VolumeAttachment:
        """attachment_create's first step: the volume ``reserved``, a ``reserved`` row."""
        if "error" in volume.status:
            raise invalid_volume(
                "Volume attachments can not be created if the volume is in an error state. "
                f"The Volume {volume.id} currently has a status of: {volume.status} ")
        expected = (("available", "in-use", "downloading") if volume.multiattach
                    else ("available", "downloading"))
        if volume.status in expected:
            volume.status = "reserved"
            volume.updated_at = self.clock.now()
        elif not (instance_uuid and volume.status in ("in-use", "reserved") and any(
                a.instance_uuid == instance_uuid for a in self.of_volume(session, volume.id))):
            # The same instance may reserve again (nova does while it moves a server).
            raise invalid_volume(
                f"Volume {volume.id} status must be {or_list(expected)} to reserve, but the "
                f"current status is {volume.status}.")
        attachment = m.VolumeAttachment(
            id=self.ids.uuid(), volume_id=volume.id, instance_uuid=instance_uuid,
            attach_status="reserved", volume_host=volume.host, attach_mode="null",
            created_at=self.clock.now())
        session.add(attachment)
        session.flush()
        return attachment

    def set_mode(self, volume: m.Volume, attachment: m.VolumeAttachment,
                 mode: str | None) -> None:
        # A volume flagged read-only (the deprecated way) overrides the asked mode.
        readonly = volume.admin_metadata.get("readonly", "False") == "True"
        attachment.attach_mode = "ro" if readonly else (mode or "null")

    def check_update(self, session: Session, volume: m.Volume, multiattach_type: bool) -> None:
        """attachment_update's checks before the volume's service is asked."""
        if "error" in volume.status:
            raise ResourceConflict(
                "Resource conflict: Volume attachments can not be updated if the volume is "
                f"in an error state. The Volume {volume.id} currently has a status of: "
                f"{volume.status} ")
        attachments = self.of_volume(session, volume.id)
        # Two attachments of a plain volume exist while nova moves a server; one already
        # connected means two requests raced, which the API refuses.
        if (len(attachments) > 1 and not (volume.multiattach or multiattach_type)
                and any(a.connection_info for a in attachments)):
            raise ResourceConflict(
                    f"Resource conflict: duplicate connectors detected on volume {volume.id}")

    def complete(self, attachment: m.VolumeAttachment, volume: m.Volume) -> None:
        now = self.clock.now()
        attachment.attach_status = "attached"
        attachment.updated_at = now
        volume.status = "in-use"
        volume.attach_status = "attached"
        volume.updated_at = now

    def finish_detach(self, session: Session, volume: m.Volume, attachment_id: str | None
                      ) -> list[m.VolumeAttachment]:
        """Drop the attachment; the volume's statuses follow those that remain (cinder's
        volume_detached). Returns the remaining attachments."""
        if attachment_id is not None:
            found = session.get(m.VolumeAttachment, attachment_id)
            if found is not None and found.volume_id == volume.id:
                session.delete(found)
                session.flush()
        remaining = self.of_volume(session, volume.id)
        live = sorted(a.attach_status for a in remaining
                      if not a.attach_status.startswith("error_"))
        attach_status = live[0] if live else "detached"
        volume.attach_status = attach_status
        # An upload or a migration sets the volume's status itself when it ends.
        if (attach_status != "detached"
                or (not volume.migration_status and volume.status != "uploading")
                or volume.migration_status in ("success", "error")):
            volume.status = VOLUME_STATUS_OF.get(attach_status, attach_status)
        volume.admin_metadata = {k: v for k, v in volume.admin_metadata.items()
                                 if k != "attached_mode"}
        volume.updated_at = self.clock.now()
        return remaining

    def check_reset(self, session: Session, volume: m.Volume,
                    fields: Mapping[str, Any]) -> None:
        """os-reset_status's refusals that depend on attachments (admin_actions.py)."""
        status = str(fields.get("status") or "").lower()
        # cinder's tuple lacks a comma ('error_deleting' 'detaching'): only 'deleting' is
        # refused of the three it names.
        if status == "deleting":
            raise BadRequest("Cannot reset-state to deleting")
        if status == "in-use" and not self.of_volume(session, volume.id):
            raise BadRequest("Cannot reset-state to in-use because volume does not have any "
                             "attachments.")

    def after_reset(self, session: Session, volume: m.Volume,
                    fields: Mapping[str, Any]) -> None:
        """A reset to ``detached`` takes every attachment away (and sets the status from
        what remains, over the one asked, as cinder does)."""
        if str(fields.get("attach_status") or "").lower() == "detached":
            for attachment in self.of_volume(session, volume.id):
                self.finish_detach(session, volume, attachment.id)

    # -- the older actions -------------------------------------------------------------------

    def reserve_volume(self, volume: m.Volume) -> None:
        expected = ("available", "in-use") if volume.multiattach else "available"
        if volume.status not in ((expected,) if isinstance(expected, str) else expected):
            raise invalid_volume(f"Volume status must be {or_list(expected)} to reserve, but "
                                 f"the status is {volume.status}.")
        volume.status = "attaching"
        volume.updated_at = self.clock.now()

    def unreserve_volume(self, session: Session, volume: m.Volume) -> None:
        if volume.status != "attaching":
            return  # cinder: nothing to do, no error
        attached = any(a.attach_status != "detached" for a in self.of_volume(session, volume.id))
        volume.status = "in-use" if attached else "available"
        volume.updated_at = self.clock.now()

    def begin_detaching(self, volume: m.Volume) -> None:
        if (volume.status == "in-use" and volume.attach_status == "attached"
                and volume.migration_status in NOT_MIGRATING):
            volume.status = "detaching"
            volume.updated_at = self.clock.now()
        elif volume.migration_status in NOT_MIGRATING:
            # A migrating volume keeps its status: its migration_status says it is busy.
            raise invalid_volume("Unable to detach volume. Volume status must be 'in-use' "
                                 "and attach_status must be 'attached' to detach.")

    def roll_detaching(self, volume: m.Volume) -> None:
        if volume.status == "detaching":
            volume.status = "in-use"
            volume.updated_at = self.clock.now()

    @staticmethod
    def check_attach(volume: m.Volume, mode: str) -> None:
        """os-attach's checks in cinder-api, before the volume's service is called."""
        if volume.status == "maintenance":
            raise invalid_volume("The volume cannot be attached in maintenance mode.")
        if volume.admin_metadata.get("readonly", "False") == "True" and mode != "ro":
            raise BadRequest(f"Invalid attaching mode '{mode}' for volume {volume.id}.")

    def attach(self, session: Session, volume: m.Volume, instance_uuid: str | None,
               host_name: str | None, mountpoint: str, mode: str) -> m.VolumeAttachment:
        """cinder-volume's attach_volume: a row made and finished at once."""
        admin = dict(volume.admin_metadata)
        if volume.status == "attaching" and admin.get("attached_mode") not in (None, mode):
            raise invalid_volume("being attached by different mode")
        host = _sanitize_hostname(host_name) if host_name else None
        mine = [a for a in self.of_volume(session, volume.id)
                if (a.instance_uuid == instance_uuid if instance_uuid
                    else a.attached_host == host)]
        if mine:
            volume.status = "in-use"
            volume.updated_at = self.clock.now()
            return mine[0]
        if volume.status == "in-use" and not volume.multiattach \
                and not volume.migration_status:
            raise invalid_volume("volume is already attached and multiple attachments are "
                                 "not enabled")
        now = self.clock.now()
        attachment = m.VolumeAttachment(
            id=self.ids.uuid(), volume_id=volume.id, attach_status="attaching",
            created_at=now)
        session.add(attachment)
        volume.admin_metadata = {**admin, "attached_mode": mode}
        if instance_uuid and not _uuid_like(instance_uuid):
            attachment.attach_status = "error_attaching"
            session.flush()
            raise BadRequest(f"Expected a UUID but received {instance_uuid}.")
        if admin.get("readonly") == "True" and mode != "ro":
            attachment.attach_status = "error_attaching"
            session.flush()
            raise BadRequest(f"Invalid attaching mode '{mode}' for volume {volume.id}.")
        self.attached(volume, attachment, instance_uuid, host, mountpoint, mode,
                      mark_attached=True)
        session.flush()
        return attachment

    def attached(self, volume: m.Volume, attachment: m.VolumeAttachment,
                 instance_uuid: str | None, host: str | None, mountpoint: str | None,
                 mode: str, *, mark_attached: bool) -> None:
        """cinder's volume_attached: the row and its volume, attached or attaching."""
        status = "attached" if mark_attached else "attaching"
        now = self.clock.now()
        attachment.mountpoint = mountpoint
        attachment.attach_status = status
        attachment.instance_uuid = instance_uuid
        attachment.attached_host = host
        attachment.attach_time = now
        attachment.attach_mode = mode
        attachment.updated_at = now
        volume.status = "in-use" if mark_attached else "attaching"
        volume.attach_status = status
        volume.updated_at = now

    def check_detach(self, session: Session, volume: m.Volume,
                     attachment_id: str | None) -> None:
        """os-detach's checks in cinder-api."""
        if attachment_id is not None:
            found = session.get(m.VolumeAttachment, attachment_id)
            if found is not None and found.volume_id != volume.id:
                raise invalid_input("Mismatched volume and attachment")
        if volume.status == "maintenance":
            raise invalid_volume("The volume cannot be detached in maintenance mode.")

    def detach(self, session: Session, volume: m.Volume, attachment_id: str | None) -> None:
        """cinder-volume's detach_volume."""
        if attachment_id is not None:
            # An unknown attachment is not an error: the volume's statuses are put right
            # all the same.
            self.finish_detach(session, volume, attachment_id)
            return
        attachments = self.of_volume(session, volume.id)
        if len(attachments) > 1:
            raise invalid_volume("Detach volume failed: More than one attachment, but no "
                                 "attachment_id provided.")
        if not attachments:
            volume.status = "available"
            volume.attach_status = "detached"
            volume.updated_at = self.clock.now()
            return
        self.finish_detach(session, volume, attachments[0].id)


def _sanitize_hostname(name: str) -> str:
    """cinder's volume_utils.sanitize_hostname: what a host name may hold."""
    text = re.sub(r"[ _]", "-", name.encode("latin-1", "ignore").decode("latin-1"))
    return re.sub(r"[^\w.-]+", "", text, flags=re.ASCII).lower().strip(".-")


def _uuid_like(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
