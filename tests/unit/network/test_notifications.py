"""neutron's notifications of the API's writes (its NotifierHook): ``<resource>.<action>``
``.start`` with the request, ``.end`` with the answer (a delete's: the id), from
``network.<host>``, in the request's context; on the broker they are ``port.create.end`` and
the like on the ``neutron`` exchange (docs/bus.md)."""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from stacklab.bus.interface import Notification
from stacklab.cloud import Cloud
from unit.network.neutron_client import Neutron

PUBLISHER = "network.controller1.openstack.local"


def test_writes_send_start_and_end_notifications(cloud: Cloud, client: TestClient,
                                                 admin: Neutron) -> None:
    seen: list[Notification] = []
    cloud.bus.subscribe("network.*", seen.append)
    cloud.bus.subscribe("port.*", seen.append)

    def arrived(count: int) -> list[Notification]:
        deadline = time.monotonic() + 5
        while len(seen) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(seen)

    network = admin.create("networks", "network", name="told")
    port = admin.create("ports", "port", network_id=network["id"], name="p1")
    admin.ok("PUT", f"/v2.0/ports/{port['id']}", {"port": {"name": "p2"}})
    admin.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    events = arrived(8)
    assert [(n.event_type, n.publisher_id, n.priority) for n in events] == [
        (f"{kind}.{action}.{stage}", PUBLISHER, "INFO")
        for kind, action in (("network", "create"), ("port", "create"), ("port", "update"),
                             ("port", "delete"))
        for stage in ("start", "end")]
    by_type = {n.event_type: n for n in events}
    assert by_type["network.create.start"].payload == {"network": {"name": "told"}}
    assert by_type["network.create.end"].payload == {"network": network}
    assert by_type["port.create.end"].payload["port"]["id"] == port["id"]
    assert by_type["port.update.start"].payload == {"port": {"name": "p2"}, "id": port["id"]}
    assert by_type["port.update.end"].payload["port"]["name"] == "p2"
    assert by_type["port.delete.end"].payload == {"port_id": port["id"]}
    context = by_type["port.create.end"].ctxt
    assert context["project_id"] == context["tenant_id"] == network["project_id"]
    assert context["request_id"].startswith("req-")
