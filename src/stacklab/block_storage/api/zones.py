"""os-availability-zone: the zones of the enabled cinder-volume services, each available
while one of its services is up (cinder/volume/api.py list_availability_zones)."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.block_storage.api.base import api, block_storage


@api.route("GET", "/v3/os-availability-zone", expected_errors=())
async def list_zones(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    return {"availabilityZoneInfo": [
        {"zoneName": zone, "zoneState": {"available": available}}
        for zone, available in service.zones().items()]}
