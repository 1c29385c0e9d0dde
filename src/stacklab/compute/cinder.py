"""nova's Block Storage client: volumes for servers, over the Block Storage API.

As with glance and neutron, nova never opens cinder's tables: it asks the
Block Storage API (the cloud's own ASGI app, in process: the same request
path, tokens, policy and quotas as any client). Every call made for a user's
request carries that user's token, so the user's own project owns the
volumes nova creates for a boot from volume and counts them against its
cinder quotas; with it goes the ``nova`` service user's token
(``X-Service-Token``), as nova sends with ``[service_user]
send_service_user_token``. What nova does with no user at hand (a reclaim of
a soft-deleted server) it does as the ``nova`` service user alone.

The attachments are cinder's new attach flow (3.27, completed at 3.44): an
attachment is created for the server (the volume ``reserved``), the compute
host updates it with its connector (cinder exports the volume and answers the
connection info), then marks it complete (the volume ``in-use``); a detach
deletes it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from stacklab.api.client import ServiceCallError, ServiceClient

LOG = logging.getLogger("nova.volume.cinder")

# nova asks for 3.44 for the attachment calls (``attachment_complete`` is 3.44), 3.68 for
# a reimage (``os-reimage``), the base version for the rest.
ATTACHMENTS_VERSION = "3.44"
REIMAGE_VERSION = "3.68"
BASE_VERSION = "3.0"


class CinderError(Exception):
    """An error the Block Storage API answered (its status and cinder's message)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.message = _message(body)
        super().__init__(f"{status}: {self.message}")


def _message(body: Any) -> str:
    """cinder's faults are ``{"badRequest": {"message": ..., "code": 400}}``."""
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        if "message" in body:
            return str(body["message"])
    return str(body)


def _safe(ident: str) -> str:
    """An id a user typed, quoted whole, so it names one resource or none."""
    if "/" in ident or ident in ("", ".", ".."):
        raise CinderError(404, {"itemNotFound": {"message": f"{ident} could not be found."}})
    return quote(ident, safe="")


class CinderClient:
    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *, username: str,
                 password: str, project: str = "service") -> None:
        self._http = ServiceClient(app, base_url, mount="/volume", username=username,
                                   password=password, project=project)

    async def _call(self, method: str, path: str, *, token: str | None,
                    version: str = BASE_VERSION, json: Any = None) -> Any:
        try:
            return await self._http.json(
                method, f"/v3{path}", token=token or None, json=json,
                headers={"OpenStack-API-Version": f"volume {version}"},
                service_token=bool(token))
        except ServiceCallError as exc:
            raise CinderError(exc.status, exc.body) from None

    # -- volumes and snapshots --------------------------------------------------------------

    async def get(self, volume_id: str, *, token: str | None) -> dict[str, Any]:
        volume: dict[str, Any] = (await self._call(
            "GET", f"/volumes/{_safe(volume_id)}", token=token))["volume"]
        return volume

    async def get_snapshot(self, snapshot_id: str, *, token: str | None) -> dict[str, Any]:
        snapshot: dict[str, Any] = (await self._call(
            "GET", f"/snapshots/{_safe(snapshot_id)}", token=token))["snapshot"]
        return snapshot

    async def create_snapshot_force(self, volume_id: str, name: str, description: str | None,
                                    *, token: str | None) -> dict[str, Any]:
        """A snapshot of a volume that may be in use (a volume-backed server's createImage)."""
        snapshot: dict[str, Any] = (await self._call(
            "POST", "/snapshots", token=token, json={"snapshot": {
                "volume_id": volume_id, "force": True, "name": name,
                "description": description}}))["snapshot"]
        return snapshot

    async def absolute_limits(self, *, token: str | None) -> dict[str, Any]:
        limits: dict[str, Any] = (await self._call("GET", "/limits", token=token))[
            "limits"]["absolute"]
        return limits

    async def create(self, fields: Mapping[str, Any], *, token: str | None) -> dict[str, Any]:
        """A new volume (``creating``): from an image, a snapshot, or blank."""
        body = {k: v for k, v in fields.items() if v is not None}
        volume: dict[str, Any] = (await self._call(
            "POST", "/volumes", token=token, json={"volume": body}))["volume"]
        return volume

    async def delete(self, volume_id: str, *, token: str | None) -> None:
        """Delete a volume; one already gone is fine (nova logs it and goes on)."""
        try:
            await self._call("DELETE", f"/volumes/{_safe(volume_id)}", token=token)
        except CinderError as exc:
            if exc.status != 404:
                raise
            LOG.info("Volume %s was already deleted", volume_id)

    async def list_volumes(self, *, token: str | None) -> list[dict[str, Any]]:
        """The caller's volumes, in detail (cinderclient's ``volumes.list()``)."""
        found = await self._call("GET", "/volumes/detail", token=token)
        return list(found["volumes"])

    async def delete_strict(self, volume_id: str, *, token: str | None) -> None:
        """Delete a volume for a user who asked (its 400 and 404 are the user's)."""
        await self._call("DELETE", f"/volumes/{_safe(volume_id)}", token=token)

    async def list_snapshots(self, *, token: str | None) -> list[dict[str, Any]]:
        found = await self._call("GET", "/snapshots/detail", token=token)
        return list(found["snapshots"])

    async def create_snapshot(self, volume_id: str, name: str | None,
                              description: str | None, *, force: bool,
                              token: str | None) -> dict[str, Any]:
        body = {"volume_id": volume_id, "force": force, "name": name,
                "description": description}
        made: dict[str, Any] = (await self._call(
            "POST", "/snapshots", token=token, json={"snapshot": body}))["snapshot"]
        return made

    async def delete_snapshot(self, snapshot_id: str, *, token: str | None) -> None:
        await self._call("DELETE", f"/snapshots/{_safe(snapshot_id)}", token=token)

    async def update_snapshot_status(self, snapshot_id: str, status: str, *,
                                     token: str | None) -> None:
        """What nova's assisted snapshots report back (os-update_snapshot_status)."""
        await self._call("POST", f"/snapshots/{_safe(snapshot_id)}/action", token=token,
                         json={"os-update_snapshot_status": {"status": status}})

    async def begin_detaching(self, volume_id: str, *, token: str | None) -> None:
        """The volume ``detaching`` while its compute host lets it go (a legacy action)."""
        await self._call("POST", f"/volumes/{_safe(volume_id)}/action", token=token,
                         json={"os-begin_detaching": {}})

    async def roll_detaching(self, volume_id: str, *, token: str | None) -> None:
        """A detach that will not happen: the volume ``in-use`` again."""
        await self._call("POST", f"/volumes/{_safe(volume_id)}/action", token=token,
                         json={"os-roll_detaching": {}})

    async def migrate_volume_completion(self, old_volume_id: str, new_volume_id: str, *,
                                        error: bool, token: str | None) -> str:
        """The end of a swap cinder asked for: the id the mapping keeps."""
        answer = await self._call(
            "POST", f"/volumes/{_safe(old_volume_id)}/action", token=token,
            json={"os-migrate_volume_completion": {"new_volume": new_volume_id,
                                                   "error": error}})
        return str(answer["save_volume_id"])

    async def reimage(self, volume_id: str, image_id: str, *, reimage_reserved: bool,
                      token: str | None) -> None:
        """The volume written anew from an image (cinder answers at once; it says when it is
        done with a ``volume-reimaged`` event)."""
        await self._call("POST", f"/volumes/{_safe(volume_id)}/action", token=token,
                         version=REIMAGE_VERSION,
                         json={"os-reimage": {"image_id": image_id,
                                              "reimage_reserved": reimage_reserved}})

    # -- attachments ---------------------------------------------------------------------------

    async def attachment_get(self, attachment_id: str, *, token: str | None) -> dict[str, Any]:
        attachment: dict[str, Any] = (await self._call(
            "GET", f"/attachments/{_safe(attachment_id)}", token=token,
            version=ATTACHMENTS_VERSION))["attachment"]
        return attachment

    async def attachment_create(self, volume_id: str, instance_uuid: str, *,
                                token: str | None,
                                connector: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """An attachment of the volume to the server: ``reserved`` without a connector."""
        body: dict[str, Any] = {"volume_uuid": volume_id, "instance_uuid": instance_uuid}
        if connector is not None:
            body["connector"] = dict(connector)
        attachment: dict[str, Any] = (await self._call(
            "POST", "/attachments", token=token, version=ATTACHMENTS_VERSION,
            json={"attachment": body}))["attachment"]
        return attachment

    async def attachment_update(self, attachment_id: str, connector: Mapping[str, Any], *,
                                token: str | None) -> dict[str, Any]:
        """The compute host's connector given: cinder answers the connection info."""
        attachment: dict[str, Any] = (await self._call(
            "PUT", f"/attachments/{_safe(attachment_id)}", token=token,
            version=ATTACHMENTS_VERSION,
            json={"attachment": {"connector": dict(connector)}}))["attachment"]
        return attachment

    async def attachment_complete(self, attachment_id: str, *, token: str | None) -> None:
        """The host is connected: cinder marks the volume ``in-use``."""
        await self._call("POST", f"/attachments/{_safe(attachment_id)}/action", token=token,
                         version=ATTACHMENTS_VERSION, json={"os-complete": {}})

    async def attachment_delete(self, attachment_id: str, *, token: str | None) -> None:
        """The attachment gone (the volume ``available`` once it has none); nova only logs
        an attachment already gone."""
        try:
            await self._call("DELETE", f"/attachments/{_safe(attachment_id)}", token=token,
                             version=ATTACHMENTS_VERSION)
        except CinderError as exc:
            if exc.status != 404:
                raise
            LOG.warning("Attachment %s does not exist. Ignoring.", attachment_id)
