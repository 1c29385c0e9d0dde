"""``/v2/tasks``: glance's deprecated tasks API (admin-only by ``tasks_api_access``), and
how a task is shown there and under ``/v2/images/{id}/tasks``."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from stacklab.api.errors import BadRequest, MethodNotAllowed
from stacklab.api.pagination import Glance
from stacklab.api.service import Call, Reply
from stacklab.api.validation import Schema
from stacklab.clock import isotime
from stacklab.image import models as m
from stacklab.image.api.base import api, images, importer
from stacklab.image.tasks import STATUSES, TYPES

_SORTABLE = ("created_at", "updated_at", "id", "status", "type", "owner", "expires_at")

_TASK_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "description": "An identifier for the task",
           "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}"
                      "-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
    "type": {"type": "string", "enum": list(TYPES),
             "description": "The type of task represented by this content"},
    "status": {"type": "string", "enum": list(STATUSES),
               "description": "The current status of this task"},
    "input": {"type": ["null", "object"], "description": "The parameters required by task"},
    "result": {"type": ["null", "object"], "description": "The result of current task"},
    "owner": {"type": ["null", "string"], "description": "An identifier for the owner of "
                                                         "this task"},
    "message": {"type": "string", "description": "Human-readable informative message "
                                                 "only included when appropriate"},
    "image_id": {"type": "string", "description": "Image associated with the task"},
    "request_id": {"type": "string", "description": "Request ID of the task's request"},
    "user_id": {"type": "string", "description": "User associated with the task"},
    "expires_at": {"type": ["null", "string"],
                   "description": "When the task is no longer shown"},
    "created_at": {"type": "string", "description": "Date and time of task creation"},
    "updated_at": {"type": "string", "description": "Date and time of the last task "
                                                    "modification"},
    "self": {"type": "string", "readOnly": True},
    "schema": {"type": "string", "readOnly": True},
}
TASK_CREATE: dict[str, Any] = {
    "type": "object", "required": ["type", "input"],
    "properties": {"type": _TASK_PROPERTIES["type"],
                   "input": {"type": "object"}},
}
_CREATE = Schema(TASK_CREATE)


def render_task(task: m.ImageTask) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": task.id, "input": task.input, "type": task.type, "status": task.status,
        "owner": task.owner, "message": task.message, "result": task.result,
        "created_at": isotime(task.created_at), "updated_at": isotime(task.updated_at),
        "self": f"/v2/tasks/{task.id}", "schema": "/v2/schemas/task",
    }
    for name in ("image_id", "request_id", "user_id"):
        if getattr(task, name):
            body[name] = getattr(task, name)
    if task.expires_at is not None:
        body["expires_at"] = isotime(task.expires_at)
    return body


def _render_stub(task: m.ImageTask) -> dict[str, Any]:
    body = {k: v for k, v in render_task(task).items()
            if k in ("id", "type", "status", "owner", "created_at", "updated_at", "self",
                     "schema", "expires_at")}
    return body


def render_image_task(task: m.ImageTask) -> dict[str, Any]:
    """A task as ``GET /v2/images/{id}/tasks`` shows it: glance's database record."""
    stamp = isotime
    return {
        "id": task.id, "type": task.type, "status": task.status, "owner": task.owner,
        "expires_at": stamp(task.expires_at) if task.expires_at is not None else None,
        "created_at": stamp(task.created_at), "updated_at": stamp(task.updated_at),
        "deleted_at": None, "deleted": False, "image_id": task.image_id,
        "request_id": task.request_id, "user_id": task.user_id, "input": task.input,
        "result": task.result, "message": task.message,
    }


@api.route("GET", "/v2/schemas/task")
async def task_schema(call: Call) -> dict[str, Any]:
    return {"name": "task", "properties": _TASK_PROPERTIES,
            "links": [{"rel": "self", "href": "{self}"},
                      {"rel": "describedby", "href": "{schema}"}]}


@api.route("GET", "/v2/schemas/tasks")
async def tasks_schema(call: Call) -> dict[str, Any]:
    return {"name": "tasks",
            "properties": {"tasks": {"type": "array", "items": {
                # A listed task leaves out what only its own page shows, as glance's.
                "name": "task", "properties": {
                    k: v for k, v in _TASK_PROPERTIES.items()
                    if k not in ("input", "result", "message")}}},
                "schema": {"type": "string"}, "first": {"type": "string"},
                "next": {"type": "string"}},
            "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                      {"rel": "describedby", "href": "{schema}"}]}


@api.route("POST", "/v2/tasks", status=201)
async def create_task(call: Call) -> Reply:
    call.authorize("tasks_api_access", call.default_target())
    body = call.body
    if not isinstance(body, dict):
        raise BadRequest("Body expected in request.")
    for name in ("type", "input"):
        if name not in body:
            raise BadRequest(f"Task '{name}' is required")
    _CREATE.validate(body)
    if body["type"] != "import":
        raise BadRequest(f"Task type {body['type']} cannot be created through the tasks API.")
    imports = importer(call)
    task_input = body["input"]
    imports.check_legacy_source(task_input.get("import_from"))
    properties = task_input.get("image_properties") or {}
    if not isinstance(properties, dict):
        raise BadRequest("Task input 'image_properties' must be an object.")
    owner = properties.get("owner") or call.context.project_id
    call.authorize("add_image", {"project_id": owner, "owner": owner,
                                 "visibility": properties.get("visibility", "shared")})
    if properties.get("visibility") in ("public", "community"):
        call.authorize("publicize_image" if properties["visibility"] == "public"
                       else "communitize_image", call.default_target())
    service = images(call)
    with service.db.session() as session:
        task = service.tasks.create(session, call.context, "import", task_input)
        rendered = render_task(task)
    # glance answers with the pending task and imports in the background; stacklab's
    # import of a loopback source is done before the answer (which still says pending).
    await imports.run_legacy(rendered["id"], call.context)
    return Reply(rendered, headers={"Location": rendered["self"]})


@api.route("GET", "/v2/tasks")
async def list_tasks(call: Call) -> dict[str, Any]:
    call.authorize("tasks_api_access", call.default_target())
    query = call.query
    status, task_type = query.get("status"), query.get("type")
    if status and status not in STATUSES:
        raise BadRequest(f"Invalid status value: {status}")
    if task_type and task_type not in ("import",):
        raise BadRequest(f"Invalid type value: {task_type}")
    marker = query.get("marker")
    if marker is not None:
        try:
            uuid.UUID(marker)
        except ValueError:
            raise BadRequest("Invalid marker format") from None
    service = images(call)
    dialect = Glance(max_limit=service.options.api_limit_max,
                     default_limit=service.options.limit_param_default,
                     marker_error=lambda marker: BadRequest(
                         f"Task with the given id {marker} not found"))
    request = dialect.request(query, _SORTABLE, default_sort=(("created_at", "desc"),))
    with service.db.session() as session:
        page = service.tasks.list_page(session, call.context,
                                       {"status": status, "type": task_type}, request, dialect)
        rendered = [_render_stub(task) for (task,) in page.items]
    others = [(k, v) for k, v in query.multi_items() if k != "marker"]
    result: dict[str, Any] = {
        "tasks": rendered, "first": f"/v2/tasks?{urlencode(others)}" if others else "/v2/tasks",
        "schema": "/v2/schemas/tasks"}
    result.update(dialect.links(page, query=query, url="/v2/tasks", collection="tasks",
                                id_of=_task_id))
    return result


def _task_id(row: Any) -> str:
    return str(row[0].id)


@api.route("GET", "/v2/tasks/{task_id}")
async def show_task(call: Call) -> dict[str, Any]:
    call.authorize("tasks_api_access", call.default_target())
    service = images(call)
    with service.db.session() as session:
        return render_task(service.tasks.get(session, call.context, call.params["task_id"]))


@api.route("DELETE", "/v2/tasks/{task_id}")
async def delete_task(call: Call) -> None:
    call.authorize("tasks_api_access", call.default_target())
    raise MethodNotAllowed("This operation is currently not permitted on Glance Tasks. They "
                           "are auto deleted after reaching the time based on their "
                           "expires_at property.", headers={"Allow": "GET"})

