"""cinder's compute client (cinder/compute/nova.py): what cinder-volume tells nova.

After extending a volume that is attached, cinder-volume sends nova one
``volume-extended`` event per server the volume is attached to (the volume's id as
the tag) through nova's ``POST /os-server-external-events`` at microversion 2.51, as
the ``cinder`` service user; nova's compute then has the guest see the new size. nova's
refusal never fails the extend: the volume keeps its new size and cinder logs it. After
re-imaging a volume nova reserved, it sends ``volume-reimaged`` the same way (2.93).

Migrating an attached volume, cinder-volume asks nova to swap it for the new volume
(``PUT /servers/{id}/os-volume_attachments/{volume}``, novaclient's
``update_server_volume`` at 2.1); a refusal there fails the migration.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from stacklab.api.client import ServiceCallError, ServiceClient

LOG = logging.getLogger("cinder.compute.nova")

# The first compute microversions that accept ``volume-extended`` and ``volume-reimaged``,
# and the one cinder's novaclient asks for otherwise.
EXTEND_VERSION = "2.51"
REIMAGE_VERSION = "2.93"
BASE_VERSION = "2.1"


def volume_extended(server_uuid: str, volume_id: str) -> dict[str, str]:
    return {"name": "volume-extended", "server_uuid": server_uuid, "tag": volume_id}


def volume_reimaged(server_uuid: str, volume_id: str) -> dict[str, str]:
    return {"name": "volume-reimaged", "server_uuid": server_uuid, "tag": volume_id}


class NovaClient:
    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *, username: str,
                 password: str, project: str = "service") -> None:
        self._http = ServiceClient(app, base_url, mount="/compute", username=username,
                                   password=password, project=project)

    async def extend_volume(self, server_ids: Sequence[str], volume_id: str) -> bool:
        """Tell nova the volume grew; whether nova took every event."""
        return await self._send_events(
            [volume_extended(server, volume_id) for server in server_ids], EXTEND_VERSION)

    async def reimage_volume(self, server_ids: Sequence[str], volume_id: str) -> bool:
        """Tell nova the volume holds its new image; whether nova took every event."""
        return await self._send_events(
            [volume_reimaged(server, volume_id) for server in server_ids], REIMAGE_VERSION)

    async def update_server_volume(self, server_id: str, volume_id: str,
                                   new_volume_id: str) -> None:
        """Ask nova to swap the server's ``volume_id`` for ``new_volume_id`` (raises
        ``ServiceCallError`` when nova refuses)."""
        await self._http.json(
            "PUT", f"/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}",
            json={"volumeAttachment": {"volumeId": new_volume_id}},
            headers={"OpenStack-API-Version": f"compute {BASE_VERSION}"})

    async def _send_events(self, events: list[dict[str, str]], version: str) -> bool:
        if not events:
            return True
        try:
            answer = await self._http.json(
                "POST", "/v2.1/os-server-external-events", json={"events": events},
                headers={"OpenStack-API-Version": f"compute {version}"})
        except ServiceCallError as exc:
            if exc.status == 404:
                LOG.warning("Nova returned NotFound for events: %s.", events)
            else:
                LOG.error("Failed to notify nova on events: %s (%d).", events, exc.status)
            return False
        taken = [e for e in (answer or {}).get("events", []) if e.get("code") == 200]
        if len(taken) != len(events):
            LOG.warning("Nova did not take every event: %s.", (answer or {}).get("events"))
            return False
        return True
