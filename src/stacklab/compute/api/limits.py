"""``/limits`` and ``/os-availability-zone``."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.compute.api.base import api, compute, project_target


@api.route("GET", "/v2.1/limits", policy="os_compute_api:limits", target=project_target,
           expected_errors=())
async def limits(call: Call) -> dict[str, Any]:
    service = compute(call)
    project = call.context.project_id or ""
    quota = service.quotas.limits(project)
    usage = service.quotas.usage(project)
    absolute: dict[str, Any] = {
        "maxServerMeta": quota["metadata_items"], "maxServerGroups": quota["server_groups"],
        "maxServerGroupMembers": quota["server_group_members"],
        "maxTotalCores": quota["cores"], "maxTotalInstances": quota["instances"],
        "maxTotalKeypairs": quota["key_pairs"], "maxTotalRAMSize": quota["ram"],
        "totalCoresUsed": usage["cores"],
        "totalInstancesUsed": usage["instances"], "totalRAMUsed": usage["ram"],
        "totalServerGroupsUsed": usage["server_groups"],
    }
    if not call.version_at_least("2.57"):
        absolute.update(maxPersonality=quota["injected_files"],
                        maxPersonalitySize=quota["injected_file_content_bytes"])
    if not call.version_at_least("2.39"):
        absolute["maxImageMeta"] = quota["metadata_items"]
    if not call.version_at_least("2.36"):
        # The network proxies' limits, gone with those proxies in 2.36.
        absolute.update(maxSecurityGroups=quota["security_groups"],
                        maxSecurityGroupRules=quota["security_group_rules"],
                        maxTotalFloatingIps=quota["floating_ips"],
                        totalFloatingIpsUsed=0, totalSecurityGroupsUsed=0)
    return {"limits": {"rate": [], "absolute": absolute}}


@api.route("GET", "/v2.1/os-availability-zone",
           policy="os_compute_api:os-availability-zone:list", target=project_target,
           expected_errors=())
async def availability_zones(call: Call) -> dict[str, Any]:
    zones = compute(call).availability_zones()
    return {"availabilityZoneInfo": [
        {"zoneName": zone, "zoneState": {"available": True}, "hosts": None}
        for zone in sorted(zones) if zone != "internal"]}


@api.route("GET", "/v2.1/os-availability-zone/detail",
           policy="os_compute_api:os-availability-zone:detail", target=project_target,
           expected_errors=())
async def availability_zones_detail(call: Call) -> dict[str, Any]:
    zones = compute(call).availability_zones()
    return {"availabilityZoneInfo": [
        {"zoneName": zone, "zoneState": {"available": True},
         "hosts": {host: {service: {"available": True, "active": True, "updated_at": None}
                          for service in services} for host, services in sorted(hosts.items())}}
        for zone, hosts in sorted(zones.items())]}
