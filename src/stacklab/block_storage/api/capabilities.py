"""A backend's capabilities (cinder/api/contrib/capabilities.py): cinder-api asks the
cinder-volume serving it over RPC and shows what its driver reports."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import ApiError, NotFound
from stacklab.api.service import Call
from stacklab.block_storage.api.base import api, block_storage, project_target
from stacklab.block_storage.servicegroup import TOPICS, VOLUME
from stacklab.bus.interface import MessagingError, Target


@api.route("GET", "/v3/capabilities/{host}", policy="volume_extension:capabilities",
           target=project_target, expected_errors=(404, 502))
async def show_capabilities(call: Call) -> dict[str, Any]:
    service = block_storage(call)
    wanted = call.params["host"]
    # cinder's host_or_cluster filter: a backend ("host@backend"), or a bare host
    # matching its backends; the first service's queue is asked.
    records = service.list_services(host=wanted, binary=VOLUME)
    if not records:
        raise NotFound(f"Can't find service: {wanted}")
    topic = records[0].host
    try:
        capabilities = await service.bus.call(Target(TOPICS[VOLUME], topic),
                                               "get_capabilities", discover=False)
    except MessagingError:
        raise ApiError(f"Timeout while requesting capabilities from backend {topic}.",
                       status=502) from None
    protocol = capabilities.get("storage_protocol")
    if isinstance(protocol, list):
        protocol = protocol[0]  # the preferred of a driver's variants
    return {
        "namespace": f"OS::Storage::Capabilities::{topic}",
        "vendor_name": capabilities.get("vendor_name"),
        "volume_backend_name": capabilities.get("volume_backend_name"),
        "pool_name": capabilities.get("pool_name"),
        "driver_version": capabilities.get("driver_version"),
        "storage_protocol": protocol,
        "display_name": capabilities.get("display_name"),
        "description": capabilities.get("description"),
        "visibility": capabilities.get("visibility"),
        "replication_targets": capabilities.get("replication_targets", []),
        "properties": capabilities.get("properties"),
    }
