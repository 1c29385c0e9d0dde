"""heat-api v1: stacks, resources, events, outputs, templates, resource types, build info.

Paths are heat's (``/v1/{tenant_id}/...`` under the ``/heat-api`` mount). Writes go to
heat-engine over the bus (heat's EngineClient); reads come from heat's tables. A stack
named without its id is looked up and redirected (302) to ``stacks/{name}/{id}``, as
heat's ``lookup`` does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from stacklab.api.errors import heat_error
from stacklab.api.service import BodyLimit, Call, Reply, ServiceApi
from stacklab.clock import isotime
from stacklab.orchestration import models as m
from stacklab.orchestration import template as tpl
from stacklab.orchestration.engine.store import ResourceState
from stacklab.orchestration.errors import HeatError, ResourceNotFound, StackNotFound
from stacklab.orchestration.resources import registry
from stacklab.orchestration.service import OrchestrationService


def _json_body_too_large(size: int, limit: int) -> HeatError:
    return HeatError(f"Request limit exceeded: JSON body size ({size} bytes) exceeds maximum "
                     f"allowed size ({limit} bytes).", kind="RequestLimitExceeded")


# heat-api's pipeline has no oslo.middleware sizelimit: its JSON deserializer refuses a
# body over [DEFAULT] max_json_body_size (heat/common/wsgi.py).
api = ServiceApi("orchestration", errors=heat_error, body_limit=BodyLimit(
    lambda config: int(config.DEFAULT.max_json_body_size), _json_body_too_large))

V1 = "/v1/{tenant_id}"
STACK = V1 + "/stacks/{stack_name}/{stack_id}"
# What heat's lookup serves under a stack's name alone (then redirects with the id).
_SUBPATHS = ("resources", "events", "template", "outputs", "environment", "files")


def _tenant(call: Call) -> dict[str, Any]:
    return {"project_id": call.params.get("tenant_id")}


def _service(call: Call) -> OrchestrationService:
    service: OrchestrationService = call.service
    return service


def _check_tenant(call: Call) -> None:
    """heat's ``tenant_local``: the URL's tenant is the caller's project (or an admin)."""
    tenant = call.params.get("tenant_id")
    if tenant != call.context.project_id and not call.context.is_admin:
        raise HeatError("Access was denied to this resource.", status=403,
                        kind="HTTPForbidden")


def _ctxt(call: Call) -> dict[str, Any]:
    context = call.context
    return {"auth_token": context.auth_token, "user_id": context.user_id,
            "username": context.user_name or context.user_id,
            "project_id": call.params.get("tenant_id") or context.project_id,
            "roles": list(context.roles), "is_admin": context.is_admin,
            # oslo.context's ids, which heat's notifications of the stack carry.
            "request_id": context.request_id, "global_request_id": context.global_request_id}


def _flag(call: Call, name: str, default: bool = False) -> bool:
    """A boolean query parameter as heat's API reads each (``_extract_bool_param``):
    ``default`` when absent, else true or false only."""
    value = _extract_bool(call, name)
    return default if value is None else value


def _extract_int(name: str, raw: str | None) -> int | None:
    """heat's ``param_utils.extract_int`` (zero allowed): a query's count, 400 in heat's
    words when it is not one."""
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise HeatError(f"Only integer is acceptable by '{name}'.", status=400,
                        kind="HTTPBadRequest") from None
    if value < 0:
        raise HeatError(f"Value must be >= 0 for field '{name}'.", status=400,
                        kind="HTTPBadRequest")
    return value


def _extract_bool(call: Call, name: str) -> bool | None:
    """heat's ``param_utils.extract_bool`` of a query parameter (None: not given): only
    true and false, in any case, are booleans there (``1``, ``yes`` are refused)."""
    raw = call.query.get(name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise HeatError(f'Unrecognized value "{raw}" for "{name}", acceptable values are: '
                        "true, false.", status=400, kind="HTTPBadRequest")
    return raw.lower() == "true"


def _body(call: Call) -> dict[str, Any]:
    body = call.body if call.body is not None else {}
    if not isinstance(body, dict):
        raise HeatError("The request body must be a JSON object.", status=400,
                        kind="HTTPBadRequest")
    return body


def _stack_url(call: Call, row: m.Stack, suffix: str = "") -> str:
    return call.url_for(f"/v1/{row.project_id}/stacks/{quote(row.name)}/{row.id}{suffix}")


def _time(moment: float | None) -> str | None:
    return None if moment is None else isotime(moment)


def _status(action: str, status: str) -> str:
    return f"{action}_{status}"


def _stack_row(call: Call) -> m.Stack:
    """The stack a ``{stack_name}/{stack_id}`` path names (heat's identity check)."""
    _check_tenant(call)
    row = _service(call).store.stack(call.params["stack_id"])
    if (row is None or row.deleted_at is not None or row.name != call.params["stack_name"]
            or row.project_id != call.params["tenant_id"]):
        raise StackNotFound(call.params["stack_name"])
    return row


def stack_summary(call: Call, row: m.Stack, service: OrchestrationService) -> dict[str, Any]:
    return {
        "creation_time": _time(row.created_at),
        "deletion_time": _time(row.deleted_at),
        "description": service.description(row),
        "id": row.id,
        "links": [{"href": _stack_url(call, row), "rel": "self"}],
        "parent": row.parent_id,
        "stack_name": row.name,
        "stack_owner": row.username,
        "stack_status": _status(row.action, row.status),
        "stack_status_reason": row.status_reason,
        "stack_user_project_id": row.project_id,
        "tags": row.tags,
        "updated_time": _time(row.updated_at),
    }


def stack_detail(call: Call, row: m.Stack, service: OrchestrationService,
                 resolve_outputs: bool = True) -> dict[str, Any]:
    body = stack_summary(call, row, service)
    outputs = []
    if resolve_outputs:
        for entry in (row.outputs or {}).values():
            item = {k: entry.get(k) for k in ("output_key", "output_value", "description")}
            if entry.get("output_error"):
                item["output_error"] = entry["output_error"]
            outputs.append(item)
    body.update({
        "capabilities": [],
        "disable_rollback": row.disable_rollback,
        "notification_topics": [],
        "outputs": outputs,
        "parameters": service.parameters(row),
        "template_description": service.description(row),
        "timeout_mins": row.timeout_mins,
    })
    return body


# -- stacks ------------------------------------------------------------------------------


def _by(row: m.Stack, *, column: str, value: Any) -> Any:
    return value(row, column)


def _page(call: Call, rows: list[m.Stack]) -> list[m.Stack]:
    query = call.query
    filters = {key: query.getlist(key) for key in ("id", "name", "status", "action",
                                                   "username", "owner_id") if key in query}
    for key, wanted in filters.items():
        def value(row: m.Stack, key: str = key) -> str | None:
            return {"id": row.id, "name": row.name, "status": row.status,
                    "action": row.action, "username": row.username,
                    "owner_id": row.parent_id}[key]
        rows = [row for row in rows if value(row) in wanted]
    if not _flag(call, "show_nested"):
        rows = [row for row in rows if row.parent_id is None]

    def tags(name: str) -> list[str] | None:
        raw = query.get(name)
        return None if raw is None else [t for t in raw.split(",") if t]

    if (wanted_tags := tags("tags")) is not None:
        rows = [r for r in rows if set(wanted_tags) <= set(r.tags or [])]
    if (wanted_tags := tags("tags_any")) is not None:
        rows = [r for r in rows if set(wanted_tags) & set(r.tags or [])]
    if (wanted_tags := tags("not_tags")) is not None:
        rows = [r for r in rows if not set(wanted_tags) <= set(r.tags or [])]
    if (wanted_tags := tags("not_tags_any")) is not None:
        rows = [r for r in rows if not set(wanted_tags) & set(r.tags or [])]
    keys = {"stack_name": "name", "stack_status": "status", "creation_time": "created_at",
            "updated_time": "updated_at", "name": "name", "status": "status",
            "created_at": "created_at", "updated_at": "updated_at"}
    sort_keys = [k for raw in query.getlist("sort_keys") for k in raw.split(",") if k] or [
        "creation_time"]
    for key in sort_keys:
        if key not in keys:
            raise HeatError(f"Invalid sort key {key}", status=400, kind="HTTPBadRequest")
    direction = query.get("sort_dir", "desc")
    if direction not in ("asc", "desc"):
        raise HeatError("Unknown sort direction, must be one of: asc, desc",
                        status=400, kind="HTTPBadRequest")
    def sort_value(row: m.Stack, column: str) -> tuple[bool, Any]:
        value = getattr(row, column)
        if column in ("created_at", "updated_at"):
            return (value is None, value or 0.0)
        return (False, str(value))

    for key in reversed(sort_keys):
        column = keys[key]
        rows.sort(key=functools.partial(_by, column=column, value=sort_value),
                  reverse=direction == "desc")
    marker = query.get("marker")
    if marker is not None:
        ids = [r.id for r in rows]
        if marker not in ids:
            raise StackNotFound(marker)
        rows = rows[ids.index(marker) + 1:]
    count = _extract_int("limit", query.get("limit"))
    if count is not None:
        rows = rows[:count]
    return rows


async def _list(call: Call, detail: bool) -> dict[str, Any]:
    _check_tenant(call)
    service = _service(call)
    project: str | None = call.params["tenant_id"]
    if _flag(call, "global_tenant"):
        call.authorize("stacks:global_index", _tenant(call))
        project = None
    total = service.stacks(project, deleted=_flag(call, "show_deleted"))
    rows = _page(call, total)
    render = stack_detail if detail else stack_summary
    body: dict[str, Any] = {"stacks": [render(call, row, service) for row in rows]}
    if project is None:
        for item, row in zip(body["stacks"], rows, strict=True):
            item["project"] = row.project_id
    if _flag(call, "with_count"):
        body["count"] = len(total)
    return body


@api.route("GET", V1 + "/stacks", policy="stacks:index", target=_tenant)
async def list_stacks(call: Call) -> dict[str, Any]:
    return await _list(call, detail=False)


@api.route("GET", V1 + "/stacks/detail", policy="stacks:detail", target=_tenant)
async def list_stacks_detail(call: Call) -> dict[str, Any]:
    return await _list(call, detail=True)


def _create_args(body: Mapping[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for key in ("timeout_mins", "disable_rollback", "tags"):
        if key in body:
            args[key] = body[key]
    if "clear_parameters" in body:
        args["clear_parameters"] = list(body.get("clear_parameters") or [])
    return args


def _template_of(call: Call, body: Mapping[str, Any], required: bool = True) -> Any:
    if body.get("template") is not None:
        return body["template"]
    if body.get("template_url"):
        raise HeatError("Could not retrieve template: Failed to retrieve template: "
                        f"{body['template_url']}", status=400, kind="HTTPBadRequest")
    if required:
        raise HeatError("No template specified", status=400, kind="HTTPBadRequest")
    return None


def _of_type(body: Mapping[str, Any], key: str, kinds: tuple[type, ...], name: str) -> None:
    value = body.get(key)
    if value is not None and not isinstance(value, kinds):
        raise HeatError(f"The {key} must be a {name}.", status=400, kind="HTTPBadRequest")


def _stack_inputs(call: Call, body: Mapping[str, Any], required: bool = True) -> dict[str, Any]:
    # heat's API takes these as the client's JSON gives them; anything else is the
    # client's error, not the engine's.
    _of_type(body, "template", (dict, str), "map or a string")
    for key in ("parameters", "files"):
        _of_type(body, key, (dict,), "map")
    _of_type(body, "environment", (dict, str), "map or a string")
    _of_type(body, "environment_files", (list,), "list")
    if body.get("environment") is not None:
        try:
            body = {**body, "environment": tpl.load_environment(body["environment"])}
        except tpl.TemplateError as error:
            raise HeatError(str(error), status=400, kind=error.error_type) from None
    environment = body.get("environment") or {}
    for section, kind, name in (("parameters", dict, "map"), ("parameter_defaults", dict, "map"),
                                ("resource_registry", dict, "map"),
                                ("parameter_merge_strategies", dict, "map"),
                                ("event_sinks", list, "list"),
                                ("encrypted_param_names", list, "list")):
        if environment.get(section) is not None and not isinstance(environment[section], kind):
            raise HeatError(f"The environment's {section} must be a {name}.", status=400,
                            kind="HTTPBadRequest")
    tags = body.get("tags")
    if tags is not None and not (isinstance(tags, str) or (
            isinstance(tags, list) and all(isinstance(t, str) for t in tags))):
        raise HeatError("The tags must be a list of strings or a comma-separated string.",
                        status=400, kind="HTTPBadRequest")
    if any(not isinstance(name, str) for name in body.get("environment_files") or []):
        raise HeatError("The environment_files must be a list of strings.", status=400,
                        kind="HTTPBadRequest")
    return {"template": _template_of(call, body, required),
            "params": dict(body.get("parameters") or {}),
            "files": dict(body.get("files") or {}),
            "environment": body.get("environment") or {},
            "environment_files": body.get("environment_files")}


def _adopt_data(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """heat's ``InstantiationData.template`` for an adopt: the adopt data (JSON or YAML
    text, as heatclient sends the file, or a map) holds the template."""
    if body.get("adopt_stack_data") is None:
        return None
    raw = body["adopt_stack_data"]
    try:
        data = raw if isinstance(raw, dict) else tpl.simple_parse(str(raw))
        if "template" not in data:
            raise KeyError("template")
    except tpl.TemplateError as error:
        raise HeatError(f"Invalid adopt data: {error}", status=400,
                        kind="HTTPBadRequest") from None
    except KeyError as error:
        raise HeatError(f"Invalid adopt data: {error}", status=400,
                        kind="HTTPBadRequest") from None
    return data


@api.route("POST", V1 + "/stacks", policy="stacks:create", target=_tenant, status=201)
async def create_stack(call: Call) -> Reply:
    _check_tenant(call)
    body = _body(call)
    adopt = _adopt_data(body)
    if adopt is not None:
        body = {**body, "template": adopt["template"]}
    name = body.get("stack_name")
    if not name:
        raise HeatError("No stack name specified", status=400, kind="HTTPBadRequest")
    identity = await _service(call).rpc("create_stack", _ctxt(call), stack_name=name,
                                        args=_create_args(body), adopt_stack_data=adopt,
                                        **_stack_inputs(call, body))
    row = _service(call).store.stack(identity["stack_id"])
    assert row is not None
    url = _stack_url(call, row)
    # heat's StackSerializer.create: the new stack's URL in Location too (gabbi's tests and
    # heatclient's callers follow it).
    return Reply({"stack": {"id": row.id, "links": [{"href": url, "rel": "self"}]}},
                 status=201, headers={"Location": url})


@api.route("POST", V1 + "/stacks/preview", policy="stacks:preview", target=_tenant)
async def preview_stack(call: Call) -> dict[str, Any]:
    _check_tenant(call)
    body = _body(call)
    name = body.get("stack_name")
    if not name:
        raise HeatError("No stack name specified", status=400, kind="HTTPBadRequest")
    preview = await _service(call).rpc("preview_stack", _ctxt(call), stack_name=name,
                                       args=_create_args(body), **_stack_inputs(call, body))
    tmpl: tpl.Template = preview["template"]
    tenant = call.params["tenant_id"]
    return {"stack": {
        "capabilities": [], "creation_time": None, "deletion_time": None,
        "description": tmpl.description, "template_description": tmpl.description,
        "disable_rollback": bool(body.get("disable_rollback", True)), "id": "None",
        "links": [{"href": call.url_for(f"/v1/{tenant}/stacks/{quote(name)}/None"),
                   "rel": "self"}],
        "notification_topics": [], "outputs": [], "parameters": preview["parameters"],
        "parent": None, "resources": preview["resources"], "stack_name": name,
        "stack_owner": None, "stack_status": None, "stack_status_reason": None,
        "stack_user_project_id": tenant, "tags": body.get("tags"),
        "timeout_mins": body.get("timeout_mins"), "updated_time": None}}


_LOOKUP_METHODS = ("GET", "DELETE", "PUT", "PATCH", "POST")


async def _lookup(call: Call, suffix: str = "") -> Reply:
    """heat's ``lookup``: a stack by name (or id) found and redirected to name/id."""
    _check_tenant(call)
    name = call.params["stack_name"]
    row = _service(call).find(call.params["tenant_id"], name)
    if row is None:
        raise StackNotFound(name)
    location = _stack_url(call, row, suffix)
    if call.request.url.query:
        location += f"?{call.request.url.query}"
    return Reply(None, status=302, headers={"Location": location})


for _method in _LOOKUP_METHODS:
    api.route(_method, V1 + "/stacks/{stack_name}", policy="stacks:lookup", target=_tenant,
              body_optional=True)(_lookup)


@api.route("GET", STACK, policy="stacks:show", target=_tenant)
async def show_stack(call: Call) -> Any:
    if call.params["stack_id"] in _SUBPATHS:
        # stacks/{name}/resources: heat's lookup of the subpath
        return await _lookup(call, f"/{call.params['stack_id']}")
    row = _stack_row(call)
    service = _service(call)
    return {"stack": stack_detail(call, row, service,
                                  resolve_outputs=_flag(call, "resolve_outputs", True))}


async def _update(call: Call, existing: bool) -> Reply:
    row = _stack_row(call)
    body = _body(call)
    await _service(call).rpc("update_stack", _ctxt(call), stack_id=row.id,
                             args=_create_args(body), existing=existing,
                             **_stack_inputs(call, body, required=not existing))
    return Reply(None, status=202)


@api.route("PUT", STACK, policy="stacks:update", target=_tenant, status=202)
async def update_stack(call: Call) -> Reply:
    return await _update(call, existing=False)


@api.route("PATCH", STACK, policy="stacks:update_patch", target=_tenant, status=202)
async def update_stack_patch(call: Call) -> Reply:
    return await _update(call, existing=True)


async def _preview_update(call: Call, existing: bool) -> dict[str, Any]:
    row = _stack_row(call)
    body = _body(call)
    changes = await _service(call).rpc(
        "preview_update_stack", _ctxt(call), stack_id=row.id, args=_create_args(body),
        existing=existing, show_nested=_flag(call, "show_nested"),
        **_stack_inputs(call, body, required=not existing))
    return {"resource_changes": changes}


@api.route("PUT", STACK + "/preview", policy="stacks:preview_update", target=_tenant)
async def preview_update(call: Call) -> dict[str, Any]:
    return await _preview_update(call, existing=False)


@api.route("PATCH", STACK + "/preview", policy="stacks:preview_update_patch",
           target=_tenant)
async def preview_update_patch(call: Call) -> dict[str, Any]:
    return await _preview_update(call, existing=True)


@api.route("DELETE", STACK, policy="stacks:delete", target=_tenant, status=204)
async def delete_stack(call: Call) -> None:
    row = _stack_row(call)
    await _service(call).rpc("delete_stack", _ctxt(call), stack_id=row.id)


@api.route("DELETE", STACK + "/abandon", policy="stacks:abandon", target=_tenant)
async def abandon_stack(call: Call) -> Any:
    row = _stack_row(call)
    return await _service(call).rpc("abandon_stack", _ctxt(call), stack_id=row.id)


@api.route("GET", STACK + "/template", policy="stacks:template", target=_tenant)
async def stack_template(call: Call) -> Any:
    return _stack_row(call).template


@api.route("GET", STACK + "/environment", policy="stacks:environment", target=_tenant)
async def stack_environment(call: Call) -> Any:
    return tpl.Environment.from_dict(_stack_row(call).environment).as_dict()


@api.route("GET", STACK + "/files", policy="stacks:files", target=_tenant)
async def stack_files(call: Call) -> Any:
    return _stack_row(call).files or {}


@api.route("GET", STACK + "/outputs", policy="stacks:list_outputs", target=_tenant)
async def list_outputs(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    tmpl_outputs = (row.template or {}).get("outputs") or (row.template or {}).get(
        "Outputs") or {}
    return {"outputs": [{"output_key": key,
                         "description": (value or {}).get("description")
                         or (value or {}).get("Description") or "No description given"}
                        for key, value in tmpl_outputs.items()]}


@api.route("GET", STACK + "/outputs/{output_key}", policy="stacks:show_output",
           target=_tenant)
async def show_output(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    key = call.params["output_key"]
    entry = (row.outputs or {}).get(key)
    if entry is None:
        tmpl_outputs = (row.template or {}).get("outputs") or {}
        if key not in tmpl_outputs:
            raise HeatError(f"Specified output key {key} not found.", status=404,
                            kind="NotFound")
        entry = {"output_key": key, "output_value": None,
                 "description": tmpl_outputs[key].get("description") or
                 "No description given"}
    return {"output": dict(entry)}


api.action_route(STACK + "/actions", policy="actions:action", target=_tenant)

def _declare_action(name: str, rule: str) -> None:
    @api.action(STACK + "/actions", name)
    async def act(call: Call) -> Reply:
        call.authorize(rule, _tenant(call))
        row = _stack_row(call)
        await _service(call).rpc("stack_action", _ctxt(call), stack_id=row.id, action=name)
        return Reply(None, status=200)


for _name, _rule in (("suspend", "actions:suspend"), ("resume", "actions:resume"),
                     ("check", "actions:check"), ("cancel_update", "actions:cancel_update")):
    _declare_action(_name, _rule)


# -- resources ---------------------------------------------------------------------------


def _required_by(resources: Mapping[str, ResourceState], name: str) -> list[str]:
    return sorted(n for n, r in resources.items() if name in r.requires)


def resource_body(call: Call, row: m.Stack, res: ResourceState,
                  resources: Mapping[str, ResourceState],
                  nested: m.Stack | None = None) -> dict[str, Any]:
    url = _stack_url(call, row, f"/resources/{quote(res.name)}")
    links = [{"href": url, "rel": "self"}, {"href": _stack_url(call, row), "rel": "stack"}]
    if nested is not None:
        links.append({"href": _stack_url(call, nested), "rel": "nested"})
    return {
        "creation_time": _time(res.created_at),
        "links": links,
        "logical_resource_id": res.name,
        "physical_resource_id": res.physical_id or "",
        "required_by": _required_by(resources, res.name),
        "resource_name": res.name,
        "resource_status": _status(res.action, res.status),
        "resource_status_reason": res.status_reason,
        "resource_type": res.type,
        "updated_time": _time(res.updated_at or res.created_at),
    }


def _find_resource(resources: Mapping[str, ResourceState], name: str,
                   stack: m.Stack) -> ResourceState:
    res = resources.get(name)
    if res is None:
        res = next((r for r in resources.values() if r.physical_id == name), None)
    if res is None:
        raise ResourceNotFound(name, stack.name)
    return res


def _nested_depth(call: Call) -> int:
    depth = _extract_int("nested_depth", call.query.get("nested_depth")) or 0
    # heat's engine goes no deeper than max_nested_stack_depth.
    return min(depth, 5)


@api.route("GET", STACK + "/resources", policy="resource:index", target=_tenant)
async def list_resources(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    service = _service(call)
    names = call.query.getlist("name")
    types = call.query.getlist("type")
    statuses = call.query.getlist("status")
    actions = call.query.getlist("action")
    out: list[dict[str, Any]] = []

    async def walk(stack: m.Stack, depth: int) -> None:
        # heat's iter_resources: each resource, then what its nested stack holds.
        resources = service.resources(stack.id)
        nested = service.nested_stacks(stack.id)
        for res in resources.values():
            if not ((names and res.name not in names) or (types and res.type not in types)
                    or (statuses and res.status not in statuses)
                    or (actions and res.action not in actions)):
                body = resource_body(call, stack, res, resources, nested.get(res.name))
                if stack.parent_id is not None:
                    body["parent_resource"] = stack.owner_resource
                if _flag(call, "with_detail"):
                    body["attributes"] = await service.attributes(stack, res)
                    body["description"] = res.description
                    body["parent_resource"] = stack.owner_resource
                out.append(body)
            child = nested.get(res.name)
            if child is not None and depth > 0:
                await walk(child, depth - 1)

    await walk(row, _nested_depth(call))
    return {"resources": out}


@api.route("GET", STACK + "/resources/{resource_name}", policy="resource:show",
           target=_tenant)
async def show_resource(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    service = _service(call)
    resources = service.resources(row.id)
    res = _find_resource(resources, call.params["resource_name"], row)
    body = resource_body(call, row, res, resources, service.nested_stacks(row.id).get(res.name))
    attributes = await service.attributes(row, res)
    wanted = call.query.getlist("with_attr")
    shown = {k: v for k, v in attributes.items() if k != "show" or "show" in wanted}
    body.update(attributes=shown, description=res.description,
                parent_resource=row.owner_resource)
    return {"resource": body}


@api.route("GET", STACK + "/resources/{resource_name}/metadata", policy="resource:metadata",
           target=_tenant)
async def resource_metadata(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    res = _find_resource(_service(call).resources(row.id), call.params["resource_name"], row)
    return {"metadata": res.metadata}


@api.route("POST", STACK + "/resources/{resource_name}/signal", policy="resource:signal",
           target=_tenant, body_optional=True)
async def signal_resource(call: Call) -> None:
    row = _stack_row(call)
    res = _find_resource(_service(call).resources(row.id), call.params["resource_name"], row)
    await _service(call).rpc("resource_signal", _ctxt(call), stack_id=row.id,
                             resource_name=res.name, details=call.body)


@api.route("PATCH", STACK + "/resources/{resource_name}", policy="resource:mark_unhealthy",
           target=_tenant)
async def mark_unhealthy(call: Call) -> None:
    row = _stack_row(call)
    body = _body(call)
    unknown = set(body) - {"mark_unhealthy", "resource_status_reason"}
    if unknown or "mark_unhealthy" not in body:
        raise HeatError(f"Invalid parameter in request: {', '.join(sorted(unknown))}"
                        if unknown else "Missing required parameter: mark_unhealthy",
                        status=400, kind="HTTPBadRequest")
    flag = body["mark_unhealthy"]
    if not isinstance(flag, bool):
        raise HeatError(f'Unrecognized value "{flag}" for "mark_unhealthy", acceptable '
                        'values are: true, false.', status=400, kind="HTTPBadRequest")
    res = _find_resource(_service(call).resources(row.id), call.params["resource_name"], row)
    await _service(call).rpc("mark_unhealthy", _ctxt(call), stack_id=row.id,
                             resource_name=res.name, unhealthy=flag,
                             reason=str(body.get("resource_status_reason") or ""))


# -- events ------------------------------------------------------------------------------


def event_body(call: Call, row: m.Stack, event: m.Event, detail: bool) -> dict[str, Any]:
    res_url = _stack_url(call, row, f"/resources/{quote(event.resource_name)}")
    body: dict[str, Any] = {
        "event_time": _time(event.created_at),
        "id": event.id,
        "links": [{"href": f"{res_url}/events/{event.id}", "rel": "self"},
                  {"href": res_url, "rel": "resource"},
                  {"href": _stack_url(call, row), "rel": "stack"}],
        "logical_resource_id": event.resource_name,
        "physical_resource_id": event.physical_id,
        "resource_name": event.resource_name,
        "resource_status": _status(event.action, event.status),
        "resource_status_reason": event.reason,
    }
    if detail:
        body.update(resource_properties=event.properties, resource_type=event.resource_type)
    return body


def _with_nested(call: Call, row: m.Stack, depth: int) -> list[tuple[m.Stack, m.Event]]:
    """A stack's events and, ``depth`` levels down, its nested stacks', in time order."""
    found = [(row, e) for e in _service(call).events(row.id)]
    if depth > 0:
        for child in _service(call).nested_stacks(row.id).values():
            found += _with_nested(call, child, depth - 1)
    return sorted(found, key=lambda pair: pair[1].seq)


def _events(call: Call, row: m.Stack, resource: str | None) -> list[dict[str, Any]]:
    depth = 0 if resource is not None else _nested_depth(call)
    if depth:
        pairs = _with_nested(call, row, depth)
        stacks = {id(e): s for s, e in pairs}
        shown = _filtered(call, [e for _, e in pairs])
        return [event_body(call, stacks[id(e)], e, detail=False) for e in shown]
    events = _service(call).events(row.id)
    if resource is not None:
        if not any(e.resource_name == resource for e in events):
            resources = _service(call).resources(row.id)
            if resource not in resources:
                raise ResourceNotFound(resource, row.name)
        events = [e for e in events if e.resource_name == resource]
    return [event_body(call, row, e, detail=False) for e in _filtered(call, events)]


def _filtered(call: Call, events: list[m.Event]) -> list[m.Event]:
    query = call.query
    for key, attr in (("resource_action", "action"), ("resource_status", "status"),
                      ("resource_name", "resource_name"), ("resource_type", "resource_type")):
        wanted = query.getlist(key)
        if wanted:
            events = [e for e in events if getattr(e, attr) in wanted]
    if query.get("sort_dir") == "desc":
        events = list(reversed(events))
    marker = query.get("marker")
    if marker is not None:
        ids = [e.id for e in events]
        if marker not in ids:
            raise HeatError(f"The Event ({marker}) could not be found.", status=404,
                            kind="EntityNotFound")
        events = events[ids.index(marker) + 1:]
    limit = query.get("limit")
    if limit is not None and limit.isdigit():
        events = events[:int(limit)]
    return events


@api.route("GET", STACK + "/events", policy="events:index", target=_tenant)
async def list_events(call: Call) -> dict[str, Any]:
    return {"events": _events(call, _stack_row(call), None)}


@api.route("GET", STACK + "/resources/{resource_name}/events", policy="events:index",
           target=_tenant)
async def list_resource_events(call: Call) -> dict[str, Any]:
    return {"events": _events(call, _stack_row(call), call.params["resource_name"])}


@api.route("GET", STACK + "/resources/{resource_name}/events/{event_id}",
           policy="events:show", target=_tenant)
async def show_event(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    for event in _service(call).events(row.id):
        if event.id == call.params["event_id"] and (
                event.resource_name == call.params["resource_name"]):
            return {"event": event_body(call, row, event, detail=True)}
    raise HeatError(f"The Event ({call.params['event_id']}) could not be found.",
                    status=404, kind="EntityNotFound")


# -- templates, resource types, build info ---------------------------------------------


@api.route("POST", V1 + "/validate", policy="stacks:validate_template", target=_tenant)
async def validate_template(call: Call) -> dict[str, Any]:
    _check_tenant(call)
    body = _body(call)
    result: dict[str, Any] = await _service(call).rpc(
        "validate_template", _ctxt(call), show_nested=_flag(call, "show_nested"),
        ignore_errors=call.query.get("ignore_errors"), **_stack_inputs(call, body))
    return result


@api.route("GET", V1 + "/template_versions", policy="stacks:list_template_versions",
           target=_tenant)
async def template_versions(call: Call) -> dict[str, Any]:
    _check_tenant(call)
    return {"template_versions": tpl.versions()}


@api.route("GET", V1 + "/template_versions/{template_version}/functions",
           policy="stacks:list_template_functions", target=_tenant)
async def template_functions(call: Call) -> dict[str, Any]:
    _check_tenant(call)
    version = call.params["template_version"]
    try:
        functions = tpl.functions(version, _flag(call, "with_condition_func"))
    except (tpl.TemplateError, KeyError, ValueError):
        raise HeatError(f"The template version ({version}) could not be found.",
                        status=404, kind="EntityNotFound") from None
    return {"template_functions": functions}


@api.route("GET", V1 + "/resource_types", policy="stacks:list_resource_types",
           target=_tenant)
async def resource_types(call: Call) -> dict[str, Any]:
    _check_tenant(call)
    names = registry.names()
    wanted = call.query.get("name")
    if wanted:
        import re

        try:
            pattern = re.compile(wanted)
        except re.error:
            raise HeatError(f"Invalid regex {wanted}", status=400,
                            kind="HTTPBadRequest") from None
        names = [n for n in names if pattern.match(n)]
    status = call.query.get("support_status")
    if status and status != "SUPPORTED":
        names = []
    if _flag(call, "with_description"):
        return {"resource_types": [
            {"resource_type": n, "description": registry_description(n)} for n in names]}
    return {"resource_types": names}


def registry_description(name: str) -> str:
    plugin = registry.get(name)
    return "" if plugin is None else plugin.DESCRIPTION


def _plugin(call: Call) -> Any:
    name = call.params["type_name"]
    plugin = registry.get(name)
    if plugin is None:
        raise HeatError(f"The Resource Type ({name}) could not be found.", status=404,
                        kind="EntityNotFound")
    return plugin


@api.route("GET", V1 + "/resource_types/{type_name}", policy="stacks:resource_schema",
           target=_tenant)
async def resource_type_schema(call: Call) -> dict[str, Any]:
    _check_tenant(call)
    schema: dict[str, Any] = _plugin(call).schema()
    return schema


@api.route("GET", V1 + "/resource_types/{type_name}/template",
           policy="stacks:generate_template", target=_tenant)
async def resource_type_template(call: Call) -> dict[str, Any]:
    """heat's ``generate_template``: a template with the type's properties as parameters
    and its attributes as outputs."""
    _check_tenant(call)
    plugin = _plugin(call)
    hot = call.query.get("template_type", "cfn") == "hot"
    name = call.params["type_name"]
    kinds = {"string": "string", "integer": "number", "number": "number",
             "boolean": "boolean", "list": "comma_delimited_list", "map": "json"}
    parameters = {}
    for key, prop in plugin.PROPERTIES.items():
        entry: dict[str, Any] = {"type": kinds.get(prop.type, "string"),
                                 "description": prop.description}
        if prop.default is not None:
            entry["default"] = prop.default
        parameters[key] = entry if hot else {("Type" if k == "type" else k.title()): v
                                             for k, v in entry.items()}
    attrs = {**{k: a.description for k, a in plugin.ATTRIBUTES.items()},
             "show": "Detailed information about resource."}
    if hot:
        return {"heat_template_version": "2016-10-14",
                "description": f"Initial template of {name.split('::')[-1]}",
                "parameters": parameters,
                "resources": {name.split("::")[-1]: {
                    "type": name,
                    "properties": {k: {"get_param": k} for k in plugin.PROPERTIES}}},
                "outputs": {k: {"description": v,
                                "value": {"get_attr": [name.split("::")[-1], k]}}
                            for k, v in attrs.items()}}
    return {"HeatTemplateFormatVersion": "2012-12-12",
            "Description": f"Initial template of {name.split('::')[-1]}",
            "Parameters": parameters,
            "Resources": {name.split("::")[-1]: {
                "Type": name,
                "Properties": {k: {"Ref": k} for k in plugin.PROPERTIES}}},
            "Outputs": {k: {"Description": v,
                            "Value": {"Fn::GetAtt": [name.split("::")[-1], k]}}
                        for k, v in attrs.items()}}


@api.route("GET", V1 + "/build_info", policy="build_info:build_info", target=_tenant)
async def build_info(call: Call) -> dict[str, Any]:
    _check_tenant(call)
    return {"api": {"revision": "stacklab"}, "engine": {"revision": "stacklab"}}


@api.route("GET", "/", public=True)
async def versions(call: Call) -> Reply:
    return Reply({"versions": [{"id": "v1.0", "status": "CURRENT", "links": [
        {"href": call.url_for("/v1/"), "rel": "self"}]}]}, status=300)
