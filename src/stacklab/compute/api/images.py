"""``/images`` and ``/images/{id}/metadata``: glance's images in nova's words, until 2.35 / 2.38.

nova checks no policy of its own here: glance decides, with the caller's token.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call
from stacklab.compute.api.base import api, compute
from stacklab.compute.glance import image_properties
from stacklab.compute.proxies import image_status

# nova's MAX_PROXY_API_SUPPORT_VERSION, and MAX_IMAGE_META_PROXY_API_VERSION.
PROXY_MAX = "2.35"
IMAGE_META_MAX = "2.38"
_IMAGES = "/v2.1/images"
_KEY = r"^[a-zA-Z0-9-_:. ]{1,255}$"
_ITEMS = {"type": "object", "patternProperties": {_KEY: {"type": "string", "maxLength": 255}},
          "additionalProperties": False}
_METADATA = {"type": "object", "required": ["metadata"], "additionalProperties": False,
             "properties": {"metadata": _ITEMS}}
_META = {"type": "object", "required": ["meta"], "additionalProperties": False,
         "properties": {"meta": {**_ITEMS, "minProperties": 1, "maxProperties": 1}}}


def _links(call: Call, image_id: str) -> list[dict[str, str]]:
    # The alternate link is glance's own URL for the image.
    glance = call.url_for("").rsplit("/compute", 1)[0] + "/image"
    return [{"rel": "self", "href": call.url_for(f"/v2.1/images/{image_id}")},
            {"rel": "bookmark", "href": call.url_for(f"/images/{image_id}")},
            {"rel": "alternate", "type": "application/vnd.openstack.image",
             "href": f"{glance}/images/{image_id}"}]


def _date(value: Any) -> Any:
    """glance's times with nova's isotime form (seconds and a Z, no fraction)."""
    if not isinstance(value, str):
        return value
    return value.split(".")[0].removesuffix("Z").removesuffix("+00:00") + "Z"


def _basic(call: Call, image: dict[str, Any]) -> dict[str, Any]:
    return {"id": image["id"], "name": image.get("name"), "links": _links(call, image["id"])}


def _detail(call: Call, image: dict[str, Any]) -> dict[str, Any]:
    status, progress = image_status(image)
    metadata = image_properties(image)
    body: dict[str, Any] = {
        "id": image["id"], "name": image.get("name"),
        "minRam": int(image.get("min_ram") or 0), "minDisk": int(image.get("min_disk") or 0),
        "metadata": metadata, "created": _date(image.get("created_at")),
        "updated": _date(image.get("updated_at")), "status": status, "progress": progress,
        "OS-EXT-IMG-SIZE:size": image.get("size"), "links": _links(call, image["id"])}
    server = metadata.get("instance_uuid")
    if server is not None:
        body["server"] = {"id": server, "links": [
            {"rel": "self", "href": call.url_for(f"/v2.1/servers/{server}")},
            {"rel": "bookmark", "href": call.url_for(f"/servers/{server}")}]}
    disk_config = metadata.get("auto_disk_config")
    if disk_config is not None:
        auto = str(disk_config).strip().lower() in ("1", "t", "true", "on", "y", "yes")
        body["OS-DCF:diskConfig"] = "AUTO" if auto else "MANUAL"
    return body


def _listing(call: Call, images: list[dict[str, Any]], detail: bool) -> dict[str, Any]:
    shown = [(_detail if detail else _basic)(call, image) for image in images]
    body: dict[str, Any] = {"images": shown}
    limit = call.query.get("limit")
    # nova's next link: a page as long as its limit may have more after it.
    if images and limit is not None and limit.isdigit() and len(images) == int(limit):
        collection = "images/detail" if detail else "images"
        query = "&".join(f"{k}={v}" for k, v in call.query.items() if k != "marker")
        body["images_links"] = [{"rel": "next", "href": call.url_for(
            f"/v2.1/{collection}?{query}&marker={images[-1]['id']}")}]
    return body


def _check_paging(call: Call) -> None:
    for name in ("limit", "offset", "page_size"):
        for value in call.query.getlist(name):
            if not value.isdigit():
                raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}. "
                                 f"'{value}' is not a 'positive_integer'")


@api.route("GET", _IMAGES, max_version=PROXY_MAX, expected_errors=400)
async def list_images(call: Call) -> dict[str, Any]:
    _check_paging(call)
    images = await compute(call).images.list(call.query, call.context)
    return _listing(call, images, detail=False)


@api.route("GET", f"{_IMAGES}/detail", max_version=PROXY_MAX, expected_errors=400)
async def list_images_detail(call: Call) -> dict[str, Any]:
    _check_paging(call)
    images = await compute(call).images.list(call.query, call.context)
    return _listing(call, images, detail=True)


@api.route("GET", f"{_IMAGES}/{{image_id}}", max_version=PROXY_MAX,
                   expected_errors=404)
async def show_image(call: Call) -> dict[str, Any]:
    image = await compute(call).images.get(call.params["image_id"], call.context)
    return {"image": _detail(call, image)}


@api.route("DELETE", f"{_IMAGES}/{{image_id}}", max_version=PROXY_MAX, status=204,
                   expected_errors=(403, 404))
async def delete_image(call: Call) -> None:
    await compute(call).images.delete(call.params["image_id"], call.context)


# -- metadata: the image's properties ------------------------------------------------------------


async def _image(call: Call) -> dict[str, Any]:
    return await compute(call).images.get(call.params["image_id"], call.context)


@api.route("GET", f"{_IMAGES}/{{image_id}}/metadata", max_version=IMAGE_META_MAX,
                   expected_errors=(403, 404))
async def list_image_metadata(call: Call) -> dict[str, Any]:
    return {"metadata": image_properties(await _image(call))}


@api.route("GET", f"{_IMAGES}/{{image_id}}/metadata/{{key}}",
                   max_version=IMAGE_META_MAX, expected_errors=(403, 404))
async def show_image_metadata(call: Call) -> dict[str, Any]:
    properties = image_properties(await _image(call))
    key = call.params["key"]
    if key not in properties:
        raise NotFound("The resource could not be found.")
    return {"meta": {key: properties[key]}}


@api.route("POST", f"{_IMAGES}/{{image_id}}/metadata", max_version=IMAGE_META_MAX,
                   schema=_METADATA, expected_errors=(400, 403, 404))
async def add_image_metadata(call: Call) -> dict[str, Any]:
    image = await _image(call)
    properties = {**image_properties(image), **call.body["metadata"]}
    changed = await compute(call).images.set_properties(image, properties, call.context)
    return {"metadata": image_properties(changed)}


@api.route("PUT", f"{_IMAGES}/{{image_id}}/metadata", max_version=IMAGE_META_MAX,
                   schema=_METADATA, expected_errors=(400, 403, 404))
async def replace_image_metadata(call: Call) -> dict[str, Any]:
    image = await _image(call)
    metadata = dict(call.body["metadata"])
    await compute(call).images.set_properties(image, metadata, call.context)
    return {"metadata": metadata}


@api.route("PUT", f"{_IMAGES}/{{image_id}}/metadata/{{key}}",
                   max_version=IMAGE_META_MAX, schema=_META, expected_errors=(400, 403, 404))
async def set_image_metadata(call: Call) -> dict[str, Any]:
    meta = dict(call.body["meta"])
    key = call.params["key"]
    if key not in meta:
        raise BadRequest("Request body and URI mismatch")
    image = await _image(call)
    properties = {**image_properties(image), key: meta[key]}
    await compute(call).images.set_properties(image, properties, call.context)
    return {"meta": meta}


@api.route("DELETE", f"{_IMAGES}/{{image_id}}/metadata/{{key}}",
                   max_version=IMAGE_META_MAX, status=204, expected_errors=(403, 404))
async def delete_image_metadata(call: Call) -> None:
    image = await _image(call)
    properties = image_properties(image)
    key = call.params["key"]
    if key not in properties:
        raise NotFound("Invalid metadata key")
    del properties[key]
    await compute(call).images.set_properties(image, properties, call.context)


# A blank id (``DELETE /images/``) names no image: nova's router finds nothing, 404. Declared
# so it is not taken for a path stacklab does not serve (501).
@api.route("DELETE", f"{_IMAGES}/", max_version=PROXY_MAX, expected_errors=404)
async def delete_blank_image(call: Call) -> None:
    raise NotFound("The resource could not be found.")
