"""nova's deprecated proxies to cinder, ``/os-volumes`` and ``/os-snapshots``
(nova/api/openstack/compute/volumes.py and snapshots.py), until 2.35: nova asks the Block
Storage API with the caller's token (compute/cinder.py) and answers in its own words."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import ApiError, BadRequest, Forbidden, NotFound
from stacklab.api.service import Call, Reply
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.api.images import PROXY_MAX
from stacklab.compute.api.security_groups import limited
from stacklab.compute.cinder import CinderClient, CinderError

_VOLUMES = "/v2.1/os-volumes"
_SNAPSHOTS = "/v2.1/os-snapshots"
_RULE = "os_compute_api:os-volumes:"
_SIZE = {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1}
CREATE_VOLUME = {
    "type": "object", "required": ["volume"], "additionalProperties": False,
    "properties": {"volume": {
        "type": "object", "required": ["size"], "additionalProperties": False,
        "properties": {
            "volume_type": {"type": "string"},
            "metadata": {"type": "object"},
            "snapshot_id": {"type": "string"},
            "size": _SIZE,
            "availability_zone": {"type": "string"},
            "display_name": {"type": "string"},
            "display_description": {"type": "string"}}}}}
_BOOLEAN = {"type": ["boolean", "string"],
            "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes",
                     "yes", False, "False", "FALSE", "false", "0", "OFF", "Off", "off",
                     "NO", "No", "no"]}
CREATE_SNAPSHOT = {
    "type": "object", "required": ["snapshot"], "additionalProperties": False,
    "properties": {"snapshot": {
        "type": "object", "required": ["volume_id"], "additionalProperties": False,
        "properties": {
            "volume_id": {"type": "string"},
            "create_info": {"type": "object"},
            "force": _BOOLEAN,
            "display_name": {"type": "string"},
            "display_description": {"type": "string"}}}}}


def _cinder(call: Call) -> CinderClient:
    client = compute(call).cinder
    if client is None:
        raise ApiError("Block Storage is not configured.")
    return client


def volume_view(volume: dict[str, Any]) -> dict[str, Any]:
    """nova's view of a cinder volume (its cinder.py untranslate, then the proxy's own
    names): one attachment at most, ``[{}]`` when there is none."""
    attachments: list[dict[str, Any]] = [{}]
    if volume.get("attachments"):
        first = volume["attachments"][0]
        attachments = [{"id": volume["id"], "volumeId": volume["id"],
                        "serverId": first.get("server_id")}]
        if first.get("device"):
            attachments[0]["device"] = first["device"]
    return {
        "id": volume["id"], "status": volume["status"], "size": volume["size"],
        "availabilityZone": volume.get("availability_zone"),
        "createdAt": volume.get("created_at"), "attachments": attachments,
        "displayName": volume.get("name"), "displayDescription": volume.get("description"),
        # nova keeps cinder's type name where its v1 view had the type's id.
        "volumeType": volume.get("volume_type"), "snapshotId": volume.get("snapshot_id"),
        "metadata": dict(volume.get("metadata") or {})}


def snapshot_view(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {"id": snapshot["id"], "volumeId": snapshot.get("volume_id"),
            "status": snapshot.get("status"), "size": snapshot.get("size"),
            "createdAt": snapshot.get("created_at"), "displayName": snapshot.get("name"),
            "displayDescription": snapshot.get("description")}


def _invalid_input(error: CinderError) -> BadRequest:
    # nova's InvalidInput around cinderclient's text of the error.
    return BadRequest(f"Invalid input received: {error.message} (HTTP {error.status})")


def _translated(error: CinderError, not_found: str) -> ApiError:
    """nova's translate_*_exception: cinder's 404 as nova's own NotFound, 400 as
    InvalidInput, 403 as Forbidden, 413 as OverQuota (403)."""
    if error.status == 404:
        return NotFound(not_found)
    if error.status == 400:
        return _invalid_input(error)
    if error.status in (403, 413):
        return Forbidden(error.message)
    return ApiError(error.message, status=error.status if error.status >= 500 else 500)


# -- os-volumes -------------------------------------------------------------------------------

@api.route("GET", _VOLUMES, max_version=PROXY_MAX, target=project_target,
           policy=f"{_RULE}list", expected_errors=400)
async def list_volumes(call: Call) -> dict[str, Any]:
    volumes = await _cinder(call).list_volumes(token=call.context.auth_token)
    return {"volumes": [volume_view(v) for v in limited(call, volumes)]}


@api.route("GET", f"{_VOLUMES}/detail", max_version=PROXY_MAX, target=project_target,
           policy=f"{_RULE}detail", expected_errors=400)
async def list_volumes_detail(call: Call) -> dict[str, Any]:
    volumes = await _cinder(call).list_volumes(token=call.context.auth_token)
    return {"volumes": [volume_view(v) for v in limited(call, volumes)]}


@api.route("GET", f"{_VOLUMES}/{{volume_id}}", max_version=PROXY_MAX, target=project_target,
           policy=f"{_RULE}show", expected_errors=(400, 403, 404))
async def show_volume(call: Call) -> dict[str, Any]:
    ident = call.params["volume_id"]
    try:
        volume = await _cinder(call).get(ident, token=call.context.auth_token)
    except CinderError as error:
        raise _translated(error, f"Volume {ident} could not be found.") from None
    return {"volume": volume_view(volume)}


@api.route("POST", _VOLUMES, max_version=PROXY_MAX, target=project_target,
           policy=f"{_RULE}create", schema=CREATE_VOLUME, expected_errors=(400, 403, 404))
async def create_volume(call: Call) -> Reply:
    fields = call.body["volume"]
    cinder = _cinder(call)
    token = call.context.auth_token
    snapshot_id = fields.get("snapshot_id")
    size = fields.get("size")
    if snapshot_id is not None:
        try:
            snapshot = await cinder.get_snapshot(snapshot_id, token=token)
        except CinderError as error:
            raise _translated(error, f"Snapshot {snapshot_id} could not be found.") from None
        size = size or snapshot.get("size")
    try:
        made = await cinder.create({
            "size": int(size) if size is not None else None,
            "name": fields.get("display_name"),
            "description": fields.get("display_description"),
            "snapshot_id": snapshot_id, "volume_type": fields.get("volume_type"),
            "metadata": fields.get("metadata"),
            "availability_zone": fields.get("availability_zone")}, token=token)
    except CinderError as error:
        if error.status == 404:
            raise NotFound(error.message) from None
        raise _translated(error, error.message) from None
    return Reply({"volume": volume_view(made)}, status=200,
                 headers={"Location": call.url_for(f"{_VOLUMES}/{made['id']}")})


@api.route("DELETE", f"{_VOLUMES}/{{volume_id}}", max_version=PROXY_MAX, status=202,
           target=project_target, policy=f"{_RULE}delete", expected_errors=(400, 403, 404))
async def delete_volume(call: Call) -> None:
    ident = call.params["volume_id"]
    try:
        await _cinder(call).delete_strict(ident, token=call.context.auth_token)
    except CinderError as error:
        raise _translated(error, f"Volume {ident} could not be found.") from None


# A blank id names no volume or snapshot: nova's router finds nothing (404). Declared so it
# is not taken for a path stacklab does not serve (501).
@api.route("GET", f"{_VOLUMES}/", max_version=PROXY_MAX, expected_errors=404)
async def show_blank_volume(call: Call) -> None:
    raise NotFound("The resource could not be found.")


@api.route("DELETE", f"{_VOLUMES}/", max_version=PROXY_MAX, expected_errors=404)
async def delete_blank_volume(call: Call) -> None:
    raise NotFound("The resource could not be found.")


# -- os-snapshots -----------------------------------------------------------------------------

@api.route("GET", _SNAPSHOTS, max_version=PROXY_MAX, target=project_target,
           policy=f"{_RULE}snapshots:list", expected_errors=400)
async def list_snapshots(call: Call) -> dict[str, Any]:
    snapshots = await _cinder(call).list_snapshots(token=call.context.auth_token)
    return {"snapshots": [snapshot_view(s) for s in limited(call, snapshots)]}


@api.route("GET", f"{_SNAPSHOTS}/detail", max_version=PROXY_MAX, target=project_target,
           policy=f"{_RULE}snapshots:detail", expected_errors=400)
async def list_snapshots_detail(call: Call) -> dict[str, Any]:
    snapshots = await _cinder(call).list_snapshots(token=call.context.auth_token)
    return {"snapshots": [snapshot_view(s) for s in limited(call, snapshots)]}


@api.route("GET", f"{_SNAPSHOTS}/{{snapshot_id}}", max_version=PROXY_MAX,
           target=project_target, policy=f"{_RULE}snapshots:show", expected_errors=(400, 403, 404))
async def show_snapshot(call: Call) -> dict[str, Any]:
    ident = call.params["snapshot_id"]
    try:
        snapshot = await _cinder(call).get_snapshot(ident, token=call.context.auth_token)
    except CinderError as error:
        raise _translated(error, f"Snapshot {ident} could not be found.") from None
    return {"snapshot": snapshot_view(snapshot)}


@api.route("POST", _SNAPSHOTS, max_version=PROXY_MAX, target=project_target,
           policy=f"{_RULE}snapshots:create", schema=CREATE_SNAPSHOT,
           expected_errors=(400, 403, 404))
async def create_snapshot(call: Call) -> dict[str, Any]:
    fields = call.body["snapshot"]
    volume_id = fields["volume_id"]
    force = str(fields.get("force", False)).lower() in ("true", "1", "on", "yes")
    try:
        made = await _cinder(call).create_snapshot(
            volume_id, fields.get("display_name"), fields.get("display_description"),
            force=force, token=call.context.auth_token)
    except CinderError as error:
        # nova answers cinder's refusals (a 400 from cinder, a missing volume) with a 500
        # it did not expect; stacklab answers them as the client's error they are.
        if error.status == 413:
            raise Forbidden("Quota exceeded for resources: snapshots") from None
        raise _translated(error, f"Volume {volume_id} could not be found.") from None
    return {"snapshot": snapshot_view(made)}


@api.route("DELETE", f"{_SNAPSHOTS}/{{snapshot_id}}", max_version=PROXY_MAX, status=202,
           target=project_target, policy=f"{_RULE}snapshots:delete",
           expected_errors=(400, 403, 404))
async def delete_snapshot(call: Call) -> None:
    ident = call.params["snapshot_id"]
    try:
        await _cinder(call).delete_snapshot(ident, token=call.context.auth_token)
    except CinderError as error:
        raise _translated(error, f"Snapshot {ident} could not be found.") from None
