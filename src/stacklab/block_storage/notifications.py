"""cinder's notifications (cinder/volume/volume_utils.py notify_about_volume_usage and
notify_about_snapshot_usage): ``volume.<event>`` from ``volume.<host>`` and
``snapshot.<event>`` from ``snapshot.<host>``, ``<host>`` being the cinder-volume's
``host@backend``, with the usage payload of ``_usage_from_volume`` and
``_usage_from_snapshot``, in the request's context; on a broker they go to the ``cinder``
exchange."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from stacklab.block_storage import models as m
from stacklab.bus.interface import Bus
from stacklab.clock import Clock
from stacklab.store.database import Database


def isoformat(epoch: float | None) -> str | None:
    """cinder's ``datetime.isoformat()`` of an object's aware UTC time (its database keeps
    whole seconds): ``2026-12-04T09:35:16+00:00``."""
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).replace(microsecond=0).isoformat()


def _null_safe_str(value: Any) -> str:
    return str(value) if value else ""


def usage_from_volume(volume: m.Volume, attachments: list[m.VolumeAttachment],
                      now: float, **extra: Any) -> dict[str, Any]:
    """The payload of ``volume.*``: a volume not launched (or made) yet reads ``now``."""
    status = "deleting" if volume.status == "error_managing_deleting" else volume.status
    usage: dict[str, Any] = {
        "tenant_id": volume.project_id,
        "host": volume.host,
        "user_id": volume.user_id,
        "availability_zone": volume.availability_zone,
        "volume_id": volume.id,
        "volume_type": volume.volume_type_id,
        "display_name": volume.name,
        "launched_at": isoformat(volume.launched_at or now),
        "created_at": isoformat(volume.created_at or now),
        "status": status,
        "snapshot_id": volume.snapshot_id,
        "size": volume.size,
        "replication_status": volume.replication_status,
        "replication_extended_status": None,
        "replication_driver_data": None,
        "metadata": dict(volume.metadata_ or {}),
    }
    usage.update(extra)
    usage["volume_attachment"] = [{
        "id": attachment.id, "volume_id": attachment.volume_id,
        "instance_uuid": attachment.instance_uuid,
        "attached_host": attachment.attached_host, "mountpoint": attachment.mountpoint,
        "attach_time": isoformat(attachment.attach_time),
        "detach_time": isoformat(attachment.detach_time),
        "attach_mode": attachment.attach_mode, "attach_status": attachment.attach_status}
        for attachment in attachments]
    if volume.image_metadata:
        usage["glance_metadata"] = dict(volume.image_metadata)
    return usage


def usage_from_snapshot(snapshot: m.Snapshot, volume: m.Volume | None,
                        **extra: Any) -> dict[str, Any]:
    """The payload of ``snapshot.*`` (its ``deleted`` and ``metadata`` as cinder's
    ``null_safe_str`` gives them)."""
    usage: dict[str, Any] = {
        "tenant_id": snapshot.project_id,
        "user_id": snapshot.user_id,
        "availability_zone": volume.availability_zone if volume is not None else None,
        "volume_id": snapshot.volume_id,
        "volume_size": snapshot.volume_size,
        "snapshot_id": snapshot.id,
        "display_name": snapshot.name,
        "created_at": isoformat(snapshot.created_at),
        "status": snapshot.status,
        "deleted": "",
        "metadata": _null_safe_str(dict(snapshot.metadata_ or {})),
    }
    usage.update(extra)
    return usage


class VolumeNotifier:
    """What one cinder-volume (``host@backend``) sends of its volumes and snapshots. The
    payloads are read in a session of their own and sent after it (a delete's ``.end``
    carries what its ``.start`` read, the row being gone)."""

    def __init__(self, bus: Bus, db: Database, clock: Clock, host: str) -> None:
        self.bus = bus
        self.db = db
        self.clock = clock
        self.host = host

    def volume_usage(self, volume_id: str, **extra: Any) -> dict[str, Any] | None:
        with self.db.session() as session:
            volume = session.get(m.Volume, volume_id)
            if volume is None:
                return None
            attachments = list(session.scalars(select(m.VolumeAttachment).where(
                m.VolumeAttachment.volume_id == volume_id).order_by(
                m.VolumeAttachment.created_at, m.VolumeAttachment.id)))
            return usage_from_volume(volume, attachments, self.clock.now(), **extra)

    def snapshot_usage(self, snapshot_id: str, **extra: Any) -> dict[str, Any] | None:
        with self.db.session() as session:
            snapshot = session.get(m.Snapshot, snapshot_id)
            if snapshot is None:
                return None
            return usage_from_snapshot(snapshot, session.get(m.Volume, snapshot.volume_id),
                                       **extra)

    async def volume(self, volume_id: str, event: str, ctxt: Mapping[str, Any] | None,
                     usage: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """``volume.<event>`` of the volume as it is now (or ``usage`` read before);
        returns the payload sent (None: no such volume, nothing sent)."""
        payload = usage if usage is not None else self.volume_usage(volume_id)
        if payload is not None:
            await self.bus.notify(f"volume.{self.host}", f"volume.{event}", payload,
                                  ctxt=ctxt)
        return payload

    async def snapshot(self, snapshot_id: str, event: str, ctxt: Mapping[str, Any] | None,
                       usage: dict[str, Any] | None = None) -> dict[str, Any] | None:
        payload = usage if usage is not None else self.snapshot_usage(snapshot_id)
        if payload is not None:
            await self.bus.notify(f"snapshot.{self.host}", f"snapshot.{event}", payload,
                                  ctxt=ctxt)
        return payload
