"""nova's Image client: images for servers, over the Image API, as nova's ``[glance]`` does.

nova never opens glance's tables or files: it asks the Image API (here, the
cloud's own ASGI app, in process: the same request path, tokens, policy,
quotas and request ids as any client). What a user named (the image to boot
or rebuild from) is looked up with that user's own token, so it resolves only
among the images the user may see; a snapshot's record is created with the
user's token too, so the image is the user's project's. What nova-compute does
on its own afterwards (copying a server's disk into the snapshot, deleting a
shelved server's image) it does as the ``nova`` service user.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from stacklab.api.client import ServiceCallError, ServiceClient

LOG = logging.getLogger("nova.image.glance")

# The keys glance's image schema defines itself; every other key of an image is one of
# its properties (what nova's ImageMeta calls ``properties``: the scheduler reads them).
GLANCE_CORE = frozenset({
    "id", "name", "status", "visibility", "protected", "os_hidden", "owner", "size",
    "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_ram", "min_disk",
    "disk_format", "container_format", "created_at", "updated_at", "tags", "self", "file",
    "schema", "stores", "locations", "direct_url"})


def image_properties(image: Mapping[str, Any]) -> dict[str, Any]:
    """An image's properties, without glance's own keys."""
    return {k: v for k, v in image.items() if k not in GLANCE_CORE}


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value).encode()


class GlanceError(Exception):
    """An error the Image API answered (its status and glance's message)."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.message = str(body.get("message", body)) if isinstance(body, dict) else str(body)
        super().__init__(f"{status}: {self.message}")


class GlanceClient:
    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *, username: str,
                 password: str, project: str = "service") -> None:
        self._http = ServiceClient(app, base_url, mount="/image", username=username,
                                   password=password, project=project)

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            return await self._http.json(method, path, **kwargs)
        except ServiceCallError as exc:
            raise GlanceError(exc.status, exc.body) from None

    async def show(self, image_id: str, *, token: str | None = None) -> dict[str, Any]:
        """One image as glance shows it: with ``token``, only if that user may see it."""
        # The id is what a user typed: quoted whole, it names one image or none. A slash
        # (decoded again on the way in), "." or ".." would be read as more path: none of
        # them is any image's id.
        if "/" in image_id or image_id in ("", ".", ".."):
            raise GlanceError(404, {"message": f"No image found with ID {image_id}"})
        path = f"/v2/images/{quote(image_id, safe='')}"
        image: dict[str, Any] = await self._call("GET", path, token=token)
        return image

    async def list_images(self, params: Mapping[str, str], *, token: str) -> list[dict[str, Any]]:
        """The images ``token``'s user sees, filtered by glance's own query ``params``.

        glance pages its lists; nova's proxy asked for every page unless given a
        limit, and so does this.
        """
        wanted = dict(params)
        limit = int(wanted["limit"]) if wanted.get("limit", "").isdigit() else None
        found: list[dict[str, Any]] = []
        while True:
            page = await self._call("GET", "/v2/images", token=token, params=wanted)
            found.extend(page["images"])
            if limit is not None and len(found) >= limit:
                return found[:limit]
            if not page.get("next") or not page["images"]:
                return found
            wanted["marker"] = str(page["images"][-1]["id"])

    async def patch(self, image_id: str, changes: list[dict[str, Any]], *,
                    token: str) -> dict[str, Any]:
        """Change an image with a JSON patch, as the user ``token`` is."""
        answer = await self._call(
            "PATCH", f"/v2/images/{quote(image_id, safe='')}", token=token,
            content=_json_bytes(changes),
            headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
        image: dict[str, Any] = answer
        return image

    async def delete_as_user(self, image_id: str, *, token: str) -> None:
        """Delete an image as the user ``token`` is (glance's 403 and 404 pass)."""
        if "/" in image_id or image_id in ("", ".", ".."):
            raise GlanceError(404, {"message": f"No image found with ID {image_id}"})
        try:
            await self._http.send("DELETE", f"/v2/images/{quote(image_id, safe='')}",
                                  token=token)
        except ServiceCallError as exc:
            raise GlanceError(exc.status, exc.body) from None

    async def create(self, fields: Mapping[str, Any], *, token: str) -> dict[str, Any]:
        """A queued image record, created with the user's token (the image is theirs)."""
        image: dict[str, Any] = await self._call("POST", "/v2/images", token=token,
                                                 json=dict(fields))
        return image

    async def list(self, filters: Mapping[str, str], *, token: str | None = None,
                   sort_key: str = "created_at", sort_dir: str = "desc") -> list[dict[str, Any]]:
        """Images matching ``filters`` (glance's own fields or properties), every page."""
        params: dict[str, str] = {**filters, "sort_key": sort_key, "sort_dir": sort_dir}
        images: list[dict[str, Any]] = []
        while True:
            page = await self._call("GET", "/v2/images", token=token, params=params)
            images.extend(page["images"])
            if not page.get("next") or not page["images"]:
                return images
            params = {**params, "marker": str(page["images"][-1]["id"])}

    async def download(self, image_id: str) -> bytes:
        """An image's data; none when it has none (glance's 204) or is gone."""
        try:
            answer = await self._http.send("GET", f"/v2/images/{image_id}/file")
        except ServiceCallError as exc:
            if exc.status == 404:
                return b""
            raise GlanceError(exc.status, exc.body) from None
        return answer.content

    async def upload(self, image_id: str, data: bytes) -> bool:
        """Give a queued image its data (glance makes it active); False when it is gone.

        An image deleted, or no longer queued, while the server's disk was being
        copied is nova's "image not found during snapshot": logged, not fatal.
        """
        try:
            await self._http.send("PUT", f"/v2/images/{image_id}/file", content=data,
                                  headers={"Content-Type": "application/octet-stream"})
        except ServiceCallError as exc:
            if exc.status in (404, 409):
                LOG.warning("Image %s disappeared or changed during the snapshot upload: %s",
                            image_id, GlanceError(exc.status, exc.body).message)
                return False
            raise GlanceError(exc.status, exc.body) from None
        return True

    async def delete(self, image_id: str) -> None:
        """Delete an image nova made (a shelved server's); one already gone is fine."""
        try:
            await self._http.send("DELETE", f"/v2/images/{image_id}")
        except ServiceCallError as exc:
            if exc.status != 404:
                raise GlanceError(exc.status, exc.body) from None
            LOG.info("Image %s was already deleted", image_id)
