"""``/os-floating-ips`` and ``/os-floating-ip-pools`` until 2.35: neutron's floating IPs in
nova's words (the server actions ``addFloatingIp`` and ``removeFloatingIp`` are
server_actions')."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.api.images import PROXY_MAX

_FIPS = "/v2.1/os-floating-ips"
_RULE = "os_compute_api:os-floating-ips:"
_CREATE = {"type": ["object", "null"], "properties": {"pool": {"type": ["string", "null"]}}}


def render(fip: dict[str, Any]) -> dict[str, Any]:
    """nova's view: the server is the device of the port the address is on."""
    port = fip.get("port_details") or {}
    network = fip.get("network_details") or {}
    return {"id": fip["id"], "ip": fip["floating_ip_address"],
            "fixed_ip": fip.get("fixed_ip_address"),
            "instance_id": port.get("device_id") if fip.get("port_details") else None,
            "pool": network.get("name") or network.get("id")}


@api.route("GET", _FIPS, policy=f"{_RULE}list", target=project_target, max_version=PROXY_MAX,
           expected_errors=())
async def list_floating_ips(call: Call) -> dict[str, Any]:
    fips = await compute(call).networking.floating_ips(call.context)
    return {"floating_ips": [render(f) for f in fips]}


@api.route("GET", f"{_FIPS}/{{fip_id}}", policy=f"{_RULE}show", target=project_target,
           max_version=PROXY_MAX, expected_errors=(400, 404))
async def show_floating_ip(call: Call) -> dict[str, Any]:
    fip = await compute(call).networking.floating_ip(call.context, call.params["fip_id"])
    return {"floating_ip": render(fip)}


@api.route("POST", _FIPS, policy=f"{_RULE}create", target=project_target,
           max_version=PROXY_MAX, schema=_CREATE, body_optional=True,
           expected_errors=(400, 403, 404))
async def create_floating_ip(call: Call) -> dict[str, Any]:
    pool = call.body.get("pool") if isinstance(call.body, dict) else None
    fip = await compute(call).networking.allocate(call.context, pool)
    return {"floating_ip": render(fip)}


@api.route("DELETE", f"{_FIPS}/{{fip_id}}", policy=f"{_RULE}delete", target=project_target,
           max_version=PROXY_MAX, status=202, expected_errors=(400, 403, 404, 409))
async def delete_floating_ip(call: Call) -> None:
    networking = compute(call).networking
    fip = await networking.floating_ip(call.context, call.params["fip_id"])
    server = (fip.get("port_details") or {}).get("device_id") if fip.get("port_id") else None
    await networking.release(call.context, fip["id"])
    if server:
        # nova refreshes the server's network info once its address is gone.
        await networking.refresh_addresses(server)


@api.route("GET", "/v2.1/os-floating-ip-pools", policy="os_compute_api:os-floating-ip-pools",
           target=project_target, max_version=PROXY_MAX, expected_errors=())
async def list_floating_ip_pools(call: Call) -> dict[str, Any]:
    pools = await compute(call).networking.pools(call.context)
    return {"floating_ip_pools": [{"name": p["name"] or p["id"]} for p in pools]}
