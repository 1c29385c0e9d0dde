"""``/limits`` and ``/os-availability-zone``."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.clock import isotime
from stacklab.compute import models as m
from stacklab.compute.aggregates import INTERNAL_ZONE
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


def _zones(call: Call) -> tuple[list[tuple[str, m.ServiceRecord]], list[str], list[str]]:
    """nova's ``get_availability_zones``: the zones of enabled services are available, the
    zones only disabled services are in are not."""
    services = compute(call).service_zones()
    available = sorted({zone for zone, record in services if not record.disabled})
    unavailable = sorted({zone for zone, record in services
                          if record.disabled and zone not in available})
    return services, available, unavailable


@api.route("GET", "/v2.1/os-availability-zone",
           policy="os_compute_api:os-availability-zone:list", target=project_target,
           expected_errors=())
async def availability_zones(call: Call) -> dict[str, Any]:
    _, available, unavailable = _zones(call)
    # The internal zone (of the services that are not hypervisors) is not shown here.
    return {"availabilityZoneInfo": [
        {"zoneName": zone, "zoneState": {"available": state}, "hosts": None}
        for names, state in ((available, True), (unavailable, False))
        for zone in names if zone != INTERNAL_ZONE]}


@api.route("GET", "/v2.1/os-availability-zone/detail",
           policy="os_compute_api:os-availability-zone:detail", target=project_target,
           expected_errors=())
async def availability_zones_detail(call: Call) -> dict[str, Any]:
    services, available, unavailable = _zones(call)
    is_up = compute(call).services.is_up
    hosts: dict[str, dict[str, dict[str, Any]]] = {}
    for zone, record in services:
        if record.disabled:
            continue
        hosts.setdefault(zone, {}).setdefault(record.host, {})[record.binary] = {
            "available": is_up(record), "active": True,
            "updated_at": _when(record.updated_at)}
    return {"availabilityZoneInfo": [
        {"zoneName": zone, "zoneState": {"available": True}, "hosts": hosts.get(zone, {})}
        for zone in available] + [
        {"zoneName": zone, "zoneState": {"available": False}, "hosts": None}
        for zone in unavailable]}


def _when(moment: float | None) -> str | None:
    # nova's datetimes, naive UTC with microseconds.
    return None if moment is None else isotime(moment, subsecond=True).removesuffix("Z")
