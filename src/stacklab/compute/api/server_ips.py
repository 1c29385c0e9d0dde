"""``GET /servers/{id}/ips[/{network_label}]``: a server's addresses by network.

nova answers from its network info cache (here the server's recorded addresses), not
from neutron, and shows only each address and its IP version.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import NotFound
from stacklab.api.service import Call
from stacklab.compute.api.base import api, compute
from stacklab.compute.api.servers import get_instance, server_target

_IPS = "/v2.1/servers/{server_id}/ips"


def _addresses(call: Call) -> dict[str, list[dict[str, Any]]]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        return {label: [{"version": a["version"], "addr": a["addr"]} for a in addresses]
                for label, addresses in instance.addresses.items()}


@api.route("GET", _IPS, policy="os_compute_api:ips:index", target=server_target,
           expected_errors=404)
async def list_ips(call: Call) -> dict[str, Any]:
    return {"addresses": _addresses(call)}


@api.route("GET", f"{_IPS}/{{network_label}}", policy="os_compute_api:ips:show",
           target=server_target, expected_errors=404)
async def show_ips(call: Call) -> dict[str, Any]:
    addresses = _addresses(call)
    label = call.params["network_label"]
    if label not in addresses:
        raise NotFound("Instance is not a member of specified network")
    return {label: addresses[label]}
