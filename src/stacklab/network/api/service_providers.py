"""``/v2.0/service-providers`` (neutron's service-type extension): the drivers each service
plugin offers. stacklab's L3 plugin offers neutron's four router drivers, none of them the
default, as upstream's L3 plugin registers them when no operator names any. They are
configuration, not rows: listed in memory, as the availability zones are."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call
from stacklab.network.api.base import api, list_response
from stacklab.network.api.resource import own_project

# neutron's L3 driver controller's providers, in the order it adds them.
PROVIDERS = tuple({"service_type": "L3_ROUTER_NAT", "name": name, "default": False}
                  for name in ("dvrha", "dvr", "ha", "single_node"))


@api.route("GET", "/v2.0/service-providers")
async def list_service_providers(call: Call) -> dict[str, Any]:
    # As neutron's list controller: what get_service_provider does not let the caller see
    # is left out, not refused.
    items = [dict(p) for p in PROVIDERS] if call.allows("get_service_provider",
                                                         own_project(call)) else []
    return list_response(call, "service_providers", items, path="service-providers")
