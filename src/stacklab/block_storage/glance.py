"""cinder's Image client: images through the Image API, never glance's tables or files.

An image a user names is looked up with that user's token (so only what the user may see
resolves, cinder's ``_image_uuid_from_ref``: by id, then by name); its bytes are read by
cinder-volume as the ``cinder`` service user (upstream reads them with the user's token;
the bus context carries none, as nova-compute's here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from stacklab.api.client import ServiceCallError, ServiceClient
from stacklab.api.errors import BadRequest, Conflict
from stacklab.block_storage.volumes import ImageInfo

# The keys of glance's image schema; every other key is an image property.
GLANCE_CORE = frozenset({
    "id", "name", "status", "visibility", "protected", "os_hidden", "owner", "size",
    "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_ram", "min_disk",
    "disk_format", "container_format", "created_at", "updated_at", "tags", "self", "file",
    "schema", "stores", "locations", "direct_url"})
BAD_IMAGE = "Invalid image identifier or unable to access requested image."


def image_info(image: dict[str, Any]) -> ImageInfo:
    return ImageInfo(id=str(image["id"]), name=image.get("name"),
                     status=str(image.get("status")), size=image.get("size"),
                     virtual_size=image.get("virtual_size"),
                     min_disk=int(image.get("min_disk") or 0),
                     properties=image)


def volume_image_metadata(image: dict[str, Any]) -> dict[str, str]:
    """What cinder copies from an image into volume_glance_metadata: a few of glance's
    own fields and every property, as text."""
    copied = {key: image.get(key) for key in ("checksum", "container_format", "disk_format",
                                              "min_disk", "min_ram", "size")}
    copied.update({"image_id": image.get("id"), "image_name": image.get("name")})
    copied.update({k: v for k, v in image.items() if k not in GLANCE_CORE})
    return {k: str(v) for k, v in copied.items() if v is not None}


class GlanceClient:
    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *,
                 username: str, password: str) -> None:
        self._http = ServiceClient(app, base_url, mount="/image", username=username,
                                   password=password)

    async def find(self, ref: str, token: str) -> ImageInfo:
        """The image a user named (an id, a URL ending in one, or a name)."""
        ident = ref.rstrip("/").split("/")[-1] if ref else ""
        if ident:
            try:
                return image_info(await self._http.json(
                    "GET", f"/v2/images/{quote(ident, safe='')}", token=token))
            except ServiceCallError:
                pass
        try:
            listed = await self._http.json("GET", "/v2/images", token=token,
                                           params={"name": ref})
        except ServiceCallError:
            raise BadRequest(BAD_IMAGE) from None
        images = (listed or {}).get("images", [])
        if len(images) > 1:
            raise Conflict(f"Multiple matches found for '{ref}', use an ID to be more "
                           "specific.")
        if not images:
            raise BadRequest(BAD_IMAGE)
        return image_info(images[0])

    async def show(self, image_id: str, token: str | None = None) -> dict[str, Any]:
        """The image (as the user of ``token`` sees it, when one is given)."""
        found = await self._http.json("GET", f"/v2/images/{quote(image_id, safe='')}",
                                      token=token)
        return dict(found or {})

    async def data(self, image_id: str) -> bytes:
        answer = await self._http.send("GET", f"/v2/images/{quote(image_id, safe='')}/file")
        return answer.content

    async def create(self, fields: dict[str, Any], token: str) -> dict[str, Any]:
        """A queued image record, made with the user's token (the image is theirs)."""
        made = await self._http.json("POST", "/v2/images", token=token, json=fields)
        return dict(made or {})

    async def upload(self, image_id: str, data: bytes) -> None:
        """An image's data (glance makes it active), as cinder's service user."""
        await self._http.send("PUT", f"/v2/images/{quote(image_id, safe='')}/file",
                              content=data,
                              headers={"Content-Type": "application/octet-stream"})

    async def delete(self, image_id: str) -> None:
        await self._http.send("DELETE", f"/v2/images/{quote(image_id, safe='')}")
