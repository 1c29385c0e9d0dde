"""``/v2/images``: images, their data, tags, actions."""

from __future__ import annotations

import csv
from typing import Any

from starlette.responses import Response, StreamingResponse

from stacklab.api.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    UnsupportedMediaType,
)
from stacklab.api.pagination import Glance, page_items
from stacklab.api.query import bool_param, int_param
from stacklab.api.service import Call, Reply
from stacklab.api.validation import Schema, parse_json
from stacklab.image import schemas
from stacklab.image.api.base import api, image_target, images, render_image
from stacklab.image.service import CORE

_PATCH_TYPES = ("application/openstack-images-v2.1-json-patch",
                "application/openstack-images-v2.0-json-patch")
_SORTABLE = ("name", "status", "container_format", "disk_format", "size", "id", "created_at",
             "updated_at", "visibility", "owner", "min_ram", "min_disk")
_FIELD_SCHEMAS = {name: Schema(sub) for name, sub in schemas.WRITABLE.items()}
_EXTRA_SCHEMA = Schema({"type": "string"})


def _check_visibility_change(call: Call, visibility: str | None) -> None:
    if visibility == "public":
        call.authorize("publicize_image", call.default_target())
    elif visibility == "community":
        call.authorize("communitize_image", call.default_target())


@api.route("POST", "/v2/images", status=201, schema=schemas.IMAGE_CREATE)
async def create_image(call: Call) -> Reply:
    fields = call.body
    call.authorize("add_image", {"project_id": fields.get("owner") or call.context.project_id,
                                 "owner": fields.get("owner") or call.context.project_id,
                                 "visibility": fields.get("visibility", "shared")})
    _check_visibility_change(call, fields.get("visibility"))
    service = images(call)
    with service.db.session() as session:
        image = service.create(session, call.context, fields)
        body = render_image(image)
    # glance names the import methods it offers on the answer to a create.
    return Reply(body, headers={"Location": call.url_for(f"/v2/images/{body['id']}"),
                                "OpenStack-image-import-methods": "glance-direct"})


def _operator_value(raw: str | None) -> str | list[str] | None:
    """glance's ``eq:value`` and ``in:a,b,"c,d"`` filter forms (a list stands for ``in``)."""
    if raw is None:
        return None
    if raw.startswith("eq:"):
        return raw[3:]
    if not raw.startswith("in:"):
        return raw
    values = next(csv.reader([raw[3:]], skipinitialspace=True), [])
    if not values or any(not v for v in values):
        raise BadRequest(f"Invalid filter value {raw}. The quote is not closed or the "
                         "list has an empty value.")
    return values


@api.route("GET", "/v2/images")
async def list_images(call: Call) -> dict[str, Any]:
    call.authorize("get_images", call.default_target())
    service = images(call)
    query = call.query
    filters: dict[str, Any] = {k: query.get(k) for k in (
        "name", "status", "owner", "disk_format", "container_format", "visibility",
        "member_status")}
    filters["id"] = query.get("id")
    for name in ("id", "name", "status", "disk_format", "container_format"):
        filters[name] = _operator_value(filters[name])
    filters["member_status"] = filters["member_status"] or "accepted"
    filters["tag"] = query.getlist("tag")
    for name in ("protected", "os_hidden"):
        filters[name] = bool_param(query, name)
    for name in ("size_min", "size_max"):
        filters[name] = int_param(query, name)
    reserved = {"limit", "marker", "sort_key", "sort_dir", "sort", "tag", "size_min",
                "size_max", "member_status", "protected", "os_hidden", *filters}
    filters["properties"] = {k: v for k, v in query.items() if k not in reserved}
    dialect = Glance(max_limit=service.options.api_limit_max,
                     default_limit=service.options.limit_param_default)
    request = dialect.request(query, _SORTABLE,
                              default_sort=(("created_at", "desc"), ("id", "desc")))
    with service.db.session() as session:
        rendered = [render_image(i) for i in service.list_images(session, call.context, filters)]
    page = page_items(rendered, request, dialect, id_of=_image_id)
    body: dict[str, Any] = {"images": page.items, "first": "/v2/images",
                            "schema": "/v2/schemas/images"}
    body.update(dialect.links(page, query=query, url="/v2/images", collection="images",
                              id_of=_image_id))
    return body


def _image_id(image: dict[str, Any]) -> str:
    return str(image["id"])


@api.route("GET", "/v2/images/{image_id}")
async def get_image(call: Call) -> dict[str, Any]:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("get_image", image_target(image, call))
        return render_image(image)


@api.route("GET", "/v2/images/{image_id}/tasks")
async def get_image_tasks(call: Call) -> dict[str, Any]:
    """The image's import tasks (glance 2.12), for who may see the image.

    stacklab imports and uploads without tasks, so the list is empty; clients that
    wait for an image's tasks to succeed (Tempest after a snapshot) go on at once.
    """
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("get_image", image_target(image, call))
    return {"tasks": []}


@api.route("PATCH", "/v2/images/{image_id}", stream_body=True)
async def update_image(call: Call) -> dict[str, Any]:
    content_type = call.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in _PATCH_TYPES:
        raise UnsupportedMediaType(f"Invalid media type {content_type!r}: use "
                                   f"{_PATCH_TYPES[0]}")
    operations = parse_json(await call.request.body())
    changes, removed = _read_patch(operations)
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("modify_image", image_target(image, call))
        if "visibility" in changes and changes["visibility"] != image.visibility:
            _check_visibility_change(call, changes["visibility"])
        for name, value in list(changes.items()):
            if name == "tags_add":
                changes.pop(name)
                changes["tags"] = [*image.tags, value]
        service.update(session, image, changes, removed)
        return render_image(image)


def _read_patch(operations: Any) -> tuple[dict[str, Any], set[str]]:
    """Turn a glance JSON patch into (changes, removed property names)."""
    if not isinstance(operations, list):
        raise BadRequest("Request body must be a JSON array of operation objects.")
    changes: dict[str, Any] = {}
    removed: set[str] = set()
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise BadRequest("Operations must be JSON objects with 'op' and 'path'.")
        op, path = operation["op"], operation["path"]
        if op not in ("add", "replace", "remove"):
            raise BadRequest(f"Unsupported JSON patch operation: {op!r}")
        if not isinstance(path, str) or not path.startswith("/") or path.count("/") > 2:
            raise BadRequest(f"Invalid JSON pointer for this resource: {path!r}")
        name = path[1:].replace("~1", "/").replace("~0", "~")
        if path.startswith("/tags/"):
            if op == "add":
                changes["tags_add"] = path[len("/tags/"):]
                continue
            raise BadRequest(f"Invalid JSON pointer for this resource: {path!r}")
        if "/" in name:
            raise BadRequest(f"Invalid JSON pointer for this resource: {path!r}")
        if op == "remove":
            removed.add(name)
            continue
        if "value" not in operation:
            raise BadRequest(f"Operation {op} on {path} needs a 'value'.")
        value = operation["value"]
        schema = _FIELD_SCHEMAS.get(name) if name in CORE else _EXTRA_SCHEMA
        if schema is not None:
            try:
                schema.validate(value)
            except BadRequest as error:
                raise BadRequest(f"Invalid value for '{name}': "
                                 f"{error.message.split(': ', 1)[-1]}") from None
        changes[name] = value
    return changes, removed


@api.route("DELETE", "/v2/images/{image_id}", status=204)
async def delete_image(call: Call) -> None:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("delete_image", image_target(image, call))
        service.delete(session, image)


@api.route("PUT", "/v2/images/{image_id}/file", status=204, stream_body=True)
async def upload_image(call: Call) -> None:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("upload_image", image_target(image, call))
    await service.upload(image.id, call.context, call.request.stream())


@api.route("PUT", "/v2/images/{image_id}/stage", status=204, stream_body=True)
async def stage_image(call: Call) -> None:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("upload_image", image_target(image, call))
    await service.upload(image.id, call.context, call.request.stream(), staged=True)


@api.route("POST", "/v2/images/{image_id}/import", status=202, schema=schemas.IMPORT)
async def import_image(call: Call) -> None:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("modify_image", image_target(image, call))
        service.import_staged(session, image, call.body["method"]["name"])


@api.route("GET", "/v2/images/{image_id}/file")
async def download_image(call: Call) -> Response:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("download_image", image_target(image, call))
        if image.status == "deactivated" and not call.context.is_admin:
            raise Forbidden("The requested image has been deactivated. Image data download "
                            "is forbidden.")
        has_data = image.status in ("active", "deactivated") and service.store.exists(image.id)
        checksum, size = image.checksum, image.size
    if not has_data:
        return Response(status_code=204)
    headers = {"Content-Length": str(size)}
    if checksum:
        headers["Content-MD5"] = checksum
    return StreamingResponse(service.store.read(call.params["image_id"]),
                             media_type="application/octet-stream", headers=headers)


@api.route("POST", "/v2/images/{image_id}/actions/deactivate", status=204, body_optional=True)
async def deactivate_image(call: Call) -> None:
    await _set_active(call, "deactivate", active=False)


@api.route("POST", "/v2/images/{image_id}/actions/reactivate", status=204, body_optional=True)
async def reactivate_image(call: Call) -> None:
    await _set_active(call, "reactivate", active=True)


async def _set_active(call: Call, rule: str, *, active: bool) -> None:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize(rule, image_target(image, call))
        allowed_from = ("active", "deactivated")
        if image.status not in allowed_from:
            raise Conflict(f"Not allowed to {rule} an image in status '{image.status}'")
        service.set_status(session, image, "active" if active else "deactivated")


@api.route("PUT", "/v2/images/{image_id}/tags/{tag}", status=204, body_optional=True)
async def add_tag(call: Call) -> None:
    await _change_tags(call, add=True)


@api.route("DELETE", "/v2/images/{image_id}/tags/{tag}", status=204)
async def remove_tag(call: Call) -> None:
    await _change_tags(call, add=False)


async def _change_tags(call: Call, *, add: bool) -> None:
    tag = call.params["tag"]
    if len(tag) > 255:
        raise BadRequest("Image tag is too long: at most 255 characters.")
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("modify_image", image_target(image, call))
        if add:
            tags = [*image.tags, tag]
        else:
            if tag not in image.tags:
                raise NotFound(f"Tag {tag} not found on image {image.id}.")
            tags = [t for t in image.tags if t != tag]
        service.update(session, image, {"tags": tags}, set())
