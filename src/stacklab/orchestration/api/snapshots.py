"""heat-api v1's stack snapshots (heat/api/openstack/v1/stacks.py: snapshot,
show_snapshot, delete_snapshot, list_snapshots, restore_snapshot): heat-engine takes and
restores them over the bus, under the stack's lock; the bodies are heat's
``format_snapshot``."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply
from stacklab.orchestration.api.stacks import (
    STACK,
    _body,
    _ctxt,
    _service,
    _stack_row,
    _tenant,
    api,
)
from stacklab.orchestration.errors import HeatError

SNAPSHOTS = STACK + "/snapshots"
SNAPSHOT = SNAPSHOTS + "/{snapshot_id}"
# What webob's HTTPAccepted renders as JSON (heat raises it for a restore; the api-ref's
# sample shows it).
_ACCEPTED = {"code": "202 Accepted",
             "message": "The request is accepted for processing.<br /><br />\n\n\n",
             "title": "Accepted"}


@api.route("POST", SNAPSHOTS, policy="stacks:snapshot", target=_tenant, body_optional=True)
async def snapshot_stack(call: Call) -> Any:
    row = _stack_row(call)
    name = _body(call).get("name")
    if name is not None and not isinstance(name, str):
        raise HeatError("The snapshot's name must be a string.", status=400,
                        kind="HTTPBadRequest")
    return await _service(call).rpc("stack_snapshot", _ctxt(call), stack_id=row.id,
                                    name=name)


@api.route("GET", SNAPSHOTS, policy="stacks:list_snapshots", target=_tenant)
async def list_snapshots(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    return {"snapshots": await _service(call).rpc("list_snapshots", _ctxt(call),
                                                  stack_id=row.id)}


@api.route("GET", SNAPSHOT, policy="stacks:show_snapshot", target=_tenant)
async def show_snapshot(call: Call) -> dict[str, Any]:
    row = _stack_row(call)
    return {"snapshot": await _service(call).rpc(
        "show_snapshot", _ctxt(call), stack_id=row.id,
        snapshot_id=call.params["snapshot_id"])}


@api.route("DELETE", SNAPSHOT, policy="stacks:delete_snapshot", target=_tenant, status=204)
async def delete_snapshot(call: Call) -> None:
    row = _stack_row(call)
    await _service(call).rpc("delete_snapshot", _ctxt(call), stack_id=row.id,
                             snapshot_id=call.params["snapshot_id"])


@api.route("POST", SNAPSHOT + "/restore", policy="stacks:restore_snapshot", target=_tenant,
           body_optional=True, status=202)
async def restore_snapshot(call: Call) -> Reply:
    row = _stack_row(call)
    await _service(call).rpc("stack_restore", _ctxt(call), stack_id=row.id,
                             snapshot_id=call.params["snapshot_id"])
    return Reply(dict(_ACCEPTED), status=202)
