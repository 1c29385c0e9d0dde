"""A server as the API shows it, field by field as nova's view builder at each microversion."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from stacklab.api.service import Call
from stacklab.clock import isotime
from stacklab.compute import image_meta, states
from stacklab.compute import models as m
from stacklab.compute.api.base import compute, links


def usage_time(moment: float | None) -> str | None:
    """``OS-SRV-USG`` times: nova prints them naive, with microseconds."""
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def host_id(project_id: str, host: str | None) -> str:
    """An opaque id of the host, per project, so users can tell co-location without host names."""
    if not host:
        return ""
    return hashlib.sha224(f"{project_id}{host}".encode()).hexdigest()


def _flavor(call: Call, instance: m.Instance) -> dict[str, Any]:
    flavor = instance.flavor
    if not call.version_at_least("2.47"):
        ident = flavor.get("flavorid", "")
        return {"id": ident, "links": [{"rel": "bookmark",
                                        "href": call.url_for(f"/flavors/{ident}")}]}
    body = {"vcpus": flavor["vcpus"], "ram": flavor["memory_mb"], "disk": flavor["root_gb"],
            "ephemeral": flavor["ephemeral_gb"], "swap": flavor["swap"],
            "original_name": flavor["name"]}
    if call.allows("os_compute_api:servers:show:flavor-extra-specs", _target(instance)):
        body["extra_specs"] = {k: str(v) for k, v in flavor.get("extra_specs", {}).items()}
    return body


def _image(call: Call, instance: m.Instance) -> Any:
    if not instance.image_ref:
        return ""  # booted from a volume
    image: dict[str, Any] = {"id": instance.image_ref, "links": [
        {"rel": "bookmark", "href": call.url_for(f"/images/{instance.image_ref}")}]}
    if call.version_at_least("2.98"):
        image["properties"] = image_meta.shown_properties(instance.system_metadata or {})
    return image


def _target(instance: m.Instance) -> dict[str, str]:
    return {"project_id": instance.project_id, "user_id": instance.user_id}


def _attached(call: Call, instance: m.Instance) -> list[tuple[str, bool]]:
    """The server's volumes (from the block device mappings, as nova reads them): every
    server's read once per request, a list showing many servers."""
    attached = call.memo.get("attached_volumes")
    if attached is None:
        attached = call.memo["attached_volumes"] = compute(call).volumes.all_attached()
    return list(attached.get(instance.uuid, ()))


def host_status(call: Call, instance: m.Instance) -> str:
    if not instance.host:
        return ""
    records = call.memo.get("compute_records")
    if records is None:
        records = call.memo["compute_records"] = compute(call).compute_records()
    service = records.get(instance.host)
    if service is None:
        return "UNKNOWN"
    if service.forced_down or not compute(call).services.is_up(service):
        return "DOWN"
    return "MAINTENANCE" if service.disabled else "UP"


def render_server(call: Call, instance: m.Instance, *, full: bool = True,
                  show_groups: bool = False) -> dict[str, Any]:
    """``full`` is what GET shows; PUT and rebuild showed less before 2.75.
    ``show_groups`` is for the single-server views that list its group (2.71)."""
    status = states.status_from_state(instance.vm_state, instance.task_state)
    body: dict[str, Any] = {
        "id": instance.uuid, "name": instance.name, "status": status,
        "tenant_id": instance.project_id, "user_id": instance.user_id,
        "metadata": dict(instance.metadata_), "hostId": host_id(instance.project_id, instance.host),
        "image": _image(call, instance), "flavor": _flavor(call, instance),
        "created": isotime(instance.created_at),
        "updated": isotime(instance.updated_at or instance.created_at),
        "addresses": dict(instance.addresses),
        "accessIPv4": instance.access_ipv4, "accessIPv6": instance.access_ipv6,
        "links": links(call, "servers", instance.uuid),
        "OS-DCF:diskConfig": instance.disk_config,
    }
    if status in states.PROGRESS_STATUSES:
        body["progress"] = instance.progress
    if status in states.FAULT_STATUSES and instance.fault:
        fault = instance.fault
        rendered = {"code": fault["code"], "message": fault["message"],
                    "created": isotime(fault["created"])}
        # nova shows the details (a traceback upstream) to admins, and always for non-500s.
        if fault.get("details") and (call.context.is_admin or fault["code"] != 500):
            rendered["details"] = fault["details"]
        body["fault"] = rendered
    if call.version_at_least("2.9"):
        body["locked"] = instance.locked
    if call.version_at_least("2.73"):
        body["locked_reason"] = instance.locked_reason
    if call.version_at_least("2.19"):
        body["description"] = instance.description
    if call.version_at_least("2.26"):
        body["tags"] = list(instance.tags)
    if call.version_at_least("2.63"):
        body["trusted_image_certificates"] = instance.trusted_certs
    if show_groups and call.version_at_least("2.71"):
        body["server_groups"] = [instance.server_group] if instance.server_group else []
    if not (full or call.version_at_least("2.75")):
        # PUT and rebuild showed plain addresses (nova's extend_address=False).
        body["addresses"] = {net: [{"version": a["version"], "addr": a["addr"]} for a in addrs]
                             for net, addrs in instance.addresses.items()}
        return body
    body["OS-EXT-AZ:availability_zone"] = instance.availability_zone or ""
    body["config_drive"] = instance.config_drive
    body["key_name"] = instance.key_name
    body["OS-EXT-STS:task_state"] = instance.task_state
    body["OS-EXT-STS:vm_state"] = instance.vm_state
    body["OS-EXT-STS:power_state"] = instance.power_state
    body["OS-SRV-USG:launched_at"] = usage_time(instance.launched_at)
    body["OS-SRV-USG:terminated_at"] = usage_time(instance.terminated_at)
    volumes: list[dict[str, Any]] = []
    for volume_id, delete_on_termination in _attached(call, instance):
        volume: dict[str, Any] = {"id": volume_id}
        if call.version_at_least("2.3"):
            volume["delete_on_termination"] = delete_on_termination
        volumes.append(volume)
    body["os-extended-volumes:volumes_attached"] = volumes
    if instance.security_groups and instance.addresses:
        body["security_groups"] = [{"name": name} for name in instance.security_groups]
    if call.allows("os_compute_api:os-extended-server-attributes", _target(instance)):
        body["OS-EXT-SRV-ATTR:host"] = instance.host
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = instance.node
        body["OS-EXT-SRV-ATTR:instance_name"] = f"instance-{instance.id:08x}"
        if call.version_at_least("2.3"):
            body["OS-EXT-SRV-ATTR:reservation_id"] = instance.reservation_id
            body["OS-EXT-SRV-ATTR:launch_index"] = instance.launch_index
            body["OS-EXT-SRV-ATTR:hostname"] = instance.hostname
            body["OS-EXT-SRV-ATTR:kernel_id"] = ""
            body["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            body["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
            body["OS-EXT-SRV-ATTR:user_data"] = instance.user_data
    elif call.version_at_least("2.90"):
        body["OS-EXT-SRV-ATTR:hostname"] = instance.hostname
    if call.version_at_least("2.16") and call.allows(
            "os_compute_api:servers:show:host_status", _target(instance)):
        body["host_status"] = host_status(call, instance)
    if call.version_at_least("2.96"):
        body["pinned_availability_zone"] = instance.requested_zone
    if call.version_at_least("2.100"):
        # The request spec's hints: nova keeps each value as a list.
        body["scheduler_hints"] = {name: value if isinstance(value, list) else [value]
                                   for name, value in (instance.scheduler_hints or {}).items()}
    return body
