"""``/os-networks`` and ``/os-tenant-networks`` until 2.35: neutron's networks as nova-network's.

Only the id and the label (the network's name) are still filled in; what nova-network
kept of a network is null, and shown only to an admin on ``/os-networks``. What only
nova-network could do (create, delete, associate) is 410 Gone at every version, as nova
answers since it removed nova-network.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import Gone
from stacklab.api.service import Call
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.api.images import PROXY_MAX

_NETWORKS = "/v2.1/os-networks"
_TENANT_NETWORKS = "/v2.1/os-tenant-networks"
_FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6",
           "gateway_v6", "label", "netmask_v6")
_ADMIN_FIELDS = ("created_at", "updated_at", "deleted_at", "deleted", "injected", "bridge",
                 "vlan", "vpn_public_address", "vpn_public_port", "vpn_private_address",
                 "dhcp_start", "project_id", "host", "bridge_interface", "multi_host",
                 "priority", "rxtx_base", "mtu", "dhcp_server", "enable_dhcp", "share_address")


def _network(call: Call, network: dict[str, Any]) -> dict[str, Any]:
    fields = _FIELDS + (_ADMIN_FIELDS if call.context.is_admin else ())
    body: dict[str, Any] = dict.fromkeys(fields)
    body.update(id=network["id"], label=network["name"])
    return body


def _tenant_network(network: dict[str, Any]) -> dict[str, Any]:
    # nova writes str(None) for the CIDR it no longer knows.
    return {"id": network["id"], "cidr": "None", "label": network["name"]}


async def _gone(call: Call) -> Any:
    # nova raises webob's HTTPGone with no explanation of its own: webob's is the message.
    raise Gone("This resource is no longer available.  No forwarding address is given.")


# Declared first: a literal path (``/os-networks/add``) must come before ``/{network_id}``.
for _method, _path in (("POST", _NETWORKS), ("POST", f"{_NETWORKS}/add"),
                       ("DELETE", f"{_NETWORKS}/{{network_id}}"),
                       ("POST", f"{_NETWORKS}/{{network_id}}/action"),
                       ("POST", _TENANT_NETWORKS),
                       ("DELETE", f"{_TENANT_NETWORKS}/{{network_id}}")):
    api.route(_method, _path, expected_errors=410, body_optional=True)(_gone)


@api.route("GET", _NETWORKS, policy="os_compute_api:os-networks:list", target=project_target,
           max_version=PROXY_MAX, expected_errors=())
async def list_networks(call: Call) -> dict[str, Any]:
    networks = await compute(call).networking.networks(call.context)
    return {"networks": [_network(call, n) for n in networks]}


@api.route("GET", f"{_NETWORKS}/{{network_id}}", policy="os_compute_api:os-networks:show",
           target=project_target, max_version=PROXY_MAX, expected_errors=404)
async def show_network(call: Call) -> dict[str, Any]:
    network = await compute(call).networking.network(call.context, call.params["network_id"])
    return {"network": _network(call, network)}


@api.route("GET", _TENANT_NETWORKS, policy="os_compute_api:os-tenant-networks:list",
           target=project_target, max_version=PROXY_MAX, expected_errors=())
async def list_tenant_networks(call: Call) -> dict[str, Any]:
    networks = await compute(call).networking.networks(call.context)
    return {"networks": [_tenant_network(n) for n in networks]}


@api.route("GET", f"{_TENANT_NETWORKS}/{{network_id}}",
           policy="os_compute_api:os-tenant-networks:show", target=project_target,
           max_version=PROXY_MAX, expected_errors=404)
async def show_tenant_network(call: Call) -> dict[str, Any]:
    network = await compute(call).networking.network(call.context, call.params["network_id"])
    return {"network": _tenant_network(network)}
