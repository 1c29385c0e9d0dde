"""nova's versioned notification payloads (nova/notifications/objects/instance.py and
flavor.py, keypair.py): what ``instance.create.end``, ``instance.update`` and the other
``instance.*`` notifications carry, as the versioned object envelope its serializer puts
on the wire (``nova_object.name``, ``.namespace``, ``.version``, ``.data``).

The versions are the payloads' current ones upstream; a field the lab has no value for
gets nova's value for an instance without it (no kernel, no architecture, no block device
list unless ``[notifications] bdms_in_notifications``, which the lab leaves off). An
address's ``port_uuid`` and ``device_name`` are null: the server's addresses as the lab
keeps them do not name their port.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from stacklab.compute import models as m
from stacklab.compute import states

# The payloads' versions (nova/notifications/objects/*.py VERSION).
VERSIONS = {
    "InstanceActionPayload": "1.9",
    "InstanceCreatePayload": "1.13",
    "InstanceUpdatePayload": "2.1",
    "InstanceActionResizePrepPayload": "1.4",
    "InstanceStateUpdatePayload": "1.0",
    "AuditPeriodPayload": "1.0",
    "FlavorPayload": "1.4",
    "IpPayload": "1.0",
    "KeypairPayload": "1.0",
}


def envelope(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """A payload object as nova's JSON serializer primitives it."""
    return {"nova_object.name": name, "nova_object.namespace": "nova",
            "nova_object.version": VERSIONS[name], "nova_object.data": data}


def isotime(epoch: float | None) -> str | None:
    """oslo.versionedobjects' DateTimeField on the wire: ``2026-12-04T09:35:16Z``."""
    if not epoch:
        return None
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def flavor_payload(flavor: Mapping[str, Any]) -> dict[str, Any]:
    """FlavorPayload of an instance's flavor (its ``projects`` are not loaded: null)."""
    return envelope("FlavorPayload", {
        "flavorid": flavor.get("flavorid"),
        "name": flavor.get("name", ""),
        "memory_mb": _int_or_none(flavor.get("memory_mb")),
        "vcpus": _int_or_none(flavor.get("vcpus")),
        "root_gb": _int_or_none(flavor.get("root_gb")),
        "ephemeral_gb": _int_or_none(flavor.get("ephemeral_gb")),
        "swap": int(flavor.get("swap") or 0),
        "rxtx_factor": float(flavor.get("rxtx_factor") or 1.0),
        "vcpu_weight": _int_or_none(flavor.get("vcpu_weight")) or 0,
        "disabled": bool(flavor.get("disabled", False)),
        "is_public": bool(flavor.get("is_public", True)),
        "extra_specs": {str(k): str(v) for k, v in (flavor.get("extra_specs") or {}).items()},
        "projects": None,
        "description": flavor.get("description"),
    })


def ip_payloads(addresses: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """IpPayload of each fixed address, by network label (floating ones are not listed:
    nova takes them from the VIFs' fixed IPs only)."""
    found = []
    for label, entries in (addresses or {}).items():
        for entry in entries or []:
            if entry.get("OS-EXT-IPS:type", "fixed") != "fixed":
                continue
            found.append(envelope("IpPayload", {
                "label": label, "mac": entry.get("OS-EXT-IPS-MAC:mac_addr"), "meta": {},
                "port_uuid": None, "version": int(entry.get("version", 4)),
                "address": entry.get("addr"), "device_name": None}))
    return found


def keypair_payload(keypair: m.KeyPair) -> dict[str, Any]:
    return envelope("KeypairPayload", {
        "user_id": keypair.user_id, "name": keypair.name, "fingerprint": keypair.fingerprint,
        "public_key": keypair.public_key, "type": keypair.type})


def instance_data(instance: m.Instance, ctxt: Mapping[str, Any]) -> dict[str, Any]:
    """InstancePayload's fields: the server as it is now, and who asked (the context)."""
    user, project = ctxt.get("user_id"), ctxt.get("project_id")
    return {
        "uuid": instance.uuid,
        "user_id": instance.user_id,
        "tenant_id": instance.project_id,
        "reservation_id": instance.reservation_id or None,
        "display_name": instance.name,
        "display_description": instance.description,
        "host_name": instance.hostname or None,
        "host": instance.host,
        "node": instance.node,
        "os_type": None,
        "architecture": None,
        "availability_zone": instance.availability_zone,
        "flavor": flavor_payload(instance.flavor or {}),
        "image_uuid": instance.image_ref or "",
        "key_name": instance.key_name,
        "kernel_id": "",
        "ramdisk_id": "",
        "created_at": isotime(instance.created_at),
        "launched_at": isotime(instance.launched_at),
        "terminated_at": isotime(instance.terminated_at),
        "deleted_at": isotime(instance.deleted_at),
        "updated_at": isotime(instance.updated_at),
        "state": instance.vm_state,
        "power_state": states.power_state_name(instance.power_state or 0),
        "task_state": instance.task_state,
        "progress": int(instance.progress or 0),
        "ip_addresses": ip_payloads(instance.addresses),
        "block_devices": None,
        "metadata": {str(k): str(v) for k, v in (instance.metadata_ or {}).items()},
        "locked": bool(instance.locked),
        "auto_disk_config": instance.disk_config or "MANUAL",
        # nova leaves the request id out of what a periodic task (no user) sends.
        "request_id": ctxt.get("request_id") if user and project else None,
        "action_initiator_user": user,
        "action_initiator_project": project,
        "locked_reason": instance.locked_reason,
        "shares": [],
    }


def action_payload(instance: m.Instance, ctxt: Mapping[str, Any],
                   fault: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """InstanceActionPayload: ``instance.delete.*``, ``instance.power_off.*``, ..."""
    return envelope("InstanceActionPayload",
                    {**instance_data(instance, ctxt), "fault": fault})


def create_payload(instance: m.Instance, ctxt: Mapping[str, Any],
                   keypairs: list[m.KeyPair]) -> dict[str, Any]:
    """InstanceCreatePayload: ``instance.create.start`` and ``.end`` (its bdms are always
    listed: the build has them at hand)."""
    return envelope("InstanceCreatePayload", {
        **instance_data(instance, ctxt), "fault": None, "block_devices": [],
        "keypairs": [keypair_payload(keypair) for keypair in keypairs],
        "tags": list(instance.tags or []),
        "trusted_image_certificates": list(instance.trusted_certs or []) or None,
        "instance_name": instance_name(instance)})


def resize_prep_payload(instance: m.Instance, ctxt: Mapping[str, Any],
                        new_flavor: Mapping[str, Any]) -> dict[str, Any]:
    """InstanceActionResizePrepPayload: ``instance.resize_prep.*``, with the new flavor."""
    return envelope("InstanceActionResizePrepPayload", {
        **instance_data(instance, ctxt), "fault": None,
        "new_flavor": flavor_payload(new_flavor)})


def update_payload(instance: m.Instance, ctxt: Mapping[str, Any], *, old_state: str,
                   old_task_state: str | None, now: float) -> dict[str, Any]:
    """InstanceUpdatePayload: ``instance.update``, with the state change and the current
    audit period (``instance_usage_audit_period = month``: this month so far)."""
    moment = dt.datetime.fromtimestamp(now, dt.UTC)
    month = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return envelope("InstanceUpdatePayload", {
        **instance_data(instance, ctxt),
        "state_update": envelope("InstanceStateUpdatePayload", {
            "old_state": old_state, "state": instance.vm_state,
            "old_task_state": old_task_state, "new_task_state": instance.task_state}),
        "audit_period": envelope("AuditPeriodPayload", {
            "audit_period_beginning": isotime(month.timestamp()),
            "audit_period_ending": isotime(now)}),
        "old_display_name": None,
        "tags": list(instance.tags or [])})


def instance_name(instance: m.Instance) -> str:
    """nova's ``instance_name_template`` (``instance-%08x`` of the row's id)."""
    return f"instance-{instance.id:08x}"


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
