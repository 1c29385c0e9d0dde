"""neutron's nova notifier: events about servers' ports, to nova's external events API.

As upstream's notifier, neutron tells nova over HTTP, as the ``neutron``
service user, about a server's ports, with the port's id as the event's tag:
``network-changed`` (a floating IP came or went), ``network-vif-plugged`` when
the port goes ACTIVE (its host's L2 agent wired it), ``network-vif-unplugged``
when it goes from ACTIVE to DOWN, ``network-vif-deleted`` when it is deleted
(``port_events`` decides when). nova's answer never fails neutron's own request:
a server nova does not know, or one on no host, is logged and dropped, as
upstream does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from stacklab.api.client import ServiceCallError, ServiceClient

LOG = logging.getLogger("neutron.notifiers.nova")

# The device_owner prefix of the ports nova made for its servers.
COMPUTE_OWNER = "compute:"


def network_changed(server_uuid: str, port_id: str) -> dict[str, str]:
    return {"name": "network-changed", "server_uuid": server_uuid, "tag": port_id}


def vif_event(name: str, server_uuid: str, port_id: str) -> dict[str, str]:
    """``network-vif-plugged``/``-unplugged`` (a status change nova may wait for) and
    ``network-vif-deleted`` (no status, as upstream sends it)."""
    event = {"name": name, "server_uuid": server_uuid, "tag": port_id}
    if name != "network-vif-deleted":
        event["status"] = "completed"
    return event


class NovaNotifier:
    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *, username: str,
                 password: str, project: str = "service") -> None:
        self._http = ServiceClient(app, base_url, mount="/compute", username=username,
                                   password=password, project=project)

    async def send_events(self, events: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
        """POST the events to nova; returns nova's answer for each (none when refused)."""
        batch = list(events)
        if not batch:
            return []
        try:
            answer = await self._http.json("POST", "/v2.1/os-server-external-events",
                                           json={"events": batch})
        except ServiceCallError as exc:
            if exc.status == 404:
                LOG.debug("Nova returned NotFound for event: %s", batch)
            else:
                LOG.warning("Failed to notify nova on events: %s (%d)", batch, exc.status)
            return []
        results: list[dict[str, Any]] = list((answer or {}).get("events", []))
        for result in results:
            if result.get("code") != 200:
                LOG.warning("Nova event: %s returned with failed status", result)
            else:
                LOG.info("Nova event response: %s", result)
        return results
