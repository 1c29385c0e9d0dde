"""``/v2/images``: images, their data, tags, actions."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response, StreamingResponse

from stacklab.api.errors import BadRequest, Conflict, Forbidden, NotFound, glance_internal_error
from stacklab.api.pagination import Glance
from stacklab.api.query import bool_param, int_param, timestamp_param
from stacklab.api.service import Call, Reply
from stacklab.api.validation import Schema, parse_json
from stacklab.image import patch, schemas
from stacklab.image.api.base import api, image_target, images, importer, render_image
from stacklab.image.api.tasks import render_image_task
from stacklab.image.rbdstore import StoreUnavailable

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
                                "OpenStack-image-import-methods":
                                    ",".join(importer(call).methods)})


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


_TIME_OPERATORS = ("gt", "gte", "eq", "neq", "lt", "lte")


def _time_filter(query: Any, name: str) -> tuple[str, float] | None:
    """glance's ``created_at``/``updated_at`` filters: ``[op:]time``, ``eq`` when none is said
    (what nova's old ``changes-since`` becomes: ``updated_at=gte:<time>``)."""
    raw = query.get(name)
    if raw is None:
        return None
    operator, _, value = raw.partition(":")
    if operator not in _TIME_OPERATORS:
        operator, value = "eq", raw
    moment = timestamp_param({name: value}, name)
    assert moment is not None
    return operator, moment


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
    for name in ("created_at", "updated_at"):
        filters[name] = _time_filter(query, name)
    reserved = {"limit", "marker", "sort_key", "sort_dir", "sort", "tag", "size_min",
                "size_max", "member_status", "protected", "os_hidden", *filters}
    filters["properties"] = {k: v for k, v in query.items() if k not in reserved}
    dialect = Glance(max_limit=service.options.api_limit_max,
                     default_limit=service.options.limit_param_default)
    request = dialect.request(query, _SORTABLE,
                              default_sort=(("created_at", "desc"), ("id", "desc")))
    with service.db.session() as session:
        page = service.list_page(session, call.context, filters, request, dialect)
        body: dict[str, Any] = {"images": [render_image(row[0]) for row in page.items],
                                "first": "/v2/images", "schema": "/v2/schemas/images"}
    body.update(dialect.links(page, query=query, url="/v2/images", collection="images",
                              id_of=_image_id))
    return body


def _image_id(row: Any) -> str:
    return str(row[0].id)


async def _no_image_id(call: Call) -> None:
    raise NotFound("The resource could not be found.")


# ``/v2/images/`` (an image id of "") matches none of glance's routes: 404 for any method,
# where stacklab's router would say 501 or 405. The body is never read.
for _method in ("GET", "DELETE", "PATCH", "PUT", "POST"):
    api.route(_method, "/v2/images/", stream_body=True)(_no_image_id)


@api.route("GET", "/v2/images/{image_id}")
async def get_image(call: Call) -> dict[str, Any]:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("get_image", image_target(image, call))
        return render_image(image)


@api.route("PATCH", "/v2/images/{image_id}", stream_body=True)
async def update_image(call: Call) -> dict[str, Any]:
    draft = patch.draft_of(call.headers.get("content-type", ""))
    changes = patch.read_changes(parse_json(await call.request.body()), draft,
                                 _FIELD_SCHEMAS, _EXTRA_SCHEMA)
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        for change in changes:
            if change.name == "visibility":
                _check_visibility_change(call, change.value)
        call.authorize("modify_image", image_target(image, call))
        service.patch(session, call.context, image, changes, draft)
        return render_image(image)


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
    imports = importer(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("modify_image", image_target(image, call))
        started = imports.start(session, call.context, image, call.body)
    await imports.run(started, call.context)


@api.route("GET", "/v2/images/{image_id}/tasks")
async def image_tasks(call: Call) -> dict[str, Any]:
    service = images(call)
    with service.db.session() as session:
        try:
            image = service.get(session, call.context, call.params["image_id"])
            call.authorize("get_image", image_target(image, call))
        except (NotFound, Forbidden):
            raise NotFound("The resource could not be found.") from None
        return {"tasks": [render_image_task(task) for task in
                          service.tasks.for_image(session, call.context, image.id)]}


@api.route("GET", "/v2/images/{image_id}/file")
async def download_image(call: Call) -> Response:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("download_image", image_target(image, call))
        if image.status == "deactivated" and not call.context.is_admin:
            raise Forbidden("The requested image has been deactivated. Image data download "
                            "is forbidden.")
        active = image.status in ("active", "deactivated")
        checksum, size = image.checksum, image.size
    try:
        if active:
            await service.store.ready(image.id)
        has_data = active and service.store.exists(image.id)
        # Read before answering: a store lost now is glance's 500, not a response cut.
        chunks = list(service.store.read(image.id)) if has_data else []
    except StoreUnavailable:
        # glance_store's BackendException reaches glance's wsgi layer unmapped: a 500.
        raise glance_internal_error("glance_store.exceptions.BackendException") from None
    if not has_data:
        return Response(status_code=204)
    headers = {"Content-Length": str(size)}
    if checksum:
        headers["Content-MD5"] = checksum
    return StreamingResponse(_each(chunks), media_type="application/octet-stream",
                             headers=headers)


async def _each(chunks: list[bytes]) -> AsyncIterator[bytes]:
    # An async iterator: Starlette walks a plain one in a worker thread, where the lab's
    # virtual clock cannot see it and jumps ahead to its next timer meanwhile.
    for chunk in chunks:
        yield chunk


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


@api.route("POST", "/v2/images/{image_id}/locations", status=202, schema=schemas.ADD_LOCATION)
async def add_location(call: Call) -> None:
    service = images(call)
    imports = importer(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        # glance refuses a non-queued image before it asks policy.
        if image.status != "queued":
            raise Conflict(f"It's not allowed to add locations if image status is "
                           f"{image.status}.")
        call.authorize("add_image_location", image_target(image, call))
        started = imports.start_location(session, call.context, image, call.body,
                                         service="service" in call.context.roles)
    await imports.run_location(started)


@api.route("GET", "/v2/images/{image_id}/locations")
async def get_locations(call: Call) -> list[dict[str, Any]]:
    service = images(call)
    with service.db.session() as session:
        image = service.get(session, call.context, call.params["image_id"])
        call.authorize("fetch_image_location", image_target(image, call))
        return [{"url": loc["url"], "metadata": loc.get("metadata", {})}
                for loc in image.locations]
