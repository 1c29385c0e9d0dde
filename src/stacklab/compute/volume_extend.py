"""nova-compute's side of cinder's ``volume-extended`` event (nova's ``extend_volume``).

cinder extended a volume attached to a server on this host: the server's mapping of
it takes the volume's new size, read from cinder, and the hypervisor has the guest see
it (libvirt resizes the block device; the simulated guest logs the capacity change).
A volume not attached to the server, or one not connected yet (nova: no
connection_info), is logged and left alone, as nova does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stacklab.compute.volumes import mapping_view

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.manager")


@dataclass(frozen=True)
class Grown:
    device: str | None
    old_gb: int | None
    new_gb: int


async def extend_attached(service: ComputeService, instance_uuid: str,
                          volume_id: str | None) -> Grown | None:
    """The mapping's new size (raises ``CinderError`` when cinder cannot show the volume)."""
    volumes = service.volumes
    with service.db.session() as session:
        bdm = volumes.find(session, instance_uuid, volume_id or "")
        view = mapping_view(bdm) if bdm is not None else None
    if view is None:
        LOG.warning("[instance: %s] Extend volume failed, volume %s is not attached to "
                    "instance.", instance_uuid, volume_id)
        return None
    if not view["attachment_id"]:
        LOG.warning("[instance: %s] Extend volume failed, attached volume %s has no "
                    "connection_info", instance_uuid, volume_id)
        return None
    LOG.info("[instance: %s] Cinder extended volume %s; extending it to detect new size",
             instance_uuid, volume_id)
    volume = await volumes.cinder().get(str(volume_id), token=None)
    new_gb = int(volume["size"])
    volumes.update(view["uuid"], volume_size=new_gb)
    return Grown(view["device_name"], view["volume_size"], new_gb)
