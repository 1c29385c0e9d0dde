"""What a cinder-volume process does for attachments (cinder/volume/manager.py
attachment_update, attachment_delete, initialize_connection, terminate_connection,
attach_volume, detach_volume): cinder-api calls these on the volume's own service and
waits for the answer, so a stopped service makes the request time out."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.block_storage import connections
from stacklab.block_storage import models as m
from stacklab.block_storage.attachments import attachment_not_found
from stacklab.block_storage.backends import Backend
from stacklab.block_storage.notifications import VolumeNotifier
from stacklab.block_storage.volumes import volume_not_found

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from stacklab.block_storage.service import BlockStorageService

LOG = logging.getLogger("cinder.volume.manager")


class AttachmentEndpoints:
    """The attachment methods of VolumeManager (one backend of one node)."""

    service: BlockStorageService
    backend: Backend
    notifier: VolumeNotifier

    async def attachment_update(self, volume_id: str, connector: dict[str, Any],
                                attachment_id: str) -> dict[str, Any]:
        """Connect the reserved attachment: the volume and the row ``attaching``; the
        connection's details, flattened, for the API to store and show."""
        attachments = self.service.attachments
        with self.service.db.session() as session:
            volume = self._volume(session, volume_id)
            attachment = session.get(m.VolumeAttachment, attachment_id)
            if attachment is None:
                raise attachment_not_found(attachment_id)
            connector = dict(connector)
            mode = str(connector.get("mode", "rw"))
            # A mode given at attachment-create wins over the connector's.
            if attachment.attach_mode not in (None, "null"):
                mode = attachment.attach_mode
                connector["mode"] = mode
            info = self._connect(session, volume, connector)
            attachment.connector = connector
            flat = {**info["data"], "driver_volume_type": info["driver_volume_type"],
                    "attachment_id": attachment.id,
                    "enforce_multipath": connector.get("enforce_multipath", False)}
            attachments.attached(volume, attachment, attachment.instance_uuid,
                                 str(connector.get("host", "")),
                                 str(connector.get("mountpoint", "na")), mode,
                                 mark_attached=False)
        LOG.info("attachment_update completed successfully. (volume %s)", volume_id)
        return flat

    async def attachment_delete(self, attachment_id: str, volume_id: str) -> None:
        # LVM's terminate_connection and remove_export have nothing to keep: the target
        # goes with the last connection, which stacklab does not model.
        LOG.info("Terminate volume connection completed successfully. (volume %s)",
                 volume_id)

    async def initialize_connection(self, volume_id: str,
                                    connector: dict[str, Any]) -> dict[str, Any]:
        with self.service.db.session() as session:
            volume = self._volume(session, volume_id)
            info = self._connect(session, volume, connector)
        LOG.info("Initialize volume connection completed successfully. (volume %s)",
                 volume_id)
        return info

    async def terminate_connection(self, volume_id: str, connector: dict[str, Any] | None,
                                   force: bool = False) -> None:
        LOG.info("Terminate volume connection completed successfully. (volume %s)",
                 volume_id)

    async def attach_volume(self, volume_id: str, instance_uuid: str | None,
                            host_name: str | None, mountpoint: str, mode: str,
                            ctxt: Mapping[str, Any] | None = None) -> str:
        await self.notifier.volume(volume_id, "attach.start", ctxt)
        with self.service.db.session() as session:
            volume = self._volume(session, volume_id)
            attachment = self.service.attachments.attach(
                session, volume, instance_uuid, host_name, mountpoint, mode)
            ident = attachment.id
        LOG.info("Attach volume completed successfully. (volume %s)", volume_id)
        await self.notifier.volume(volume_id, "attach.end", ctxt)
        return ident

    async def detach_volume(self, volume_id: str, attachment_id: str | None = None,
                            ctxt: Mapping[str, Any] | None = None) -> None:
        await self.notifier.volume(volume_id, "detach.start", ctxt)
        with self.service.db.session() as session:
            volume = self._volume(session, volume_id)
            self.service.attachments.detach(session, volume, attachment_id)
        LOG.info("Detach volume completed successfully. (volume %s)", volume_id)
        await self.notifier.volume(volume_id, "detach.end", ctxt)

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _volume(session: Session, volume_id: str) -> m.Volume:
        volume = session.get(m.Volume, volume_id)
        if volume is None:
            raise volume_not_found(volume_id)
        return volume

    def _connect(self, session: Session, volume: m.Volume,
                 connector: dict[str, Any]) -> dict[str, Any]:
        """The driver's export and connection, with the manager's options."""
        connections.validate_connector(self.backend, connector)
        volume_type = session.get(m.VolumeType, volume.volume_type_id)
        extra_specs = dict(volume_type.extra_specs) if volume_type is not None else {}
        qos_specs = None
        if volume_type is not None and volume_type.qos_specs_id is not None:
            qos = session.get(m.QosSpecs, volume_type.qos_specs_id)
            if qos is not None and qos.consumer in ("front-end", "both"):
                qos_specs = _per_gb(dict(qos.specs), volume.size)
        return connections.connection_info(self.backend, self._target_ip(), volume,
                                           connector, qos_specs, extra_specs)

    def _target_ip(self) -> str:
        # [DEFAULT] target_ip_address is my_ip: the node's management address.
        for node in self.service.topology.nodes.values():
            if node.fqdn == self.backend.node:
                return node.addresses.get("management") or next(
                    iter(node.addresses.values()), "127.0.0.1")
        return "127.0.0.1"


def _per_gb(specs: dict[str, Any], size: int) -> dict[str, Any]:
    """The manager's per-GB QoS limits, scaled to the volume's size (with min and max)."""
    for option in ("read_iops_sec", "read_bytes_sec", "write_iops_sec", "write_bytes_sec",
                   "total_iops_sec", "total_bytes_sec"):
        per_gb = f"{option}_per_gb"
        if per_gb in specs:
            minimum = int(specs.pop(f"{per_gb}_min", 0))
            value = max(minimum, int(specs.pop(per_gb)) * size)
            specs[option] = min(value, int(specs.pop(f"{option}_max", value)))
    return specs
