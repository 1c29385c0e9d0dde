"""Rebuilding a volume-backed server with an image (2.93, nova's
``_rebuild_volume_backed_instance``): cinder writes the image onto the root volume.

nova-compute, the server's volumes reserved anew for it (no host), asks cinder to re-image
the root volume (``os-reimage`` at 3.68 with ``reimage_reserved``: the volume goes
``downloading``, then ``reserved`` again) and waits for cinder's ``volume-reimaged`` event,
at most ``[DEFAULT] reimage_timeout_per_gb`` seconds a GB of the image. Then the rebuild
connects the volumes as any rebuild does. A refusal, a failed event or the timeout aborts
the rebuild (the server in ERROR).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stacklab.compute.agents.events import InstanceEvents
from stacklab.compute.cinder import CinderError
from stacklab.compute.glance import GlanceError

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

LOG = logging.getLogger("nova.compute.manager")
REIMAGED = "volume-reimaged"
GIB = 1024 ** 3


def root_volume(service: ComputeService, instance_uuid: str) -> str | None:
    """The volume the server boots from, if it is volume-backed."""
    for bdm in service.volumes.moving(instance_uuid):
        if bdm["boot_index"] == 0:
            return str(bdm["volume_id"])
    return None


async def reimage_root(service: ComputeService, events: InstanceEvents, instance_uuid: str,
                       image_id: str, ctxt: Mapping[str, Any]) -> str | None:
    """Have cinder write ``image_id`` onto the server's root volume and wait until it says
    it did; why it did not (None once it did, or for a server not volume-backed)."""
    volume_id = root_volume(service, instance_uuid)
    if volume_id is None or service.glance is None:
        return None
    token = ctxt.get("auth_token") or None
    try:
        image = await service.glance.show(image_id, token=token)
    except GlanceError as exc:
        LOG.error("Image %s not found.", image_id)
        return exc.message
    # nova's timeout is per GB of the image; a size-0 image (a volume-backed server's
    # snapshot) would give no time at all, so it counts as one GB here.
    size_gb = max(1, math.ceil(float(image.get("size") or 0) / GIB))
    timeout = service.reimage_timeout_per_gb * size_gb
    events.expect(instance_uuid)
    try:
        await service.volumes.cinder().reimage(volume_id, image_id, reimage_reserved=True,
                                               token=token)
        outcome = await events.wait(instance_uuid, [(REIMAGED, volume_id)], timeout,
                                    fatal=True)
    except CinderError as exc:
        LOG.error("[instance: %s] Failed to rebuild volume backed instance: %s",
                  instance_uuid, exc.message)
        return exc.message
    finally:
        events.forget(instance_uuid)
    if outcome.failed:
        LOG.error("Cinder reported failure during reimaging with %s for instance %s",
                  REIMAGED, instance_uuid)
        return f"Cinder reported failure during reimaging with {REIMAGED}"
    if outcome.missing:
        LOG.error("[instance: %s] Failed to rebuild volume backed instance: timed out "
                  "after %s seconds waiting for %s-%s", instance_uuid, timeout, REIMAGED,
                  volume_id)
        return f"Timeout waiting for {REIMAGED}"
    return None
