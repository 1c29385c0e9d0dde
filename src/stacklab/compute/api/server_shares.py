"""``/servers/{id}/shares`` (2.97): manila shares mounted in a server over virtiofs.

nova attaches a share only to a stopped server on a compute that reports virtiofs
(``COMPUTE_STORAGE_VIRTIO_FS``) with file-backed memory, or whose flavor asks for huge
pages. stacklab's computes report neither and the lab has no Shared File Systems
service, so no server ever has a share: lists are empty, a share is not found, and an
attach is refused with nova's 409 once the server's state allows it.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import Conflict, NotFound
from stacklab.api.service import Call, Reply
from stacklab.compute import states
from stacklab.compute.api.base import api, compute
from stacklab.compute.api.servers import get_instance, server_target

_SHARES = "/v2.1/servers/{server_id}/shares"
_RULE = "os_compute_api:os-server-shares:"
_ATTACH = {
    "type": "object", "required": ["share"], "additionalProperties": False,
    "properties": {"share": {
        "type": "object", "required": ["share_id"], "additionalProperties": False,
        "properties": {"share_id": {"type": "string", "format": "uuid"},
                       "tag": {"type": "string", "minLength": 1, "maxLength": 255,
                               "pattern": "^[a-zA-Z0-9-]*$"}}}}}


def _checked(call: Call, action: str, allowed: tuple[str, ...]) -> None:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        if instance.vm_state not in allowed:
            raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in "
                           f"vm_state {instance.vm_state}")


def _not_found(call: Call) -> NotFound:
    return NotFound(f"Share {call.params['share_id']} could not be found.")


@api.route("GET", _SHARES, policy=f"{_RULE}index", target=server_target, min_version="2.97",
           expected_errors=(400, 403, 404))
async def list_shares(call: Call) -> dict[str, Any]:
    return {"shares": []}


@api.route("GET", f"{_SHARES}/{{share_id}}", policy=f"{_RULE}show", target=server_target,
           min_version="2.97", expected_errors=(400, 403, 404))
async def show_share(call: Call) -> dict[str, Any]:
    raise _not_found(call)


@api.route("POST", _SHARES, policy=f"{_RULE}create", target=server_target, min_version="2.97",
           schema=_ATTACH, status=201, expected_errors=(400, 403, 404, 409))
async def attach_share(call: Call) -> Reply:
    _checked(call, "create share", (states.STOPPED,))
    raise Conflict("Feature not supported because either compute or instance are not "
                   "configured correctly.")


@api.route("DELETE", f"{_SHARES}/{{share_id}}", policy=f"{_RULE}delete", target=server_target,
           min_version="2.97", expected_errors=(400, 403, 404, 409))
async def detach_share(call: Call) -> None:
    _checked(call, "delete share", (states.STOPPED, states.ERROR))
    raise _not_found(call)
