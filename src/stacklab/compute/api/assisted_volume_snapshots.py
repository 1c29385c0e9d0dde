"""``/os-assisted-volume-snapshots``: cinder's file-based drivers (NFS, GlusterFS and the
other remotefs ones) asking nova to snapshot, or merge away a snapshot of, a volume file
an active guest has open (nova/api/openstack/compute/assisted_volume_snapshots.py).

Only the service user may (``os_compute_api:os-assisted-volume-snapshots:*``). nova-api
finds the server by the volume's mapping, checks it is on a host with no task running,
and casts to its compute; the answer does not wait for the hypervisor.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from stacklab.api.errors import BadRequest
from stacklab.api.service import Call, Reply
from stacklab.bus.interface import Target
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute
from stacklab.compute.api.servers import bus_context

_ROOT = "/v2.1/os-assisted-volume-snapshots"
_RULE = "os_compute_api:os-assisted-volume-snapshots:"
_TEXT = {"type": "string", "minLength": 1}
_CREATE = {
    "type": "object",
    "properties": {"snapshot": {
        "type": "object",
        "properties": {
            "volume_id": _TEXT,
            "create_info": {
                "type": "object",
                "properties": {"snapshot_id": _TEXT,
                               "type": {"type": "string", "enum": ["qcow2"]},
                               "new_file": _TEXT, "id": _TEXT},
                "required": ["snapshot_id", "type", "new_file"],
                "additionalProperties": False},
        },
        "required": ["volume_id", "create_info"],
        "additionalProperties": False}},
    "required": ["snapshot"],
    "additionalProperties": False,
}


def _no_target(call: Call) -> dict[str, Any]:
    return {}   # nova checks these rules with an empty target


def _instance_of(call: Call, volume_id: str, method: str) -> m.Instance:
    """The server the volume is mapped to, on a host and with no task running (nova's
    _get_bdm_by_volume_id, check_instance_host, check_instance_state): else 400, as nova
    answers every one of these."""
    with compute(call).db.session() as session:
        rows = list(session.scalars(select(m.BlockDeviceMapping).where(
            m.BlockDeviceMapping.volume_id == volume_id,
            m.BlockDeviceMapping.destination_type == "volume")))
        if not rows:
            raise BadRequest(f"No volume Block Device Mapping with id {volume_id}.")
        if len(rows) > 1:
            raise BadRequest(f"Block Device Mapping {volume_id} is a multi-attach volume "
                             "and is not valid for this operation.")
        instance = session.scalar(select(m.Instance).where(
            m.Instance.uuid == rows[0].instance_uuid))
        if instance is None:
            raise BadRequest(f"No volume Block Device Mapping with id {volume_id}.")
        if not instance.host:
            raise BadRequest(f"Instance {instance.uuid} is not ready")
        if instance.task_state is not None:
            raise BadRequest(f"Instance {instance.uuid} in task_state "
                             f"{instance.task_state}. Cannot {method} while the instance is "
                             "in this state.")
        session.expunge(instance)
        return instance


@api.route("POST", _ROOT, policy=f"{_RULE}create", target=_no_target, schema=_CREATE,
           expected_errors=(400, 403))
async def create_assisted_volume_snapshot(call: Call) -> dict[str, Any]:
    snapshot = call.body["snapshot"]
    volume_id, create_info = snapshot["volume_id"], dict(snapshot["create_info"])
    instance = _instance_of(call, volume_id, "volume_snapshot_create")
    await compute(call).bus.cast(
        _compute(instance), "volume_snapshot_create", instance_uuid=instance.uuid,
        volume_id=volume_id, create_info=create_info, ctxt=_context(call))
    # The id is the one cinder gave in create_info, if any (none: null).
    return {"snapshot": {"id": create_info.get("id"), "volumeId": volume_id}}


@api.route("DELETE", f"{_ROOT}/{{snapshot_id}}", policy=f"{_RULE}delete",
           target=_no_target, status=204, expected_errors=(400, 403, 404))
async def delete_assisted_volume_snapshot(call: Call) -> Reply:
    try:
        delete_info = json.loads(call.query["delete_info"])
        volume_id = delete_info["volume_id"]
    except (KeyError, ValueError, TypeError) as exc:
        # nova answers its KeyError and ValueError so (a TypeError, for delete_info that
        # is no JSON object, would be its 500).
        raise BadRequest(str(exc)) from None
    instance = _instance_of(call, str(volume_id), "volume_snapshot_delete")
    if delete_info.get("merge_target_file") is not None and instance.vm_state != "active":
        # nova refuses an offline merge of an intermediate snapshot (its bug 1919487).
        raise BadRequest(f"Instance {instance.uuid} in vm_state {instance.vm_state}. Cannot "
                         "volume_snapshot_delete while the instance is in this state.")
    await compute(call).bus.cast(
        _compute(instance), "volume_snapshot_delete", instance_uuid=instance.uuid,
        volume_id=str(volume_id), snapshot_id=call.params["snapshot_id"],
        delete_info=delete_info, ctxt=_context(call))
    return Reply(None, status=204)


def _compute(instance: m.Instance) -> Target:
    return Target("compute", instance.host)


def _context(call: Call) -> dict[str, Any]:
    # The token goes along: the compute reports the snapshot's status back to cinder.
    return {**bus_context(call), "auth_token": call.context.auth_token}
