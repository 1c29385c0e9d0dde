"""The older attach and detach actions on a volume (cinder/api/contrib/volume_actions.py
and os-force_detach of volume_admin_actions.py), as nova used them before attachments:
reserve, initialize_connection, attach; begin_detaching, detach, terminate_connection.

The status changes are cinder-api's own; attach, detach and the connection calls go to
the volume's cinder-volume and wait for its answer (a service that is down makes them
fail after rpc_response_timeout with cinder's 500)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.service import Call, Reply
from stacklab.block_storage import attach_schemas
from stacklab.block_storage import models as m
from stacklab.block_storage.api.attachments import call_volume_service
from stacklab.block_storage.api.base import api, block_storage
from stacklab.block_storage.api.volumes import ACTION, _load
from stacklab.block_storage.attachments import Attachments
from stacklab.block_storage.volumes import invalid_volume

RULE = "volume_extension:volume_actions:"
# The actions that may end in cinder's 500 when the volume's service cannot answer.
CALLING = (400, 404, 409, 500)


def _connector(raw: Any) -> dict[str, Any]:
    # The schema lets a string through (cinder's too); no driver can read one.
    return dict(raw) if isinstance(raw, dict) else {}


# The actions that only change the volume's status, and what each does (its policy rule is
# the action's name without "os-").
StatusStep = Callable[[Attachments, Session, m.Volume], None]
STATUS_ACTIONS: dict[str, tuple[dict[str, Any], StatusStep]] = {
    "os-reserve": (attach_schemas.RESERVE, lambda steps, _, volume: steps.reserve_volume(volume)),
    "os-unreserve": (attach_schemas.UNRESERVE, Attachments.unreserve_volume),
    "os-begin_detaching": (attach_schemas.BEGIN_DETACHING,
                           lambda steps, _, volume: steps.begin_detaching(volume)),
    "os-roll_detaching": (attach_schemas.ROLL_DETACHING,
                          lambda steps, _, volume: steps.roll_detaching(volume)),
}


def _status_action(name: str, step: StatusStep) -> Callable[[Call], Awaitable[Reply]]:
    async def handler(call: Call) -> Reply:
        service = block_storage(call)
        with service.db.session() as session:
            volume = _load(call, session, RULE + name.removeprefix("os-"))
            step(service.attachments, session, volume)
        return Reply(None, status=202)

    handler.__name__ = name.removeprefix("os-")
    return handler


for _name, (_schema, _step) in STATUS_ACTIONS.items():
    api.action(ACTION, _name, schema=_schema)(_status_action(_name, _step))


@api.action(ACTION, "os-attach", schema=attach_schemas.ATTACH, expected_errors=CALLING)
async def attach(call: Call) -> Reply:
    body = call.body["os-attach"]
    mode = body.get("mode", "rw")
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, RULE + "attach")
        service.attachments.check_attach(volume, mode)
        volume_id, host = volume.id, volume.host
    await call_volume_service(call, host, "attach_volume", volume_id=volume_id,
                              instance_uuid=body.get("instance_uuid"),
                              host_name=body.get("host_name"),
                              mountpoint=body["mountpoint"], mode=mode)
    return Reply(None, status=202)


@api.action(ACTION, "os-detach", schema=attach_schemas.DETACH, expected_errors=CALLING)
async def detach(call: Call) -> Reply:
    attachment_id = (call.body["os-detach"] or {}).get("attachment_id")
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, RULE + "detach")
        service.attachments.check_detach(session, volume, attachment_id)
        volume_id, host = volume.id, volume.host
    await call_volume_service(call, host, "detach_volume", volume_id=volume_id,
                              attachment_id=attachment_id)
    return Reply(None, status=202)


@api.action(ACTION, "os-initialize_connection", schema=attach_schemas.INITIALIZE_CONNECTION,
            expected_errors=CALLING, status=200)
async def initialize_connection(call: Call) -> dict[str, Any]:
    connector = _connector(call.body["os-initialize_connection"]["connector"])
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, RULE + "initialize_connection")
        if volume.status == "maintenance":
            raise invalid_volume("The volume connection cannot be initialized in "
                                 "maintenance mode.")
        volume_id, host = volume.id, volume.host
    info = await call_volume_service(call, host, "initialize_connection",
                                     volume_id=volume_id, connector=connector)
    info["enforce_multipath"] = connector.get("enforce_multipath", False)
    return {"connection_info": info}


@api.action(ACTION, "os-terminate_connection", schema=attach_schemas.TERMINATE_CONNECTION,
            expected_errors=CALLING)
async def terminate_connection(call: Call) -> Reply:
    connector = call.body["os-terminate_connection"]["connector"]
    await _terminate(call, RULE + "terminate_connection", connector)
    return Reply(None, status=202)


async def _terminate(call: Call, rule: str, connector: Any) -> None:
    """cinder-api's terminate_connection: the service ends the connection, then the
    volume is unreserved (back to available, or in-use while attachments remain)."""
    service = block_storage(call)
    with service.db.session() as session:
        volume = _load(call, session, rule)
        volume_id, host = volume.id, volume.host
    # cinder asks nova first whether the volume is still in use (bug 2004555) unless a
    # service calls; stacklab has no service tokens and lets every caller through.
    await call_volume_service(call, host, "terminate_connection", volume_id=volume_id,
                              connector=connector if isinstance(connector, dict) else None)
    with service.db.session() as session:
        volume = _load(call, session, rule)
        service.attachments.unreserve_volume(session, volume)


@api.action(ACTION, "os-force_detach", schema=attach_schemas.FORCE_DETACH,
            expected_errors=CALLING)
async def force_detach(call: Call) -> Reply:
    """Roll back a detach that failed after the host let go of the volume (admin)."""
    body = call.body["os-force_detach"]
    service = block_storage(call)
    rule = "volume_extension:volume_admin_actions:force_detach"
    await _terminate(call, rule, body.get("connector"))
    attachment_id = body.get("attachment_id")
    with service.db.session() as session:
        volume = _load(call, session, rule)
        service.attachments.check_detach(session, volume, attachment_id)
        volume_id, host = volume.id, volume.host
    await call_volume_service(call, host, "detach_volume", volume_id=volume_id,
                              attachment_id=attachment_id)
    return Reply(None, status=202)
