"""``/os-floating-ips`` and ``/os-floating-ip-pools`` until 2.35, and the server actions
``addFloatingIp``/``removeFloatingIp`` until 2.43: neutron's floating IPs in nova's words."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.api.service import Call
from stacklab.compute import models as m
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.api.images import PROXY_MAX
from stacklab.compute.api.server_actions import _ANYTIME, action
from stacklab.compute.api.servers import get_instance

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


# -- the server actions (nova-network's, kept for neutron until 2.43) ---------------------------


def _fixed_addresses(instance: m.Instance) -> list[str]:
    return [a["addr"] for addresses in instance.addresses.values() for a in addresses
            if a.get("OS-EXT-IPS:type", "fixed") == "fixed"]


def _ipv4(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).version == 4
    except ValueError:
        return False


@action("addFloatingIp", f"{_RULE}add", _ANYTIME, record_as=None, max_version="2.43",
        expected_errors=(400, 403, 404))
async def _add_floating_ip(call: Call, session: Session, instance: m.Instance,
                           args: dict[str, Any]) -> Any:
    address = args["address"]
    if not instance.addresses:
        raise BadRequest("Instance network is not ready yet")
    fixed = _fixed_addresses(instance)
    if not fixed:
        raise BadRequest("No fixed IPs associated to instance")
    fixed_address = args.get("fixed_address")
    if fixed_address:
        if fixed_address not in fixed:
            raise BadRequest("Specified fixed address not assigned to instance")
    else:
        fixed_address = next((a for a in fixed if _ipv4(a)), None)
        if fixed_address is None:
            raise BadRequest(f"Unable to associate floating IP {address} to any fixed IPs for "
                             f"instance {instance.uuid}. Instance has no fixed IPv4 addresses "
                             "to associate.")
    networking = compute(call).networking
    fip = await networking.floating_ip_by_address(call.context, address)
    if fip is None:
        raise NotFound("floating IP not found")
    previous = (fip.get("port_details") or {}).get("device_id") if fip.get("port_id") else None
    await networking.associate(call.context, instance.uuid, fip["id"], fixed_address)
    instance.addresses = await networking.addresses(instance.uuid)
    if previous and previous != instance.uuid:
        await networking.refresh_addresses(previous)
    return None


@action("removeFloatingIp", f"{_RULE}remove", _ANYTIME, record_as=None, max_version="2.43",
        expected_errors=(400, 403, 404, 409))
async def _remove_floating_ip(call: Call, session: Session, instance: m.Instance,
                              args: dict[str, Any]) -> Any:
    address = args["address"]
    networking = compute(call).networking
    fip = await networking.floating_ip_by_address(call.context, address)
    if fip is None:
        raise NotFound(f"Floating IP not found for address {address}.")
    holder = (fip.get("port_details") or {}).get("device_id") if fip.get("port_id") else None
    if holder:
        # The policy is asked of the server that holds the address, as nova does.
        with compute(call).db.session() as other:
            held = get_instance(call, other, holder)
            call.authorize(f"{_RULE}remove", {"project_id": held.project_id,
                                              "user_id": held.user_id})
    if holder != instance.uuid:
        raise Conflict(f"Floating IP {address} is not associated with instance "
                       f"{instance.uuid}.")
    await networking.disassociate(call.context, fip["id"])
    instance.addresses = await networking.addresses(instance.uuid)
    return None
